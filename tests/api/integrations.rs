//! A business's payment gateway integrations (`/backoffice/v2/integrations`): which of the
//! configured gateways it takes payments through and which is its default. Payment methods,
//! top-ups and scheduled top-ups go only through its active ones; another business sees and
//! changes none of them.

use crate::helpers::*;
use crate::topups::{balance_becomes, card, payer, top_up_id, SUCCEEDS};
use rewards_engine::ManualClock;
use serde_json::{json, Value};
use std::time::Duration;

const SETTINGS: [(&str, &str); 5] = [
    ("REWARDS__PAYMENTS__GATEWAYS", "test,stripe"),
    // Nothing is charged through it here: an address nothing listens on.
    ("REWARDS__PAYMENTS__STRIPE_BASE_URL", "http://127.0.0.1:9"),
    ("REWARDS__PAYMENTS__STRIPE_SECRET_KEY", "sk_test_none"),
    ("REWARDS__PAYMENTS__SCHEDULE_INTERVAL_MS", "20"),
    ("REWARDS__PAYMENTS__CHARGE_TIMEOUT_MS", "1000"),
];

async fn integrations(app: &TestApp, key: &str) -> Vec<Value> {
    let listed = app.with_key(key, "GET", "/backoffice/v2/integrations", None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["content"].as_array().unwrap().clone()
}

async fn add(app: &TestApp, body: Value) -> Reply {
    app.post("/backoffice/v2/integrations", &body).await
}

async fn change(app: &TestApp, id: &str, body: Value) -> Reply {
    app.put(&format!("/backoffice/v2/integrations/{id}"), &body).await
}

/// The gateway one of the contact's payment methods is held by.
async fn gateway_of(app: &TestApp, contact: &str, token: &str, method: &str) -> Value {
    let path = format!("/self-service/v2/contacts/{contact}/payment_methods");
    let listed = with_token(app, token, "GET", &path, None).await;
    let methods = listed.body["content"].as_array().unwrap().clone();
    let found = methods.iter().find(|found| found["id"] == method).unwrap();
    found["card"]["gateway_token"][0]["gateway"].clone()
}

#[tokio::test]
async fn a_business_takes_payments_through_the_gateways_it_chose() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &SETTINGS).await;
    assert!(integrations(&app, SECRET_KEY).await.is_empty());
    let ann = payer(&app, "ann.gateways@example.com").await;
    // None set up: every configured gateway, the first the default.
    let before = ann.add_card(&app, SUCCEEDS).await;
    assert_eq!(gateway_of(&app, &ann.contact, &ann.token, &before).await, "TEST");

    let stripe = add(
        &app,
        json!({"type": "PAYMENT_GATEWAYS", "connector": "stripe", "name": "Cards"}),
    )
    .await;
    assert_eq!(stripe.status, 201, "{}", stripe.body);
    assert_eq!(stripe.body["connector"], "STRIPE");
    assert_eq!(stripe.body["is_default"], true, "the first integration is the default");
    assert_eq!(stripe.body["state"], "ACTIVE");
    let stripe_id = stripe.body["id"].as_str().unwrap().to_string();
    let test = add(&app, json!({"connector": "TEST"})).await;
    assert_eq!(test.status, 201, "{}", test.body);
    assert_eq!(test.body["is_default"], false);
    let test_id = test.body["id"].as_str().unwrap().to_string();
    let listed = integrations(&app, SECRET_KEY).await;
    assert_eq!(
        listed
            .iter()
            .map(|i| (i["connector"].clone(), i["is_default"].clone()))
            .collect::<Vec<_>>(),
        vec![(json!("STRIPE"), json!(true)), (json!("TEST"), json!(false))]
    );
    let one = app.get(&format!("/backoffice/v2/integrations/{test_id}")).await;
    assert_eq!(one.body["id"], test_id.as_str());

    // A method that names no gateway goes to the default now.
    let methods_path = format!("/self-service/v2/contacts/{}/payment_methods", ann.contact);
    let mut unnamed = card(SUCCEEDS);
    unnamed["card"]["last4"] = json!("4243");
    let added = with_token(&app, &ann.token, "POST", &methods_path, Some(&unnamed)).await;
    assert_eq!(added.status, 200, "{}", added.body);
    let added = added.body["id"].as_str().unwrap().to_string();
    assert_eq!(gateway_of(&app, &ann.contact, &ann.token, &added).await, "STRIPE");

    // Deactivated, the test gateway holds no new methods and charges nothing.
    let off = change(&app, &test_id, json!({"state": "INACTIVE"})).await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["state"], "INACTIVE");
    let mut named_test = card(SUCCEEDS);
    named_test["card"]["gateway_token"][0]["gateway"] = json!("TEST");
    let refused = with_token(&app, &ann.token, "POST", &methods_path, Some(&named_test)).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let top_up = ann.top_up(&app, &top_up_id(1), "10", &before).await;
    assert_eq!(top_up.status, 400, "{}", top_up.body);
    assert!(top_up.body["message"]
        .as_str()
        .unwrap()
        .contains("no longer takes payments"));
    assert_eq!(ann.balance(&app).await, "0.00");

    // Nor may a contact's auto top-up charge through it; once active again, it does.
    let auto = json!({"auto_topup": {"threshold": 5, "amount": 20, "payment_method": {"id": before}}});
    let wallet_path = format!("/self-service/v2/wallets/{}", ann.wallet);
    assert_eq!(
        with_token(&app, &ann.token, "PUT", &wallet_path, Some(&auto))
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ann.balance(&app).await, "0.00");
    assert_eq!(
        change(&app, &test_id, json!({"state": "ACTIVE", "is_default": true}))
            .await
            .status,
        200
    );
    let listed = integrations(&app, SECRET_KEY).await;
    assert_eq!(
        listed.iter().map(|i| i["is_default"].clone()).collect::<Vec<_>>(),
        vec![json!(false), json!(true)],
        "one default"
    );
    let again = json!({"auto_topup": {"threshold": 5, "amount": 21, "payment_method": {"id": before}}});
    assert_eq!(
        with_token(&app, &ann.token, "PUT", &wallet_path, Some(&again))
            .await
            .status,
        200
    );
    balance_becomes(&app, &ann, "21.00").await;

    // Bad changes are refused, and nothing changes.
    let cases = [
        ("an unknown connector", "POST", None, json!({"connector": "JCC"})),
        (
            "another type",
            "POST",
            None,
            json!({"type": "COMMUNICATIONS", "connector": "test"}),
        ),
        ("no connector", "POST", None, json!({"name": "x"})),
        (
            "a control character",
            "POST",
            None,
            json!({"connector": "test", "name": "a\u{7}"}),
        ),
        (
            "an unknown field",
            "POST",
            None,
            json!({"connector": "test", "colour": "red"}),
        ),
        (
            "an unknown state",
            "PUT",
            Some(test_id.as_str()),
            json!({"state": "ON"}),
        ),
        (
            "an inactive default",
            "PUT",
            Some(test_id.as_str()),
            json!({"state": "INACTIVE"}),
        ),
        (
            "a long name",
            "PUT",
            Some(stripe_id.as_str()),
            json!({"name": "n".repeat(101)}),
        ),
    ];
    let before_changes = integrations(&app, SECRET_KEY).await;
    for (case, method, id, body) in cases {
        let refused = match id {
            None => add(&app, body).await,
            Some(id) => {
                app.call(
                    method,
                    &format!("/backoffice/v2/integrations/{id}"),
                    &[("api_key", SECRET_KEY)],
                    Some(&body),
                )
                .await
            }
        };
        assert_eq!(refused.status, 400, "{case}: {}", refused.body);
    }
    let twice = add(&app, json!({"connector": "stripe"})).await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert_eq!(app.get("/backoffice/v2/integrations/nope").await.status, 404);
    let unknown = "/backoffice/v2/integrations/6f1c3f53-25c6-4a44-9f0e-2b1c1d0a9e11";
    assert_eq!(app.put(unknown, &json!({"name": "x"})).await.status, 404);
    assert_eq!(integrations(&app, SECRET_KEY).await, before_changes);

    // Another business sees none of them and changes none.
    another_business(&app, "sk_other_gateways", "Other Gateways").await;
    assert!(integrations(&app, "sk_other_gateways").await.is_empty());
    let foreign = app
        .with_key(
            "sk_other_gateways",
            "PUT",
            &format!("/backoffice/v2/integrations/{test_id}"),
            Some(&json!({"state": "INACTIVE"})),
        )
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    assert_eq!(integrations(&app, SECRET_KEY).await, before_changes);
    app.stop().await;
}
