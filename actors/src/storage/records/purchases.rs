//! Purchases, and the outcomes of `Idempotency-Key` commands.

use crate::domain::estimate::EstimateRecord;
use crate::domain::ids::EstimateId;
use crate::domain::reclaim::UnclaimedPurchase;
use crate::storage::*;

/// The stored outcome of an `Idempotency-Key` command: the body it came with and the
/// resource it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub body_hash: [u8; 32],
    pub resource_id: uuid::Uuid,
}

impl Store {
    pub fn purchase(&self, tenant: &Tenant, id: PurchaseId) -> Result<Option<PurchaseRecord>, StoreError> {
        self.get_decoded(&keys::purchase(tenant, id), decode_purchase)
    }

    /// Every purchase of every tenant, in key order (the log's latest version of each).
    pub fn visit_purchases(&self, mut visit: impl FnMut(PurchaseRecord)) -> Result<(), StoreError> {
        let prefix = [keys::PURCHASE];
        let logged = self.inner.overlay.prefix(&prefix);
        for item in merged(self.inner.tables.prefix(&prefix, false)?, logged, false) {
            let item = item?;
            visit(decode_purchase(item.newest()).map_err(corrupt(keys::PURCHASE))?);
        }
        Ok(())
    }

    pub fn unclaimed(&self, tenant: &Tenant, id: PurchaseId) -> Result<Option<UnclaimedPurchase>, StoreError> {
        self.get(&keys::unclaimed(tenant, id))
    }

    pub fn estimate(&self, tenant: &Tenant, id: EstimateId) -> Result<Option<EstimateRecord>, StoreError> {
        self.get(&keys::estimate(tenant, id))
    }

    pub fn idempotency(&self, tenant: &Tenant, key_hash: &[u8; 32]) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get(&keys::idempotency(tenant, key_hash))
    }
}

impl WriteSet {
    pub fn unclaimed(&mut self, purchase: &UnclaimedPurchase) {
        self.put(keys::unclaimed(&purchase.tenant, purchase.id), encode(purchase));
    }

    pub fn estimate(&mut self, estimate: &EstimateRecord) {
        self.put(keys::estimate(&estimate.tenant, estimate.id), encode(estimate));
    }

    pub fn purchase(&mut self, purchase: &PurchaseRecord) {
        self.put(keys::purchase(&purchase.tenant, purchase.id), encode(purchase));
    }

    pub fn idempotency(&mut self, tenant: &Tenant, key_hash: &[u8; 32], record: &IdempotencyRecord) {
        self.put(keys::idempotency(tenant, key_hash), encode(record));
    }
}
