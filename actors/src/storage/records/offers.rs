//! Reward offers, per tenant.

use crate::storage::*;

impl Store {
    pub fn offer(&self, tenant: &Tenant, id: OfferId) -> Result<Option<RewardOffer>, StoreError> {
        self.get_or_upgrade(&keys::offer(tenant, id), |old: LegacyRewardOffer| {
            RewardOffer::from(old)
        })
    }

    pub fn offers(&self, tenant: &Tenant) -> Result<Vec<RewardOffer>, StoreError> {
        let prefix = keys::offers(tenant);
        self.scan_or_upgrade(&prefix, |old: LegacyRewardOffer| RewardOffer::from(old))
    }
}

impl WriteSet {
    pub fn offer(&mut self, tenant: &Tenant, offer: &RewardOffer) {
        self.put(keys::offer(tenant, offer.id), encode(offer));
    }
}
