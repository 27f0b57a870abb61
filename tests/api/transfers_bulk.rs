//! Transfers in bulk (`POST /self-service/v2/transfers/bulk`): several transfers from the
//! contact's own wallet, all or none — checked together for funds and limits, debited in
//! one commit, each credit landing once; a retry with the same ids sends nothing again.

use crate::helpers::*;
use crate::transfers::{balance, d, delivered, fund, holder, Holder};
use serde_json::{json, Value};

fn item(id: &str, from: &Holder, to: &Holder, amount: &str) -> Value {
    json!({
        "id": id,
        "origin": {"wallet_id": from.wallet_id},
        "destination": {"wallet_id": to.wallet_id},
        "amount": serde_json::Number::from_string_unchecked_compat(amount),
    })
}

async fn bulk(app: &TestApp, from: &Holder, items: &Value) -> Reply {
    with_token(app, &from.token, "POST", "/self-service/v2/transfers/bulk", Some(items)).await
}

fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

#[tokio::test]
async fn a_bulk_of_transfers_is_sent_all_or_none_and_once() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let ann = holder(&app, "ann").await;
    let bob = holder(&app, "bob").await;
    let cat = holder(&app, "cat").await;
    fund(&app, &ann, "F-1", "50").await;

    let sent = bulk(
        &app,
        &ann,
        &json!([item(&id(1), &ann, &bob, "10.00"), item(&id(2), &ann, &cat, "15.50")]),
    )
    .await;
    assert_eq!(sent.status, 204, "{}", sent.body);
    delivered(&app).await;
    assert_eq!(
        (
            balance(&app, &ann.wallet_id).await,
            balance(&app, &bob.wallet_id).await,
            balance(&app, &cat.wallet_id).await
        ),
        (d("24.50"), d("10"), d("15.50"))
    );
    // The same bulk again sends nothing more.
    let again = bulk(
        &app,
        &ann,
        &json!([item(&id(1), &ann, &bob, "10.00"), item(&id(2), &ann, &cat, "15.50")]),
    )
    .await;
    assert_eq!(again.status, 204, "{}", again.body);
    delivered(&app).await;
    assert_eq!(balance(&app, &ann.wallet_id).await, d("24.50"));
    assert_eq!(balance(&app, &bob.wallet_id).await, d("10"));

    // Together they need more than the wallet holds: none is sent.
    let short = bulk(
        &app,
        &ann,
        &json!([item(&id(3), &ann, &bob, "20.00"), item(&id(4), &ann, &cat, "4.51")]),
    )
    .await;
    assert_eq!(short.status, 400, "{}", short.body);
    assert_eq!(
        short.body["error"],
        "CRM.EXCEPTIONS.CANNOTSPENDAMOUNTWALLETBALANCENOTENOUGHEXCEPTION"
    );
    // One item past a transfer limit's count: none is sent either.
    let limits = format!("/self-service/v2/wallets/{}/limits", ann.wallet_id);
    let rules = json!({"limit_rules": [{"name": "Two a day", "maximum_number": 2, "period": "DAILY", "applies_for": ["TRANSFER"]}]});
    app.clock.advance(DAY_S);
    let token = crate::wallets::signed_in(&app, "ann@example.com", "transfer-password-1").await;
    let ann = Holder { token, ..ann };
    assert_eq!(
        with_token(&app, &ann.token, "PUT", &limits, Some(&rules)).await.status,
        200
    );
    let three = json!([
        item(&id(5), &ann, &bob, "1.00"),
        item(&id(6), &ann, &bob, "1.00"),
        item(&id(7), &ann, &cat, "1.00")
    ]);
    let over = bulk(&app, &ann, &three).await;
    assert_eq!(
        over.body["error"], "CRM.EXCEPTIONS.WALLETLIMITEXCEEDEDEXCEPTION",
        "{}",
        over.body
    );
    delivered(&app).await;
    assert_eq!(balance(&app, &ann.wallet_id).await, d("24.50"));
    assert_eq!(
        app.journal(&ann.wallet_id).await.len(),
        3,
        "the award and the first bulk only"
    );

    // Bad items refuse the whole bulk.
    let dave = holder(&app, "dave").await;
    for (why, items, status) in [
        ("an empty bulk", json!([]), 400),
        ("a zero amount", json!([item(&id(8), &ann, &bob, "0")]), 400),
        ("to oneself", json!([item(&id(8), &ann, &ann, "1.00")]), 400),
        ("from another's wallet", json!([item(&id(8), &dave, &bob, "1.00")]), 403),
        (
            "one good, one bad",
            json!([item(&id(8), &ann, &bob, "1.00"), item(&id(9), &ann, &bob, "-1")]),
            400,
        ),
        (
            "the same id twice",
            json!([item(&id(8), &ann, &bob, "1.00"), item(&id(8), &ann, &cat, "1.00")]),
            400,
        ),
        (
            "an id of another transfer",
            json!([item(&id(1), &ann, &bob, "2.00")]),
            409,
        ),
        ("not an array", json!({"amount": 1}), 400),
        (
            "too many",
            Value::Array((0..101).map(|n| item(&id(100 + n), &ann, &bob, "0.01")).collect()),
            400,
        ),
    ] {
        let refused = bulk(&app, &ann, &items).await;
        assert_eq!(refused.status.as_u16(), status, "{why}: {}", refused.body);
    }
    delivered(&app).await;
    assert_eq!(balance(&app, &ann.wallet_id).await, d("24.50"));
    assert_eq!(balance(&app, &bob.wallet_id).await, d("10"));
    let anonymous = app
        .call(
            "POST",
            "/self-service/v2/transfers/bulk",
            &[],
            Some(&json!([item(&id(8), &ann, &bob, "1")])),
        )
        .await;
    assert_eq!(anonymous.status, 401);
    app.assert_balance_equals_journal(&ann.wallet_id).await;
}
