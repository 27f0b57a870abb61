//! Table-driven tests of each rule kind and their combinations.

use super::*;
use crate::domain::contact::{Birthday, CustomField, Gender};
use crate::domain::purchase::ProductLine;
use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;

const MAX: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

/// Offer ids in a known order: `id(1) < id(2) < …`.
fn id(n: u128) -> OfferId {
    OfferId(uuid::Uuid::from_u128(n))
}

fn offer(n: u128, kind: AwardKind, value: &str) -> RewardOffer {
    RewardOffer {
        id: id(n),
        name: format!("Offer {n}"),
        state: OfferState::Active,
        available_from: None,
        available_to: None,
        award: AwardRule {
            kind,
            value: d(value),
            expiry_days: None,
        },
        created_on: 0,
        updated_on: 0,
        terms: OfferTerms::default(),
    }
}

fn line(sku: &str, quantity: &str, total: &str) -> ProductLine {
    ProductLine {
        product_sku: sku.into(),
        quantity: d(quantity),
        net_amount: None,
        tax_amount: None,
        total_amount: Some(d(total)),
    }
}

/// Awards per offer (by the number in its id) and what the contact earned before.
#[derive(Default)]
struct History {
    purchased: bool,
    earned: RefCell<HashMap<OfferId, Vec<(i64, Decimal)>>>,
}

impl AwardHistory for History {
    fn has_purchased(&self) -> bool {
        self.purchased
    }

    fn awarded_since(&self, offer: OfferId, since: i64) -> Decimal {
        self.earned
            .borrow()
            .get(&offer)
            .map(|awards| awards.iter().filter(|(at, _)| *at >= since).map(|(_, a)| *a).sum())
            .unwrap_or_default()
    }
}

struct Purchase {
    total: Decimal,
    lines: Vec<ProductLine>,
    classes: Vec<LineClass>,
    date: i64,
    places: Vec<OrganisationId>,
    tap: Option<TapId>,
    schemes: Vec<SchemeId>,
    profile: Option<SegmentProfile>,
    unlocked: Vec<OfferId>,
    locked: Vec<OfferId>,
    billing_cycles: Vec<u32>,
}

impl Purchase {
    fn of(total: &str) -> Purchase {
        Purchase {
            total: d(total),
            lines: vec![],
            classes: vec![],
            // Wednesday 2026-11-25 12:00 UTC.
            date: 1_795_608_000,
            places: vec![],
            tap: None,
            schemes: vec![],
            profile: None,
            unlocked: vec![],
            locked: vec![],
            billing_cycles: vec![],
        }
    }

    fn awards(&self, offers: &[RewardOffer], history: &dyn AwardHistory) -> Vec<(u128, String)> {
        self.evaluate(offers, history)
            .into_iter()
            .map(|award| (award.grant.offer_id.0.as_u128(), award.grant.amount.to_string()))
            .collect()
    }

    fn evaluate(&self, offers: &[RewardOffer], history: &dyn AwardHistory) -> Vec<EvaluatedAward> {
        let facts = PurchaseFacts {
            currency: eur(),
            total: self.total,
            lines: &self.lines,
            classes: &self.classes,
            date: self.date,
            now: self.date + 60,
            places: &self.places,
            tap: self.tap,
            schemes: &self.schemes,
            profile: self.profile.as_ref(),
            unlocked: &self.unlocked,
            billing_cycles: &self.billing_cycles,
        };
        OfferSet::new(offers.to_vec())
            .with_locked(&self.locked)
            .evaluate(&facts, history)
            .unwrap()
    }
}

fn awards(purchase: &Purchase, offers: &[RewardOffer]) -> Vec<(u128, String)> {
    purchase.awards(offers, &NoHistory)
}

#[test]
fn an_offer_behind_promotion_passes_applies_only_to_a_purchase_presenting_one() {
    let open = offer(1, AwardKind::Percentage, "10");
    let locked = offer(2, AwardKind::Percentage, "20");
    let mut purchase = Purchase::of("50.00");
    purchase.locked = vec![id(2)];
    assert_eq!(
        awards(&purchase, &[open.clone(), locked.clone()]),
        vec![(1, "5.00".into())],
        "locked: only the open offer"
    );
    purchase.unlocked = vec![id(2)];
    let mut unlocked = awards(&purchase, &[open, locked]);
    unlocked.sort();
    assert_eq!(unlocked, vec![(1, "5.00".into()), (2, "10.00".into())]);
}

#[test]
fn a_subscription_milestone_rewards_only_the_bill_renewing_its_cycle() {
    let milestone = |n: u128, cycle: u16, recurring: bool| {
        let mut o = offer(n, AwardKind::Fixed, "5");
        o.terms.offer_type = OfferType::SubscriptionMaturity;
        o.terms.maturity = Some(Maturity { cycle, recurring });
        assert_eq!(o.validate(eur(), MAX), Ok(()));
        o
    };
    let offers = [milestone(1, 3, false), milestone(2, 2, true)];
    let at = |cycles: &[u32]| {
        let mut purchase = Purchase::of("20.00");
        purchase.billing_cycles = cycles.to_vec();
        awards(&purchase, &offers)
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
    };
    // (cycles the bill renews, offers that award): not a bill, cycle 1, 2, 3, 4, 6, a bill
    // catching up on cycles 5 to 7.
    let table: [(&[u32], &[u128]); 7] = [
        (&[], &[]),
        (&[1], &[]),
        (&[2], &[2]),
        (&[3], &[1]),
        (&[4], &[2]),
        (&[5, 6, 7], &[2]),
        (&[9], &[]),
    ];
    for (cycles, expected) in table {
        assert_eq!(at(cycles), expected, "cycles {cycles:?}");
    }
    let mut plain = offer(3, AwardKind::Fixed, "5");
    plain.terms.maturity = Some(Maturity {
        cycle: 2,
        recurring: false,
    });
    assert_eq!(
        plain.validate(eur(), MAX).unwrap_err().field(),
        "conditions.subscription_maturity"
    );
    plain.terms.offer_type = OfferType::SubscriptionMaturity;
    plain.terms.maturity = None;
    assert_eq!(
        plain.validate(eur(), MAX).unwrap_err().field(),
        "conditions.subscription_maturity"
    );
    plain.terms.maturity = Some(Maturity {
        cycle: 0,
        recurring: true,
    });
    assert_eq!(
        plain.validate(eur(), MAX).unwrap_err().field(),
        "conditions.subscription_maturity.billing_cycle"
    );
}

#[test]
fn each_award_kind_on_the_total_and_on_lines() {
    let mut purchase = Purchase::of("30.00");
    purchase.lines = vec![
        line("COFFEE", "2", "6.00"),
        line("CAKE", "1", "4.50"),
        line("COFFEE", "1", "3.00"),
        line("TEA", "3", "16.50"),
    ];
    purchase.classes = vec![
        LineClass::default(),
        LineClass {
            family: Some("BAKERY".into()),
            ..LineClass::default()
        },
    ];
    let coffee = ProductFilter {
        skus: vec!["COFFEE".into()],
        ..ProductFilter::default()
    };
    let bakery = ProductFilter {
        families: vec!["BAKERY".into()],
        ..ProductFilter::default()
    };
    let with_products = |mut offer: RewardOffer, filter: &ProductFilter| {
        offer.terms.products = Some(filter.clone());
        offer
    };
    let table: Vec<(&str, RewardOffer, Option<&str>)> = vec![
        ("10% of the total", offer(1, AwardKind::Percentage, "10"), Some("3.00")),
        ("fixed per purchase", offer(1, AwardKind::Fixed, "2.5"), Some("2.5")),
        (
            "10% of the coffee lines (9.00)",
            with_products(offer(1, AwardKind::Percentage, "10"), &coffee),
            Some("0.90"),
        ),
        (
            "0.25 per coffee (3)",
            with_products(offer(1, AwardKind::PerQuantity, "0.25"), &coffee),
            Some("0.75"),
        ),
        (
            "50% of the bakery family's line",
            with_products(offer(1, AwardKind::Percentage, "50"), &bakery),
            Some("2.25"),
        ),
        (
            "fixed once when a coffee is bought",
            with_products(offer(1, AwardKind::Fixed, "1"), &coffee),
            Some("1"),
        ),
        (
            "nothing when no line matches",
            with_products(
                offer(1, AwardKind::Fixed, "1"),
                &ProductFilter {
                    brands: vec!["ACME".into()],
                    ..ProductFilter::default()
                },
            ),
            None,
        ),
        (
            "a third of a cent rounds",
            offer(1, AwardKind::Percentage, "0.01"),
            None, // 0.003 rounds to 0.00: no award
        ),
    ];
    for (case, offer, expected) in table {
        let got = awards(&purchase, &[offer]);
        let expected: Vec<(u128, String)> = expected.map(|amount| (1, amount.to_string())).into_iter().collect();
        assert_eq!(got, expected, "{case}");
    }
}

#[test]
fn offers_sharing_a_filter_each_award_on_its_lines_and_long_purchases_match_past_128_lines() {
    let coffee = ProductFilter {
        skus: vec!["COFFEE".into()],
        ..ProductFilter::default()
    };
    let with_products = |mut offer: RewardOffer| {
        offer.terms.products = Some(coffee.clone());
        offer
    };
    let offers = [
        with_products(offer(1, AwardKind::Percentage, "10")),
        with_products(offer(2, AwardKind::PerQuantity, "0.25")),
        offer(3, AwardKind::Percentage, "1"),
        with_products(offer(4, AwardKind::Fixed, "1")),
    ];
    let mut short = Purchase::of("13.50");
    short.lines = vec![
        line("COFFEE", "2", "6.00"),
        line("TEA", "1", "4.50"),
        line("COFFEE", "1", "3.00"),
    ];
    let expected = [(1, "0.90"), (2, "0.75"), (3, "0.14"), (4, "1")].map(|(id, amount)| (id, amount.to_string()));
    assert_eq!(awards(&short, &offers), expected);
    // 200 lines: the coffees are lines 0 and 150 (past the 128 a mask holds).
    let mut long = Purchase::of("213.00");
    long.lines = (0..200)
        .map(|n| match n {
            0 => line("COFFEE", "2", "6.00"),
            150 => line("COFFEE", "1", "3.00"),
            _ => line("TEA", "1", "1.02"),
        })
        .collect();
    let expected = [(1, "0.90"), (2, "0.75"), (3, "2.13"), (4, "1")].map(|(id, amount)| (id, amount.to_string()));
    assert_eq!(awards(&long, &offers), expected);
    let explained = long.evaluate(&offers, &NoHistory);
    assert_eq!(explained[0].explanation.basis.lines(), [0, 150]);
}

#[test]
fn conditions_each_decide_whether_an_offer_applies() {
    let business = OrganisationId(uuid::Uuid::from_u128(100));
    let venue = OrganisationId(uuid::Uuid::from_u128(101));
    let other_venue = OrganisationId(uuid::Uuid::from_u128(102));
    let tap = TapId(uuid::Uuid::from_u128(200));
    let scheme = SchemeId(uuid::Uuid::from_u128(300));
    let base = || offer(1, AwardKind::Fixed, "1");
    let with = |change: &dyn Fn(&mut RewardOffer)| {
        let mut offer = base();
        change(&mut offer);
        offer
    };
    let mut at_venue = Purchase::of("20");
    at_venue.places = vec![venue, business];
    at_venue.tap = Some(tap);
    at_venue.schemes = vec![scheme];
    at_venue.profile = Some(SegmentProfile {
        gender: Some(Gender::Female),
        date_of_birth: Some(Birthday {
            day: 26,
            month: 11,
            year: 2000,
        }),
        language_code: Some("el".into()),
        custom_fields: vec![CustomField {
            key: "tier".into(),
            value: "gold".into(),
        }],
    });
    let table: Vec<(&str, RewardOffer, bool)> = vec![
        ("no conditions", base(), true),
        ("inactive", with(&|o| o.state = OfferState::Inactive), false),
        (
            "available later",
            with(&|o| o.available_from = Some(at_venue.date + 1)),
            false,
        ),
        (
            "available until the date, inclusive",
            with(&|o| o.available_to = Some(at_venue.date)),
            true,
        ),
        (
            "targets the business above the venue",
            with(&|o| o.terms.targets.organisations = vec![business]),
            true,
        ),
        (
            "targets another venue",
            with(&|o| o.terms.targets.organisations = vec![other_venue]),
            false,
        ),
        ("targets the till", with(&|o| o.terms.targets.taps = vec![tap]), true),
        ("member of the scheme", with(&|o| o.terms.scheme = Some(scheme)), true),
        (
            "not a member of that scheme",
            with(&|o| o.terms.scheme = Some(SchemeId(uuid::Uuid::from_u128(301)))),
            false,
        ),
        (
            "in the gender segment",
            with(&|o| o.terms.segment = vec![SegmentCondition::Gender(vec![Gender::Female])]),
            true,
        ),
        (
            "25 the day before the 26th birthday",
            with(&|o| {
                o.terms.segment = vec![SegmentCondition::Age {
                    min: Some(26),
                    max: None,
                }]
            }),
            false,
        ),
        (
            "at most 25",
            with(&|o| {
                o.terms.segment = vec![SegmentCondition::Age {
                    min: None,
                    max: Some(25),
                }]
            }),
            true,
        ),
        (
            "language, any case",
            with(&|o| o.terms.segment = vec![SegmentCondition::LanguageCode(vec!["EL".into()])]),
            true,
        ),
        (
            "custom field and gender, both needed",
            with(&|o| {
                o.terms.segment = vec![
                    SegmentCondition::CustomField {
                        key: "tier".into(),
                        value: "gold".into(),
                    },
                    SegmentCondition::Gender(vec![Gender::Male]),
                ]
            }),
            false,
        ),
        (
            "minimum spend reached",
            with(&|o| o.terms.minimum_spend = Some(d("20"))),
            true,
        ),
        (
            "minimum spend missed",
            with(&|o| o.terms.minimum_spend = Some(d("20.01"))),
            false,
        ),
        (
            "Wednesday noon in Nicosia is 14:00, inside 13-15",
            with(&|o| {
                o.terms.schedule = Some(Schedule {
                    time_zone: "Europe/Nicosia".into(),
                    days: 1 << 2,
                    from_minute: 13 * 60,
                    to_minute: 15 * 60,
                })
            }),
            true,
        ),
        (
            "but not on Tuesdays",
            with(&|o| {
                o.terms.schedule = Some(Schedule {
                    time_zone: "Europe/Nicosia".into(),
                    days: 1 << 1,
                    from_minute: 13 * 60,
                    to_minute: 15 * 60,
                })
            }),
            false,
        ),
        (
            "first purchase only, and it is",
            with(&|o| o.terms.first_purchase_only = true),
            true,
        ),
    ];
    for (case, offer, applies) in table {
        assert_eq!(!awards(&at_venue, &[offer]).is_empty(), applies, "{case}");
    }
    let returning = History {
        purchased: true,
        ..History::default()
    };
    let first_only = with(&|o| o.terms.first_purchase_only = true);
    assert!(
        at_venue.awards(&[first_only], &returning).is_empty(),
        "a second purchase"
    );
    let mut no_profile = Purchase::of("20");
    no_profile.profile = None;
    let segmented = with(&|o| o.terms.segment = vec![SegmentCondition::Gender(vec![Gender::Female])]);
    assert!(awards(&no_profile, &[segmented]).is_empty(), "no profile, no segment");
}

#[test]
fn caps_trim_awards_and_say_so() {
    let purchase = Purchase::of("100");
    let mut capped = offer(1, AwardKind::Percentage, "10");
    capped.terms.caps.per_purchase = Some(d("4"));
    capped.terms.caps.per_contact = Some(ContactCap {
        period: CapPeriod::Day,
        amount: d("5"),
    });
    let history = History::default();
    let first = purchase.evaluate(std::slice::from_ref(&capped), &history);
    assert_eq!(first[0].grant.amount, d("4"));
    assert_eq!(first[0].explanation.computed, d("10"));
    assert_eq!(first[0].explanation.trims, vec![CapTrim::PerPurchase(d("4"))]);
    // Earlier today the contact earned 4: one more is left today.
    history
        .earned
        .borrow_mut()
        .insert(id(1), vec![(purchase.date - 3_600, d("4"))]);
    let second = purchase.evaluate(std::slice::from_ref(&capped), &history);
    assert_eq!(second[0].grant.amount, d("1"));
    assert_eq!(
        second[0].explanation.trims,
        vec![
            CapTrim::PerPurchase(d("4")),
            CapTrim::PerContact(CapPeriod::Day, d("1"))
        ]
    );
    // Yesterday's awards count toward the month, not the day.
    history
        .earned
        .borrow_mut()
        .insert(id(1), vec![(purchase.date - 86_400, d("5"))]);
    assert_eq!(
        purchase.evaluate(std::slice::from_ref(&capped), &history)[0]
            .grant
            .amount,
        d("4")
    );
    capped.terms.caps.per_contact = Some(ContactCap {
        period: CapPeriod::Month,
        amount: d("5"),
    });
    assert!(
        purchase.evaluate(&[capped], &history).is_empty(),
        "the month's cap is used up"
    );
    let mut award = purchase
        .evaluate(&[offer(2, AwardKind::Fixed, "3")], &NoHistory)
        .remove(0);
    award.trim_to_budget(d("1.5"));
    assert_eq!(award.grant.amount, d("1.5"));
    assert_eq!(award.explanation.trims, vec![CapTrim::Budget(d("1.5"))]);
}

#[test]
fn offers_combine_by_their_rule_whatever_order_they_were_made_in() {
    let purchase = Purchase::of("100");
    let rule = |n: u128, value: &str, combination: Combination| {
        let mut offer = offer(n, AwardKind::Fixed, value);
        offer.terms.combination = combination;
        offer
    };
    let best = |group: &str| Combination::BestOf(group.into());
    let exclusive = |group: &str| Combination::Exclusive(group.into());
    let table: Vec<(&str, Vec<RewardOffer>, Vec<u128>)> = vec![
        (
            "stacking offers all award",
            vec![rule(1, "1", Combination::Stack), rule(2, "2", Combination::Stack)],
            vec![1, 2],
        ),
        (
            "best of a group, plus the stacking one",
            vec![
                rule(1, "1", best("g")),
                rule(2, "3", best("g")),
                rule(3, "2", best("h")),
                rule(4, "1", Combination::Stack),
            ],
            vec![2, 3, 4],
        ),
        (
            "a best-of tie goes to the smaller id",
            vec![rule(2, "3", best("g")), rule(1, "3", best("g"))],
            vec![1],
        ),
        (
            "an exclusive award is the only one, the largest exclusive wins",
            vec![
                rule(1, "9", Combination::Stack),
                rule(2, "2", exclusive("x")),
                rule(3, "5", exclusive("y")),
            ],
            vec![3],
        ),
    ];
    for (case, offers, expected) in table {
        let forwards: Vec<u128> = awards(&purchase, &offers).into_iter().map(|(n, _)| n).collect();
        let mut reversed_offers = offers.clone();
        reversed_offers.reverse();
        let backwards: Vec<u128> = awards(&purchase, &reversed_offers)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(forwards, expected, "{case}");
        assert_eq!(backwards, expected, "{case}, offers given in reverse");
    }
    // An exclusive offer that awards nothing (minimum missed) excludes nothing.
    let mut unreached = rule(1, "50", exclusive("x"));
    unreached.terms.minimum_spend = Some(d("500"));
    let got: Vec<u128> = awards(&purchase, &[unreached, rule(2, "1", Combination::Stack)])
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(got, vec![2]);
}

#[test]
fn explanations_name_the_rule_and_the_lines() {
    let mut purchase = Purchase::of("12");
    purchase.lines = vec![line("A", "1", "2"), line("B", "2", "10")];
    let mut per_b = offer(1, AwardKind::PerQuantity, "0.5");
    per_b.award.expiry_days = Some(30);
    per_b.terms.products = Some(ProductFilter {
        skus: vec!["B".into()],
        ..ProductFilter::default()
    });
    let award = purchase.evaluate(&[per_b], &NoHistory).remove(0);
    assert_eq!(award.grant.expires_at, Some(purchase.date + 60 + 30 * SECONDS_PER_DAY));
    let explanation = award.explanation;
    assert_eq!(explanation.basis.lines(), vec![1]);
    assert_eq!(
        (explanation.basis_amount, explanation.computed, explanation.amount),
        (d("2"), d("1.0"), d("1.0"))
    );
    assert_eq!(
        (explanation.kind, explanation.combination),
        (AwardKind::PerQuantity, Combination::Stack)
    );
}

#[test]
fn impossible_offers_are_refused_naming_the_field() {
    let eur = eur();
    let refused = |change: &dyn Fn(&mut RewardOffer), expected_field: &str| {
        let mut bad = offer(1, AwardKind::Percentage, "10");
        change(&mut bad);
        let error = bad.validate(eur, MAX).expect_err(expected_field);
        assert_eq!(error.field(), expected_field, "{error}");
    };
    refused(&|o| o.award.value = d("101"), "award.value");
    refused(&|o| o.award.value = d("0"), "award.value");
    refused(
        &|o| {
            o.award.kind = AwardKind::Fixed;
            o.award.value = d("1.001")
        },
        "award.value",
    );
    refused(&|o| o.terms.caps.per_purchase = Some(d("-1")), "caps.per_purchase");
    refused(&|o| o.terms.caps.budget = Some(d("0")), "caps.budget");
    refused(
        &|o| {
            o.terms.caps.per_contact = Some(ContactCap {
                period: CapPeriod::Week,
                amount: d("0.001"),
            })
        },
        "caps.per_contact.amount",
    );
    refused(&|o| o.terms.products = Some(ProductFilter::default()), "products");
    refused(&|o| o.award.kind = AwardKind::PerQuantity, "products");
    refused(
        &|o| o.terms.segment = vec![SegmentCondition::Gender(vec![])],
        "segment.genders",
    );
    refused(
        &|o| {
            o.terms.segment = vec![SegmentCondition::Age {
                min: Some(30),
                max: Some(20),
            }]
        },
        "segment.age",
    );
    refused(
        &|o| {
            o.terms.schedule = Some(Schedule {
                time_zone: "Nowhere/Else".into(),
                days: 1,
                from_minute: 0,
                to_minute: 60,
            })
        },
        "schedule",
    );
    refused(
        &|o| o.terms.destination = Destination::Pool(SpendConditions::default()),
        "destination.spend_conditions",
    );
    refused(
        &|o| o.terms.combination = Combination::BestOf(" ".into()),
        "combination.group",
    );
    refused(&|o| o.award.expiry_days = Some(0), "award.expiry_days");
    offer(1, AwardKind::Percentage, "100").validate(eur, MAX).unwrap();
}

#[test]
fn a_group_has_one_rule() {
    let mut best = offer(1, AwardKind::Fixed, "1");
    best.terms.combination = Combination::BestOf("g".into());
    let mut exclusive = offer(2, AwardKind::Fixed, "1");
    exclusive.terms.combination = Combination::Exclusive("g".into());
    let error = check_combination(&exclusive, std::slice::from_ref(&best)).unwrap_err();
    assert_eq!(error.field(), "combination.group");
    let mut same = offer(3, AwardKind::Fixed, "1");
    same.terms.combination = Combination::BestOf("g".into());
    check_combination(&same, &[best]).unwrap();
}

#[path = "tests_properties.rs"]
mod properties;
