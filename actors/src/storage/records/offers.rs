//! Reward offers, per tenant.

use crate::storage::*;

impl Store {
    pub fn offer(&self, tenant: &Tenant, id: OfferId) -> Result<Option<RewardOffer>, StoreError> {
        self.get(&keys::offer(tenant, id))
    }

    pub fn offers(&self, tenant: &Tenant) -> Result<Vec<RewardOffer>, StoreError> {
        let prefix = keys::offers(tenant);
        self.scan(&prefix, usize::MAX)
    }
}

impl WriteSet {
    pub fn offer(&mut self, tenant: &Tenant, offer: &RewardOffer) {
        self.put(keys::offer(tenant, offer.id), encode(offer));
    }
}
