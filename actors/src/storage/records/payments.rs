//! Payment methods (one record per wallet) and top-ups, with the index of those not
//! settled yet that the reconciler reads, oldest first; the contact's auto and termed
//! top-ups, with the index of those due that the scheduler reads, soonest first.

use crate::domain::ids::IntentId;
use crate::domain::ids::{PayoutId, TopUpId};
use crate::domain::integration::PaymentIntegrations;
use crate::domain::intent::{IntentRecord, IntentState, OpenIntent};
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

    pub fn intent(&self, tenant: &Tenant, id: IntentId) -> Result<Option<IntentRecord>, StoreError> {
        self.get(&keys::intent(tenant, id))
    }

    /// The wallet and intent a client secret names, if any.
    pub fn intent_by_secret(&self, tenant: &Tenant, secret: &str) -> Result<Option<(WalletId, IntentId)>, StoreError> {
        self.get(&keys::intent_secret(&keys::intent_secret_hash(tenant, secret)))
    }

    /// Up to `limit` intents unsettled or held, oldest first.
    pub fn open_intents(&self, limit: usize) -> Result<Vec<OpenIntent>, StoreError> {
        self.scan(&keys::open_intents(), limit)
    }

    /// The business's payment gateway integrations (none set up: an empty list).
    pub fn payment_integrations(&self, tenant: &Tenant) -> Result<PaymentIntegrations, StoreError> {
        Ok(self.get(&keys::payment_integrations(tenant))?.unwrap_or_default())
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
    pub fn payment_integrations(&mut self, tenant: &Tenant, integrations: &PaymentIntegrations) {
        self.put(keys::payment_integrations(tenant), encode(integrations));
    }

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

    /// An intent as it stands, the index its client secret is found by, and, while it is
    /// unsettled or held, its entry in the reconciler's index.
    pub fn intent(&mut self, record: &IntentRecord) {
        self.put(keys::intent(&record.tenant, record.id), encode(record));
        let secret = keys::intent_secret_hash(&record.tenant, &record.client_secret);
        self.put(keys::intent_secret(&secret), encode(&(record.wallet, record.id)));
        let index = keys::open_intent(record.created_on, &record.tenant, record.id);
        let open = record.unsettled() || (record.state == IntentState::RequiresCapturing && record.used_by.is_none());
        if open {
            let entry = OpenIntent {
                created_on: record.created_on,
                tenant: record.tenant,
                wallet: record.wallet,
                id: record.id,
            };
            self.put(index, encode(&entry));
        } else {
            self.remove(index);
        }
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
