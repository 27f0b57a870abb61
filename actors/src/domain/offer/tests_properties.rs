//! Properties of evaluation over random offers and purchases: combinations and caps hold.

use super::*;
use proptest::prelude::*;

/// (kind, value, per-purchase cap, daily per-contact cap, combination) of one offer.
fn an_offer() -> impl Strategy<Value = (u8, u32, Option<u32>, Option<u32>, u8)> {
    (
        0u8..3,
        1u32..60,
        proptest::option::of(1u32..20),
        proptest::option::of(1u32..30),
        0u8..4,
    )
}

fn build(
    n: usize,
    (kind, value, per_purchase, per_day, combination): (u8, u32, Option<u32>, Option<u32>, u8),
) -> RewardOffer {
    let kind = [AwardKind::Percentage, AwardKind::Fixed, AwardKind::PerQuantity][kind as usize];
    let mut offer = offer(n as u128 + 1, kind, &value.to_string());
    if kind == AwardKind::PerQuantity {
        offer.terms.products = Some(ProductFilter {
            skus: vec!["A".into()],
            ..ProductFilter::default()
        });
    }
    offer.terms.caps.per_purchase = per_purchase.map(Decimal::from);
    offer.terms.caps.per_contact = per_day.map(|amount| ContactCap {
        period: CapPeriod::Day,
        amount: Decimal::from(amount),
    });
    offer.terms.combination = match combination {
        0 | 1 => Combination::Stack,
        2 => Combination::BestOf("g".into()),
        _ => Combination::Exclusive("x".into()),
    };
    offer
}

proptest! {
    /// Whatever the offers and the purchases: no award passes its per-purchase cap, no
    /// contact passes an offer's daily cap, a best-of group awards once, and an exclusive
    /// award stands alone.
    #[test]
    fn awards_never_pass_their_caps(
        specs in proptest::collection::vec(an_offer(), 1..6),
        purchases in proptest::collection::vec((1u32..500, 1u32..5, 0i64..3), 1..12),
    ) {
        let offers: Vec<RewardOffer> = specs.into_iter().enumerate().map(|(n, spec)| build(n, spec)).collect();
        let set = OfferSet::new(offers.clone());
        let mut history = RewardHistory::default();
        let mut per_day: HashMap<(OfferId, i64), Decimal> = HashMap::new();
        for (total, quantity, day) in purchases {
            let date = 1_795_608_000 + day * 86_400;
            let lines = [line("A", &quantity.to_string(), &total.to_string())];
            let facts = PurchaseFacts {
                currency: eur(),
                total: Decimal::from(total),
                lines: &lines,
                classes: &[],
                date,
                now: date,
                places: &[],
                tap: None,
                schemes: &[],
                profile: None,
                unlocked: &[],
                billing_cycles: &[],
            };
            let awards = set.evaluate(&facts, &history).unwrap();
            let groups: Vec<&Combination> = awards.iter().map(|a| &a.explanation.combination).collect();
            prop_assert!(groups.iter().filter(|c| matches!(c, Combination::BestOf(_))).count() <= 1);
            if groups.iter().any(|c| matches!(c, Combination::Exclusive(_))) {
                prop_assert_eq!(awards.len(), 1);
            }
            for award in &awards {
                let offer = offers.iter().find(|o| o.id == award.grant.offer_id).unwrap();
                prop_assert!(award.grant.amount > Decimal::ZERO);
                if let Some(cap) = offer.terms.caps.per_purchase {
                    prop_assert!(award.grant.amount <= cap);
                }
                let earned = per_day.entry((offer.id, day)).or_default();
                *earned += award.grant.amount;
                if let Some(cap) = offer.terms.caps.per_contact {
                    prop_assert!(*earned <= cap.amount, "{} > {}", earned, cap.amount);
                }
            }
            history.record_purchase(
                date,
                awards.iter().map(|a| (a.grant.offer_id, a.grant.amount, true)),
                0,
            );
        }
    }
}
