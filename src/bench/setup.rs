//! Set-up through the API before the timed part, and the correctness check after it.
//!
//! Set-up is idempotent so runs can repeat against one server: the offers carry an
//! `Idempotency-Key`, contacts have the codes `bench-0 … bench-N` (a 409 means "already
//! there", and the contact is fetched instead), and funding purchases reuse their references.

use super::{Acknowledged, Target};
use crate::{Application, Settings};
use futures_util::stream::{self, StreamExt};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) const SETUP_IN_FLIGHT: usize = 64;

#[derive(Debug, Clone)]
pub struct BenchContact {
    pub id: String,
    pub wallet_id: String,
}

/// A server started by `--spawn` in this process, on a temporary data dir.
pub struct SpawnedServer {
    pub base: String,
    pub key: String,
    handle: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<()>,
    _data_dir: tempfile::TempDir,
}

pub fn spawn_server() -> anyhow::Result<SpawnedServer> {
    let data_dir = tempfile::TempDir::new()?;
    let key = format!("sk_bench_{}", hex::encode(rand::random::<[u8; 16]>()));
    let dir = data_dir.path().to_string_lossy().to_string();
    let settings = Settings::load_from_pairs(
        None,
        &[
            ("REWARDS__HTTP__BIND", "127.0.0.1:0"),
            ("REWARDS__HTTP__PAGE_SIZE_MAX", "1000"),
            ("REWARDS__STORAGE__DATA_DIR", &dir),
            ("REWARDS__BOOTSTRAP__SECRET_API_KEY", &key),
            ("REWARDS__LOG__FILTER", "warn"),
            // The transfer and redeem scenarios register their contacts from one address.
            ("REWARDS__OTP__REQUESTS_PER_IP_MAX", "1000000"),
            ("REWARDS__METRICS__BIND", "127.0.0.1:0"),
        ],
    )?;
    let (sender, receiver) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new().name("bench-server".into()).spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match Application::build(settings, Arc::new(rewards_engine::SystemClock)).await {
                Ok(application) => {
                    let _ = sender.send(Ok((application.port(), application.handle())));
                    let _ = application.run_until_stopped().await;
                }
                Err(error) => drop(sender.send(Err(error))),
            }
        })
    })?;
    let (port, handle) = receiver.recv()??;
    Ok(SpawnedServer {
        base: format!("http://127.0.0.1:{port}"),
        key,
        handle,
        thread,
        _data_dir: data_dir,
    })
}

impl SpawnedServer {
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = tokio::task::spawn_blocking(move || self.thread.join()).await;
    }
}

pub(super) fn progress(length: usize, message: &'static str, visible: bool) -> indicatif::ProgressBar {
    if !visible {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(length as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {per_sec}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

pub(super) async fn post_with_key(
    target: &Target,
    client: &reqwest::Client,
    path: &str,
    idempotency: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let response = client
        .post(format!("{}{path}", target.base))
        .header("api_key", &target.key)
        .header("Idempotency-Key", idempotency)
        .json(body)
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(status.is_success(), "set-up POST {path} answered {status}: {body}");
    Ok(body)
}

async fn set_offer_state(target: &Target, client: &reqwest::Client, offer: &Value, state: &str) -> anyhow::Result<()> {
    let path = format!(
        "/backoffice/v2/reward_offers/{}/life_cycle_state",
        offer["id"].as_str().unwrap_or_default()
    );
    let response = client
        .put(format!("{}{path}", target.base))
        .header("api_key", &target.key)
        .json(&json!({ "state": state }))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "set-up PUT {path} answered {}",
        response.status()
    );
    Ok(())
}

/// Name prefix of the offers `--offers` adds.
const EXTRA_OFFER: &str = "rewards bench: extra offer ";

/// The `n`th extra offer: evaluated on every bench purchase, never earning on one.
fn extra_offer(n: usize) -> Value {
    let name = format!("{EXTRA_OFFER}{n}");
    match n % 4 {
        // Lines the bench never sells.
        0 => {
            json!({"name": name, "products": {"skus": [format!("NOT-SOLD-{n}"), "NOT-SOLD"], "families": ["NOT-A-FAMILY"]}, "award": {"type": "PERCENTAGE", "value": 5}})
        }
        // A minimum spend out of reach, on the bakery line.
        1 => {
            json!({"name": name, "products": {"families": ["BENCH-BAKERY"]}, "conditions": {"minimum_spend": 1_000_000}, "award": {"type": "PER_QUANTITY", "value": 1}})
        }
        // One minute a day, in a time zone.
        2 => {
            json!({"name": name, "schedule": {"time_zone": "Europe/Nicosia", "days": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"], "from": "03:00", "to": "03:01"}, "award": {"type": "FIXED", "value": 1}})
        }
        // A capped best-of offer whose minimum no bench purchase reaches.
        _ => {
            json!({"name": name, "conditions": {"minimum_spend": 1_000_000}, "caps": {"per_purchase": 5, "per_contact": {"period": "DAY", "amount": 10}}, "combination": {"rule": "BEST_OF", "group": "rewards-bench"}, "award": {"type": "PERCENTAGE", "value": 50}})
        }
    }
}

/// Makes (or switches back on) extra offers `0 .. wanted`, and switches off any made by an
/// earlier run beyond them.
async fn prepare_offers(target: &Target, client: &reqwest::Client, wanted: usize) -> anyhow::Result<()> {
    for n in 0..wanted {
        let offer = post_with_key(
            target,
            client,
            "/backoffice/v2/reward_offers",
            &format!("rewards-bench-extra-offer-{n}"),
            &extra_offer(n),
        )
        .await?;
        set_offer_state(target, client, &offer, "ACTIVE").await?;
    }
    for page in 1.. {
        let (status, listed) = target
            .send(
                client,
                reqwest::Method::GET,
                &format!("/backoffice/v2/reward_offers?state=ACTIVE&size=100&page={page}"),
                None,
            )
            .await
            .map_err(anyhow::Error::msg)?;
        anyhow::ensure!(status == 200, "set-up: listing offers answered {status}: {listed}");
        for offer in listed["content"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let extra = offer["name"]
                .as_str()
                .and_then(|name| name.strip_prefix(EXTRA_OFFER))
                .and_then(|n| n.parse::<usize>().ok());
            if extra.is_some_and(|n| n >= wanted) {
                set_offer_state(target, client, offer, "INACTIVE").await?;
            }
        }
        if listed["paging"]["has_more"] != true {
            break;
        }
    }
    Ok(())
}

/// Contacts with wallets and an active 10% offer (and `offers - 1` extra ones); with
/// `funded`, 1,000.00 in every wallet.
pub async fn prepare(
    target: &Target,
    count: usize,
    funded: bool,
    offers: u16,
    visible: bool,
) -> anyhow::Result<Vec<BenchContact>> {
    let client = Target::client();
    post_with_key(
        target,
        &client,
        "/backoffice/v2/reward_offers",
        "rewards-bench-offer-10-percent",
        &json!({"name": "rewards bench: 10% back", "award": {"type": "PERCENTAGE", "value": 10}}),
    )
    .await?;
    prepare_offers(target, &client, usize::from(offers) - 1).await?;
    let bar = progress(count, "contacts", visible);
    let contacts: Vec<anyhow::Result<BenchContact>> = stream::iter(0..count)
        .map(|n| {
            let client = client.clone();
            let bar = bar.clone();
            async move {
                let code = format!("bench-{n}");
                let created = target
                    .send(
                        &client,
                        reqwest::Method::POST,
                        "/backoffice/v2/contacts",
                        Some(&json!({"first_name": "Bench", "code": code})),
                    )
                    .await
                    .map_err(anyhow::Error::msg)?;
                let contact = match created {
                    (201, contact) => contact,
                    (409, _) => match target
                        .send(
                            &client,
                            reqwest::Method::GET,
                            &format!("/backoffice/v2/contacts/{code}"),
                            None,
                        )
                        .await
                    {
                        Ok((200, contact)) => contact,
                        other => anyhow::bail!("set-up: contact {code}: {other:?}"),
                    },
                    (status, body) => anyhow::bail!("set-up: creating contact {code} answered {status}: {body}"),
                };
                bar.inc(1);
                Ok(BenchContact {
                    id: contact["id"].as_str().unwrap_or_default().to_string(),
                    wallet_id: contact["wallet"]["id"].as_str().unwrap_or_default().to_string(),
                })
            }
        })
        .buffered(SETUP_IN_FLIGHT)
        .collect()
        .await;
    bar.finish_and_clear();
    let contacts = contacts.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    if funded {
        fund(target, &contacts, visible).await?;
    }
    Ok(contacts)
}

/// Gives every contact 1,000.00 (a purchase under a funding offer switched on for it).
pub async fn fund(target: &Target, contacts: &[BenchContact], visible: bool) -> anyhow::Result<()> {
    let client = Target::client();
    let count = contacts.len();
    {
        let funding = post_with_key(
            target,
            &client,
            "/backoffice/v2/reward_offers",
            "rewards-bench-funding",
            &json!({"name": "rewards bench: funding", "state": "INACTIVE", "award": {"type": "FIXED", "value": 1000}}),
        )
        .await?;
        set_offer_state(target, &client, &funding, "ACTIVE").await?;
        let bar = progress(count, "funding", visible);
        let funded: Vec<anyhow::Result<()>> = stream::iter(contacts.iter().enumerate())
            .map(|(n, contact)| {
                let (client, bar) = (client.clone(), bar.clone());
                async move {
                    let body = json!({"contact": {"id": contact.id}, "reference_number": format!("bench-fund-{}", contact.id), "transaction_amounts": {"total": 1}});
                    let reply = target.send(&client, reqwest::Method::POST, "/backoffice/v2/purchases", Some(&body)).await;
                    bar.inc(1);
                    match reply {
                        Ok((201, _)) => Ok(()),
                        other => anyhow::bail!("set-up: funding contact {n}: {other:?}"),
                    }
                }
            })
            .buffer_unordered(SETUP_IN_FLIGHT)
            .collect()
            .await;
        bar.finish_and_clear();
        set_offer_state(target, &client, &funding, "INACTIVE").await?;
        funded.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    }
    Ok(())
}

/// Compares what the server acknowledged with the wallets' journals: for every acknowledged
/// purchase, the AWARD and SPEND lines carrying its id must add up to the acknowledged award
/// and spend; and every wallet's balance must equal its journal sum.
pub async fn check(
    target: &Target,
    contacts: &[BenchContact],
    acknowledged: &[Acknowledged],
) -> anyhow::Result<Result<(), String>> {
    let mut by_contact: HashMap<usize, Vec<&Acknowledged>> = HashMap::new();
    for purchase in acknowledged {
        by_contact.entry(purchase.contact).or_default().push(purchase);
    }
    let client = Target::client();
    let problems: Vec<Option<String>> = stream::iter(by_contact)
        .map(|(contact, purchases)| {
            let client = client.clone();
            let wallet_id = contacts[contact].wallet_id.clone();
            async move {
                let mut held: HashMap<String, (Decimal, Decimal)> = HashMap::new();
                let mut sum = Decimal::ZERO;
                for page in 1.. {
                    let path = format!("/backoffice/v2/wallets/{wallet_id}/journals?order=ASC&size=100&page={page}");
                    let reply = match target.send(&client, reqwest::Method::GET, &path, None).await {
                        Ok((200, reply)) => reply,
                        other => return Some(format!("reading the journal of wallet {wallet_id}: {other:?}")),
                    };
                    for line in reply["content"].as_array().into_iter().flatten() {
                        let amount = super::decimal(&line["amount"]);
                        let credit = line["type"] == "CREDIT";
                        sum += if credit { amount } else { -amount };
                        let Some(purchase) = line["purchase"]["id"].as_str() else {
                            continue;
                        };
                        let entry = held.entry(purchase.to_string()).or_default();
                        match line["transaction_type"].as_str() {
                            Some("AWARD") => entry.0 += amount,
                            Some("SPEND") => entry.1 += amount,
                            _ => {}
                        }
                    }
                    if !reply["paging"]["has_more"].as_bool().unwrap_or(false) {
                        break;
                    }
                }
                let balance = match target
                    .send(
                        &client,
                        reqwest::Method::GET,
                        &format!("/backoffice/v2/wallets/{wallet_id}"),
                        None,
                    )
                    .await
                {
                    Ok((200, wallet)) => super::decimal(&wallet["total_balance"]),
                    other => return Some(format!("reading wallet {wallet_id}: {other:?}")),
                };
                if balance != sum {
                    return Some(format!(
                        "wallet {wallet_id}: balance {balance} but its journal sums to {sum}"
                    ));
                }
                for purchase in purchases {
                    let (award, spend) = held.get(&purchase.purchase_id).copied().unwrap_or_default();
                    if (award, spend) != (purchase.award, purchase.spend) {
                        return Some(format!(
                            "purchase {}: acknowledged award {} and spend {}, journal holds {award} and {spend}",
                            purchase.purchase_id, purchase.award, purchase.spend
                        ));
                    }
                }
                None
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    Ok(match problems.into_iter().flatten().next() {
        None => Ok(()),
        Some(problem) => Err(problem),
    })
}
