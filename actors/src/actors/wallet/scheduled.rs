//! A wallet's auto and termed top-ups (`domain::topup_schedule`): the settings the contact
//! opts in to, the scheduler entry a debit to the threshold arms, and the begin the
//! scheduler asks for — the top-up recorded pending and the settings moved on in one
//! commit, so an entry begins one top-up at most however the engine stops. The scheduler
//! then charges it like any top-up; one left pending is the reconciler's.

use super::{Life, Reply, WalletEntity, WalletError};
use crate::domain::ids::TopUpId;
use crate::domain::money::Currency;
use crate::domain::payment::{PaymentMethods, TopUpRecord, TopUpState};
use crate::domain::topup_schedule::{AutoTopUp, Frequency, ScheduledKind, TermedTopUp, TopUpSettings};
use crate::metrics_names as names;
use crate::storage::WriteSet;
use std::sync::Arc;

/// What the settings are shown with: the currency, and the methods they name.
#[derive(Debug, Clone)]
pub struct ScheduleView {
    pub currency: Currency,
    pub settings: TopUpSettings,
    pub methods: PaymentMethods,
}

pub enum ScheduleCommand {
    /// The top-up settings as they stand.
    Settings { reply: Reply<ScheduleView> },
    /// Changes the settings: `Some(value)` replaces a setting (`Some(None)` switches it
    /// off), `None` keeps it. Each payment method named must be the contact's.
    Set {
        auto: Option<Option<AutoTopUp>>,
        termed: Option<Option<TermedTopUp>>,
        reply: Reply<ScheduleView>,
    },
    /// Begins the top-up the scheduler's entry (`kind`, `due`) calls for; answers it, or
    /// `None` when the entry was stale or a wallet limit refused the top-up (the settings
    /// move on either way).
    Begin {
        kind: ScheduledKind,
        due: i64,
        reply: Reply<Option<Arc<TopUpRecord>>>,
    },
}

impl ScheduleCommand {
    pub(super) fn refuse(self) {
        match self {
            ScheduleCommand::Settings { reply } | ScheduleCommand::Set { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
            ScheduleCommand::Begin { reply, .. } => {
                let _ = reply.send(Err(WalletError::Retry));
            }
        }
    }
}

impl WalletEntity {
    pub(super) fn schedule(&mut self, life: &mut Life<Self>, command: ScheduleCommand) {
        match command {
            ScheduleCommand::Settings { reply } => {
                let view = self.schedule_view();
                life.answer_after_durable(reply, Ok(view));
            }
            ScheduleCommand::Set { auto, termed, reply } => self.set_top_up_settings(life, auto, termed, reply),
            ScheduleCommand::Begin { kind, due, reply } => self.begin_scheduled(life, kind, due, reply),
        }
    }

    fn schedule_view(&self) -> ScheduleView {
        ScheduleView {
            currency: self.wallet.header.currency,
            settings: self.top_up_settings.clone(),
            methods: self.payment_methods.clone(),
        }
    }

    fn set_top_up_settings(
        &mut self,
        life: &mut Life<Self>,
        auto: Option<Option<AutoTopUp>>,
        termed: Option<Option<TermedTopUp>>,
        reply: Reply<ScheduleView>,
    ) {
        let mut after = self.top_up_settings.clone();
        if let Some(auto) = auto {
            after.auto = auto.map(|mut auto| {
                // Opting in below the threshold tops up now.
                let total = self.wallet.balances().total;
                auto.due = (total <= auto.threshold).then(|| self.clock.now_s());
                auto.last = self.top_up_settings.auto.as_ref().and_then(|before| before.last);
                auto
            });
        }
        if let Some(termed) = termed {
            after.termed = termed;
        }
        if after.methods().any(|method| self.payment_methods.get(method).is_none()) {
            let refused = super::TopUpRefusal::PaymentMethod("is not one of the contact's payment methods".into());
            let _ = reply.send(Err(WalletError::TopUpRefused(refused)));
            return;
        }
        if after == self.top_up_settings {
            let view = self.schedule_view();
            return life.answer_after_durable(reply, Ok(view));
        }
        let mut writes = WriteSet::default();
        let key = *life.key();
        writes.top_up_settings(&key.0, key.1, &self.top_up_settings, &after);
        self.top_up_settings = after;
        let view = self.schedule_view();
        life.commit_then_reply(writes, reply, view);
    }

    /// Arms the auto top-up when the events just added took the balance down to its
    /// threshold or below (called by `add_events`, in the same commit as they are): not
    /// while one is armed or its last top-up is still pending.
    pub(super) fn arm_auto_top_up(&mut self, life: &Life<Self>, writes: &mut WriteSet) {
        let total = self.wallet.balances().total;
        let before = std::mem::replace(&mut self.last_total, total);
        let Some(auto) = &self.top_up_settings.auto else {
            return;
        };
        if auto.due.is_some() || total > auto.threshold || total >= before {
            return;
        }
        if let Some(last) = auto.last {
            match self.find_top_up(life, last) {
                Ok(Some(record)) if record.state == TopUpState::Pending => return,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(wallet = %life.key().1, %error, "auto top-up not armed: its last top-up could not be read");
                    return;
                }
            }
        }
        let mut after = self.top_up_settings.clone();
        if let Some(auto) = after.auto.as_mut() {
            auto.due = Some(self.clock.now_s());
        }
        let key = *life.key();
        writes.top_up_settings(&key.0, key.1, &self.top_up_settings, &after);
        self.top_up_settings = after;
    }

    fn begin_scheduled(
        &mut self,
        life: &mut Life<Self>,
        kind: ScheduledKind,
        due: i64,
        reply: Reply<Option<Arc<TopUpRecord>>>,
    ) {
        let key = *life.key();
        let mut writes = WriteSet::default();
        if !self.top_up_settings.is_due(kind, due) {
            // An entry its settings no longer call for: cleared, so it is not read again.
            writes.scheduled_top_up_gone(&crate::domain::topup_schedule::ScheduledTopUp {
                due,
                tenant: key.0,
                wallet: key.1,
                kind,
            });
            return life.commit_then_reply(writes, reply, None);
        }
        let now = self.clock.now_s();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let mut after = self.top_up_settings.clone();
        let (amount, method) = match kind {
            ScheduledKind::Auto => {
                let Some(auto) = after.auto.as_mut() else {
                    return life.commit_then_reply(writes, reply, None);
                };
                auto.due = None;
                (auto.amount, auto.payment_method)
            }
            ScheduledKind::Termed => {
                let Some(termed) = after.termed.as_mut() else {
                    return life.commit_then_reply(writes, reply, None);
                };
                let (amount, method) = (termed.amount, termed.payment_method);
                // The next occurrence after now: occurrences missed while down are made
                // up by this one top-up, not one each.
                match Frequency::parse(&termed.frequency, now).map(|frequency| frequency.next_after(now.max(due))) {
                    Ok(Some(next)) => termed.next_due = next,
                    _ => after.termed = None,
                }
                (amount, method)
            }
        };
        let begun = self.scheduled_record(life, now, kind, amount, method);
        if let Some(record) = &begun {
            if kind == ScheduledKind::Auto {
                if let Some(auto) = after.auto.as_mut() {
                    auto.last = Some(record.id);
                }
            }
            writes.top_up(record);
        }
        writes.top_up_settings(&key.0, key.1, &self.top_up_settings, &after);
        self.top_up_settings = after;
        let begun = begun.map(Arc::new);
        life.commit_then_reply(writes, reply, begun.clone());
        if let Some(record) = begun {
            self.top_ups
                .remember(record.id, record, life.commits_submitted(), life.commits_settled());
        }
    }

    /// The pending record of a scheduled top-up, or `None` when the wallet may not take it
    /// now (a limit, the balance bound, a payment method gone): that occurrence is skipped.
    fn scheduled_record(
        &self,
        life: &Life<Self>,
        now: i64,
        kind: ScheduledKind,
        amount: rust_decimal::Decimal,
        method: crate::domain::ids::PaymentMethodId,
    ) -> Option<TopUpRecord> {
        let skipped = |why: String| {
            tracing::warn!(wallet = %life.key().1, kind = kind.note(), %why, "scheduled top-up skipped");
            metrics::counter!(names::TOP_UPS_TOTAL, "outcome" => "skipped").increment(1);
        };
        let (gateway, token) = match self.gateway_token(method) {
            Ok(found) => found,
            Err(error) => {
                skipped(error.to_string());
                return None;
            }
        };
        if let Err(refused) = self.top_up_admitted(now, amount) {
            skipped(refused.to_string());
            return None;
        }
        metrics::counter!(names::TOP_UPS_TOTAL, "outcome" => "begun").increment(1);
        Some(TopUpRecord {
            id: TopUpId::random(),
            tenant: life.key().0,
            wallet: life.key().1,
            contact: self.wallet.header.contact_id,
            amount,
            currency: self.wallet.header.currency,
            payment_method: method,
            gateway,
            token,
            code: crate::engine::secrets::wallet_code().as_str().to_string(),
            notes: Some(kind.note().to_string()),
            state: TopUpState::Pending,
            created_on: now,
            settled_on: None,
            body_hash: [0; 32],
        })
    }
}
