//! Payment methods (one record per wallet) and top-ups, with the index of those not
//! settled yet that the reconciler reads, oldest first; the contact's auto and termed
//! top-ups, with the index of those due that the scheduler reads, soonest first.

use crate::domain::ids::{PayoutId, TopUpId};
use crate::domain::payment::{PaymentMethods, PayoutRecord, PendingPayout, PendingTopUp, TopUpRecord, TopUpState};
use crate::domain::topup_schedule::{ScheduledTopUp, TopUpSettings};
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

    /// The contact's auto and termed top-ups on the wallet (none kept: none asked for).
    pub fn top_up_settings(&self, tenant: &Tenant, wallet: WalletId) -> Result<TopUpSettings, StoreError> {
        Ok(self.get(&keys::top_up_settings(tenant, wallet))?.unwrap_or_default())
    }

    /// Up to `limit` scheduled top-ups due at `now` (at or before it), soonest first.
    pub fn scheduled_top_ups_due(&self, now: i64, limit: usize) -> Result<Vec<ScheduledTopUp>, StoreError> {
        let due: Vec<ScheduledTopUp> = self.scan(&keys::scheduled_top_ups(), limit)?;
        Ok(due.into_iter().take_while(|entry| entry.due <= now).collect())
    }
}

impl WriteSet {
    /// The wallet's top-up settings, and the scheduler's index in step with them: the
    /// entries `before` called for go, the ones `after` calls for are put.
    pub fn top_up_settings(
        &mut self,
        tenant: &Tenant,
        wallet: WalletId,
        before: &TopUpSettings,
        after: &TopUpSettings,
    ) {
        let kept = after.entries(*tenant, wallet);
        for entry in before.entries(*tenant, wallet) {
            if !kept.contains(&entry) {
                self.remove(keys::scheduled_top_up(&entry));
            }
        }
        for entry in &kept {
            self.put(keys::scheduled_top_up(entry), encode(entry));
        }
        self.put(keys::top_up_settings(tenant, wallet), encode(after));
    }

    /// Clears a scheduler entry its wallet's settings no longer call for.
    pub fn scheduled_top_up_gone(&mut self, entry: &ScheduledTopUp) {
        self.remove(keys::scheduled_top_up(entry));
    }

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
