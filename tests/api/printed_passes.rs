//! Printed pass plans: made INACTIVE, their batch generated when first activated (every
//! pass INACTIVE until it is sold and activated, codes and PINs answered once), no
//! electronic passes issued under them, bad batches refused.

use crate::helpers::*;
use crate::passes::{gift_plan, wallet_of};
use serde_json::json;
use std::collections::HashSet;

#[tokio::test]
async fn activating_a_printed_plan_generates_its_batch_once_and_each_pass_is_sold_then_redeemed() {
    let app = spawn_app().await;
    let made = app
        .post(
            "/backoffice/v2/pass_plans",
            &gift_plan(json!({"printed": true, "number_of_passes": 25, "code_format": {"type": "NUMERIC", "prefix": "77", "length": 10, "pin_required": true}})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(
        (
            made.body["printed"].clone(),
            made.body["state"].clone(),
            made.body["passes_generated"].clone()
        ),
        (json!(true), json!("INACTIVE"), json!(0))
    );
    let plan = made.body["id"].as_str().unwrap().to_string();
    let path = format!("/backoffice/v2/pass_plans/{plan}");

    let activated = app.put(&path, &json!({"state": "ACTIVE"})).await;
    assert_eq!(activated.status, 200, "{}", activated.body);
    assert_eq!(activated.body["passes_generated"], 25);
    let batch = activated.body["batch"].as_array().unwrap();
    assert_eq!(batch.len(), 25);
    let codes: HashSet<&str> = batch.iter().map(|pass| pass["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 25, "every code differs");
    assert!(codes
        .iter()
        .all(|code| code.len() == 12 && code.starts_with("77") && code.bytes().all(|b| b.is_ascii_digit())));
    assert!(batch
        .iter()
        .all(|pass| pass["pin"].as_str().is_some_and(|pin| pin.len() == 4)));

    // Printed passes wait to be sold; no electronic pass comes from a printed plan.
    let (code, pin) = (batch[0]["code"].as_str().unwrap(), batch[0]["pin"].as_str().unwrap());
    let found = app.get(&format!("/backoffice/v2/passes?pass_code={code}")).await;
    assert_eq!(found.body["content"][0]["state"], "INACTIVE", "{}", found.body);
    let issued = app.post("/backoffice/v2/passes", &json!({"pass_plan_id": plan})).await;
    assert_eq!(issued.status, 409, "{}", issued.body);
    let (contact, token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;
    let body = json!({"code": code, "pin": pin, "organisation": {}});
    let redeem = || with_token(&app, &token, "POST", "/self-service/v2/passes/redeem", Some(&body));
    let unsold = redeem().await;
    assert_eq!(unsold.status, 409, "{}", unsold.body);

    // Sold at the till: activated, then redeemed once.
    let id = batch[0]["id"].as_str().unwrap();
    let sold = app
        .put(&format!("/backoffice/v2/passes/{id}"), &json!({"state": "ACTIVE"}))
        .await;
    assert_eq!(sold.status, 200, "{}", sold.body);
    let redeemed = redeem().await;
    assert_eq!(redeemed.status, 200, "{}", redeemed.body);
    actor_outbox_drained(&app).await;
    let wallet = wallet_of(&app, &contact).await;
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "25.00");

    // Activated again later: no second batch.
    assert_eq!(app.put(&path, &json!({"state": "INACTIVE"})).await.status, 200);
    let again = app.put(&path, &json!({"state": "ACTIVE"})).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(again.body.get("batch").is_none(), "{}", again.body);
    assert_eq!(again.body["passes_generated"], 25);

    // Bad batches are refused.
    for (why, extra) in [
        ("no size", json!({"printed": true})),
        ("an empty batch", json!({"printed": true, "number_of_passes": 0})),
        ("too big a batch", json!({"printed": true, "number_of_passes": 5001})),
        ("a batch for an electronic plan", json!({"number_of_passes": 5})),
        (
            "a printed plan made active",
            json!({"printed": true, "number_of_passes": 5, "state": "ACTIVE"}),
        ),
        ("a size as text", json!({"printed": true, "number_of_passes": "5"})),
    ] {
        let refused = app.post("/backoffice/v2/pass_plans", &gift_plan(extra)).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.body);
    }
}
