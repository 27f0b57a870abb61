//! Funds held for purchase estimates (D5: hold, then capture or release, with an expiry).
//!
//! A hold debits the lots in spend order (`Hold` entries), so the held value can be
//! neither spent nor expired meanwhile; the wallet remembers which lots gave what. The
//! estimate's purchase captures it (`HoldCaptured`: the purchase's spend is the held value,
//! from those lots, and what it does not need goes back); a rejection or the hold's expiry
//! releases it (`HoldReleased`): each part goes back to the lot it came from, or to a new
//! lot like it when that one was revoked, as a cancelled spend does. Holds are rebuilt from
//! the journal on replay (`track_holds`), and kept in snapshots.

use super::{Cause, CommandError, EntryKind, LotDebit, SaleScope, SpendScope, Wallet, WalletEvent, WalletFault};
use crate::domain::ids::{EstimateId, PurchaseId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Value held for one estimate, by the lot it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldFunds {
    pub lots: Vec<LotDebit>,
    pub expires_at: i64,
}

impl HeldFunds {
    pub fn amount(&self) -> Decimal {
        self.lots
            .iter()
            .fold(Decimal::ZERO, |sum, debit| sum.saturating_add(debit.amount))
    }
}

impl Wallet {
    /// Keeps `holds` in step with an event (live, or replayed).
    pub(super) fn track_holds(&mut self, event: &WalletEvent) {
        match event.cause {
            Cause::Hold { estimate, expires_at } => {
                let lots = event
                    .entries
                    .iter()
                    .filter(|entry| entry.kind == EntryKind::Hold)
                    .map(|entry| LotDebit {
                        lot: entry.lot,
                        amount: entry.amount,
                    })
                    .collect();
                self.holds.insert(estimate, HeldFunds { lots, expires_at });
            }
            Cause::HoldReleased(estimate) | Cause::HoldCaptured { estimate, .. } => {
                self.holds.remove(&estimate);
            }
            _ => {}
        }
    }

    pub fn hold(&self, estimate: EstimateId) -> Option<&HeldFunds> {
        self.holds.get(&estimate)
    }

    /// Everything held, for every estimate.
    pub fn held(&self) -> Decimal {
        self.holds
            .values()
            .fold(Decimal::ZERO, |sum, held| sum.saturating_add(held.amount()))
    }

    /// Holds `amount` for `estimate` until `expires_at`, from the lots the estimated sale
    /// meets, in spend order, as one event. The caller has swept first. Refused, changing
    /// nothing, when those lots do not cover it.
    pub fn place_hold(
        &mut self,
        now: i64,
        estimate: EstimateId,
        amount: Decimal,
        expires_at: i64,
        sale: SaleScope<'_>,
    ) -> Result<WalletEvent, CommandError> {
        if amount <= Decimal::ZERO || self.holds.contains_key(&estimate) {
            return Err(WalletFault(format!("a hold of {amount} for {estimate}")).into());
        }
        let mut entries = Vec::new();
        self.debit_within(now, amount, SpendScope::Sale(sale), EntryKind::Hold, &mut entries)?;
        Ok(self.record(now, Cause::Hold { estimate, expires_at }, entries))
    }

    /// Gives a hold back whole, as one event; `None` when there is no such hold.
    pub fn release_hold(&mut self, now: i64, estimate: EstimateId) -> Result<Option<WalletEvent>, WalletFault> {
        let Some(held) = self.holds.get(&estimate).cloned() else {
            return Ok(None);
        };
        let mut entries = Vec::new();
        for debit in &held.lots {
            self.give_back(&mut entries, debit.lot, debit.amount, EntryKind::HoldRelease)?;
        }
        Ok(Some(self.record(now, Cause::HoldReleased(estimate), entries)))
    }

    /// Releases every hold whose expiry is at or before `now`, one event each.
    pub fn release_expired_holds(&mut self, now: i64) -> Result<Vec<WalletEvent>, WalletFault> {
        let due: Vec<EstimateId> = self
            .holds
            .iter()
            .filter(|(_, held)| held.expires_at <= now)
            .map(|(estimate, _)| *estimate)
            .collect();
        let mut events = Vec::with_capacity(due.len());
        for estimate in due {
            events.extend(self.release_hold(now, estimate)?);
        }
        Ok(events)
    }

    /// The estimate's purchase takes `spend` of its hold (at most all of it): the first
    /// `spend` of the held lots, in the order they were held, become the purchase's spend;
    /// the rest goes back, in this one event. `None` when there is no such hold.
    pub fn capture_hold(
        &mut self,
        now: i64,
        estimate: EstimateId,
        purchase: PurchaseId,
        spend: Decimal,
    ) -> Result<Option<(WalletEvent, Vec<LotDebit>)>, WalletFault> {
        let Some(held) = self.holds.get(&estimate).cloned() else {
            return Ok(None);
        };
        let mut left = spend.max(Decimal::ZERO);
        let mut spent = Vec::new();
        let mut entries = Vec::new();
        for debit in &held.lots {
            let take = debit.amount.min(left);
            left -= take;
            if take > Decimal::ZERO {
                spent.push(LotDebit {
                    lot: debit.lot,
                    amount: take,
                });
            }
            let back = debit.amount - take;
            if back > Decimal::ZERO {
                self.give_back(&mut entries, debit.lot, back, EntryKind::HoldRelease)?;
            }
        }
        let event = self.record(now, Cause::HoldCaptured { estimate, purchase }, entries);
        Ok(Some((event, spent)))
    }
}

/// A wallet snapshot's layout before holds (a prefix of today's): it reads with none.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WalletBeforeHolds {
    header: super::WalletHeader,
    lots: std::collections::BTreeMap<super::LotId, super::Lot>,
    #[serde(with = "crate::domain::money::exact_decimal")]
    shortfall: Decimal,
    next_lot_id: super::LotId,
    next_seq: u64,
}

impl From<WalletBeforeHolds> for Wallet {
    fn from(old: WalletBeforeHolds) -> Wallet {
        Wallet {
            lots: old.lots,
            shortfall: old.shortfall,
            next_lot_id: old.next_lot_id,
            next_seq: old.next_seq,
            ..Wallet::open(old.header)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::OfferId;
    use crate::domain::wallet::{AwardGrant, SpendRequest, WalletRejection};

    const MAX: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

    fn funded(amounts: &[(i64, Option<i64>)]) -> (Wallet, WalletEvent) {
        let mut wallet = Wallet::for_tests();
        let grants: Vec<AwardGrant> = amounts
            .iter()
            .map(|(amount, expires_at)| AwardGrant {
                offer_id: OfferId::random(),
                amount: Decimal::from(*amount),
                expires_at: *expires_at,
            })
            .collect();
        let (event, _) = wallet
            .post_purchase(0, PurchaseId::random(), None, &grants, MAX)
            .unwrap();
        (wallet, event)
    }

    fn replayed(wallet: &Wallet, journal: &[WalletEvent]) -> Wallet {
        let mut again = Wallet::open(wallet.header.clone());
        for event in journal {
            again.replay(event).unwrap();
        }
        again
    }

    #[test]
    fn a_hold_takes_value_out_of_reach_and_its_capture_spends_exactly_what_was_held() {
        let (mut wallet, start) = funded(&[(5, Some(100)), (10, None)]);
        let mut journal = vec![start];
        let estimate = EstimateId::random();
        journal.push(
            wallet
                .place_hold(1, estimate, Decimal::from(8), 50, SaleScope::UNKNOWN)
                .unwrap(),
        );
        assert_eq!(
            (wallet.balances().total, wallet.held()),
            (Decimal::from(7), Decimal::from(8))
        );
        // The held value cannot be spent by another purchase, nor can more than is left.
        let spend = SpendRequest {
            amount: Decimal::from(8),
            restrict_fully_covered: true,
        };
        let refused = wallet.post_purchase(2, PurchaseId::random(), Some(spend), &[], MAX);
        assert!(matches!(
            refused,
            Err(CommandError::Rejected(WalletRejection::InsufficientFunds))
        ));
        // The soonest-expiring lot expires meanwhile: the held part of it is not lost.
        if let Some(event) = wallet.sweep_expired(100).unwrap() {
            journal.push(event);
        }
        let (event, spent) = wallet
            .capture_hold(101, estimate, PurchaseId::random(), Decimal::from(6))
            .unwrap()
            .unwrap();
        journal.push(event);
        let taken: Decimal = spent.iter().map(|debit| debit.amount).sum();
        assert_eq!(taken, Decimal::from(6));
        assert_eq!(
            spent[0].amount,
            Decimal::from(5),
            "the expiring lot first, as it was held"
        );
        // 2 of the hold came back to the open lot; nothing is held any more.
        assert_eq!(
            (wallet.balances().total, wallet.held()),
            (Decimal::from(9), Decimal::ZERO)
        );
        assert_eq!(replayed(&wallet, &journal), wallet);
    }

    #[test]
    fn an_expired_or_rejected_hold_goes_back_whole_and_replays() {
        let mut wallet = Wallet::for_tests();
        let grants = [AwardGrant {
            offer_id: OfferId::random(),
            amount: Decimal::from(10),
            expires_at: None,
        }];
        let (first, _) = wallet
            .post_purchase(0, PurchaseId::random(), None, &grants, MAX)
            .unwrap();
        let mut journal = vec![first];
        let (a, b) = (EstimateId::random(), EstimateId::random());
        journal.push(
            wallet
                .place_hold(1, a, Decimal::from(3), 50, SaleScope::UNKNOWN)
                .unwrap(),
        );
        journal.push(
            wallet
                .place_hold(1, b, Decimal::from(4), 500, SaleScope::UNKNOWN)
                .unwrap(),
        );
        assert!(matches!(
            wallet.place_hold(1, EstimateId::random(), Decimal::from(4), 50, SaleScope::UNKNOWN),
            Err(CommandError::Rejected(WalletRejection::InsufficientFunds))
        ));
        assert!(wallet.release_expired_holds(49).unwrap().is_empty());
        let released = wallet.release_expired_holds(50).unwrap();
        assert_eq!(released.len(), 1);
        journal.extend(released);
        assert_eq!(
            (wallet.balances().total, wallet.held()),
            (Decimal::from(6), Decimal::from(4))
        );
        journal.extend(wallet.release_hold(60, b).unwrap());
        assert!(wallet.release_hold(61, b).unwrap().is_none(), "once");
        assert_eq!(
            (wallet.balances().total, wallet.held()),
            (Decimal::from(10), Decimal::ZERO)
        );
        assert_eq!(replayed(&wallet, &journal), wallet);
    }

    #[test]
    fn snapshots_of_before_holds_read_with_none() {
        let (wallet, _) = funded(&[(5, None)]);
        let old = WalletBeforeHolds {
            header: wallet.header.clone(),
            lots: wallet.lots.clone(),
            shortfall: wallet.shortfall,
            next_lot_id: wallet.next_lot_id,
            next_seq: wallet.next_seq,
        };
        let bytes = crate::storage::codec::encode(&old);
        assert!(crate::storage::codec::decode::<Wallet>(&bytes).is_err());
        let mut read = Wallet::from(crate::storage::codec::decode::<WalletBeforeHolds>(&bytes).unwrap());
        read.restore_indexes().unwrap();
        assert_eq!(read, wallet);
        assert_eq!(read.balances(), wallet.balances());
    }
}
