//! The `locations` and `orders` scenarios.
//!
//! `locations`: a merchant with `--venues` venues placed at random within some 50 km of a
//! town; a contact's app asks for the venues nearest a random point in town (within 5 km,
//! ten at a time). Its check: the 100 venues nearest the centre (within 150 km: all of them
//! for a short run) come nearest first.
//!
//! `orders`: a venue that takes pick-up orders and ten products; `--contacts` contacts (each
//! with an account) preview a 10-line order and submit it, back to back: two requests per
//! order, each timed. Its check: every order acknowledged is in its contact's orders, once.

use super::connection::Connection;
use super::money::{prepare_holders, Holder};
use super::setup::{progress, SETUP_IN_FLIGHT};
use super::{Picker, Recorder, Scenario, Target, TerminalResult};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use hyper::Method;
use rand::Rng;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

/// Where the venues are (a town centre) and how far they spread, in degrees.
const CENTRE: (f64, f64) = (35.17, 33.36);
const VENUE_SPREAD: f64 = 0.45;
const QUERY_SPREAD: f64 = 0.2;
/// Lines of each bench order.
const ORDER_LINES: usize = 10;

/// What a scenario's timed part works with, made by its set-up.
pub enum Prepared {
    Locations {
        merchant: String,
        holder: Holder,
    },
    Orders {
        venue: String,
        products: Vec<String>,
        holders: Vec<(Holder, String)>,
    },
}

async fn made(target: &Target, client: &reqwest::Client, path: &str, body: &Value) -> anyhow::Result<String> {
    let (status, reply) = target
        .send(client, reqwest::Method::POST, path, Some(body))
        .await
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(status == 201, "set-up: {path} answered {status}: {reply}");
    Ok(reply["id"].as_str().unwrap_or_default().to_string())
}

async fn placed(target: &Target, client: &reqwest::Client, id: &str, lat: f64, lon: f64) -> anyhow::Result<()> {
    let body = json!({"address_line_1": "1 Bench Street", "town_city": "Nicosia", "postal_code": "1010",
                      "country_code": "CYP", "lat": lat, "lon": lon});
    let path = format!("/backoffice/v2/organisations/{id}/address");
    let (status, reply) = target
        .send(client, reqwest::Method::PUT, &path, Some(&body))
        .await
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(status == 200, "set-up: {path} answered {status}: {reply}");
    Ok(())
}

/// A point within `spread` degrees of the centre.
fn near(rng: &mut impl Rng, spread: f64) -> (f64, f64) {
    (
        CENTRE.0 + rng.random_range(-spread..spread),
        CENTRE.1 + rng.random_range(-spread..spread),
    )
}

/// Makes what the scenario needs: a fresh merchant (its venues, or its order venue and
/// products) for every run, so each run measures the same amount of data.
pub async fn prepare(
    scenario: Scenario,
    target: &Target,
    venues: usize,
    contacts: usize,
    visible: bool,
) -> anyhow::Result<Prepared> {
    let client = Target::client();
    let run = format!("{:x}", rand::random::<u32>());
    let merchant = made(
        target,
        &client,
        "/backoffice/v2/organisations",
        &json!({"name": format!("bench-merchant-{run}"), "type": "MERCHANT"}),
    )
    .await?;
    if scenario == Scenario::Locations {
        let bar = progress(venues, "venues", visible);
        let outcomes: Vec<anyhow::Result<()>> = stream::iter(0..venues)
            .map(|n| {
                let (client, bar, merchant, run) = (client.clone(), bar.clone(), merchant.clone(), run.clone());
                async move {
                    let body =
                        json!({"name": format!("bench-venue-{run}-{n}"), "type": "VENUE", "parent_id": merchant});
                    let id = made(target, &client, "/backoffice/v2/organisations", &body).await?;
                    let (lat, lon) = near(&mut rand::rng(), VENUE_SPREAD);
                    placed(target, &client, &id, lat, lon).await?;
                    bar.inc(1);
                    Ok(())
                }
            })
            .buffer_unordered(SETUP_IN_FLIGHT)
            .collect()
            .await;
        bar.finish_and_clear();
        outcomes.into_iter().collect::<anyhow::Result<()>>()?;
        let holder = prepare_holders(target, 1, visible)
            .await?
            .pop()
            .ok_or_else(|| anyhow::anyhow!("set-up: no contact"))?;
        return Ok(Prepared::Locations { merchant, holder });
    }
    let venue = made(
        target,
        &client,
        "/backoffice/v2/organisations",
        &json!({"name": format!("bench-shop-{run}"), "type": "VENUE", "parent_id": merchant}),
    )
    .await?;
    placed(target, &client, &venue, CENTRE.0, CENTRE.1).await?;
    let path = format!("/backoffice/v2/organisations/{venue}/fulfilment");
    let terms = json!({"supply_methods": ["PICK_UP", "DIRECT_SALE"], "minutes_to_fulfil": 10,
                       "payment_method_types": ["CASH", "WALLET"]});
    let (status, reply) = target
        .send(&client, reqwest::Method::PUT, &path, Some(&terms))
        .await
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(status == 200, "set-up: {path} answered {status}: {reply}");
    let goods = made(
        target,
        &client,
        "/backoffice/v2/products/types",
        &json!({"name": format!("bench-goods-{run}"), "classification": "NON_TRACEABLE_PHYSICAL_GOOD",
                "composition_method": "FLAT"}),
    )
    .await?;
    let mut products = Vec::with_capacity(ORDER_LINES);
    for n in 0..ORDER_LINES {
        let mut body = json!({"sku": format!("bench-{run}-{n}"), "name": format!("Bench item {n}"), "type_id": goods,
                              "pricing": [{"price": 1 + n, "tax_model": "TAX_INCLUSIVE"}]});
        if n % 2 == 0 {
            body["tax_rate"] = json!({"name": "VAT 19%", "tax_code": "VAT", "percentage": 19});
        }
        products.push(made(target, &client, "/backoffice/v2/products", &body).await?);
    }
    let holders = prepare_holders(target, contacts.max(1), visible).await?;
    let with_accounts: Vec<anyhow::Result<(Holder, String)>> = stream::iter(holders)
        .map(|holder| {
            let client = client.clone();
            async move {
                let path = format!("/self-service/v2/contacts/{}/accounts", holder.contact.id);
                let response = client
                    .post(format!("{}{path}", target.base))
                    .header("api_key", &target.key)
                    .header("authorization", holder.bearer.clone())
                    .json(&json!({"currency_code": "EUR", "name": "bench orders"}))
                    .send()
                    .await?;
                let status = response.status().as_u16();
                let reply: Value = response.json().await.unwrap_or(Value::Null);
                anyhow::ensure!(status == 201, "set-up: {path} answered {status}: {reply}");
                let account = reply["id"].as_str().unwrap_or_default().to_string();
                Ok((holder, account))
            }
        })
        .buffered(SETUP_IN_FLIGHT.min(8))
        .collect()
        .await;
    Ok(Prepared::Orders {
        venue,
        products,
        holders: with_accounts.into_iter().collect::<anyhow::Result<Vec<_>>>()?,
    })
}

/// One terminal of either scenario: requests back to back until the deadline. Answers
/// the orders it placed, as (holder, order id).
pub async fn terminal(
    endpoint: super::Endpoint,
    prepared: Arc<Prepared>,
    picker: Picker,
    recorder: Arc<Recorder>,
    deadline: Instant,
) -> (TerminalResult, Vec<(usize, String)>) {
    let mut connection = Connection::new(endpoint);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_rng(&mut rand::rng());
    let mut result = TerminalResult::new();
    let mut placed = Vec::new();
    while Instant::now() < deadline {
        match &*prepared {
            Prepared::Locations { merchant, holder } => {
                let (lat, lon) = near(&mut rng, QUERY_SPREAD);
                let path = format!("/self-service/v2/locations?lat={lat:.5}&lon={lon:.5}&organisation_id={merchant}");
                let sent = Instant::now();
                let outcome = connection.send_as(Method::GET, &path, None, Some(&holder.bearer)).await;
                result.sent(sent.elapsed(), &recorder);
                match outcome {
                    Ok((200, _)) => result.purchases += 1,
                    Ok((status, reply)) => *result.errors.entry(super::error_code(status, &reply)).or_default() += 1,
                    Err(error) => *result.errors.entry((0, error.chars().take(60).collect())).or_default() += 1,
                }
            }
            Prepared::Orders {
                venue,
                products,
                holders,
            } => {
                let who = picker.pick(&mut rng).min(holders.len() - 1);
                let (holder, account) = &holders[who];
                let items: Vec<Value> = products
                    .iter()
                    .map(|id| json!({"id": id, "quantity": rng.random_range(1..4)}))
                    .collect();
                let body = json!({"account_id": account, "supply_method": "PICK_UP", "delivery_method": "PICKUP_POINT",
                                  "payment_method_type": "CASH", "fulfilled_by": venue, "items": items});
                let sent = Instant::now();
                let outcome = connection
                    .send_as(
                        Method::POST,
                        "/self-service/v2/estimates/orders",
                        Some(Bytes::from(body.to_string())),
                        Some(&holder.bearer),
                    )
                    .await;
                result.sent(sent.elapsed(), &recorder);
                let estimate = match outcome {
                    Ok((200, reply)) => serde_json::from_slice::<Value>(&reply)
                        .ok()
                        .and_then(|v| v["id"].as_str().map(String::from)),
                    Ok((status, reply)) => {
                        *result.errors.entry(super::error_code(status, &reply)).or_default() += 1;
                        None
                    }
                    Err(error) => {
                        *result.errors.entry((0, error.chars().take(60).collect())).or_default() += 1;
                        None
                    }
                };
                let Some(estimate) = estimate else { continue };
                let body = format!(r#"{{"estimation_id":"{estimate}","payments":[{{"payment_method_type":"CASH"}}]}}"#);
                let sent = Instant::now();
                let outcome = connection
                    .send_as(
                        Method::POST,
                        "/self-service/v2/orders",
                        Some(Bytes::from(body)),
                        Some(&holder.bearer),
                    )
                    .await;
                result.sent(sent.elapsed(), &recorder);
                match outcome {
                    Ok((201, reply)) => match serde_json::from_slice::<Value>(&reply)
                        .ok()
                        .and_then(|v| v["id"].as_str().map(String::from))
                    {
                        Some(order) => {
                            result.purchases += 1;
                            placed.push((who, order));
                        }
                        None => *result.errors.entry((201, "unreadable order reply".into())).or_default() += 1,
                    },
                    Ok((status, reply)) => *result.errors.entry(super::error_code(status, &reply)).or_default() += 1,
                    Err(error) => *result.errors.entry((0, error.chars().take(60).collect())).or_default() += 1,
                }
            }
        }
    }
    (result, placed)
}

/// `locations`: an answer is nearest first. `orders`: each contact's orders are exactly the
/// ones acknowledged to it.
pub async fn check(
    target: &Target,
    prepared: &Prepared,
    placed: &[(usize, String)],
) -> anyhow::Result<Result<(), String>> {
    let client = Target::client();
    match prepared {
        Prepared::Locations { merchant, holder } => {
            let path = format!(
                "/self-service/v2/locations?lat={}&lon={}&organisation_id={merchant}&within=150&size=100",
                CENTRE.0, CENTRE.1
            );
            let reply: Value = client
                .get(format!("{}{path}", target.base))
                .header("api_key", &target.key)
                .header("authorization", holder.bearer.clone())
                .send()
                .await?
                .json()
                .await?;
            let distances: Vec<f64> = reply["content"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|item| item["address"]["distance"].as_f64())
                .collect();
            if distances.is_empty() {
                return Ok(Err(format!("no venue within 150 km of the centre: {reply}")));
            }
            Ok(if distances.windows(2).all(|pair| pair[0] <= pair[1]) {
                Ok(())
            } else {
                Err(format!("venues are not nearest first: {distances:?}"))
            })
        }
        Prepared::Orders { holders, .. } => {
            for (index, (holder, _)) in holders.iter().enumerate() {
                let mut expected: Vec<&str> = placed
                    .iter()
                    .filter(|(who, _)| *who == index)
                    .map(|(_, order)| order.as_str())
                    .collect();
                expected.sort_unstable();
                let mut listed = Vec::new();
                for page in 1.. {
                    let path = format!(
                        "/self-service/v2/contacts/{}/orders?size=100&page={page}",
                        holder.contact.id
                    );
                    let reply: Value = client
                        .get(format!("{}{path}", target.base))
                        .header("api_key", &target.key)
                        .header("authorization", holder.bearer.clone())
                        .send()
                        .await?
                        .json()
                        .await?;
                    for order in reply["content"].as_array().map(Vec::as_slice).unwrap_or_default() {
                        listed.push(order["id"].as_str().unwrap_or_default().to_string());
                    }
                    if reply["paging"]["has_more"] != true {
                        break;
                    }
                }
                listed.sort_unstable();
                if listed != expected {
                    return Ok(Err(format!(
                        "contact {}: {} orders listed, {} acknowledged",
                        holder.contact.id,
                        listed.len(),
                        expected.len()
                    )));
                }
            }
            Ok(Ok(()))
        }
    }
}
