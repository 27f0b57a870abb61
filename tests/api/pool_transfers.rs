//! Transfers into a commerce pool (`commerce_pool_id` on `POST /self-service/v2/transfers`):
//! the receiver gets commerce money in the named pool, spendable only as the pool's
//! conditions say; the transaction names the pool; retries are answered alike; bad pools
//! change nothing.

use crate::helpers::*;
use crate::transfers::{balance, d, delivered, fund, holder, transfer};
use serde_json::json;

#[tokio::test]
async fn a_transfer_into_a_pool_is_commerce_money_spent_only_as_the_pool_allows() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let kim = holder(&app, "kim").await;
    let lee = holder(&app, "lee").await;
    fund(&app, &kim, "F-1", "100").await;
    let made = app
        .post(
            "/backoffice/v2/commerce_pools",
            &json!({"name": "Coffee", "spend_conditions": {"products": {"skus": ["COFFEE"]}}}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let pool = made.body["id"].as_str().unwrap().to_string();

    let id = "5d3c2b1a-0f9e-4d8c-b7a6-112233445566";
    let sent = transfer(&app, &kim, &lee.wallet_id, "30", &[]).await;
    assert_eq!(sent.status, 201, "a plain transfer still works: {}", sent.body);
    let body = json!({
        "id": id,
        "origin": {"wallet_id": kim.wallet_id},
        "destination": {"wallet_id": lee.wallet_id},
        "amount": 20,
        "commerce_pool_id": pool,
    });
    let authorization = format!("Bearer {}", kim.token);
    let headers = [("authorization", authorization.as_str()), ("api_key", PUBLIC_KEY)];
    let into_pool = app
        .call("POST", "/self-service/v2/transfers", &headers, Some(&body))
        .await;
    assert_eq!(into_pool.status, 201, "{}", into_pool.body);
    let again = app
        .call("POST", "/self-service/v2/transfers", &headers, Some(&body))
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["id"], into_pool.body["id"]);
    let mut other = body.clone();
    other.as_object_mut().unwrap().remove("commerce_pool_id");
    let reused = app
        .call("POST", "/self-service/v2/transfers", &headers, Some(&other))
        .await;
    assert_eq!(
        reused.status, 409,
        "the same id without the pool is another transfer: {}",
        reused.body
    );
    delivered(&app).await;

    // Lee holds 30 open and 20 commerce, all 20 in the pool.
    let wallet = app.wallet(&lee.wallet_id).await;
    assert_eq!(
        (wallet["total_open"].to_string(), wallet["total_commerce"].to_string()),
        ("30.00".into(), "20.00".into()),
        "{wallet}"
    );
    let path = format!("/self-service/v2/wallets/{}/commerce_balances", lee.wallet_id);
    let pools = with_token(&app, &lee.token, "GET", &path, None).await;
    assert_eq!(pools.status, 200, "{}", pools.body);
    assert_eq!(pools.body["content"][0]["id"], pool.as_str());
    assert_eq!(pools.body["content"][0]["amount"].to_string(), "20.00");
    let path = format!("/self-service/v2/wallets/{}/transactions", lee.wallet_id);
    let lines = with_token(&app, &lee.token, "GET", &path, None).await;
    let received = lines.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["financial_event"]["id"] == id)
        .unwrap_or_else(|| panic!("no line for the pooled transfer: {}", lines.body));
    assert_eq!(received["transfer"]["commerce_pool"]["name"], "Coffee", "{received}");

    // Spent only on coffee: tea takes the open money only.
    let spend = |reference: &str, sku: &str| {
        json!({
            "contact": {"id": lee.contact_id},
            "reference_number": reference,
            "transaction_amounts": {"total": 40},
            "products": [{"product_sku": sku, "quantity": 1, "total_amount": 40}],
            "spend_request": {"amount": 40},
        })
    };
    let tea = app.post("/backoffice/v2/purchases", &spend("T-1", "TEA")).await;
    assert_eq!(tea.status, 201, "{}", tea.body);
    assert_eq!(tea.body["rewards"]["spend"].to_string(), "30.00", "{}", tea.body);
    let coffee = app.post("/backoffice/v2/purchases", &spend("C-1", "COFFEE")).await;
    assert_eq!(coffee.body["rewards"]["spend"].to_string(), "24.00", "{}", coffee.body);
    app.assert_balance_equals_journal(&lee.wallet_id).await;
    assert_eq!(balance(&app, &kim.wallet_id).await, d("50.00"));

    // Unknown pools, another business's pool and malformed ids are refused; nothing moves.
    let theirs = "sk_live_secret_key_of_another_business_2";
    another_business(&app, theirs, "Elsewhere").await;
    let foreign = app
        .with_key(
            theirs,
            "POST",
            "/backoffice/v2/commerce_pools",
            Some(&json!({"name": "Theirs", "spend_conditions": {"products": {"skus": ["X"]}}})),
        )
        .await;
    assert_eq!(foreign.status, 201, "{}", foreign.body);
    let foreign = foreign.body["id"].as_str().unwrap().to_string();
    for bad in [foreign.as_str(), "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "not-a-pool"] {
        let mut body = body.clone();
        body["id"] = json!(uuid_for(bad));
        body["commerce_pool_id"] = json!(bad);
        let refused = app
            .call("POST", "/self-service/v2/transfers", &headers, Some(&body))
            .await;
        assert_eq!(refused.status, 400, "{bad}: {}", refused.body);
    }
    assert_eq!(balance(&app, &kim.wallet_id).await, d("50.00"));
}

/// A fresh transfer id per refused try.
fn uuid_for(seed: &str) -> String {
    let mut bytes = [0u8; 16];
    for (index, byte) in seed.bytes().enumerate() {
        bytes[index % 16] ^= byte;
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}
