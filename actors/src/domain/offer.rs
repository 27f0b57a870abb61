//! Reward offers and the award rule: a pure function from (offers, purchase) to awards.
//!
//! This offers are minimal (a percentage of the purchase total or a fixed amount,
//! with an optional expiry); the full rules engine grows here, behind `evaluate_awards`.

use super::ids::OfferId;
use super::money::{Amount, Currency};
use super::wallet::AwardGrant;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub const SECONDS_PER_DAY: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OfferState {
    Active,
    Inactive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AwardKind {
    /// `value` percent of the purchase's `transaction_amounts.total`.
    Percentage,
    /// `value` in the purchase currency, once per purchase.
    Fixed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardRule {
    pub kind: AwardKind,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub value: Decimal,
    pub expiry_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardOffer {
    pub id: OfferId,
    pub name: String,
    pub state: OfferState,
    /// Inclusive epoch-second bounds on the purchase date; `None` is unbounded.
    pub available_from: Option<i64>,
    pub available_to: Option<i64>,
    pub award: AwardRule,
    pub created_on: i64,
    pub updated_on: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    #[error("name must be 1 to 200 printable characters")]
    BadName,
    #[error("award.value must be greater than zero")]
    NonPositiveValue,
    #[error("a percentage award must be at most 100")]
    PercentageAboveHundred,
    #[error("availability.from must not be after availability.to")]
    EmptyAvailability,
    #[error("award.value: {0}")]
    BadFixedValue(String),
}

impl RewardOffer {
    /// Checks a new offer's rule; `currency` is the organisation's, used by fixed awards,
    /// which are at most `amount_max`.
    pub fn validate(&self, currency: Currency, amount_max: Decimal) -> Result<(), OfferError> {
        if self.name.trim().is_empty() || self.name.len() > 200 || self.name.chars().any(char::is_control) {
            return Err(OfferError::BadName);
        }
        if self.award.value <= Decimal::ZERO {
            return Err(OfferError::NonPositiveValue);
        }
        match self.award.kind {
            AwardKind::Percentage if self.award.value > Decimal::ONE_HUNDRED => {
                return Err(OfferError::PercentageAboveHundred)
            }
            AwardKind::Fixed => {
                Amount::parse_at_most(self.award.value, currency, amount_max)
                    .map_err(|error| OfferError::BadFixedValue(error.to_string()))?;
            }
            AwardKind::Percentage => {}
        }
        if let (Some(from), Some(to)) = (self.available_from, self.available_to) {
            if from > to {
                return Err(OfferError::EmptyAvailability);
            }
        }
        Ok(())
    }

    fn applies_on(&self, purchase_date: i64) -> bool {
        self.state == OfferState::Active
            && self.available_from.is_none_or(|from| from <= purchase_date)
            && self.available_to.is_none_or(|to| purchase_date <= to)
    }
}

/// What every applicable offer awards for a purchase of `total` made on `purchase_date`
/// and credited at `now`. Awards expire `expiry_days` after they are credited. `None` when
/// a rule overflows (checked arithmetic; bounded totals and rules never do).
pub fn evaluate_awards(
    offers: &[RewardOffer],
    total: Amount,
    currency: Currency,
    purchase_date: i64,
    now: i64,
) -> Option<Vec<AwardGrant>> {
    let mut awards = Vec::new();
    for offer in offers.iter().filter(|offer| offer.applies_on(purchase_date)) {
        let amount = match offer.award.kind {
            AwardKind::Percentage => currency.round_award(
                total
                    .value()
                    .checked_mul(offer.award.value)?
                    .checked_div(Decimal::ONE_HUNDRED)?,
            ),
            AwardKind::Fixed => offer.award.value,
        };
        if amount > Decimal::ZERO {
            awards.push(AwardGrant {
                offer_id: offer.id,
                amount,
                expires_at: offer
                    .award
                    .expiry_days
                    .map(|days| now.saturating_add(i64::from(days).saturating_mul(SECONDS_PER_DAY))),
            });
        }
    }
    Some(awards)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    const MAX: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

    fn offer(kind: AwardKind, value: &str) -> RewardOffer {
        RewardOffer {
            id: OfferId::random(),
            name: "Ten percent".into(),
            state: OfferState::Active,
            available_from: Some(100),
            available_to: Some(200),
            award: AwardRule {
                kind,
                value: Decimal::from_str(value).unwrap(),
                expiry_days: Some(2),
            },
            created_on: 0,
            updated_on: 0,
        }
    }

    #[test]
    fn percentage_and_fixed_offers_award_inside_their_availability_only() {
        let eur = Currency::parse("EUR").unwrap();
        let total = Amount::parse(Decimal::from_str("12.35").unwrap(), eur).unwrap();
        let offers = [offer(AwardKind::Percentage, "10"), offer(AwardKind::Fixed, "2.5")];
        let awards = evaluate_awards(&offers, total, eur, 150, 1_000).unwrap();
        let amounts: Vec<String> = awards.iter().map(|a| a.amount.to_string()).collect();
        assert_eq!(amounts, ["1.24", "2.5"]);
        assert_eq!(awards[0].expires_at, Some(1_000 + 2 * SECONDS_PER_DAY));
        assert!(evaluate_awards(&offers, total, eur, 201, 1_000).unwrap().is_empty());
        let mut inactive = offers.clone();
        inactive[0].state = OfferState::Inactive;
        assert_eq!(evaluate_awards(&inactive, total, eur, 150, 1_000).unwrap().len(), 1);
    }

    #[test]
    fn offers_with_impossible_rules_are_rejected() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(
            offer(AwardKind::Percentage, "101").validate(eur, MAX),
            Err(OfferError::PercentageAboveHundred)
        );
        assert_eq!(
            offer(AwardKind::Fixed, "0").validate(eur, MAX),
            Err(OfferError::NonPositiveValue)
        );
        assert!(offer(AwardKind::Fixed, "1.001").validate(eur, MAX).is_err());
    }
}
