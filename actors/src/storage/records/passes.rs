//! Pass plans and passes, with the index from a code's SHA-1 to its pass.

use crate::domain::ids::{PassId, PassPlanId};
use crate::domain::pass::{Pass, PassPlan, PassPlanBeforePrinted};
use crate::storage::*;

impl Store {
    pub fn pass_plan(&self, tenant: &Tenant, id: PassPlanId) -> Result<Option<PassPlan>, StoreError> {
        self.get_or_upgrade(&keys::pass_plan(tenant, id), |old: PassPlanBeforePrinted| {
            PassPlan::from(old)
        })
    }

    pub fn pass_plans(&self, tenant: &Tenant) -> Result<Vec<PassPlan>, StoreError> {
        self.scan_or_upgrade(&keys::pass_plans(tenant), |old: PassPlanBeforePrinted| {
            PassPlan::from(old)
        })
    }

    pub fn pass(&self, tenant: &Tenant, id: PassId) -> Result<Option<Pass>, StoreError> {
        self.get(&keys::pass(tenant, id))
    }

    /// The pass whose code has this SHA-1 (lowercase hex).
    pub fn pass_by_code(&self, tenant: &Tenant, code_hash: &str) -> Result<Option<PassId>, StoreError> {
        self.get(&keys::pass_code(tenant, code_hash))
    }
}

impl WriteSet {
    pub fn pass_plan(&mut self, plan: &PassPlan) {
        self.put(keys::pass_plan(&plan.tenant, plan.id), encode(plan));
    }

    pub fn pass(&mut self, pass: &Pass) {
        self.put(keys::pass(&pass.tenant, pass.id), encode(pass));
    }

    pub fn pass_code(&mut self, pass: &Pass) {
        self.put(keys::pass_code(&pass.tenant, &pass.code_hash), encode(&pass.id));
    }
}
