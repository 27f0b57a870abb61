//! Reward offers, per tenant.

use crate::domain::commerce_pool::CommercePool;
use crate::domain::ids::{CommercePoolId, MessageId};
use crate::storage::*;

impl Store {
    pub fn offer(&self, tenant: &Tenant, id: OfferId) -> Result<Option<RewardOffer>, StoreError> {
        self.get_decoded(&keys::offer(tenant, id), decode_offer)
    }

    pub fn offers(&self, tenant: &Tenant) -> Result<Vec<RewardOffer>, StoreError> {
        let prefix = keys::offers(tenant);
        self.scan_decoded(&prefix, decode_offer)
    }
}

impl Store {
    pub fn commerce_pool(&self, tenant: &Tenant, id: CommercePoolId) -> Result<Option<CommercePool>, StoreError> {
        self.get(&keys::commerce_pool(tenant, id))
    }

    pub fn commerce_pools(&self, tenant: &Tenant) -> Result<Vec<CommercePool>, StoreError> {
        self.scan(&keys::commerce_pools(tenant), usize::MAX)
    }
}

impl Store {
    /// What an offer's budget used and holds (nothing, for a budget never touched).
    pub fn budget(&self, tenant: &Tenant, offer: OfferId) -> Result<BudgetState, StoreError> {
        Ok(self.get(&keys::budget(tenant, offer))?.unwrap_or_default())
    }

    pub fn budget_message_applied(
        &self,
        tenant: &Tenant,
        offer: OfferId,
        message: MessageId,
    ) -> Result<bool, StoreError> {
        Ok(self.get::<()>(&keys::budget_inbox(tenant, offer, message))?.is_some())
    }
}

impl WriteSet {
    pub fn commerce_pool(&mut self, pool: &CommercePool) {
        self.put(keys::commerce_pool(&pool.tenant, pool.id), encode(pool));
    }

    pub fn budget(&mut self, tenant: &Tenant, offer: OfferId, state: &BudgetState) {
        self.put(keys::budget(tenant, offer), encode(state));
    }

    pub fn budget_message_applied(&mut self, tenant: &Tenant, offer: OfferId, message: MessageId) {
        self.put(keys::budget_inbox(tenant, offer, message), encode(&()));
    }

    pub fn offer(&mut self, tenant: &Tenant, offer: &RewardOffer) {
        self.put(keys::offer(tenant, offer.id), encode(offer));
    }
}
