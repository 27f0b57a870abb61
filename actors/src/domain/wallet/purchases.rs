//! A wallet's side of purchases: the spend (first) and the awards (then) of one purchase
//! as one event, instant discounts spent on it at once, and the exact reversal of a
//! purchase (less what its ad hoc returns did already).

use super::pools::planned;
use super::{
    AwardGrant, AwardLine, Cause, CommandError, Entry, EntryKind, LotDebit, LotId, NewLot, Pocket, PurchaseEffects,
    ReturnTotals, SaleScope, SpendRequest, SpendScope, Wallet, WalletEvent, WalletFault, WalletRejection,
};
use crate::domain::ids::{CommercePoolId, PurchaseId};
use crate::domain::offer::SpendConditions;
use rust_decimal::Decimal;
use std::sync::Arc;

/// Where an award is credited.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AwardRoute {
    /// The wallet's commerce money, spendable anywhere.
    #[default]
    Wallet,
    /// The commerce money, spendable only as the conditions say (a commerce pool: named
    /// `pool`, or an offer's own conditions).
    Pool {
        conditions: Arc<SpendConditions>,
        pool: Option<CommercePoolId>,
    },
    /// Taken off the same purchase at once.
    Instant,
}

/// A purchase for the wallet to post: its spend, within what the sale allows, and its
/// awards with the route of each (`routes[i]` for `awards[i]`; missing routes: the wallet).
#[derive(Debug, Clone, Copy)]
pub struct Posting<'a> {
    pub purchase: PurchaseId,
    pub spend: Option<SpendRequest>,
    pub sale: SaleScope<'a>,
    pub awards: &'a [AwardGrant],
    pub routes: &'a [AwardRoute],
}

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
        let posting = Posting {
            purchase,
            spend,
            sale: SaleScope::UNKNOWN,
            awards,
            routes: &[],
        };
        self.post_purchase_with(now, posting, balance_max)
    }

    /// As `post_purchase`, spending only the lots the sale meets (`SpendScope::Sale`) and
    /// crediting each award where its route says: an instant discount is taken off the same
    /// purchase at once (its lot is spent on it in the same event; it settles no
    /// shortfall), a pooled award opens a lot carrying its conditions.
    pub fn post_purchase_with(
        &mut self,
        now: i64,
        posting: Posting<'_>,
        balance_max: Decimal,
    ) -> Result<(WalletEvent, PurchaseEffects), CommandError> {
        let Posting {
            purchase,
            spend,
            sale,
            awards,
            routes,
        } = posting;
        let route = |index: usize| routes.get(index).unwrap_or(&AwardRoute::Wallet);
        // After the sweep every lot with value is unexpired and unrevoked.
        debug_assert!(
            self.spendable.first().is_none_or(|(expires_at, _)| *expires_at > now),
            "sweep first"
        );
        let available = self.balances().total;
        // The lots the spend takes: only those the sale meets, so the plan says what it covers.
        let plan = match spend {
            Some(request) => self.spend_plan(now, request.amount, SpendScope::Sale(sale)),
            None => Vec::new(),
        };
        let spent = planned(&plan);
        if let Some(request) = spend {
            if request.restrict_fully_covered && spent < request.amount {
                return Err(CommandError::Rejected(WalletRejection::InsufficientFunds));
            }
        }
        let after = awards
            .iter()
            .enumerate()
            .filter(|(index, _)| *route(*index) != AwardRoute::Instant)
            .try_fold(available - spent, |sum, (_, grant)| sum.checked_add(grant.amount));
        // A wallet above the bound (the setting was lowered) may still shrink.
        if after.is_none_or(|after| after > balance_max && after > available) {
            return Err(CommandError::Rejected(WalletRejection::BalanceLimit));
        }
        let mut entries = Vec::new();
        let mut effects = PurchaseEffects::default();
        if spend.is_some() {
            effects.spends = self.debit_plan(plan, EntryKind::Spend, &mut entries)?;
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
            match route(index) {
                AwardRoute::Instant => {
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
                }
                AwardRoute::Pool { conditions, pool } => {
                    self.pool(lot, conditions.clone(), *pool);
                    self.settle_shortfall_from(&mut entries, lot, grant.amount)?;
                }
                AwardRoute::Wallet => self.settle_shortfall_from(&mut entries, lot, grant.amount)?,
            }
        }
        Ok((self.record(now, Cause::Purchase(purchase), entries), effects))
    }

    /// Debits `amount` from the lots `scope` allows, soonest-expiring first, with entries
    /// of `kind`; refused, changing nothing, when those lots hold less.
    pub(super) fn debit_within(
        &mut self,
        now: i64,
        amount: Decimal,
        scope: SpendScope<'_>,
        kind: EntryKind,
        entries: &mut Vec<Entry>,
    ) -> Result<Vec<LotDebit>, CommandError> {
        let plan = self.spend_plan(now, amount, scope);
        if planned(&plan) < amount {
            return Err(CommandError::Rejected(WalletRejection::InsufficientFunds));
        }
        Ok(self.debit_plan(plan, kind, entries)?)
    }

    /// Debits each lot of `plan` (from `spend_plan`) with an entry of `kind`.
    pub(super) fn debit_plan(
        &mut self,
        plan: Vec<LotDebit>,
        kind: EntryKind,
        entries: &mut Vec<Entry>,
    ) -> Result<Vec<LotDebit>, WalletFault> {
        for debit in &plan {
            let entry = Entry {
                kind,
                lot: debit.lot,
                amount: debit.amount,
                new_lot: None,
                shortfall_change: Decimal::ZERO,
            };
            self.push(entries, entry)?;
        }
        Ok(plan)
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
                let moved = self.next_lot_id;
                let entry = Entry {
                    kind: EntryKind::SpendReversal,
                    lot: moved,
                    amount: kept,
                    new_lot: Some(NewLot {
                        pocket: lot.pocket,
                        expires_at: lot.expires_at,
                    }),
                    shortfall_change: Decimal::ZERO,
                };
                self.push(&mut entries, entry)?;
                self.pool_like(moved, award.lot);
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
