//! A wallet's side of ad hoc returns: the plan (`domain::purchase_return`) applied to the
//! wallet (`Wallet::return_purchase`) and kept with the purchase, in one commit. A retry of
//! a return (same purchase, same reference number, same body) gets the first outcome; the
//! same reference number with a different body is refused.

use super::{Life, Reply, WalletEntity, WalletError};
use crate::domain::ids::{OfferId, PurchaseId, ReferenceNumber};
use crate::domain::purchase::PurchaseRecord;
use crate::domain::purchase_return::{self, PurchaseReturn, Returned, ReversalRule};
use crate::domain::wallet::{CommandError, ReturnTotals, TakeBack};
use crate::metrics_names as names;
use crate::storage::WriteSet;
use rust_decimal::Decimal;
use std::sync::Arc;

/// An ad hoc return as the engine hands it to the purchase's wallet.
#[derive(Debug, Clone)]
pub struct NewReturn {
    pub purchase_id: PurchaseId,
    pub reference_number: ReferenceNumber,
    pub date: Option<i64>,
    pub returned: Returned,
    pub body_hash: [u8; 32],
    pub rule: ReversalRule,
}

impl WalletEntity {
    /// Answers the purchase with its returns and the id of this one.
    pub(super) fn return_purchase(
        &mut self,
        life: &mut Life<Self>,
        request: NewReturn,
        reply: Reply<(Arc<PurchaseRecord>, PurchaseId)>,
    ) {
        let record = match self.wallet_purchase(life, request.purchase_id) {
            Ok(record) => record,
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
        };
        let tenant = life.key().0;
        let id = PurchaseId::for_return(&tenant, record.id, &request.reference_number);
        if let Some(done) = record.returns.iter().find(|done| done.id == id) {
            let answer = if done.body_hash == request.body_hash {
                Ok((record.clone(), id))
            } else {
                Err(WalletError::ReferenceConflict)
            };
            life.answer_after_durable(reply, answer);
            return;
        }
        let plan = match purchase_return::plan(&record, &request.returned, request.rule, record.request.currency) {
            Ok(plan) => plan,
            Err(refusal) => {
                let _ = reply.send(Err(WalletError::ReturnRefused(refusal)));
                return;
            }
        };
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let prior = match ReturnTotals::of(record.returns.iter().map(|done| &done.effects)) {
            Ok(prior) => prior,
            Err(fault) => return self.fault(life, reply, &fault),
        };
        let (event, effects) = match self.wallet.return_purchase(
            now,
            record.id,
            &record.effects,
            &prior,
            TakeBack {
                reversals: &plan.reversals,
                spend_back: plan.spend_back,
            },
            self.balance_max,
        ) {
            Ok(done) => done,
            Err(CommandError::Fault(fault)) => return self.fault(life, reply, &fault),
            Err(CommandError::Rejected(rejection)) => {
                return life.commit_then_answer(writes, reply, Err(WalletError::Rejected(rejection)))
            }
        };
        metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "returned").increment(1);
        self.add_events(life, &mut writes, &[event]);
        // What the return took back of each award no longer counts toward the offer's caps,
        // and goes back to its budget.
        let taken: Vec<(OfferId, Decimal)> = record
            .effects
            .awards
            .iter()
            .zip(&plan.reversals)
            .map(|(award, reversed)| (award.offer_id, *reversed))
            .collect();
        self.history.record_return(
            record.award_time(),
            taken.iter().copied(),
            now.saturating_sub(self.history_window_s),
        );
        writes.reward_history(&life.key().0, life.key().1, &self.history);
        let sends = self.refund_budgets(life, &mut writes, id, &record, &taken, now);
        // A spend given back to a lot that has since expired expires again at once.
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let usage = match self.give_back_community(life, &mut writes, &record, effects.given_back(), now) {
            Ok(written) => written,
            Err(error) => {
                life.set_faulted();
                return drop(reply.send(Err(error)));
            }
        };
        let mut returned = (*record).clone();
        returned.returns.push(PurchaseReturn {
            id,
            reference_number: request.reference_number,
            body_hash: request.body_hash,
            date: request.date.map_or(now, |date| date.min(now)),
            posted_on: now,
            amount: plan.amount,
            lines: plan.lines,
            reversed: plan.reversals,
            effects,
        });
        let returned = Arc::new(returned);
        writes.purchase(&returned);
        self.commit_waking(life, writes, sends, reply, (returned.clone(), id));
        self.remember(life, returned);
        self.remember_usage(life, usage);
    }
}
