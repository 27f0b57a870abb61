//! The back office's reward offer as JSON: the body that makes or changes one, and the view
//! of it. Every field of a change is optional; what it names replaces the offer's.

use crate::api::errors::ApiError;
use crate::api::wire::{money, Money};
use rewards_engine::domain::budget::BudgetState;
use rewards_engine::domain::contact::Gender;
use rewards_engine::domain::ids::{CommercePoolId, OrganisationId, SchemeId, TapId};
use rewards_engine::domain::offer::{
    AwardKind, AwardRule, CapPeriod, Caps, Combination, ContactCap, Destination, Maturity, OfferGoal, OfferState,
    OfferType, ProductFilter, RewardOffer, Schedule, SegmentCondition, SpendConditions, Targets, DAY_NAMES,
    MINUTES_PER_DAY,
};
use rewards_engine::engine::NewOffer;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct Availability {
    /// Epoch seconds; purchases dated before this earn nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// Epoch seconds, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct IdRef {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ScheduleBody {
    /// An IANA time zone, such as Europe/Nicosia: the business's wall clock.
    pub time_zone: String,
    /// MONDAY … SUNDAY.
    pub days: Vec<String>,
    /// HH:MM, inclusive.
    pub from: String,
    /// HH:MM, exclusive (24:00 is the end of the day); before `from`, the span runs past
    /// midnight and its early hours belong to the day it started.
    pub to: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AgeRange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u16>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct CustomFieldBody {
    pub key: String,
    pub value: String,
}

/// Conditions on the contact; every one given must hold.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct SegmentBody {
    /// MALE, FEMALE, OTHER.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genders: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<AgeRange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_codes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<Vec<CustomFieldBody>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct ProductsBody {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skus: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brands: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AwardBody {
    /// PERCENTAGE of the basis, a FIXED amount per purchase, or PER_QUANTITY of the
    /// matching lines.
    #[serde(rename = "type")]
    pub award_type: String,
    pub value: Money,
    /// Awards expire this many days after they are credited; none: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_days: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ContactCapBody {
    /// DAY, WEEK, MONTH (on the schedule's time zone, UTC without one) or LIFETIME.
    pub period: String,
    pub amount: Money,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct CapsBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_purchase: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_contact: Option<ContactCapBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<Money>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct ConditionsBody {
    /// Only the contact's first purchase earns.
    #[serde(default)]
    pub first_purchase_only: bool,
    /// The basis must reach this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_spend: Option<Money>,
    /// A SUBSCRIPTION_MATURITY offer's milestone: only the bill renewing this billing cycle
    /// of a subscription earns.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subscription_maturity: Option<MaturityBody>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
pub struct MaturityBody {
    /// The cycle, counted from the subscription's first (1).
    pub billing_cycle: u16,
    /// Every multiple of `billing_cycle` too (every 12th cycle, say).
    #[serde(default)]
    pub recurring: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct DestinationBody {
    /// WALLET (commerce money), POOL (a named `commerce_pool`, or the offer's own
    /// `spend_conditions`) or INSTANT_DISCOUNT.
    #[serde(rename = "type")]
    pub destination_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spend_conditions: Option<SpendConditionsBody>,
    /// The commerce pool (`/backoffice/v2/commerce_pools`) the awards are credited to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub commerce_pool: Option<IdRef>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct SpendConditionsBody {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organisations: Vec<IdRef>,
    #[serde(default)]
    pub products: ProductsBody,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct CombinationBody {
    /// STACK (the default), BEST_OF (the largest award of the group) or EXCLUSIVE (the
    /// largest exclusive award is the purchase's only one).
    pub rule: String,
    /// The group, for BEST_OF and EXCLUSIVE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct TargetsBody {
    #[serde(default)]
    pub organisations: Vec<IdRef>,
    #[serde(default)]
    pub taps: Vec<IdRef>,
}

/// A reward offer to make (name and award required) or a change to one (any field).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct OfferBody {
    pub name: Option<String>,
    /// ACTIVE (default) or INACTIVE.
    pub state: Option<String>,
    pub short_description: Option<String>,
    pub long_description: Option<String>,
    pub terms_and_conditions: Option<String>,
    /// ACHIEVEMENT, SPEND (default), VISITS, MEMBERSHIP.
    pub goal: Option<String>,
    /// CRM.COM's offer types; DISCOUNT by default.
    #[serde(rename = "type")]
    pub offer_type: Option<String>,
    pub is_featured: Option<bool>,
    pub performance_enabled: Option<bool>,
    pub owner: Option<IdRef>,
    pub availability: Option<Availability>,
    pub schedule: Option<ScheduleBody>,
    pub targets: Option<TargetsBody>,
    pub scheme: Option<IdRef>,
    pub segment: Option<SegmentBody>,
    pub conditions: Option<ConditionsBody>,
    /// The lines the award is computed on; omitted: the whole purchase.
    pub products: Option<ProductsBody>,
    pub award: Option<AwardBody>,
    pub caps: Option<CapsBody>,
    pub destination: Option<DestinationBody>,
    pub combination: Option<CombinationBody>,
}

fn one_of<T: Copy>(field: &str, text: &str, choices: &[(&str, T)]) -> Result<T, ApiError> {
    choices
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            ApiError::invalid(
                field,
                format!("{field} must be one of {}, not {text:?}", names.join(", ")),
            )
        })
}

const STATES: [(&str, OfferState); 2] = [("ACTIVE", OfferState::Active), ("INACTIVE", OfferState::Inactive)];
const KINDS: [(&str, AwardKind); 3] = [
    ("PERCENTAGE", AwardKind::Percentage),
    ("FIXED", AwardKind::Fixed),
    ("PER_QUANTITY", AwardKind::PerQuantity),
];
const GOALS: [(&str, OfferGoal); 4] = [
    ("ACHIEVEMENT", OfferGoal::Achievement),
    ("SPEND", OfferGoal::Spend),
    ("VISITS", OfferGoal::Visits),
    ("MEMBERSHIP", OfferGoal::Membership),
];
pub const TYPES: [(&str, OfferType); 11] = [
    ("LOTTERY", OfferType::Lottery),
    ("ACHIEVEMENT", OfferType::Achievement),
    ("GIFT", OfferType::Gift),
    ("DISCOUNT", OfferType::Discount),
    ("BUNDLE", OfferType::Bundle),
    ("SIGNUP", OfferType::Signup),
    ("REFER", OfferType::Refer),
    ("PROFILE", OfferType::Profile),
    ("HAPPYHOUR", OfferType::HappyHour),
    ("REACH_TIER", OfferType::ReachTier),
    ("SUBSCRIPTION_MATURITY", OfferType::SubscriptionMaturity),
];
const PERIODS: [(&str, CapPeriod); 4] = [
    ("DAY", CapPeriod::Day),
    ("WEEK", CapPeriod::Week),
    ("MONTH", CapPeriod::Month),
    ("LIFETIME", CapPeriod::Lifetime),
];
const GENDERS: [(&str, Gender); 3] = [
    ("MALE", Gender::Male),
    ("FEMALE", Gender::Female),
    ("OTHER", Gender::Other),
];

pub fn parse_state(text: &str) -> Result<OfferState, ApiError> {
    one_of("state", text, &STATES)
}

pub fn parse_goal(field: &str, text: &str) -> Result<OfferGoal, ApiError> {
    one_of(field, text, &GOALS)
}

pub fn parse_type(field: &str, text: &str) -> Result<OfferType, ApiError> {
    one_of(field, text, &TYPES)
}

fn name_of<T: PartialEq + Copy>(value: T, choices: &[(&'static str, T)]) -> &'static str {
    choices
        .iter()
        .find(|(_, choice)| *choice == value)
        .map_or("", |(name, _)| *name)
}

pub fn state_name(state: OfferState) -> &'static str {
    name_of(state, &STATES)
}

pub fn goal_name(goal: OfferGoal) -> &'static str {
    name_of(goal, &GOALS)
}

pub fn type_name(offer_type: OfferType) -> &'static str {
    name_of(offer_type, &TYPES)
}

pub(crate) fn organisation_ids(field: &str, refs: &[IdRef]) -> Result<Vec<OrganisationId>, ApiError> {
    refs.iter()
        .map(|r| {
            OrganisationId::parse(&r.id)
                .map_err(|_| ApiError::invalid(field, format!("{field}: {:?} is not an organisation id", r.id)))
        })
        .collect()
}

/// The destination a body names.
fn destination_of(destination: DestinationBody) -> Result<Destination, ApiError> {
    if destination.commerce_pool.is_some() && destination.destination_type != "POOL" {
        return Err(ApiError::invalid(
            "destination.commerce_pool",
            "only a POOL destination has a commerce_pool",
        ));
    }
    if let Some(pool) = &destination.commerce_pool {
        if destination.spend_conditions.is_some() {
            return Err(ApiError::invalid(
                "destination.spend_conditions",
                "a POOL destination has a commerce_pool or spend_conditions, not both",
            ));
        }
        let id = CommercePoolId::parse(&pool.id).map_err(|_| {
            ApiError::invalid(
                "destination.commerce_pool",
                format!("{:?} is not a commerce pool id", pool.id),
            )
        })?;
        return Ok(Destination::CommercePool(id));
    }
    Ok(
        match (destination.destination_type.as_str(), destination.spend_conditions) {
            ("WALLET", None) => Destination::Wallet,
            ("INSTANT_DISCOUNT", None) => Destination::InstantDiscount,
            ("POOL", Some(conditions)) => Destination::Pool(SpendConditions {
                organisations: organisation_ids(
                    "destination.spend_conditions.organisations",
                    &conditions.organisations,
                )?,
                products: filter(conditions.products),
            }),
            ("POOL", None) => {
                return Err(ApiError::invalid(
                    "destination.spend_conditions",
                    "a POOL destination needs a commerce_pool or spend_conditions",
                ))
            }
            ("WALLET" | "INSTANT_DISCOUNT", Some(_)) => {
                return Err(ApiError::invalid(
                    "destination.spend_conditions",
                    "only a POOL destination has spend_conditions",
                ))
            }
            (other, _) => {
                return Err(ApiError::invalid(
                    "destination.type",
                    format!("destination.type must be WALLET, POOL or INSTANT_DISCOUNT, not {other:?}"),
                ))
            }
        },
    )
}

pub(crate) fn filter(products: ProductsBody) -> ProductFilter {
    let trim = |list: Vec<String>| list.into_iter().map(|item| item.trim().to_string()).collect();
    ProductFilter {
        skus: trim(products.skus),
        families: trim(products.families),
        brands: trim(products.brands),
        categories: trim(products.categories),
    }
}

/// "HH:MM" as minutes after midnight (24:00 is 1440).
fn minutes(field: &str, text: &str) -> Result<u16, ApiError> {
    let bad = || {
        ApiError::invalid(
            field,
            format!("{field} must be HH:MM between 00:00 and 24:00, not {text:?}"),
        )
    };
    let (hours, mins) = text.split_once(':').ok_or_else(bad)?;
    if hours.len() != 2 || mins.len() != 2 {
        return Err(bad());
    }
    let hours: u16 = hours.parse().map_err(|_| bad())?;
    let mins: u16 = mins.parse().map_err(|_| bad())?;
    let total = hours
        .checked_mul(60)
        .and_then(|h| h.checked_add(mins))
        .ok_or_else(bad)?;
    if mins >= 60 || total > MINUTES_PER_DAY {
        return Err(bad());
    }
    Ok(total)
}

fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl OfferBody {
    /// The offer to make: `name` and `award` are required.
    pub fn into_new(self) -> Result<NewOffer, ApiError> {
        let name = self
            .name
            .clone()
            .ok_or_else(|| ApiError::invalid("name", "name is required"))?;
        let award = self
            .award
            .clone()
            .ok_or_else(|| ApiError::invalid("award", "award is required"))?;
        let mut offer = NewOffer {
            name,
            state: OfferState::Active,
            available_from: None,
            available_to: None,
            award: award_rule(award)?,
            terms: Default::default(),
        };
        self.apply(&mut offer)?;
        Ok(offer)
    }

    /// Replaces what the body names in `offer`.
    pub fn apply(self, offer: &mut NewOffer) -> Result<(), ApiError> {
        let terms = &mut offer.terms;
        if let Some(name) = self.name {
            offer.name = name;
        }
        if let Some(state) = self.state {
            offer.state = parse_state(&state)?;
        }
        if let Some(text) = self.short_description {
            terms.short_description = Some(text).filter(|text| !text.trim().is_empty());
        }
        if let Some(text) = self.long_description {
            terms.long_description = Some(text).filter(|text| !text.trim().is_empty());
        }
        if let Some(text) = self.terms_and_conditions {
            terms.terms_and_conditions = Some(text).filter(|text| !text.trim().is_empty());
        }
        if let Some(goal) = self.goal {
            terms.goal = parse_goal("goal", &goal)?;
        }
        if let Some(offer_type) = self.offer_type {
            terms.offer_type = parse_type("type", &offer_type)?;
        }
        if let Some(featured) = self.is_featured {
            terms.is_featured = featured;
        }
        if let Some(enabled) = self.performance_enabled {
            terms.performance_enabled = enabled;
        }
        if let Some(owner) = self.owner {
            terms.owner = Some(
                OrganisationId::parse(&owner.id)
                    .map_err(|_| ApiError::invalid("owner", "owner.id is not an organisation id"))?,
            );
        }
        if let Some(availability) = self.availability {
            offer.available_from = availability.from;
            offer.available_to = availability.to;
        }
        if let Some(schedule) = self.schedule {
            let mut days = 0u8;
            for day in &schedule.days {
                let index = DAY_NAMES
                    .iter()
                    .position(|name| name == day)
                    .ok_or_else(|| ApiError::invalid("schedule.days", format!("{day:?} is not MONDAY … SUNDAY")))?;
                days |= 1 << index;
            }
            terms.schedule = Some(Schedule {
                time_zone: schedule.time_zone,
                days,
                from_minute: minutes("schedule.from", &schedule.from)?,
                to_minute: minutes("schedule.to", &schedule.to)?,
            });
        }
        if let Some(targets) = self.targets {
            terms.targets = Targets {
                organisations: organisation_ids("targets.organisations", &targets.organisations)?,
                taps: targets
                    .taps
                    .iter()
                    .map(|r| {
                        TapId::parse(&r.id)
                            .map_err(|_| ApiError::invalid("targets.taps", format!("{:?} is not a TAP id", r.id)))
                    })
                    .collect::<Result<_, _>>()?,
            };
        }
        if let Some(scheme) = self.scheme {
            terms.scheme = Some(
                SchemeId::parse(&scheme.id)
                    .map_err(|_| ApiError::invalid("scheme", "scheme.id is not a reward scheme id"))?,
            );
        }
        if let Some(segment) = self.segment {
            terms.segment = segment_conditions(segment)?;
        }
        if let Some(conditions) = self.conditions {
            terms.first_purchase_only = conditions.first_purchase_only;
            terms.minimum_spend = conditions.minimum_spend.map(|m| m.0);
            terms.maturity = conditions.subscription_maturity.map(|m| Maturity {
                cycle: m.billing_cycle,
                recurring: m.recurring,
            });
        }
        if let Some(products) = self.products {
            terms.products = Some(filter(products));
        }
        if let Some(award) = self.award {
            offer.award = award_rule(award)?;
        }
        if let Some(caps) = self.caps {
            terms.caps = Caps {
                per_purchase: caps.per_purchase.map(|m| m.0),
                per_contact: caps
                    .per_contact
                    .map(|cap| {
                        Ok::<_, ApiError>(ContactCap {
                            period: one_of("caps.per_contact.period", &cap.period, &PERIODS)?,
                            amount: cap.amount.0,
                        })
                    })
                    .transpose()?,
                budget: caps.budget.map(|m| m.0),
            };
        }
        if let Some(destination) = self.destination {
            terms.destination = destination_of(destination)?;
        }
        if let Some(combination) = self.combination {
            terms.combination = match (combination.rule.as_str(), combination.group) {
                ("STACK", None) => Combination::Stack,
                ("BEST_OF", Some(group)) => Combination::BestOf(group.trim().to_string()),
                ("EXCLUSIVE", Some(group)) => Combination::Exclusive(group.trim().to_string()),
                ("STACK", Some(_)) => return Err(ApiError::invalid("combination.group", "a STACK offer has no group")),
                ("BEST_OF" | "EXCLUSIVE", None) => {
                    return Err(ApiError::invalid(
                        "combination.group",
                        "BEST_OF and EXCLUSIVE offers name their group",
                    ))
                }
                (other, _) => {
                    return Err(ApiError::invalid(
                        "combination.rule",
                        format!("combination.rule must be STACK, BEST_OF or EXCLUSIVE, not {other:?}"),
                    ))
                }
            };
        }
        Ok(())
    }
}

fn award_rule(award: AwardBody) -> Result<AwardRule, ApiError> {
    Ok(AwardRule {
        kind: one_of("award.type", &award.award_type, &KINDS)?,
        value: award.value.0,
        expiry_days: award.expiry_days,
    })
}

fn segment_conditions(segment: SegmentBody) -> Result<Vec<SegmentCondition>, ApiError> {
    let mut conditions = Vec::new();
    if let Some(genders) = segment.genders {
        conditions.push(SegmentCondition::Gender(
            genders
                .iter()
                .map(|gender| one_of("segment.genders", gender, &GENDERS))
                .collect::<Result<_, _>>()?,
        ));
    }
    if let Some(age) = segment.age {
        conditions.push(SegmentCondition::Age {
            min: age.min,
            max: age.max,
        });
    }
    if let Some(codes) = segment.language_codes {
        conditions.push(SegmentCondition::LanguageCode(codes));
    }
    for field in segment.custom_fields.unwrap_or_default() {
        conditions.push(SegmentCondition::CustomField {
            key: field.key,
            value: field.value,
        });
    }
    Ok(conditions)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferView {
    pub id: String,
    pub name: String,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terms_and_conditions: Option<String>,
    pub goal: &'static str,
    #[serde(rename = "type")]
    pub offer_type: &'static str,
    pub is_featured: bool,
    pub performance_enabled: bool,
    pub owner: IdRef,
    pub availability: Availability,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleBody>,
    pub targets: TargetsBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentBody>,
    pub conditions: ConditionsBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub products: Option<ProductsBody>,
    pub award: AwardBody,
    pub caps: CapsBody,
    pub destination: DestinationBody,
    pub combination: CombinationBody,
    /// For an offer with a budget (on reads of one offer): what it has awarded, what running
    /// purchases hold, and what is left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_usage: Option<BudgetUsage>,
    pub created_date: i64,
    pub updated_date: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetUsage {
    pub used: Money,
    pub held: Money,
    pub left: Money,
}

impl BudgetUsage {
    pub fn of(total: rust_decimal::Decimal, state: &BudgetState) -> BudgetUsage {
        BudgetUsage {
            used: money(state.used.normalize()),
            held: money(state.held().normalize()),
            left: money(state.left(total).normalize()),
        }
    }
}

pub(crate) fn products_body(filter: &ProductFilter) -> ProductsBody {
    ProductsBody {
        skus: filter.skus.clone(),
        families: filter.families.clone(),
        brands: filter.brands.clone(),
        categories: filter.categories.clone(),
    }
}

pub(crate) fn id_refs<T: ToString>(ids: &[T]) -> Vec<IdRef> {
    ids.iter()
        .map(|id| IdRef {
            id: id.to_string(),
            name: None,
        })
        .collect()
}

impl OfferView {
    /// `business` is the tenant's organisation: the owner of an offer that names none.
    pub fn of(offer: &RewardOffer, business: OrganisationId) -> OfferView {
        let terms = &offer.terms;
        let segment = (!terms.segment.is_empty()).then(|| {
            let mut body = SegmentBody::default();
            for condition in &terms.segment {
                match condition {
                    SegmentCondition::Gender(genders) => {
                        body.genders = Some(genders.iter().map(|gender| gender.code().to_string()).collect())
                    }
                    SegmentCondition::Age { min, max } => body.age = Some(AgeRange { min: *min, max: *max }),
                    SegmentCondition::LanguageCode(codes) => body.language_codes = Some(codes.clone()),
                    SegmentCondition::CustomField { key, value } => {
                        body.custom_fields.get_or_insert_with(Vec::new).push(CustomFieldBody {
                            key: key.clone(),
                            value: value.clone(),
                        })
                    }
                }
            }
            body
        });
        OfferView {
            id: offer.id.to_string(),
            name: offer.name.clone(),
            state: state_name(offer.state),
            short_description: terms.short_description.clone(),
            long_description: terms.long_description.clone(),
            terms_and_conditions: terms.terms_and_conditions.clone(),
            goal: goal_name(terms.goal),
            offer_type: type_name(terms.offer_type),
            is_featured: terms.is_featured,
            performance_enabled: terms.performance_enabled,
            owner: IdRef {
                id: terms.owner.unwrap_or(business).to_string(),
                name: None,
            },
            availability: Availability {
                from: offer.available_from,
                to: offer.available_to,
            },
            schedule: terms.schedule.as_ref().map(|schedule| ScheduleBody {
                time_zone: schedule.time_zone.clone(),
                days: DAY_NAMES
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| schedule.days & (1 << index) != 0)
                    .map(|(_, name)| name.to_string())
                    .collect(),
                from: clock(schedule.from_minute),
                to: clock(schedule.to_minute),
            }),
            targets: TargetsBody {
                organisations: id_refs(&terms.targets.organisations),
                taps: id_refs(&terms.targets.taps),
            },
            scheme: terms.scheme.map(|scheme| IdRef {
                id: scheme.to_string(),
                name: None,
            }),
            segment,
            conditions: ConditionsBody {
                first_purchase_only: terms.first_purchase_only,
                minimum_spend: terms.minimum_spend.map(money),
                subscription_maturity: terms.maturity.map(|m| MaturityBody {
                    billing_cycle: m.cycle,
                    recurring: m.recurring,
                }),
            },
            products: terms.products.as_ref().map(products_body),
            award: AwardBody {
                award_type: name_of(offer.award.kind, &KINDS).to_string(),
                value: money(offer.award.value),
                expiry_days: offer.award.expiry_days,
            },
            caps: CapsBody {
                per_purchase: terms.caps.per_purchase.map(money),
                per_contact: terms.caps.per_contact.map(|cap| ContactCapBody {
                    period: cap.period.code().to_string(),
                    amount: money(cap.amount),
                }),
                budget: terms.caps.budget.map(money),
            },
            destination: match &terms.destination {
                Destination::Wallet => DestinationBody {
                    destination_type: "WALLET".into(),
                    spend_conditions: None,
                    commerce_pool: None,
                },
                Destination::InstantDiscount => DestinationBody {
                    destination_type: "INSTANT_DISCOUNT".into(),
                    spend_conditions: None,
                    commerce_pool: None,
                },
                Destination::Pool(conditions) => DestinationBody {
                    destination_type: "POOL".into(),
                    spend_conditions: Some(SpendConditionsBody {
                        organisations: id_refs(&conditions.organisations),
                        products: products_body(&conditions.products),
                    }),
                    commerce_pool: None,
                },
                Destination::CommercePool(id) => DestinationBody {
                    destination_type: "POOL".into(),
                    spend_conditions: None,
                    commerce_pool: Some(IdRef {
                        id: id.to_string(),
                        name: None,
                    }),
                },
            },
            combination: CombinationBody {
                rule: terms.combination.code().to_string(),
                group: terms.combination.group().map(str::to_string),
            },
            budget_usage: None,
            created_date: offer.created_on,
            updated_date: offer.updated_on,
        }
    }
}
