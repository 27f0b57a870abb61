//! Billing subscriptions (`domain::subscription`). A bill is made and recorded — its lines,
//! its number, the subscription's open bill — in one commit, before any money moves; it is
//! then paid once (the wallet remembers the bill's id in the commit that debits it, the
//! account its journal line's id, which is the bill's), and the commit that marks it paid
//! moves the services' billing on. A run that stops anywhere in between finds the open bill
//! next time and pays that bill, not another: each due cycle is billed exactly once.
//!
//! A paid bill is a customer event the rewards engine evaluates: a purchase of the bill's
//! services, posted under a reference the bill's id decides (so a run that starts again
//! finds it), before the bill is marked paid; it never spends from the wallet. Offers then
//! award subscriptions as they award any purchase (on their SKUs, families, categories).

use super::{claim_key, ContactRef, Engine, EngineError, PurchaseSubmission, SaleAt, SubmittedAmounts};
use crate::actors::wallet::{BillCommand, WalletCommand};
use crate::domain::account::{AccountTransaction, JournalType, NewJournal};
use crate::domain::ids::ReferenceNumber;
use crate::domain::ids::{AccountJournalId, SubscriptionId, Tenant};
use crate::domain::offer::LineClass;
use crate::domain::order::PromotionUse;
use crate::domain::purchase::{ProductLine, SaleOrganisation};
use crate::domain::subscription::{bill_totals, Bill, BillState, FundingSource, ServiceState, Subscription};
use crate::storage::WriteSet;
use futures_util::stream::{self, StreamExt};
use rust_decimal::Decimal;

/// How long a refused bill waits before it is asked for again.
pub const BILL_RETRY_S: i64 = 24 * 3600;
/// How many subscriptions a billing run bills at once.
const RUN_CONCURRENCY: usize = 64;

/// What one billing run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BillingRound {
    /// Subscriptions due a look.
    pub looked: usize,
    /// Bills paid (or credited).
    pub paid: usize,
    /// Bills the wallet or account refused (asked again after `BILL_RETRY_S`).
    pub refused: usize,
    /// Subscriptions busy or failing now (looked at again by the next run).
    pub skipped: usize,
}

/// Why money for a bill did not move.
enum Payment {
    Paid,
    Refused(String),
}

impl Engine {
    /// Bills subscription `id` now: pays its open bill, or makes and pays one for what is
    /// due (resuming pauses that ended first). `None` when nothing was due.
    pub async fn bill_subscription(&self, tenant: Tenant, id: SubscriptionId) -> Result<Option<Bill>, EngineError> {
        self.check_open()?;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'=', &tenant, id.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("subscription"))?;
        self.bill_claimed(tenant, id).await
    }

    /// As `bill_subscription`, for a caller that holds the subscription's claim.
    pub(super) async fn bill_claimed(&self, tenant: Tenant, id: SubscriptionId) -> Result<Option<Bill>, EngineError> {
        self.bill_claimed_presenting(tenant, id, None).await
    }

    /// As `bill_claimed`; a bill paid now presents `promotion` (the pass a contact added
    /// services with) for its award event.
    pub(super) async fn bill_claimed_presenting(
        &self,
        tenant: Tenant,
        id: SubscriptionId,
        promotion: Option<&PromotionUse>,
    ) -> Result<Option<Bill>, EngineError> {
        let now = self.now();
        let mut subscription = self
            .inner
            .store
            .subscription(&tenant, id)?
            .ok_or(EngineError::NotFound("subscription"))?;
        let before = subscription.clone();
        // What the store holds: each write below names it, so the billing run's index
        // entry it had goes.
        let mut stored = before.clone();
        self.run_scheduled(&mut subscription, now);
        let mut bill = match subscription.open_bill {
            Some(open) => self
                .inner
                .store
                .bill(&tenant, open)?
                .ok_or(EngineError::Internal("open bill"))?,
            None => {
                resume_ended_pauses(&mut subscription, now);
                let lines = subscription
                    .due_lines(now)
                    .ok_or_else(|| EngineError::Conflict("the bill's amounts overflow".into()))?;
                if lines.is_empty() {
                    subscription.next_billing_at = subscription.next_look(now);
                    if subscription != before {
                        let mut writes = WriteSet::default();
                        writes.subscription(&subscription, Some(&before));
                        self.commit_durable(writes).await?;
                    }
                    return Ok(None);
                }
                let totals =
                    bill_totals(&lines).ok_or_else(|| EngineError::Conflict("the bill's amounts overflow".into()))?;
                let bill = Bill {
                    id: Bill::id_for(subscription.id, subscription.bills),
                    tenant,
                    subscription: subscription.id,
                    contact: subscription.contact,
                    seq: subscription.bills,
                    currency: subscription.currency,
                    lines,
                    totals,
                    funding: subscription.funding,
                    state: BillState::Pending,
                    failure: None,
                    attempts: 0,
                    created_on: now,
                    paid_on: None,
                };
                subscription.bills += 1;
                subscription.open_bill = Some(bill.id);
                // The credits are the bill's now.
                subscription.credits.clear();
                subscription.next_billing_at = now;
                subscription.updated_on = now;
                let mut writes = WriteSet::default();
                writes.subscription(&subscription, Some(&before));
                writes.bill(&bill);
                self.commit_durable(writes).await?;
                stored = subscription.clone();
                bill
            }
        };
        let payment = self.pay_bill(&subscription, &bill).await?;
        if matches!(payment, Payment::Paid) {
            match self.award_bill(&subscription, &bill, promotion).await {
                Ok(()) => {}
                Err(
                    error @ (EngineError::Busy(_)
                    | EngineError::Storage(_)
                    | EngineError::ShuttingDown
                    | EngineError::Internal(_)),
                ) => return Err(error),
                // The money moved; an award the offers refuse does not hold the bill.
                Err(refused) => tracing::warn!(%refused, bill = %bill.id, "a paid bill's award event was refused"),
            }
        }
        bill.attempts = bill.attempts.saturating_add(1);
        match payment {
            Payment::Paid => {
                bill.state = BillState::Paid;
                bill.paid_on = Some(now);
                bill.failure = None;
                subscription.advance(&bill.lines);
                subscription.open_bill = None;
                subscription.next_billing_at = subscription.next_look(now);
            }
            Payment::Refused(reason) => {
                bill.state = BillState::Failed;
                bill.failure = Some(reason);
                subscription.next_billing_at = now.saturating_add(BILL_RETRY_S);
            }
        }
        subscription.updated_on = now;
        let mut writes = WriteSet::default();
        writes.subscription(&subscription, Some(&stored));
        writes.bill(&bill);
        self.commit_durable(writes).await?;
        let outcome = if bill.state == BillState::Paid {
            "paid"
        } else {
            "refused"
        };
        metrics::counter!(crate::metrics_names::BILLS_TOTAL, "outcome" => outcome).increment(1);
        Ok(Some(bill))
    }

    /// Moves a bill's money once: from (or, a credit, to) the wallet or the account.
    async fn pay_bill(&self, subscription: &Subscription, bill: &Bill) -> Result<Payment, EngineError> {
        let amount = bill.totals.total;
        if amount.is_zero() {
            return Ok(Payment::Paid);
        }
        let tenant = subscription.tenant;
        let moved = match bill.funding {
            FundingSource::Wallet => self
                .ask_wallet((tenant, subscription.wallet), |reply| {
                    WalletCommand::Bill(BillCommand::Apply {
                        bill: bill.id,
                        amount,
                        reply,
                    })
                })
                .await
                .map(|_| ()),
            FundingSource::Account => {
                let account = subscription.account.ok_or(EngineError::Internal(
                    "an account-funded subscription without its account",
                ))?;
                let line = NewJournal {
                    id: AccountJournalId(bill.id.0),
                    transaction: if amount > Decimal::ZERO {
                        AccountTransaction::Invoice
                    } else {
                        AccountTransaction::CreditNote
                    },
                    kind: if amount > Decimal::ZERO {
                        JournalType::Debit
                    } else {
                        JournalType::Credit
                    },
                    amount: amount.abs(),
                    notes: Some(format!("Subscription {} bill {}", subscription.code(), bill.seq + 1)),
                    entity: Some(bill.id.0),
                    by_contact: false,
                };
                self.post_account_journal(tenant, account, line).await.map(|_| ())
            }
        };
        match moved {
            Ok(()) => Ok(Payment::Paid),
            Err(
                refused @ (EngineError::InsufficientFunds { .. }
                | EngineError::SpendBlocked
                | EngineError::WalletLimit(_)
                | EngineError::BalanceLimit { .. }
                | EngineError::Invalid { .. }
                | EngineError::Conflict(_)
                | EngineError::Forbidden(_)),
            ) => Ok(Payment::Refused(match refused {
                EngineError::InsufficientFunds { .. } => "the wallet balance is not enough to pay the bill".into(),
                other => other.to_string(),
            })),
            Err(other) => Err(other),
        }
    }

    /// Posts a paid bill as a purchase of its services for the offers to award (once: its
    /// reference is the bill's; never spending from the wallet). Credits earn nothing. A
    /// promotion pass presented is used for it, if it still may be (else it earns as any
    /// bill does).
    async fn award_bill(
        &self,
        subscription: &Subscription,
        bill: &Bill,
        promotion: Option<&PromotionUse>,
    ) -> Result<(), EngineError> {
        if bill.totals.total <= Decimal::ZERO {
            return Ok(());
        }
        let tenant = subscription.tenant;
        let contact = self.contact_route(&tenant, &ContactRef::Id(subscription.contact))?;
        let charges: Vec<&crate::domain::subscription::BillLine> =
            bill.lines.iter().filter(|line| line.advances).collect();
        // Lines only when none is a credit: a purchase's lines are what was bought.
        let itemised = charges.len() == bill.lines.len();
        let mut products = Vec::new();
        let mut classes = Vec::new();
        if itemised {
            for line in charges {
                products.push(ProductLine {
                    product_sku: line.sku.clone(),
                    quantity: Decimal::ONE,
                    net_amount: Some(line.amounts.net),
                    tax_amount: Some(line.amounts.tax),
                    total_amount: Some(line.amounts.total),
                });
                let class = match subscription.service(line.service) {
                    Some(service) => match self.inner.store.product(&tenant, service.product)? {
                        Some(product) => self.line_class(&tenant, &product)?,
                        None => LineClass::default(),
                    },
                    None => LineClass::default(),
                };
                classes.push(class);
            }
        }
        let submission = PurchaseSubmission {
            reference_number: ReferenceNumber::parse(&format!("BILL-{}", bill.id.0.simple()))
                .map_err(|_| EngineError::Internal("bill reference"))?,
            contact: ContactRef::Id(subscription.contact),
            currency: Some(subscription.currency),
            amounts: SubmittedAmounts {
                net: Some(bill.totals.net),
                tax: Some(bill.totals.tax),
                discount: None,
                total: bill.totals.total,
            },
            date: None,
            products,
            classes,
            spend: None,
            organisation: SaleAt::Caller,
            pass: None,
        };
        let pass = match promotion {
            Some(promotion) => {
                let purchase = crate::domain::ids::PurchaseId::for_reference(&tenant, &submission.reference_number);
                match self.use_promotion(tenant, promotion, purchase).await {
                    Ok(link) => Some(link),
                    Err(refused) => {
                        tracing::warn!(%refused, bill = %bill.id, "a bill's promotion pass could not be used");
                        None
                    }
                }
            }
            None => None,
        };
        let (request, classes) = self.prepare_purchase(submission, &contact)?;
        let at = SaleOrganisation {
            id: tenant.organisation,
            tap: None,
        };
        // Worked out only when an offer reads them.
        let renewed = if self.offers(&tenant).await?.has_milestones() {
            subscription.renewed_cycles(&bill.lines)
        } else {
            Vec::new()
        };
        self.post_checked_with(
            tenant,
            &contact,
            (request, classes, at),
            None,
            None,
            pass,
            Some(renewed),
        )
        .await?;
        Ok(())
    }

    /// Bills every subscription due a look now (up to `limit`), `RUN_CONCURRENCY` at a time.
    pub async fn billing_run(&self, limit: usize) -> Result<BillingRound, EngineError> {
        self.check_open()?;
        let due = self.inner.store.subscriptions_due(self.now(), limit)?;
        let mut round = BillingRound {
            looked: due.len(),
            ..BillingRound::default()
        };
        let mut outcomes = stream::iter(due)
            .map(|entry| async move { self.bill_subscription(entry.tenant, entry.subscription).await })
            .buffer_unordered(RUN_CONCURRENCY);
        while let Some(outcome) = outcomes.next().await {
            match outcome {
                Ok(Some(bill)) if bill.state == BillState::Paid => round.paid += 1,
                Ok(Some(_)) => round.refused += 1,
                Ok(None) => {}
                Err(EngineError::ShuttingDown) => return Err(EngineError::ShuttingDown),
                Err(error) => {
                    tracing::warn!(%error, "a subscription could not be billed now");
                    round.skipped += 1;
                }
            }
        }
        Ok(round)
    }

    /// A subscription's bills, oldest first.
    pub fn subscription_bills(&self, subscription: &Subscription) -> Result<Vec<Bill>, EngineError> {
        let mut bills = Vec::new();
        for seq in 0..subscription.bills {
            if let Some(bill) = self
                .inner
                .store
                .bill(&subscription.tenant, Bill::id_for(subscription.id, seq))?
            {
                bills.push(bill);
            }
        }
        Ok(bills)
    }
}

/// Services whose pause ended are effective again from the pause's end.
pub(super) fn resume_ended_pauses(subscription: &mut Subscription, now: i64) {
    for service in &mut subscription.services {
        if let (ServiceState::Paused, Some(until)) = (service.state, service.paused_until) {
            if until <= now {
                service.state = ServiceState::Effective;
                service.billed_to = service.billed_to.max(until);
                service.last_activated_on = Some(until);
                service.paused_until = None;
            }
        }
    }
}
