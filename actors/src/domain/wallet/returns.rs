//! A wallet's side of ad hoc returns: part of a purchase's awards taken back and part of
//! its spend given back, as one event, exact to the lot.
//!
//! A return takes award value from the very lots the purchase opened, never more over all
//! returns and a cancel than the lot was awarded less what expired of it: what a lot still
//! holds is debited; value of it the contact already used (spent, or used to settle a
//! shortfall) becomes shortfall; value that expired is gone and taken by nobody. Spend
//! given back goes to the lots the spend came from, last taken first, each never above
//! what was taken from it. A cancel after returns reverses only what the returns left
//! ([`ReturnTotals`]), so returns and a cancel together reverse the purchase exactly once.

use super::{
    Cause, CommandError, Entry, EntryKind, LotDebit, LotId, NewLot, PurchaseEffects, Wallet, WalletEvent, WalletFault,
    WalletRejection,
};
use crate::domain::ids::PurchaseId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a return took from one award lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardTaken {
    pub lot: LotId,
    /// Debited from the lot.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub debited: Decimal,
    /// Already used by the contact: added to the wallet's shortfall.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub shortfall: Decimal,
}

/// What one return did to the wallet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReturnEffects {
    pub awards: Vec<AwardTaken>,
    /// Spend given back, by the lot it was taken from (given to a new lot when that one
    /// had been revoked).
    pub spends: Vec<LotDebit>,
}

impl ReturnEffects {
    /// Award value the return took from the contact: debited plus owed.
    pub fn taken(&self) -> Decimal {
        self.awards.iter().fold(Decimal::ZERO, |sum, award| {
            sum.saturating_add(award.debited).saturating_add(award.shortfall)
        })
    }

    pub fn given_back(&self) -> Decimal {
        self.spends
            .iter()
            .fold(Decimal::ZERO, |sum, debit| sum.saturating_add(debit.amount))
    }
}

/// What a purchase's returns so far did, per lot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnTotals {
    /// Award lot → (debited, made shortfall).
    awards: BTreeMap<LotId, (Decimal, Decimal)>,
    /// Spend lot → given back.
    spends: BTreeMap<LotId, Decimal>,
}

impl ReturnTotals {
    pub fn of<'a>(returns: impl IntoIterator<Item = &'a ReturnEffects>) -> Result<ReturnTotals, WalletFault> {
        let overflow = || WalletFault("a purchase's returns overflow".into());
        let mut totals = ReturnTotals::default();
        for effects in returns {
            for award in &effects.awards {
                let slot = totals.awards.entry(award.lot).or_default();
                slot.0 = slot.0.checked_add(award.debited).ok_or_else(overflow)?;
                slot.1 = slot.1.checked_add(award.shortfall).ok_or_else(overflow)?;
            }
            for debit in &effects.spends {
                let slot = totals.spends.entry(debit.lot).or_default();
                *slot = slot.checked_add(debit.amount).ok_or_else(overflow)?;
            }
        }
        Ok(totals)
    }

    pub(super) fn award(&self, lot: LotId) -> (Decimal, Decimal) {
        self.awards.get(&lot).copied().unwrap_or_default()
    }

    pub(super) fn spend(&self, lot: LotId) -> Decimal {
        self.spends.get(&lot).copied().unwrap_or_default()
    }
}

/// What one return takes back: `reversals[i]` of the purchase's award `i`, and gives back:
/// `spend_back` of its spend.
#[derive(Debug, Clone, Copy)]
pub struct TakeBack<'a> {
    pub reversals: &'a [Decimal],
    pub spend_back: Decimal,
}

impl Wallet {
    /// Takes back and gives back what `take` says, as one event. `prior` is what the purchase's earlier
    /// returns did. The caller has swept expired lots first, and sweeps again after (a
    /// spend given back to a lot past its expiry expires at once). Refused, changing
    /// nothing, when the spend given back would take the balance above `balance_max`.
    pub fn return_purchase(
        &mut self,
        now: i64,
        purchase: PurchaseId,
        effects: &PurchaseEffects,
        prior: &ReturnTotals,
        take: TakeBack<'_>,
        balance_max: Decimal,
    ) -> Result<(WalletEvent, ReturnEffects), CommandError> {
        let TakeBack { reversals, spend_back } = take;
        let fault = |what: String| CommandError::Fault(WalletFault(format!("purchase {purchase}: {what}")));
        if reversals.len() != effects.awards.len() || reversals.iter().any(|amount| *amount < Decimal::ZERO) {
            return Err(fault(format!(
                "reversals {reversals:?} for {} awards",
                effects.awards.len()
            )));
        }
        // Plan first, change nothing until it is all checked.
        let mut taken = Vec::new();
        for (award, want) in effects.awards.iter().zip(reversals) {
            let lot = self
                .lot(award.lot)
                .ok_or_else(|| fault(format!("unknown lot {}", award.lot)))?;
            if lot.revoked {
                return Err(fault(format!("lot {} was revoked", award.lot)));
            }
            let left = lot
                .award_left(prior.award(award.lot))
                .ok_or_else(|| fault(format!("lot {} does not add up", award.lot)))?;
            let want = (*want).min(left);
            // What the lot holds is debited; the rest of it the contact used: shortfall.
            let debited = want.min(lot.remaining);
            let shortfall = want - debited;
            if debited > Decimal::ZERO || shortfall > Decimal::ZERO {
                taken.push(AwardTaken {
                    lot: award.lot,
                    debited,
                    shortfall,
                });
            }
        }
        let mut given = Vec::new();
        let mut left = spend_back;
        for debit in effects.spends.iter().rev() {
            if left <= Decimal::ZERO {
                break;
            }
            let open = debit.amount - prior.spend(debit.lot);
            let give = open.min(left);
            if give > Decimal::ZERO {
                given.push(LotDebit {
                    lot: debit.lot,
                    amount: give,
                });
                left -= give;
            }
        }
        if left > Decimal::ZERO {
            return Err(fault(format!("{spend_back} given back is more than the spend left")));
        }
        let debits = taken.iter().fold(Decimal::ZERO, |sum, award| sum + award.debited);
        let before = self.balances().total;
        let after = before.checked_sub(debits).and_then(|sum| sum.checked_add(spend_back));
        if after.is_none_or(|after| after > balance_max && after > before) {
            return Err(CommandError::Rejected(WalletRejection::BalanceLimit));
        }
        let mut entries = Vec::new();
        for award in &taken {
            let entry = Entry {
                kind: EntryKind::AwardReturn,
                lot: award.lot,
                amount: award.debited,
                new_lot: None,
                shortfall_change: award.shortfall,
            };
            self.push(&mut entries, entry)?;
        }
        for debit in &given {
            self.give_back(&mut entries, debit.lot, debit.amount, EntryKind::SpendReversal)?;
        }
        let event = self.record(now, Cause::PurchaseReturned(purchase), entries);
        Ok((
            event,
            ReturnEffects {
                awards: taken,
                spends: given,
            },
        ))
    }

    /// Credits `amount` of a spend or a hold (`kind`) back to the lot it came from (a new
    /// lot with its pocket and expiry when that one was revoked), then settles the
    /// shortfall from it.
    pub(super) fn give_back(
        &mut self,
        entries: &mut Vec<Entry>,
        from: LotId,
        amount: Decimal,
        kind: EntryKind,
    ) -> Result<(), WalletFault> {
        let lot = self
            .lot(from)
            .ok_or_else(|| WalletFault(format!("a spend names unknown lot {from}")))?;
        let (target, new_lot) = if lot.revoked {
            (
                self.next_lot_id,
                Some(NewLot {
                    pocket: lot.pocket,
                    expires_at: lot.expires_at,
                }),
            )
        } else {
            (from, None)
        };
        let entry = Entry {
            kind,
            lot: target,
            amount,
            new_lot,
            shortfall_change: Decimal::ZERO,
        };
        self.push(entries, entry)?;
        if target != from {
            self.pool_like(target, from);
        }
        self.settle_shortfall_from(entries, target, amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::OfferId;
    use crate::domain::wallet::{AwardGrant, SpendRequest};
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    const MAX: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

    fn grant(amount: &str) -> AwardGrant {
        AwardGrant {
            offer_id: OfferId::random(),
            amount: d(amount),
            expires_at: None,
        }
    }

    fn spend(amount: &str) -> Option<SpendRequest> {
        Some(SpendRequest {
            amount: d(amount),
            restrict_fully_covered: true,
        })
    }

    /// A wallet holding `open` of open money.
    fn funded(open: &str) -> Wallet {
        let mut wallet = Wallet::for_tests();
        wallet
            .transfer_in(
                0,
                Cause::TransferReceived(crate::domain::ids::TransferId::random()),
                d(open),
                MAX,
            )
            .unwrap();
        wallet
    }

    fn give_back(
        wallet: &mut Wallet,
        effects: &PurchaseEffects,
        done: &[ReturnEffects],
        reversals: &[&str],
        spend_back: &str,
    ) -> ReturnEffects {
        let prior = ReturnTotals::of(done).unwrap();
        let reversals: Vec<Decimal> = reversals.iter().map(|text| d(text)).collect();
        let (_, effects) = wallet
            .return_purchase(
                1,
                PurchaseId::random(),
                effects,
                &prior,
                TakeBack {
                    reversals: &reversals,
                    spend_back: d(spend_back),
                },
                MAX,
            )
            .unwrap();
        effects
    }

    #[test]
    fn a_return_takes_what_the_lot_holds_and_what_was_spent_of_it_becomes_shortfall() {
        let mut wallet = Wallet::for_tests();
        let (_, first) = wallet
            .post_purchase(0, PurchaseId::random(), None, &[grant("10")], MAX)
            .unwrap();
        // 6 of the award spent: the lot holds 4.
        wallet
            .post_purchase(0, PurchaseId::random(), spend("6"), &[], MAX)
            .unwrap();
        let taken = give_back(&mut wallet, &first, &[], &["5"], "0");
        let lot = first.awards[0].lot;
        assert_eq!(
            taken.awards,
            [AwardTaken {
                lot,
                debited: d("4"),
                shortfall: d("1")
            }]
        );
        assert_eq!(wallet.balances().total, Decimal::ZERO);
        assert_eq!(wallet.balances().shortfall, d("1"));
        // A cancel after it reverses only what the return left: 5 more of shortfall.
        let prior = ReturnTotals::of([&taken]).unwrap();
        wallet
            .cancel_purchase(2, PurchaseId::random(), &first, &prior, MAX)
            .unwrap();
        assert_eq!(
            wallet.balances().shortfall,
            d("6"),
            "all the contact spent of the award, once"
        );
    }

    #[test]
    fn expired_award_value_is_taken_by_nobody() {
        let mut wallet = Wallet::for_tests();
        let expiring = AwardGrant {
            expires_at: Some(5),
            ..grant("10")
        };
        let (_, first) = wallet
            .post_purchase(0, PurchaseId::random(), None, &[expiring], MAX)
            .unwrap();
        wallet
            .post_purchase(0, PurchaseId::random(), spend("2"), &[], MAX)
            .unwrap();
        wallet.sweep_expired(5).unwrap();
        let taken = give_back(&mut wallet, &first, &[], &["10"], "0");
        let lot = first.awards[0].lot;
        assert_eq!(
            taken.awards,
            [AwardTaken {
                lot,
                debited: d("0"),
                shortfall: d("2")
            }]
        );
        assert_eq!(wallet.balances().shortfall, d("2"));
    }

    #[test]
    fn spend_comes_back_to_its_lots_last_taken_first_never_above_what_each_gave() {
        let mut wallet = funded("3");
        wallet
            .post_purchase(0, PurchaseId::random(), None, &[grant("4")], MAX)
            .unwrap();
        // Neither lot expires, so the spend takes them by age: 3 of the open lot, 2 of the award.
        let (_, bought) = wallet
            .post_purchase(0, PurchaseId::random(), spend("5"), &[], MAX)
            .unwrap();
        let (open, award) = (bought.spends[0].lot, bought.spends[1].lot);
        assert_eq!(
            bought.spends,
            [
                LotDebit {
                    lot: open,
                    amount: d("3")
                },
                LotDebit {
                    lot: award,
                    amount: d("2")
                }
            ]
        );
        let first = give_back(&mut wallet, &bought, &[], &[], "3");
        assert_eq!(
            first.spends,
            [
                LotDebit {
                    lot: award,
                    amount: d("2")
                },
                LotDebit {
                    lot: open,
                    amount: d("1")
                }
            ]
        );
        let second = give_back(&mut wallet, &bought, std::slice::from_ref(&first), &[], "2");
        assert_eq!(
            second.spends,
            [LotDebit {
                lot: open,
                amount: d("2")
            }]
        );
        let prior = ReturnTotals::of([&first, &second]).unwrap();
        let before = wallet.balances();
        let take = TakeBack {
            reversals: &[],
            spend_back: d("0.01"),
        };
        let more = wallet.return_purchase(1, PurchaseId::random(), &bought, &prior, take, MAX);
        assert!(
            matches!(more, Err(CommandError::Fault(_))),
            "nothing of the spend is left"
        );
        assert_eq!(wallet.balances(), before);
        // A cancel now gives back nothing more.
        let cancel = wallet
            .cancel_purchase(2, PurchaseId::random(), &bought, &prior, MAX)
            .unwrap();
        assert!(cancel.entries.is_empty());
        assert_eq!(wallet.balances().total, d("7"));
    }

    /// Any purchases, any partial returns of them, then every purchase cancelled, in any
    /// order: the wallet holds exactly the open money it started with, net of any shortfall.
    mod returns_then_cancels_restore_the_wallet {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Step {
            Purchase {
                spend: Option<u32>,
                awards: Vec<u32>,
            },
            /// Purchase index; per mille of each award taken back and of the spend given back.
            Return(usize, u32, u32),
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                2 => (proptest::option::of(1u32..5_000), proptest::collection::vec(1u32..5_000, 0..3))
                    .prop_map(|(spend, awards)| Step::Purchase { spend, awards }),
                1 => (0usize..16, 0u32..=1000, 0u32..=1000).prop_map(|(index, award, spend)| Step::Return(index, award, spend)),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]
            #[test]
            fn exactly(
                open in 0u32..10_000,
                steps in proptest::collection::vec(step(), 1..40),
                order in proptest::collection::vec(any::<u16>(), 16),
            ) {
                let open = Decimal::new(open.into(), 2);
                let mut wallet = Wallet::for_tests();
                if open > Decimal::ZERO {
                    wallet.transfer_in(0, Cause::TransferReceived(crate::domain::ids::TransferId::random()), open, MAX).unwrap();
                }
                let mut posted: Vec<(PurchaseEffects, Vec<ReturnEffects>)> = Vec::new();
                for step in steps {
                    match step {
                        Step::Purchase { spend, awards } => {
                            let spend = spend.map(|cents| SpendRequest { amount: Decimal::new(cents.into(), 2), restrict_fully_covered: false });
                            let grants: Vec<AwardGrant> = awards
                                .iter()
                                .map(|cents| AwardGrant { offer_id: OfferId::random(), amount: Decimal::new((*cents).into(), 2), expires_at: None })
                                .collect();
                            let (_, effects) = wallet.post_purchase(0, PurchaseId::random(), spend, &grants, MAX).unwrap();
                            posted.push((effects, Vec::new()));
                        }
                        Step::Return(index, award_share, spend_share) => {
                            if posted.is_empty() {
                                continue;
                            }
                            let slot = index % posted.len();
                            let (effects, done) = &mut posted[slot];
                            let prior = ReturnTotals::of(done.iter()).unwrap();
                            // Never more than is left of each award and of the spend.
                            let reversals: Vec<Decimal> = effects
                                .awards
                                .iter()
                                .map(|award| {
                                    let (debited, owed) = prior.award(award.lot);
                                    (award.amount * Decimal::new(award_share.into(), 3)).round_dp(2).min(award.amount - debited - owed)
                                })
                                .collect();
                            let given: Decimal = done.iter().map(ReturnEffects::given_back).sum();
                            let spend_back = (effects.spent() * Decimal::new(spend_share.into(), 3)).round_dp(2).min(effects.spent() - given);
                            let (_, returned) = wallet
                                .return_purchase(0, PurchaseId::random(), effects, &prior, TakeBack { reversals: &reversals, spend_back }, MAX)
                                .unwrap();
                            done.push(returned);
                        }
                    }
                    prop_assert_eq!(wallet.balances().total, wallet.recomputed_total());
                }
                // Cancel every purchase, in a shuffled order.
                let mut indexes: Vec<usize> = (0..posted.len()).collect();
                indexes.sort_by_key(|index| order[index % order.len()].wrapping_add(*index as u16));
                for index in indexes {
                    let (effects, done) = &posted[index];
                    let prior = ReturnTotals::of(done.iter()).unwrap();
                    wallet.cancel_purchase(0, PurchaseId::random(), effects, &prior, MAX).unwrap();
                }
                // Exactly the money it started with, net of what it owes: a revocation's
                // shortfall is not taken from value the wallet holds in other lots (it is
                // settled by the next credit), so both may stand at once.
                let balances = wallet.balances();
                prop_assert_eq!(balances.total - balances.shortfall, open);
            }
        }
    }
}
