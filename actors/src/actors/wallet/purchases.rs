//! A wallet's side of purchases: the offers are evaluated here, in the wallet's actor,
//! because per-contact caps and first-purchase offers read what this wallet earned before
//! (`RewardHistory`), and only its actor changes that. The history is committed with each
//! purchase and cancellation.

use super::{Life, Reply, WalletEntity, WalletError};
use crate::domain::budget::{Hold, GRANT_USABLE_S};
use crate::domain::contact_token::ContactTokenRecord;
use crate::domain::ids::{OfferId, PurchaseId, Tenant, WalletId};
use crate::domain::offer::{CapPeriod, EvaluatedAward, LineClass, OfferSet, PurchaseFacts, RewardHistory, SaleFacts};
use crate::domain::purchase::{PurchaseRecord, PurchaseRequest, PurchaseState, SaleOrganisation};
use crate::domain::transfer::{ActorMessage, MessageBody, Recipient};
use crate::domain::wallet::{AwardGrant, AwardRoute, CommandError, Posting, ReturnTotals, SaleScope, WalletRejection};
use crate::metrics_names as names;
use crate::storage::{Store, StoreError, WriteSet};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

/// A purchase for the wallet to post: the checked request, where it was made, the till's
/// line classes and the facts about the contact that offers read.
#[derive(Debug, Clone)]
pub struct NewPurchase {
    pub request: PurchaseRequest,
    pub at: SaleOrganisation,
    pub classes: Vec<LineClass>,
    pub facts: SaleFacts,
    /// What each budgeted offer's budget holds for this purchase.
    pub grants: Vec<(OfferId, Hold)>,
    /// The contact token that named the contact: used by this purchase, in its commit.
    pub token: Option<ContactTokenRecord>,
    /// The estimate it comes from: used by this purchase, its hold captured, in its commit.
    pub estimate: Option<crate::domain::ids::EstimateId>,
    /// The gift pass that pays it.
    pub pass: Option<crate::domain::purchase::PassLink>,
    /// A community member spending this (the owner's) wallet: the spend is trimmed to what
    /// the member may spend, and the member's usage written with the purchase.
    pub community: Option<crate::domain::community::CommunityCharge>,
    /// Whether the wallet's auto-spend may pay it (not a subscription bill's award event:
    /// the bill was paid already).
    pub auto_spend: bool,
}

impl NewPurchase {
    /// The purchase as the offers see it, evaluated at `now`: at the purchase date (in its
    /// window, checked by the engine), never later than now, so a till whose clock runs
    /// ahead cannot reach an offer early.
    pub fn facts(&self, now: i64) -> PurchaseFacts<'_> {
        PurchaseFacts {
            currency: self.request.currency,
            total: self.request.amounts.total,
            lines: &self.request.products,
            classes: &self.classes,
            date: self.request.date.map_or(now, |date| date.min(now)),
            now,
            places: &self.facts.places,
            tap: self.facts.tap,
            schemes: &self.facts.schemes,
            profile: self.facts.profile.as_ref(),
            unlocked: &self.facts.unlocked,
            billing_cycles: &self.facts.billing_cycles,
        }
    }

    /// What the sale offers a spend: where it is made, and its lines.
    pub fn sale(&self) -> SaleScope<'_> {
        SaleScope {
            places: &self.facts.places,
            lines: &self.request.products,
            classes: &self.classes,
        }
    }
}

/// A budgeted award is what its budget holds for the purchase, at most; a hold too old to
/// be sure it still stands (see `domain::budget`) holds nothing. Awards left at nothing go.
pub(super) fn trim_to_budgets(evaluated: &mut Vec<EvaluatedAward>, holds: &[(OfferId, Hold)], now: i64) {
    for award in evaluated.iter_mut() {
        if award.explanation.budgeted {
            let granted = holds
                .iter()
                .find(|(offer, _)| *offer == award.grant.offer_id)
                .map(|(_, hold)| hold)
                .filter(|hold| now.saturating_sub(hold.reserved_at) < GRANT_USABLE_S)
                .map_or(Decimal::ZERO, |hold| hold.amount);
            award.trim_to_budget(granted);
        }
    }
    evaluated.retain(|award| award.grant.amount > Decimal::ZERO);
}

impl WalletEntity {
    /// An auto-spend: as much as the wallet holds, up to the total and to what the wallet's
    /// debit limits leave (none for a zero total, or past a limit's count).
    pub(super) fn auto_spend(&self, now: i64, total: Decimal) -> Option<crate::domain::wallet::SpendRequest> {
        let (left, another) =
            self.limits
                .allowance(self.wallet.limit_usage(), now, crate::domain::wallet::LimitKind::Debit);
        let amount = left.map_or(total, |left| left.min(total));
        (another && amount > Decimal::ZERO).then_some(crate::domain::wallet::SpendRequest {
            amount,
            restrict_fully_covered: false,
        })
    }
}

/// The meta record saying every wallet's reward history is kept (a data dir of before it
/// was kept is rebuilt once, when the engine starts).
const HISTORIES_KEPT: &str = "reward_histories_kept";

/// Makes sure every wallet with posted purchases has its reward history: on a data dir of
/// before histories were kept, builds them from the purchases, once. After that a wallet
/// without one has never earned.
pub fn ensure_histories(store: &Store, keep_from: i64) -> Result<(), StoreError> {
    // An empty store is left empty for its first start (bootstrap), which marks it.
    if store.meta(HISTORIES_KEPT)?.is_some() || store.is_empty()? {
        return Ok(());
    }
    let mut histories: HashMap<(Tenant, WalletId), RewardHistory> = HashMap::new();
    store.visit_purchases(|record| {
        if record.state == PurchaseState::Posted {
            histories
                .entry((record.tenant, record.request.wallet_id))
                .or_default()
                .record_purchase(
                    record.award_time(),
                    record
                        .effects
                        .awards
                        .iter()
                        .map(|award| (award.offer_id, award.amount, true)),
                    keep_from,
                );
        }
    })?;
    let rebuilt = histories.len();
    let mut writes = WriteSet::default();
    for ((tenant, wallet), history) in &histories {
        writes.reward_history(tenant, *wallet, history);
    }
    writes.meta(HISTORIES_KEPT, b"1");
    store.commit_and_wait(writes)?;
    if rebuilt > 0 {
        tracing::info!(
            wallets = rebuilt,
            "rebuilt the wallets' reward histories from their purchases"
        );
    }
    Ok(())
}

/// Marks a new store as keeping every wallet's reward history from the start.
pub fn mark_histories_kept(writes: &mut WriteSet) {
    writes.meta(HISTORIES_KEPT, b"1");
}

/// The wallet's reward history (`ensure_histories` ran at start: none means empty).
pub(super) fn load_history(store: &Store, tenant: &Tenant, wallet: WalletId) -> Result<RewardHistory, StoreError> {
    Ok(store.reward_history(tenant, wallet)?.unwrap_or_default())
}

impl WalletEntity {
    /// Sends each budgeted award's `amounts[i]` (for `record.effects.awards[i]`) back to its
    /// offer's budget through the outbox, as message `id`'s; whether anything was sent.
    pub(super) fn refund_budgets(
        &mut self,
        life: &Life<Self>,
        writes: &mut WriteSet,
        id: PurchaseId,
        record: &PurchaseRecord,
        amounts: &[(OfferId, Decimal)],
        now: i64,
    ) -> bool {
        let (tenant, _) = *life.key();
        let mut sends = false;
        for ((offer, amount), explanation) in amounts.iter().zip(&record.explanations) {
            if explanation.budgeted && explanation.offer_id == *offer && *amount > Decimal::ZERO {
                writes.actor_message(&ActorMessage {
                    id: ActorMessage::budget_refund_id(id, *offer),
                    seq: self.outbox.next_seq(),
                    to: Recipient::Budget(tenant, *offer),
                    body: MessageBody::BudgetRefund {
                        purchase: id,
                        amount: *amount,
                    },
                    committed_at: now,
                });
                sends = true;
            }
        }
        sends
    }

    pub(super) fn find_purchase(
        &self,
        life: &Life<Self>,
        id: PurchaseId,
    ) -> Result<Option<Arc<PurchaseRecord>>, WalletError> {
        if let Some(record) = self.purchases.get(&id) {
            return Ok(Some(record.clone()));
        }
        life.store()
            .purchase(&life.key().0, id)
            .map(|found| found.map(Arc::new))
            .map_err(|error| WalletError::Storage(error.to_string()))
    }

    /// A purchase posted to this wallet (another wallet's is not found).
    pub(super) fn wallet_purchase(
        &self,
        life: &Life<Self>,
        id: PurchaseId,
    ) -> Result<Arc<PurchaseRecord>, WalletError> {
        match self.find_purchase(life, id)? {
            Some(record) if record.request.wallet_id == life.key().1 => Ok(record),
            _ => Err(WalletError::PurchaseNotFound),
        }
    }

    pub(super) fn remember(&mut self, life: &Life<Self>, record: Arc<PurchaseRecord>) {
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
        mut posted: NewPurchase,
        body_hash: [u8; 32],
        offers: &OfferSet,
        reply: Reply<Arc<PurchaseRecord>>,
    ) {
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
        // The token spends once: this actor is the only one to mark its contact's tokens
        // used, and remembers what it marked before the store shows it.
        let token = match posted.token.take() {
            None => None,
            Some(mut token) => {
                if token.used_by.is_none() {
                    token.used_by = self.used_tokens.get(&token.id).copied();
                }
                if let Err(refusal) = token.usable_by(purchase_id, now) {
                    let _ = reply.send(Err(WalletError::TokenRefused(refusal)));
                    return;
                }
                token.used_by = Some(purchase_id);
                Some(token)
            }
        };
        let estimate = match posted.estimate {
            None => None,
            Some(id) => match self.find_estimate(life, id) {
                Ok(Some(estimate)) => match estimate.usable_by(purchase_id, now) {
                    Ok(()) => Some(estimate),
                    Err(refusal) => {
                        let _ = reply.send(Err(super::estimates::refused(refusal)));
                        return;
                    }
                },
                Ok(None) => {
                    let _ = reply.send(Err(WalletError::EstimateNotFound));
                    return;
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                    return;
                }
            },
        };
        // A blocked wallet spends nothing; an auto-spending one spends what it can when the
        // purchase asks for nothing.
        if posted.request.spend.is_some() && self.spend.blocked {
            let _ = reply.send(Err(WalletError::Rejected(WalletRejection::SpendBlocked)));
            return;
        }
        if posted.request.spend.is_none() && posted.auto_spend && self.spend.auto_spend && !self.spend.blocked {
            posted.request.spend = self.auto_spend(now, posted.request.amounts.total);
        }
        let mut writes = WriteSet::default();
        let mut sends = false;
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        let purchase_facts = posted.facts(now);
        let award_time = purchase_facts.date;
        let evaluated = offers.evaluate(&purchase_facts, &self.history);
        let NewPurchase {
            request,
            at,
            classes,
            facts,
            grants: holds,
            pass: pass_link,
            community,
            ..
        } = posted;
        let Some(mut evaluated) = evaluated else {
            metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "rejected").increment(1);
            return life.commit_then_answer(writes, reply, Err(WalletError::Rejected(WalletRejection::RuleOverflow)));
        };
        trim_to_budgets(&mut evaluated, &holds, now);
        let grants: Vec<AwardGrant> = evaluated.iter().map(|award| award.grant).collect();
        // An estimate's hold is the purchase's spend: captured first, in this commit.
        let mut spend = request.spend;
        // A member spends the owner's wallet only as far as its allowance goes.
        if let (Some(cap), Some(asked)) = (community.as_ref().and_then(|charge| charge.cap), spend.as_mut()) {
            if asked.amount > cap {
                if asked.restrict_fully_covered {
                    return life.commit_then_answer(
                        writes,
                        reply,
                        Err(WalletError::Rejected(WalletRejection::InsufficientFunds)),
                    );
                }
                asked.amount = cap;
            }
        }
        if spend.is_some_and(|asked| asked.amount.is_zero()) {
            spend = None;
        }
        let mut captured = None;
        if let Some(estimate) = estimate.as_ref().filter(|estimate| estimate.held) {
            match self.wallet.capture_hold(now, estimate.id, purchase_id, estimate.spend) {
                Ok(Some((event, spent))) => {
                    spend = None;
                    captured = Some((event, spent));
                }
                Ok(None) => {}
                Err(fault) => return self.fault(life, reply, &fault),
            }
        }
        if let Some((event, _)) = &captured {
            self.add_events(life, &mut writes, std::slice::from_ref(event));
        }
        let captured_hold = captured.is_some();
        // Where each award goes (no lookups, no allocation unless an offer routes elsewhere
        // than the wallet).
        let routes: Vec<AwardRoute> = if offers.has_routes() {
            grants.iter().map(|grant| offers.route(grant.offer_id)).collect()
        } else {
            Vec::new()
        };
        // What the limits had counted before this purchase (only when there are limits).
        let usage_before = (!self.limits.rules.is_empty()).then(|| self.wallet.limit_usage().clone());
        let posting = Posting {
            purchase: purchase_id,
            spend,
            sale: SaleScope {
                places: &facts.places,
                lines: &request.products,
                classes: &classes,
            },
            awards: &grants,
            routes: &routes,
        };
        match self
            .wallet
            .post_purchase_with(now, posting, self.balance_max)
            .map(|(event, mut effects)| {
                if let Some((_, spent)) = captured {
                    effects.spends = spent;
                }
                (event, effects)
            }) {
            Err(CommandError::Fault(fault)) => self.fault(life, reply, &fault),
            Err(CommandError::Rejected(rejection)) => {
                metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "rejected").increment(1);
                metrics::counter!(names::SPENDS_TOTAL, "outcome" => "refused").increment(1);
                if captured_hold {
                    // The hold was taken in memory: keep none of it (the wallet reloads).
                    life.set_faulted();
                    let _ = reply.send(Err(WalletError::Rejected(rejection)));
                    return;
                }
                life.commit_then_answer(writes, reply, Err(WalletError::Rejected(rejection)));
            }
            Ok((event, effects)) => {
                if let Some(before) = &usage_before {
                    let moves = crate::domain::wallet::Moves::of(&event);
                    if let Err(hit) = self.limits.admits(before, now, &moves) {
                        // The purchase was applied in memory: keep none of it (the wallet reloads).
                        metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "rejected").increment(1);
                        metrics::counter!(names::SPENDS_TOTAL, "outcome" => "refused").increment(1);
                        life.set_faulted();
                        let _ = reply.send(Err(WalletError::LimitReached(hit)));
                        return;
                    }
                }
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
                // Each budget that holds for the purchase learns what it used, in this commit.
                let (tenant, _) = *life.key();
                for (offer, hold) in holds.iter().filter(|(_, hold)| hold.amount > Decimal::ZERO) {
                    let used = effects
                        .awards
                        .iter()
                        .filter(|award| award.offer_id == *offer)
                        .fold(Decimal::ZERO, |sum, award| sum.saturating_add(award.amount));
                    writes.actor_message(&ActorMessage {
                        id: ActorMessage::budget_settle_id(purchase_id, *offer),
                        seq: self.outbox.next_seq(),
                        to: Recipient::Budget(tenant, *offer),
                        body: MessageBody::BudgetSettle {
                            purchase: hold.purchase,
                            used,
                        },
                        committed_at: now,
                    });
                    sends = true;
                }
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
                    returns: Vec::new(),
                    pass: pass_link,
                });
                #[cfg(feature = "failpoints")]
                crate::actors::failpoints::hit(crate::actors::failpoints::Failpoint::InWalletPurchase, life.key().1 .0);
                self.add_events(life, &mut writes, &[event]);
                writes.purchase(&record);
                let usage = match &community {
                    Some(charge) => {
                        match self.charge_community(life, &mut writes, &record, charge, record.effects.spent(), now) {
                            Ok(written) => Some(written),
                            Err(error) => {
                                life.set_faulted();
                                return drop(reply.send(Err(error)));
                            }
                        }
                    }
                    None => None,
                };
                if let Some(token) = &token {
                    writes.contact_token(token);
                }
                let used = estimate.map(|estimate| {
                    let mut used = (*estimate).clone();
                    used.state = crate::domain::estimate::EstimateState::Used(purchase_id);
                    let used = Arc::new(used);
                    writes.estimate(&used);
                    used
                });
                self.commit_waking(life, writes, sends, reply, record.clone());
                self.remember(life, record);
                self.remember_usage(life, usage);
                if let Some(used) = used {
                    self.remember_estimate(life, used);
                }
                if let Some(token) = token {
                    self.used_tokens
                        .remember(token.id, purchase_id, life.commits_submitted(), life.commits_settled());
                }
            }
        }
    }

    pub(super) fn cancel_purchase(
        &mut self,
        life: &mut Life<Self>,
        purchase_id: PurchaseId,
        reply: Reply<Arc<PurchaseRecord>>,
    ) {
        let record = match self.wallet_purchase(life, purchase_id) {
            Ok(record) => record,
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
        let prior = match ReturnTotals::of(record.returns.iter().map(|done| &done.effects)) {
            Ok(prior) => prior,
            Err(fault) => return self.fault(life, reply, &fault),
        };
        let event = match self
            .wallet
            .cancel_purchase(now, purchase_id, &record.effects, &prior, self.balance_max)
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
        // Caps and budgets get back what the purchase's returns left of its awards.
        let left = record.awards_left();
        self.history.record_cancellation(
            record.award_time(),
            left.iter().copied(),
            now.saturating_sub(self.history_window_s),
        );
        writes.reward_history(&life.key().0, life.key().1, &self.history);
        let sends = self.refund_budgets(life, &mut writes, purchase_id, &record, &left, now);
        // A spend given back to a lot that has since expired expires again at once.
        if let Err(fault) = self.sweep(life, now, &mut writes) {
            return self.fault(life, reply, &fault);
        }
        // A member's spend comes back to its allowance: what the returns left of it.
        let given: Decimal = record
            .returns
            .iter()
            .fold(Decimal::ZERO, |sum, done| sum.saturating_add(done.effects.given_back()));
        let left = (record.effects.spent() - given).max(Decimal::ZERO);
        let usage = match self.give_back_community(life, &mut writes, &record, left, now) {
            Ok(written) => written,
            Err(error) => {
                life.set_faulted();
                return drop(reply.send(Err(error)));
            }
        };
        let mut cancelled = (*record).clone();
        cancelled.state = PurchaseState::Cancelled;
        cancelled.cancelled_on = Some(now);
        let cancelled = Arc::new(cancelled);
        writes.purchase(&cancelled);
        self.commit_waking(life, writes, sends, reply, cancelled.clone());
        self.remember(life, cancelled);
        self.remember_usage(life, usage);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{ContactId, Mode, OrganisationId, ReferenceNumber};
    use crate::domain::money::Currency;
    use crate::domain::offer::AwardHistory;
    use crate::domain::purchase::TransactionAmounts;
    use crate::domain::wallet::{AwardLine, Balances, PurchaseEffects};

    fn purchase(tenant: Tenant, wallet: WalletId, offer: OfferId, amount: i64, state: PurchaseState) -> PurchaseRecord {
        let reference = ReferenceNumber::parse(&format!("R-{amount}")).unwrap();
        PurchaseRecord {
            id: PurchaseId::for_reference(&tenant, &reference),
            tenant,
            request: PurchaseRequest {
                reference_number: reference,
                contact_id: ContactId::random(),
                wallet_id: wallet,
                currency: Currency::parse("EUR").unwrap(),
                amounts: TransactionAmounts {
                    net: None,
                    tax: None,
                    discount: None,
                    total: Decimal::ONE_HUNDRED,
                },
                date: None,
                products: vec![],
                spend: None,
            },
            body_hash: [0; 32],
            state,
            date: 1_000,
            posted_on: 1_000,
            cancelled_on: None,
            effects: PurchaseEffects {
                awards: vec![AwardLine {
                    offer_id: offer,
                    lot: 0,
                    amount: Decimal::from(amount),
                }],
                spends: vec![],
            },
            balances_after: Balances::default(),
            organisation: None,
            classes: vec![],
            explanations: vec![],
            returns: vec![],
            pass: None,
        }
    }

    #[test]
    fn a_data_dir_of_before_histories_gets_them_rebuilt_once_from_its_purchases() {
        let dir = tempfile::TempDir::new().unwrap();
        let settings = crate::storage::tests::settings(1024);
        let store = Store::open(dir.path(), &settings).unwrap();
        let tenant = Tenant {
            organisation: OrganisationId::random(),
            mode: Mode::Live,
        };
        let (wallet, offer) = (WalletId::random(), OfferId::random());
        let mut writes = WriteSet::default();
        writes.purchase(&purchase(tenant, wallet, offer, 3, PurchaseState::Posted));
        writes.purchase(&purchase(tenant, wallet, offer, 4, PurchaseState::Posted));
        writes.purchase(&purchase(tenant, wallet, offer, 50, PurchaseState::Cancelled));
        store.commit_and_wait(writes).unwrap();
        assert!(store.reward_history(&tenant, wallet).unwrap().is_none());

        ensure_histories(&store, 0).unwrap();
        let history = load_history(&store, &tenant, wallet).unwrap();
        assert_eq!(history.purchases, 2, "the cancelled purchase does not count");
        assert_eq!(history.awarded_since(offer, 500), Decimal::from(7));
        assert_eq!(history.awarded_since(offer, 1_001), Decimal::ZERO);
        // Once: later changes are the actors' to make, never rebuilt over.
        let mut writes = WriteSet::default();
        writes.reward_history(&tenant, wallet, &RewardHistory::default());
        store.commit_and_wait(writes).unwrap();
        ensure_histories(&store, 0).unwrap();
        assert_eq!(load_history(&store, &tenant, wallet).unwrap(), RewardHistory::default());
        store.shutdown();
    }
}
