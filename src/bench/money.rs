//! The `transfer` and `redeem` scenarios: contacts registered from the app (each with its
//! access token) move money between their wallets, or redeem gift passes issued before the
//! timed part. Their check: money is conserved — every wallet ends at what it held before
//! plus what the acknowledged transfers and redemptions say — and every pass is redeemed at
//! most once (a second redemption of a pass is refused, and credits nothing).

use super::connection::Connection;
use super::setup::{post_with_key, progress, BenchContact, SETUP_IN_FLIGHT};
use super::{Endpoint, Picker, Recorder, Scenario, Target, TerminalResult};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use hyper::header::HeaderValue;
use hyper::Method;
use rand::Rng;
use rust_decimal::Decimal;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "rewards-bench-password-1";
/// What each transfer moves.
const TRANSFER_AMOUNT: &str = "0.01";
/// What each bench pass is worth.
const PASS_VALUE: u32 = 5;

/// A contact the app registered, with its token.
#[derive(Debug, Clone)]
pub struct Holder {
    pub contact: BenchContact,
    pub bearer: HeaderValue,
}

/// What the money scenarios acknowledged.
#[derive(Debug, Default)]
pub struct MoneyLedger {
    /// (from, to, amount) of every transfer answered 201.
    pub transfers: Vec<(usize, usize, Decimal)>,
    /// (contact, pass) of every redemption answered 200 by its first redeemer.
    pub redemptions: Vec<(usize, usize)>,
    /// Second redemptions of a pass (by another contact) that were refused.
    pub refused_again: u64,
}

/// Registers `count` contacts through the app (a retry signs them in instead), each funded
/// with 1,000.00 by the `prepare` funding offer.
pub async fn prepare_holders(target: &Target, count: usize, visible: bool) -> anyhow::Result<Vec<Holder>> {
    let client = Target::client();
    let bar = progress(count, "registering", visible);
    let holders: Vec<anyhow::Result<Holder>> = stream::iter(0..count)
        .map(|n| {
            let (client, bar) = (client.clone(), bar.clone());
            async move {
                let email = format!("bench-holder-{n}@bench.example");
                let registration = json!({
                    "first_name": "Bench",
                    "last_name": format!("Holder {n}"),
                    "identification": {"provider": "EMAIL", "email": email, "password": PASSWORD},
                });
                let (status, reply) = target
                    .send(
                        &client,
                        reqwest::Method::POST,
                        "/self-service/v2/contacts/register",
                        Some(&registration),
                    )
                    .await
                    .map_err(anyhow::Error::msg)?;
                let (contact, token) = match status {
                    201 => (
                        reply["contact"]["id"].as_str().unwrap_or_default().to_string(),
                        reply["access_token"].as_str().unwrap_or_default().to_string(),
                    ),
                    409 => {
                        let sign_in = json!({"provider": "EMAIL", "username": email, "password": PASSWORD});
                        let (status, reply) = target
                            .send(
                                &client,
                                reqwest::Method::POST,
                                "/self-service/v2/contacts/authenticate",
                                Some(&sign_in),
                            )
                            .await
                            .map_err(anyhow::Error::msg)?;
                        anyhow::ensure!(status == 200, "set-up: signing {email} in answered {status}: {reply}");
                        (
                            reply["contact"]["id"].as_str().unwrap_or_default().to_string(),
                            reply["access_token"].as_str().unwrap_or_default().to_string(),
                        )
                    }
                    _ => anyhow::bail!("set-up: registering {email} answered {status}: {reply}"),
                };
                let (status, found) = target
                    .send(
                        &client,
                        reqwest::Method::GET,
                        &format!("/backoffice/v2/contacts/{contact}"),
                        None,
                    )
                    .await
                    .map_err(anyhow::Error::msg)?;
                anyhow::ensure!(status == 200, "set-up: reading contact {contact} answered {status}");
                bar.inc(1);
                Ok(Holder {
                    contact: BenchContact {
                        id: contact,
                        wallet_id: found["wallet"]["id"].as_str().unwrap_or_default().to_string(),
                    },
                    bearer: HeaderValue::from_str(&format!("Bearer {token}"))?,
                })
            }
        })
        .buffered(SETUP_IN_FLIGHT.min(8))
        .collect()
        .await;
    bar.finish_and_clear();
    holders.into_iter().collect()
}

/// Issues `count` passes of a fixed-value, PIN-less bench plan: their codes.
pub async fn prepare_passes(target: &Target, count: usize, visible: bool) -> anyhow::Result<Vec<String>> {
    let client = Target::client();
    let plan = post_with_key(
        target,
        &client,
        "/backoffice/v2/pass_plans",
        "rewards-bench-pass-plan",
        &json!({
            "name": "rewards bench gift pass",
            "classification": "GIFT",
            "value": {"type": "FIXED", "fixed_amount": PASS_VALUE},
            "code_format": {"type": "ALPHANUMERIC", "prefix": "BENCH", "length": 12},
        }),
    )
    .await?;
    let plan_id = plan["id"].as_str().unwrap_or_default().to_string();
    let bar = progress(count, "passes", visible);
    let codes: Vec<anyhow::Result<String>> = stream::iter(0..count)
        .map(|_| {
            let (client, bar, plan_id) = (client.clone(), bar.clone(), plan_id.clone());
            async move {
                let (status, issued) = target
                    .send(
                        &client,
                        reqwest::Method::POST,
                        "/backoffice/v2/passes",
                        Some(&json!({"pass_plan_id": plan_id})),
                    )
                    .await
                    .map_err(anyhow::Error::msg)?;
                anyhow::ensure!(status == 201, "set-up: issuing a pass answered {status}: {issued}");
                bar.inc(1);
                Ok(issued["code"].as_str().unwrap_or_default().to_string())
            }
        })
        .buffer_unordered(SETUP_IN_FLIGHT)
        .collect()
        .await;
    bar.finish_and_clear();
    codes.into_iter().collect()
}

/// What each wallet holds now.
pub async fn balances(target: &Target, holders: &[Holder]) -> anyhow::Result<Vec<Decimal>> {
    let client = Target::client();
    let read: Vec<anyhow::Result<Decimal>> = stream::iter(holders)
        .map(|holder| {
            let client = client.clone();
            async move {
                let path = format!("/backoffice/v2/wallets/{}", holder.contact.wallet_id);
                match target.send(&client, reqwest::Method::GET, &path, None).await {
                    Ok((200, wallet)) => Ok(super::decimal(&wallet["total_balance"])),
                    other => anyhow::bail!("reading wallet {}: {other:?}", holder.contact.wallet_id),
                }
            }
        })
        .buffered(32)
        .collect()
        .await;
    read.into_iter().collect()
}

/// One terminal of the `transfer` or `redeem` scenario.
#[allow(clippy::too_many_arguments)]
pub async fn terminal(
    endpoint: Endpoint,
    scenario: Scenario,
    holders: Arc<Vec<Holder>>,
    codes: Arc<Vec<String>>,
    next_pass: Arc<AtomicUsize>,
    picker: Picker,
    recorder: Arc<Recorder>,
    deadline: Instant,
) -> (TerminalResult, MoneyLedger) {
    let mut connection = Connection::new(endpoint);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_rng(&mut rand::rng());
    let mut result = TerminalResult::new();
    let mut ledger = MoneyLedger::default();
    let amount: Decimal = TRANSFER_AMOUNT.parse().expect("a decimal");
    // The pass this terminal redeemed last, and who redeemed it.
    let mut last_redeemed: Option<(usize, usize)> = None;
    while Instant::now() < deadline {
        let mut from = picker.pick(&mut rng).min(holders.len() - 1);
        let (path, body, pass) = match scenario {
            Scenario::Transfer => {
                let to = (from + rng.random_range(1..holders.len().max(2))) % holders.len();
                let body = format!(
                    r#"{{"origin":{{"wallet_id":"{}"}},"destination":{{"wallet_id":"{}"}},"amount":{TRANSFER_AMOUNT}}}"#,
                    holders[from].contact.wallet_id, holders[to].contact.wallet_id
                );
                ("/self-service/v2/transfers", body, Some(to))
            }
            _ => {
                // One redemption in ten tries a pass redeemed already: it must be refused.
                let again = last_redeemed.filter(|_| rng.random_ratio(1, 10));
                let pass = match again {
                    Some((pass, redeemer)) => {
                        // Another contact: the redeemer asking again would be answered alike.
                        if from == redeemer {
                            from = (from + 1) % holders.len();
                        }
                        pass
                    }
                    None => {
                        let pass = next_pass.fetch_add(1, Ordering::Relaxed);
                        if pass >= codes.len() {
                            break;
                        }
                        pass
                    }
                };
                let body = format!(r#"{{"code":"{}","organisation":{{}}}}"#, codes[pass]);
                ("/self-service/v2/passes/redeem", body, Some(pass))
            }
        };
        let sent = Instant::now();
        let outcome = connection
            .send_as(Method::POST, path, Some(Bytes::from(body)), Some(&holders[from].bearer))
            .await;
        result.sent(sent.elapsed(), &recorder);
        match (scenario, outcome, pass) {
            (_, Err(error), _) => *result.errors.entry((0, error.chars().take(60).collect())).or_default() += 1,
            (Scenario::Transfer, Ok((201, _)), Some(to)) => {
                result.purchases += 1;
                ledger.transfers.push((from, to, amount));
            }
            (Scenario::Redeem, Ok((200, _)), Some(pass)) if last_redeemed.map(|(last, _)| last) != Some(pass) => {
                result.purchases += 1;
                ledger.redemptions.push((from, pass));
                last_redeemed = Some((pass, from));
            }
            (Scenario::Redeem, Ok((409, _)), Some(pass)) if last_redeemed.map(|(last, _)| last) == Some(pass) => {
                ledger.refused_again += 1;
            }
            (_, Ok((status, reply)), _) => *result.errors.entry(super::error_code(status, &reply)).or_default() += 1,
        }
    }
    (result, ledger)
}

/// Money is conserved: every wallet reaches what it held before plus what the acknowledged
/// transfers and redemptions say (credits land through the outbox: waited for, up to 60 s),
/// and each pass was redeemed once.
pub async fn check(
    target: &Target,
    holders: &[Holder],
    before: &[Decimal],
    ledger: &MoneyLedger,
) -> anyhow::Result<Result<(), String>> {
    let mut expected = before.to_vec();
    for (from, to, amount) in &ledger.transfers {
        expected[*from] -= amount;
        expected[*to] += amount;
    }
    let mut seen = std::collections::HashSet::new();
    for (contact, pass) in &ledger.redemptions {
        if !seen.insert(*pass) {
            return Ok(Err(format!("pass {pass} was acknowledged as redeemed twice")));
        }
        expected[*contact] += Decimal::from(PASS_VALUE);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = balances(target, holders).await?;
        let off = now.iter().zip(&expected).position(|(has, wants)| has != wants);
        match off {
            None => return Ok(Ok(())),
            Some(index) if Instant::now() >= deadline => {
                return Ok(Err(format!(
                    "wallet {}: holds {} but the acknowledged moves make it {}",
                    holders[index].contact.wallet_id, now[index], expected[index]
                )))
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The holders as the purchase scenarios' contacts (for funding).
pub fn contacts(holders: &[Holder]) -> Vec<BenchContact> {
    holders.iter().map(|holder| holder.contact.clone()).collect()
}
