//! An offer's conditions that need no arithmetic: state, availability, targets, scheme,
//! segment, first purchase and subscription milestone (see `evaluate`).

use super::evaluate::{AwardHistory, PurchaseFacts, SegmentProfile};
use crate::domain::contact::Birthday;
use crate::domain::offer::schedule::local_time;
use crate::domain::offer::{OfferState, RewardOffer, SegmentCondition};
use jiff::tz::TimeZone;

/// The conditions that need no arithmetic.
pub(super) fn qualifies(offer: &RewardOffer, facts: &PurchaseFacts<'_>, history: &dyn AwardHistory) -> bool {
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
        && terms
            .maturity
            .is_none_or(|maturity| facts.billing_cycles.iter().any(|&renewed| maturity.reached_by(renewed)))
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
