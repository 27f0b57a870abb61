//! A wallet's transactions: its journal lines, each with where it came from — the purchase
//! and offer (reward events), the transfer and the other side of it (financial events), the
//! lot that expired and its commerce pool, the estimate that holds funds. What a page names
//! is read once per page, not once per line.

use super::{Engine, EngineError, JournalFilter, JournalLine, Page};
use crate::actors::wallet::{WalletCommand, WalletView};
use crate::domain::commerce_pool::CommercePool;
use crate::domain::contact::Contact;
use crate::domain::ids::{CommercePoolId, EstimateId, PurchaseId, Tenant, TransferId, WalletCode, WalletId};
use crate::domain::offer::RewardOffer;
use crate::domain::organisation::Organisation;
use crate::domain::purchase::PurchaseRecord;
use crate::domain::transfer::TransferRecord;
use crate::domain::wallet::{Cause, EntryKind};
use std::collections::HashMap;
use std::sync::Arc;

/// How a purchase's spend came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpendMethod {
    /// The purchase asked to spend.
    OnRequest,
    /// An award of the same purchase taken off it at once.
    Instant,
    /// The wallet spends what it holds on purchases that ask for nothing.
    AutoSpend,
}

/// Where a journal line came from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// An award or a spend of a purchase (or its reversal).
    Reward {
        purchase: Arc<PurchaseRecord>,
        /// The offer of an award line (or of an instant discount's spend).
        offer: Option<Arc<RewardOffer>>,
        /// Where the purchase was made.
        performed_by: Option<Arc<Organisation>>,
        /// For spend lines.
        spend_method: Option<SpendMethod>,
    },
    /// A transfer this wallet sent, received or was given back; the other side's wallet
    /// and its contact.
    Transfer {
        record: Arc<TransferRecord>,
        other_wallet: (WalletId, Option<WalletCode>),
        other_contact: Option<Arc<Contact>>,
        /// The named commerce pool it went into, if it did.
        pool: Option<Arc<CommercePool>>,
    },
    /// A lot's expiry, and its named pool if it was in one.
    Expiry { pool: Option<Arc<CommercePool>> },
    /// Funds held (or given back) for a purchase estimate.
    Hold { estimate: EstimateId },
    /// Money paid in through a payment gateway.
    TopUp {
        record: Arc<crate::domain::payment::TopUpRecord>,
    },
    /// A pass redeemed into the wallet.
    Pass { pass: Arc<crate::domain::pass::Pass> },
    /// Money paid out (or given back when the payout failed).
    Payout {
        record: Arc<crate::domain::payment::PayoutRecord>,
    },
    /// A subscription's bill paid from the wallet, or its credit.
    Bill {
        bill: Arc<crate::domain::subscription::Bill>,
    },
    /// A shortfall settlement: no one event to name.
    Other,
}

/// A page of transactions: the journal lines with their origins, line by line.
#[derive(Debug)]
pub struct TransactionPage {
    pub wallet: WalletView,
    pub lines: Vec<(JournalLine, Origin)>,
    pub more: bool,
    pub total: Option<usize>,
}

/// What one page's lines name, each read once.
#[derive(Default)]
struct Seen {
    purchases: HashMap<PurchaseId, Option<Arc<PurchaseRecord>>>,
    offers: HashMap<crate::domain::ids::OfferId, Option<Arc<RewardOffer>>>,
    organisations: HashMap<crate::domain::ids::OrganisationId, Option<Arc<Organisation>>>,
    transfers: HashMap<TransferId, Option<Arc<TransferRecord>>>,
    wallets: HashMap<WalletId, Option<Arc<Contact>>>,
    pools: HashMap<CommercePoolId, Option<Arc<CommercePool>>>,
}

impl Engine {
    /// A page of a wallet's transactions (its journal lines that `filter` admits), each
    /// with its origin.
    pub async fn wallet_transactions(
        &self,
        tenant: Tenant,
        id: WalletId,
        page: Page,
        filter: &JournalFilter,
    ) -> Result<TransactionPage, EngineError> {
        let filter = JournalFilter {
            with_lots: true,
            ..filter.clone()
        };
        let journal = self.wallet_journal(tenant, id, page, &filter).await?;
        let mut seen = Seen::default();
        let mut lines = Vec::with_capacity(journal.lines.len());
        for line in journal.lines {
            let origin = self.origin(&tenant, &line, &mut seen).await?;
            lines.push((line, origin));
        }
        Ok(TransactionPage {
            wallet: journal.wallet,
            lines,
            more: journal.more,
            total: journal.total,
        })
    }

    async fn origin(&self, tenant: &Tenant, line: &JournalLine, seen: &mut Seen) -> Result<Origin, EngineError> {
        let store = &self.inner.store;
        Ok(match &line.cause {
            Cause::Purchase(purchase) | Cause::PurchaseCancelled(purchase) | Cause::PurchaseReturned(purchase) => {
                let Some(record) = seen
                    .purchases
                    .entry(*purchase)
                    .or_insert_with(|| store.purchase(tenant, *purchase).ok().flatten().map(Arc::new))
                    .clone()
                else {
                    return Ok(Origin::Other);
                };
                let award = record
                    .effects
                    .awards
                    .iter()
                    .find(|award| award.lot == line.entry.lot)
                    .map(|award| award.offer_id);
                let offer = award.and_then(|offer| {
                    seen.offers
                        .entry(offer)
                        .or_insert_with(|| self.offer(tenant, offer).ok().map(Arc::new))
                        .clone()
                });
                let place = record.organisation_id();
                let performed_by = seen
                    .organisations
                    .entry(place)
                    .or_insert_with(|| self.organisation(place).ok().map(Arc::new))
                    .clone();
                let spend_method = matches!(line.entry.kind, EntryKind::Spend | EntryKind::SpendReversal).then(|| {
                    if award.is_some() {
                        SpendMethod::Instant
                    } else if record.request.spend.is_some() {
                        SpendMethod::OnRequest
                    } else {
                        SpendMethod::AutoSpend
                    }
                });
                Origin::Reward {
                    purchase: record,
                    offer,
                    performed_by,
                    spend_method,
                }
            }
            Cause::HoldCaptured { purchase, estimate } => {
                let record = seen
                    .purchases
                    .entry(*purchase)
                    .or_insert_with(|| store.purchase(tenant, *purchase).ok().flatten().map(Arc::new))
                    .clone();
                match record {
                    Some(purchase) => Origin::Reward {
                        performed_by: None,
                        offer: None,
                        spend_method: Some(if purchase.request.spend.is_some() {
                            SpendMethod::OnRequest
                        } else {
                            SpendMethod::AutoSpend
                        }),
                        purchase,
                    },
                    None => Origin::Hold { estimate: *estimate },
                }
            }
            Cause::TransferSent(transfer) | Cause::TransferReceived(transfer) | Cause::TransferReturned(transfer) => {
                let Some(record) = seen
                    .transfers
                    .entry(*transfer)
                    .or_insert_with(|| store.transfer(tenant, *transfer).ok().flatten().map(Arc::new))
                    .clone()
                else {
                    return Ok(Origin::Other);
                };
                let sent_by_us = !matches!(line.cause, Cause::TransferReceived(_));
                let other = if sent_by_us { record.destination } else { record.origin };
                let other_contact = match seen.wallets.get(&other) {
                    Some(known) => known.clone(),
                    None => {
                        // A transfer names who sent it; only the receiver of one sent is
                        // learnt from its wallet.
                        let owner = if sent_by_us {
                            self.wallet_owner(tenant, other).await
                        } else {
                            store.contact(tenant, record.contact).ok().flatten().map(Arc::new)
                        };
                        seen.wallets.insert(other, owner.clone());
                        owner
                    }
                };
                let code = other_contact.as_ref().map(|contact| contact.wallet_code);
                let pool = record.pool.as_ref().and_then(|pool| {
                    seen.pools
                        .entry(pool.id)
                        .or_insert_with(|| self.commerce_pool(tenant, pool.id).ok().map(Arc::new))
                        .clone()
                });
                Origin::Transfer {
                    record,
                    other_wallet: (other, code),
                    other_contact,
                    pool,
                }
            }
            Cause::Expiry => {
                let pool = line.lot.and_then(|lot| lot.pool).and_then(|pool| {
                    seen.pools
                        .entry(pool)
                        .or_insert_with(|| self.commerce_pool(tenant, pool).ok().map(Arc::new))
                        .clone()
                });
                Origin::Expiry { pool }
            }
            Cause::Hold { estimate, .. } | Cause::HoldReleased(estimate) => Origin::Hold { estimate: *estimate },
            Cause::Payout(id) | Cause::PayoutReturned(id) => match store.payout(tenant, *id)? {
                Some(record) => Origin::Payout {
                    record: Arc::new(record),
                },
                None => Origin::Other,
            },
            Cause::Bill(id) => match store.bill(tenant, *id)? {
                Some(bill) => Origin::Bill { bill: Arc::new(bill) },
                None => Origin::Other,
            },
            Cause::PassRedeemed(id) => match store.pass(tenant, *id)? {
                Some(pass) => Origin::Pass { pass: Arc::new(pass) },
                None => Origin::Other,
            },
            Cause::TopUp(id) => match store.top_up(tenant, *id)? {
                Some(record) => Origin::TopUp {
                    record: Arc::new(record),
                },
                None => Origin::Other,
            },
        })
    }

    /// The contact who owns wallet `id` (none if it cannot be read).
    async fn wallet_owner(&self, tenant: &Tenant, id: WalletId) -> Option<Arc<Contact>> {
        let header = self
            .ask_wallet((*tenant, id), |reply| WalletCommand::Header { reply })
            .await
            .ok()?;
        self.inner
            .store
            .contact(tenant, header.contact_id)
            .ok()
            .flatten()
            .map(Arc::new)
    }
}
