//! `POST /backoffice/v2/purchases/bulk`: one outcome per item, in order; each item as
//! idempotent as a single purchase; items for one wallet applied in the order given.

use crate::helpers::*;
use serde_json::{json, Value};

fn item(contact_id: &str, reference: &str, total: f64, spend: Option<f64>) -> Value {
    let mut body =
        json!({"contact": {"id": contact_id}, "reference_number": reference, "transaction_amounts": {"total": total}});
    if let Some(amount) = spend {
        body["spend_request"] = json!({"amount": amount, "restrict_fully_covered": true});
    }
    body
}

fn statuses(reply: &Reply) -> Vec<u64> {
    reply.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_bulk_of_valid_and_invalid_items_answers_each_in_order() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let first = app.create_contact("BK-1").await;
    let second = app.create_contact("BK-2").await;
    let (a, b) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());
    let purchases = json!([
        item(a, "BK-R1", 10.0, None),
        {"contact": {"id": a}, "transaction_amounts": {"total": 1}},
        item("6d1b4c3e-0000-4000-8000-000000000009", "BK-R3", 1.0, None),
        item(b, "BK-R4", -1.0, None),
        item(b, "BK-R5", 20.0, None),
        {"contact": {"id": a}, "reference_number": "BK-R6", "transaction_amounts": {"total": "ten"}},
    ]);
    let reply = app
        .post("/backoffice/v2/purchases/bulk", &json!({"purchases": purchases}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(statuses(&reply), [201, 400, 404, 400, 201, 400]);
    let results = reply.body["results"].as_array().unwrap();
    assert_eq!(
        results.iter().map(|r| r["index"].as_u64().unwrap()).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    assert_eq!(results[0]["purchase"]["rewards"]["award"].to_string(), "1.00");
    assert_eq!(results[1]["error"]["error"], "CRM.EXCEPTIONS.MISSINGPARAMETEREXCEPTION");
    assert_eq!(results[3]["error"]["parameters"][0], "transaction_amounts.total");
    assert_eq!(results[4]["purchase"]["balances"][0]["total"].to_string(), "2.00");

    // The same bulk again: every item answers as before, nothing changes.
    let again = app
        .post("/backoffice/v2/purchases/bulk", &json!({"purchases": purchases}))
        .await;
    assert_eq!(again.body, reply.body);
    assert_eq!(
        app.assert_balance_equals_journal(first["wallet"]["id"].as_str().unwrap())
            .await
            .to_string(),
        "1.00"
    );
    // A bulk item and a single post share one idempotency key.
    let single = app.purchase(b, "BK-R5", "20.00", None).await;
    assert_eq!(single.body["id"], results[4]["purchase"]["id"]);
}

#[tokio::test]
async fn items_for_one_wallet_apply_in_the_order_given() {
    let app = spawn_app().await;
    let funding = app
        .create_offer(json!({"name": "Fund", "award": {"type": "FIXED", "value": 5}}))
        .await;
    let payer = app.create_contact("BK-3").await;
    let other = app.create_contact("BK-4").await;
    let (p, o) = (payer["id"].as_str().unwrap(), other["id"].as_str().unwrap());
    app.purchase(p, "FUND-P", "1.00", None).await;
    app.purchase(o, "FUND-O", "1.00", None).await;
    app.set_offer_state(&funding, "INACTIVE").await;
    // Eight 1.00 spends for each contact, interleaved: 5.00 covers exactly the first five.
    let purchases: Vec<Value> = (0..16)
        .map(|n| item(if n % 2 == 0 { p } else { o }, &format!("ORD-{n}"), 1.0, Some(1.0)))
        .collect();
    let reply = app
        .post("/backoffice/v2/purchases/bulk", &json!({"purchases": purchases}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let expected: Vec<u64> = (0..16).map(|n| if n / 2 < 5 { 201 } else { 400 }).collect();
    assert_eq!(statuses(&reply), expected);
    for contact in [&payer, &other] {
        assert_eq!(
            app.assert_balance_equals_journal(contact["wallet"]["id"].as_str().unwrap())
                .await,
            rust_decimal::Decimal::ZERO
        );
    }
}

#[tokio::test]
async fn a_bulk_with_no_items_or_too_many_is_refused() {
    let app = spawn_app_with(
        temp_dir(),
        rewards_engine::ManualClock::new(START_S),
        &[("REWARDS__HTTP__BULK_ITEMS_MAX", "3")],
    )
    .await;
    let contact = app.create_contact("BK-5").await;
    let id = contact["id"].as_str().unwrap();
    let empty = app
        .post("/backoffice/v2/purchases/bulk", &json!({"purchases": []}))
        .await;
    assert_eq!(empty.status, 400);
    let four: Vec<Value> = (0..4).map(|n| item(id, &format!("X-{n}"), 1.0, None)).collect();
    let too_many = app
        .post("/backoffice/v2/purchases/bulk", &json!({"purchases": four}))
        .await;
    assert_eq!(too_many.status, 400);
    assert_eq!(too_many.body["parameters"][0], "purchases");
    assert!(app.journal(contact["wallet"]["id"].as_str().unwrap()).await.is_empty());
    let not_a_list = app
        .post("/backoffice/v2/purchases/bulk", &json!({"purchases": 5}))
        .await;
    assert_eq!(not_a_list.status, 400);
}
