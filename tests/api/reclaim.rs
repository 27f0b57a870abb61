//! Purchases made without naming a contact: kept with a transaction code for a contact to
//! claim once (`POST /self-service/v2/purchases/reclaim`), then posted to its wallet with
//! the offers as of the purchase's date.

use crate::helpers::*;
use serde_json::{json, Value};

async fn reclaim(app: &TestApp, token: &str, body: Value) -> Reply {
    with_token(app, token, "POST", "/self-service/v2/purchases/reclaim", Some(&body)).await
}

#[tokio::test]
async fn a_purchase_without_a_contact_is_claimed_once_and_earns_as_of_its_date() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    // An offer that starts after the purchase was made: a claim afterwards does not earn it.
    app.create_offer(json!({"name": "Later", "award": {"type": "PERCENTAGE", "value": 50}, "availability": {"from": START_S + 3600}}))
        .await;
    let kept = app
        .post(
            "/backoffice/v2/purchases",
            &json!({"reference_number": "R-U", "transaction_amounts": {"total": 80}, "date": START_S}),
        )
        .await;
    assert_eq!(kept.status, 201, "{}", kept.body);
    assert_eq!(kept.body["state"], "POSTED");
    let code = kept.body["transaction_code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 10);
    let id = kept.body["id"].as_str().unwrap().to_string();
    let read = app.get(&format!("/backoffice/v2/purchases/{id}")).await;
    assert_eq!(
        (read.status.as_u16(), read.body["transaction_code"].clone()),
        (200, json!(code))
    );
    // The same receipt again is the same purchase; with another body, a conflict.
    let again = app
        .post(
            "/backoffice/v2/purchases",
            &json!({"reference_number": "R-U", "transaction_amounts": {"total": 80}, "date": START_S}),
        )
        .await;
    assert_eq!(
        (again.status.as_u16(), again.body["transaction_code"].clone()),
        (201, json!(code))
    );
    let other = app
        .post(
            "/backoffice/v2/purchases",
            &json!({"reference_number": "R-U", "transaction_amounts": {"total": 81}}),
        )
        .await;
    assert_eq!(other.status, 409, "{}", other.body);

    app.clock.advance(2 * DAY_S);
    let (ann, ann_token) = registered_contact(&app, "claim@example.com", "claim-password-1").await;
    let (_, bob_token) = registered_contact(&app, "late@example.com", "late-password-1").await;
    for (body, status, parameter) in [
        (
            json!({"id": "R-U", "transaction_code": "WRONGCODE1"}),
            400,
            "transaction_code",
        ),
        (
            json!({"id": "R-U", "transaction_amounts": {"net": 79, "tax": 0, "total": 79}}),
            400,
            "transaction_code",
        ),
        (json!({"id": "R-U"}), 400, "transaction_code"),
        (
            json!({"id": "R-U", "transaction_code": code, "currency_code": "USD"}),
            400,
            "currency_code",
        ),
        (json!({"id": "R-NONE", "transaction_code": code}), 404, ""),
    ] {
        let reply = reclaim(&app, &ann_token, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
        if !parameter.is_empty() {
            assert_eq!(reply.body["parameters"][0], parameter, "{body}: {}", reply.body);
        }
    }
    // The code as a person types it.
    let typed = format!("{}-{}", code[..4].to_lowercase(), &code[4..]);
    let claimed = reclaim(&app, &ann_token, json!({"id": "R-U", "transaction_code": typed})).await;
    assert_eq!(claimed.status, 201, "{}", claimed.body);
    assert_eq!(claimed.body["id"], json!(id), "the purchase keeps its id");
    let wallet = app.get(&format!("/backoffice/v2/contacts/{ann}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.wallet(&wallet).await["total_balance"].to_string(),
        "8.00",
        "10%, not the later 50%"
    );
    let mine = with_token(
        &app,
        &ann_token,
        "GET",
        &format!("/self-service/v2/purchases/{id}"),
        None,
    )
    .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.body["date"], START_S);
    // Once: a retry answers the same; the total works as well as the code; another contact
    // is refused.
    let retry = reclaim(
        &app,
        &ann_token,
        json!({"id": "R-U", "transaction_amounts": {"net": 80, "tax": 0, "total": 80}}),
    )
    .await;
    assert_eq!((retry.status.as_u16(), retry.body["id"].clone()), (201, json!(id)));
    assert_eq!(app.wallet(&wallet).await["total_balance"].to_string(), "8.00");
    let stolen = reclaim(&app, &bob_token, json!({"id": "R-U", "transaction_code": code})).await;
    assert_eq!(stolen.status, 409, "{}", stolen.body);
    app.assert_balance_equals_journal(&wallet).await;
}
