//! The tables of `domain::subscription`: cycles, proration, billing, credits, actions.
use super::*;
use crate::domain::product::{PriceModel, TaxModel, Tier};
use std::str::FromStr;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// Epoch seconds of a UTC date at midnight.
fn day(y: i32, m: u32, dd: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, m, dd)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

fn monthly() -> BillingPeriod {
    BillingPeriod {
        duration: 1,
        unit: PeriodUnit::Month,
    }
}

#[test]
fn cycles_follow_the_calendar_from_the_anchor() {
    let anchor = day(2026, 1, 31);
    // (period, moment, start, end)
    let table = [
        (monthly(), day(2026, 1, 31), day(2026, 1, 31), day(2026, 2, 28)),
        (monthly(), day(2026, 2, 28), day(2026, 2, 28), day(2026, 3, 31)),
        (monthly(), day(2026, 3, 30), day(2026, 2, 28), day(2026, 3, 31)),
        (monthly(), day(2026, 3, 31), day(2026, 3, 31), day(2026, 4, 30)),
        (monthly(), day(2028, 2, 29), day(2028, 2, 29), day(2028, 3, 31)),
        (monthly(), day(2025, 6, 1), day(2026, 1, 31), day(2026, 2, 28)),
        (
            BillingPeriod {
                duration: 3,
                unit: PeriodUnit::Month,
            },
            day(2026, 5, 1),
            day(2026, 4, 30),
            day(2026, 7, 31),
        ),
        (
            BillingPeriod {
                duration: 1,
                unit: PeriodUnit::Year,
            },
            day(2027, 3, 1),
            day(2027, 1, 31),
            day(2028, 1, 31),
        ),
        (
            BillingPeriod {
                duration: 2,
                unit: PeriodUnit::Week,
            },
            day(2026, 2, 14),
            day(2026, 2, 14),
            day(2026, 2, 28),
        ),
        (
            BillingPeriod {
                duration: 1,
                unit: PeriodUnit::Day,
            },
            day(2026, 2, 1) + 3_600,
            day(2026, 2, 1),
            day(2026, 2, 2),
        ),
    ];
    for (period, moment, start, end) in table {
        assert_eq!(
            cycle_at(anchor, period, moment),
            Some((start, end)),
            "{period:?} at {moment}"
        );
    }
}

#[test]
fn parts_of_a_cycle_are_prorated_by_the_second() {
    let cycle = (day(2026, 4, 1), day(2026, 5, 1)); // 30 days
                                                    // (amount, from, to, expected)
    let table = [
        ("30.00", cycle.0, cycle.1, "30.00"),
        ("30.00", day(2026, 4, 16), cycle.1, "15.00"),
        ("10.00", day(2026, 4, 21), cycle.1, "3.33"),
        ("10.00", day(2026, 4, 11), cycle.1, "6.67"),
        ("0.01", day(2026, 4, 16), cycle.1, "0.01"),
        ("9.99", cycle.1, cycle.1, "0"),
        ("9.99", cycle.0 - 100, cycle.1 + 100, "9.99"),
    ];
    for (amount, from, to, expected) in table {
        assert_eq!(
            prorate(d(amount), (from, to), cycle, 2),
            Some(d(expected)),
            "{amount} {from}..{to}"
        );
    }
}

fn subscription(anchor: i64, model: BillingModel) -> Subscription {
    let tenant = Tenant {
        organisation: crate::domain::ids::OrganisationId::random(),
        mode: crate::domain::ids::Mode::Live,
    };
    Subscription {
        id: SubscriptionId::random(),
        tenant,
        contact: ContactId::random(),
        wallet: WalletId::random(),
        account: None,
        currency: Currency::parse("EUR").unwrap(),
        period: monthly(),
        billing_model: model,
        funding: FundingSource::Wallet,
        anchor,
        services: Vec::new(),
        bills: 0,
        open_bill: None,
        credits: Vec::new(),
        usage: Vec::new(),
        actions: Vec::new(),
        next_billing_at: anchor,
        created_on: anchor,
        updated_on: anchor,
    }
}

fn service(price: &str, billed_to: i64) -> Service {
    Service {
        id: ServiceId::random(),
        product: ProductId::random(),
        sku: "TV".into(),
        name: "TV".into(),
        classification: ProductClassification::TermedService,
        price: Price {
            id: uuid::Uuid::nil(),
            currency: Currency::parse("EUR").unwrap(),
            model: PriceModel::Flat,
            tax_model: TaxModel::Inclusive,
            tiers: vec![Tier {
                lower: 1,
                upper: None,
                price: d(price),
            }],
            billing_period: Some(monthly()),
            is_default: true,
        },
        tax_rate: None,
        quantity: 1,
        state: ServiceState::Effective,
        added_on: billed_to,
        first_activated_on: Some(billed_to),
        last_activated_on: Some(billed_to),
        last_deactivated_on: None,
        removed_on: None,
        paused_until: None,
        billed_to,
        change_of: None,
        changed_to: None,
    }
}

#[test]
fn a_service_is_billed_ahead_prorated_then_whole_cycles() {
    let mut sub = subscription(day(2026, 4, 1), BillingModel::PreBill);
    sub.services.push(service("30.00", day(2026, 4, 16)));
    // Added half way: the rest of April, in advance.
    let lines = sub.due_lines(day(2026, 4, 16)).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0].from, lines[0].to), (day(2026, 4, 16), day(2026, 5, 1)));
    assert_eq!(lines[0].amounts.total, d("15.00"));
    // Billed to the end of April: nothing more until May starts, then all of May.
    sub.services[0].billed_to = day(2026, 5, 1);
    assert!(sub.due_lines(day(2026, 4, 30)).unwrap().is_empty());
    let may = sub.due_lines(day(2026, 5, 1)).unwrap();
    assert_eq!((may[0].amounts.total, may[0].to), (d("30.00"), day(2026, 6, 1)));
    // A missed run: every cycle up to the current one.
    let late = sub.due_lines(day(2026, 7, 3)).unwrap();
    assert_eq!(late.len(), 3);
    assert_eq!(bill_totals(&late).unwrap().total, d("90.00"));
    // Paused services are not billed.
    sub.services[0].state = ServiceState::Paused;
    assert!(sub.due_lines(day(2026, 7, 3)).unwrap().is_empty());
}

#[test]
fn a_bill_renews_the_cycles_its_lines_pay_from_their_start() {
    let mut sub = subscription(day(2026, 4, 1), BillingModel::PreBill);
    sub.services.push(service("30.00", day(2026, 4, 1)));
    sub.services.push(service("10.00", day(2026, 4, 16)));
    // At the anchor: the first service renews cycle 1; the one added half way renews none.
    let first = sub.due_lines(day(2026, 4, 16)).unwrap();
    assert_eq!(sub.renewed_cycles(&first), vec![1]);
    assert_eq!(sub.renewed_cycles(&first[1..]), Vec::<u32>::new());
    sub.advance(&first);
    assert_eq!(sub.renewed_cycles(&sub.due_lines(day(2026, 5, 1)).unwrap()), vec![2]);
    // A run three cycles late renews each of them once, whatever services it bills.
    assert_eq!(
        sub.renewed_cycles(&sub.due_lines(day(2026, 7, 3)).unwrap()),
        vec![2, 3, 4]
    );
    // A credit renews nothing.
    let credit = sub.credit_from(&sub.services[0].clone(), day(2026, 4, 20)).unwrap();
    assert!(!credit.advances);
    assert_eq!(sub.renewed_cycles(&[credit]), Vec::<u32>::new());
}

#[test]
fn a_new_billing_day_bills_to_the_new_cycles_end_and_keeps_the_count() {
    // Made 15 January 08:00, billed to 15 February; moved to the 1st on 20 January.
    let start = day(2027, 1, 15) + 8 * 3600;
    let mut sub = subscription(start, BillingModel::PreBill);
    sub.services.push(service("31.00", start));
    let first = sub.due_lines(start).unwrap();
    assert_eq!(sub.renewed_cycles(&first), vec![1]);
    sub.advance(&first);
    let billed = sub.services[0].billed_to;
    assert_eq!(billed, day(2027, 2, 15) + 8 * 3600);
    sub.rebase(BillingDay::OfMonth(1), day(2027, 1, 20)).unwrap();
    assert_eq!(sub.anchor, day(2027, 1, 1));
    // Nothing is due before 1 February; then the rest of February from what was billed,
    // prorated, which renews no cycle; 1 March renews the second (a whole month after
    // the start), not the first again.
    assert!(sub.due_lines(day(2027, 1, 31)).unwrap().is_empty());
    assert_eq!(sub.next_look(day(2027, 1, 20)), day(2027, 2, 1));
    let february = sub.due_lines(day(2027, 2, 1)).unwrap();
    assert_eq!((february[0].from, february[0].to), (billed, day(2027, 3, 1)));
    assert_eq!(
        february[0].amounts.total,
        (d("31.00") * Decimal::from(day(2027, 3, 1) - billed) / Decimal::from(28 * 86_400)).round_dp(2)
    );
    assert!(sub.renewed_cycles(&february).is_empty());
    sub.advance(&february);
    assert_eq!(sub.renewed_cycles(&sub.due_lines(day(2027, 3, 1)).unwrap()), vec![2]);
    // A day the period has not: refused, nothing changes.
    let anchor = sub.anchor;
    assert!(sub.rebase(BillingDay::OfMonth(29), day(2027, 3, 2)).is_err());
    assert!(sub.rebase(BillingDay::OfWeek(0), day(2027, 3, 2)).is_err());
    assert_eq!(sub.anchor, anchor);
    // A weekly one moves to the latest such weekday: 3 March 2027 is a Wednesday.
    sub.period = BillingPeriod {
        duration: 1,
        unit: PeriodUnit::Week,
    };
    sub.rebase(BillingDay::OfWeek(0), day(2027, 3, 3)).unwrap();
    assert_eq!(sub.anchor, day(2027, 3, 1));
    sub.rebase(BillingDay::OfWeek(2), day(2027, 3, 3)).unwrap();
    assert_eq!(sub.anchor, day(2027, 3, 3));
}

#[test]
fn the_run_looks_again_at_the_next_boundary_or_never() {
    let mut sub = subscription(day(2026, 4, 1), BillingModel::PreBill);
    sub.services.push(service("30.00", day(2026, 5, 1)));
    assert_eq!(sub.next_look(day(2026, 4, 10)), day(2026, 5, 1));
    assert_eq!(sub.next_look(day(2026, 5, 1)), day(2026, 5, 1), "due now");
    sub.services[0].state = ServiceState::Paused;
    sub.services[0].paused_until = Some(day(2026, 4, 20));
    assert_eq!(
        sub.next_look(day(2026, 4, 10)),
        day(2026, 4, 20),
        "the pause ends first"
    );
    sub.services[0].state = ServiceState::Cancelled;
    assert_eq!(sub.next_look(day(2026, 4, 10)), i64::MAX, "nothing left to bill");
    sub.credits.push(
        sub.credit_from(&service("30.00", day(2026, 5, 1)), day(2026, 4, 10))
            .unwrap(),
    );
    assert_eq!(sub.next_look(day(2026, 4, 10)), day(2026, 4, 10), "a credit to give");
}

#[test]
fn post_billing_bills_cycles_once_they_end() {
    let mut sub = subscription(day(2026, 4, 1), BillingModel::PostBill);
    sub.services.push(service("30.00", day(2026, 4, 11)));
    assert!(sub.due_lines(day(2026, 4, 20)).unwrap().is_empty());
    let lines = sub.due_lines(day(2026, 5, 2)).unwrap();
    assert_eq!((lines[0].from, lines[0].to), (day(2026, 4, 11), day(2026, 5, 1)));
    assert_eq!(lines[0].amounts.total, d("20.00"));
}

#[test]
fn a_credit_gives_back_what_was_billed_beyond_a_moment() {
    let sub = subscription(day(2026, 4, 1), BillingModel::PreBill);
    let mut tv = service("30.00", day(2026, 5, 1));
    tv.tax_rate = Some(TaxRate {
        name: "VAT".into(),
        code: crate::domain::order::TaxCode::Vat,
        percentage: d("20"),
    });
    let credit = sub.credit_from(&tv, day(2026, 4, 21)).unwrap();
    // A third of April back: 10.00, of which 1.67 tax.
    assert_eq!(credit.amounts.total, d("-10.00"));
    assert_eq!(credit.amounts.tax, d("-1.67"));
    assert!(!credit.advances);
    assert!(sub.credit_from(&tv, day(2026, 5, 1)).is_none());
}

#[test]
fn services_move_by_the_table() {
    use ServiceAction::*;
    use ServiceState::*;
    let table = [
        (Effective, Pause, Some(Paused)),
        (Paused, Resume, Some(Effective)),
        (Effective, Resume, None),
        (Cancelled, Activate, None),
        (NotEffective, Activate, Some(Effective)),
        (Effective, Cancel, Some(Cancelled)),
        (Regretted, Cancel, None),
        (Paused, Change, None),
        (Effective, Change, Some(Swapped)),
        (Swapped, Activate, None),
    ];
    for (from, action, to) in table {
        assert_eq!(service_next(from, action).ok(), to, "{from:?} {action:?}");
    }
}

#[test]
fn a_bill_id_follows_from_its_subscription_and_number() {
    let id = SubscriptionId::random();
    assert_eq!(Bill::id_for(id, 3), Bill::id_for(id, 3));
    assert_ne!(Bill::id_for(id, 3), Bill::id_for(id, 4));
}
