//! Transfers between wallets (`POST /self-service/v2/transfers`), the first user of the
//! outbox between entities: the debit and the credit's message commit together, the credit
//! lands once, refusals change nothing, retries are answered with the first transfer, money
//! is conserved under racing transfers, and `kill -9` at random moments loses no transfer
//! and applies none twice.

use crate::helpers::*;
use rewards_engine::ManualClock;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

pub struct Holder {
    pub contact_id: String,
    pub wallet_id: String,
    pub token: String,
}

/// A contact registered from the app (so it has a token), with its wallet.
pub async fn holder(app: &TestApp, name: &str) -> Holder {
    let registered = app
        .with_key(
            PUBLIC_KEY,
            "POST",
            "/self-service/v2/contacts/register",
            Some(&json!({
                "first_name": name,
                "last_name": "Holder",
                "identification": {"provider": "EMAIL", "email": format!("{name}@example.com"), "password": "transfer-password-1"},
                "accept_terms_&_conditions": true,
            })),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let contact_id = registered.body["contact"]["id"].as_str().unwrap().to_string();
    let contact = app.get(&format!("/backoffice/v2/contacts/{contact_id}")).await;
    Holder {
        wallet_id: contact.body["wallet"]["id"].as_str().unwrap().to_string(),
        token: registered.body["access_token"].as_str().unwrap().to_string(),
        contact_id,
    }
}

/// Funds a wallet with `award` through a purchase (the suite's offer is 10%).
pub async fn fund(app: &TestApp, holder: &Holder, reference: &str, award: &str) {
    let total = (Decimal::from_str(award).unwrap() * Decimal::TEN).to_string();
    let reply = app.purchase(&holder.contact_id, reference, &total, None).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

pub async fn transfer(app: &TestApp, from: &Holder, to: &str, amount: &str, extra: &[(&str, &str)]) -> Reply {
    let body = json!({
        "origin": {"wallet_id": from.wallet_id},
        "destination": {"wallet_id": to},
        "amount": serde_json::Number::from_string_unchecked_compat(amount),
    });
    transfer_body(app, from, &body, extra).await
}

async fn transfer_body(app: &TestApp, from: &Holder, body: &Value, extra: &[(&str, &str)]) -> Reply {
    let authorization = format!("Bearer {}", from.token);
    let mut headers = vec![("authorization", authorization.as_str()), ("api_key", PUBLIC_KEY)];
    headers.extend_from_slice(extra);
    app.call("POST", "/self-service/v2/transfers", &headers, Some(body))
        .await
}

pub fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

pub async fn balance(app: &TestApp, wallet_id: &str) -> Decimal {
    dec(&app.wallet(wallet_id).await["total_balance"])
}

/// Waits until the outbox between entities is empty (every credit applied).
pub async fn delivered(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pending = app.engine.store().actor_messages_pending(1).expect("outbox reads");
        if pending.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "messages still waiting: {pending:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The transfer lines of a wallet's journal, by transfer id: (type, amount, description).
async fn transfer_lines(app: &TestApp, wallet_id: &str) -> Vec<(String, String, Decimal, String)> {
    app.journal(wallet_id)
        .await
        .into_iter()
        .filter(|line| line["transaction_type"] == "TRANSFER")
        .map(|line| {
            (
                line["transfer"]["id"].as_str().unwrap().to_string(),
                line["type"].as_str().unwrap().to_string(),
                dec(&line["amount"]),
                line["description"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_transfer_debits_the_origin_and_credits_the_destination_once_in_both_journals() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let ann = holder(&app, "ann").await;
    let bob = holder(&app, "bob").await;
    fund(&app, &ann, "T-1", "30").await;

    let sent = transfer(&app, &ann, &bob.wallet_id, "12.34", &[]).await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let id = sent.body["id"].as_str().unwrap().to_string();
    assert_eq!(balance(&app, &ann.wallet_id).await, d("17.66"), "debited when answered");
    delivered(&app).await;
    assert_eq!(balance(&app, &bob.wallet_id).await, d("12.34"));
    let bob_wallet = app.wallet(&bob.wallet_id).await;
    assert_eq!(
        dec(&bob_wallet["total_open"]),
        d("12.34"),
        "a transfer lands in the open balance"
    );

    assert_eq!(
        transfer_lines(&app, &ann.wallet_id).await,
        vec![(id.clone(), "DEBIT".into(), d("12.34"), "Transfer sent".into())]
    );
    assert_eq!(
        transfer_lines(&app, &bob.wallet_id).await,
        vec![(id.clone(), "CREDIT".into(), d("12.34"), "Transfer received".into())]
    );
    for wallet in [&ann.wallet_id, &bob.wallet_id] {
        app.assert_balance_equals_journal(wallet).await;
    }
    let metrics = app
        .client
        .get(app.metrics_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "rewards_transfers_total{outcome=\"sent\"}",
        "rewards_transfers_total{outcome=\"credited\"}",
        "rewards_actor_messages_total{outcome=\"applied\"}",
        "rewards_actor_messages_pending",
        "rewards_actor_message_age_seconds",
    ] {
        assert!(metrics.contains(name), "{name} in /metrics");
    }

    // Bob sends part of it back; his own and Ann's journals show both.
    let back = transfer(&app, &bob, &ann.wallet_id, "2.34", &[]).await;
    assert_eq!(back.status, 201, "{}", back.body);
    delivered(&app).await;
    assert_eq!(balance(&app, &ann.wallet_id).await, d("20.00"));
    assert_eq!(balance(&app, &bob.wallet_id).await, d("10.00"));
    assert_eq!(transfer_lines(&app, &ann.wallet_id).await.len(), 2);
}

#[tokio::test]
async fn refused_transfers_get_a_clear_error_and_change_nothing() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let ann = holder(&app, "ann").await;
    let bob = holder(&app, "bob").await;
    fund(&app, &ann, "T-1", "10").await;
    let unknown = uuid::Uuid::new_v4().to_string();

    let cases: Vec<(Reply, u16, &str)> = vec![
        (transfer(&app, &ann, &bob.wallet_id, "10.01", &[]).await, 400, "amount"),
        (transfer(&app, &ann, &bob.wallet_id, "0", &[]).await, 400, "amount"),
        (transfer(&app, &ann, &bob.wallet_id, "-1", &[]).await, 400, "amount"),
        (transfer(&app, &ann, &bob.wallet_id, "1.001", &[]).await, 400, "amount"),
        // Refused while the body is parsed, before any field is looked at.
        (transfer(&app, &ann, &bob.wallet_id, "1e30", &[]).await, 400, ""),
        (transfer(&app, &ann, &ann.wallet_id, "1", &[]).await, 400, "destination.wallet_id"),
        (transfer(&app, &ann, &unknown, "1", &[]).await, 404, ""),
        (transfer(&app, &ann, "not-a-wallet", "1", &[]).await, 400, "destination.wallet_id"),
        (
            transfer_body(
                &app,
                &ann,
                &json!({"origin": {"wallet_id": bob.wallet_id}, "destination": {"wallet_id": ann.wallet_id}, "amount": 1}),
                &[],
            )
            .await,
            403,
            "",
        ),
        (
            transfer_body(
                &app,
                &ann,
                &json!({"origin": {"wallet_id": ann.wallet_id}, "destination": {"wallet_id": bob.wallet_id, "account_id": unknown}, "amount": 1}),
                &[],
            )
            .await,
            400,
            "destination.account_id",
        ),
        (
            transfer_body(
                &app,
                &ann,
                &json!({"origin": {"wallet_id": ann.wallet_id}, "destination": {"wallet_id": bob.wallet_id}, "amount": 1, "commerce_pool_id": unknown}),
                &[],
            )
            .await,
            400,
            "commerce_pool_id",
        ),
        (
            transfer_body(
                &app,
                &ann,
                &json!({"origin": {"wallet_id": ann.wallet_id}, "destination": {"wallet_id": bob.wallet_id}, "amount": 1, "code": "12"}),
                &[],
            )
            .await,
            400,
            "code",
        ),
        (
            transfer_body(&app, &ann, &json!({"origin": {"wallet_id": ann.wallet_id}, "amount": 1}), &[]).await,
            400,
            "destination",
        ),
    ];
    for (reply, status, parameter) in cases {
        assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
        if !parameter.is_empty() {
            assert_eq!(reply.body["parameters"][0], parameter, "{}", reply.body);
        }
    }
    // Without the contact's token, or with the secret key alone: refused.
    let anonymous = app
        .with_key(
            SECRET_KEY,
            "POST",
            "/self-service/v2/transfers",
            Some(&json!({"origin": {"wallet_id": ann.wallet_id}, "destination": {"wallet_id": bob.wallet_id}, "amount": 1})),
        )
        .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);

    delivered(&app).await;
    assert_eq!(balance(&app, &ann.wallet_id).await, d("10.00"));
    assert_eq!(balance(&app, &bob.wallet_id).await, d("0"));
    assert!(transfer_lines(&app, &ann.wallet_id).await.is_empty());
}

/// Another tenant's wallet (the business's test mode is a tenant of its own, as another
/// business is) is not found from here, and nothing moves.
#[tokio::test]
async fn a_wallet_of_another_tenant_is_not_found() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let ann = holder(&app, "ann").await;
    fund(&app, &ann, "T-1", "10").await;
    let merchant = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Shop", "type": "MERCHANT"}),
        )
        .await;
    assert_eq!(merchant.status, 201, "{}", merchant.body);
    let business = merchant.body["parent"]["id"].as_str().unwrap().to_string();
    let key = app
        .post(
            "/backoffice/v2/api_keys",
            &json!({"type": "SECRET", "mode": "TEST", "organisation_id": business}),
        )
        .await;
    assert_eq!(key.status, 201, "{}", key.body);
    let test_key = key.body["key"].as_str().unwrap().to_string();
    let stranger = app
        .with_key(
            &test_key,
            "POST",
            "/backoffice/v2/contacts",
            Some(&json!({"first_name": "Tess", "email_address": "tess@example.com"})),
        )
        .await;
    assert_eq!(stranger.status, 201, "{}", stranger.body);
    let wallet = stranger.body["wallet"]["id"].as_str().unwrap().to_string();
    let reply = transfer(&app, &ann, &wallet, "1", &[]).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert_eq!(balance(&app, &ann.wallet_id).await, d("10.00"));
    let seen = app
        .with_key(&test_key, "GET", &format!("/backoffice/v2/wallets/{wallet}"), None)
        .await;
    assert_eq!(dec(&seen.body["total_balance"]), d("0"), "{}", seen.body);
}

#[tokio::test]
async fn a_retry_is_answered_with_the_first_transfer_and_moves_money_once() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let ann = holder(&app, "ann").await;
    let bob = holder(&app, "bob").await;
    fund(&app, &ann, "T-1", "10").await;

    let first = transfer(&app, &ann, &bob.wallet_id, "3", &[("Idempotency-Key", "tr-1")]).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = transfer(&app, &ann, &bob.wallet_id, "3", &[("Idempotency-Key", "tr-1")]).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    let other_body = transfer(&app, &ann, &bob.wallet_id, "4", &[("Idempotency-Key", "tr-1")]).await;
    assert_eq!(other_body.status, 409, "{}", other_body.body);

    // A client-chosen id works the same way.
    let id = uuid::Uuid::new_v4().to_string();
    let body = json!({"id": id, "origin": {"wallet_id": ann.wallet_id}, "destination": {"wallet_id": bob.wallet_id}, "amount": 2});
    for _ in 0..3 {
        let reply = transfer_body(&app, &ann, &body, &[]).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(reply.body["id"], id.as_str());
    }
    let changed = json!({"id": id, "origin": {"wallet_id": ann.wallet_id}, "destination": {"wallet_id": bob.wallet_id}, "amount": 1});
    assert_eq!(transfer_body(&app, &ann, &changed, &[]).await.status, 409);

    delivered(&app).await;
    assert_eq!(balance(&app, &ann.wallet_id).await, d("5.00"));
    assert_eq!(balance(&app, &bob.wallet_id).await, d("5.00"));
    assert_eq!(transfer_lines(&app, &bob.wallet_id).await.len(), 2);
}

#[tokio::test]
async fn a_credit_the_destination_cannot_take_goes_back_to_the_origin() {
    let app = spawn_app_with(
        temp_dir(),
        ManualClock::new(START_S),
        &[("REWARDS__MONEY__WALLET_BALANCE_MAX", "15")],
    )
    .await;
    app.percentage_offer(10, None).await;
    let ann = holder(&app, "ann").await;
    let bob = holder(&app, "bob").await;
    fund(&app, &ann, "T-1", "10").await;
    fund(&app, &bob, "T-2", "10").await;
    let sent = transfer(&app, &ann, &bob.wallet_id, "6", &[]).await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let id = sent.body["id"].as_str().unwrap().to_string();
    delivered(&app).await;
    assert_eq!(
        balance(&app, &bob.wallet_id).await,
        d("10.00"),
        "above the bound: not credited"
    );
    assert_eq!(balance(&app, &ann.wallet_id).await, d("10.00"), "given back");
    assert_eq!(
        transfer_lines(&app, &ann.wallet_id).await,
        vec![
            (id.clone(), "DEBIT".into(), d("6"), "Transfer sent".into()),
            (id, "CREDIT".into(), d("6"), "Transfer returned".into()),
        ]
    );
    app.assert_balance_equals_journal(&ann.wallet_id).await;
}

/// Racing transfers A→B, B→A and A→C conserve the total to the cent, never overdraw, and
/// every acknowledged transfer is in both journals once.
#[tokio::test]
async fn racing_transfers_conserve_money_and_never_overdraw() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let a = holder(&app, "a").await;
    let b = holder(&app, "b").await;
    let c = holder(&app, "c").await;
    fund(&app, &a, "F-A", "50").await;
    fund(&app, &b, "F-B", "50").await;
    let total = d("100");
    let routes: [(&Holder, &str); 3] = [(&a, &b.wallet_id), (&b, &a.wallet_id), (&a, &c.wallet_id)];
    let mut sent: Vec<(usize, Decimal, Option<String>)> = Vec::new();
    let results = futures_util::future::join_all((0..1_000usize).map(|n| {
        let (from, to) = routes[n % 3];
        let amount = Decimal::new(1 + (n as i64 * 37) % 20, 2);
        let app = &app;
        async move {
            let reply = transfer(app, from, to, &amount.to_string(), &[]).await;
            (n, amount, reply)
        }
    }))
    .await;
    for (n, amount, reply) in results {
        match reply.status.as_u16() {
            201 => sent.push((n, amount, reply.body["id"].as_str().map(str::to_string))),
            400 => assert_eq!(
                reply.body["error"], "CRM.EXCEPTIONS.CANNOTSPENDAMOUNTWALLETBALANCENOTENOUGHEXCEPTION",
                "{}",
                reply.body
            ),
            429 => {}
            status => panic!("transfer {n}: {status} {}", reply.body),
        }
    }
    assert!(sent.len() > 700, "most transfers go through: {}", sent.len());
    delivered(&app).await;
    let mut sum = Decimal::ZERO;
    for holder in [&a, &b, &c] {
        let balance = app.assert_balance_equals_journal(&holder.wallet_id).await;
        assert!(balance >= Decimal::ZERO);
        sum += balance;
    }
    assert_eq!(sum, total, "money is conserved to the cent");
    // Every acknowledged transfer: one debit at its origin, one credit at its destination.
    // (A debit taken from several lots is several lines; they sum to the amount.)
    let mut lines: HashMap<String, HashMap<String, Decimal>> = HashMap::new();
    for holder in [&a, &b, &c] {
        for (id, kind, amount, _) in transfer_lines(&app, &holder.wallet_id).await {
            *lines.entry(id).or_default().entry(kind).or_default() += amount;
        }
    }
    assert_eq!(lines.len(), sent.len(), "no transfer but the acknowledged ones");
    for (n, amount, id) in sent {
        let found = lines.remove(&id.unwrap()).expect("in the journals");
        let expected: HashMap<String, Decimal> = [("CREDIT".into(), amount), ("DEBIT".into(), amount)].into();
        assert_eq!(found, expected, "transfer {n}");
    }
}
