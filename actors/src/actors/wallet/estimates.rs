//! A wallet's side of purchase estimates: the preview (the offers evaluated against what
//! this wallet earned, the spend it could cover), the hold of that spend, the contact's
//! approval or rejection, and, in the estimate's purchase, the capture of the hold. Every
//! change to an estimate is this actor's, so a purchase, an approval, a rejection and the
//! hold's expiry never cross.

use super::{Life, Reply, WalletEntity, WalletError};
use crate::domain::estimate::{EstimateRecord, EstimateRefusal, EstimateState};
use crate::domain::ids::{ContactId, EstimateId};
use crate::domain::offer::OfferSet;
use crate::domain::wallet::{AwardRoute, CommandError, SpendScope, WalletRejection};
use crate::storage::WriteSet;
use rust_decimal::Decimal;
use std::sync::Arc;

/// An estimate for the wallet to work out: the record (what was asked, where, by whom)
/// with its preview still empty, and the facts offers read.
#[derive(Debug, Clone)]
pub struct NewEstimate {
    pub record: EstimateRecord,
    pub purchase: super::NewPurchase,
    /// The spend covers at most what the purchase leaves after its instant discounts.
    pub net_of_discounts: bool,
}

impl WalletEntity {
    /// An estimate of this wallet's, as last committed by this actor or stored.
    pub(super) fn find_estimate(
        &self,
        life: &Life<Self>,
        id: EstimateId,
    ) -> Result<Option<Arc<EstimateRecord>>, WalletError> {
        if let Some(record) = self.estimates.get(&id) {
            return Ok(Some(record.clone()));
        }
        life.store()
            .estimate(&life.key().0, id)
            .map(|found| found.filter(|record| record.wallet_id == life.key().1).map(Arc::new))
            .map_err(|error| WalletError::Storage(error.to_string()))
    }

    pub(super) fn remember_estimate(&mut self, life: &Life<Self>, record: Arc<EstimateRecord>) {
        self.estimates
            .remember(record.id, record, life.commits_submitted(), life.commits_settled());
    }

    pub(super) fn estimate(
        &mut self,
        life: &mut Life<Self>,
        new: NewEstimate,
        hold: bool,
        offers: &OfferSet,
        reply: Reply<Arc<EstimateRecord>>,
    ) {
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let NewEstimate {
            mut record,
            purchase,
            net_of_discounts,
        } = new;
        if record.request.spend.is_some() && self.spend.blocked {
            let refused = Err(WalletError::Rejected(WalletRejection::SpendBlocked));
            return life.commit_then_answer(writes, reply, refused);
        }
        if record.request.spend.is_none() && self.spend.auto_spend && !self.spend.blocked {
            record.request.spend = self.auto_spend(now, record.request.amounts.total);
        }
        let Some(mut evaluated) = offers.evaluate(&purchase.facts(now), &self.history) else {
            return life.commit_then_answer(writes, reply, Err(WalletError::Rejected(WalletRejection::RuleOverflow)));
        };
        // Budgeted awards as far as their budgets had left when the engine read them (an
        // estimate reserves nothing: its purchase does).
        super::purchases::trim_to_budgets(&mut evaluated, &purchase.grants, now);
        record.explanations = evaluated.into_iter().map(|award| award.explanation).collect();
        if net_of_discounts {
            let instant = record
                .explanations
                .iter()
                .filter(|award| offers.route(award.offer_id) == AwardRoute::Instant)
                .try_fold(Decimal::ZERO, |sum, award| sum.checked_add(award.amount));
            let left = instant.and_then(|instant| record.request.amounts.total.checked_sub(instant));
            if let (Some(left), Some(spend)) = (left, record.request.spend.as_mut()) {
                spend.amount = spend.amount.min(left.max(Decimal::ZERO));
            }
            if record.request.spend.is_some_and(|spend| spend.amount.is_zero()) {
                record.request.spend = None;
            }
        }
        // What the spend could take of the lots this sale meets.
        let sale = purchase.sale();
        if let Some(spend) = record.request.spend {
            let covered = self.wallet.spendable_within(now, spend.amount, SpendScope::Sale(sale));
            if spend.restrict_fully_covered && covered < spend.amount {
                let refused = Err(WalletError::Rejected(WalletRejection::InsufficientFunds));
                return life.commit_then_answer(writes, reply, refused);
            }
            record.spend = covered;
        }
        record.held = hold && record.spend > Decimal::ZERO;
        if record.held {
            let moves = crate::domain::wallet::Moves {
                debit: record.spend,
                ..Default::default()
            };
            if let Err(refused) = self.within_limits(now, &moves) {
                return life.commit_then_answer(writes, reply, Err(refused));
            }
            match self
                .wallet
                .place_hold(now, record.id, record.spend, record.expires_at, sale)
            {
                Ok(event) => self.add_events(life, &mut writes, &[event]),
                Err(CommandError::Fault(fault)) => return self.fault(life, reply, &fault),
                Err(CommandError::Rejected(rejection)) => {
                    return life.commit_then_answer(writes, reply, Err(WalletError::Rejected(rejection)))
                }
            }
        }
        let record = Arc::new(record);
        writes.estimate(&record);
        life.commit_then_reply(writes, reply, record.clone());
        self.remember_estimate(life, record);
    }

    /// The contact approves or rejects its estimate; a rejection gives the hold back.
    pub(super) fn decide_estimate(
        &mut self,
        life: &mut Life<Self>,
        id: EstimateId,
        contact: ContactId,
        approve: bool,
        reply: Reply<Arc<EstimateRecord>>,
    ) {
        let record = match self.find_estimate(life, id) {
            Ok(Some(record)) if record.contact_id == contact => record,
            Ok(_) => {
                let _ = reply.send(Err(WalletError::EstimateNotFound));
                return;
            }
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
        };
        let now = self.clock.now_s();
        let wanted = if approve {
            EstimateState::Approved
        } else {
            EstimateState::Rejected
        };
        if record.state == wanted {
            return life.answer_after_durable(reply, Ok(record));
        }
        let state = match record.decide(approve, now) {
            Ok(state) => state,
            Err(refusal) => {
                let _ = reply.send(Err(WalletError::EstimateRefused(refusal)));
                return;
            }
        };
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        if !approve {
            match self.wallet.release_hold(now, id) {
                Ok(Some(event)) => self.add_events(life, &mut writes, &[event]),
                Ok(None) => {}
                Err(fault) => return self.fault(life, reply, &fault),
            }
            // What the hold gave back to a lot past its expiry expires now.
            if let Err(fault) = self.sweep(life, now, &mut writes) {
                return self.fault(life, reply, &fault);
            }
        }
        let mut decided = (*record).clone();
        decided.state = state;
        let decided = Arc::new(decided);
        writes.estimate(&decided);
        life.commit_then_reply(writes, reply, decided.clone());
        self.remember_estimate(life, decided);
    }
}

/// The refusal a purchase from an estimate gets.
pub(super) fn refused(refusal: EstimateRefusal) -> WalletError {
    WalletError::EstimateRefused(refusal)
}
