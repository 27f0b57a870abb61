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

use super::ids::{ContactId, OfferId, PurchaseId, Tenant, WalletCode, WalletId};
use super::money::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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
    #[serde(with = "crate::storage::codec::decimal")]
    pub amount: Decimal,
    #[serde(with = "crate::storage::codec::decimal")]
    pub remaining: Decimal,
    /// The part of `amount` taken by expiry (not by the contact), so a revocation can tell
    /// spent value from expired value.
    #[serde(with = "crate::storage::codec::decimal")]
    pub expired: Decimal,
    pub expires_at: Option<i64>,
    pub revoked: bool,
}

impl Lot {
    fn spend_order_key(&self) -> (i64, LotId) {
        (self.expires_at.unwrap_or(i64::MAX), self.id)
    }

    /// Value that left this lot by the contact's doing: spends and shortfall settlements.
    fn consumed(&self) -> Option<Decimal> {
        self.amount.checked_sub(self.remaining)?.checked_sub(self.expired)
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
}

impl EntryKind {
    pub fn is_credit(&self) -> bool {
        matches!(self, EntryKind::Award | EntryKind::SpendReversal)
    }

    /// The journal's `transaction_type`.
    pub fn transaction_type(&self) -> &'static str {
        match self {
            EntryKind::Award => "AWARD",
            EntryKind::Spend => "SPEND",
            EntryKind::Expiration => "EXPIRATION",
            EntryKind::AwardReversal => "AWARD_REVERSAL",
            EntryKind::SpendReversal => "SPEND_REVERSAL",
            EntryKind::ShortfallSettlement => "SHORTFALL_SETTLEMENT",
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
    #[serde(with = "crate::storage::codec::decimal")]
    pub amount: Decimal,
    /// Set when this credit opens a new lot.
    pub new_lot: Option<NewLot>,
    /// Signed change of the wallet's shortfall this entry carries.
    #[serde(with = "crate::storage::codec::decimal")]
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
}

impl Cause {
    pub fn purchase(&self) -> Option<PurchaseId> {
        match self {
            Cause::Purchase(id) | Cause::PurchaseCancelled(id) => Some(*id),
            Cause::Expiry => None,
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
}

/// An award the rules granted for a purchase, before it becomes a lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardGrant {
    pub offer_id: OfferId,
    #[serde(with = "crate::storage::codec::decimal")]
    pub amount: Decimal,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendRequest {
    #[serde(with = "crate::storage::codec::decimal")]
    pub amount: Decimal,
    pub restrict_fully_covered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardLine {
    pub offer_id: OfferId,
    pub lot: LotId,
    #[serde(with = "crate::storage::codec::decimal")]
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotDebit {
    pub lot: LotId,
    #[serde(with = "crate::storage::codec::decimal")]
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
}

/// Business rejections of a wallet command (D8), in order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WalletRejection {
    /// `restrict_fully_covered` was set and the eligible balance is below the request.
    InsufficientFunds,
    /// The command would take the wallet's balance above `[money] wallet_balance_max`.
    BalanceLimit,
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
    #[serde(with = "crate::storage::codec::decimal")]
    pub total: Decimal,
    #[serde(with = "crate::storage::codec::decimal")]
    pub open: Decimal,
    #[serde(with = "crate::storage::codec::decimal")]
    pub commerce: Decimal,
    #[serde(with = "crate::storage::codec::decimal")]
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
    #[serde(with = "crate::storage::codec::decimal")]
    shortfall: Decimal,
    next_lot_id: LotId,
    /// Sequence number the next event gets; equals the number of events so far.
    next_seq: u64,
    /// Lots with value a spend may take, in spend order. Derived from `lots`, rebuilt on load.
    #[serde(skip)]
    spendable: BTreeSet<(i64, LotId)>,
    #[serde(skip)]
    totals: Option<Balances>,
}

impl PartialEq for Wallet {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header
            && self.lots == other.lots
            && self.shortfall == other.shortfall
            && self.next_lot_id == other.next_lot_id
            && self.next_seq == other.next_seq
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
        };
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
            EntryKind::Award => {
                lot.amount = add(lot.amount, entry.amount)?;
                lot.remaining = add(lot.remaining, entry.amount)?;
            }
            EntryKind::SpendReversal => {
                if entry.new_lot.is_some() {
                    lot.amount = add(lot.amount, entry.amount)?;
                }
                lot.remaining = add(lot.remaining, entry.amount)?;
            }
            EntryKind::Spend | EntryKind::ShortfallSettlement => lot.remaining = sub(lot.remaining, entry.amount)?,
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

    /// Sum of the lots a spend could take at `now`.
    pub fn spendable_at(&self, now: i64) -> Decimal {
        self.spendable
            .iter()
            .filter(|(expires_at, _)| *expires_at > now)
            .filter_map(|(_, id)| self.lots.get(id))
            .fold(Decimal::ZERO, |sum, lot| sum.saturating_add(lot.remaining))
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

    /// Spends (first) and awards (then) for one purchase, as one event. The caller has
    /// swept expired lots first. A purchase's own awards cannot pay for that purchase.
    /// Refused, changing nothing, when the spend is not covered (`restrict_fully_covered`)
    /// or the awards would take the balance above `balance_max`.
    pub fn post_purchase(
        &mut self,
        now: i64,
        purchase: PurchaseId,
        spend: Option<SpendRequest>,
        awards: &[AwardGrant],
        balance_max: Decimal,
    ) -> Result<(WalletEvent, PurchaseEffects), CommandError> {
        // After the sweep every lot with value is unexpired and unrevoked, so what a spend
        // can take is the whole balance (kept incrementally: no scan of the lots).
        debug_assert!(
            self.spendable.first().is_none_or(|(expires_at, _)| *expires_at > now),
            "sweep first"
        );
        let available = self.balances().total;
        debug_assert_eq!(available, self.spendable_at(now));
        if let Some(request) = spend {
            if request.restrict_fully_covered && available < request.amount {
                return Err(CommandError::Rejected(WalletRejection::InsufficientFunds));
            }
        }
        let spent = spend.map_or(Decimal::ZERO, |request| request.amount.min(available));
        let after = awards
            .iter()
            .try_fold(available - spent, |sum, grant| sum.checked_add(grant.amount));
        // A wallet above the bound (the setting was lowered) may still shrink.
        if after.is_none_or(|after| after > balance_max && after > available) {
            return Err(CommandError::Rejected(WalletRejection::BalanceLimit));
        }
        let mut entries = Vec::new();
        let mut effects = PurchaseEffects::default();
        if let Some(request) = spend {
            let mut left = request.amount.min(available);
            while left > Decimal::ZERO {
                let Some(&(expires_at, id)) = self.spendable.iter().find(|(at, _)| *at > now) else {
                    break;
                };
                debug_assert!(expires_at > now);
                let take = self
                    .lots
                    .get(&id)
                    .map(|lot| lot.remaining)
                    .unwrap_or_default()
                    .min(left);
                let entry = Entry {
                    kind: EntryKind::Spend,
                    lot: id,
                    amount: take,
                    new_lot: None,
                    shortfall_change: Decimal::ZERO,
                };
                self.push(&mut entries, entry)?;
                effects.spends.push(LotDebit { lot: id, amount: take });
                left -= take;
            }
        }
        for grant in awards.iter().filter(|grant| grant.amount > Decimal::ZERO) {
            let lot = self.next_lot_id;
            let entry = Entry {
                kind: EntryKind::Award,
                lot,
                amount: grant.amount,
                new_lot: Some(NewLot {
                    pocket: Pocket::Commerce,
                    expires_at: grant.expires_at,
                }),
                shortfall_change: Decimal::ZERO,
            };
            self.push(&mut entries, entry)?;
            effects.awards.push(AwardLine {
                offer_id: grant.offer_id,
                lot,
                amount: grant.amount,
            });
            self.settle_shortfall_from(&mut entries, lot, grant.amount)?;
        }
        Ok((self.record(now, Cause::Purchase(purchase), entries), effects))
    }

    /// Reverses a purchase exactly: revokes its award lots, restores its spend to the lots
    /// it used. The caller makes sure a purchase is cancelled at most once. Refused,
    /// changing nothing, when the restored spend would take the balance above `balance_max`.
    pub fn cancel_purchase(
        &mut self,
        now: i64,
        purchase: PurchaseId,
        effects: &PurchaseEffects,
        balance_max: Decimal,
    ) -> Result<WalletEvent, CommandError> {
        let unknown = |lot: LotId| WalletFault(format!("purchase {purchase} names unknown lot {lot}"));
        let mut after = Some(self.balances().total);
        for award in &effects.awards {
            let lot = self.lots.get(&award.lot).ok_or_else(|| unknown(award.lot))?;
            after = after.and_then(|sum| sum.checked_sub(lot.remaining));
        }
        for debit in &effects.spends {
            after = after.and_then(|sum| sum.checked_add(debit.amount));
        }
        if after.is_none_or(|after| after > balance_max && after > self.balances().total) {
            return Err(CommandError::Rejected(WalletRejection::BalanceLimit));
        }
        let mut entries = Vec::new();
        for award in &effects.awards {
            let lot = self.lots.get(&award.lot).ok_or_else(|| unknown(award.lot))?;
            let entry = Entry {
                kind: EntryKind::AwardReversal,
                lot: award.lot,
                amount: lot.remaining,
                new_lot: None,
                shortfall_change: lot.consumed().ok_or_else(|| unknown(award.lot))?,
            };
            self.push(&mut entries, entry)?;
        }
        for debit in &effects.spends {
            let lot = self.lots.get(&debit.lot).ok_or_else(|| unknown(debit.lot))?;
            let (target, new_lot) = if lot.revoked {
                let target = self.next_lot_id;
                (
                    target,
                    Some(NewLot {
                        pocket: lot.pocket,
                        expires_at: lot.expires_at,
                    }),
                )
            } else {
                (debit.lot, None)
            };
            let entry = Entry {
                kind: EntryKind::SpendReversal,
                lot: target,
                amount: debit.amount,
                new_lot,
                shortfall_change: Decimal::ZERO,
            };
            self.push(&mut entries, entry)?;
            self.settle_shortfall_from(&mut entries, target, debit.amount)?;
        }
        Ok(self.record(now, Cause::PurchaseCancelled(purchase), entries))
    }

    /// Sum of every lot's remaining value, recomputed from scratch (for assertions).
    pub fn recomputed_total(&self) -> Decimal {
        self.lots
            .values()
            .fold(Decimal::ZERO, |sum, lot| sum.saturating_add(lot.remaining))
    }
}

#[cfg(test)]
impl Wallet {
    /// A new EUR wallet of a new live organisation.
    pub(crate) fn for_tests() -> Wallet {
        use crate::domain::ids::{Mode, OrganisationId};
        Wallet::open(WalletHeader {
            id: WalletId::random(),
            tenant: Tenant {
                organisation: OrganisationId::random(),
                mode: Mode::Live,
            },
            contact_id: ContactId::random(),
            code: WalletCode::random(),
            currency: Currency::parse("EUR").unwrap(),
            created_on: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    const MAX: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

    fn wallet() -> Wallet {
        Wallet::for_tests()
    }

    fn award(amount: &str, expires_at: Option<i64>) -> AwardGrant {
        AwardGrant {
            offer_id: OfferId::random(),
            amount: d(amount),
            expires_at,
        }
    }

    fn spend(amount: &str, restrict: bool) -> Option<SpendRequest> {
        Some(SpendRequest {
            amount: d(amount),
            restrict_fully_covered: restrict,
        })
    }

    struct Ledger {
        wallet: Wallet,
        journal: Vec<WalletEvent>,
    }

    impl Ledger {
        fn new() -> Self {
            Ledger {
                wallet: wallet(),
                journal: Vec::new(),
            }
        }
        fn purchase(
            &mut self,
            now: i64,
            spend: Option<SpendRequest>,
            awards: &[AwardGrant],
        ) -> Result<PurchaseEffects, WalletRejection> {
            if let Some(event) = self.wallet.sweep_expired(now).unwrap() {
                self.journal.push(event);
            }
            let (event, effects) = self
                .wallet
                .post_purchase(now, PurchaseId::random(), spend, awards, MAX)
                .map_err(|error| match error {
                    CommandError::Rejected(rejection) => rejection,
                    CommandError::Fault(fault) => panic!("{fault}"),
                })?;
            self.journal.push(event);
            self.check();
            Ok(effects)
        }
        fn cancel(&mut self, now: i64, effects: &PurchaseEffects) {
            let event = self
                .wallet
                .cancel_purchase(now, PurchaseId::random(), effects, MAX)
                .unwrap();
            self.journal.push(event);
            self.check();
        }
        fn check(&self) {
            let journal_sum: Decimal = self
                .journal
                .iter()
                .flat_map(|e| &e.entries)
                .map(Entry::signed_amount)
                .sum();
            assert_eq!(self.wallet.balances().total, journal_sum);
            assert_eq!(self.wallet.recomputed_total(), journal_sum);
            let mut replayed = Wallet::open(self.wallet.header.clone());
            for event in &self.journal {
                replayed.replay(event).unwrap();
            }
            assert_eq!(replayed, self.wallet);
            assert_eq!(replayed.balances(), self.wallet.balances());
        }
    }

    #[test]
    fn a_spend_takes_the_soonest_expiring_lot_first() {
        let mut ledger = Ledger::new();
        ledger
            .purchase(0, None, &[award("5", None), award("5", Some(100))])
            .unwrap();
        let effects = ledger.purchase(1, spend("3", false), &[]).unwrap();
        assert_eq!(effects.spends, vec![LotDebit { lot: 2, amount: d("3") }]);
    }

    #[test]
    fn a_fully_covered_spend_is_rejected_without_changing_anything() {
        let mut ledger = Ledger::new();
        ledger.purchase(0, None, &[award("2", None)]).unwrap();
        let before = ledger.wallet.clone();
        assert_eq!(
            ledger.purchase(1, spend("5", true), &[award("1", None)]),
            Err(WalletRejection::InsufficientFunds)
        );
        assert_eq!(ledger.wallet, before);
        let partial = ledger.purchase(1, spend("5", false), &[]).unwrap();
        assert_eq!(partial.spent(), d("2"));
        assert_eq!(ledger.wallet.balances().total, Decimal::ZERO);
    }

    #[test]
    fn expired_lots_are_debited_and_no_longer_spendable() {
        let mut ledger = Ledger::new();
        ledger.purchase(0, None, &[award("4", Some(10))]).unwrap();
        let effects = ledger.purchase(10, spend("1", false), &[]).unwrap();
        assert_eq!(effects.spent(), Decimal::ZERO);
        assert_eq!(ledger.journal[1].cause, Cause::Expiry);
        assert_eq!(ledger.wallet.balances().total, Decimal::ZERO);
    }

    #[test]
    fn cancelling_a_partly_spent_award_records_the_spent_part_as_shortfall() {
        let mut ledger = Ledger::new();
        let first = ledger.purchase(0, None, &[award("10", None)]).unwrap();
        ledger.purchase(1, spend("4", false), &[]).unwrap();
        ledger.cancel(2, &first);
        let balances = ledger.wallet.balances();
        assert_eq!(balances.total, Decimal::ZERO);
        assert_eq!(balances.shortfall, d("4"));
        // The next award settles the shortfall first.
        ledger.purchase(3, None, &[award("6", None)]).unwrap();
        let balances = ledger.wallet.balances();
        assert_eq!((balances.total, balances.shortfall), (d("2"), Decimal::ZERO));
    }

    #[test]
    fn cancelling_the_spend_of_a_revoked_award_clears_the_shortfall() {
        let mut ledger = Ledger::new();
        let award_purchase = ledger.purchase(0, None, &[award("10", None)]).unwrap();
        let spend_purchase = ledger.purchase(1, spend("4", false), &[]).unwrap();
        ledger.cancel(2, &award_purchase);
        ledger.cancel(3, &spend_purchase);
        let balances = ledger.wallet.balances();
        assert_eq!((balances.total, balances.shortfall), (Decimal::ZERO, Decimal::ZERO));
    }

    #[test]
    fn a_restored_spend_settles_no_more_shortfall_than_it_gives_back() {
        let mut ledger = Ledger::new();
        ledger.purchase(0, None, &[award("3", Some(50))]).unwrap(); // lot 1
        let doomed = ledger.purchase(0, None, &[award("5", Some(40))]).unwrap(); // lot 2
        ledger.purchase(1, spend("5", false), &[]).unwrap(); // all of lot 2 (expires first)
        let small = ledger.purchase(1, spend("2", false), &[]).unwrap(); // lot 1 keeps 1
        ledger.cancel(2, &doomed); // lot 2 revoked: shortfall 5
        assert_eq!(ledger.wallet.balances().shortfall, d("5"));
        // The 2 given back to lot 1 settle 2 of the shortfall; the 1 lot 1 already held stays.
        ledger.cancel(3, &small);
        let balances = ledger.wallet.balances();
        assert_eq!((balances.total, balances.shortfall), (d("1"), d("3")));
    }

    #[test]
    fn cancelling_a_spend_restores_exactly_the_lots_it_used() {
        let mut ledger = Ledger::new();
        ledger
            .purchase(0, None, &[award("3", Some(50)), award("3", Some(40))])
            .unwrap();
        let before: Vec<Lot> = [1, 2]
            .iter()
            .map(|id| ledger.wallet.lot(*id).unwrap().clone())
            .collect();
        let spent = ledger.purchase(1, spend("4", false), &[]).unwrap();
        assert_eq!(spent.spends.len(), 2);
        ledger.cancel(2, &spent);
        let after: Vec<Lot> = [1, 2]
            .iter()
            .map(|id| ledger.wallet.lot(*id).unwrap().clone())
            .collect();
        assert_eq!(before, after);
    }

    /// Commands over the whole allowed range (amounts from one cent to `amount_max`, many
    /// of them at the bound, against the default `wallet_balance_max`): every command is
    /// applied or refused whole, and the balance equals the sum of the journal, exactly,
    /// after every step; replaying the journal gives the same wallet.
    mod over_the_allowed_range {
        use super::*;
        use crate::domain::money::MoneyLimits;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Step {
            Purchase {
                spend: Option<(Decimal, bool)>,
                awards: Vec<(Decimal, Option<i64>)>,
            },
            Cancel(usize),
            Advance(i64),
        }

        fn amount() -> impl Strategy<Value = Decimal> {
            let max_cents = MoneyLimits::default().amount_max * Decimal::ONE_HUNDRED;
            let max_cents = i64::try_from(max_cents.mantissa()).unwrap();
            prop_oneof![
                (1i64..=max_cents).prop_map(|cents| Decimal::new(cents, 2)),
                (1i64..=10_000).prop_map(|cents| Decimal::new(cents, 2)),
                Just(MoneyLimits::default().amount_max),
            ]
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                4 => (
                    proptest::option::of((amount(), any::<bool>())),
                    proptest::collection::vec((amount(), proptest::option::of(1i64..100)), 0..4),
                )
                    .prop_map(|(spend, awards)| Step::Purchase { spend, awards }),
                1 => (0usize..64).prop_map(Step::Cancel),
                1 => (1i64..50).prop_map(Step::Advance),
            ]
        }

        fn journal_sum(journal: &[WalletEvent]) -> Decimal {
            journal
                .iter()
                .flat_map(|event| &event.entries)
                .fold(Decimal::ZERO, |sum, entry| {
                    sum.checked_add(entry.signed_amount()).unwrap()
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn balance_equals_journal_or_the_command_is_refused(
                steps in proptest::collection::vec(step(), 1..120),
                // The default bound, and bounds a few awards at amount_max reach.
                balance_max in prop_oneof![
                    Just(MoneyLimits::default().wallet_balance_max),
                    Just(Decimal::from(3_000_000_000_000u64)),
                    Just(Decimal::from(10_000_000_000_000u64)),
                ],
            ) {
                let limits = MoneyLimits { wallet_balance_max: balance_max, ..MoneyLimits::default() };
                let mut wallet = wallet();
                let mut journal: Vec<WalletEvent> = Vec::new();
                let mut posted: Vec<PurchaseEffects> = Vec::new();
                let mut cancelled = std::collections::HashSet::new();
                let mut now = 0i64;
                for step in steps {
                    if let Some(event) = wallet.sweep_expired(now).unwrap() {
                        journal.push(event);
                    }
                    let before = wallet.clone();
                    match step {
                        Step::Purchase { spend, awards } => {
                            let spend = spend.map(|(amount, restrict_fully_covered)| SpendRequest { amount, restrict_fully_covered });
                            let grants: Vec<AwardGrant> = awards
                                .into_iter()
                                .map(|(amount, days)| AwardGrant { offer_id: OfferId::random(), amount, expires_at: days.map(|d| now + d) })
                                .collect();
                            match wallet.post_purchase(now, PurchaseId::random(), spend, &grants, limits.wallet_balance_max) {
                                Ok((event, effects)) => {
                                    journal.push(event);
                                    posted.push(effects);
                                }
                                Err(CommandError::Rejected(_)) => prop_assert_eq!(&wallet, &before, "a refused purchase changed the wallet"),
                                Err(CommandError::Fault(fault)) => prop_assert!(false, "fault: {}", fault),
                            }
                        }
                        Step::Cancel(index) => {
                            if posted.is_empty() || !cancelled.insert(index % posted.len()) {
                                continue;
                            }
                            let effects = posted[index % posted.len()].clone();
                            match wallet.cancel_purchase(now, PurchaseId::random(), &effects, limits.wallet_balance_max) {
                                Ok(event) => journal.push(event),
                                Err(CommandError::Rejected(_)) => {
                                    prop_assert_eq!(&wallet, &before, "a refused cancel changed the wallet");
                                    cancelled.remove(&(index % posted.len()));
                                }
                                Err(CommandError::Fault(fault)) => prop_assert!(false, "fault: {}", fault),
                            }
                        }
                        Step::Advance(seconds) => now += seconds,
                    }
                    let balances = wallet.balances();
                    prop_assert_eq!(balances.total, journal_sum(&journal));
                    prop_assert_eq!(balances.total, wallet.recomputed_total());
                    prop_assert!(balances.total <= limits.wallet_balance_max);
                    prop_assert!(balances.total >= Decimal::ZERO && balances.shortfall >= Decimal::ZERO);
                }
                let mut replayed = Wallet::open(wallet.header.clone());
                for event in &journal {
                    replayed.replay(event).unwrap();
                }
                prop_assert_eq!(&replayed, &wallet);
            }
        }
    }

    #[test]
    fn entries_that_would_overflow_are_refused_whole_not_panicked_on() {
        let mut wallet = wallet();
        let huge = Decimal::MAX - Decimal::ONE;
        let opened = Entry {
            kind: EntryKind::Award,
            lot: 1,
            amount: huge,
            new_lot: Some(NewLot {
                pocket: Pocket::Commerce,
                expires_at: None,
            }),
            shortfall_change: Decimal::ZERO,
        };
        wallet.apply_entry(&opened).unwrap();
        let before = wallet.clone();
        let more = Entry {
            lot: 2,
            amount: Decimal::TEN,
            ..opened.clone()
        };
        assert!(wallet.apply_entry(&more).is_err(), "the total would overflow");
        assert_eq!(wallet, before);
        assert_eq!(wallet.balances().total, huge);
        let overdraw = Entry {
            kind: EntryKind::Spend,
            lot: 1,
            amount: Decimal::MAX,
            new_lot: None,
            shortfall_change: Decimal::ZERO,
        };
        assert!(wallet.apply_entry(&overdraw).is_err());
        assert_eq!(wallet, before);
        let unknown = Entry { lot: 99, ..overdraw };
        assert!(wallet.apply_entry(&unknown).is_err());
        // A purchase past the bound is a rejection, not a fault.
        let mut small = Wallet::for_tests();
        let grant = AwardGrant {
            offer_id: OfferId::random(),
            amount: MAX,
            expires_at: None,
        };
        small
            .post_purchase(0, PurchaseId::random(), None, &[grant.clone()], MAX)
            .unwrap();
        assert_eq!(
            small
                .post_purchase(0, PurchaseId::random(), None, &[grant], MAX)
                .unwrap_err(),
            CommandError::Rejected(WalletRejection::BalanceLimit)
        );
    }
}
