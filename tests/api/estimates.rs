//! Purchase estimates over HTTP: a preview of awards and spend, a hold that keeps the spend
//! for the purchase (captured by it, given back on expiry or rejection), the contact's
//! approval by token, and an estimate that serves one purchase.

use crate::helpers::*;
use serde_json::{json, Value};

fn text(value: &Value) -> String {
    value.to_string()
}

async fn estimate(app: &TestApp, contact: &str, total: u32, spend: u32, extra: Value) -> Reply {
    let mut body = json!({
        "contact": {"id": contact},
        "transaction_amounts": {"total": total},
        "spend_request": {"amount": spend, "restrict_fully_covered": true},
    });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.post("/backoffice/v2/purchases/estimates", &body).await
}

async fn from_estimate(app: &TestApp, estimate: &str, reference: &str) -> Reply {
    app.post(
        "/backoffice/v2/purchases",
        &json!({"reference_number": reference, "estimate_id": estimate}),
    )
    .await
}

async fn balance(app: &TestApp, wallet: &str) -> String {
    text(&app.wallet(wallet).await["total_balance"])
}

#[tokio::test]
async fn a_held_estimate_keeps_its_spend_for_its_purchase_which_captures_it_once() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let (contact, _) = registered_contact(&app, "est@example.com", "est-password-1").await;
    let wallet = app.get(&format!("/backoffice/v2/contacts/{contact}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.purchase(&contact, "R-0", "100.00", None).await.status, 201); // +10.00

    let held = estimate(&app, &contact, 50, 8, json!({"hold_funds": true})).await;
    assert_eq!(held.status, 201, "{}", held.body);
    assert_eq!(held.body["state"], "PENDING");
    assert_eq!(
        (
            text(&held.body["rewards"]["award"]),
            text(&held.body["rewards"]["spend"])
        ),
        ("5.00".into(), "8.00".into())
    );
    assert_eq!(held.body["hold"]["expiration_date"], START_S + 900);
    assert_eq!(held.body["reward_breakdown"][0]["explanation"]["basis"], "TOTAL");
    assert_eq!(balance(&app, &wallet).await, "2.00", "8.00 is held");
    let journal = app.journal(&wallet).await;
    assert_eq!(journal.last().unwrap()["transaction_type"], "HOLD");
    // Held money is out of reach of other purchases.
    let other = app.purchase(&contact, "R-X", "10.00", Some(("5.00", true))).await;
    assert_eq!(other.status, 400, "{}", other.body);

    let id = held.body["id"].as_str().unwrap();
    let posted = from_estimate(&app, id, "R-1").await;
    assert_eq!(posted.status, 201, "{}", posted.body);
    assert_eq!(
        (
            text(&posted.body["rewards"]["award"]),
            text(&posted.body["rewards"]["spend"])
        ),
        ("5.00".into(), "8.00".into())
    );
    assert_eq!(balance(&app, &wallet).await, "7.00");
    let read = app.get(&format!("/backoffice/v2/purchases/estimates/{id}")).await;
    assert_eq!(
        (read.body["state"].clone(), read.body["purchase_id"].clone()),
        (json!("USED"), posted.body["id"].clone())
    );
    // Its retry repeats it; another purchase from it, or a purchase body with it, is refused.
    let again = from_estimate(&app, id, "R-1").await;
    assert_eq!(
        (again.status.as_u16(), again.body["id"].clone()),
        (201, posted.body["id"].clone())
    );
    let second = from_estimate(&app, id, "R-2").await;
    assert_eq!(second.status, 400, "{}", second.body);
    assert_eq!(second.body["parameters"][0], "estimate_id");
    let mixed = app
        .post(
            "/backoffice/v2/purchases",
            &json!({"reference_number": "R-3", "estimate_id": id, "transaction_amounts": {"total": 1}}),
        )
        .await;
    assert_eq!(mixed.status, 400, "{}", mixed.body);
    assert_eq!(mixed.body["parameters"][0], "transaction_amounts");
    assert_eq!(balance(&app, &wallet).await, "7.00");
    // Cancelling the purchase gives the captured spend back to the lots it came from.
    let purchase = posted.body["id"].as_str().unwrap();
    let cancelled = app
        .post(&format!("/backoffice/v2/purchases/{purchase}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(balance(&app, &wallet).await, "10.00");

    // A hold nobody uses goes back when the estimate expires; it cannot be used after.
    let lapsed = estimate(&app, &contact, 20, 6, json!({"hold_funds": true})).await;
    assert_eq!(lapsed.status, 201, "{}", lapsed.body);
    assert_eq!(balance(&app, &wallet).await, "4.00");
    app.clock.advance(900);
    assert_eq!(balance(&app, &wallet).await, "10.00");
    let lapsed_id = lapsed.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/backoffice/v2/purchases/estimates/{lapsed_id}"))
            .await
            .body["state"],
        "EXPIRED"
    );
    let late = from_estimate(&app, lapsed_id, "R-4").await;
    assert_eq!(late.status, 400, "{}", late.body);
    assert!(
        late.body["message"].as_str().unwrap().contains("expired"),
        "{}",
        late.body
    );

    // More than the wallet holds, with restrict_fully_covered: refused, nothing held.
    let short = estimate(&app, &contact, 50, 11, json!({"hold_funds": true})).await;
    assert_eq!(short.status, 400, "{}", short.body);
    assert_eq!(balance(&app, &wallet).await, "10.00");
    app.assert_balance_equals_journal(&wallet).await;
    let (dir, _) = app.stop().await;
    let (ok, report, stderr) = crate::crash::admin(dir.path(), &["verify".as_ref()]);
    assert!(ok, "verify: {report} {stderr}");
}

#[tokio::test]
async fn the_contact_approves_or_rejects_an_estimate_with_a_token() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let (contact, token) = registered_contact(&app, "ok@example.com", "ok-password-1").await;
    let (_, stranger) = registered_contact(&app, "no@example.com", "no-password-1").await;
    let wallet = app.get(&format!("/backoffice/v2/contacts/{contact}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.purchase(&contact, "R-0", "100.00", None).await.status, 201);
    let decide = |token: String, intent: &'static str, estimate: String| {
        let app = &app;
        let contact = contact.clone();
        async move {
            let body = json!({"intent": intent, "purchase": {"estimate_id": estimate}});
            with_token(
                app,
                &token,
                "POST",
                &format!("/self-service/v2/contacts/{contact}/tokens"),
                Some(&body),
            )
            .await
        }
    };

    let asked = estimate(
        &app,
        &contact,
        30,
        3,
        json!({"hold_funds": true, "approval_required": true}),
    )
    .await;
    assert_eq!(asked.status, 201, "{}", asked.body);
    let id = asked.body["id"].as_str().unwrap().to_string();
    let early = from_estimate(&app, &id, "R-1").await;
    assert_eq!(early.status, 409, "not before the contact approves: {}", early.body);
    // Another contact cannot decide it.
    let foreign = with_token(
        &app,
        &stranger,
        "POST",
        &format!("/self-service/v2/contacts/{contact}/tokens"),
        Some(&json!({"intent": "APPROVE_PURCHASE", "purchase": {"estimate_id": id}})),
    )
    .await;
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    let approved = decide(token.clone(), "APPROVE_PURCHASE", id.clone()).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.body["intent"], "APPROVE_PURCHASE");
    assert_eq!(
        app.get(&format!("/backoffice/v2/purchases/estimates/{id}")).await.body["state"],
        "APPROVED"
    );
    // The approval token names no purchase's contact at the till.
    let misuse = app
        .post(
            "/backoffice/v2/purchases",
            &json!({"contact": {"otp": approved.body["token"]}, "reference_number": "R-OTP", "transaction_amounts": {"total": 5}}),
        )
        .await;
    assert_eq!(misuse.status, 400, "{}", misuse.body);
    let posted = from_estimate(&app, &id, "R-1").await;
    assert_eq!(posted.status, 201, "{}", posted.body);

    // A rejected estimate gives its hold back and cannot be posted.
    let before = text(&app.wallet(&wallet).await["total_balance"]);
    let unwanted = estimate(
        &app,
        &contact,
        30,
        4,
        json!({"hold_funds": true, "approval_required": true}),
    )
    .await;
    let unwanted_id = unwanted.body["id"].as_str().unwrap().to_string();
    assert_ne!(text(&app.wallet(&wallet).await["total_balance"]), before);
    let rejected = decide(token.clone(), "REJECT_PURCHASE", unwanted_id.clone()).await;
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    assert_eq!(text(&app.wallet(&wallet).await["total_balance"]), before);
    let refused = from_estimate(&app, &unwanted_id, "R-2").await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let approve_late = decide(token.clone(), "APPROVE_PURCHASE", unwanted_id).await;
    assert_eq!(approve_late.status, 400, "{}", approve_late.body);
    let unknown = decide(token, "APPROVE_PURCHASE", "00000000-0000-4000-8000-000000000000".into()).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    app.assert_balance_equals_journal(&wallet).await;
}
