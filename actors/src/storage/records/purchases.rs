//! Purchases, and the outcomes of `Idempotency-Key` commands.

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

    pub fn idempotency(&self, tenant: &Tenant, key_hash: &[u8; 32]) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get(&keys::idempotency(tenant, key_hash))
    }
}

impl WriteSet {
    pub fn purchase(&mut self, purchase: &PurchaseRecord) {
        self.put(keys::purchase(&purchase.tenant, purchase.id), encode(purchase));
    }

    pub fn idempotency(&mut self, tenant: &Tenant, key_hash: &[u8; 32], record: &IdempotencyRecord) {
        self.put(keys::idempotency(tenant, key_hash), encode(record));
    }
}
