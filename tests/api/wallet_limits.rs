//! Wallet limits over HTTP (`GET`/`PUT /self-service/v2/wallets/{id}/limits`): the contact's
//! rules on how much and how often its wallet moves money, enforced by the wallet's actor at
//! their edges — a refusal names the rule and changes nothing.

use crate::helpers::*;
use crate::wallets::signed_in;
use serde_json::{json, Value};

struct Person {
    contact: String,
    wallet: String,
    email: String,
}

/// A registered contact whose wallet holds `award` (the suite's offer is 10%).
async fn funded(app: &TestApp, email: &str, award: u32) -> Person {
    let (contact, _) = registered_contact(app, email, "limits-password-1").await;
    let wallet = app.get(&format!("/backoffice/v2/contacts/{contact}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    if award > 0 {
        let total = (award * 10).to_string();
        let reply = app.purchase(&contact, &format!("FUND-{email}"), &total, None).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    Person {
        contact,
        wallet,
        email: email.into(),
    }
}

impl Person {
    async fn token(&self, app: &TestApp) -> String {
        signed_in(app, &self.email, "limits-password-1").await
    }

    async fn set_limits(&self, app: &TestApp, rules: Value) -> Reply {
        let token = self.token(app).await;
        let path = format!("/self-service/v2/wallets/{}/limits", self.wallet);
        with_token(app, &token, "PUT", &path, Some(&json!({ "limit_rules": rules }))).await
    }

    async fn limits(&self, app: &TestApp) -> Value {
        let token = self.token(app).await;
        let path = format!("/self-service/v2/wallets/{}/limits", self.wallet);
        let reply = with_token(app, &token, "GET", &path, None).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    async fn spend(&self, app: &TestApp, reference: &str, amount: &str) -> Reply {
        app.purchase(&self.contact, reference, "100.00", Some((amount, true)))
            .await
    }

    async fn balance(&self, app: &TestApp) -> String {
        app.wallet(&self.wallet).await["total_balance"].to_string()
    }

    async fn transfer(&self, app: &TestApp, to: &Person, amount: &str) -> Reply {
        let token = self.token(app).await;
        let body = json!({
            "origin": {"wallet_id": self.wallet},
            "destination": {"wallet_id": to.wallet},
            "amount": serde_json::Number::from_string_unchecked_compat(amount),
        });
        app.call(
            "POST",
            "/self-service/v2/transfers",
            &[("authorization", &format!("Bearer {token}")), ("api_key", PUBLIC_KEY)],
            Some(&body),
        )
        .await
    }
}

fn refused_by(reply: &Reply, rule: &str) {
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(
        reply.body["error"], "CRM.EXCEPTIONS.WALLETLIMITEXCEEDEDEXCEPTION",
        "{}",
        reply.body
    );
    assert!(reply.body["message"].as_str().unwrap().contains(rule), "{}", reply.body);
}

#[tokio::test]
async fn spends_and_transfers_stop_at_the_limits_edges_and_change_nothing_past_them() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let ann = funded(&app, "ann@example.com", 100).await;
    let bob = funded(&app, "bob@example.com", 0).await;
    assert_eq!(ann.limits(&app).await["limit_rules"], json!([]));

    let set = ann
        .set_limits(
            &app,
            json!([
                {"name": "Daily spend", "maximum_amount": 30, "maximum_number": 3, "period": "DAILY", "applies_for": ["DEBIT"]},
                {"name": "Monthly", "maximum_amount": 50, "period": "MONTHLY", "applies_for": ["DEBIT", "TRANSFER"], "currency_code": "EUR"},
            ]),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["id"], ann.wallet.as_str());
    let rules = ann.limits(&app).await["limit_rules"].clone();
    assert_eq!(rules.as_array().unwrap().len(), 2, "{rules}");
    assert_eq!(rules[0]["maximum_amount"].to_string(), "30.00");
    assert_eq!(rules[0]["applies_for"], json!(["DEBIT"]));
    assert_eq!(rules[1]["period"], "MONTHLY");
    assert!(rules[0]["id"].is_string());

    // Day 1: exactly the daily amount passes; a cent more does not, and nothing changes.
    assert_eq!(ann.spend(&app, "S-1", "30.00").await.status, 201);
    let before = (ann.balance(&app).await, app.journal(&ann.wallet).await.len());
    refused_by(&ann.spend(&app, "S-2", "0.01").await, "Daily spend");
    assert_eq!((ann.balance(&app).await, app.journal(&ann.wallet).await.len()), before);
    // The refused reference was never used: it posts once the limit allows.
    app.clock.advance(DAY_S);
    assert_eq!(ann.spend(&app, "S-2", "20.00").await.status, 201);
    // The month's 50 are used: a transfer (a debit too) is refused by the monthly rule.
    refused_by(&ann.transfer(&app, &bob, "0.01").await, "Monthly");
    let before = ann.balance(&app).await;
    refused_by(&ann.spend(&app, "S-3", "0.01").await, "Monthly");
    assert_eq!(ann.balance(&app).await, before);

    // Raise the monthly rule by name; the daily count (3) is then the edge.
    let raised = ann
        .set_limits(&app, json!([{"name": "monthly", "maximum_amount": 500}]))
        .await;
    assert_eq!(raised.status, 200, "{}", raised.body);
    app.clock.advance(DAY_S);
    for reference in ["S-4", "S-5", "S-6"] {
        assert_eq!(ann.spend(&app, reference, "1.00").await.status, 201, "{reference}");
    }
    refused_by(&ann.spend(&app, "S-7", "1.00").await, "Daily spend");
    // A purchase that spends nothing is not a debit: it posts.
    assert_eq!(app.purchase(&ann.contact, "S-8", "10.00", None).await.status, 201);

    // A transfer within the limits goes; a hold past the daily amount is refused.
    app.clock.advance(DAY_S);
    assert_eq!(ann.transfer(&app, &bob, "5.00").await.status.as_u16(), 201);
    actor_outbox_drained(&app).await;
    let held = app
        .post(
            "/backoffice/v2/purchases/estimates",
            &json!({
                "contact": {"id": ann.contact},
                "transaction_amounts": {"total": 100},
                "spend_request": {"amount": 26, "restrict_fully_covered": true},
                "hold_funds": true,
            }),
        )
        .await;
    refused_by(&held, "Daily spend");
    assert_eq!(app.wallet(&ann.wallet).await["held"].to_string(), "0.00");

    // Removing the daily rule lifts it.
    let removed = ann
        .set_limits(&app, json!([{"name": "Daily spend", "remove": true}]))
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.body["limit_rules"].as_array().unwrap().len(), 1);
    assert_eq!(ann.spend(&app, "S-9", "26.00").await.status, 201);
    app.assert_balance_equals_journal(&ann.wallet).await;
}

#[tokio::test]
async fn a_credit_limit_gives_a_transfer_back_and_auto_spend_stays_inside_the_debit_limit() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let ann = funded(&app, "ann@example.com", 100).await;
    let bob = funded(&app, "bob@example.com", 0).await;
    let set = bob
        .set_limits(
            &app,
            json!([{"name": "Gifts", "maximum_amount": 5, "period": "DAILY", "applies_for": ["CREDIT"]}]),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    // Past Bob's credit limit the transfer is given back to Ann, whole.
    assert_eq!(ann.transfer(&app, &bob, "6.00").await.status.as_u16(), 201);
    actor_outbox_drained(&app).await;
    assert_eq!(
        (bob.balance(&app).await, ann.balance(&app).await),
        ("0.00".into(), "100.00".into())
    );
    // At the edge it lands.
    assert_eq!(ann.transfer(&app, &bob, "5.00").await.status.as_u16(), 201);
    actor_outbox_drained(&app).await;
    assert_eq!(
        (bob.balance(&app).await, ann.balance(&app).await),
        ("5.00".into(), "95.00".into())
    );

    // Auto-spend takes what the daily debit limit leaves, not the whole purchase.
    let auto = app
        .put(
            &format!("/backoffice/v2/contacts/{}/spend_settings", ann.contact),
            &json!({"auto_spend": true}),
        )
        .await;
    assert_eq!(auto.status, 200, "{}", auto.body);
    let set = ann
        .set_limits(
            &app,
            json!([{"name": "Daily", "maximum_amount": 12, "period": "DAILY", "applies_for": ["DEBIT"]}]),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    // 5.00 sent today already counts: 7.00 is left; 10% of 50 is awarded.
    let posted = app.purchase(&ann.contact, "AUTO-1", "50.00", None).await;
    assert_eq!(posted.status, 201, "{}", posted.body);
    assert_eq!(ann.balance(&app).await, "93.00");
    // Nothing is left today: auto-spend spends nothing, the purchase still posts.
    assert_eq!(app.purchase(&ann.contact, "AUTO-2", "10.00", None).await.status, 201);
    assert_eq!(ann.balance(&app).await, "94.00");
}

#[tokio::test]
async fn inconsistent_or_malformed_limits_are_refused_and_other_contacts_see_nothing() {
    let app = spawn_app().await;
    let ann = funded(&app, "ann@example.com", 0).await;
    let good = json!({"name": "Monthly", "maximum_amount": 500, "period": "MONTHLY", "applies_for": ["DEBIT"]});
    assert_eq!(ann.set_limits(&app, json!([good])).await.status, 200);
    let kept = ann.limits(&app).await;

    let rule = |extra: Value| {
        let mut rule = json!({"name": "Daily", "maximum_amount": 10, "period": "DAILY", "applies_for": ["DEBIT"]});
        rule.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        rule
    };
    for (why, rules) in [
        (
            "a daily limit above the monthly one",
            json!([rule(json!({"maximum_amount": 600}))]),
        ),
        ("an unknown period", json!([rule(json!({"period": "YEARLY"}))])),
        ("an unknown kind", json!([rule(json!({"applies_for": ["SPEND"]}))])),
        (
            "a kind twice",
            json!([rule(json!({"applies_for": ["DEBIT", "DEBIT"]}))]),
        ),
        ("no kind", json!([rule(json!({"applies_for": []}))])),
        ("a negative amount", json!([rule(json!({"maximum_amount": -1}))])),
        (
            "an over-precise amount",
            json!([rule(json!({"maximum_amount": 1.001}))]),
        ),
        ("a huge amount", json!([rule(json!({"maximum_amount": 1e30}))])),
        ("an amount as text", json!([rule(json!({"maximum_amount": "10"}))])),
        ("a negative count", json!([rule(json!({"maximum_number": -1}))])),
        (
            "no maximum",
            json!([{"name": "Empty", "period": "DAILY", "applies_for": ["DEBIT"]}]),
        ),
        ("an empty name", json!([rule(json!({"name": " "}))])),
        ("a control character", json!([rule(json!({"name": "Dai\u{1b}ly"}))])),
        ("another currency", json!([rule(json!({"currency_code": "USD"}))])),
        (
            "an unknown rule id",
            json!([rule(json!({"id": "00000000-0000-4000-8000-000000000003"}))]),
        ),
        (
            "a new rule without its period",
            json!([{"name": "New", "maximum_number": 1, "applies_for": ["DEBIT"]}]),
        ),
        ("an unknown field", json!([rule(json!({"colour": "red"}))])),
        (
            "removing a rule that is not there",
            json!([{"name": "Nope", "remove": true}]),
        ),
        (
            "one valid and one invalid",
            json!([rule(json!({})), rule(json!({"name": "Other", "period": "HOURLY"}))]),
        ),
        (
            "too many",
            Value::Array((0..51).map(|i| rule(json!({"name": format!("r{i}")}))).collect()),
        ),
    ] {
        let refused = ann.set_limits(&app, rules).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.body);
        assert!(refused.body["error"].is_string(), "{why}: {}", refused.body);
        assert_eq!(ann.limits(&app).await, kept, "{why}");
    }

    // Another contact's token finds no such wallet, for reading or for changing.
    let bob = funded(&app, "bob@example.com", 0).await;
    let bob_token = bob.token(&app).await;
    let path = format!("/self-service/v2/wallets/{}/limits", ann.wallet);
    assert_eq!(with_token(&app, &bob_token, "GET", &path, None).await.status, 404);
    let body = json!({"limit_rules": [rule(json!({}))]});
    assert_eq!(
        with_token(&app, &bob_token, "PUT", &path, Some(&body)).await.status,
        404
    );
    assert_eq!(app.call("GET", &path, &[], None).await.status, 401);
    assert_eq!(ann.limits(&app).await, kept);
}
