//! Pass plans and passes, with the index from a code's SHA-1 to its pass.

use crate::domain::ids::{OfferId, PassId, PassPlanId};
use crate::domain::pass::{Pass, PassPlan, PassPlanBeforePrinted, PromotionTerms, PromotionUses};
use crate::storage::*;

impl Store {
    /// What a PROMOTION plan's passes unlock.
    pub fn promotion_terms(&self, tenant: &Tenant, plan: PassPlanId) -> Result<Option<PromotionTerms>, StoreError> {
        self.get(&keys::promotion_terms(tenant, plan))
    }

    /// The offers the business's promotion plans lock behind their passes.
    pub fn promotion_offers(&self, tenant: &Tenant) -> Result<Vec<OfferId>, StoreError> {
        let terms: Vec<PromotionTerms> = self.scan(&keys::promotion_terms_of(tenant), usize::MAX)?;
        Ok(terms.into_iter().map(|terms| terms.offer).collect())
    }

    /// The purchases a promotion pass unlocked its offer for.
    pub fn promotion_uses(&self, tenant: &Tenant, pass: PassId) -> Result<PromotionUses, StoreError> {
        Ok(self.get(&keys::promotion_uses(tenant, pass))?.unwrap_or_default())
    }

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
    pub fn promotion_terms(&mut self, tenant: &Tenant, plan: PassPlanId, terms: &PromotionTerms) {
        self.put(keys::promotion_terms(tenant, plan), encode(terms));
    }

    pub fn promotion_uses(&mut self, tenant: &Tenant, pass: PassId, uses: &PromotionUses) {
        self.put(keys::promotion_uses(tenant, pass), encode(uses));
    }

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
