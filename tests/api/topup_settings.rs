//! Auto and termed top-ups over HTTP (`PUT /self-service/v2/wallets/{id}`,
//! `GET .../topup_settings`), charged by the scheduler through the `test` gateway: an auto
//! top-up once a debit reaches the threshold (once, not again while the balance stays
//! clear), a termed one once per occurrence (missed ones made up once), across a crash.

use crate::helpers::*;
use crate::topups::{balance_becomes, payer, top_up_id, Payer, DECLINED, LATE_SUCCESS, SUCCEEDS};
use rewards_engine::ManualClock;
use serde_json::{json, Value};
use std::time::Duration;

/// The scheduler and the reconciler look often; a charge times out after a second.
const FAST: [(&str, &str); 3] = [
    ("REWARDS__PAYMENTS__SCHEDULE_INTERVAL_MS", "20"),
    ("REWARDS__PAYMENTS__RECONCILE_INTERVAL_MS", "50"),
    ("REWARDS__PAYMENTS__CHARGE_TIMEOUT_MS", "1000"),
];
const HOUR_S: i64 = 3600;
const DAY_S: i64 = 24 * HOUR_S;

fn number(text: &str) -> Value {
    Value::Number(serde_json::Number::from_string_unchecked_compat(text))
}

impl Payer {
    fn wallet_path(&self) -> String {
        format!("/self-service/v2/wallets/{}", self.wallet)
    }

    async fn set(&self, app: &TestApp, body: &Value) -> Reply {
        with_token(app, &self.token, "PUT", &self.wallet_path(), Some(body)).await
    }

    async fn settings(&self, app: &TestApp) -> Value {
        let path = format!("{}/topup_settings", self.wallet_path());
        let read = with_token(app, &self.token, "GET", &path, None).await;
        assert_eq!(read.status, 200, "{}", read.body);
        read.body
    }

    /// Signs in again: the clock moved past the access token's life.
    async fn sign_in_again(&mut self, app: &TestApp, email: &str) {
        let signed_in = contact_sign_in(app, PUBLIC_KEY, email, "payer-password-1").await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
        self.token = signed_in.body["access_token"].as_str().unwrap().to_string();
    }

    async fn spend(&self, app: &TestApp, reference: &str, amount: &str) {
        let spent = app
            .purchase(&self.contact, reference, amount, Some((amount, true)))
            .await;
        assert_eq!(spent.status, 201, "{}", spent.body);
    }
}

fn auto(threshold: &str, amount: &str, method: &str) -> Value {
    json!({"auto_topup": {"threshold": number(threshold), "amount": number(amount),
                          "payment_method": {"id": method, "type": "CARD"}}})
}

fn termed(amount: &str, frequency: &str, method: &str) -> Value {
    json!({"termed_topup": {"amount": number(amount), "currency_code": "EUR", "frequency": frequency,
                            "payment_method": {"type": "CARD", "identity": {"id": method}}}})
}

/// The balance stays `expected` while the scheduler has had time to act many times over.
async fn balance_stays(app: &TestApp, payer: &Payer, expected: &str) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(payer.balance(app).await, expected);
}

/// The wallet's top-up lines in its journal.
async fn top_up_lines(app: &TestApp, payer: &Payer) -> usize {
    app.journal(&payer.wallet)
        .await
        .iter()
        .filter(|line| line["description"] == "Top-up")
        .count()
}

/// The notes of the wallet's top-ups, as the contact's transactions show them.
async fn top_up_notes(app: &TestApp, payer: &Payer) -> Vec<Value> {
    let path = format!("{}/transactions?size=100", payer.wallet_path());
    let listed = with_token(app, &payer.token, "GET", &path, None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|line| line["financial_event"]["type"] == "TOP_UP")
        .map(|line| line["financial_event"]["notes"].clone())
        .collect()
}

#[tokio::test]
async fn an_auto_top_up_follows_a_debit_to_the_threshold_once() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &FAST).await;
    let ann = payer(&app, "ann.auto@example.com").await;
    let visa = ann.add_card(&app, SUCCEEDS).await;
    assert_eq!(ann.settings(&app).await, json!({}), "nothing until the contact opts in");
    assert_eq!(ann.top_up(&app, &top_up_id(1), "30", &visa).await.status, 201);

    let set = ann.set(&app, &auto("5", "20", &visa)).await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["id"], ann.wallet.as_str());
    let shown = ann.settings(&app).await;
    assert_eq!(shown["auto_topup"]["threshold"], number("5.00"), "{shown}");
    assert_eq!(shown["auto_topup"]["amount"], number("20.00"));
    assert_eq!(shown["auto_topup"]["currency_code"], "EUR");
    assert_eq!(shown["auto_topup"]["payment_method"]["type"], "CARD");
    assert_eq!(shown["auto_topup"]["payment_method"]["identity"]["id"], visa.as_str());
    assert_eq!(
        shown["auto_topup"]["payment_method"]["identity"]["identifier"],
        "VISA ****4242 12/2035"
    );
    assert!(shown.get("termed_topup").is_none());
    balance_stays(&app, &ann, "30.00").await;

    // A debit to 4 (at or below 5) tops up 20, once.
    ann.spend(&app, "auto-1", "26").await;
    balance_becomes(&app, &ann, "24.00").await;
    balance_stays(&app, &ann, "24.00").await;
    // A debit that leaves the balance clear of the threshold tops up nothing.
    ann.spend(&app, "auto-2", "1").await;
    balance_stays(&app, &ann, "23.00").await;
    // Exactly at the threshold tops up again.
    ann.spend(&app, "auto-3", "18").await;
    balance_becomes(&app, &ann, "25.00").await;
    balance_stays(&app, &ann, "25.00").await;
    assert_eq!(
        app.assert_balance_equals_journal(&ann.wallet).await.to_string(),
        "25.00"
    );
    assert_eq!(top_up_lines(&app, &ann).await, 3, "the manual top-up and two auto ones");
    let mut notes = top_up_notes(&app, &ann).await;
    notes.sort_by_key(Value::to_string);
    assert_eq!(notes, vec![json!("auto top-up"), json!("auto top-up"), Value::Null]);

    // A declined card credits nothing, and is not tried again until the next debit.
    let declined = ann.add_card(&app, DECLINED).await;
    assert_eq!(ann.set(&app, &auto("10", "20", &declined)).await.status, 200);
    ann.spend(&app, "auto-4", "20").await;
    balance_stays(&app, &ann, "5.00").await;
    assert_eq!(top_up_lines(&app, &ann).await, 3);

    // The method an auto top-up charges cannot be removed; switched off, it can.
    let method_path = format!("{}/{declined}", ann.methods_path());
    let removed = with_token(&app, &ann.token, "DELETE", &method_path, None).await;
    assert_eq!(removed.status, 409, "{}", removed.body);
    // Opting in below the threshold tops up at once.
    assert_eq!(ann.set(&app, &auto("10", "20", &visa)).await.status, 200);
    balance_becomes(&app, &ann, "25.00").await;
    let off = with_token(
        &app,
        &ann.token,
        "PUT",
        &ann.wallet_path(),
        Some(&json!({"auto_topup": null})),
    )
    .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(ann.settings(&app).await, json!({}));
    assert_eq!(
        with_token(&app, &ann.token, "DELETE", &method_path, None).await.status,
        200
    );
    ann.spend(&app, "auto-5", "25").await;
    balance_stays(&app, &ann, "0.00").await;
    app.stop().await;
}

#[tokio::test]
async fn debits_while_an_auto_top_up_is_pending_begin_no_other() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &FAST).await;
    let eve = payer(&app, "eve.pending@example.com").await;
    let visa = eve.add_card(&app, SUCCEEDS).await;
    assert_eq!(eve.top_up(&app, &top_up_id(1), "30", &visa).await.status, 201);
    // This card's first answer is lost: the auto top-up stays pending until the
    // reconciler asks again (a charge timeout later) and learns it succeeded.
    let late = eve.add_card(&app, LATE_SUCCESS).await;
    assert_eq!(eve.set(&app, &auto("5", "20", &late)).await.status, 200);
    eve.spend(&app, "pending-1", "26").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    eve.spend(&app, "pending-2", "2").await;
    eve.spend(&app, "pending-3", "1").await;
    app.clock.advance(5);
    balance_becomes(&app, &eve, "21.00").await;
    balance_stays(&app, &eve, "21.00").await;
    assert_eq!(top_up_lines(&app, &eve).await, 2, "the manual top-up and one auto one");
    app.stop().await;
}

#[tokio::test]
async fn a_termed_top_up_comes_once_per_occurrence_across_a_crash() {
    // START_S is Friday 2027-01-15 08:00 UTC: noon comes 4 hours later.
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &FAST).await;
    const BEA: &str = "bea.termed@example.com";
    let mut bea = payer(&app, BEA).await;
    let visa = bea.add_card(&app, SUCCEEDS).await;
    let set = bea.set(&app, &termed("10", "0 0 12 * * ?", &visa)).await;
    assert_eq!(set.status, 200, "{}", set.body);
    let shown = bea.settings(&app).await;
    assert_eq!(shown["termed_topup"]["frequency"], "0 0 12 * * ?", "{shown}");
    assert_eq!(shown["termed_topup"]["amount"], number("10.00"));
    assert_eq!(shown["termed_topup"]["currency_code"], "EUR");
    assert_eq!(shown["termed_topup"]["payment_method"]["identity"]["id"], visa.as_str());
    assert_eq!(shown["termed_topup"]["next_topup_date"], START_S + 4 * HOUR_S);
    balance_stays(&app, &bea, "0.00").await;

    app.clock.advance(4 * HOUR_S);
    balance_becomes(&app, &bea, "10.00").await;
    balance_stays(&app, &bea, "10.00").await;
    bea.sign_in_again(&app, BEA).await;
    assert_eq!(
        bea.settings(&app).await["termed_topup"]["next_topup_date"],
        START_S + 4 * HOUR_S + DAY_S
    );
    app.clock.advance(DAY_S);
    balance_becomes(&app, &bea, "20.00").await;
    // Three occurrences missed (the engine down, say) are made up by one top-up.
    app.clock.advance(3 * DAY_S + HOUR_S);
    balance_becomes(&app, &bea, "30.00").await;
    balance_stays(&app, &bea, "30.00").await;
    let next = START_S + 4 * HOUR_S + 5 * DAY_S;
    bea.sign_in_again(&app, BEA).await;
    assert_eq!(bea.settings(&app).await["termed_topup"]["next_topup_date"], next);

    // The settings survive a crash, and the next occurrence comes once.
    let (dir, clock) = app.crash().await;
    let app = spawn_app_with(dir, clock, &FAST).await;
    assert_eq!(bea.settings(&app).await["termed_topup"]["next_topup_date"], next);
    app.clock.set(next);
    balance_becomes(&app, &bea, "40.00").await;
    balance_stays(&app, &bea, "40.00").await;
    assert_eq!(top_up_lines(&app, &bea).await, 4);
    bea.sign_in_again(&app, BEA).await;

    // Weekly, Mondays at noon (Quartz: MON, or 2 with Sunday = 1), the period shown as given.
    let mut weekly = termed("5", "0 0 12 ? * 2", &visa);
    weekly["termed_topup"]["period"] = json!("WEEKLY");
    assert_eq!(bea.set(&app, &weekly).await.status, 200);
    let shown = bea.settings(&app).await;
    assert_eq!(shown["termed_topup"]["period"], "WEEKLY", "{shown}");
    assert_eq!(shown["termed_topup"]["frequency"], "0 0 12 ? * 2");
    // `next` is a Wednesday noon: the next Monday noon is five days on.
    assert_eq!(shown["termed_topup"]["next_topup_date"], next + 5 * DAY_S);
    app.stop().await;
}

#[tokio::test]
async fn bad_top_up_settings_are_refused_and_change_nothing() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &FAST).await;
    let cy = payer(&app, "cy.bad@example.com").await;
    let visa = cy.add_card(&app, SUCCEEDS).await;
    assert_eq!(cy.set(&app, &auto("5", "20", &visa)).await.status, 200);
    let before = cy.settings(&app).await;

    let mut unknown_field = auto("5", "20", &visa);
    unknown_field["auto_topup"]["colour"] = json!("red");
    let mut bad_termed_with_good_auto = termed("10", "* * * * * ?", &visa);
    bad_termed_with_good_auto["auto_topup"] = auto("1", "2", &visa)["auto_topup"].clone();
    let mut auto_currency = auto("5", "20", &visa);
    auto_currency["auto_topup"]["currency_code"] = json!("USD");
    let cases: Vec<(&str, Value)> = vec![
        ("amount at the threshold", auto("5", "5", &visa)),
        ("amount below the threshold", auto("5", "4", &visa)),
        ("a zero amount", auto("0", "0", &visa)),
        ("a negative threshold", auto("-1", "20", &visa)),
        ("an over-precise amount", auto("5", "20.001", &visa)),
        ("an amount past the bound", auto("5", "100000000000000000000", &visa)),
        ("another currency", auto_currency),
        (
            "an unknown payment method",
            auto("5", "20", "6f1c3f53-25c6-4a44-9f0e-2b1c1d0a9e11"),
        ),
        ("a malformed payment method", auto("5", "20", "card-1")),
        (
            "no threshold",
            json!({"auto_topup": {"amount": 20, "payment_method": {"id": visa}}}),
        ),
        ("an unknown field", unknown_field),
        ("every second", termed("10", "* * * * * ?", &visa)),
        ("hourly", termed("10", "0 0 * * * ?", &visa)),
        ("not cron", termed("10", "noon", &visa)),
        ("five fields", termed("10", "0 12 * * ?", &visa)),
        ("never again", termed("10", "0 0 12 * * ? 2020", &visa)),
        ("termed in another currency", {
            let mut body = termed("10", "0 0 12 * * ?", &visa);
            body["termed_topup"]["currency_code"] = json!("USD");
            body
        }),
        ("an unknown period", {
            let mut body = termed("10", "0 0 12 * * ?", &visa);
            body["termed_topup"]["period"] = json!("YEARLY");
            body
        }),
        ("no frequency", {
            let mut body = termed("10", "0 0 12 * * ?", &visa);
            body["termed_topup"].as_object_mut().unwrap().remove("frequency");
            body
        }),
        ("a negative termed amount", termed("-10", "0 0 12 * * ?", &visa)),
        ("a bad termed rule beside a good auto one", bad_termed_with_good_auto),
    ];
    for (case, body) in cases {
        let refused = with_token(&app, &cy.token, "PUT", &cy.wallet_path(), Some(&body)).await;
        assert_eq!(refused.status, 400, "{case}: {}", refused.body);
        assert_eq!(cy.settings(&app).await, before, "{case} changed nothing");
    }

    // Another contact's wallet is not found, for reading and for setting.
    let dee = payer(&app, "dee.other@example.com").await;
    let dee_visa = dee.add_card(&app, SUCCEEDS).await;
    let foreign = format!("{}/topup_settings", cy.wallet_path());
    assert_eq!(with_token(&app, &dee.token, "GET", &foreign, None).await.status, 404);
    let taken = with_token(
        &app,
        &dee.token,
        "PUT",
        &cy.wallet_path(),
        Some(&auto("1", "2", &dee_visa)),
    )
    .await;
    assert_eq!(taken.status, 404, "{}", taken.body);
    // Nor may one contact's settings charge another's payment method.
    let borrowed = dee.set(&app, &auto("1", "2", &visa)).await;
    assert_eq!(borrowed.status, 400, "{}", borrowed.body);
    assert_eq!(dee.settings(&app).await, json!({}));
    assert_eq!(cy.settings(&app).await, before);
    let no_wallet = with_token(
        &app,
        &cy.token,
        "GET",
        "/self-service/v2/wallets/nope/topup_settings",
        None,
    )
    .await;
    assert_eq!(no_wallet.status, 404);
    app.stop().await;
}
