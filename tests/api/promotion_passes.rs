//! Promotion passes: a PROMOTION plan locks a reward offer behind its passes — the offer
//! applies only to a purchase that presents one (`pass{code}` on the POS purchase), each
//! pass for at most `maximum_usage` purchases (a retry counts once), and then it is
//! REDEEMED. A promotion pass holds no value and is never redeemed into a wallet.

use crate::helpers::*;
use crate::passes::{issue, wallet_of};
use serde_json::{json, Value};

fn promotion_plan(offer: &str, extra: Value) -> Value {
    let mut plan = json!({
        "name": "Spring promotion",
        "classification": "PROMOTION",
        "code_format": {"type": "ALPHANUMERIC", "prefix": "PROMO", "length": 10},
        "promotion_passes": {"reward_offer_id": offer, "pass_code_type": "MULTIPLE", "maximum_usage": 2},
    });
    plan.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    plan
}

fn purchase(contact: &str, reference: &str, total: u32, pass: Option<&str>) -> Value {
    let mut body = json!({
        "contact": {"id": contact},
        "reference_number": reference,
        "transaction_amounts": {"total": total},
    });
    if let Some(code) = pass {
        body["pass"] = json!({"code": code});
    }
    body
}

#[tokio::test]
async fn a_promotion_pass_unlocks_its_offer_on_as_many_purchases_as_it_allows() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let locked = app.percentage_offer(20, None).await;
    let offer = locked["id"].as_str().unwrap().to_string();
    let made = app
        .post("/backoffice/v2/pass_plans", &promotion_plan(&offer, json!({})))
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["promotion_passes"]["reward_offer_id"], offer.as_str());
    assert_eq!(made.body["promotion_passes"]["maximum_usage"], 2);
    assert!(made.body.get("value").is_none(), "a promotion pass holds no value");
    let plan_id = made.body["id"].as_str().unwrap().to_string();
    let (contact, token) = registered_contact(&app, "pat@example.com", "pat-password-1").await;
    let listed = with_token(&app, &token, "GET", "/self-service/v2/pass_plans", None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["content"][0]["classification"], "PROMOTION");
    let wallet = wallet_of(&app, &contact).await;

    // Without a pass the locked offer gives nothing: 10% of 100.
    let plain = app
        .post("/backoffice/v2/purchases", &purchase(&contact, "P-1", 100, None))
        .await;
    assert_eq!(plain.status, 201, "{}", plain.body);
    assert_eq!(plain.body["rewards"]["award"].to_string(), "10.00", "{}", plain.body);

    // With one, it is unlocked: 10% and 20% of 100; a retry counts once.
    let (pass_id, code, pin) = issue(&app, &plan_id).await;
    assert!(pin.is_none(), "a promotion pass has no PIN");
    // A purchase for no one named, or for no one known, is refused before the pass is used.
    let mut for_no_one = purchase(&contact, "P-0", 100, Some(&code));
    for_no_one.as_object_mut().unwrap().remove("contact");
    let refused = app.post("/backoffice/v2/purchases", &for_no_one).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let stranger = purchase("6f1c3f53-25c6-4a44-9f0e-2b1c1d0a9e11", "P-0", 100, Some(&code));
    let refused = app.post("/backoffice/v2/purchases", &stranger).await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    let body = purchase(&contact, "P-2", 100, Some(&code));
    let unlocked = app.post("/backoffice/v2/purchases", &body).await;
    assert_eq!(unlocked.status, 201, "{}", unlocked.body);
    assert_eq!(
        unlocked.body["rewards"]["award"].to_string(),
        "30.00",
        "{}",
        unlocked.body
    );
    assert_eq!(unlocked.body["pass"]["id"], pass_id.as_str());
    assert_eq!(unlocked.body["rewards"]["spend"].to_string(), "0.00", "it pays nothing");
    let again = app.post("/backoffice/v2/purchases", &body).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["id"], unlocked.body["id"]);
    let found = app.get(&format!("/backoffice/v2/passes?pass_code={code}")).await;
    assert_eq!(
        found.body["content"][0]["state"], "ACTIVE",
        "one use of two: {}",
        found.body
    );

    // The second purchase uses it up; a third presenting it is refused and posts nothing.
    let second = app
        .post("/backoffice/v2/purchases", &purchase(&contact, "P-3", 50, Some(&code)))
        .await;
    assert_eq!(second.body["rewards"]["award"].to_string(), "15.00", "{}", second.body);
    let found = app.get(&format!("/backoffice/v2/passes?pass_code={code}")).await;
    assert_eq!(found.body["content"][0]["state"], "REDEEMED", "{}", found.body);
    let third = app
        .post("/backoffice/v2/purchases", &purchase(&contact, "P-4", 50, Some(&code)))
        .await;
    assert!(matches!(third.status.as_u16(), 400 | 409), "{}", third.body);
    let missing = app.get("/backoffice/v2/purchases?reference_number=P-4").await;
    assert_eq!(
        missing.body["content"].as_array().map_or(0, Vec::len),
        0,
        "{}",
        missing.body
    );
    // The retry of a purchase it unlocked is still answered as it was.
    assert_eq!(app.post("/backoffice/v2/purchases", &body).await.status, 201);
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "55.00");
    app.assert_balance_equals_journal(&wallet).await;

    // A promotion pass is never redeemed into a wallet.
    let (_, fresh, _) = issue(&app, &plan_id).await;
    let redeemed = with_token(
        &app,
        &token,
        "POST",
        "/self-service/v2/passes/redeem",
        Some(&json!({"code": fresh})),
    )
    .await;
    assert_eq!(redeemed.status, 400, "{}", redeemed.body);
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "55.00");
}

#[tokio::test]
async fn bad_promotion_plans_are_refused() {
    let app = spawn_app().await;
    let offer = app.percentage_offer(20, None).await["id"].as_str().unwrap().to_string();
    let mut valued = promotion_plan(&offer, json!({"value": {"type": "FIXED", "fixed_amount": 5}}));
    valued["name"] = json!("Valued");
    let mut with_pin = promotion_plan(&offer, json!({}));
    with_pin["code_format"]["pin_required"] = json!(true);
    let mut single = promotion_plan(&offer, json!({}));
    single["promotion_passes"]["pass_code_type"] = json!("SINGLE");
    let mut never = promotion_plan(&offer, json!({}));
    never["promotion_passes"]["maximum_usage"] = json!(0);
    let mut no_terms = promotion_plan(&offer, json!({}));
    no_terms.as_object_mut().unwrap().remove("promotion_passes");
    let mut other_promotion = promotion_plan(&offer, json!({}));
    other_promotion["promotion_passes"]["promotion_id"] = json!("6f1c3f53-25c6-4a44-9f0e-2b1c1d0a9e11");
    let gift_with_terms = json!({
        "name": "Gift", "classification": "GIFT", "value": {"type": "FIXED", "fixed_amount": 25},
        "code_format": {"type": "ALPHANUMERIC"},
        "promotion_passes": {"reward_offer_id": offer},
    });
    for (case, body) in [
        ("a value", valued),
        ("a PIN", with_pin),
        ("a single code", single),
        ("no uses", never),
        ("no terms", no_terms),
        ("another promotion", other_promotion),
        (
            "an unknown offer",
            promotion_plan("6f1c3f53-25c6-4a44-9f0e-2b1c1d0a9e11", json!({})),
        ),
        ("a malformed offer", promotion_plan("offer-1", json!({}))),
        ("a gift plan with terms", gift_with_terms),
    ] {
        let refused = app.post("/backoffice/v2/pass_plans", &body).await;
        assert_eq!(refused.status, 400, "{case}: {}", refused.body);
    }
    let listed = app.get("/backoffice/v2/pass_plans").await;
    assert_eq!(listed.body["content"], json!([]), "nothing was made");
    // The offer was never locked: a purchase earns it.
    let contact = app.create_contact("PROMO-1").await["id"].as_str().unwrap().to_string();
    let paid = app
        .post("/backoffice/v2/purchases", &purchase(&contact, "B-1", 10, None))
        .await;
    assert_eq!(paid.body["rewards"]["award"].to_string(), "2.00", "{}", paid.body);
}
