//! The award rule alone (no IO): a 10-line purchase evaluated against 100 active offers of
//! every kind (issue 19's target: at most 20 µs on one core), and against one offer.
//!
//! The 100 offers: 25 percentages of the total (ten in best-of groups, one exclusive that
//! the purchase misses), 25 percentages of lines by SKU, 20 per-quantity awards by family,
//! 10 with a schedule in Europe/Nicosia, 10 targeting organisations, 10 with a per-contact
//! daily cap and a minimum spend. The contact has earned from half of the capped offers.
//!
//! Run: `cargo bench --bench offers`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rewards_engine::domain::ids::{OfferId, OrganisationId};
use rewards_engine::domain::money::Currency;
use rewards_engine::domain::offer::{
    AwardKind, AwardRule, CapPeriod, Combination, ContactCap, LineClass, OfferSet, OfferState, OfferTerms,
    ProductFilter, PurchaseFacts, RewardHistory, RewardOffer, Schedule,
};
use rewards_engine::domain::purchase::ProductLine;
use rust_decimal::Decimal;

/// Wednesday 2026-11-25 12:00 UTC.
const DATE: i64 = 1_795_608_000;

fn offer(n: usize, kind: AwardKind, value: Decimal) -> RewardOffer {
    RewardOffer {
        id: OfferId(uuid::Uuid::from_u128(n as u128 + 1)),
        name: format!("Offer {n}"),
        state: OfferState::Active,
        available_from: Some(DATE - 86_400),
        available_to: Some(DATE + 86_400),
        award: AwardRule {
            kind,
            value,
            expiry_days: Some(30),
        },
        created_on: 0,
        updated_on: 0,
        terms: OfferTerms::default(),
    }
}

fn skus(from: usize) -> Vec<String> {
    (from..from + 5).map(|n| format!("SKU-{n}")).collect()
}

fn hundred_offers(venue: OrganisationId) -> Vec<RewardOffer> {
    let mut offers = Vec::new();
    for n in 0..100 {
        let mut o = match n {
            0..25 => {
                let mut o = offer(n, AwardKind::Percentage, Decimal::new(5, 0));
                if n < 10 {
                    o.terms.combination = Combination::BestOf(format!("group-{}", n % 3));
                }
                if n == 24 {
                    o.terms.combination = Combination::Exclusive("vip".into());
                    o.terms.minimum_spend = Some(Decimal::new(10_000, 0));
                }
                o
            }
            25..50 => {
                let mut o = offer(n, AwardKind::Percentage, Decimal::new(10, 0));
                o.terms.products = Some(ProductFilter {
                    skus: skus(n % 12),
                    ..ProductFilter::default()
                });
                o
            }
            50..70 => {
                let mut o = offer(n, AwardKind::PerQuantity, Decimal::new(25, 2));
                o.terms.products = Some(ProductFilter {
                    families: vec![format!("FAMILY-{}", n % 4)],
                    ..ProductFilter::default()
                });
                o
            }
            70..80 => {
                let mut o = offer(n, AwardKind::Fixed, Decimal::ONE);
                o.terms.schedule = Some(Schedule {
                    time_zone: "Europe/Nicosia".into(),
                    days: 0x7f,
                    from_minute: 11 * 60,
                    to_minute: 15 * 60,
                });
                o
            }
            80..90 => {
                let mut o = offer(n, AwardKind::Fixed, Decimal::TWO);
                let mut targets: Vec<OrganisationId> = (0..4).map(|_| OrganisationId::random()).collect();
                if n % 2 == 0 {
                    targets.push(venue);
                }
                o.terms.targets.organisations = targets;
                o
            }
            _ => {
                let mut o = offer(n, AwardKind::Percentage, Decimal::new(3, 0));
                o.terms.minimum_spend = Some(Decimal::new(20, 0));
                o.terms.caps.per_contact = Some(ContactCap {
                    period: CapPeriod::Day,
                    amount: Decimal::new(5, 0),
                });
                o
            }
        };
        o.name = format!("Offer {n}");
        offers.push(o);
    }
    offers
}

fn lines() -> (Vec<ProductLine>, Vec<LineClass>) {
    (0..10)
        .map(|n| {
            (
                ProductLine {
                    product_sku: format!("SKU-{n}"),
                    quantity: Decimal::from(n % 3 + 1),
                    net_amount: None,
                    tax_amount: None,
                    total_amount: Some(Decimal::new(450 + n as i64 * 10, 2)),
                },
                LineClass {
                    family: Some(format!("FAMILY-{}", n % 4)),
                    brand: None,
                    category: None,
                },
            )
        })
        .unzip()
}

fn evaluation(c: &mut Criterion) {
    let eur = Currency::parse("EUR").unwrap();
    let venue = OrganisationId::random();
    let business = OrganisationId::random();
    let places = [venue, business];
    let (products, classes) = lines();
    let total = products.iter().filter_map(|line| line.total_amount).sum::<Decimal>();
    let facts = PurchaseFacts {
        currency: eur,
        total,
        lines: &products,
        classes: &classes,
        date: DATE,
        now: DATE,
        places: &places,
        tap: None,
        schemes: &[],
        profile: None,
        unlocked: &[],
        billing_cycles: &[],
    };
    let offers = hundred_offers(venue);
    let mut history = RewardHistory::default();
    let capped: Vec<(OfferId, Decimal, bool)> = offers[90..95]
        .iter()
        .map(|offer| (offer.id, Decimal::TWO, true))
        .collect();
    history.record_purchase(DATE - 3_600, capped, DATE - 40 * 86_400);
    let hundred = OfferSet::new(offers.clone());
    let awarded = hundred.evaluate(&facts, &history).unwrap();
    assert!(awarded.len() > 50, "most offers award: {}", awarded.len());
    let one = OfferSet::new(vec![offers[0].clone()]);

    let mut group = c.benchmark_group("offer_evaluation");
    group.bench_function("10_lines_100_offers", |b| {
        b.iter(|| black_box(hundred.evaluate(black_box(&facts), &history)))
    });
    group.bench_function("10_lines_1_offer", |b| {
        b.iter(|| black_box(one.evaluate(black_box(&facts), &history)))
    });
    group.finish();
}

criterion_group!(benches, evaluation);
criterion_main!(benches);
