//! The award rule: a pure function from (offers, purchase, contact facts) to awards, each
//! with the explanation of how it came about. No IO: the caller gathers the facts (where the
//! sale was made, the contact's schemes and profile) and the contact's award history.
//!
//! For each offer, in offer-id order: it must be active and available on the purchase date,
//! the sale must be at a target, the contact in the scheme and the segment, the time inside
//! the schedule, the purchase the contact's first when the offer says so. Its basis (the
//! purchase total, or the matching lines' total and quantity) must reach the minimum spend.
//! The award is computed on the basis, then trimmed by the per-purchase cap and by what is
//! left of the per-contact cap for the period. Offers then combine (`Combination`): every
//! STACK award stands, a BEST_OF group keeps its largest, and if any EXCLUSIVE offer awards,
//! the largest exclusive award is the only one. Ties go to the smaller offer id, so the
//! outcome never depends on the order offers were made in.

use super::schedule::{local_time, period_start};
use super::{AwardKind, Combination, OfferState, RewardOffer, SegmentCondition, SECONDS_PER_DAY};
use crate::domain::contact::{Birthday, CustomField, Gender};
use crate::domain::ids::{OfferId, OrganisationId, SchemeId, TapId};
use crate::domain::money::Currency;
use crate::domain::purchase::ProductLine;
use crate::domain::wallet::AwardGrant;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What a till says about a purchase line beyond its SKU.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineClass {
    pub family: Option<String>,
    pub brand: Option<String>,
    pub category: Option<String>,
}

impl LineClass {
    pub fn is_empty(&self) -> bool {
        self.family.is_none() && self.brand.is_none() && self.category.is_none()
    }
}

/// The contact attributes segment conditions read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentProfile {
    pub gender: Option<Gender>,
    pub date_of_birth: Option<Birthday>,
    pub language_code: Option<String>,
    pub custom_fields: Vec<CustomField>,
}

/// What the contact earned before: the wallet's actor keeps it.
pub trait AwardHistory {
    /// Whether the contact has a posted purchase already.
    fn has_purchased(&self) -> bool;
    /// What `offer` awarded the contact on purchases dated at or after `since`, net of
    /// cancellations.
    fn awarded_since(&self, offer: OfferId, since: i64) -> Decimal;
}

/// A contact with no purchases and no awards.
pub struct NoHistory;

impl AwardHistory for NoHistory {
    fn has_purchased(&self) -> bool {
        false
    }

    fn awarded_since(&self, _offer: OfferId, _since: i64) -> Decimal {
        Decimal::ZERO
    }
}

/// A purchase as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct PurchaseFacts<'a> {
    pub currency: Currency,
    pub total: Decimal,
    pub lines: &'a [ProductLine],
    /// Line by line with `lines` (shorter when the till classified fewer).
    pub classes: &'a [LineClass],
    /// The date offers are evaluated at.
    pub date: i64,
    /// When awards are credited (their expiry counts from it).
    pub now: i64,
    /// Where the sale was made, then each organisation above it.
    pub places: &'a [OrganisationId],
    pub tap: Option<TapId>,
    /// The schemes the contact is signed up to.
    pub schemes: &'a [SchemeId],
    pub profile: Option<&'a SegmentProfile>,
}

/// Facts about a sale that the engine gathers before the wallet's actor evaluates it (only
/// those some active offer reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaleFacts {
    /// Where the sale was made, then each organisation above it.
    pub places: Vec<OrganisationId>,
    pub tap: Option<TapId>,
    pub schemes: Vec<SchemeId>,
    pub profile: Option<SegmentProfile>,
}

/// What an award was computed on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Basis {
    /// The purchase total (and, for per-quantity awards, every line's quantity).
    Total,
    /// These purchase lines (indexes into `products`).
    Lines(Vec<u16>),
}

/// The cap that lowered an award, and to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CapTrim {
    PerPurchase(#[serde(with = "crate::domain::money::exact_decimal")] Decimal),
    PerContact(
        super::CapPeriod,
        #[serde(with = "crate::domain::money::exact_decimal")] Decimal,
    ),
    Budget(#[serde(with = "crate::domain::money::exact_decimal")] Decimal),
}

/// How one award came about: kept with the purchase and shown with its rewards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardExplanation {
    pub offer_id: OfferId,
    /// The offer's name when it awarded.
    pub offer_name: String,
    pub kind: AwardKind,
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub value: Decimal,
    pub basis: Basis,
    /// The money (percentage, fixed) or quantity (per quantity) the value applied to.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub basis_amount: Decimal,
    /// The award before caps.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub computed: Decimal,
    /// Caps that lowered it, in the order they applied; each names the amount after it.
    pub trims: Vec<CapTrim>,
    pub combination: Combination,
    /// The award given.
    #[serde(with = "crate::domain::money::exact_decimal")]
    pub amount: Decimal,
    /// Whether it came out of the offer's budget (a cancellation gives it back).
    pub budgeted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluatedAward {
    pub grant: AwardGrant,
    pub explanation: AwardExplanation,
}

impl EvaluatedAward {
    /// Lowers the award to what is left of the offer's budget.
    pub fn trim_to_budget(&mut self, left: Decimal) {
        if left < self.grant.amount {
            let left = left.max(Decimal::ZERO);
            self.grant.amount = left;
            self.explanation.amount = left;
            self.explanation.trims.push(CapTrim::Budget(left));
        }
    }
}

struct Compiled {
    offer: RewardOffer,
    /// The schedule's zone: day, week and month caps count on its calendar (UTC without).
    zone: TimeZone,
}

/// A tenant's offers, ready to evaluate: in id order, time zones resolved.
#[derive(Default)]
pub struct OfferSet {
    offers: Vec<Compiled>,
    needs_profile: bool,
    needs_places: bool,
    needs_schemes: bool,
    has_budgets: bool,
}

impl OfferSet {
    pub fn new(mut offers: Vec<RewardOffer>) -> OfferSet {
        offers.sort_by_key(|offer| offer.id);
        let active = || offers.iter().filter(|offer| offer.state == OfferState::Active);
        let needs_profile = active().any(|offer| !offer.terms.segment.is_empty());
        let needs_places = active().any(|offer| !offer.terms.targets.organisations.is_empty());
        let needs_schemes = active().any(|offer| offer.terms.scheme.is_some());
        let has_budgets = active().any(|offer| offer.terms.caps.budget.is_some());
        let offers = offers
            .into_iter()
            .map(|offer| Compiled {
                zone: offer
                    .terms
                    .schedule
                    .as_ref()
                    .and_then(|schedule| schedule.zone().ok())
                    .unwrap_or(TimeZone::UTC),
                offer,
            })
            .collect();
        OfferSet {
            offers,
            needs_profile,
            needs_places,
            needs_schemes,
            has_budgets,
        }
    }

    /// Whether an active offer has a budget (so purchases reserve from it first).
    pub fn has_budgets(&self) -> bool {
        self.has_budgets
    }

    pub fn get(&self, id: OfferId) -> Option<&RewardOffer> {
        self.offers
            .binary_search_by_key(&id, |compiled| compiled.offer.id)
            .ok()
            .map(|index| &self.offers[index].offer)
    }

    /// Whether an active offer targets organisations (so the caller resolves where the
    /// sale was made and the organisations above it).
    pub fn needs_places(&self) -> bool {
        self.needs_places
    }

    /// Whether an active offer is limited to a scheme's members.
    pub fn needs_schemes(&self) -> bool {
        self.needs_schemes
    }

    pub fn offers(&self) -> impl Iterator<Item = &RewardOffer> {
        self.offers.iter().map(|compiled| &compiled.offer)
    }

    pub fn len(&self) -> usize {
        self.offers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offers.is_empty()
    }

    /// Whether an active offer reads the contact's profile (so the caller need not load it
    /// otherwise).
    pub fn needs_profile(&self) -> bool {
        self.needs_profile
    }

    /// For each active offer with a budget that `facts` could earn from: (offer, budget, the
    /// most it could award). Each is an upper bound of what `evaluate` gives that offer, with
    /// any history and whatever it combines with, so holding it is always enough.
    pub fn budget_wants(&self, facts: &PurchaseFacts<'_>) -> Vec<(OfferId, Decimal, Decimal)> {
        let mut wants = Vec::new();
        for compiled in &self.offers {
            let offer = &compiled.offer;
            let Some(budget) = offer.terms.caps.budget else {
                continue;
            };
            if !qualifies(offer, facts, &NoHistory) {
                continue;
            }
            if let Some(schedule) = &offer.terms.schedule {
                if !local_time(&compiled.zone, facts.date).is_some_and(|local| schedule.contains(local)) {
                    continue;
                }
            }
            // NoHistory: nothing earned, so no per-contact cap trims; an overflow wants the
            // whole budget (evaluate then refuses the purchase anyway).
            let most = match award(compiled, facts, &NoHistory) {
                Some(Some(award)) => award.grant.amount,
                Some(None) => continue,
                None => budget,
            };
            wants.push((offer.id, budget, most));
        }
        wants
    }

    /// The awards `facts` earns, in offer-id order. `None` when a rule overflows (checked
    /// arithmetic; bounded purchases and offers never do).
    pub fn evaluate(&self, facts: &PurchaseFacts<'_>, history: &dyn AwardHistory) -> Option<Vec<EvaluatedAward>> {
        let mut candidates = Vec::new();
        let mut local_times: Vec<(&TimeZone, Option<jiff::civil::DateTime>)> = Vec::new();
        for compiled in &self.offers {
            let offer = &compiled.offer;
            if !qualifies(offer, facts, history) {
                continue;
            }
            if let Some(schedule) = &offer.terms.schedule {
                let local = match local_times.iter().find(|(zone, _)| *zone == &compiled.zone) {
                    Some((_, local)) => *local,
                    None => {
                        let local = local_time(&compiled.zone, facts.date);
                        local_times.push((&compiled.zone, local));
                        local
                    }
                };
                if !local.is_some_and(|local| schedule.contains(local)) {
                    continue;
                }
            }
            if let Some(award) = award(compiled, facts, history)? {
                candidates.push(award);
            }
        }
        Some(combine(candidates))
    }
}

/// The conditions that need no arithmetic.
fn qualifies(offer: &RewardOffer, facts: &PurchaseFacts<'_>, history: &dyn AwardHistory) -> bool {
    let terms = &offer.terms;
    offer.state == OfferState::Active
        && offer.available_from.is_none_or(|from| from <= facts.date)
        && offer.available_to.is_none_or(|to| facts.date <= to)
        && ((terms.targets.organisations.is_empty() && terms.targets.taps.is_empty())
            || facts
                .places
                .iter()
                .any(|place| terms.targets.organisations.contains(place))
            || facts.tap.is_some_and(|tap| terms.targets.taps.contains(&tap)))
        && terms.scheme.is_none_or(|scheme| facts.schemes.contains(&scheme))
        && (terms.segment.is_empty()
            || facts.profile.is_some_and(|profile| {
                terms
                    .segment
                    .iter()
                    .all(|condition| in_segment(condition, profile, facts.date))
            }))
        && !(terms.first_purchase_only && history.has_purchased())
}

fn in_segment(condition: &SegmentCondition, profile: &SegmentProfile, date: i64) -> bool {
    match condition {
        SegmentCondition::Gender(genders) => profile.gender.is_some_and(|gender| genders.contains(&gender)),
        SegmentCondition::Age { min, max } => profile
            .date_of_birth
            .and_then(|birth| age_on(birth, date))
            .is_some_and(|age| min.is_none_or(|min| age >= min) && max.is_none_or(|max| age <= max)),
        SegmentCondition::LanguageCode(codes) => profile
            .language_code
            .as_deref()
            .is_some_and(|code| codes.iter().any(|listed| listed.eq_ignore_ascii_case(code))),
        SegmentCondition::CustomField { key, value } => profile
            .custom_fields
            .iter()
            .any(|field| &field.key == key && &field.value == value),
    }
}

/// Whole years from `birth` to the (UTC) date of epoch second `date`.
fn age_on(birth: Birthday, date: i64) -> Option<u16> {
    let today = local_time(&TimeZone::UTC, date)?.date();
    let year = i32::from(today.year());
    let before_birthday = (today.month() as u8, today.day() as u8) < (birth.month, birth.day);
    let age = year - i32::from(birth.year) - i32::from(before_birthday);
    u16::try_from(age).ok()
}

/// A line's money: its total, else net plus tax, else net; a line without amounts adds
/// nothing.
fn line_amount(line: &ProductLine) -> Option<Decimal> {
    match (line.total_amount, line.net_amount, line.tax_amount) {
        (Some(total), _, _) => Some(total),
        (None, Some(net), Some(tax)) => net.checked_add(tax),
        (None, Some(net), None) => Some(net),
        _ => Some(Decimal::ZERO),
    }
}

/// The offer's award for the purchase before it combines with others; `Ok(None)` when it
/// awards nothing, `None` on overflow.
fn award(compiled: &Compiled, facts: &PurchaseFacts<'_>, history: &dyn AwardHistory) -> Option<Option<EvaluatedAward>> {
    let offer = &compiled.offer;
    let terms = &offer.terms;
    let (basis, money, quantity) = match &terms.products {
        None => {
            let quantity = facts
                .lines
                .iter()
                .try_fold(Decimal::ZERO, |sum, line| sum.checked_add(line.quantity))?;
            (Basis::Total, facts.total, quantity)
        }
        Some(filter) => {
            let mut matched = Vec::new();
            let mut money = Decimal::ZERO;
            let mut quantity = Decimal::ZERO;
            for (index, line) in facts.lines.iter().enumerate() {
                if filter.matches(&line.product_sku, facts.classes.get(index)) {
                    matched.push(u16::try_from(index).ok()?);
                    money = money.checked_add(line_amount(line)?)?;
                    quantity = quantity.checked_add(line.quantity)?;
                }
            }
            if matched.is_empty() {
                return Some(None);
            }
            (Basis::Lines(matched), money, quantity)
        }
    };
    if terms.minimum_spend.is_some_and(|minimum| money < minimum) {
        return Some(None);
    }
    let value = offer.award.value;
    let (basis_amount, computed) = match offer.award.kind {
        AwardKind::Percentage => (
            money,
            facts
                .currency
                .round_award(money.checked_mul(value)?.checked_div(Decimal::ONE_HUNDRED)?),
        ),
        AwardKind::Fixed => (money, value),
        AwardKind::PerQuantity => (quantity, facts.currency.round_award(quantity.checked_mul(value)?)),
    };
    let mut amount = computed;
    let mut trims = Vec::new();
    if let Some(cap) = terms.caps.per_purchase {
        if amount > cap {
            amount = cap;
            trims.push(CapTrim::PerPurchase(cap));
        }
    }
    if let Some(cap) = terms.caps.per_contact {
        let since = period_start(cap.period, &compiled.zone, facts.date);
        let left = cap
            .amount
            .checked_sub(history.awarded_since(offer.id, since))?
            .max(Decimal::ZERO);
        if amount > left {
            amount = left;
            trims.push(CapTrim::PerContact(cap.period, left));
        }
    }
    if amount <= Decimal::ZERO {
        return Some(None);
    }
    Some(Some(EvaluatedAward {
        grant: AwardGrant {
            offer_id: offer.id,
            amount,
            expires_at: offer.award.expiry_days.map(|days| {
                facts
                    .now
                    .saturating_add(i64::from(days).saturating_mul(SECONDS_PER_DAY))
            }),
        },
        explanation: AwardExplanation {
            offer_id: offer.id,
            offer_name: offer.name.clone(),
            kind: offer.award.kind,
            value,
            basis,
            basis_amount,
            computed,
            trims,
            combination: terms.combination.clone(),
            amount,
            budgeted: terms.caps.budget.is_some(),
        },
    }))
}

/// Applies the combination rules to the candidates (in offer-id order); keeps that order.
fn combine(candidates: Vec<EvaluatedAward>) -> Vec<EvaluatedAward> {
    // The larger award wins; on a tie, the smaller offer id (candidates come in id order, so
    // the first seen).
    let better = |challenger: &EvaluatedAward, holder: &EvaluatedAward| challenger.grant.amount > holder.grant.amount;
    let mut exclusive: Option<usize> = None;
    for (index, candidate) in candidates.iter().enumerate() {
        if matches!(candidate.explanation.combination, Combination::Exclusive(_))
            && exclusive.is_none_or(|best| better(candidate, &candidates[best]))
        {
            exclusive = Some(index);
        }
    }
    if let Some(winner) = exclusive {
        return candidates.into_iter().nth(winner).into_iter().collect();
    }
    let mut best_of: HashMap<&str, usize> = HashMap::new();
    for (index, candidate) in candidates.iter().enumerate() {
        if let Combination::BestOf(group) = &candidate.explanation.combination {
            let holder = best_of.entry(group.as_str()).or_insert(index);
            if better(candidate, &candidates[*holder]) {
                *holder = index;
            }
        }
    }
    let winners: Vec<usize> = best_of.into_values().collect();
    candidates
        .into_iter()
        .enumerate()
        .filter(|(index, candidate)| {
            matches!(candidate.explanation.combination, Combination::Stack) || winners.contains(index)
        })
        .map(|(_, candidate)| candidate)
        .collect()
}
