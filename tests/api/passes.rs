//! Gift and top-up passes over HTTP: plans and electronic passes in the back office, and
//! redemption exactly once — however many requests race, across a crash — with the PIN
//! checked and wrong codes and PINs limited per caller.

use crate::helpers::*;
use rewards_engine::ManualClock;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub(crate) fn gift_plan(extra: Value) -> Value {
    let mut plan = json!({
        "name": "Xmas gift card",
        "classification": "GIFT",
        "value": {"type": "FIXED", "fixed_amount": 25},
        "validity": {"type": "PERIOD", "period": 12, "uot": "MONTHS"},
        "code_format": {"type": "ALPHANUMERIC", "prefix": "GIFT", "length": 10, "pin_required": true},
        "credit_wallet_balance": "OPEN",
    });
    plan.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    plan
}

pub(crate) async fn plan(app: &TestApp, body: Value) -> String {
    let made = app.post("/backoffice/v2/pass_plans", &body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.body["id"].as_str().unwrap().to_string()
}

/// Issues a pass under `plan`: (id, code, pin).
pub(crate) async fn issue(app: &TestApp, plan: &str) -> (String, String, Option<String>) {
    let issued = app
        .post(
            "/backoffice/v2/passes",
            &json!({"pass_plan_id": plan, "recipient": {"name": "Kim", "medium_type": "EMAIL", "medium_value": "kim@example.com"}}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    (
        issued.body["id"].as_str().unwrap().to_string(),
        issued.body["code"].as_str().unwrap().to_string(),
        issued.body["pin"].as_str().map(str::to_string),
    )
}

/// A redemption at the business (the contract requires `organisation`).
async fn redeem(app: &TestApp, token: &str, mut body: Value) -> Reply {
    if body.get("organisation").is_none() {
        body["organisation"] = json!({});
    }
    with_token(app, token, "POST", "/self-service/v2/passes/redeem", Some(&body)).await
}

pub(crate) async fn wallet_of(app: &TestApp, contact: &str) -> String {
    app.get(&format!("/backoffice/v2/contacts/{contact}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_gift_pass_is_issued_and_redeemed_once_into_the_open_balance() {
    let app = spawn_app().await;
    let plan_id = plan(&app, gift_plan(json!({}))).await;
    let (contact, token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;
    let listed = with_token(&app, &token, "GET", "/self-service/v2/pass_plans", None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["content"][0]["id"], plan_id.as_str());
    assert_eq!(listed.body["content"][0]["value"]["fixed_amount"].to_string(), "25.00");

    let (pass_id, code, pin) = issue(&app, &plan_id).await;
    assert!(code.starts_with("GIFT") && code.len() == 14, "{code}");
    let pin = pin.expect("the plan needs a PIN");
    let redeemed = redeem(&app, &token, json!({"code": code, "pin": pin, "organisation": {}})).await;
    assert_eq!(redeemed.status, 200, "{}", redeemed.body);
    assert_eq!(redeemed.body["id"], pass_id.as_str());
    actor_outbox_drained(&app).await;
    let wallet = wallet_of(&app, &contact).await;
    let view = app.wallet(&wallet).await;
    assert_eq!(
        (view["total_balance"].to_string(), view["total_open"].to_string()),
        ("25.00".into(), "25.00".into())
    );
    // A retry by the same contact is answered alike and credits nothing more.
    assert_eq!(
        redeem(&app, &token, json!({"code": code, "pin": pin})).await.status,
        200
    );
    actor_outbox_drained(&app).await;
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "25.00");
    let found = app.get(&format!("/backoffice/v2/passes?pass_code={code}")).await;
    assert_eq!(found.body["content"][0]["state"], "REDEEMED", "{}", found.body);
    assert_eq!(found.body["content"][0]["redeemed_by"]["id"], contact.as_str());
    // The journal and the transactions name it.
    let path = format!("/self-service/v2/wallets/{wallet}/transactions");
    let transactions = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(
        transactions.body["content"][0]["financial_event"]["type"], "PASS_REDEMPTION",
        "{}",
        transactions.body
    );
    app.assert_balance_equals_journal(&wallet).await;

    // Another contact finds it redeemed; a pass named by the SHA-1 of its code redeems too.
    let (other_id, other) = registered_contact(&app, "lee@example.com", "lee-password-1").await;
    let taken = redeem(&app, &other, json!({"code": code, "pin": pin})).await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    let (_, second, second_pin) = issue(&app, &plan_id).await;
    let hash = rewards_engine::domain::pass::code_hash(&second);
    let apps_need_the_code = redeem(&app, &other, json!({"code_hash": hash, "pin": second_pin})).await;
    assert_eq!(apps_need_the_code.status, 400, "{}", apps_need_the_code.body);
    // The back office may name a pass by the SHA-1 of its code.
    let by_hash = app
        .post(
            "/backoffice/v2/passes/redeem",
            &json!({"code_hash": hash, "pin": second_pin, "contact_id": other_id}),
        )
        .await;
    assert_eq!(by_hash.status, 200, "{}", by_hash.body);
    actor_outbox_drained(&app).await;
    let other_wallet = wallet_of(&app, &other_id).await;
    assert_eq!(app.wallet(&other_wallet).await["total_balance"].to_string(), "25.00");
}

#[tokio::test]
async fn a_hundred_racing_redemptions_credit_once() {
    let app = spawn_app().await;
    let plan_id = plan(
        &app,
        gift_plan(json!({"code_format": {"type": "NUMERIC", "length": 12}})),
    )
    .await;
    let (_, code, pin) = issue(&app, &plan_id).await;
    assert!(pin.is_none());
    let mut people = Vec::new();
    for n in 0..10 {
        people.push(registered_contact(&app, &format!("racer{n}@example.com"), "racer-password-1").await);
    }
    let attempts = people
        .iter()
        .flat_map(|(_, token)| (0..10).map(move |_| token.clone()))
        .map(|token| {
            let (app, code) = (&app, code.clone());
            async move { redeem(app, &token, json!({"code": code})).await }
        });
    let replies = futures_util::future::join_all(attempts).await;
    for reply in &replies {
        assert!([200, 409].contains(&reply.status.as_u16()), "{}", reply.body);
    }
    actor_outbox_drained(&app).await;
    let mut credited = Vec::new();
    for (contact, _) in &people {
        let balance = app.wallet(&wallet_of(&app, contact).await).await["total_balance"].to_string();
        if balance != "0.00" {
            credited.push(balance);
        }
    }
    assert_eq!(credited, ["25.00"], "exactly one wallet, credited once");
}

#[tokio::test]
async fn wrong_codes_and_pins_are_limited_per_caller_and_bad_passes_change_nothing() {
    let app = spawn_app().await;
    let plan_id = plan(&app, gift_plan(json!({}))).await;
    let (contact, token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;
    let (_, code, pin) = issue(&app, &plan_id).await;
    let pin = pin.unwrap();
    let wrong_pin = if pin == "0000" { "1111" } else { "0000" };
    for _ in 0..3 {
        let wrong = redeem(&app, &token, json!({"code": code, "pin": wrong_pin})).await;
        assert_eq!(wrong.status, 400, "{}", wrong.body);
    }
    for _ in 0..2 {
        let unknown = redeem(&app, &token, json!({"code": "GIFTNOSUCHCODE"})).await;
        assert_eq!(unknown.status, 404, "{}", unknown.body);
    }
    // Five wrong tries: the right PIN is refused too until the window ends.
    let limited = redeem(&app, &token, json!({"code": code, "pin": pin})).await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.retry_after.is_some());
    let wallet = wallet_of(&app, &contact).await;
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "0.00");
    // Another contact is not held up by this one's guesses.
    let (_, other) = registered_contact(&app, "lee@example.com", "lee-password-1").await;
    assert_eq!(
        redeem(&app, &other, json!({"code": code, "pin": pin})).await.status,
        200
    );

    // A pass in another currency does not go into a EUR wallet; an expired one is refused.
    let dollars = plan(
        &app,
        gift_plan(json!({"currency_code": "USD", "code_format": {"type": "NUMERIC", "length": 12}})),
    )
    .await;
    let (_, dollar_code, _) = issue(&app, &dollars).await;
    let (_, third) = registered_contact(&app, "max@example.com", "max-password-1").await;
    let mismatch = redeem(&app, &third, json!({"code": dollar_code})).await;
    assert_eq!(
        mismatch.body["error"], "CRM.EXCEPTIONS.CURRENCYMISMATCHEXCEPTION",
        "{}",
        mismatch.body
    );
    let short = plan(
        &app,
        gift_plan(json!({"validity": {"type": "PERIOD", "period": 1, "uot": "DAYS"}, "code_format": {"type": "NUMERIC", "length": 12}})),
    )
    .await;
    let (_, short_code, _) = issue(&app, &short).await;
    app.clock.advance(2 * DAY_S);
    let third = crate::wallets::signed_in(&app, "max@example.com", "max-password-1").await;
    let expired = redeem(&app, &third, json!({"code": short_code})).await;
    assert_eq!(expired.status, 409, "{}", expired.body);
    let found = app.get(&format!("/backoffice/v2/passes?pass_code={short_code}")).await;
    assert_eq!(found.body["content"][0]["state"], "EXPIRED", "{}", found.body);

    // Bad plans, passes and redemptions are refused.
    for (why, body) in [
        (
            "a zero value",
            gift_plan(json!({"value": {"type": "FIXED", "fixed_amount": 0}})),
        ),
        (
            "an over-precise value",
            gift_plan(json!({"value": {"type": "FIXED", "fixed_amount": 1.001}})),
        ),
        (
            "bounds the wrong way",
            gift_plan(json!({"value": {"type": "VARIABLE", "minimum": 50, "maximum": 10}})),
        ),
        (
            "a short code",
            gift_plan(json!({"code_format": {"type": "NUMERIC", "length": 4}})),
        ),
        (
            "an odd prefix",
            gift_plan(json!({"code_format": {"type": "NUMERIC", "prefix": "A-1", "length": 10}})),
        ),
        ("a promotion", gift_plan(json!({"classification": "PROMOTION"}))),
        ("a printed plan", gift_plan(json!({"printed": true}))),
        (
            "an unknown unit",
            gift_plan(json!({"validity": {"type": "PERIOD", "period": 1, "uot": "WEEKS"}})),
        ),
        ("an empty name", gift_plan(json!({"name": " "}))),
        ("an unknown field", gift_plan(json!({"colour": "red"}))),
    ] {
        let refused = app.post("/backoffice/v2/pass_plans", &body).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.body);
    }
    let variable = plan(
        &app,
        gift_plan(json!({"value": {"type": "VARIABLE", "minimum": 10, "maximum": 100}, "code_format": {"type": "NUMERIC", "length": 12}})),
    )
    .await;
    let outside = app
        .post(
            "/backoffice/v2/passes",
            &json!({"pass_plan_id": variable, "pass_value": 101}),
        )
        .await;
    assert_eq!(outside.status, 400, "{}", outside.body);
    let inside = app
        .post(
            "/backoffice/v2/passes",
            &json!({"pass_plan_id": variable, "pass_value": 42.5}),
        )
        .await;
    assert_eq!(
        (inside.status.as_u16(), inside.body["value"].to_string()),
        (201, "42.50".into()),
        "{}",
        inside.body
    );
    let off = app
        .put(
            &format!("/backoffice/v2/pass_plans/{variable}"),
            &json!({"state": "INACTIVE"}),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    let inactive = app
        .post(
            "/backoffice/v2/passes",
            &json!({"pass_plan_id": variable, "pass_value": 20}),
        )
        .await;
    assert_eq!(inactive.status, 409, "{}", inactive.body);
    for (why, body) in [
        ("no code", json!({"pin": "1234"})),
        ("a bad hash", json!({"code_hash": "xyz"})),
        ("a control character in the PIN", json!({"code": code, "pin": "\u{1b}"})),
        ("another contact's id", json!({"code": code, "contact_id": contact})),
        (
            "an organisation elsewhere",
            json!({"code": code, "organisation": {"id": "00000000-0000-4000-8000-000000000001"}}),
        ),
        (
            "a TAP",
            json!({"code": code, "organisation": {"merchant_tap": {"code": "T1"}}}),
        ),
    ] {
        let (_, fresh) = registered_contact(&app, &format!("bad{}@example.com", why.len()), "bad-password-1").await;
        let refused = redeem(&app, &fresh, body).await;
        assert!([400, 403].contains(&refused.status.as_u16()), "{why}: {}", refused.body);
    }
    // Another business sees none of this business's plans.
    let theirs = "sk_live_secret_key_of_another_business_1";
    another_business(&app, theirs, "Elsewhere").await;
    let hidden = app
        .with_key(theirs, "GET", &format!("/backoffice/v2/pass_plans/{plan_id}"), None)
        .await;
    assert_eq!(hidden.status, 404);
}

#[tokio::test]
async fn a_redemption_is_credited_once_across_a_crash() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &[]).await;
    let plan_id = plan(
        &app,
        gift_plan(json!({"code_format": {"type": "NUMERIC", "length": 12}})),
    )
    .await;
    let (_, code, _) = issue(&app, &plan_id).await;
    let (contact, token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;
    let wallet = wallet_of(&app, &contact).await;
    assert_eq!(redeem(&app, &token, json!({"code": code})).await.status, 200);
    // Dies before (or while) the credit is delivered: the redemption and its message are on
    // disk together.
    let (dir, clock) = app.crash().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while dec(&app.wallet(&wallet).await["total_balance"]) != rust_decimal::Decimal::new(2500, 2) {
        assert!(Instant::now() < deadline, "the credit never landed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let token = crate::wallets::signed_in(&app, "kim@example.com", "kim-password-1").await;
    assert_eq!(redeem(&app, &token, json!({"code": code})).await.status, 200);
    actor_outbox_drained(&app).await;
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "25.00");
    app.assert_balance_equals_journal(&wallet).await;
    let found = app.get(&format!("/backoffice/v2/passes?pass_code={code}")).await;
    assert_eq!(found.body["content"][0]["state"], "REDEEMED");
}

#[tokio::test]
async fn the_back_office_changes_a_pass_as_its_state_table_allows() {
    let app = spawn_app().await;
    let plan_id = plan(&app, gift_plan(json!({}))).await;
    let (pass_id, code, _) = issue(&app, &plan_id).await;
    let path = format!("/backoffice/v2/passes/{pass_id}");
    let changed = app
        .put(
            &path,
            &json!({"value": 40, "pin": "9876", "expiration_date": START_S + 10 * DAY_S}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["value"].to_string(), "40.00");
    assert_eq!(changed.body["expiration_date"], START_S + 10 * DAY_S);
    // Activating an active pass is not in the table.
    assert_eq!(app.put(&path, &json!({"state": "ACTIVE"})).await.status, 409);
    let (contact, token) = registered_contact(&app, "kim@example.com", "kim-password-1").await;
    assert_eq!(
        redeem(&app, &token, json!({"code": code, "pin": "9876"})).await.status,
        200
    );
    actor_outbox_drained(&app).await;
    let wallet = wallet_of(&app, &contact).await;
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "40.00");
    // A redeemed pass changes no more, and cannot be cancelled.
    for body in [
        json!({"value": 50}),
        json!({"state": "CANCELLED"}),
        json!({"pin": "1111"}),
    ] {
        let refused = app.put(&path, &body).await;
        assert_eq!(refused.status, 409, "{body}: {}", refused.body);
    }
    // A cancelled pass is not redeemed.
    let (second_id, second_code, second_pin) = issue(&app, &plan_id).await;
    let cancelled = app
        .put(
            &format!("/backoffice/v2/passes/{second_id}"),
            &json!({"state": "CANCELLED"}),
        )
        .await;
    assert_eq!(cancelled.body["state"], "CANCELLED", "{}", cancelled.body);
    let refused = redeem(&app, &token, json!({"code": second_code, "pin": second_pin})).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    for (why, body) in [
        ("a zero value", json!({"value": 0})),
        ("an over-precise value", json!({"value": 1.001})),
        ("a short PIN", json!({"pin": "12"})),
        ("a PIN of letters", json!({"pin": "abcd"})),
        ("an unknown state", json!({"state": "LOST"})),
        ("a date as text", json!({"expiration_date": "soon"})),
        ("an unknown field", json!({"colour": "red"})),
    ] {
        let refused = app.put(&format!("/backoffice/v2/passes/{second_id}"), &body).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.body);
    }
    let unknown = app
        .put(
            "/backoffice/v2/passes/00000000-0000-4000-8000-000000000001",
            &json!({"value": 5}),
        )
        .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_gift_pass_redeemed_for_no_one_named_makes_one_unnamed_contact_found_by_the_code() {
    let app = spawn_app().await;
    let plan_id = plan(&app, gift_plan(json!({}))).await;
    let (_, code, pin) = issue(&app, &plan_id).await;
    let pin = pin.unwrap();
    let wrong = app
        .post("/backoffice/v2/passes/redeem", &json!({"code": code, "pin": "99999"}))
        .await;
    assert_eq!(wrong.status, 400, "a wrong PIN makes no contact: {}", wrong.body);
    let redeemed = app
        .post("/backoffice/v2/passes/redeem", &json!({"code": code, "pin": pin}))
        .await;
    assert_eq!(redeemed.status, 200, "{}", redeemed.body);
    let contact = redeemed.body["contact"]["id"].as_str().unwrap().to_string();
    actor_outbox_drained(&app).await;
    let wallet = wallet_of(&app, &contact).await;
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "25.00");
    // The code finds the pass, and the pass its contact.
    let found = app.get(&format!("/backoffice/v2/passes?pass_code={code}")).await;
    assert_eq!(found.body["content"][0]["redeemed_by"]["id"], contact.as_str());
    let person = app.get(&format!("/backoffice/v2/contacts/{contact}")).await;
    assert_eq!(person.status, 200, "{}", person.body);
    // Asked again, it is redeemed already: no second contact, no second credit.
    let again = app
        .post("/backoffice/v2/passes/redeem", &json!({"code": code, "pin": pin}))
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    actor_outbox_drained(&app).await;
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "25.00");
    // A top-up pass needs a named contact.
    let top_up_plan = plan(
        &app,
        gift_plan(json!({"classification": "TOPUP", "code_format": {"type": "NUMERIC", "length": 12}})),
    )
    .await;
    let (_, top_up_code, _) = issue(&app, &top_up_plan).await;
    let unnamed = app
        .post("/backoffice/v2/passes/redeem", &json!({"code": top_up_code}))
        .await;
    assert_eq!(unnamed.status, 400, "{}", unnamed.body);
}

#[tokio::test]
async fn another_business_s_key_reaches_none_of_this_business_s_passes_and_bad_lookups_are_refused() {
    let app = spawn_app().await;
    let plan_id = plan(&app, gift_plan(json!({}))).await;
    let (pass_id, code, pin) = issue(&app, &plan_id).await;
    let theirs = "sk_live_secret_key_of_another_business_2";
    another_business(&app, theirs, "Elsewhere").await;
    let issued = app
        .with_key(
            theirs,
            "POST",
            "/backoffice/v2/passes",
            Some(&json!({"pass_plan_id": plan_id})),
        )
        .await;
    assert_eq!(issued.status, 404, "{}", issued.body);
    let found = app
        .with_key(theirs, "GET", &format!("/backoffice/v2/passes?pass_code={code}"), None)
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(
        found.body["content"],
        json!([]),
        "another business finds nothing by the code"
    );
    let changed = app
        .with_key(
            theirs,
            "PUT",
            &format!("/backoffice/v2/passes/{pass_id}"),
            Some(&json!({"state": "CANCELLED"})),
        )
        .await;
    assert_eq!(changed.status, 404, "{}", changed.body);
    let redeemed = app
        .with_key(
            theirs,
            "POST",
            "/backoffice/v2/passes/redeem",
            Some(&json!({"code": code, "pin": pin})),
        )
        .await;
    assert_eq!(redeemed.status, 404, "{}", redeemed.body);
    // The pass is untouched.
    let ours = app.get(&format!("/backoffice/v2/passes?pass_code={code}")).await;
    assert_eq!(ours.body["content"][0]["state"], "ACTIVE", "{}", ours.body);

    for query in ["", "?pass_code=X&code_hash=Y", "?code_hash=abc"] {
        let refused = app.get(&format!("/backoffice/v2/passes{query}")).await;
        assert_eq!(refused.status, 400, "{query}: {}", refused.body);
    }
    for (why, body) in [
        (
            "an unknown medium",
            json!({"pass_plan_id": plan_id, "recipient": {"medium_type": "FAX", "medium_value": "1"}}),
        ),
        (
            "a control character to send to",
            json!({"pass_plan_id": plan_id, "recipient": {"medium_type": "EMAIL", "medium_value": "a\u{1b}@b.c"}}),
        ),
        ("a plan id as a number", json!({"pass_plan_id": 7})),
        ("a value as text", json!({"pass_plan_id": plan_id, "pass_value": "5"})),
    ] {
        let refused = app.post("/backoffice/v2/passes", &body).await;
        assert_eq!(refused.status.as_u16() / 100, 4, "{why}: {}", refused.body);
        assert_ne!(refused.status, 201);
    }
}
