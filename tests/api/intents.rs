//! Payment intents over HTTP (`POST /self-service/v2/contacts/{id}/intents`) through the
//! `test` gateway: an automatic intent is charged at once and pays one top-up (sent its
//! client secret), a held one is captured when it is used and released when it is not, a
//! lost answer is settled by the reconciler, and nobody else's secret pays anything.

use crate::helpers::*;
use crate::topups::{payer, top_up_id, Payer, DECLINED, LATE_SUCCESS, SUCCEEDS};
use rewards_engine::ManualClock;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const FAST: [(&str, &str); 2] = [
    ("REWARDS__PAYMENTS__RECONCILE_INTERVAL_MS", "20"),
    ("REWARDS__PAYMENTS__CHARGE_TIMEOUT_MS", "1000"),
];
const DAY_S: i64 = 86_400;

fn number(text: &str) -> Value {
    Value::Number(serde_json::Number::from_string_unchecked_compat(text))
}

fn intent(amount: &str, method: &str, capture: &str) -> Value {
    json!({"amount": number(amount), "currency_code": "EUR", "payment_method_id": method, "capture": capture,
           "statement_info": "Top-up from the app"})
}

impl Payer {
    async fn intend(&self, app: &TestApp, body: &Value) -> Reply {
        let path = format!("/self-service/v2/contacts/{}/intents", self.contact);
        with_token(app, &self.token, "POST", &path, Some(body)).await
    }

    /// A top-up paid from the intent `secret` names.
    async fn top_up_with(&self, app: &TestApp, id: &str, amount: &str, secret: &str) -> Reply {
        let body = json!({"id": id, "amount": number(amount), "client_secret": secret});
        with_token(app, &self.token, "POST", "/self-service/v2/topups", Some(&body)).await
    }
}

fn secret(reply: &Reply) -> String {
    reply.body["client_secret"].as_str().unwrap().to_string()
}

/// Retries (for up to 10 s) a top-up from an intent whose answer the reconciler is
/// settling, until it is credited; the clock moves on a few seconds each time, so the
/// reconciler finds each lost answer due.
async fn top_up_lands(app: &TestApp, payer: &Payer, id: &str, amount: &str, secret: &str) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = payer.top_up_with(app, id, amount, secret).await;
        if reply.status != 504 {
            return reply;
        }
        assert!(Instant::now() < deadline, "still pending: {}", reply.body);
        app.clock.advance(3);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_automatic_intent_is_charged_at_once_and_pays_one_top_up() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &FAST).await;
    let ann = payer(&app, "ann.intent@example.com").await;
    let visa = ann.add_card(&app, SUCCEEDS).await;
    let made = ann.intend(&app, &intent("25", &visa, "AUTOMATIC")).await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert_eq!(made.body["state"], "COMPLETED");
    let ann_secret = secret(&made);
    assert!(ann_secret.len() > 32);
    assert_eq!(ann.balance(&app).await, "0.00", "an intent alone credits nothing");

    let paid = ann.top_up_with(&app, &top_up_id(1), "25", &ann_secret).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(paid.body["id"], top_up_id(1).as_str());
    assert_eq!(ann.balance(&app).await, "25.00");
    // A retry is answered with the same top-up; another top-up gets nothing from it.
    let retried = ann.top_up_with(&app, &top_up_id(1), "25", &ann_secret).await;
    assert_eq!(retried.status, 201, "{}", retried.body);
    let again = ann.top_up_with(&app, &top_up_id(2), "25", &ann_secret).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(ann.balance(&app).await, "25.00");
    assert_eq!(
        app.assert_balance_equals_journal(&ann.wallet).await.to_string(),
        "25.00"
    );

    // Another contact can neither use the secret nor set up intents as ann.
    let bea = payer(&app, "bea.intent@example.com").await;
    let bea_visa = bea.add_card(&app, SUCCEEDS).await;
    let fresh = ann.intend(&app, &intent("5", &visa, "AUTOMATIC")).await;
    let stolen = bea.top_up_with(&app, &top_up_id(3), "5", &secret(&fresh)).await;
    assert_eq!(stolen.status, 404, "{}", stolen.body);
    assert_eq!(bea.balance(&app).await, "0.00");
    let as_ann = format!("/self-service/v2/contacts/{}/intents", ann.contact);
    let forged = with_token(
        &app,
        &bea.token,
        "POST",
        &as_ann,
        Some(&intent("5", &bea_visa, "AUTOMATIC")),
    )
    .await;
    assert!(matches!(forged.status.as_u16(), 403 | 404), "{}", forged.body);
    // The wrong amount pays nothing; the right one does.
    let wrong = ann.top_up_with(&app, &top_up_id(4), "6", &secret(&fresh)).await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert_eq!(
        ann.top_up_with(&app, &top_up_id(4), "5", &secret(&fresh)).await.status,
        201
    );
    assert_eq!(ann.balance(&app).await, "30.00");

    // An Idempotency-Key makes a retry answer the same intent, secret and all.
    let path = format!("/self-service/v2/contacts/{}/intents", ann.contact);
    let headers = [
        ("authorization", format!("Bearer {}", ann.token)),
        ("Idempotency-Key", "order-77".into()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = app
        .call("POST", &path, &headers, Some(&intent("7", &visa, "AUTOMATIC")))
        .await;
    let second = app
        .call("POST", &path, &headers, Some(&intent("7", &visa, "AUTOMATIC")))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(
        (first.body["id"].clone(), secret(&first)),
        (second.body["id"].clone(), secret(&second))
    );
    let other_body = app
        .call("POST", &path, &headers, Some(&intent("8", &visa, "AUTOMATIC")))
        .await;
    assert_eq!(other_body.status, 409, "{}", other_body.body);
    app.stop().await;
}

#[tokio::test]
async fn a_held_intent_is_captured_when_used_and_released_when_not() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &FAST).await;
    let mut cy = payer(&app, "cy.hold@example.com").await;
    let visa = cy.add_card(&app, SUCCEEDS).await;
    let held = cy.intend(&app, &intent("30", &visa, "ON_HOLD")).await;
    assert_eq!(held.status, 200, "{}", held.body);
    assert_eq!(held.body["state"], "REQUIRES_CAPTURING");
    let paid = cy.top_up_with(&app, &top_up_id(1), "30", &secret(&held)).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(cy.balance(&app).await, "30.00");

    // A card whose first answers are lost: the hold is learnt by the reconciler, the
    // capture too, and the top-up is credited once.
    let late = cy.add_card(&app, LATE_SUCCESS).await;
    let pending = cy.intend(&app, &intent("12", &late, "ON_HOLD")).await;
    assert_eq!(pending.body["state"], "PENDING", "{}", pending.body);
    let not_yet = cy.top_up_with(&app, &top_up_id(2), "12", &secret(&pending)).await;
    assert_eq!(not_yet.status, 504, "{}", not_yet.body);
    let landed = top_up_lands(&app, &cy, &top_up_id(2), "12", &secret(&pending)).await;
    assert_eq!(landed.status, 201, "{}", landed.body);
    assert_eq!(cy.balance(&app).await, "42.00");

    // A hold never used is released after seven days, and pays nothing then.
    let unused = cy.intend(&app, &intent("9", &visa, "ON_HOLD")).await;
    assert_eq!(unused.body["state"], "REQUIRES_CAPTURING");
    app.clock.advance(8 * DAY_S);
    cy.token = contact_sign_in(&app, PUBLIC_KEY, "cy.hold@example.com", "payer-password-1")
        .await
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    // Wait for the reconciler to release it before using it (a use racing the release
    // would capture it first).
    let unused_id = unused.body["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app
        .engine
        .open_intents(1_000)
        .unwrap()
        .iter()
        .any(|intent| intent.id.to_string() == unused_id)
    {
        assert!(Instant::now() < deadline, "the unused hold was never released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    loop {
        let reply = cy.top_up_with(&app, &top_up_id(3), "9", &secret(&unused)).await;
        if reply.status == 400 {
            assert!(
                reply.body["message"].as_str().unwrap().contains("CANCELLED"),
                "{}",
                reply.body
            );
            break;
        }
        // Captured before the reconciler released it would be a failure of the test's timing,
        // not of the engine: the release runs every 20 ms.
        assert_ne!(reply.status, 201, "a released hold paid: {}", reply.body);
        assert!(Instant::now() < deadline, "{}", reply.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(cy.balance(&app).await, "42.00");
    app.stop().await;
}

#[tokio::test]
async fn bad_intents_are_refused_and_declined_ones_pay_nothing() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &FAST).await;
    let dee = payer(&app, "dee.bad.intent@example.com").await;
    let visa = dee.add_card(&app, SUCCEEDS).await;
    let mut no_method = intent("5", &visa, "AUTOMATIC");
    no_method.as_object_mut().unwrap().remove("payment_method_id");
    let mut usd = intent("5", &visa, "AUTOMATIC");
    usd["currency_code"] = json!("USD");
    let mut cash = intent("5", &visa, "AUTOMATIC");
    cash["payment_method_type"] = json!("CASH");
    let mut unknown_integration = intent("5", &visa, "AUTOMATIC");
    unknown_integration["integration_id"] = json!("6f1c3f53-25c6-4a44-9f0e-2b1c1d0a9e11");
    let mut control = intent("5", &visa, "AUTOMATIC");
    control["statement_info"] = json!("a\u{7}b");
    for (case, body) in [
        ("no payment method", no_method),
        (
            "an unknown payment method",
            intent("5", "6f1c3f53-25c6-4a44-9f0e-2b1c1d0a9e11", "AUTOMATIC"),
        ),
        ("another currency", usd),
        ("a zero amount", intent("0", &visa, "AUTOMATIC")),
        ("a negative amount", intent("-5", &visa, "AUTOMATIC")),
        ("an over-precise amount", intent("5.001", &visa, "AUTOMATIC")),
        (
            "an amount past the bound",
            intent("100000000000000000000", &visa, "AUTOMATIC"),
        ),
        ("an unknown capture", intent("5", &visa, "LATER")),
        ("cash", cash),
        ("an unknown integration", unknown_integration),
        ("a control character", control),
    ] {
        let refused = dee.intend(&app, &body).await;
        assert_eq!(refused.status, 400, "{case}: {}", refused.body);
    }
    let declined_card = dee.add_card(&app, DECLINED).await;
    let declined = dee.intend(&app, &intent("5", &declined_card, "AUTOMATIC")).await;
    assert_eq!(declined.status, 200, "{}", declined.body);
    assert_eq!(declined.body["state"], "REJECTED");
    assert_eq!(declined.body["error_description"], "card_declined");
    let refused = dee.top_up_with(&app, &top_up_id(1), "5", &secret(&declined)).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let unknown = dee.top_up_with(&app, &top_up_id(2), "5", "pi_nope_secret_0").await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(dee.balance(&app).await, "0.00");
    app.stop().await;
}
