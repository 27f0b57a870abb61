//! A wallet's journal: one line per non-zero entry of its events, paged, optionally
//! filtered by direction, transaction type, posting time, pocket and named commerce pool.
//! The lines come from the stored events; what a line's lot is (pocket, pool, what is left
//! of it) comes from the wallet's actor, asked once per page and only when needed.

use super::{Engine, EngineError, JournalLine, JournalPage, Page};
use crate::actors::wallet::{LotFacts, WalletCommand};
use crate::domain::ids::{CommercePoolId, Tenant, WalletId};
use crate::domain::wallet::{Cause, EntryKind, Pocket, WalletEvent, WalletHeader};
use rust_decimal::Decimal;

/// Which journal lines to show (the default: all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalFilter {
    /// Credits only (`true`) or debits only (`false`).
    pub credit: Option<bool>,
    /// Lines of this transaction type only (`AWARD`, `SPEND`, ...).
    pub transaction_type: Option<String>,
    /// Posted at or after this instant (epoch seconds).
    pub posted_from: Option<i64>,
    /// Posted at or before this instant.
    pub posted_to: Option<i64>,
    /// Lines moving value of this pocket only.
    pub pocket: Option<Pocket>,
    /// Lines moving value of this named commerce pool only.
    pub pool: Option<CommercePoolId>,
    /// Wallet fees only: the engine charges none, so nothing matches.
    pub fees_only: bool,
    /// Give each line its lot's facts (for unallocated amounts) even when no filter needs them.
    pub with_lots: bool,
}

impl JournalFilter {
    /// Whether lines are chosen by their lots (so every lot's facts are read first).
    fn filters_lots(&self) -> bool {
        self.pocket.is_some() || self.pool.is_some()
    }

    fn is_everything(&self) -> bool {
        *self
            == JournalFilter {
                with_lots: self.with_lots,
                ..JournalFilter::default()
            }
    }

    fn admits(&self, line: &JournalLine) -> bool {
        if self.fees_only {
            return false;
        }
        if self.credit.is_some_and(|credit| credit != line.entry.kind.is_credit()) {
            return false;
        }
        if let Some(kind) = &self.transaction_type {
            if kind != line.entry.kind.transaction_type() {
                return false;
            }
        }
        if self.posted_from.is_some_and(|from| line.posted_on < from)
            || self.posted_to.is_some_and(|to| line.posted_on > to)
        {
            return false;
        }
        if let Some(pocket) = self.pocket {
            if line.lot.is_none_or(|lot| lot.pocket != pocket) {
                return false;
            }
        }
        if let Some(pool) = self.pool {
            if line.lot.is_none_or(|lot| lot.pool != Some(pool)) {
                return false;
            }
        }
        true
    }
}

impl Engine {
    /// A page of a wallet's journal lines (zero-amount lines left out) that `filter` admits.
    pub async fn wallet_journal(
        &self,
        tenant: Tenant,
        id: WalletId,
        page: Page,
        filter: &JournalFilter,
    ) -> Result<JournalPage, EngineError> {
        self.check_open()?;
        // Lots filtered on are read whole first; lots only shown, for the page's lines after.
        let (view, lots) = if filter.filters_lots() {
            self.ask_wallet((tenant, id), |reply| WalletCommand::Lots { only: None, reply })
                .await?
        } else {
            (self.wallet(tenant, id).await?, Vec::new())
        };
        let facts = |lot| {
            lots.binary_search_by_key(&lot, |facts: &LotFacts| facts.id)
                .ok()
                .map(|index| lots[index])
        };
        let everything = filter.is_everything();
        let skip = page.offset;
        let mut lines = Vec::with_capacity(page.size.min(256));
        let mut matched = 0usize;
        let mut more = false;
        self.inner
            .store
            .visit_wallet_events(&tenant, id, page.descending, |event| {
                // Unfiltered, an event wholly before the page is counted, not made into lines.
                if everything && !page.count_total {
                    let count = event.entries.iter().filter(|entry| !entry.amount.is_zero()).count();
                    if matched + count <= skip {
                        matched += count;
                        return true;
                    }
                }
                let mut event_lines = journal_lines(&view.header, &event, &facts);
                if page.descending {
                    event_lines.reverse();
                }
                for line in event_lines.into_iter().filter(|line| filter.admits(line)) {
                    matched += 1;
                    if matched <= skip {
                        continue;
                    }
                    if lines.len() < page.size {
                        lines.push(line);
                    } else {
                        more = true;
                        if !page.count_total {
                            return false;
                        }
                    }
                }
                true
            })?;
        if filter.with_lots && !filter.filters_lots() && !lines.is_empty() {
            let only: Vec<_> = lines.iter().map(|line| line.entry.lot).collect();
            let (_, lots) = self
                .ask_wallet((tenant, id), |reply| WalletCommand::Lots {
                    only: Some(only.clone()),
                    reply,
                })
                .await?;
            for line in &mut lines {
                line.lot = lots
                    .binary_search_by_key(&line.entry.lot, |facts| facts.id)
                    .ok()
                    .map(|index| lots[index]);
            }
        }
        Ok(JournalPage {
            wallet: view,
            lines,
            more,
            total: page.count_total.then_some(matched),
        })
    }
}

fn journal_lines(
    header: &WalletHeader,
    event: &WalletEvent,
    facts: &impl Fn(crate::domain::wallet::LotId) -> Option<LotFacts>,
) -> Vec<JournalLine> {
    event
        .entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| !entry.amount.is_zero())
        .map(|(index, entry)| {
            let mut name = Vec::with_capacity(28);
            name.extend_from_slice(header.id.as_bytes());
            name.extend_from_slice(&event.seq.to_be_bytes());
            name.extend_from_slice(&(index as u32).to_be_bytes());
            JournalLine {
                id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, &name),
                seq: event.seq,
                entry: entry.clone(),
                posted_on: event.at,
                purchase: event.cause.purchase(),
                cause: event.cause.clone(),
                lot: facts(entry.lot),
            }
        })
        .collect()
}

/// A wallet's totals per kind of transaction over a time (CRM.COM's summarised totals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalletTotals {
    /// Value paid into the wallet (top-ups, pass redemptions).
    pub top_ups: Decimal,
    /// Value spent on purchases (spends and held funds their purchases took), less spends
    /// given back by cancels.
    pub spent: Decimal,
    /// Sent by transfers, less transfers given back.
    pub sent: Decimal,
    /// Received by transfers.
    pub received: Decimal,
    /// Awarded by offers (as awarded: later reversals are not taken off).
    pub awarded: Decimal,
    /// Paid out, less payouts that failed and were given back.
    pub payouts: Decimal,
}

impl Engine {
    /// What the wallet's events posted inside `[from, to]` (inclusive, either open) add up
    /// to, per kind. Reads the whole history once: a held fund's amount is in the event
    /// that held it, which may be before `from`.
    pub async fn wallet_totals(
        &self,
        tenant: Tenant,
        id: WalletId,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<(crate::actors::wallet::WalletView, WalletTotals), EngineError> {
        self.check_open()?;
        let view = self.wallet(tenant, id).await?;
        let mut totals = WalletTotals::default();
        let mut held: std::collections::HashMap<crate::domain::ids::EstimateId, Decimal> = Default::default();
        let add = |sum: &mut Decimal, amount: Decimal| *sum = sum.saturating_add(amount);
        self.inner.store.visit_wallet_events(&tenant, id, false, |event| {
            let inside = from.is_none_or(|from| event.at >= from) && to.is_none_or(|to| event.at <= to);
            let sum_of = |kind: EntryKind| {
                event
                    .entries
                    .iter()
                    .filter(|entry| entry.kind == kind)
                    .fold(Decimal::ZERO, |sum, entry| sum.saturating_add(entry.amount))
            };
            match &event.cause {
                Cause::Hold { estimate, .. } => {
                    held.insert(*estimate, sum_of(EntryKind::Hold));
                }
                Cause::HoldReleased(estimate) => {
                    held.remove(estimate);
                }
                Cause::HoldCaptured { estimate, .. } => {
                    let captured = held
                        .remove(estimate)
                        .unwrap_or_default()
                        .saturating_sub(sum_of(EntryKind::HoldRelease));
                    if inside {
                        add(&mut totals.spent, captured.max(Decimal::ZERO));
                    }
                }
                _ => {}
            }
            if !inside {
                return true;
            }
            add(&mut totals.awarded, sum_of(EntryKind::Award));
            add(&mut totals.spent, sum_of(EntryKind::Spend));
            totals.spent = totals.spent.saturating_sub(sum_of(EntryKind::SpendReversal));
            match event.cause {
                Cause::TransferSent(_) => add(&mut totals.sent, sum_of(EntryKind::TransferOut)),
                Cause::TransferReturned(_) => {
                    totals.sent = totals.sent.saturating_sub(sum_of(EntryKind::TransferIn));
                }
                Cause::TransferReceived(_) => add(&mut totals.received, sum_of(EntryKind::TransferIn)),
                Cause::TopUp(_) => add(&mut totals.top_ups, sum_of(EntryKind::TopUp)),
                Cause::PassRedeemed(_) => add(&mut totals.top_ups, sum_of(EntryKind::PassRedemption)),
                Cause::Payout(_) => add(&mut totals.payouts, sum_of(EntryKind::Payout)),
                Cause::PayoutReturned(_) => {
                    totals.payouts = totals.payouts.saturating_sub(sum_of(EntryKind::PayoutReturn));
                }
                _ => {}
            }
            true
        })?;
        Ok((view, totals))
    }
}
