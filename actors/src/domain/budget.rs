//! An offer's budget: the most the offer awards in all. Purchases reserve from it before
//! their awards are committed (holds), and settle what they used in the same commit as the
//! purchase (through the outbox). A hold is never older than `HOLD_S` when its purchase
//! commits (the wallet refuses an older grant), so a hold past it is resolved from the store:
//! the purchase was committed, or never will be.
//!
//! The budget's total is the offer's (`caps.budget`, as it is now); this state keeps what was
//! used and what is held.

use super::ids::PurchaseId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How long a hold stands before it is resolved from the store.
pub const HOLD_S: i64 = 60;
/// The oldest grant a wallet still uses (half of `HOLD_S`: the rest is the margin for the
/// purchase's commit to become durable).
pub const GRANT_USABLE_S: i64 = HOLD_S / 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub purchase: PurchaseId,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    pub reserved_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetState {
    /// Awarded from the budget, net of cancellations.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub used: Decimal,
    pub holds: Vec<Hold>,
}

impl BudgetState {
    pub fn held(&self) -> Decimal {
        self.holds
            .iter()
            .fold(Decimal::ZERO, |sum, hold| sum.saturating_add(hold.amount))
    }

    /// What is neither used nor held, of `total`.
    pub fn left(&self, total: Decimal) -> Decimal {
        total
            .saturating_sub(self.used)
            .saturating_sub(self.held())
            .max(Decimal::ZERO)
    }

    pub fn hold(&self, purchase: PurchaseId) -> Option<&Hold> {
        self.holds.iter().find(|hold| hold.purchase == purchase)
    }

    /// Holds `wanted` (or what is left) for `purchase`; a purchase that holds already gets
    /// its hold again (a retry). Returns the hold.
    pub fn reserve(&mut self, purchase: PurchaseId, wanted: Decimal, total: Decimal, now: i64) -> Hold {
        if let Some(hold) = self.hold(purchase) {
            return *hold;
        }
        let hold = Hold {
            purchase,
            amount: wanted.max(Decimal::ZERO).min(self.left(total)),
            reserved_at: now,
        };
        if hold.amount > Decimal::ZERO {
            self.holds.push(hold);
        }
        hold
    }

    /// The purchase committed having awarded `used` from the budget: its hold (if any) ends.
    pub fn settle(&mut self, purchase: PurchaseId, used: Decimal) {
        self.release(purchase);
        self.used = self.used.saturating_add(used.max(Decimal::ZERO));
    }

    /// The purchase did not use its hold.
    pub fn release(&mut self, purchase: PurchaseId) -> bool {
        let before = self.holds.len();
        self.holds.retain(|hold| hold.purchase != purchase);
        self.holds.len() != before
    }

    /// A cancelled purchase gives back what it awarded.
    pub fn refund(&mut self, amount: Decimal) {
        self.used = self.used.saturating_sub(amount.max(Decimal::ZERO)).max(Decimal::ZERO);
    }

    /// Holds old enough to be resolved from the store.
    pub fn stale(&self, now: i64) -> Vec<PurchaseId> {
        self.holds
            .iter()
            .filter(|hold| now.saturating_sub(hold.reserved_at) >= HOLD_S)
            .map(|hold| hold.purchase)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_never_exceed_the_total_and_settle_or_release() {
        let total = Decimal::TEN;
        let mut budget = BudgetState::default();
        let (a, b, c) = (PurchaseId::random(), PurchaseId::random(), PurchaseId::random());
        assert_eq!(budget.reserve(a, Decimal::from(6), total, 0).amount, Decimal::from(6));
        assert_eq!(budget.reserve(b, Decimal::from(6), total, 0).amount, Decimal::from(4));
        assert_eq!(budget.reserve(c, Decimal::ONE, total, 0).amount, Decimal::ZERO);
        assert_eq!(
            budget.reserve(a, Decimal::ONE, total, 5).amount,
            Decimal::from(6),
            "a retry"
        );
        budget.settle(a, Decimal::from(5));
        assert_eq!((budget.used, budget.left(total)), (Decimal::from(5), Decimal::ONE));
        assert!(budget.release(b));
        assert_eq!(budget.left(total), Decimal::from(5));
        budget.refund(Decimal::from(2));
        assert_eq!(budget.left(total), Decimal::from(7));
        // A lowered total leaves nothing, never less than nothing.
        assert_eq!(budget.left(Decimal::ONE), Decimal::ZERO);
        let d = PurchaseId::random();
        budget.reserve(d, Decimal::ONE, total, 100);
        assert!(budget.stale(100 + HOLD_S - 1).is_empty());
        assert_eq!(budget.stale(100 + HOLD_S), vec![d]);
    }
}
