//! A wallet's side of purchases: the offers are evaluated here, in the wallet's actor,
//! because per-contact caps and first-purchase offers read what this wallet earned before
//! (`RewardHistory`), and only its actor changes that. The history is committed with each
//! purchase and cancellation.

use super::{Life, Reply, WalletEntity, WalletError};
use crate::domain::ids::{PurchaseId, Tenant, WalletId};
use crate::domain::offer::{CapPeriod, LineClass, OfferSet, PurchaseFacts, RewardHistory, SaleFacts};
use crate::domain::purchase::{PurchaseRecord, PurchaseRequest, PurchaseState, SaleOrganisation};
use crate::domain::wallet::{AwardGrant, Cause, CommandError, WalletRejection};
use crate::metrics_names as names;
use crate::storage::{Store, StoreError, WriteSet};
use std::sync::Arc;

/// A purchase for the wallet to post: the checked request, where it was made, the till's
/// line classes and the facts about the contact that offers read.
#[derive(Debug, Clone)]
pub struct NewPurchase {
    pub request: PurchaseRequest,
    pub at: SaleOrganisation,
    pub classes: Vec<LineClass>,
    pub facts: SaleFacts,
}

/// The wallet's reward history as committed, or, for a wallet whose purchases were posted
/// before it was kept, rebuilt from its journal and purchases (once: the next purchase
/// commits it).
pub(super) fn load_history(
    store: &Store,
    tenant: &Tenant,
    wallet: WalletId,
    keep_from: i64,
) -> Result<RewardHistory, StoreError> {
    if let Some(history) = store.reward_history(tenant, wallet)? {
        return Ok(history);
    }
    let mut purchases = Vec::new();
    store.visit_wallet_events(tenant, wallet, false, |event| {
        if let Cause::Purchase(id) = event.cause {
            purchases.push(id);
        }
        true
    })?;
    let mut history = RewardHistory::default();
    for id in purchases {
        if let Some(record) = store.purchase(tenant, id)? {
            if record.state == PurchaseState::Posted {
                history.record_purchase(
                    record.award_time(),
                    record
                        .effects
                        .awards
                        .iter()
                        .map(|award| (award.offer_id, award.amount, true)),
                    keep_from,
                );
            }
        }
    }
    Ok(history)
}

impl WalletEntity {
    fn find_purchase(&self, life: &Life<Self>, id: PurchaseId) -> Result<Option<Arc<PurchaseRecord>>, WalletError> {
        if let Some(record) = self.purchases.get(&id) {
            return Ok(Some(record.clone()));
        }
        life.store()
            .purchase(&life.key().0, id)
            .map(|found| found.map(Arc::new))
            .map_err(|error| WalletError::Storage(error.to_string()))
    }

    fn remember(&mut self, life: &Life<Self>, record: Arc<PurchaseRecord>) {
        self.purchases
            .remember(record.id, record, life.commits_submitted(), life.commits_settled());
    }

    /// Posts a purchase: evaluates the offers against it with what this wallet earned
    /// before, then spends and awards in one event, committed with the purchase's record and
    /// the updated history.
    pub(super) fn post_purchase(
        &mut self,
        life: &mut Life<Self>,
        purchase_id: PurchaseId,
        posted: NewPurchase,
        body_hash: [u8; 32],
        offers: &OfferSet,
        reply: Reply<Arc<PurchaseRecord>>,
    ) {
        let NewPurchase {
            request,
            at,
            classes,
            facts,
        } = posted;
        match self.find_purchase(life, purchase_id) {
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
            Ok(Some(existing)) => {
                if existing.body_hash == body_hash {
                    metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "replayed").increment(1);
                    life.answer_after_durable(reply, Ok(existing));
                } else {
                    metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "conflict").increment(1);
                    let _ = reply.send(Err(WalletError::ReferenceConflict));
                }
                return;
            }
            Ok(None) => {}
        }
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        // Offers are evaluated at the purchase date (in its window, checked by the engine),
        // and never later than now: a till whose clock runs ahead cannot reach an offer early.
        let award_time = request.date.map_or(now, |date| date.min(now));
        let evaluated = offers.evaluate(
            &PurchaseFacts {
                currency: request.currency,
                total: request.amounts.total,
                lines: &request.products,
                classes: &classes,
                date: award_time,
                now,
                places: &facts.places,
                tap: facts.tap,
                schemes: &facts.schemes,
                profile: facts.profile.as_ref(),
            },
            &self.history,
        );
        let Some(evaluated) = evaluated else {
            metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "rejected").increment(1);
            return life.commit_then_answer(writes, reply, Err(WalletError::Rejected(WalletRejection::RuleOverflow)));
        };
        let grants: Vec<AwardGrant> = evaluated.iter().map(|award| award.grant).collect();
        match self
            .wallet
            .post_purchase(now, purchase_id, request.spend, &grants, self.balance_max)
        {
            Err(CommandError::Fault(fault)) => self.fault(life, reply, &fault),
            Err(CommandError::Rejected(rejection)) => {
                metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "rejected").increment(1);
                metrics::counter!(names::SPENDS_TOTAL, "outcome" => "refused").increment(1);
                life.commit_then_answer(writes, reply, Err(WalletError::Rejected(rejection)));
            }
            Ok((event, effects)) => {
                let currency = self.wallet.header.currency;
                metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "posted").increment(1);
                if !effects.awards.is_empty() {
                    metrics::counter!(names::AWARDS_TOTAL, "outcome" => "credited")
                        .increment(effects.awards.len() as u64);
                    metrics::counter!(names::AWARDED_MINOR_UNITS_TOTAL, "currency" => currency.static_code())
                        .increment(currency.minor_units_of(effects.awarded()));
                }
                if !effects.spends.is_empty() {
                    metrics::counter!(names::SPENDS_TOTAL, "outcome" => "spent").increment(1);
                    metrics::counter!(names::SPENT_MINOR_UNITS_TOTAL, "currency" => currency.static_code())
                        .increment(currency.minor_units_of(effects.spent()));
                }
                self.history.record_purchase(
                    award_time,
                    effects.awards.iter().map(|award| {
                        let dated = offers.get(award.offer_id).is_some_and(|offer| {
                            offer
                                .terms
                                .caps
                                .per_contact
                                .is_some_and(|cap| cap.period != CapPeriod::Lifetime)
                        });
                        (award.offer_id, award.amount, dated)
                    }),
                    now.saturating_sub(self.history_window_s),
                );
                writes.reward_history(&life.key().0, life.key().1, &self.history);
                let record = Arc::new(PurchaseRecord {
                    id: purchase_id,
                    tenant: life.key().0,
                    date: request.date.unwrap_or(now),
                    request,
                    body_hash,
                    state: PurchaseState::Posted,
                    posted_on: now,
                    cancelled_on: None,
                    effects,
                    balances_after: self.wallet.balances(),
                    organisation: Some(at),
                    classes,
                    explanations: evaluated.into_iter().map(|award| award.explanation).collect(),
                });
                #[cfg(feature = "failpoints")]
                crate::actors::failpoints::hit(crate::actors::failpoints::Failpoint::InWalletPurchase, life.key().1 .0);
                self.add_events(life, &mut writes, &[event]);
                writes.purchase(&record);
                life.commit_then_reply(writes, reply, record.clone());
                self.remember(life, record);
            }
        }
    }

    pub(super) fn cancel_purchase(
        &mut self,
        life: &mut Life<Self>,
        purchase_id: PurchaseId,
        reply: Reply<Arc<PurchaseRecord>>,
    ) {
        let record = match self.find_purchase(life, purchase_id) {
            Ok(Some(record)) if record.request.wallet_id == life.key().1 => record,
            Ok(_) => {
                let _ = reply.send(Err(WalletError::PurchaseNotFound));
                return;
            }
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
        };
        if record.state == PurchaseState::Cancelled {
            life.answer_after_durable(reply, Ok(record));
            return;
        }
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let event = match self
            .wallet
            .cancel_purchase(now, purchase_id, &record.effects, self.balance_max)
        {
            Ok(event) => event,
            Err(CommandError::Fault(fault)) => return self.fault(life, reply, &fault),
            Err(CommandError::Rejected(rejection)) => {
                return life.commit_then_answer(writes, reply, Err(WalletError::Rejected(rejection)))
            }
        };
        metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "cancelled").increment(1);
        if !record.effects.awards.is_empty() {
            metrics::counter!(names::AWARDS_TOTAL, "outcome" => "reversed")
                .increment(record.effects.awards.len() as u64);
        }
        if !record.effects.spends.is_empty() {
            metrics::counter!(names::SPENDS_TOTAL, "outcome" => "restored").increment(1);
        }
        self.add_events(life, &mut writes, &[event]);
        self.history.record_cancellation(
            record.award_time(),
            record.effects.awards.iter().map(|award| (award.offer_id, award.amount)),
            now.saturating_sub(self.history_window_s),
        );
        writes.reward_history(&life.key().0, life.key().1, &self.history);
        // A spend given back to a lot that has since expired expires again at once.
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let mut cancelled = (*record).clone();
        cancelled.state = PurchaseState::Cancelled;
        cancelled.cancelled_on = Some(now);
        let cancelled = Arc::new(cancelled);
        writes.purchase(&cancelled);
        life.commit_then_reply(writes, reply, cancelled.clone());
        self.remember(life, cancelled);
    }
}
