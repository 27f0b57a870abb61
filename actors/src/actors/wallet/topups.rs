//! A wallet's side of payments: the contact's payment methods, and top-ups — recorded
//! pending before any gateway is asked, then settled once: a success credits the wallet in
//! the same commit that marks it, a failure credits nothing, and a second settlement (a
//! retry, the reconciler after a timeout) finds it settled and changes nothing.

use super::{Life, Reply, WalletEntity, WalletError};
use crate::domain::ids::TopUpId;
use crate::domain::payment::{ChargeOutcome, GatewayRecord, PaymentMethods, TopUpRecord, TopUpState};
use crate::domain::wallet::{CommandError, Moves, WalletRejection};
use crate::metrics_names as names;
use crate::storage::WriteSet;
use std::sync::Arc;

/// How the payment methods are changed (in the actor, so two changes never interleave).
pub type PaymentMethodsUpdate = Box<dyn FnOnce(&PaymentMethods) -> Result<PaymentMethods, MethodRefusal> + Send>;

/// Why a change to the payment methods is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MethodRefusal {
    #[error("payment method not found")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    /// The method is the one an auto or termed top-up charges.
    #[error("the payment method is used by the wallet's automatic top-ups; switch those off or move them first")]
    InUse,
}

/// Why a top-up is not begun.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopUpRefusal {
    #[error("the top-up id was already used for a different top-up")]
    Conflict,
    #[error("payment_method: {0}")]
    PaymentMethod(String),
    #[error("{0}")]
    Method(MethodRefusal),
    #[error("payment intent not found")]
    IntentNotFound,
    /// The intent cannot pay this top-up (its state, its amount).
    #[error("{0}")]
    Intent(String),
    #[error("the payment intent has paid another top-up already")]
    IntentUsed,
    #[error("the Idempotency-Key was already used for a different payment intent")]
    IntentConflict,
}

/// A begin command whose id is taken already: a retry of the same request is answered with
/// the record as it stands, another request is a conflict. `Some(reply)`: the id is free.
fn answered_retry<R: GatewayRecord + Send + Sync + 'static>(
    life: &mut Life<WalletEntity>,
    found: Result<Option<Arc<R>>, WalletError>,
    asked: &R,
    reply: Reply<Arc<R>>,
) -> Option<Reply<Arc<R>>> {
    match found {
        Err(error) => drop(reply.send(Err(error))),
        Ok(None) => return Some(reply),
        Ok(Some(existing)) if existing.body_hash() == asked.body_hash() && existing.wallet() == asked.wallet() => {
            life.answer_after_durable(reply, Ok(existing));
        }
        Ok(Some(_)) => drop(reply.send(Err(WalletError::TopUpRefused(TopUpRefusal::Conflict)))),
    }
    None
}

/// A settle command's record: this wallet's and pending, else answered here (not found, or
/// as it stands when settled already).
fn pending_to_settle<R: GatewayRecord + Send + Sync + 'static>(
    life: &mut Life<WalletEntity>,
    found: Result<Option<Arc<R>>, WalletError>,
    reply: Reply<Arc<R>>,
) -> Option<(Arc<R>, Reply<Arc<R>>)> {
    match found {
        Err(error) => drop(reply.send(Err(error))),
        Ok(Some(record)) if record.wallet() == life.key().1 => {
            if *record.state() == TopUpState::Pending {
                return Some((record, reply));
            }
            life.answer_after_durable(reply, Ok(record));
        }
        Ok(_) => drop(reply.send(Err(WalletError::TopUpNotFound))),
    }
    None
}

impl WalletEntity {
    /// The gateway and token of one of the contact's payment methods.
    pub(super) fn gateway_token(
        &self,
        method: crate::domain::ids::PaymentMethodId,
    ) -> Result<(String, String), WalletError> {
        let method = self.payment_methods.get(method).ok_or_else(|| {
            WalletError::TopUpRefused(TopUpRefusal::PaymentMethod(
                "is not one of the contact's payment methods".into(),
            ))
        })?;
        Ok((method.gateway.clone(), method.token.clone()))
    }

    /// Whether a top-up of `amount` now keeps the wallet's limits and its balance bound.
    pub(super) fn top_up_admitted(&self, now: i64, amount: rust_decimal::Decimal) -> Result<(), WalletError> {
        let moves = Moves {
            credit: amount,
            top_up: amount,
            ..Moves::default()
        };
        self.within_limits(now, &moves)?;
        let total = self.wallet.balances().total;
        if total.checked_add(amount).is_none_or(|after| after > self.balance_max) {
            return Err(WalletError::Rejected(WalletRejection::BalanceLimit));
        }
        Ok(())
    }

    pub(super) fn find_top_up(&self, life: &Life<Self>, id: TopUpId) -> Result<Option<Arc<TopUpRecord>>, WalletError> {
        if let Some(record) = self.top_ups.get(&id) {
            return Ok(Some(record.clone()));
        }
        life.store()
            .top_up(&life.key().0, id)
            .map(|found| found.map(Arc::new))
            .map_err(|error| WalletError::Storage(error.to_string()))
    }

    pub(super) fn set_payment_methods(
        &mut self,
        life: &mut Life<Self>,
        update: PaymentMethodsUpdate,
        reply: Reply<PaymentMethods>,
    ) {
        let methods = match update(&self.payment_methods) {
            Ok(methods) => methods,
            Err(refused) => {
                let _ = reply.send(Err(WalletError::TopUpRefused(TopUpRefusal::Method(refused))));
                return;
            }
        };
        if methods == self.payment_methods {
            return life.answer_after_durable(reply, Ok(methods));
        }
        if self
            .top_up_settings
            .methods()
            .any(|method| methods.get(method).is_none())
        {
            let _ = reply.send(Err(WalletError::TopUpRefused(TopUpRefusal::Method(
                MethodRefusal::InUse,
            ))));
            return;
        }
        let mut writes = WriteSet::default();
        writes.payment_methods(&life.key().0, life.key().1, &methods);
        self.payment_methods = methods.clone();
        life.commit_then_reply(writes, reply, methods);
    }

    /// Records a top-up as pending (answered once durable): only then may its gateway be
    /// asked. A retry of the same top-up is answered with it as it stands. Refused, with
    /// nothing recorded, when the payment method is not the contact's, the wallet is
    /// blocked, or the credit would pass a limit or the balance bound.
    pub(super) fn begin_top_up(
        &mut self,
        life: &mut Life<Self>,
        mut record: TopUpRecord,
        reply: Reply<Arc<TopUpRecord>>,
    ) {
        let found = self.find_top_up(life, record.id);
        let Some(reply) = answered_retry(life, found, &record, reply) else {
            return;
        };
        match self.gateway_token(record.payment_method) {
            Ok((gateway, token)) => (record.gateway, record.token) = (gateway, token),
            Err(refused) => return drop(reply.send(Err(refused))),
        }
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        if let Err(refused) = self.top_up_admitted(now, record.amount) {
            return life.commit_then_answer(writes, reply, Err(refused));
        }
        record.state = TopUpState::Pending;
        record.created_on = now;
        writes.top_up(&record);
        let record = Arc::new(record);
        metrics::counter!(names::TOP_UPS_TOTAL, "outcome" => "begun").increment(1);
        life.commit_then_reply(writes, reply, record.clone());
        self.top_ups
            .remember(record.id, record, life.commits_submitted(), life.commits_settled());
    }

    /// Settles a pending top-up with what its gateway said: a success credits the wallet
    /// (past its limits and bound too: the money was taken), a failure credits nothing.
    /// A settled top-up is answered as it is.
    pub(super) fn settle_top_up(
        &mut self,
        life: &mut Life<Self>,
        id: TopUpId,
        outcome: ChargeOutcome,
        reply: Reply<Arc<TopUpRecord>>,
    ) {
        let found = self.find_top_up(life, id);
        let Some((record, reply)) = pending_to_settle(life, found, reply) else {
            return;
        };
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let mut settled = (*record).clone();
        settled.settled_on = Some(now);
        match outcome {
            ChargeOutcome::Succeeded { charge } => {
                let event = match self.wallet.top_up(now, id, record.amount, rust_decimal::Decimal::MAX) {
                    Ok(event) => event,
                    Err(CommandError::Fault(fault)) => return self.fault(life, reply, &fault),
                    Err(CommandError::Rejected(rejection)) => {
                        let fault =
                            crate::domain::wallet::WalletFault(format!("a top-up credit refused: {rejection:?}"));
                        return self.fault(life, reply, &fault);
                    }
                };
                self.add_events(life, &mut writes, &[event]);
                settled.state = TopUpState::Succeeded { charge };
                metrics::counter!(names::TOP_UPS_TOTAL, "outcome" => "credited").increment(1);
            }
            ChargeOutcome::Failed { reason } => {
                settled.state = TopUpState::Failed { reason };
                metrics::counter!(names::TOP_UPS_TOTAL, "outcome" => "failed").increment(1);
            }
        }
        writes.top_up(&settled);
        let settled = Arc::new(settled);
        life.commit_then_reply(writes, reply, settled.clone());
        self.top_ups
            .remember(id, settled, life.commits_submitted(), life.commits_settled());
    }
}

impl WalletEntity {
    pub(super) fn find_payout(
        &self,
        life: &Life<Self>,
        id: crate::domain::ids::PayoutId,
    ) -> Result<Option<Arc<crate::domain::payment::PayoutRecord>>, WalletError> {
        if let Some(record) = self.payouts.get(&id) {
            return Ok(Some(record.clone()));
        }
        life.store()
            .payout(&life.key().0, id)
            .map(|found| found.map(Arc::new))
            .map_err(|error| WalletError::Storage(error.to_string()))
    }

    /// Records a payout and debits it, in one commit, before its gateway is asked. A retry
    /// of the same payout is answered with it as it stands. Refused, changing nothing, when
    /// the method is not the contact's, the wallet is blocked, or the debit is not covered
    /// (lots without spend conditions only) or would pass a limit.
    pub(super) fn begin_payout(
        &mut self,
        life: &mut Life<Self>,
        mut record: crate::domain::payment::PayoutRecord,
        reply: Reply<Arc<crate::domain::payment::PayoutRecord>>,
    ) {
        let found = self.find_payout(life, record.id);
        let Some(reply) = answered_retry(life, found, &record, reply) else {
            return;
        };
        match self.gateway_token(record.payment_method) {
            Ok((gateway, token)) => (record.gateway, record.token) = (gateway, token),
            Err(refused) => return drop(reply.send(Err(refused))),
        }
        if self.spend.blocked {
            let _ = reply.send(Err(WalletError::Rejected(WalletRejection::SpendBlocked)));
            return;
        }
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let moves = Moves {
            debit: record.amount,
            ..Moves::default()
        };
        if let Err(refused) = self.within_limits(now, &moves) {
            return life.commit_then_answer(writes, reply, Err(refused));
        }
        let event = match self.wallet.payout(now, record.id, record.amount) {
            Ok(event) => event,
            Err(CommandError::Fault(fault)) => return self.fault(life, reply, &fault),
            Err(CommandError::Rejected(rejection)) => {
                return life.commit_then_answer(writes, reply, Err(WalletError::Rejected(rejection)));
            }
        };
        self.add_events(life, &mut writes, &[event]);
        record.state = TopUpState::Pending;
        record.created_on = now;
        writes.payout(&record);
        let record = Arc::new(record);
        life.commit_then_reply(writes, reply, record.clone());
        self.payouts
            .remember(record.id, record, life.commits_submitted(), life.commits_settled());
    }

    /// Settles a pending payout: paid keeps the debit; failed gives it back, in the same
    /// commit that marks it. A settled payout is answered as it is.
    pub(super) fn settle_payout(
        &mut self,
        life: &mut Life<Self>,
        id: crate::domain::ids::PayoutId,
        outcome: ChargeOutcome,
        reply: Reply<Arc<crate::domain::payment::PayoutRecord>>,
    ) {
        let found = self.find_payout(life, id);
        let Some((record, reply)) = pending_to_settle(life, found, reply) else {
            return;
        };
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let mut settled = (*record).clone();
        settled.settled_on = Some(now);
        match outcome {
            ChargeOutcome::Succeeded { charge } => {
                settled.state = TopUpState::Succeeded { charge };
                metrics::counter!(names::PAYOUTS_TOTAL, "outcome" => "paid").increment(1);
            }
            ChargeOutcome::Failed { reason } => {
                let event = match self.wallet.payout_return(now, id, record.amount) {
                    Ok(event) => event,
                    Err(CommandError::Fault(fault)) => return self.fault(life, reply, &fault),
                    Err(CommandError::Rejected(rejection)) => {
                        let fault =
                            crate::domain::wallet::WalletFault(format!("a payout given back refused: {rejection:?}"));
                        return self.fault(life, reply, &fault);
                    }
                };
                self.add_events(life, &mut writes, &[event]);
                settled.state = TopUpState::Failed { reason };
                metrics::counter!(names::PAYOUTS_TOTAL, "outcome" => "given_back").increment(1);
            }
        }
        writes.payout(&settled);
        let settled = Arc::new(settled);
        life.commit_then_reply(writes, reply, settled.clone());
        self.payouts
            .remember(id, settled, life.commits_submitted(), life.commits_settled());
    }
}
