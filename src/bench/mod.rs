//! `rewards bench`: a load generator for award and spend throughput.
//!
//! Each terminal is one keep-alive HTTP connection acting as a POS: it sends a request,
//! waits for the whole response, and sends the next. Set-up (contacts, offers, funding) goes
//! through the API before the timed part and is idempotent, so runs can repeat against the
//! same server. Latency is measured from send to full response into HDR histograms and
//! corrected for coordinated omission (a stalled terminal's missing samples are filled in at
//! its mean interval). After the run the tool checks that what the server acknowledged is
//! exactly what the wallets' journals hold, and exits non-zero if not.

mod commerce;
mod connection;
mod money;
mod report;
mod setup;

use crate::api::wire::Money;
use bytes::Bytes;
use connection::{Connection, Endpoint};
use hyper::Method;
use serde::Deserialize;
use std::borrow::Cow;

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use rand::Rng;
use rand_distr::Distribution;
use report::{Report, Second};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// `GET /health`: the HTTP ceiling of this server on this machine.
    Baseline,
    /// Purchases that earn awards.
    Award,
    /// Purchases with a spend request (and an award).
    Spend,
    /// A mix (`--mix`) of award, spend, cancel and wallet reads.
    Mixed,
    /// Bulk purchase posts of `--batch-size` purchases.
    Bulk,
    /// Contacts (registered from the app) transfer 0.01 to one another.
    Transfer,
    /// Contacts redeem gift passes issued before the timed part (`--passes`); one in ten
    /// tries a pass just redeemed again, which must be refused.
    Redeem,
    /// A contact's app asks for the venues nearest a point, among `--venues` venues.
    Locations,
    /// Contacts preview a 10-line order and submit it (two requests per order).
    Orders,
}

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// The server, e.g. http://127.0.0.1:8080 (not with --spawn).
    #[arg(long)]
    pub target: Option<String>,
    /// A secret API key of the organisation to load (not with --spawn).
    #[arg(long, env = "REWARDS_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    #[arg(long, value_enum, default_value = "award")]
    pub scenario: Scenario,
    /// Concurrent terminals, one keep-alive connection each.
    #[arg(long, default_value_t = 32)]
    pub terminals: usize,
    /// Length of the timed part.
    #[arg(long, default_value_t = 10)]
    pub duration_s: u64,
    /// Contacts (and wallets) to spread purchases over.
    #[arg(long, default_value_t = 1_000)]
    pub contacts: usize,
    /// Size of a hot set of contacts that gets `--hot-percent` of the traffic.
    #[arg(long)]
    pub hot_contacts: Option<usize>,
    #[arg(long, default_value_t = 90.0)]
    pub hot_percent: f64,
    /// Choose contacts by a Zipf distribution with this exponent instead.
    #[arg(long)]
    pub zipf: Option<f64>,
    /// Venues placed for the `locations` scenario.
    #[arg(long, default_value_t = 10_000)]
    pub venues: usize,
    /// Passes issued for the `redeem` scenario (it ends early when they run out).
    #[arg(long, default_value_t = 20_000)]
    pub passes: usize,
    /// Purchases per request in the `bulk` scenario.
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
    /// Active reward offers while the bench runs: the 10% offer every purchase earns, plus
    /// this many minus one that each purchase is evaluated against without earning (lines it
    /// does not have, a minimum spend it misses, an hour outside a schedule, a best-of group
    /// out of reach). Extra offers of an earlier run beyond this number are switched off.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub offers: u16,
    /// Weights of the `mixed` scenario.
    #[arg(long, default_value = "award=60,spend=25,cancel=5,read=10")]
    pub mix: String,
    /// Print the result as one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write an SVG chart of throughput and p99 over time.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Start a server in a temporary data dir inside this process and load it.
    #[arg(long)]
    pub spawn: bool,
}

/// How terminals pick the contact of their next request.
#[derive(Debug, Clone)]
enum Picker {
    Uniform(usize),
    Hot {
        contacts: usize,
        hot: usize,
        hot_share: f64,
    },
    Zipf(rand_distr::Zipf<f64>),
}

impl Picker {
    fn pick(&self, rng: &mut impl Rng) -> usize {
        match self {
            Picker::Uniform(contacts) => rng.random_range(0..*contacts),
            Picker::Hot {
                contacts,
                hot,
                hot_share,
            } => {
                if rng.random_bool(*hot_share) || hot >= contacts {
                    rng.random_range(0..*hot)
                } else {
                    rng.random_range(*hot..*contacts)
                }
            }
            Picker::Zipf(zipf) => (zipf.sample(rng) as usize).saturating_sub(1),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Operation {
    Award,
    Spend,
    Cancel,
    Read,
}

fn parse_mix(text: &str) -> anyhow::Result<Vec<(Operation, u32)>> {
    let mut mix = Vec::new();
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (name, weight) = part
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--mix: '{part}' is not name=weight"))?;
        let operation = match name.trim() {
            "award" => Operation::Award,
            "spend" => Operation::Spend,
            "cancel" => Operation::Cancel,
            "read" => Operation::Read,
            other => anyhow::bail!("--mix: unknown operation '{other}' (award, spend, cancel, read)"),
        };
        mix.push((
            operation,
            weight
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("--mix: bad weight in '{part}'"))?,
        ));
    }
    anyhow::ensure!(
        mix.iter().any(|(_, w)| *w > 0),
        "--mix needs at least one positive weight"
    );
    Ok(mix)
}

/// What the server acknowledged for one purchase, to check against the journals.
#[derive(Debug, Clone)]
pub(crate) struct Acknowledged {
    contact: usize,
    purchase_id: String,
    award: rust_decimal::Decimal,
    spend: rust_decimal::Decimal,
}

/// Everything terminals record, merged at the end.
struct Recorder {
    started: Instant,
    seconds: Mutex<Vec<(u64, Histogram<u64>)>>,
}

impl Recorder {
    fn record(&self, latency: Duration, requests: u64) {
        let second = self.started.elapsed().as_secs();
        let micros = latency.as_micros().clamp(1, 60_000_000) as u64;
        let mut seconds = self.seconds.lock();
        if seconds.last().is_none_or(|(s, _)| *s != second) {
            seconds.push((second, new_histogram()));
        }
        if let Some((_, histogram)) = seconds.last_mut() {
            let _ = histogram.record_n(micros, requests);
        }
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

struct TerminalResult {
    latencies: Histogram<u64>,
    requests: u64,
    purchases: u64,
    errors: HashMap<(u16, String), u64>,
    acknowledged: Vec<Acknowledged>,
    busy: Duration,
}

impl TerminalResult {
    fn new() -> TerminalResult {
        TerminalResult {
            latencies: new_histogram(),
            requests: 0,
            purchases: 0,
            errors: HashMap::new(),
            acknowledged: Vec::new(),
            busy: Duration::ZERO,
        }
    }

    /// Counts one request answered after `latency`.
    fn sent(&mut self, latency: Duration, recorder: &Recorder) {
        self.busy += latency;
        self.requests += 1;
        let _ = self.latencies.record(latency.as_micros().clamp(1, 60_000_000) as u64);
        recorder.record(latency, 1);
    }
}

pub(crate) struct Target {
    pub base: String,
    pub key: String,
}

impl Target {
    pub(crate) fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client")
    }

    pub(crate) async fn send(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let mut request = client
            .request(method, format!("{}{path}", self.base))
            .header("api_key", &self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|error| error.to_string())?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|error| error.to_string())?;
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }
}

/// The fields of a purchase reply the run checks.
#[derive(Debug, Deserialize)]
struct PurchaseReply {
    id: String,
    rewards: RewardsReply,
}

#[derive(Debug, Deserialize)]
struct RewardsReply {
    award: Money,
    spend: Money,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorReply {
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BulkReply {
    results: Vec<BulkItemReply>,
}

#[derive(Debug, Deserialize)]
struct BulkItemReply {
    status: u16,
    purchase: Option<PurchaseReply>,
    error: Option<ErrorReply>,
}

/// A JSON number of a reply read back as the exact decimal it was written as.
pub(crate) fn decimal(value: &Value) -> rust_decimal::Decimal {
    value.to_string().parse().unwrap_or_default()
}

fn error_code(status: u16, body: &[u8]) -> (u16, String) {
    let reply: ErrorReply = serde_json::from_slice(body).unwrap_or_default();
    (status, reply.error.unwrap_or_default())
}

/// A purchase body, serialised directly: ids and references are plain ASCII codes. Three
/// itemised lines, as a till sends them.
fn purchase_body(contact: &str, reference: &str, spend: bool) -> String {
    let (total, lines) = if spend { (10, [4, 3, 3]) } else { (25, [8, 7, 10]) };
    let spend_request = if spend {
        r#","spend_request":{"amount":1,"restrict_fully_covered":false}"#
    } else {
        ""
    };
    let [coffee, cake, juice] = lines;
    format!(
        r#"{{"contact":{{"id":"{contact}"}},"reference_number":"{reference}","transaction_amounts":{{"total":{total}}},"products":[{{"product_sku":"BENCH-COFFEE","quantity":2,"total_amount":{coffee}}},{{"product_sku":"BENCH-CAKE","product_family":"BENCH-BAKERY","quantity":1,"total_amount":{cake}}},{{"product_sku":"BENCH-JUICE","quantity":1,"total_amount":{juice}}}]{spend_request}}}"#
    )
}

/// One terminal: requests back to back until the deadline.
#[allow(clippy::too_many_arguments)]
async fn terminal(
    number: usize,
    endpoint: Endpoint,
    scenario: Scenario,
    contacts: Arc<Vec<setup::BenchContact>>,
    picker: Picker,
    mix: Arc<Vec<(Operation, u32)>>,
    batch_size: usize,
    run: String,
    recorder: Arc<Recorder>,
    deadline: Instant,
) -> TerminalResult {
    let mut connection = Connection::new(endpoint);
    // Held across awaits, so a Send generator seeded from the thread's.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_rng(&mut rand::rng());
    let mut result = TerminalResult::new();
    let total_weight: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut sequence = 0u64;
    let mut reference = || {
        sequence += 1;
        format!("bench-{run}-{number}-{sequence}")
    };
    while Instant::now() < deadline {
        let operation = match scenario {
            Scenario::Award
            | Scenario::Bulk
            | Scenario::Transfer
            | Scenario::Redeem
            | Scenario::Locations
            | Scenario::Orders => Operation::Award,
            Scenario::Spend => Operation::Spend,
            Scenario::Baseline => Operation::Read,
            Scenario::Mixed => {
                let mut roll = rng.random_range(0..total_weight);
                let mut chosen = Operation::Award;
                for (operation, weight) in mix.iter() {
                    if roll < *weight {
                        chosen = *operation;
                        break;
                    }
                    roll -= weight;
                }
                chosen
            }
        };
        let contact = picker.pick(&mut rng).min(contacts.len().saturating_sub(1));
        let contact_id = contacts.get(contact).map(|c| c.id.as_str()).unwrap_or_default();
        let post = |body: String| Some(Bytes::from(body));
        let (method, path, body, items): (Method, Cow<'static, str>, Option<Bytes>, u64) = match (scenario, operation) {
            (Scenario::Baseline, _) => (Method::GET, "/health".into(), None, 0),
            (Scenario::Bulk, _) => {
                let mut purchases = String::with_capacity(batch_size * 160 + 16);
                purchases.push_str(r#"{"purchases":["#);
                for item in 0..batch_size {
                    if item > 0 {
                        purchases.push(',');
                    }
                    purchases.push_str(&purchase_body(contact_id, &reference(), false));
                }
                purchases.push_str("]}");
                (
                    Method::POST,
                    "/backoffice/v2/purchases/bulk".into(),
                    post(purchases),
                    batch_size as u64,
                )
            }
            (_, Operation::Award) => (
                Method::POST,
                "/backoffice/v2/purchases".into(),
                post(purchase_body(contact_id, &reference(), false)),
                1,
            ),
            (_, Operation::Spend) => (
                Method::POST,
                "/backoffice/v2/purchases".into(),
                post(purchase_body(contact_id, &reference(), true)),
                1,
            ),
            (_, Operation::Cancel) => match result.acknowledged.last() {
                Some(last) => (
                    Method::POST,
                    format!("/backoffice/v2/purchases/{}/cancel", last.purchase_id).into(),
                    post("{}".to_string()),
                    0,
                ),
                None => (
                    Method::POST,
                    "/backoffice/v2/purchases".into(),
                    post(purchase_body(contact_id, &reference(), false)),
                    1,
                ),
            },
            (_, Operation::Read) => (
                Method::GET,
                format!("/backoffice/v2/wallets/{}", contacts[contact].wallet_id).into(),
                None,
                0,
            ),
        };
        let sent = Instant::now();
        let outcome = connection.send(method, &path, body).await;
        result.sent(sent.elapsed(), &recorder);
        match outcome {
            Err(error) => *result.errors.entry((0, error.chars().take(60).collect())).or_default() += 1,
            Ok((status, reply)) => match (scenario, status) {
                (Scenario::Bulk, 200) => match serde_json::from_slice::<BulkReply>(&reply) {
                    Ok(bulk) => {
                        for item in bulk.results {
                            match (item.status, item.purchase) {
                                (201, Some(purchase)) => {
                                    result.purchases += 1;
                                    result.acknowledged.push(acknowledged(contact, purchase));
                                }
                                (status, _) => {
                                    let code = item.error.and_then(|e| e.error).unwrap_or_default();
                                    *result.errors.entry((status, code)).or_default() += 1;
                                }
                            }
                        }
                    }
                    Err(_) => *result.errors.entry((200, "unreadable bulk reply".into())).or_default() += 1,
                },
                (_, 201) if items == 1 => match serde_json::from_slice::<PurchaseReply>(&reply) {
                    Ok(purchase) => {
                        result.purchases += 1;
                        result.acknowledged.push(acknowledged(contact, purchase));
                    }
                    Err(_) => {
                        *result
                            .errors
                            .entry((201, "unreadable purchase reply".into()))
                            .or_default() += 1
                    }
                },
                (_, 200) => {
                    if path.ends_with("/cancel") {
                        result.acknowledged.pop();
                    }
                }
                _ => *result.errors.entry(error_code(status, &reply)).or_default() += 1,
            },
        }
    }
    result
}

fn acknowledged(contact: usize, purchase: PurchaseReply) -> Acknowledged {
    Acknowledged {
        contact,
        purchase_id: purchase.id,
        award: purchase.rewards.award.0,
        spend: purchase.rewards.spend.0,
    }
}

/// Runs the benchmark; the exit code is non-zero when the correctness check fails.
pub fn run(args: BenchArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::ensure!(args.terminals > 0, "--terminals must be at least 1");
    anyhow::ensure!(args.contacts > 0, "--contacts must be at least 1");
    anyhow::ensure!(args.batch_size > 0, "--batch-size must be at least 1");
    let mix = Arc::new(parse_mix(&args.mix)?);
    let picker = match (args.zipf, args.hot_contacts) {
        (Some(exponent), _) => Picker::Zipf(
            rand_distr::Zipf::new(args.contacts as f64, exponent).map_err(|e| anyhow::anyhow!("--zipf: {e}"))?,
        ),
        (None, Some(hot)) => {
            anyhow::ensure!(
                hot > 0 && (0.0..=100.0).contains(&args.hot_percent),
                "--hot-contacts > 0 and --hot-percent 0..100"
            );
            Picker::Hot {
                contacts: args.contacts,
                hot: hot.min(args.contacts),
                hot_share: args.hot_percent / 100.0,
            }
        }
        (None, None) => Picker::Uniform(args.contacts),
    };
    let spawned = if args.spawn { Some(setup::spawn_server()?) } else { None };
    let target = match &spawned {
        Some(server) => Target {
            base: server.base.clone(),
            key: server.key.clone(),
        },
        None => Target {
            base: args
                .target
                .clone()
                .ok_or_else(|| anyhow::anyhow!("--target is required without --spawn"))?
                .trim_end_matches('/')
                .to_string(),
            key: args
                .secret_key
                .clone()
                .ok_or_else(|| anyhow::anyhow!("--secret-key is required without --spawn"))?,
        },
    };
    let endpoint = Endpoint::new(&target.base, &target.key)?;
    let target = Arc::new(target);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if matches!(args.scenario, Scenario::Transfer | Scenario::Redeem) {
        let outcome = runtime.block_on(run_money(&args, &target, endpoint, picker))?;
        return finish(&args, runtime, spawned, outcome);
    }
    if matches!(args.scenario, Scenario::Locations | Scenario::Orders) {
        let outcome = runtime.block_on(run_commerce(&args, &target, endpoint, picker))?;
        return finish(&args, runtime, spawned, outcome);
    }
    let outcome = runtime.block_on(async {
        let contacts = if args.scenario == Scenario::Baseline {
            Vec::new()
        } else {
            let funded = matches!(args.scenario, Scenario::Spend | Scenario::Mixed);
            setup::prepare(&target, args.contacts, funded, args.offers, !args.json).await?
        };
        let contacts = Arc::new(contacts);
        let run_id = format!("{:x}", rand::random::<u32>());
        let recorder = Arc::new(Recorder {
            started: Instant::now(),
            seconds: Mutex::new(Vec::new()),
        });
        let deadline = Instant::now() + Duration::from_secs(args.duration_s);
        let progress = report::live(args.duration_s, !args.json, recorder.clone());
        let tasks: Vec<_> = (0..args.terminals)
            .map(|number| {
                tokio::spawn(terminal(
                    number,
                    endpoint.clone(),
                    args.scenario,
                    contacts.clone(),
                    picker.clone(),
                    mix.clone(),
                    args.batch_size,
                    run_id.clone(),
                    recorder.clone(),
                    deadline,
                ))
            })
            .collect();
        let mut results = Vec::with_capacity(tasks.len());
        for task in tasks {
            results.push(task.await?);
        }
        let elapsed = recorder.started.elapsed();
        progress.abort();
        let acknowledged: Vec<Acknowledged> = results.iter().flat_map(|r| r.acknowledged.iter().cloned()).collect();
        let check = if args.scenario == Scenario::Baseline {
            None
        } else {
            Some(setup::check(&target, &contacts, &acknowledged).await?)
        };
        let (seconds, windows) = {
            let recorded = recorder.seconds.lock();
            let seconds = recorded
                .iter()
                .map(|(second, histogram)| Second::from(*second, histogram))
                .collect();
            (seconds, report::Window::from_seconds(&recorded))
        };
        anyhow::Ok(summarise(&args, results, elapsed, check, seconds, windows))
    })?;
    finish(&args, runtime, spawned, outcome)
}

/// The `transfer` and `redeem` scenarios: set-up, the timed part, the money check.
async fn run_money(
    args: &BenchArgs,
    target: &Arc<Target>,
    endpoint: Endpoint,
    picker: Picker,
) -> anyhow::Result<Report> {
    let visible = !args.json;
    // The 10% offer (and the funding offer, for transfers) come with the usual set-up.
    setup::prepare(target, 0, false, 1, visible).await?;
    let holders = money::prepare_holders(target, args.contacts.max(2), visible).await?;
    let codes = if args.scenario == Scenario::Redeem {
        money::prepare_passes(target, args.passes, visible).await?
    } else {
        setup::fund(target, &money::contacts(&holders), visible).await?;
        Vec::new()
    };
    let before = money::balances(target, &holders).await?;
    let (holders, codes) = (Arc::new(holders), Arc::new(codes));
    let next_pass = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let recorder = Arc::new(Recorder {
        started: Instant::now(),
        seconds: Mutex::new(Vec::new()),
    });
    let deadline = Instant::now() + Duration::from_secs(args.duration_s);
    let progress = report::live(args.duration_s, visible, recorder.clone());
    let tasks: Vec<_> = (0..args.terminals)
        .map(|_| {
            tokio::spawn(money::terminal(
                endpoint.clone(),
                args.scenario,
                holders.clone(),
                codes.clone(),
                next_pass.clone(),
                picker.clone(),
                recorder.clone(),
                deadline,
            ))
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    let mut ledger = money::MoneyLedger::default();
    for task in tasks {
        let (result, part) = task.await?;
        results.push(result);
        ledger.transfers.extend(part.transfers);
        ledger.redemptions.extend(part.redemptions);
        ledger.refused_again += part.refused_again;
    }
    let elapsed = recorder.started.elapsed();
    progress.abort();
    let check = money::check(target, &holders, &before, &ledger).await?;
    let (seconds, windows) = {
        let recorded = recorder.seconds.lock();
        let seconds = recorded
            .iter()
            .map(|(second, histogram)| Second::from(*second, histogram))
            .collect();
        (seconds, report::Window::from_seconds(&recorded))
    };
    Ok(summarise(args, results, elapsed, Some(check), seconds, windows))
}

/// The `locations` and `orders` scenarios: set-up, the timed part, their check.
async fn run_commerce(
    args: &BenchArgs,
    target: &Arc<Target>,
    endpoint: Endpoint,
    picker: Picker,
) -> anyhow::Result<Report> {
    let visible = !args.json;
    let prepared = Arc::new(commerce::prepare(args.scenario, target, args.venues, args.contacts, visible).await?);
    let recorder = Arc::new(Recorder {
        started: Instant::now(),
        seconds: Mutex::new(Vec::new()),
    });
    let deadline = Instant::now() + Duration::from_secs(args.duration_s);
    let progress = report::live(args.duration_s, visible, recorder.clone());
    let tasks: Vec<_> = (0..args.terminals)
        .map(|_| {
            tokio::spawn(commerce::terminal(
                endpoint.clone(),
                prepared.clone(),
                picker.clone(),
                recorder.clone(),
                deadline,
            ))
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    let mut placed = Vec::new();
    for task in tasks {
        let (result, orders) = task.await?;
        results.push(result);
        placed.extend(orders);
    }
    let elapsed = recorder.started.elapsed();
    progress.abort();
    let check = commerce::check(target, &prepared, &placed).await?;
    let (seconds, windows) = {
        let recorded = recorder.seconds.lock();
        let seconds = recorded
            .iter()
            .map(|(second, histogram)| Second::from(*second, histogram))
            .collect();
        (seconds, report::Window::from_seconds(&recorded))
    };
    Ok(summarise(args, results, elapsed, Some(check), seconds, windows))
}

/// Stops a spawned server, writes the plot and the report, and answers the exit code.
fn finish(
    args: &BenchArgs,
    runtime: tokio::runtime::Runtime,
    spawned: Option<setup::SpawnedServer>,
    outcome: Report,
) -> anyhow::Result<std::process::ExitCode> {
    if let Some(server) = spawned {
        runtime.block_on(server.stop());
    }
    if let Some(path) = &args.plot {
        std::fs::write(path, report::svg(&outcome))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome.json())?);
    } else {
        print!("{}", outcome.table());
    }
    Ok(if outcome.correct.unwrap_or(true) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

fn summarise(
    args: &BenchArgs,
    results: Vec<TerminalResult>,
    elapsed: Duration,
    check: Option<Result<(), String>>,
    seconds: Vec<Second>,
    windows: Vec<report::Window>,
) -> Report {
    let mut latencies = new_histogram();
    let mut errors: HashMap<(u16, String), u64> = HashMap::new();
    let (mut requests, mut purchases) = (0, 0);
    for result in results {
        requests += result.requests;
        purchases += result.purchases;
        // Coordinated omission: a terminal waiting on a slow response did not send the
        // requests it would have; fill them in at its mean interval.
        let interval = (result.busy.as_micros() as u64)
            .checked_div(result.requests)
            .unwrap_or(1)
            .max(1);
        let corrected = result.latencies.clone_correct(interval);
        let _ = latencies.add(&corrected);
        for (key, count) in result.errors {
            *errors.entry(key).or_default() += count;
        }
    }
    let seconds_f = elapsed.as_secs_f64().max(0.001);
    let (correct, mismatch) = match check {
        None => (None, None),
        Some(Ok(())) => (Some(true), None),
        Some(Err(message)) => (Some(false), Some(message)),
    };
    Report {
        scenario: args.scenario,
        terminals: args.terminals,
        duration_s: seconds_f,
        requests,
        purchases,
        throughput_per_s: requests as f64 / seconds_f,
        purchases_per_s: purchases as f64 / seconds_f,
        latency_ms: report::Latency::from(&latencies),
        errors,
        correct,
        mismatch,
        seconds,
        windows,
    }
}
