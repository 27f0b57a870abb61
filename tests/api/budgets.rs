//! Offer budgets hold under races and crashes: purchases reserve before their awards commit,
//! settle through the outbox, and a crash leaves no hold standing past its expiry.

use crate::helpers::*;
use futures_util::future::join_all;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Seconds a hold stands before it is resolved from the store (`domain::budget::HOLD_S`).
const HOLD_S: i64 = 60;

fn awarded(reply: &Reply) -> Decimal {
    assert_eq!(reply.status, 201, "{}", reply.body);
    dec(&reply.body["rewards"]["award"])
}

async fn usage(app: &TestApp, offer: &Value) -> Value {
    // Budgets learn what purchases used, and get refunds, through the outbox between
    // entities.
    actor_outbox_drained(app).await;
    let read = app
        .get(&format!(
            "/backoffice/v2/reward_offers/{}",
            offer["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    read.body["budget_usage"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_purchases_for_the_last_ten_units_award_exactly_ten_across_a_crash() {
    let app = spawn_app().await;
    let offer = app
        .create_offer(json!({"name": "Last ten", "award": {"type": "FIXED", "value": 1}, "caps": {"budget": 15}}))
        .await;
    let mut contacts = Vec::new();
    for n in 0..50 {
        contacts.push(
            app.create_contact(&format!("B-{n}")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Five units go first: ten are left.
    for (n, contact) in contacts.iter().take(5).enumerate() {
        let reply = app.purchase(contact, &format!("WARM-{n}"), "10", None).await;
        assert_eq!(awarded(&reply), Decimal::ONE);
    }
    assert_eq!(usage(&app, &offer).await["left"].to_string(), "10");

    // A thousand purchases race for them; the engine is killed after the first 300 answers.
    let answered = AtomicUsize::new(0);
    let race = join_all((0..1000).map(|n| {
        let (app, contacts, answered) = (&app, &contacts, &answered);
        async move {
            let reply = app.purchase(&contacts[n % 50], &format!("RACE-{n}"), "10", None).await;
            answered.fetch_add(1, Ordering::AcqRel);
            reply
        }
    }));
    let crash = async {
        while answered.load(Ordering::Acquire) < 300 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        app.engine.crash().await;
    };
    let (first, ()) = tokio::join!(race, crash);
    let acknowledged: Vec<(usize, Decimal)> = first
        .iter()
        .enumerate()
        .filter(|(_, reply)| reply.status == 201)
        .map(|(n, reply)| (n, dec(&reply.body["rewards"]["award"])))
        .collect();
    let before: Decimal = acknowledged.iter().map(|(_, award)| *award).sum();
    assert!(before <= Decimal::TEN, "never more than the budget: {before}");
    assert!(!acknowledged.is_empty());

    // Restart past the holds' expiry; every purchase is sent again (the acknowledged ones
    // answer what they did).
    let (dir, clock) = app.stop().await;
    clock.advance(HOLD_S + 1);
    let app = spawn_app_with(dir, clock, &[]).await;
    let again = join_all((0..1000).map(|n| {
        let (app, contacts) = (&app, &contacts);
        async move { app.purchase(&contacts[n % 50], &format!("RACE-{n}"), "10", None).await }
    }))
    .await;
    let total: Decimal = again.iter().map(awarded).sum();
    assert_eq!(total, Decimal::TEN, "exactly the last ten units");
    for (n, award) in acknowledged {
        assert_eq!(
            dec(&again[n].body["rewards"]["award"]),
            award,
            "purchase {n} kept its award"
        );
    }
    let used = usage(&app, &offer).await;
    let figures: Vec<String> = ["used", "held", "left"].iter().map(|k| used[k].to_string()).collect();
    assert_eq!(figures, ["15", "0", "0"], "{used}");
}

#[tokio::test]
async fn budgets_trim_awards_refunds_come_back_and_failed_purchases_hold_nothing() {
    let app = spawn_app().await;
    let offer = app
        .create_offer(json!({"name": "Ten percent, 5 in all", "award": {"type": "PERCENTAGE", "value": 10}, "caps": {"budget": 5}}))
        .await;
    let contact = app.create_contact("B-1").await;
    let contact_id = contact["id"].as_str().unwrap().to_string();
    let first = app.purchase(&contact_id, "R-1", "30", None).await;
    assert_eq!(awarded(&first), Decimal::new(300, 2));
    let second = app.purchase(&contact_id, "R-2", "30", None).await;
    assert_eq!(awarded(&second), Decimal::new(200, 2), "trimmed to what is left");
    let cap = &second.body["reward_breakdown"][0]["explanation"]["caps"][0];
    assert_eq!(
        (cap["cap"].as_str(), cap["amount"].to_string()),
        (Some("BUDGET"), "2.00".into())
    );
    assert!(
        app.purchase(&contact_id, "R-3", "30", None).await.body["reward_breakdown"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(usage(&app, &offer).await["used"].to_string(), "5");
    // An estimate previews the award as far as the budget has left (nothing), and holds
    // nothing of it.
    let estimate = app
        .post(
            "/backoffice/v2/purchases/estimates",
            &json!({"contact": {"id": contact_id}, "transaction_amounts": {"total": 30}}),
        )
        .await;
    assert_eq!(estimate.status, 201, "{}", estimate.body);
    assert_eq!(
        estimate.body["rewards"]["award"].to_string(),
        "0.00",
        "{}",
        estimate.body
    );
    assert_eq!(usage(&app, &offer).await["held"].to_string(), "0");

    // A cancelled purchase gives its award back to the budget.
    let id = first.body["id"].as_str().unwrap();
    let cancelled = app
        .post(&format!("/backoffice/v2/purchases/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(usage(&app, &offer).await["left"].to_string(), "3");
    let estimate = app
        .post(
            "/backoffice/v2/purchases/estimates",
            &json!({"contact": {"id": contact_id}, "transaction_amounts": {"total": 50}}),
        )
        .await;
    assert_eq!(
        estimate.body["rewards"]["award"].to_string(),
        "3.00",
        "{}",
        estimate.body
    );
    let cap = &estimate.body["reward_breakdown"][0]["explanation"]["caps"][0];
    assert_eq!(
        (cap["cap"].as_str(), cap["amount"].to_string()),
        (Some("BUDGET"), "3.00".into())
    );

    // A purchase the wallet refuses (an uncovered spend) holds nothing afterwards.
    let refused = app.purchase(&contact_id, "R-4", "30", Some(("1000", true))).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let after = usage(&app, &offer).await;
    let figures: Vec<String> = ["used", "held", "left"].iter().map(|k| after[k].to_string()).collect();
    assert_eq!(figures, ["2", "0", "3"], "{after}");
    // A retry of a purchase holds nothing either: it answers what it did.
    let retried = app.purchase(&contact_id, "R-2", "30", None).await;
    assert_eq!(awarded(&retried), Decimal::new(200, 2));
    assert_eq!(usage(&app, &offer).await["held"].to_string(), "0");
}

#[tokio::test]
async fn returns_give_their_part_of_an_award_back_to_the_budget_and_the_contact_cap_and_a_cancel_the_rest() {
    let app = spawn_app().await;
    let offer = app
        .create_offer(json!({
            "name": "Ten percent, 10 in all, 8 a day each",
            "award": {"type": "PERCENTAGE", "value": 10},
            "caps": {"budget": 10, "per_contact": {"period": "DAY", "amount": 8}},
        }))
        .await;
    let contact = app.create_contact("B-RET").await;
    let contact_id = contact["id"].as_str().unwrap().to_string();
    let first = app.purchase(&contact_id, "R-1", "80", None).await;
    assert_eq!(awarded(&first), Decimal::new(800, 2), "the day's cap");
    assert_eq!(usage(&app, &offer).await["used"].to_string(), "8");

    // A quarter of R-1 comes back: 2.00 of its award goes back to the budget and to the
    // contact's day, so the next purchase earns up to 2.00 again.
    let body = json!({"purchase": {"reference_number": "R-1"}, "reference_number": "RET-1", "return_amount": 20});
    let returned = app.post("/backoffice/v2/purchases/ad_hoc_return", &body).await;
    assert_eq!(returned.status, 201, "{}", returned.body);
    assert_eq!(usage(&app, &offer).await["used"].to_string(), "6");
    let again = app.purchase(&contact_id, "R-2", "50", None).await;
    assert_eq!(awarded(&again), Decimal::new(200, 2), "the cap has 2.00 room again");
    assert_eq!(usage(&app, &offer).await["used"].to_string(), "8");

    // The retried return changes nothing more; the cancel of R-1 gives back only the rest
    // (6.00), so the budget counts exactly R-2's award.
    let retried = app.post("/backoffice/v2/purchases/ad_hoc_return", &body).await;
    assert_eq!(retried.status, 201, "{}", retried.body);
    let id = first.body["id"].as_str().unwrap();
    let cancelled = app
        .post(&format!("/backoffice/v2/purchases/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let after = usage(&app, &offer).await;
    assert_eq!(
        (after["used"].to_string(), after["left"].to_string()),
        ("2".into(), "8".into()),
        "{after}"
    );
    let last = app.purchase(&contact_id, "R-3", "100", None).await;
    assert_eq!(awarded(&last), Decimal::new(600, 2), "the day's cap less R-2's award");
}
