//! Purchases paid with a gift pass (`pass{code, pin}` on `POST /backoffice/v2/purchases`):
//! the pass names whose wallet pays and brings its value there first; a pass redeemed for
//! no one named identifies its unnamed contact at later sales; a pass redeemed into a named
//! contact's wallet pays only for them; bad passes change nothing.

use crate::helpers::*;
use crate::passes::{gift_plan, issue, plan, wallet_of};
use serde_json::{json, Value};

fn paid_with(reference: &str, total: &str, pass: Value) -> Value {
    json!({
        "reference_number": reference,
        "transaction_amounts": {"total": serde_json::Number::from_string_unchecked_compat(total)},
        "pass": pass,
    })
}

#[tokio::test]
async fn a_gift_pass_pays_for_its_unnamed_contact_until_it_is_spent() {
    let app = spawn_app().await;
    let plan_id = plan(&app, gift_plan(json!({}))).await;
    let (pass_id, code, pin) = issue(&app, &plan_id).await;
    let pin = pin.unwrap();
    let wrong_pin = if pin == "0000" { "1111" } else { "0000" };

    // A wrong or missing PIN redeems nothing and posts nothing.
    for pass in [json!({"code": code, "pin": wrong_pin}), json!({"code": code})] {
        let refused = app
            .post("/backoffice/v2/purchases", &paid_with("R-1", "10", pass))
            .await;
        assert_eq!(refused.status, 400, "{}", refused.body);
    }
    let found = app.get(&format!("/backoffice/v2/passes?pass_code={code}")).await;
    assert_eq!(found.body["content"][0]["state"], "ACTIVE", "{}", found.body);

    // No contact named: the pass is redeemed for no one named, and pays.
    let body = paid_with("R-1", "10", json!({"code": code, "pin": pin}));
    let first = app.post("/backoffice/v2/purchases", &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["pass"]["id"], pass_id.as_str());
    assert_eq!(
        first.body["pass"]["code"],
        format!("****{}", &code[code.len() - 4..]),
        "the code shows only its end"
    );
    assert_eq!(first.body["rewards"]["spend"].to_string(), "10.00");
    assert_eq!(first.body["balances"][0]["total"].to_string(), "15.00");
    let contact = first.body["contact"]["id"].as_str().unwrap().to_string();
    let found = app.get(&format!("/backoffice/v2/passes?pass_code={code}")).await;
    assert_eq!(found.body["content"][0]["state"], "REDEEMED");
    assert_eq!(found.body["content"][0]["redeemed_by"]["id"], contact.as_str());

    // A retry is answered with the first outcome; once the outbox has run, still one credit.
    let again = app.post("/backoffice/v2/purchases", &body).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    actor_outbox_drained(&app).await;
    let wallet = wallet_of(&app, &contact).await;
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "15.00");

    // The pass identifies its contact at the next sale: it pays what is left of it.
    let second = app
        .post(
            "/backoffice/v2/purchases",
            &paid_with("R-2", "30", json!({"code": code, "pin": pin})),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.body["contact"]["id"], contact.as_str());
    assert_eq!(second.body["rewards"]["spend"].to_string(), "15.00");
    assert_eq!(second.body["balances"][0]["total"].to_string(), "0.00");
    // Fully covered or nothing: an empty pass refuses it, and nothing is posted.
    let mut covered = paid_with("R-3", "5", json!({"code": code, "pin": pin}));
    covered["spend_request"] = json!({"amount": 5, "restrict_fully_covered": true});
    let refused = app.post("/backoffice/v2/purchases", &covered).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    actor_outbox_drained(&app).await;
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "0.00");
    app.assert_balance_equals_journal(&wallet).await;
    let bought = app
        .get(&format!(
            "/backoffice/v2/purchases/{}",
            second.body["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(bought.body["pass"]["id"], pass_id.as_str(), "{}", bought.body);

    // Bulk: each item pays with its pass as a single purchase would.
    let (_, bulk_code, bulk_pin) = issue(&app, &plan_id).await;
    let pass = json!({"code": bulk_code, "pin": bulk_pin.unwrap()});
    let bulk = app
        .post(
            "/backoffice/v2/purchases/bulk",
            &json!({"purchases": [paid_with("B-1", "5", pass.clone()), paid_with("B-2", "5", pass)]}),
        )
        .await;
    assert_eq!(bulk.status, 200, "{}", bulk.body);
    let results = bulk.body["results"].as_array().unwrap();
    assert!(results.iter().all(|result| result["status"] == 201), "{}", bulk.body);
    assert_eq!(results[0]["purchase"]["contact"], results[1]["purchase"]["contact"]);
    assert_eq!(results[1]["purchase"]["balances"][0]["total"].to_string(), "15.00");
}

#[tokio::test]
async fn a_pass_pays_for_the_contact_named_and_bad_passes_change_nothing() {
    let app = spawn_app().await;
    let plan_id = plan(&app, gift_plan(json!({}))).await;
    let kim = app.create_contact("kim").await;
    let kim_id = kim["id"].as_str().unwrap();
    let lee = app.create_contact("lee").await;
    let lee_id = lee["id"].as_str().unwrap();
    let (pass_id, code, pin) = issue(&app, &plan_id).await;
    let pin = pin.unwrap();
    let pass = json!({"code": code, "pin": pin});

    // Named: redeemed into Kim's wallet, which pays all it holds (25 of 40) — with the
    // outbox held back from the wallet, so the pass's credit must come with the purchase.
    let kim_wallet = wallet_of(&app, kim_id).await;
    let held = uuid::Uuid::parse_str(&kim_wallet).unwrap();
    use rewards_engine::actors::failpoints::{arm, disarm, Failpoint};
    arm(Failpoint::HoldDeliveryTo, held);
    let mut body = paid_with("K-1", "40", pass.clone());
    body["contact"] = json!({"id": kim_id});
    let paid = app.post("/backoffice/v2/purchases", &body).await;
    disarm(Failpoint::HoldDeliveryTo, held);
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(paid.body["rewards"]["spend"].to_string(), "25.00");
    assert_eq!(paid.body["pass"]["id"], pass_id.as_str());
    let found = app.get(&format!("/backoffice/v2/passes?pass_code={code}")).await;
    assert_eq!(found.body["content"][0]["redeemed_by"]["id"], kim_id);

    // Lee, or no one named, cannot pay with Kim's pass.
    let mut lees = paid_with("L-1", "5", pass.clone());
    lees["contact"] = json!({"id": lee_id});
    let refused = app.post("/backoffice/v2/purchases", &lees).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let nobody = app
        .post("/backoffice/v2/purchases", &paid_with("N-1", "5", pass.clone()))
        .await;
    assert_eq!(nobody.status, 409, "{}", nobody.body);

    // Bad passes and combinations are refused.
    let top_up_plan = plan(
        &app,
        gift_plan(json!({"classification": "TOPUP", "code_format": {"type": "NUMERIC", "length": 12}})),
    )
    .await;
    let (_, top_up_code, _) = issue(&app, &top_up_plan).await;
    let (_, fresh_code, fresh_pin) = issue(&app, &plan_id).await;
    let fresh = json!({"code": fresh_code, "pin": fresh_pin.unwrap()});
    let mut with_token = paid_with("T-1", "5", fresh.clone());
    with_token["contact"] = json!({"otp": "1234567890123456"});
    let with_estimate = json!({"reference_number": "E-1", "estimate_id": "x", "pass": fresh.clone()});
    for (why, body, status) in [
        (
            "a top-up pass",
            paid_with("T-2", "5", json!({"code": top_up_code})),
            400,
        ),
        (
            "an unknown code",
            paid_with("T-3", "5", json!({"code": "GIFTNOSUCHCODE"})),
            404,
        ),
        ("no code", paid_with("T-4", "5", json!({"pin": "1234"})), 400),
        (
            "a code and its hash",
            paid_with("T-5", "5", json!({"code": "A", "code_hash": "B"})),
            400,
        ),
        (
            "an unknown field",
            paid_with("T-6", "5", json!({"code": "A", "colour": "red"})),
            400,
        ),
        ("a pass and a contact token", with_token, 400),
        ("a pass and an estimate", with_estimate, 400),
    ] {
        let refused = app.post("/backoffice/v2/purchases", &body).await;
        assert_eq!(refused.status, status, "{why}: {}", refused.body);
    }
    let estimate = app
        .post(
            "/backoffice/v2/purchases/estimates",
            &json!({"contact": {"id": lee_id}, "transaction_amounts": {"total": 5}, "pass": fresh}),
        )
        .await;
    assert_eq!(estimate.status, 400, "{}", estimate.body);

    // Another business's key does not find the pass.
    let theirs = "sk_live_secret_key_of_another_business_2";
    another_business(&app, theirs, "Elsewhere").await;
    let foreign = app
        .with_key(
            theirs,
            "POST",
            "/backoffice/v2/purchases",
            Some(&paid_with("F-1", "5", json!({"code": fresh_code, "pin": "0000"}))),
        )
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);

    // Nothing of the above redeemed or moved anything.
    for code in [&top_up_code, &fresh_code] {
        let found = app.get(&format!("/backoffice/v2/passes?pass_code={code}")).await;
        assert_eq!(found.body["content"][0]["state"], "ACTIVE", "{}", found.body);
    }
    actor_outbox_drained(&app).await;
    let lee_wallet = wallet_of(&app, lee_id).await;
    assert_eq!(app.wallet(&lee_wallet).await["total_balance"].to_string(), "0.00");
    assert_eq!(app.wallet(&kim_wallet).await["total_balance"].to_string(), "0.00");
    app.assert_balance_equals_journal(&kim_wallet).await;
}
