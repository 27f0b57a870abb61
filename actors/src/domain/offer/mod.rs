//! Reward offers: what an offer is, the checks a new or changed offer must pass, and (in
//! `evaluate`) the pure rule from (offers, purchase, contact facts) to explained awards.
//!
//! An offer's layout is the first offers' (`id` … `updated_on`) followed by `terms`, so the
//! records written before the rules engine read as a prefix (`storage::legacy`).

mod codes;
mod conditions;
mod evaluate;
mod history;
pub(crate) mod schedule;

pub use evaluate::{
    AwardExplanation, AwardHistory, Basis, CapTrim, EvaluatedAward, LineClass, NoHistory, OfferSet, PurchaseFacts,
    SaleFacts, SegmentProfile,
};
pub use history::{Earned, RewardHistory};
pub use schedule::{Schedule, ScheduleError, DAY_NAMES, MINUTES_PER_DAY};

use super::contact::Gender;
use super::ids::{CommercePoolId, OfferId, OrganisationId, SchemeId, TapId};
use super::money::{Amount, Currency};
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
    /// `value` percent of the basis: the purchase total, or its matching lines.
    Percentage,
    /// `value` in the purchase currency, once per purchase (that has a matching line, when
    /// the offer names products).
    Fixed,
    /// `value` for each unit of the matching lines' quantity.
    PerQuantity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardRule {
    pub kind: AwardKind,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub value: Decimal,
    /// Awarded money expires this many days after it is credited; `None`: never.
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
    pub terms: OfferTerms,
}

/// CRM.COM's offer goals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OfferGoal {
    Achievement,
    #[default]
    Spend,
    Visits,
    Membership,
}

/// CRM.COM's offer types (each goal has its types; this engine awards purchases for all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OfferType {
    Lottery,
    Achievement,
    Gift,
    #[default]
    Discount,
    Bundle,
    Signup,
    Refer,
    Profile,
    HappyHour,
    ReachTier,
    SubscriptionMaturity,
}

/// Where a purchase must be made: at one of `organisations` (or a merchant or venue under
/// one), or at one of `taps`. Both empty: anywhere in the business.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    pub organisations: Vec<OrganisationId>,
    pub taps: Vec<TapId>,
}

/// Which purchase lines an offer rewards: a line matches when its SKU, family, brand or
/// category is listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductFilter {
    pub skus: Vec<String>,
    pub families: Vec<String>,
    pub brands: Vec<String>,
    pub categories: Vec<String>,
}

impl ProductFilter {
    pub fn is_empty(&self) -> bool {
        self.skus.is_empty() && self.families.is_empty() && self.brands.is_empty() && self.categories.is_empty()
    }

    pub fn matches(&self, sku: &str, class: Option<&LineClass>) -> bool {
        let listed = |list: &[String], value: Option<&str>| value.is_some_and(|v| list.iter().any(|item| item == v));
        listed(&self.skus, Some(sku))
            || class.is_some_and(|class| {
                listed(&self.families, class.family.as_deref())
                    || listed(&self.brands, class.brand.as_deref())
                    || listed(&self.categories, class.category.as_deref())
            })
    }
}

/// A condition on the contact's attributes; an offer with several needs all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SegmentCondition {
    Gender(Vec<Gender>),
    /// Age in whole years on the purchase date, inclusive bounds.
    Age {
        min: Option<u16>,
        max: Option<u16>,
    },
    LanguageCode(Vec<String>),
    CustomField {
        key: String,
        value: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CapPeriod {
    Day,
    Week,
    Month,
    /// The offer's lifetime.
    Lifetime,
}

impl CapPeriod {
    pub fn code(self) -> &'static str {
        match self {
            CapPeriod::Day => "DAY",
            CapPeriod::Week => "WEEK",
            CapPeriod::Month => "MONTH",
            CapPeriod::Lifetime => "LIFETIME",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactCap {
    pub period: CapPeriod,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caps {
    /// The most one purchase earns from the offer.
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub per_purchase: Option<Decimal>,
    /// The most one contact earns from the offer in a period (in the schedule's time zone,
    /// UTC without one).
    pub per_contact: Option<ContactCap>,
    /// The most the offer awards in all.
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub budget: Option<Decimal>,
}

/// Where awarded money may later be spent; `None` on a lot: anywhere, on anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendConditions {
    pub organisations: Vec<OrganisationId>,
    pub products: ProductFilter,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Destination {
    /// Credited to the wallet's commerce money (the award's expiry applies).
    #[default]
    Wallet,
    /// Credited to the commerce money, spendable only as the conditions say.
    Pool(SpendConditions),
    /// Taken off the same purchase at once.
    InstantDiscount,
    /// Credited to a named commerce pool: spendable as the pool's conditions say when the
    /// award is made (appended: offers stored before read as they were).
    CommercePool(CommercePoolId),
}

/// How an offer combines with the others a purchase qualifies for. The outcome never
/// depends on the order offers were made in: ties go to the smaller offer id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Combination {
    /// Awards alongside every other offer.
    #[default]
    Stack,
    /// Only the largest award of the named group is given.
    BestOf(String),
    /// When an offer of an exclusive group awards, the largest award among all exclusive
    /// offers is the purchase's only award.
    Exclusive(String),
}

impl Combination {
    pub fn code(&self) -> &'static str {
        match self {
            Combination::Stack => "STACK",
            Combination::BestOf(_) => "BEST_OF",
            Combination::Exclusive(_) => "EXCLUSIVE",
        }
    }

    pub fn group(&self) -> Option<&str> {
        match self {
            Combination::Stack => None,
            Combination::BestOf(group) | Combination::Exclusive(group) => Some(group),
        }
    }
}

/// Everything an offer has beyond the first offers' percentage or fixed award.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferTerms {
    /// The organisation that owns the offer (the business when `None`).
    pub owner: Option<OrganisationId>,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    pub terms_and_conditions: Option<String>,
    pub goal: OfferGoal,
    pub offer_type: OfferType,
    pub is_featured: bool,
    pub performance_enabled: bool,
    pub targets: Targets,
    /// Only members of this scheme earn.
    pub scheme: Option<SchemeId>,
    pub schedule: Option<Schedule>,
    pub segment: Vec<SegmentCondition>,
    /// Only the contact's first purchase earns.
    pub first_purchase_only: bool,
    /// The basis (purchase total, or matching lines' total) must reach this.
    #[serde(with = "crate::domain::money::exact_option_decimal")]
    pub minimum_spend: Option<Decimal>,
    /// The lines the award is computed on; `None`: the whole purchase.
    pub products: Option<ProductFilter>,
    pub caps: Caps,
    pub destination: Destination,
    pub combination: Combination,
    /// A subscription milestone: only a bill that renews this billing cycle of its
    /// subscription earns (appended: offers stored before read without one, see
    /// `storage::legacy`).
    pub maturity: Option<Maturity>,
}

/// The billing cycle a SUBSCRIPTION_MATURITY offer rewards: the `cycle`-th of a
/// subscription (counted in whole billing periods from its start, the first being 1), and
/// each multiple of it when `recurring`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maturity {
    pub cycle: u16,
    pub recurring: bool,
}

/// The latest billing cycle a maturity names (a hundred years of monthly cycles).
pub const MATURITY_CYCLE_MAX: u16 = 1_200;

impl Maturity {
    /// Whether renewing billing cycle `renewed` reaches the milestone.
    pub fn reached_by(self, renewed: u32) -> bool {
        let cycle = u32::from(self.cycle);
        cycle > 0 && (renewed == cycle || (self.recurring && renewed > 0 && renewed % cycle == 0))
    }
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
    #[error("{field}: {message}")]
    Field { field: &'static str, message: String },
}

fn field(field: &'static str, message: impl Into<String>) -> OfferError {
    OfferError::Field {
        field,
        message: message.into(),
    }
}

impl OfferError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            OfferError::BadName => "name",
            OfferError::EmptyAvailability => "availability",
            OfferError::NonPositiveValue | OfferError::PercentageAboveHundred | OfferError::BadFixedValue(_) => {
                "award.value"
            }
            OfferError::Field { field, .. } => field,
        }
    }
}

/// Most entries in one of an offer's lists (targets, products, segment conditions).
pub const LIST_MAX: usize = 100;
const TEXT_MAX: usize = 4_000;
const CODE_MAX: usize = 100;

fn check_text(name: &'static str, text: &Option<String>) -> Result<(), OfferError> {
    match text {
        Some(text) if text.len() > TEXT_MAX || text.chars().any(|c| c.is_control() && c != '\n') => Err(field(
            name,
            format!("must be at most {TEXT_MAX} bytes of printable text"),
        )),
        _ => Ok(()),
    }
}

fn check_codes(name: &'static str, codes: &[String]) -> Result<(), OfferError> {
    if codes.len() > LIST_MAX {
        return Err(field(name, format!("at most {LIST_MAX} entries")));
    }
    for code in codes {
        if code.trim().is_empty() || code.len() > CODE_MAX || code.chars().any(char::is_control) {
            return Err(field(
                name,
                format!("entries must be 1 to {CODE_MAX} printable characters"),
            ));
        }
    }
    Ok(())
}

fn check_filter(prefix: &[&'static str; 4], filter: &ProductFilter) -> Result<(), OfferError> {
    check_codes(prefix[0], &filter.skus)?;
    check_codes(prefix[1], &filter.families)?;
    check_codes(prefix[2], &filter.brands)?;
    check_codes(prefix[3], &filter.categories)
}

impl SpendConditions {
    /// Checks conditions, naming the fields `fields`: the conditions, their organisations,
    /// and their SKUs, families, brands and categories.
    pub fn check(&self, fields: &'static [&'static str; 6]) -> Result<(), OfferError> {
        if self.organisations.is_empty() && self.products.is_empty() {
            return Err(field(
                fields[0],
                "must name organisations or products (omit them for money spendable anywhere)",
            ));
        }
        if self.organisations.len() > LIST_MAX {
            return Err(field(fields[1], format!("at most {LIST_MAX} entries")));
        }
        check_filter(&[fields[2], fields[3], fields[4], fields[5]], &self.products)
    }
}

impl RewardOffer {
    /// Checks a new or changed offer; `currency` is the business's, the unit of fixed
    /// values, caps and minimum spends, each at most `amount_max`.
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
            AwardKind::Fixed | AwardKind::PerQuantity => {
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
        if self.award.expiry_days == Some(0) || self.award.expiry_days.is_some_and(|days| days > 36_600) {
            return Err(field("award.expiry_days", "must be 1 to 36600 days"));
        }
        self.terms.validate(self.award.kind, currency, amount_max)
    }
}

impl OfferTerms {
    fn validate(&self, kind: AwardKind, currency: Currency, amount_max: Decimal) -> Result<(), OfferError> {
        let money = |name: &'static str, value: Decimal| {
            if value <= Decimal::ZERO {
                return Err(field(name, "must be greater than zero"));
            }
            Amount::parse_at_most(value, currency, amount_max)
                .map(|_| ())
                .map_err(|error| field(name, error.to_string()))
        };
        check_text("short_description", &self.short_description)?;
        check_text("long_description", &self.long_description)?;
        check_text("terms_and_conditions", &self.terms_and_conditions)?;
        if self.targets.organisations.len() > LIST_MAX || self.targets.taps.len() > LIST_MAX {
            return Err(field(
                "targets",
                format!("at most {LIST_MAX} organisations and {LIST_MAX} taps"),
            ));
        }
        if let Some(schedule) = &self.schedule {
            schedule
                .validate()
                .map_err(|error| field("schedule", error.to_string()))?;
        }
        if self.segment.len() > LIST_MAX {
            return Err(field("segment", format!("at most {LIST_MAX} conditions")));
        }
        for condition in &self.segment {
            match condition {
                SegmentCondition::Gender(genders) if genders.is_empty() => {
                    return Err(field("segment.genders", "must name at least one gender"))
                }
                SegmentCondition::Age { min: None, max: None } => {
                    return Err(field("segment.age", "needs a minimum, a maximum or both"))
                }
                SegmentCondition::Age {
                    min: Some(min),
                    max: Some(max),
                } if min > max => return Err(field("segment.age", "minimum must not be above maximum")),
                SegmentCondition::Age { min, max } if (*min).max(*max).is_some_and(|age| age > 150) => {
                    return Err(field("segment.age", "ages are at most 150"))
                }
                SegmentCondition::LanguageCode(codes) => {
                    if codes.is_empty() {
                        return Err(field("segment.language_codes", "must name at least one language"));
                    }
                    check_codes("segment.language_codes", codes)?;
                }
                SegmentCondition::CustomField { key, value } => {
                    check_codes("segment.custom_field", std::slice::from_ref(key))?;
                    if value.len() > CODE_MAX || value.chars().any(char::is_control) {
                        return Err(field("segment.custom_field", "value must be printable and short"));
                    }
                }
                _ => {}
            }
        }
        if let Some(minimum) = self.minimum_spend {
            money("minimum_spend", minimum)?;
        }
        match &self.products {
            Some(filter) if filter.is_empty() => {
                return Err(field(
                    "products",
                    "must list at least one sku, family, brand or category (omit it to reward the whole purchase)",
                ))
            }
            Some(filter) => check_filter(
                &[
                    "products.skus",
                    "products.families",
                    "products.brands",
                    "products.categories",
                ],
                filter,
            )?,
            None if kind == AwardKind::PerQuantity => {
                return Err(field("products", "a PER_QUANTITY award needs the products it counts"))
            }
            None => {}
        }
        if let Some(cap) = self.caps.per_purchase {
            money("caps.per_purchase", cap)?;
        }
        if let Some(cap) = self.caps.per_contact {
            money("caps.per_contact.amount", cap.amount)?;
        }
        if let Some(budget) = self.caps.budget {
            money("caps.budget", budget)?;
        }
        match &self.destination {
            Destination::Pool(conditions) => conditions.check(&[
                "destination.spend_conditions",
                "destination.spend_conditions.organisations",
                "destination.spend_conditions.products.skus",
                "destination.spend_conditions.products.families",
                "destination.spend_conditions.products.brands",
                "destination.spend_conditions.products.categories",
            ])?,
            Destination::Wallet | Destination::InstantDiscount | Destination::CommercePool(_) => {}
        }
        if let Some(group) = self.combination.group() {
            check_codes("combination.group", &[group.to_string()])?;
        }
        match (self.offer_type, self.maturity) {
            (OfferType::SubscriptionMaturity, None) => {
                return Err(field(
                    "conditions.subscription_maturity",
                    "a SUBSCRIPTION_MATURITY offer names the billing cycle it rewards",
                ))
            }
            (OfferType::SubscriptionMaturity, Some(maturity))
                if maturity.cycle == 0 || maturity.cycle > MATURITY_CYCLE_MAX =>
            {
                return Err(field(
                    "conditions.subscription_maturity.billing_cycle",
                    format!("must be 1 to {MATURITY_CYCLE_MAX}"),
                ))
            }
            (OfferType::SubscriptionMaturity, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(field(
                    "conditions.subscription_maturity",
                    "only a SUBSCRIPTION_MATURITY offer rewards a subscription's billing cycle",
                ))
            }
        }
        Ok(())
    }
}

/// Checks that `offer`'s combination group is not used with another rule by one of
/// `others` (a group is either best-of or exclusive, never both).
pub fn check_combination<'a>(
    offer: &RewardOffer,
    others: impl IntoIterator<Item = &'a RewardOffer>,
) -> Result<(), OfferError> {
    let Some(group) = offer.terms.combination.group() else {
        return Ok(());
    };
    for other in others.into_iter().filter(|other| other.id != offer.id) {
        if other.terms.combination.group() == Some(group)
            && other.terms.combination.code() != offer.terms.combination.code()
        {
            return Err(field(
                "combination.group",
                format!(
                    "group {group:?} is already a {} group (offer {}); a group has one rule",
                    other.terms.combination.code(),
                    other.id
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
