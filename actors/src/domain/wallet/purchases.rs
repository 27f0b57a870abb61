//! A wallet's side of purchases: the spend (first) and the awards (then) of one purchase
//! as one event, instant discounts spent on it at once, and the exact reversal of a
//! purchase (less what its ad hoc returns did already).

use super::{
    AwardGrant, AwardLine, Cause, CommandError, Entry, EntryKind, LotDebit, LotId, NewLot, Pocket, PurchaseEffects,
    ReturnTotals, SpendRequest, Wallet, WalletEvent, WalletFault, WalletRejection,
};
use crate::domain::ids::PurchaseId;
use rust_decimal::Decimal;

impl Wallet {
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
        self.post_purchase_with(now, purchase, spend, awards, &[], balance_max)
    }

    /// As `post_purchase`, where `instant[i]` says award `i` is an instant discount: taken
    /// off the same purchase at once (its lot is spent on it in the same event; it settles
    /// no shortfall).
    pub fn post_purchase_with(
        &mut self,
        now: i64,
        purchase: PurchaseId,
        spend: Option<SpendRequest>,
        awards: &[AwardGrant],
        instant: &[bool],
        balance_max: Decimal,
    ) -> Result<(WalletEvent, PurchaseEffects), CommandError> {
        let is_instant = |index: usize| instant.get(index).copied().unwrap_or(false);
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
            .enumerate()
            .filter(|(index, _)| !is_instant(*index))
            .try_fold(available - spent, |sum, (_, grant)| sum.checked_add(grant.amount));
        // A wallet above the bound (the setting was lowered) may still shrink.
        if after.is_none_or(|after| after > balance_max && after > available) {
            return Err(CommandError::Rejected(WalletRejection::BalanceLimit));
        }
        let mut entries = Vec::new();
        let mut effects = PurchaseEffects::default();
        if let Some(request) = spend {
            effects.spends =
                self.debit_in_spend_order(now, request.amount.min(available), EntryKind::Spend, &mut entries)?;
        }
        for (index, grant) in awards
            .iter()
            .enumerate()
            .filter(|(_, grant)| grant.amount > Decimal::ZERO)
        {
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
            if is_instant(index) {
                let entry = Entry {
                    kind: EntryKind::Spend,
                    lot,
                    amount: grant.amount,
                    new_lot: None,
                    shortfall_change: Decimal::ZERO,
                };
                self.push(&mut entries, entry)?;
                effects.spends.push(LotDebit {
                    lot,
                    amount: grant.amount,
                });
            } else {
                self.settle_shortfall_from(&mut entries, lot, grant.amount)?;
            }
        }
        Ok((self.record(now, Cause::Purchase(purchase), entries), effects))
    }

    /// Debits `amount` from the spendable lots, soonest-expiring first, with entries of
    /// `kind`; the caller has checked that the lots hold it.
    pub(super) fn debit_in_spend_order(
        &mut self,
        now: i64,
        amount: Decimal,
        kind: EntryKind,
        entries: &mut Vec<Entry>,
    ) -> Result<Vec<LotDebit>, WalletFault> {
        let mut debits = Vec::new();
        let mut left = amount;
        while left > Decimal::ZERO {
            let Some(&(_, id)) = self.spendable.iter().find(|(at, _)| *at > now) else {
                return Err(WalletFault(format!(
                    "the lots hold {left} less than the debit of {amount}"
                )));
            };
            let take = self
                .lots
                .get(&id)
                .map(|lot| lot.remaining)
                .unwrap_or_default()
                .min(left);
            let entry = Entry {
                kind,
                lot: id,
                amount: take,
                new_lot: None,
                shortfall_change: Decimal::ZERO,
            };
            self.push(entries, entry)?;
            debits.push(LotDebit { lot: id, amount: take });
            left -= take;
        }
        Ok(debits)
    }

    /// Reverses a purchase exactly: revokes its award lots, restores its spend to the lots
    /// it used, less what its ad hoc returns (`prior`) already did. The caller makes sure
    /// a purchase is cancelled at most once. Refused, changing nothing, when the restored
    /// spend would take the balance above `balance_max`.
    pub fn cancel_purchase(
        &mut self,
        now: i64,
        purchase: PurchaseId,
        effects: &PurchaseEffects,
        prior: &ReturnTotals,
        balance_max: Decimal,
    ) -> Result<WalletEvent, CommandError> {
        let unknown = |lot: LotId| WalletFault(format!("purchase {purchase} names unknown lot {lot}"));
        // The spend each lot still has to get back.
        let restores: Vec<(LotId, Decimal)> = effects
            .spends
            .iter()
            .map(|debit| (debit.lot, debit.amount - prior.spend(debit.lot)))
            .collect();
        if restores.iter().any(|(_, amount)| *amount < Decimal::ZERO) {
            return Err(WalletFault(format!("purchase {purchase}: returns gave back more than its spend")).into());
        }
        let mut after = Some(self.balances().total);
        for award in &effects.awards {
            let lot = self.lots.get(&award.lot).ok_or_else(|| unknown(award.lot))?;
            let left = lot
                .award_left(prior.award(award.lot))
                .ok_or_else(|| unknown(award.lot))?;
            after = after.and_then(|sum| sum.checked_sub(lot.remaining.min(left)));
        }
        for (_, amount) in &restores {
            after = after.and_then(|sum| sum.checked_add(*amount));
        }
        if after.is_none_or(|after| after > balance_max && after > self.balances().total) {
            return Err(CommandError::Rejected(WalletRejection::BalanceLimit));
        }
        let mut entries = Vec::new();
        for award in &effects.awards {
            let lot = *self.lots.get(&award.lot).ok_or_else(|| unknown(award.lot))?;
            // Everything the lot holds goes; what is left to take back beyond it, the contact
            // used: shortfall. What it holds beyond that is spend given back to it since
            // (by this cancel's restores' turn or a return's): it moves to a new lot.
            let left = lot
                .award_left(prior.award(award.lot))
                .ok_or_else(|| unknown(award.lot))?;
            let entry = Entry {
                kind: EntryKind::AwardReversal,
                lot: award.lot,
                amount: lot.remaining,
                new_lot: None,
                shortfall_change: (left - lot.remaining).max(Decimal::ZERO),
            };
            self.push(&mut entries, entry)?;
            let kept = lot.remaining - left;
            if kept > Decimal::ZERO {
                let entry = Entry {
                    kind: EntryKind::SpendReversal,
                    lot: self.next_lot_id,
                    amount: kept,
                    new_lot: Some(NewLot {
                        pocket: lot.pocket,
                        expires_at: lot.expires_at,
                    }),
                    shortfall_change: Decimal::ZERO,
                };
                self.push(&mut entries, entry)?;
            }
        }
        for (lot, amount) in restores {
            if amount > Decimal::ZERO {
                self.give_back(&mut entries, lot, amount, EntryKind::SpendReversal)?;
            }
        }
        Ok(self.record(now, Cause::PurchaseCancelled(purchase), entries))
    }
}
