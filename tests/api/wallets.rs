//! The contact's wallet in apps: `GET /self-service/v2/wallets/{id}`, its code and balances,
//! for the signed-in contact's own wallet only (checked against the contract like every
//! self-service reply).

use crate::helpers::*;

#[tokio::test]
async fn a_contact_reads_its_own_wallet_and_no_other() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let (contact, token) = registered_contact(&app, "wallet@example.com", "wallet-password-1").await;
    let wallet = app.get(&format!("/backoffice/v2/contacts/{contact}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.purchase(&contact, "R-1", "100.00", None).await.status, 201);
    assert_eq!(
        app.purchase(&contact, "R-2", "20.00", Some(("4.00", true)))
            .await
            .status,
        201
    );

    let path = format!("/self-service/v2/wallets/{wallet}");
    let read = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["id"], wallet.as_str());
    assert_eq!(read.body["code"], app.wallet(&wallet).await["code"]);
    let figures: Vec<String> = ["total_balance", "total_open", "total_commerce", "shortfall"]
        .iter()
        .map(|key| read.body[key].to_string())
        .collect();
    assert_eq!(figures, ["8.00", "0.00", "8.00", "0.00"], "{}", read.body);
    let balance = &read.body["balances"][0];
    assert_eq!(
        (
            balance["type"].as_str(),
            balance["currency_code"].as_str(),
            balance["total"].to_string()
        ),
        (Some("BUSINESS"), Some("EUR"), "8.00".to_string())
    );

    let code = with_token(&app, &token, "GET", &format!("{path}/code"), None).await;
    assert_eq!(code.status, 200, "{}", code.body);
    assert_eq!(code.body["code"], read.body["code"]);
    assert_eq!(code.body["code"].as_str().unwrap().len(), 16);

    // Another contact's wallet is not found, as is one that does not exist; no token is 401.
    let (_, other_token) = registered_contact(&app, "other@example.com", "other-password-1").await;
    assert_eq!(with_token(&app, &other_token, "GET", &path, None).await.status, 404);
    assert_eq!(
        with_token(&app, &other_token, "GET", &format!("{path}/code"), None)
            .await
            .status,
        404
    );
    let unknown = "/self-service/v2/wallets/00000000-0000-4000-8000-000000000001";
    assert_eq!(with_token(&app, &token, "GET", unknown, None).await.status, 404);
    assert_eq!(
        with_token(&app, &token, "GET", "/self-service/v2/wallets/not-a-wallet", None)
            .await
            .status,
        404
    );
    // A control character or a huge id in the path is refused, never a panic.
    let hostile = with_token(&app, &token, "GET", "/self-service/v2/wallets/%00%1b", None).await;
    assert_eq!(hostile.status, 404, "{}", hostile.body);
    let long = format!("/self-service/v2/wallets/{}", "9".repeat(5000));
    let long = with_token(&app, &token, "GET", &long, None).await;
    assert_eq!(long.status.as_u16() / 100, 4, "{}", long.body);
    assert_eq!(app.call("GET", &path, &[], None).await.status, 401);
}
