//! The wallet: value held in lots (D7), changed only by journal entries (D3).
//!
//! Every change to a wallet is an [`Entry`] applied by [`Wallet::apply_entry`]. Commands
//! (`post_purchase`, `cancel_purchase`, `sweep_expired`) check first, then build entries and
//! apply them one at a time through that same function; recovery replays stored entries
//! through it too. So the live path and the replay path cannot drift apart, and
//! "balance = sum of journal" holds by construction (asserted in tests).
//!
//! Rules, in the order they bite:
//! - A spend consumes eligible lots (not revoked, not expired) soonest-expiring first; lots
//!   without expiry last; ties by age. It never takes a lot below zero.
//! - A lot past its expiry is debited by an EXPIRATION entry at the next command.
//! - Cancelling a purchase revokes its award lots (debiting what remains of them) and restores
//!   its spend to exactly the lots it used. Value of a revoked lot that was already spent (or
//!   used to settle a shortfall) becomes the wallet's **shortfall**: shown on the wallet,
//!   never a negative balance.
//! - Every credit (an award, a restored spend) first settles an outstanding shortfall.
//! - A spend restored to a lot that was revoked in the meantime comes back as a new lot with
//!   the same pocket and expiry (the old lot's value is gone), and then settles the shortfall
//!   its revocation caused.

use super::ids::{
    CommercePoolId, ContactId, EstimateId, OfferId, PurchaseId, Tenant, TransferId, WalletCode, WalletId,
};
use super::money::Currency;
use super::offer::SpendConditions;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub type LotId = u64;

/// Where a lot's value sits: the contact's own open money, or reward (commerce) money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Pocket {
    Open,
    Commerce,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    pub id: LotId,
    pub pocket: Pocket,
    /// What was credited into this lot, restored spends included.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub remaining: Decimal,
    /// The part of `amount` taken by expiry (not by the contact), so a revocation can tell
    /// spent value from expired value.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub expired: Decimal,
    pub expires_at: Option<i64>,
    pub revoked: bool,
}

impl Lot {
    fn spend_order_key(&self) -> (i64, LotId) {
        (self.expires_at.unwrap_or(i64::MAX), self.id)
    }

    /// What is left to take back of an award lot: what it was awarded, less what expired
    /// of it and what returns took (`(debited, owed)`). Spend given back to the lot raises
    /// what it holds, not this.
    fn award_left(&self, (debited, owed): (Decimal, Decimal)) -> Option<Decimal> {
        let left = self
            .amount
            .checked_sub(self.expired)?
            .checked_sub(debited)?
            .checked_sub(owed)?;
        Some(left.max(Decimal::ZERO))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    /// Credit: a new commerce lot from a reward offer.
    Award,
    /// Debit: value taken to pay (part of) a purchase.
    Spend,
    /// Debit: what remained of a lot when it expired.
    Expiration,
    /// Debit: what remained of an award lot when its purchase was cancelled.
    AwardReversal,
    /// Credit: a cancelled purchase's spend given back to the lot it came from.
    SpendReversal,
    /// Debit: a credit applied to the wallet's outstanding shortfall.
    ShortfallSettlement,
    /// Debit: value sent to another wallet by a transfer.
    TransferOut,
    /// Credit: a new open lot from a transfer received (or a transfer given back).
    TransferIn,
    /// Debit: part of an award lot taken back by an ad hoc return (the lot stays).
    AwardReturn,
    /// Debit: value held for a purchase estimate (captured by its purchase, or released).
    Hold,
    /// Credit: held value given back to the lot it came from (or a new one, like a spend's).
    HoldRelease,
    /// Credit: a new open lot paid in through a payment gateway (appended).
    TopUp,
    /// Credit: a new lot (open or commerce, as its plan says) from a redeemed pass (appended).
    PassRedemption,
    /// Debit: value paid out to a payment method (appended).
    Payout,
    /// Credit: a payout that failed, given back in a new open lot (appended).
    PayoutReturn,
    /// Debit: value paid to a subscription's bill (appended).
    BillPayment,
    /// Credit: a subscription's credit (a change or a regret), in a new open lot (appended).
    BillCredit,
}

impl EntryKind {
    pub fn is_credit(&self) -> bool {
        matches!(
            self,
            EntryKind::Award
                | EntryKind::SpendReversal
                | EntryKind::TransferIn
                | EntryKind::HoldRelease
                | EntryKind::TopUp
                | EntryKind::PassRedemption
                | EntryKind::PayoutReturn
                | EntryKind::BillCredit
        )
    }

    /// The journal's `transaction_type`.
    pub fn transaction_type(&self) -> &'static str {
        match self {
            EntryKind::Award => "AWARD",
            EntryKind::Spend => "SPEND",
            EntryKind::Expiration => "EXPIRATION",
            EntryKind::AwardReversal | EntryKind::AwardReturn => "AWARD_REVERSAL",
            EntryKind::SpendReversal => "SPEND_REVERSAL",
            EntryKind::ShortfallSettlement => "SHORTFALL_SETTLEMENT",
            EntryKind::TransferOut | EntryKind::TransferIn => "TRANSFER",
            EntryKind::Hold => "HOLD",
            EntryKind::HoldRelease => "HOLD_RELEASE",
            EntryKind::TopUp => "TOP_UP",
            EntryKind::PassRedemption => "PASS_REDEMPTION",
            EntryKind::Payout | EntryKind::PayoutReturn => "PAYOUT",
            EntryKind::BillPayment | EntryKind::BillCredit => "SUBSCRIPTION_BILL",
        }
    }
}

/// A lot created by a credit entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLot {
    pub pocket: Pocket,
    pub expires_at: Option<i64>,
}

/// One journal line. Applying it is the only way a wallet changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub kind: EntryKind,
    pub lot: LotId,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    /// Set when this credit opens a new lot.
    pub new_lot: Option<NewLot>,
    /// Signed change of the wallet's shortfall this entry carries.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub shortfall_change: Decimal,
}

impl Entry {
    /// The entry's effect on the balance: positive for credits, negative for debits.
    pub fn signed_amount(&self) -> Decimal {
        if self.kind.is_credit() {
            self.amount
        } else {
            -self.amount
        }
    }
}

/// Why a wallet event happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cause {
    Purchase(PurchaseId),
    PurchaseCancelled(PurchaseId),
    Expiry,
    TransferSent(TransferId),
    TransferReceived(TransferId),
    /// A transfer this wallet sent, given back by its destination.
    TransferReturned(TransferId),
    /// Goods of a purchase brought back (an ad hoc return).
    PurchaseReturned(PurchaseId),
    /// Funds held for a purchase estimate, until `expires_at` at the latest.
    Hold {
        estimate: EstimateId,
        expires_at: i64,
    },
    /// A hold given back: the estimate expired, was rejected, or was used for less.
    HoldReleased(EstimateId),
    /// A hold taken by the estimate's purchase (what it did not need is given back here).
    HoldCaptured {
        estimate: EstimateId,
        purchase: PurchaseId,
    },
    /// Money paid in through a payment gateway (appended).
    TopUp(super::ids::TopUpId),
    /// A pass redeemed into the wallet (appended).
    PassRedeemed(super::ids::PassId),
    /// Money paid out to a payment method (appended).
    Payout(super::ids::PayoutId),
    /// A payout that failed, given back (appended).
    PayoutReturned(super::ids::PayoutId),
    /// A subscription's bill paid, or its credit (appended).
    Bill(super::ids::BillId),
}

impl Cause {
    pub fn purchase(&self) -> Option<PurchaseId> {
        match self {
            Cause::Purchase(id) | Cause::PurchaseCancelled(id) | Cause::PurchaseReturned(id) => Some(*id),
            _ => None,
        }
    }

    /// The journal's words for it.
    pub fn description(&self) -> &'static str {
        match self {
            Cause::Purchase(_) => "Posted for purchase",
            Cause::PurchaseCancelled(_) => "Purchase cancelled",
            Cause::Expiry => "Expired",
            Cause::TransferSent(_) => "Transfer sent",
            Cause::TransferReceived(_) => "Transfer received",
            Cause::TransferReturned(_) => "Transfer returned",
            Cause::PurchaseReturned(_) => "Goods returned",
            Cause::Hold { .. } => "Held for a purchase estimate",
            Cause::HoldReleased(_) => "Hold released",
            Cause::HoldCaptured { .. } => "Hold used by its purchase",
            Cause::TopUp(_) => "Top-up",
            Cause::PassRedeemed(_) => "Pass redeemed",
            Cause::Payout(_) => "Payout",
            Cause::PayoutReturned(_) => "Payout failed, given back",
            Cause::Bill(_) => "Subscription bill",
        }
    }

    pub fn transfer(&self) -> Option<TransferId> {
        match self {
            Cause::TransferSent(id) | Cause::TransferReceived(id) | Cause::TransferReturned(id) => Some(*id),
            _ => None,
        }
    }
}

/// One wallet event: the unit of the wallet's journal and of recovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletEvent {
    pub seq: u64,
    pub at: i64,
    pub cause: Cause,
    pub entries: Vec<Entry>,
    /// The lots these entries opened that carry spend conditions (appended: older events
    /// read without it, `WalletEventBeforePools`).
    pub pools: Vec<PooledLot>,
    /// Which of those lots are in a named commerce pool, and which (appended: older events
    /// read without it, `WalletEventBeforePoolIds`).
    pub pool_ids: Vec<PoolTag>,
}

/// An award the rules granted for a purchase, before it becomes a lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardGrant {
    pub offer_id: OfferId,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendRequest {
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    pub restrict_fully_covered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardLine {
    pub offer_id: OfferId,
    pub lot: LotId,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotDebit {
    pub lot: LotId,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
}

/// What a purchase did to the wallet: kept with the purchase so a cancel is exact.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PurchaseEffects {
    pub awards: Vec<AwardLine>,
    pub spends: Vec<LotDebit>,
}

impl PurchaseEffects {
    /// Bounded by the wallet's balance bound, so the saturation never bites.
    pub fn awarded(&self) -> Decimal {
        self.awards
            .iter()
            .fold(Decimal::ZERO, |sum, line| sum.saturating_add(line.amount))
    }
    pub fn spent(&self) -> Decimal {
        self.spends
            .iter()
            .fold(Decimal::ZERO, |sum, debit| sum.saturating_add(debit.amount))
    }

    /// What was spent from lots the wallet held before the purchase: its spend less the
    /// instant discounts it took off itself (spends of lots its own awards opened).
    pub fn spent_from_wallet(&self) -> Decimal {
        self.spends
            .iter()
            .filter(|debit| !self.awards.iter().any(|award| award.lot == debit.lot))
            .fold(Decimal::ZERO, |sum, debit| sum.saturating_add(debit.amount))
    }
}

/// Business rejections of a wallet command (D8), in order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WalletRejection {
    /// `restrict_fully_covered` was set and the eligible balance is below the request.
    InsufficientFunds,
    /// The command would take the wallet's balance above `[money] wallet_balance_max`.
    BalanceLimit,
    /// An offer's rule overflowed on the purchase (bounded amounts never do).
    RuleOverflow,
    /// The contact's spending is blocked.
    SpendBlocked,
}

/// How a wallet may be spent from: blocked by the business (and since when), and whether
/// a purchase with no spend request spends what it can (the contact's auto-spend).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpendSettings {
    pub blocked: bool,
    /// When `blocked` last changed.
    pub blocked_on: Option<i64>,
    pub auto_spend: bool,
}

/// An entry the wallet cannot apply: it would overflow or break an invariant. Commands check
/// their bounds first, so this means a bug or a corrupt record; the command is refused, and
/// the actor holding the wallet starts again from its last durable state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("wallet fault: {0}")]
pub struct WalletFault(pub String);

/// Why a wallet command did not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    Rejected(WalletRejection),
    Fault(WalletFault),
}

impl From<WalletFault> for CommandError {
    fn from(fault: WalletFault) -> Self {
        CommandError::Fault(fault)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Balances {
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub total: Decimal,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub open: Decimal,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub commerce: Decimal,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub shortfall: Decimal,
}

/// The wallet's durable identity, written once when its contact is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletHeader {
    pub id: WalletId,
    pub tenant: Tenant,
    pub contact_id: ContactId,
    pub code: WalletCode,
    pub currency: Currency,
    pub created_on: i64,
}

/// The wallet's state: what a snapshot stores and what the actor holds in memory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Wallet {
    pub header: WalletHeader,
    /// Every lot this wallet ever had: a cancel may revoke or restore any of them. A
    /// B-tree, not a hash map: it grows a node at a time, while a hash map doubling under a
    /// busy wallet (hundreds of thousands of lots) rehashed them all and stalled its actor
    /// for up to 100 ms. Snapshots encode both alike (a map), so stored ones still read.
    lots: BTreeMap<LotId, Lot>,
    #[serde(with = "crate::domain::money::exact_decimal")]
    shortfall: Decimal,
    next_lot_id: LotId,
    /// Sequence number the next event gets; equals the number of events so far.
    next_seq: u64,
    /// Lots with value a spend may take, in spend order. Derived from `lots`, rebuilt on load.
    #[serde(skip)]
    spendable: BTreeSet<(i64, LotId)>,
    #[serde(skip)]
    totals: Option<Balances>,
    /// Funds held for purchase estimates, by estimate (appended: older snapshots read
    /// without it, `storage::legacy::LegacyWallet`).
    holds: BTreeMap<EstimateId, HeldFunds>,
    /// The spend conditions of the lots that carry any (appended: older snapshots read
    /// without it, `WalletBeforePools`).
    pools: BTreeMap<LotId, Arc<SpendConditions>>,
    /// Lots opened with conditions by the event being built (for `record`).
    #[serde(skip)]
    opened_pools: Vec<PooledLot>,
    /// The named commerce pool of each lot credited to one (appended: older snapshots read
    /// without it, `WalletBeforePoolIds`).
    pool_ids: BTreeMap<LotId, CommercePoolId>,
    /// Lots opened in a named pool by the event being built (for `record`).
    #[serde(skip)]
    opened_pool_ids: Vec<PoolTag>,
    /// What the wallet moved in the current day, week and month, for its limits (appended:
    /// older snapshots read without it, `WalletBeforeLimits`, and count from then).
    usage: LimitUsage,
}

impl PartialEq for Wallet {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header
            && self.lots == other.lots
            && self.shortfall == other.shortfall
            && self.next_lot_id == other.next_lot_id
            && self.next_seq == other.next_seq
            && self.holds == other.holds
            && self.pools == other.pools
            && self.pool_ids == other.pool_ids
            && self.usage == other.usage
    }
}

impl Wallet {
    pub fn open(header: WalletHeader) -> Wallet {
        Wallet {
            header,
            lots: BTreeMap::new(),
            shortfall: Decimal::ZERO,
            next_lot_id: 1,
            next_seq: 0,
            spendable: BTreeSet::new(),
            totals: Some(Balances::default()),
            holds: BTreeMap::new(),
            pools: BTreeMap::new(),
            opened_pools: Vec::new(),
            pool_ids: BTreeMap::new(),
            opened_pool_ids: Vec::new(),
            usage: LimitUsage::default(),
        }
    }

    /// Rebuilds the derived indexes after a snapshot was decoded.
    pub fn restore_indexes(&mut self) -> Result<(), WalletFault> {
        self.spendable = self
            .lots
            .values()
            .filter(|lot| lot.remaining > Decimal::ZERO && !lot.revoked)
            .map(Lot::spend_order_key)
            .collect();
        let mut totals = Balances {
            shortfall: self.shortfall,
            ..Balances::default()
        };
        let overflow = || WalletFault(format!("the lots of wallet {} overflow", self.header.id));
        for lot in self.lots.values() {
            let pocket = match lot.pocket {
                Pocket::Open => &mut totals.open,
                Pocket::Commerce => &mut totals.commerce,
            };
            *pocket = pocket.checked_add(lot.remaining).ok_or_else(overflow)?;
        }
        totals.total = totals.open.checked_add(totals.commerce).ok_or_else(overflow)?;
        self.totals = Some(totals);
        Ok(())
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub fn lot_count(&self) -> usize {
        self.lots.len()
    }

    pub fn lot(&self, id: LotId) -> Option<&Lot> {
        self.lots.get(&id)
    }

    /// Every lot the wallet ever had, in id order.
    pub fn lots(&self) -> impl Iterator<Item = &Lot> {
        self.lots.values()
    }

    /// What the wallet moved in its current periods (for its limits).
    pub fn limit_usage(&self) -> &LimitUsage {
        &self.usage
    }

    pub fn balances(&self) -> Balances {
        self.totals.unwrap_or_default()
    }

    /// Applies one stored event during recovery. Events must come in sequence order.
    pub fn replay(&mut self, event: &WalletEvent) -> Result<(), WalletFault> {
        if event.seq != self.next_seq {
            return Err(WalletFault(format!(
                "wallet {} replayed event {} where {} was next",
                self.header.id, event.seq, self.next_seq
            )));
        }
        for entry in &event.entries {
            self.apply_entry(entry)?;
        }
        for pooled in &event.pools {
            self.pools.insert(pooled.lot, pooled.conditions.clone());
        }
        for tag in &event.pool_ids {
            self.pool_ids.insert(tag.lot, tag.pool);
        }
        self.usage.record(event.at, &Moves::of(event));
        self.track_holds(event);
        self.next_seq += 1;
        Ok(())
    }

    /// Wraps entries a command produced (and already applied) into the next event.
    fn record(&mut self, at: i64, cause: Cause, entries: Vec<Entry>) -> WalletEvent {
        let event = WalletEvent {
            seq: self.next_seq,
            at,
            cause,
            entries,
            pools: std::mem::take(&mut self.opened_pools),
            pool_ids: std::mem::take(&mut self.opened_pool_ids),
        };
        self.usage.record(event.at, &Moves::of(&event));
        self.track_holds(&event);
        self.next_seq += 1;
        event
    }

    /// The one function that changes a wallet. Every value is computed with checked
    /// arithmetic and every invariant checked before anything changes, so an entry that
    /// would break one (a corrupt record, or a bug) is refused whole, never half applied,
    /// and never panics.
    fn apply_entry(&mut self, entry: &Entry) -> Result<(), WalletFault> {
        let fault = |what: &str| WalletFault(format!("{what}: {entry:?}"));
        if entry.amount < Decimal::ZERO {
            return Err(fault("entry with a negative amount"));
        }
        // The lot as it is (`None`: opened by this entry), and as it will be.
        let existing = self.lots.get(&entry.lot).copied();
        let mut lot = match entry.new_lot {
            Some(new_lot) => {
                if !entry.kind.is_credit() {
                    return Err(fault("only a credit opens a lot"));
                }
                if existing.is_some() {
                    return Err(fault("lot opened twice"));
                }
                Lot {
                    id: entry.lot,
                    pocket: new_lot.pocket,
                    amount: Decimal::ZERO,
                    remaining: Decimal::ZERO,
                    expired: Decimal::ZERO,
                    expires_at: new_lot.expires_at,
                    revoked: false,
                }
            }
            None => existing.ok_or_else(|| fault("entry names an unknown lot"))?,
        };
        let overflow = || fault("sum overflows");
        let add = |a: Decimal, b: Decimal| a.checked_add(b).ok_or_else(overflow);
        let sub = |a: Decimal, b: Decimal| a.checked_sub(b).ok_or_else(overflow);
        match entry.kind {
            EntryKind::Award
            | EntryKind::TransferIn
            | EntryKind::TopUp
            | EntryKind::PassRedemption
            | EntryKind::PayoutReturn
            | EntryKind::BillCredit => {
                lot.amount = add(lot.amount, entry.amount)?;
                lot.remaining = add(lot.remaining, entry.amount)?;
            }
            EntryKind::SpendReversal | EntryKind::HoldRelease => {
                if entry.new_lot.is_some() {
                    lot.amount = add(lot.amount, entry.amount)?;
                }
                lot.remaining = add(lot.remaining, entry.amount)?;
            }
            EntryKind::Spend
            | EntryKind::ShortfallSettlement
            | EntryKind::TransferOut
            | EntryKind::AwardReturn
            | EntryKind::Hold
            | EntryKind::Payout
            | EntryKind::BillPayment => lot.remaining = sub(lot.remaining, entry.amount)?,
            EntryKind::Expiration => {
                lot.remaining = sub(lot.remaining, entry.amount)?;
                lot.expired = add(lot.expired, entry.amount)?;
            }
            EntryKind::AwardReversal => {
                lot.remaining = sub(lot.remaining, entry.amount)?;
                lot.revoked = true;
            }
        }
        if lot.remaining < Decimal::ZERO {
            return Err(fault("lot overdrawn"));
        }
        let signed = entry.signed_amount();
        let mut totals = self.totals.unwrap_or_default();
        match lot.pocket {
            Pocket::Open => totals.open = add(totals.open, signed)?,
            Pocket::Commerce => totals.commerce = add(totals.commerce, signed)?,
        }
        totals.total = add(totals.total, signed)?;
        let shortfall = add(self.shortfall, entry.shortfall_change)?;
        if shortfall < Decimal::ZERO {
            return Err(fault("shortfall below zero"));
        }
        totals.shortfall = shortfall;
        // Checked: now change the wallet.
        if let Some(old) = existing {
            self.spendable.remove(&old.spend_order_key());
        }
        if entry.new_lot.is_some() {
            self.next_lot_id = self.next_lot_id.max(entry.lot.saturating_add(1));
        }
        if lot.remaining > Decimal::ZERO && !lot.revoked {
            self.spendable.insert(lot.spend_order_key());
        }
        self.lots.insert(entry.lot, lot);
        self.shortfall = shortfall;
        self.totals = Some(totals);
        Ok(())
    }

    fn push(&mut self, entries: &mut Vec<Entry>, entry: Entry) -> Result<(), WalletFault> {
        self.apply_entry(&entry)?;
        entries.push(entry);
        Ok(())
    }

    /// Settles the shortfall from `credited`, the value just credited to `lot` (never from
    /// value the lot already held).
    fn settle_shortfall_from(
        &mut self,
        entries: &mut Vec<Entry>,
        lot: LotId,
        credited: Decimal,
    ) -> Result<(), WalletFault> {
        let available = self.lots.get(&lot).map(|lot| lot.remaining).unwrap_or_default();
        let settled = self.shortfall.min(credited).min(available);
        if settled > Decimal::ZERO {
            let entry = Entry {
                kind: EntryKind::ShortfallSettlement,
                lot,
                amount: settled,
                new_lot: None,
                shortfall_change: -settled,
            };
            self.push(entries, entry)?;
        }
        Ok(())
    }

    /// Debits what remains of every lot whose expiry is at or before `now`.
    pub fn sweep_expired(&mut self, now: i64) -> Result<Option<WalletEvent>, WalletFault> {
        let due: Vec<LotId> = self
            .spendable
            .iter()
            .take_while(|(expires_at, _)| *expires_at <= now)
            .map(|(_, id)| *id)
            .collect();
        if due.is_empty() {
            return Ok(None);
        }
        let mut entries = Vec::with_capacity(due.len());
        for id in due {
            let remaining = self.lots.get(&id).map(|lot| lot.remaining).unwrap_or_default();
            let entry = Entry {
                kind: EntryKind::Expiration,
                lot: id,
                amount: remaining,
                new_lot: None,
                shortfall_change: Decimal::ZERO,
            };
            self.push(&mut entries, entry)?;
        }
        Ok(Some(self.record(now, Cause::Expiry, entries)))
    }

    /// Sum of every lot's remaining value, recomputed from scratch (for assertions).
    pub fn recomputed_total(&self) -> Decimal {
        self.lots
            .values()
            .fold(Decimal::ZERO, |sum, lot| sum.saturating_add(lot.remaining))
    }
}

mod holds;
mod limits;
mod pool_balances;
mod pools;
mod purchases;
mod returns;
mod transfers;
pub use holds::{HeldFunds, WalletBeforeHolds};
pub use limits::{
    LimitError, LimitHit, LimitKind, LimitPeriod, LimitRule, LimitUsage, Moves, WalletBeforeLimits, WalletLimits,
    LIMIT_NAME_CHARS_MAX, LIMIT_RULES_MAX,
};
pub use pool_balances::{ExpiringAmounts, PoolBalance, PoolTag, WalletBeforePoolIds, WalletEventBeforePoolIds};
pub use pools::{PooledLot, SaleScope, SpendScope, WalletBeforePools, WalletEventBeforePools};
pub use purchases::{AwardRoute, Posting};
pub use returns::{AwardTaken, ReturnEffects, ReturnTotals, TakeBack};

#[cfg(test)]
mod tests;
