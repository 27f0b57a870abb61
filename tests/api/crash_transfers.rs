//! Transfers under `kill -9` (the real binary, SIGKILL at a random moment, five cycles):
//! after each restart every acknowledged transfer is debited once and credited once, no
//! transfer stays half-applied once the outbox between entities has delivered, money is
//! conserved to the cent, and every balance equals its journal; `rewards admin verify`
//! finds every transfer whole on the data dir afterwards.

use crate::crash::{admin, journal_lines, start_server, Api, Server};
use crate::helpers::{dec, NumberCompat, PUBLIC_KEY};
use rand::Rng;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[derive(Clone)]
struct Holder {
    contact_id: String,
    wallet_id: String,
    token: String,
}

#[derive(Clone, Debug)]
struct Sent {
    id: String,
    amount: Decimal,
}

async fn register(api: &Api, name: &str) -> Holder {
    let response = api
        .client
        .post(format!("{}/self-service/v2/contacts/register", api.base))
        .header("api_key", PUBLIC_KEY)
        .json(&json!({
            "first_name": name,
            "last_name": "Crash",
            "identification": {"provider": "EMAIL", "email": format!("{name}@crash.example"), "password": "crash-password-1"},
            "accept_terms_&_conditions": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let contact_id = body["contact"]["id"].as_str().unwrap().to_string();
    let contact = api.get(&format!("/backoffice/v2/contacts/{contact_id}")).await;
    Holder {
        wallet_id: contact["wallet"]["id"].as_str().unwrap().to_string(),
        token: body["access_token"].as_str().unwrap().to_string(),
        contact_id,
    }
}

/// Sends transfers between random holders until the server dies.
async fn client_loop(api: Arc<Api>, holders: Arc<Vec<Holder>>, sent: Arc<Mutex<Vec<Sent>>>) {
    loop {
        let (from, to, cents) = {
            let mut rng = rand::rng();
            let from = rng.random_range(0..holders.len());
            let to = (from + rng.random_range(1..holders.len())) % holders.len();
            (from, to, rng.random_range(1..300i64))
        };
        let amount = Decimal::new(cents, 2);
        let response = api
            .client
            .post(format!("{}/self-service/v2/transfers", api.base))
            .header("api_key", PUBLIC_KEY)
            .header("authorization", format!("Bearer {}", holders[from].token))
            .json(&json!({
                "origin": {"wallet_id": holders[from].wallet_id},
                "destination": {"wallet_id": holders[to].wallet_id},
                "amount": serde_json::Number::from_string_unchecked_compat(&amount.to_string()),
            }))
            .send()
            .await;
        let Ok(response) = response else {
            return; // the server was killed
        };
        let status = response.status().as_u16();
        let Ok(body) = response.json::<Value>().await else {
            return; // killed while answering
        };
        match status {
            201 => sent.lock().await.push(Sent {
                id: body["id"].as_str().unwrap().to_string(),
                amount,
            }),
            400 if body["error"] == "CRM.EXCEPTIONS.CANNOTSPENDAMOUNTWALLETBALANCENOTENOUGHEXCEPTION" => {}
            429 => tokio::time::sleep(Duration::from_millis(5)).await,
            _ => panic!("transfer answered {status}: {body}"),
        }
    }
}

/// Waits until every acknowledged transfer's credit is in a journal and nothing waits in
/// the outbox, then checks every transfer and every wallet.
async fn check(api: &Api, holders: &[Holder], sent: &[Sent], funded: Decimal) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Per transfer id: (debited, credited).
        let mut seen: HashMap<String, (Decimal, Decimal)> = HashMap::new();
        let mut sum = Decimal::ZERO;
        let mut consistent = true;
        for holder in holders {
            let lines = journal_lines(api, &holder.wallet_id).await;
            let mut journal = Decimal::ZERO;
            for line in &lines {
                let amount = dec(&line["amount"]);
                let credit = line["type"] == "CREDIT";
                journal += if credit { amount } else { -amount };
                if let Some(id) = line["transfer"]["id"].as_str() {
                    let entry = seen.entry(id.to_string()).or_default();
                    if credit {
                        entry.1 += amount;
                    } else {
                        entry.0 += amount;
                    }
                }
            }
            let wallet = api.get(&format!("/backoffice/v2/wallets/{}", holder.wallet_id)).await;
            let balance = dec(&wallet["total_balance"]);
            consistent &= balance == journal;
            assert!(
                balance >= Decimal::ZERO,
                "wallet {} overdrawn: {balance}",
                holder.wallet_id
            );
            sum += balance;
        }
        let half_applied: Vec<_> = seen.iter().filter(|(_, (debit, credit))| debit != credit).collect();
        let missing: Vec<_> = sent
            .iter()
            .filter(|transfer| seen.get(&transfer.id) != Some(&(transfer.amount, transfer.amount)))
            .collect();
        if half_applied.is_empty() && missing.is_empty() {
            assert!(consistent, "every balance equals its journal");
            assert_eq!(sum, funded, "money is conserved to the cent");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "after 30 s: half applied {half_applied:?}; acknowledged and not both debited and credited once {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfers_survive_kill_minus_9_debited_once_and_credited_once() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut server: Server = start_server(dir.path());
    let (status, _) = server
        .post(
            "/backoffice/v2/reward_offers",
            &json!({"name": "10%", "award": {"type": "PERCENTAGE", "value": 10}}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201);
    let mut holders = Vec::new();
    for n in 0..4 {
        holders.push(register(&server, &format!("holder{n}")).await);
    }
    let holders = Arc::new(holders);
    let mut funded = Decimal::ZERO;
    for (n, holder) in holders.iter().enumerate() {
        let (status, body) = server
            .post(
                "/backoffice/v2/purchases",
                &json!({"contact": {"id": holder.contact_id}, "reference_number": format!("FUND-{n}"), "transaction_amounts": {"total": 500}}),
            )
            .await
            .unwrap();
        assert_eq!(status, 201, "{body}");
        funded += Decimal::from(50);
    }
    let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
    let mut sent_before = 0;
    for cycle in 0..5usize {
        let tasks: Vec<_> = (0..8)
            .map(|_| tokio::spawn(client_loop(server.api.clone(), holders.clone(), sent.clone())))
            .collect();
        let start = Instant::now();
        while sent.lock().await.len() == sent_before && start.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let delay = rand::rng().random_range(20..400u64);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        server.kill_hard();
        for task in tasks {
            task.await.expect("a client saw only answers the API allows");
        }
        server = start_server(dir.path());
        let acknowledged = sent.lock().await.clone();
        assert!(
            acknowledged.len() > sent_before,
            "cycle {cycle}: new transfers were acknowledged"
        );
        sent_before = acknowledged.len();
        eprintln!(
            "transfer crash cycle {cycle}: killed {delay} ms after the first acknowledgement; {} acknowledged so far",
            acknowledged.len()
        );
        check(&server, &holders, &acknowledged, funded).await;
    }
    server.kill_hard();
    // Every transfer's debit, and its credit or a message still waiting, on disk.
    let (ok, report, stderr) = admin(dir.path(), &["verify".as_ref()]);
    assert!(ok, "verify after the kills: {report} {stderr}");
    assert!(report["transfers"].as_u64().unwrap() >= sent_before as u64, "{report}");
}
