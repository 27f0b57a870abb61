//! A contact's spend block and auto-spend (the back office's `spend_settings`): a blocked
//! wallet spends nothing by any route; an auto-spending one spends what it can.

use crate::helpers::*;
use serde_json::json;

const BLOCKED: &str = "CRM.EXCEPTIONS.CANNOTSPENDCONTACTSPENDBLOCKEDEXCEPTION";

async fn settings(app: &TestApp, contact: &str, body: serde_json::Value) -> Reply {
    app.put(&format!("/backoffice/v2/contacts/{contact}/spend_settings"), &body)
        .await
}

#[tokio::test]
async fn a_blocked_wallet_spends_nothing_and_an_auto_spending_one_spends_what_it_can() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let (contact, token) = registered_contact(&app, "blocked@example.com", "blocked-password-1").await;
    let (other, _) = registered_contact(&app, "payee@example.com", "payee-password-1").await;
    let wallet = |id: &str| {
        let app = &app;
        let id = id.to_string();
        async move {
            app.get(&format!("/backoffice/v2/contacts/{id}")).await.body["wallet"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let (mine, theirs) = (wallet(&contact).await, wallet(&other).await);
    assert_eq!(app.purchase(&contact, "R-0", "100.00", None).await.status, 201); // +10.00

    let blocked = settings(&app, &contact, json!({"spend_blocked": true})).await;
    assert_eq!(blocked.status, 200, "{}", blocked.body);
    assert_eq!(blocked.body["spend_blocked"], json!({"status": true, "date": START_S}));
    let bad = settings(&app, &contact, json!({"spend_blocked": "yes"})).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    // A spend, a token's spend, a transfer, an estimate's hold: all refused by name.
    let spend = app.purchase(&contact, "R-1", "20.00", Some(("5.00", false))).await;
    assert_eq!(spend.status, 400, "{}", spend.body);
    assert_eq!(spend.body["error"], BLOCKED);
    let issued = with_token(
        &app,
        &token,
        "POST",
        &format!("/self-service/v2/contacts/{contact}/tokens"),
        Some(&json!({"intent": "SPEND", "spend_amount": 2})),
    )
    .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let by_token = app
        .post(
            "/backoffice/v2/purchases",
            &json!({"contact": {"otp": issued.body["token"]}, "reference_number": "R-2", "transaction_amounts": {"total": 4}}),
        )
        .await;
    assert_eq!(by_token.status, 400, "{}", by_token.body);
    assert_eq!(by_token.body["error"], BLOCKED, "{}", by_token.body);
    let transfer = with_token(
        &app,
        &token,
        "POST",
        "/self-service/v2/transfers",
        Some(&json!({"origin": {"wallet_id": mine}, "destination": {"wallet_id": theirs}, "amount": 1})),
    )
    .await;
    assert_eq!(transfer.status, 400, "{}", transfer.body);
    assert_eq!(transfer.body["error"], BLOCKED, "{}", transfer.body);
    let estimate = app
        .post(
            "/backoffice/v2/purchases/estimates",
            &json!({"contact": {"id": contact}, "transaction_amounts": {"total": 9}, "spend_request": {"amount": 3}, "hold_funds": true}),
        )
        .await;
    assert_eq!(estimate.status, 400, "{}", estimate.body);
    assert_eq!(estimate.body["error"], BLOCKED, "{}", estimate.body);
    // Earning goes on; the contact sees the block.
    assert_eq!(app.purchase(&contact, "R-3", "10.00", None).await.status, 201); // +1.00
    assert_eq!(app.wallet(&mine).await["total_balance"].to_string(), "11.00");
    let rewards = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/contacts/{contact}/rewards"),
        None,
    )
    .await;
    assert_eq!(rewards.status, 200, "{}", rewards.body);
    assert_eq!(rewards.body["spend_blocked"]["status"], true);

    // Unblocked, with auto-spend: a purchase that asks for nothing spends what it can.
    let changed = settings(&app, &contact, json!({"spend_blocked": false, "auto_spend": true})).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(
        (
            changed.body["spend_blocked"]["status"].clone(),
            changed.body["auto_spend"].clone()
        ),
        (json!(false), json!(true))
    );
    let auto = app.purchase(&contact, "R-4", "30.00", None).await;
    assert_eq!(auto.status, 201, "{}", auto.body);
    assert_eq!(
        auto.body["rewards"]["spend"].to_string(),
        "11.00",
        "all it held, up to the total"
    );
    assert_eq!(
        app.wallet(&mine).await["total_balance"].to_string(),
        "3.00",
        "and the 3.00 the purchase earned"
    );
    // The settings last: a restart reads them back.
    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    assert_eq!(app.wallet(&mine).await["spend_settings"]["auto_spend"], true);
    app.assert_balance_equals_journal(&mine).await;
}
