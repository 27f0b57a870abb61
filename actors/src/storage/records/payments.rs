//! Payment methods (one record per wallet) and top-ups, with the index of those not
//! settled yet that the reconciler reads, oldest first.

use crate::domain::ids::{PayoutId, TopUpId};
use crate::domain::payment::{PaymentMethods, PayoutRecord, PendingPayout, PendingTopUp, TopUpRecord, TopUpState};
use crate::storage::*;

impl Store {
    /// The contact's payment methods, as its wallet's actor last committed them.
    pub fn payment_methods(&self, tenant: &Tenant, wallet: WalletId) -> Result<PaymentMethods, StoreError> {
        Ok(self.get(&keys::payment_methods(tenant, wallet))?.unwrap_or_default())
    }

    pub fn top_up(&self, tenant: &Tenant, id: TopUpId) -> Result<Option<TopUpRecord>, StoreError> {
        self.get(&keys::top_up(tenant, id))
    }

    pub fn payout(&self, tenant: &Tenant, id: PayoutId) -> Result<Option<PayoutRecord>, StoreError> {
        self.get(&keys::payout(tenant, id))
    }

    /// Up to `limit` payouts not settled yet, oldest first.
    pub fn pending_payouts(&self, limit: usize) -> Result<Vec<PendingPayout>, StoreError> {
        self.scan(&keys::pending_payouts(), limit)
    }

    /// Up to `limit` top-ups not settled yet, oldest first.
    pub fn pending_top_ups(&self, limit: usize) -> Result<Vec<PendingTopUp>, StoreError> {
        self.scan(&keys::pending_top_ups(), limit)
    }
}

impl WriteSet {
    pub fn payment_methods(&mut self, tenant: &Tenant, wallet: WalletId, methods: &PaymentMethods) {
        self.put(keys::payment_methods(tenant, wallet), encode(methods));
    }

    /// A top-up as it stands; a pending one is in the reconciler's index, a settled one not.
    pub fn top_up(&mut self, record: &TopUpRecord) {
        self.put(keys::top_up(&record.tenant, record.id), encode(record));
        let entry = PendingTopUp {
            created_on: record.created_on,
            tenant: record.tenant,
            wallet: record.wallet,
            id: record.id,
        };
        let index = keys::pending_top_up(record.created_on, &record.tenant, record.id);
        self.pending_index(index, &entry, &record.state);
    }

    /// `entry` in a reconciler's index while `state` is pending; out of it once settled.
    fn pending_index<T: Serialize>(&mut self, key: Vec<u8>, entry: &T, state: &TopUpState) {
        if *state == TopUpState::Pending {
            self.put(key, encode(entry));
        } else {
            self.remove(key);
        }
    }

    /// A payout as it stands; a pending one is in the reconciler's index, a settled one not.
    pub fn payout(&mut self, record: &PayoutRecord) {
        self.put(keys::payout(&record.tenant, record.id), encode(record));
        let entry = PendingPayout {
            created_on: record.created_on,
            tenant: record.tenant,
            wallet: record.wallet,
            id: record.id,
        };
        let index = keys::pending_payout(record.created_on, &record.tenant, record.id);
        self.pending_index(index, &entry, &record.state);
    }
}
