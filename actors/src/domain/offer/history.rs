//! What a contact's wallet has earned from each offer: the facts first-purchase offers and
//! per-contact caps read. The wallet's actor keeps it, and commits it with each purchase and
//! cancellation that changes it.

use super::evaluate::AwardHistory;
use crate::domain::ids::OfferId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One award (or, negative, its cancellation) to record: the offer, the amount, and whether
/// the offer caps a day, week or month (only then is the award kept dated).
pub type Earned = (OfferId, Decimal, bool);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferUsage {
    pub offer: OfferId,
    /// Everything the offer awarded the contact, net of cancellations.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub lifetime: Decimal,
    /// Awards from offers with a day, week or month cap, and (negative) their
    /// cancellations, back to the window the wallet keeps.
    pub recent: Vec<DatedAward>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedAward {
    /// The purchase date.
    pub at: i64,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardHistory {
    /// Posted purchases, net of cancellations.
    pub purchases: u64,
    /// In offer-id order.
    pub offers: Vec<OfferUsage>,
}

impl RewardHistory {
    fn usage(&mut self, offer: OfferId) -> &mut OfferUsage {
        let index = match self.offers.binary_search_by_key(&offer, |usage| usage.offer) {
            Ok(index) => index,
            Err(index) => {
                self.offers.insert(
                    index,
                    OfferUsage {
                        offer,
                        lifetime: Decimal::ZERO,
                        recent: Vec::new(),
                    },
                );
                index
            }
        };
        &mut self.offers[index]
    }

    /// A posted purchase dated `date` and what each offer awarded on it. Dated awards before
    /// `keep_from` are dropped: no period a purchase can still be dated in reaches them.
    pub fn record_purchase(&mut self, date: i64, awards: impl IntoIterator<Item = Earned>, keep_from: i64) {
        self.purchases = self.purchases.saturating_add(1);
        self.add(date, awards, false, keep_from);
    }

    /// The cancellation of such a purchase: what it recorded is taken back (dated where
    /// the award was recorded dated and is still kept). After returns, `awards` is what
    /// they left.
    pub fn record_cancellation(
        &mut self,
        date: i64,
        awards: impl IntoIterator<Item = (OfferId, Decimal)>,
        keep_from: i64,
    ) {
        self.purchases = self.purchases.saturating_sub(1);
        self.take_back(date, awards, keep_from);
    }

    /// An ad hoc return of goods of such a purchase: the part of each award it took back
    /// no longer counts toward caps; the purchase still counts as made.
    pub fn record_return(&mut self, date: i64, awards: impl IntoIterator<Item = (OfferId, Decimal)>, keep_from: i64) {
        self.take_back(date, awards, keep_from);
    }

    fn take_back(&mut self, date: i64, awards: impl IntoIterator<Item = (OfferId, Decimal)>, keep_from: i64) {
        let awards: Vec<Earned> = awards
            .into_iter()
            .filter(|(_, amount)| *amount > Decimal::ZERO)
            .map(|(offer, amount)| {
                let dated = self
                    .offers
                    .binary_search_by_key(&offer, |usage| usage.offer)
                    .is_ok_and(|index| {
                        self.offers[index]
                            .recent
                            .iter()
                            .any(|earned| earned.at == date && earned.amount > Decimal::ZERO)
                    });
                (offer, amount, dated)
            })
            .collect();
        self.add(date, awards, true, keep_from);
    }

    fn add(&mut self, date: i64, awards: impl IntoIterator<Item = Earned>, reverse: bool, keep_from: i64) {
        for (offer, amount, dated) in awards {
            let signed = if reverse { -amount } else { amount };
            let usage = self.usage(offer);
            usage.lifetime = usage.lifetime.saturating_add(signed);
            if dated {
                usage.recent.push(DatedAward {
                    at: date,
                    amount: signed,
                });
            }
            usage.recent.retain(|earned| earned.at >= keep_from);
        }
    }
}

impl AwardHistory for RewardHistory {
    fn has_purchased(&self) -> bool {
        self.purchases > 0
    }

    fn awarded_since(&self, offer: OfferId, since: i64) -> Decimal {
        let Ok(index) = self.offers.binary_search_by_key(&offer, |usage| usage.offer) else {
            return Decimal::ZERO;
        };
        let usage = &self.offers[index];
        if since == i64::MIN {
            return usage.lifetime;
        }
        usage
            .recent
            .iter()
            .filter(|earned| earned.at >= since)
            .fold(Decimal::ZERO, |sum, earned| sum.saturating_add(earned.amount))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn awards_count_in_their_period_and_cancellations_take_them_back() {
        let offer = OfferId::random();
        let mut history = RewardHistory::default();
        assert!(!history.has_purchased());
        history.record_purchase(1_000, [(offer, Decimal::TWO, true)], 0);
        history.record_purchase(5_000, [(offer, Decimal::ONE, true)], 0);
        assert!(history.has_purchased());
        assert_eq!(history.awarded_since(offer, i64::MIN), Decimal::from(3));
        assert_eq!(history.awarded_since(offer, 2_000), Decimal::ONE);
        history.record_cancellation(1_000, [(offer, Decimal::TWO)], 0);
        assert_eq!(history.awarded_since(offer, 0), Decimal::ONE);
        assert_eq!(history.awarded_since(offer, i64::MIN), Decimal::ONE);
        assert_eq!(history.purchases, 1);
        assert_eq!(history.awarded_since(OfferId::random(), 0), Decimal::ZERO);
        // Old entries leave the window; the lifetime keeps them. Undated awards count in the
        // lifetime only.
        history.record_purchase(9_000, [(offer, Decimal::ONE, true)], 6_000);
        assert_eq!(history.offers[0].recent.len(), 1);
        assert_eq!(history.awarded_since(offer, i64::MIN), Decimal::TWO);
        history.record_purchase(9_500, [(offer, Decimal::TEN, false)], 6_000);
        assert_eq!(history.awarded_since(offer, 6_000), Decimal::ONE);
        assert_eq!(history.awarded_since(offer, i64::MIN), Decimal::from(12));
    }

    #[test]
    fn a_return_takes_back_part_of_an_award_and_leaves_the_purchase_counted() {
        let offer = OfferId::random();
        let mut history = RewardHistory::default();
        history.record_purchase(1_000, [(offer, Decimal::TEN, true)], 0);
        history.record_return(1_000, [(offer, Decimal::from(4))], 0);
        assert_eq!(history.purchases, 1);
        assert_eq!(history.awarded_since(offer, 0), Decimal::from(6));
        assert_eq!(history.awarded_since(offer, i64::MIN), Decimal::from(6));
        // The cancel after it takes back only the rest.
        history.record_cancellation(1_000, [(offer, Decimal::from(6))], 0);
        assert_eq!(history.purchases, 0);
        assert_eq!(history.awarded_since(offer, 0), Decimal::ZERO);
        assert_eq!(history.awarded_since(offer, i64::MIN), Decimal::ZERO);
    }
}
