//! Payment methods and top-ups over HTTP, through the built-in `test` gateway: a success is
//! credited exactly once, a decline or failure credits nothing, an answer lost in a timeout
//! is settled later by the reconciler (a late success once, a charge never made failed),
//! and a crash between the charge and its settlement leaves one credit or none.

use crate::helpers::*;
use rewards_engine::ManualClock;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub(crate) const SUCCEEDS: &str = "4242424242424242";
pub(crate) const DECLINED: &str = "4000000000000002";
const PROCESSING_ERROR: &str = "4000000000000119";
pub(crate) const LATE_SUCCESS: &str = "4000000000000259";
const NO_ANSWER: &str = "4000000000000341";

/// The reconciler looks often; a charge times out after a second.
pub(crate) const FAST_RECONCILER: [(&str, &str); 2] = [
    ("REWARDS__PAYMENTS__RECONCILE_INTERVAL_MS", "50"),
    ("REWARDS__PAYMENTS__CHARGE_TIMEOUT_MS", "1000"),
];

pub(crate) struct Payer {
    pub(crate) contact: String,
    pub(crate) wallet: String,
    pub(crate) token: String,
}

pub(crate) async fn payer(app: &TestApp, email: &str) -> Payer {
    let (contact, token) = registered_contact(app, email, "payer-password-1").await;
    let wallet = app.get(&format!("/backoffice/v2/contacts/{contact}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    Payer { contact, wallet, token }
}

pub(crate) fn card(number: &str) -> Value {
    // The contract requires all three details, the other two null; no gateway named is
    // the business's (the test gateway here).
    json!({
        "payment_method_type": "CARD",
        "name": "My card",
        "card": {
            "brand": "VISA", "first6": &number[..6], "last4": &number[12..],
            "expiration_month": 12, "expiration_year": 2035,
            "gateway_token": [{"token": number}],
        },
        "account_debit": null,
        "wallet": null,
    })
}

impl Payer {
    pub(crate) fn methods_path(&self) -> String {
        format!("/self-service/v2/contacts/{}/payment_methods", self.contact)
    }

    async fn add_method(&self, app: &TestApp, body: &Value) -> Reply {
        with_token(app, &self.token, "POST", &self.methods_path(), Some(body)).await
    }

    pub(crate) async fn add_card(&self, app: &TestApp, number: &str) -> String {
        let added = self.add_method(app, &card(number)).await;
        assert_eq!(added.status, 200, "{}", added.body);
        added.body["id"].as_str().unwrap().to_string()
    }

    async fn methods(&self, app: &TestApp) -> Vec<Value> {
        let listed = with_token(app, &self.token, "GET", &self.methods_path(), None).await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        listed.body["content"].as_array().unwrap().clone()
    }

    pub(crate) async fn top_up(&self, app: &TestApp, id: &str, amount: &str, method: &str) -> Reply {
        let body = json!({
            "id": id,
            "amount": serde_json::Number::from_string_unchecked_compat(amount),
            "payment_method": {"id": method, "type": "CARD"},
        });
        with_token(app, &self.token, "POST", "/self-service/v2/topups", Some(&body)).await
    }

    pub(crate) async fn balance(&self, app: &TestApp) -> String {
        app.wallet(&self.wallet).await["total_balance"].to_string()
    }
}

pub(crate) fn top_up_id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Waits (at most 10 s) until the wallet's balance is `expected`.
pub(crate) async fn balance_becomes(app: &TestApp, payer: &Payer, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let balance = payer.balance(app).await;
        if balance == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the balance stayed {balance}, not {expected}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_contact_keeps_its_payment_methods_and_only_its_own() {
    let app = spawn_app().await;
    let ann = payer(&app, "ann@example.com").await;
    let first = ann.add_card(&app, SUCCEEDS).await;
    let listed = ann.methods(&app).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["is_primary"], true, "the first method is primary");
    assert_eq!(listed[0]["card"]["last4"], "4242");
    assert_eq!(listed[0]["identifier"], "VISA ****4242 12/2035");
    assert_eq!(listed[0]["card"]["gateway_token"][0]["gateway"], "TEST");

    let bank = json!({
        "payment_method_type": "ACCOUNT_DEBIT", "is_primary": true,
        "account_debit": {"account_name": "Ann", "iban": "SE35 5000 0000 0549 1000 0003", "bank": "Barclays",
                          "gateway_token": [{"token": "ba_123"}]},
        "card": null, "wallet": null,
    });
    let added = ann.add_method(&app, &bank).await;
    assert_eq!(added.status, 200, "{}", added.body);
    let second = added.body["id"].as_str().unwrap().to_string();
    let listed = ann.methods(&app).await;
    assert_eq!(
        (listed[0]["id"].as_str(), listed[0]["is_primary"].as_bool()),
        (Some(second.as_str()), Some(true))
    );
    assert_eq!(listed[0]["account_debit"]["account_number"], "****0003");
    assert_eq!(listed[1]["is_primary"], false);
    let cards = format!("{}?type=CARD", ann.methods_path());
    let only_cards = with_token(&app, &ann.token, "GET", &cards, None).await;
    assert_eq!(
        only_cards.body["content"].as_array().unwrap().len(),
        1,
        "{}",
        only_cards.body
    );

    let path = format!("{}/{first}", ann.methods_path());
    let renamed = with_token(
        &app,
        &ann.token,
        "PUT",
        &path,
        Some(&json!({"name": "Travel card", "is_primary": true, "card": {"exp_month": 1, "exp_year": 2036}})),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let listed = ann.methods(&app).await;
    assert_eq!(listed[0]["id"], first.as_str());
    assert_eq!(listed[0]["name"], "Travel card");
    assert_eq!(listed[0]["card"]["expiration_year"], 2036);
    let removed = with_token(
        &app,
        &ann.token,
        "DELETE",
        &format!("{}/{second}", ann.methods_path()),
        None,
    )
    .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(ann.methods(&app).await.len(), 1);
    assert_eq!(
        with_token(
            &app,
            &ann.token,
            "DELETE",
            &format!("{}/{second}", ann.methods_path()),
            None
        )
        .await
        .status,
        404
    );

    // Bad methods are refused and nothing is kept.
    let mut bad_first6 = card(SUCCEEDS);
    bad_first6["card"]["first6"] = json!("42a242");
    let mut bad_month = card(SUCCEEDS);
    bad_month["card"]["expiration_month"] = json!(13);
    let mut expired = card(SUCCEEDS);
    expired["card"]["expiration_year"] = json!(2001);
    let mut unknown_gateway = card(SUCCEEDS);
    unknown_gateway["card"]["gateway_token"][0]["gateway"] = json!("JCC");
    let mut two_tokens = card(SUCCEEDS);
    two_tokens["card"]["gateway_token"] = json!([{"token": "a"}, {"token": "b"}]);
    let mut control = card(SUCCEEDS);
    control["name"] = json!("My\u{1b}card");
    let mut missing_last4 = card(SUCCEEDS);
    missing_last4["card"].as_object_mut().unwrap().remove("last4");
    let mut mixed = card(SUCCEEDS);
    mixed["account_debit"] = json!({"iban": "SE35", "gateway_token": [{"token": "x"}]});
    let mut month_as_text = card(SUCCEEDS);
    month_as_text["card"]["expiration_month"] = json!("12");
    for (why, body) in [
        ("an unknown type", json!({"payment_method_type": "CHEQUE"})),
        ("no type", json!({"card": card(SUCCEEDS)["card"]})),
        ("a bad first6", bad_first6),
        ("month 13", bad_month),
        ("an expired card", expired),
        ("a gateway the business does not use", unknown_gateway),
        ("two tokens", two_tokens),
        ("a control character", control),
        ("no last4", missing_last4),
        ("a card with bank details", mixed),
        ("a month as text", month_as_text),
    ] {
        let refused = ann.add_method(&app, &body).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.body);
    }
    assert_eq!(ann.methods(&app).await.len(), 1);
    for _ in 1..20 {
        ann.add_card(&app, SUCCEEDS).await;
    }
    assert_eq!(ann.add_method(&app, &card(SUCCEEDS)).await.status, 400, "at most 20");

    // Another contact's methods are not reachable with this token.
    let bob = payer(&app, "bob@example.com").await;
    let theirs = with_token(&app, &ann.token, "GET", &bob.methods_path(), None).await;
    assert_eq!(theirs.status, 403, "{}", theirs.body);
    let put = with_token(&app, &bob.token, "PUT", &path, Some(&json!({"name": "Mine"}))).await;
    assert_eq!(put.status, 403, "{}", put.body);
    let bobs_path = format!("{}/{first}", bob.methods_path());
    let put = with_token(&app, &bob.token, "PUT", &bobs_path, Some(&json!({"name": "Mine"}))).await;
    assert_eq!(put.status, 404, "{}", put.body);
    assert_eq!(app.call("GET", &ann.methods_path(), &[], None).await.status, 401);
}

#[tokio::test]
async fn a_top_up_is_credited_once_and_a_declined_one_never() {
    let app = spawn_app().await;
    let ann = payer(&app, "ann@example.com").await;
    let good = ann.add_card(&app, SUCCEEDS).await;
    let declined = ann.add_card(&app, DECLINED).await;
    let failing = ann.add_card(&app, PROCESSING_ERROR).await;

    let paid = ann.top_up(&app, &top_up_id(1), "25.00", &good).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(
        (paid.body["id"].as_str(), paid.body["state"].as_str()),
        (Some(top_up_id(1).as_str()), Some("COMPLETED"))
    );
    assert_eq!(ann.balance(&app).await, "25.00");
    let wallet = app.wallet(&ann.wallet).await;
    assert_eq!(wallet["total_open"].to_string(), "25.00", "top-ups are open money");
    // A retry is answered with the same top-up and credits nothing more.
    let again = ann.top_up(&app, &top_up_id(1), "25.00", &good).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(ann.balance(&app).await, "25.00");
    let conflict = ann.top_up(&app, &top_up_id(1), "26.00", &good).await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);

    for (n, method) in [(2, &declined), (3, &failing)] {
        let refused = ann.top_up(&app, &top_up_id(n), "10.00", method).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(
            refused.body["error"], "CRM.EXCEPTIONS.PAYMENTFAILEDEXCEPTION",
            "{}",
            refused.body
        );
    }
    assert_eq!(ann.balance(&app).await, "25.00");
    app.assert_balance_equals_journal(&ann.wallet).await;

    // The journal and the transactions say where the money came from.
    let journal = app.journal(&ann.wallet).await;
    assert_eq!(journal.len(), 1, "{journal:#?}");
    assert_eq!(journal[0]["transaction_type"], "TOP_UP");
    let path = format!("/self-service/v2/wallets/{}/transactions", ann.wallet);
    let transactions = with_token(&app, &ann.token, "GET", &path, None).await;
    let event = &transactions.body["content"][0]["financial_event"];
    assert_eq!(
        (event["type"].as_str(), event["id"].as_str()),
        (Some("TOP_UP"), Some(top_up_id(1).as_str())),
        "{}",
        transactions.body
    );
    let totals = format!("/self-service/v2/wallets/{}/summarised_totals", ann.wallet);
    let totals = with_token(&app, &ann.token, "GET", &totals, None).await;
    assert_eq!(
        totals.body["wallet_totals"][0]["total"].to_string(),
        "25.00",
        "{}",
        totals.body
    );

    // A top-up past the wallet's TOP_UP limit is refused before any charge.
    let limits = format!("/self-service/v2/wallets/{}/limits", ann.wallet);
    let rules = json!({"limit_rules": [{"name": "Top-ups", "maximum_amount": 50, "period": "DAILY", "applies_for": ["TOP_UP"]}]});
    assert_eq!(
        with_token(&app, &ann.token, "PUT", &limits, Some(&rules)).await.status,
        200
    );
    let over = ann.top_up(&app, &top_up_id(4), "25.01", &good).await;
    assert_eq!(
        over.body["error"], "CRM.EXCEPTIONS.WALLETLIMITEXCEEDEDEXCEPTION",
        "{}",
        over.body
    );
    assert_eq!(ann.top_up(&app, &top_up_id(5), "25.00", &good).await.status, 201);
    assert_eq!(ann.balance(&app).await, "50.00");

    // Bad top-ups change nothing.
    let bob = payer(&app, "bob@example.com").await;
    let bobs_card = bob.add_card(&app, SUCCEEDS).await;
    for (why, body, status) in [
        (
            "a zero amount",
            json!({"amount": 0, "payment_method": {"id": good}}),
            400,
        ),
        (
            "a negative amount",
            json!({"amount": -5, "payment_method": {"id": good}}),
            400,
        ),
        (
            "an over-precise amount",
            json!({"amount": 1.001, "payment_method": {"id": good}}),
            400,
        ),
        (
            "a huge amount",
            json!({"amount": 1e40, "payment_method": {"id": good}}),
            400,
        ),
        (
            "an amount as text",
            json!({"amount": "5", "payment_method": {"id": good}}),
            400,
        ),
        ("no payment method", json!({"amount": 5}), 400),
        (
            "another contact's method",
            json!({"amount": 5, "payment_method": {"id": bobs_card}}),
            400,
        ),
        (
            "another contact's wallet",
            json!({"amount": 5, "wallet_id": bob.wallet, "payment_method": {"id": good}}),
            404,
        ),
        (
            "a date",
            json!({"amount": 5, "topup_date": 1, "payment_method": {"id": good}}),
            400,
        ),
        (
            "a pool",
            json!({"amount": 5, "commerce_pool_id": "x", "payment_method": {"id": good}}),
            400,
        ),
        (
            "an unknown field",
            json!({"amount": 5, "colour": "red", "payment_method": {"id": good}}),
            400,
        ),
    ] {
        let refused = with_token(&app, &ann.token, "POST", "/self-service/v2/topups", Some(&body)).await;
        assert_eq!(refused.status.as_u16(), status, "{why}: {}", refused.body);
    }
    assert_eq!(
        (ann.balance(&app).await, bob.balance(&app).await),
        ("50.00".into(), "0.00".into())
    );
    let anonymous = app
        .call(
            "POST",
            "/self-service/v2/topups",
            &[],
            Some(&json!({"amount": 5, "payment_method": {"id": good}})),
        )
        .await;
    assert_eq!(anonymous.status, 401);
}

#[tokio::test]
async fn racing_retries_of_one_top_up_credit_it_once() {
    let app = spawn_app().await;
    let ann = payer(&app, "ann@example.com").await;
    let good = ann.add_card(&app, SUCCEEDS).await;
    let id = top_up_id(7);
    let replies = futures_util::future::join_all((0..20).map(|_| ann.top_up(&app, &id, "10.00", &good))).await;
    for reply in &replies {
        // The first is credited; one racing it may be told it is in progress (409).
        assert!([201, 409].contains(&reply.status.as_u16()), "{}", reply.body);
    }
    assert!(replies.iter().any(|reply| reply.status == 201));
    assert_eq!(ann.balance(&app).await, "10.00");
    app.assert_balance_equals_journal(&ann.wallet).await;
}

#[tokio::test]
async fn a_lost_answer_is_settled_later_a_late_success_once_and_a_charge_never_made_fails() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &FAST_RECONCILER).await;
    let ann = payer(&app, "ann@example.com").await;
    let late = ann.add_card(&app, LATE_SUCCESS).await;
    let silent = ann.add_card(&app, NO_ANSWER).await;

    let pending = ann.top_up(&app, &top_up_id(1), "30.00", &late).await;
    assert_eq!(pending.status, 504, "{}", pending.body);
    assert!(
        pending.body["message"].as_str().unwrap().contains("pending"),
        "{}",
        pending.body
    );
    assert_eq!(ann.balance(&app).await, "0.00", "a timeout never credits");
    let lost = ann.top_up(&app, &top_up_id(2), "40.00", &silent).await;
    assert_eq!(lost.status, 504, "{}", lost.body);

    // Past the charge timeout the reconciler asks again: the late success is credited once.
    app.clock.advance(5);
    balance_becomes(&app, &ann, "30.00").await;
    let token = crate::wallets::signed_in(&app, "ann@example.com", "payer-password-1").await;
    let ann = Payer { token, ..ann };
    let retried = ann.top_up(&app, &top_up_id(1), "30.00", &late).await;
    assert_eq!(
        (retried.status.as_u16(), retried.body["state"].as_str()),
        (201, Some("COMPLETED")),
        "{}",
        retried.body
    );
    // The charge the gateway never saw stays pending until it is given up on, then fails.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ann.top_up(&app, &top_up_id(2), "40.00", &silent).await.status, 504);
    app.clock.advance(3_600);
    let deadline = Instant::now() + Duration::from_secs(10);
    let token = crate::wallets::signed_in(&app, "ann@example.com", "payer-password-1").await;
    let ann = Payer { token, ..ann };
    loop {
        let settled = ann.top_up(&app, &top_up_id(2), "40.00", &silent).await;
        if settled.status == 400 {
            assert_eq!(
                settled.body["error"], "CRM.EXCEPTIONS.PAYMENTFAILEDEXCEPTION",
                "{}",
                settled.body
            );
            break;
        }
        assert!(Instant::now() < deadline, "still {}: {}", settled.status, settled.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ann.balance(&app).await, "30.00");
    app.assert_balance_equals_journal(&ann.wallet).await;
}

#[tokio::test]
async fn a_crash_between_charge_and_settlement_leaves_one_credit_after_restart() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &FAST_RECONCILER).await;
    let ann = payer(&app, "ann@example.com").await;
    let late = ann.add_card(&app, LATE_SUCCESS).await;
    let good = ann.add_card(&app, SUCCEEDS).await;
    assert_eq!(ann.top_up(&app, &top_up_id(1), "12.00", &good).await.status, 201);
    // Charged, answer lost, then the server dies before anything settles it.
    assert_eq!(ann.top_up(&app, &top_up_id(2), "30.00", &late).await.status, 504);
    let (dir, clock) = app.crash().await;
    clock.advance(5);
    let app = spawn_app_with(dir, clock, &FAST_RECONCILER).await;
    // The reconciler settles it at start: one credit, and the paid one is not paid again.
    balance_becomes(&app, &ann, "42.00").await;
    let token = crate::wallets::signed_in(&app, "ann@example.com", "payer-password-1").await;
    let ann = Payer { token, ..ann };
    assert_eq!(ann.top_up(&app, &top_up_id(1), "12.00", &good).await.status, 201);
    assert_eq!(ann.top_up(&app, &top_up_id(2), "30.00", &late).await.status, 201);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ann.balance(&app).await, "42.00");
    app.assert_balance_equals_journal(&ann.wallet).await;
    let (dir, clock) = app.crash().await;
    let app = spawn_app_with(dir, clock, &FAST_RECONCILER).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ann.balance(&app).await, "42.00");
}

#[tokio::test]
async fn a_payout_is_debited_first_kept_when_paid_and_given_back_once_when_not() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &FAST_RECONCILER).await;
    let ann = payer(&app, "ann@example.com").await;
    let good = ann.add_card(&app, SUCCEEDS).await;
    let declined = ann.add_card(&app, DECLINED).await;
    let late = ann.add_card(&app, LATE_SUCCESS).await;
    let silent = ann.add_card(&app, NO_ANSWER).await;
    assert_eq!(ann.top_up(&app, &top_up_id(1), "50.00", &good).await.status, 201);
    let payout = |id: u32, amount: &str, method: &str| {
        let body = json!({
            "id": top_up_id(100 + id),
            "amount": serde_json::Number::from_string_unchecked_compat(amount),
            "payment_method": {"id": method, "type": "CARD"},
            "notes": "Refund of an overpayment",
        });
        let (app, token) = (&app, ann.token.clone());
        async move { with_token(app, &token, "POST", "/self-service/v2/payouts", Some(&body)).await }
    };
    let paid = payout(1, "20.00", &good).await;
    assert_eq!(
        (paid.status.as_u16(), paid.body["state"].as_str()),
        (201, Some("COMPLETED")),
        "{}",
        paid.body
    );
    assert_eq!(ann.balance(&app).await, "30.00");
    assert_eq!(payout(1, "20.00", &good).await.status, 201, "a retry pays nothing more");
    assert_eq!(ann.balance(&app).await, "30.00");

    let refused = payout(2, "10.00", &declined).await;
    assert_eq!(
        refused.body["error"], "CRM.EXCEPTIONS.PAYMENTFAILEDEXCEPTION",
        "{}",
        refused.body
    );
    assert_eq!(ann.balance(&app).await, "30.00", "debited, then given back");
    let short = payout(3, "30.01", &good).await;
    assert_eq!(
        short.body["error"], "CRM.EXCEPTIONS.CANNOTSPENDAMOUNTWALLETBALANCENOTENOUGHEXCEPTION",
        "{}",
        short.body
    );

    // Answers lost: the late one was paid (kept), the silent one never (given back).
    assert_eq!(payout(4, "5.00", &late).await.status, 504);
    assert_eq!(payout(5, "5.00", &silent).await.status, 504);
    assert_eq!(ann.balance(&app).await, "20.00", "both are debited while pending");
    app.clock.advance(5);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ann.balance(&app).await, "20.00");
    app.clock.advance(3_600);
    balance_becomes(&app, &ann, "25.00").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ann.balance(&app).await, "25.00", "given back once");
    app.assert_balance_equals_journal(&ann.wallet).await;

    let token = crate::wallets::signed_in(&app, "ann@example.com", "payer-password-1").await;
    let totals = format!("/self-service/v2/wallets/{}/summarised_totals", ann.wallet);
    let totals = with_token(&app, &token, "GET", &totals, None).await;
    let payouts = totals.body["wallet_totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|total| total["type"] == "PAYOUTS")
        .unwrap()
        .clone();
    assert_eq!(payouts["total"].to_string(), "25.00", "{}", totals.body);

    let bob = payer(&app, "bob@example.com").await;
    let bobs = bob.add_card(&app, SUCCEEDS).await;
    for (why, body, status) in [
        (
            "a zero amount",
            json!({"amount": 0, "payment_method": {"id": good, "type": "CARD"}}),
            400,
        ),
        (
            "another's method",
            json!({"amount": 1, "payment_method": {"id": bobs, "type": "CARD"}}),
            400,
        ),
        (
            "another's wallet",
            json!({"amount": 1, "wallet_id": bob.wallet, "payment_method": {"id": good, "type": "CARD"}}),
            404,
        ),
        ("no method", json!({"amount": 1}), 400),
        (
            "an amount as text",
            json!({"amount": "1", "payment_method": {"id": good, "type": "CARD"}}),
            400,
        ),
        (
            "a control character in the notes",
            json!({"amount": 1, "notes": "a\u{1b}", "payment_method": {"id": good, "type": "CARD"}}),
            400,
        ),
        (
            "an unknown field",
            json!({"amount": 1, "colour": "red", "payment_method": {"id": good, "type": "CARD"}}),
            400,
        ),
    ] {
        let refused = with_token(&app, &token, "POST", "/self-service/v2/payouts", Some(&body)).await;
        assert_eq!(refused.status.as_u16(), status, "{why}: {}", refused.body);
    }
    assert_eq!(ann.balance(&app).await, "25.00");
}
