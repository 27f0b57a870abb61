//! Crash tests: the real `rewards` binary as a child process, killed with SIGKILL while many
//! clients post purchases. Everything acknowledged must be there exactly once after restart.

use crate::helpers::{dec, NumberCompat, PUBLIC_KEY, SECRET_KEY};
use rand::Rng;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How clients reach a running server.
pub(crate) struct Api {
    pub(crate) base: String,
    metrics_base: String,
    pub(crate) client: reqwest::Client,
}

/// A running `rewards` child process.
pub(crate) struct Server {
    child: Child,
    pub(crate) api: Arc<Api>,
}

pub(crate) fn start_server(data_dir: &Path) -> Server {
    start_server_with(data_dir, &[])
}

pub(crate) fn start_server_with(data_dir: &Path, settings: &[(&str, &str)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rewards"));
    command.envs(settings.iter().copied());
    let mut child = command
        .arg("serve")
        .env("REWARDS__HTTP__BIND", "127.0.0.1:0")
        .env("REWARDS__HTTP__WORKERS", "2")
        .env("REWARDS__ACTORS__ARBITERS", "2")
        .env("REWARDS__STORAGE__DATA_DIR", data_dir)
        .env("REWARDS__STORAGE__CACHE_CAPACITY_BYTES", "16777216")
        .env("REWARDS__ACTORS__SNAPSHOT_EVERY_EVENTS", "5")
        .env("REWARDS__BOOTSTRAP__SECRET_API_KEY", SECRET_KEY)
        .env("REWARDS__BOOTSTRAP__PUBLIC_API_KEY", PUBLIC_KEY)
        .env("REWARDS__LOG__FILTER", "error")
        .env("REWARDS__METRICS__BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the rewards binary starts");
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        let mut metrics_port = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line.strip_prefix("metrics on port ") {
                metrics_port = port.trim().parse::<u16>().ok();
            }
            if let (false, Some(port)) = (sent, line.strip_prefix("listening on port ")) {
                let _ = sender.send((port.trim().parse::<u16>().unwrap(), metrics_port.unwrap_or(0)));
                sent = true;
            }
        }
    });
    let (port, metrics_port) = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("the server reports its port");
    let api = Api {
        base: format!("http://127.0.0.1:{port}"),
        metrics_base: format!("http://127.0.0.1:{metrics_port}"),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    };
    Server {
        child,
        api: Arc::new(api),
    }
}

impl Server {
    pub(crate) fn kill_hard(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    /// A failing test must not leave its server running (it would hold the test's output
    /// pipe open).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::ops::Deref for Server {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Api {
    pub(crate) async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), reqwest::Error> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("api_key", SECRET_KEY)
            .json(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// A gauge or counter from `/metrics`.
    async fn metric(&self, name: &str) -> f64 {
        self.metric_if_recorded(name)
            .await
            .unwrap_or_else(|| panic!("metric {name} in /metrics"))
    }

    /// A gauge or counter from `/metrics`, `None` until something recorded it.
    pub(crate) async fn metric_if_recorded(&self, name: &str) -> Option<f64> {
        let text = self
            .client
            .get(format!("{}/metrics", self.metrics_base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    pub(crate) fn metrics_url(&self) -> String {
        format!("{}/metrics", self.metrics_base)
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("api_key", SECRET_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }
}

#[derive(Clone, Debug)]
struct Acked {
    reference: String,
    body: Value,
    response: Value,
}

pub(crate) async fn journal_lines(server: &Api, wallet_id: &str) -> Vec<Value> {
    let mut lines = Vec::new();
    for page in 1.. {
        let reply = server
            .get(&format!(
                "/backoffice/v2/wallets/{wallet_id}/journals?order=ASC&size=100&page={page}"
            ))
            .await;
        lines.extend(reply["content"].as_array().unwrap().iter().cloned());
        if !reply["paging"]["has_more"].as_bool().unwrap() {
            break;
        }
    }
    lines
}

/// Posts purchases (and now and then cancels an acknowledged one) until the server dies.
async fn client_loop(
    server: Arc<Api>,
    task: usize,
    cycle: usize,
    contacts: Arc<Vec<Value>>,
    acked: Arc<Mutex<Vec<Acked>>>,
    cancels: Arc<Mutex<Vec<String>>>,
) {
    for n in 0.. {
        let contact = (task * 7 + n) % contacts.len();
        let reference = format!("K{cycle}-T{task}-N{n}");
        let (cents, spend) = {
            let mut rng = rand::rng();
            (rng.random_range(100..20_000u32), rng.random_bool(0.3))
        };
        let total = format!("{}.{:02}", cents / 100, cents % 100);
        let mut body = json!({
            "contact": {"id": contacts[contact]["id"]},
            "reference_number": reference,
            "transaction_amounts": {"total": serde_json::Number::from_string_unchecked_compat(&total)},
        });
        if spend {
            body["spend_request"] = json!({"amount": 1, "restrict_fully_covered": false});
        }
        match server.post("/backoffice/v2/purchases", &body).await {
            Ok((201, response)) => {
                let id = response["id"].as_str().unwrap().to_string();
                acked.lock().await.push(Acked {
                    reference,
                    body,
                    response,
                });
                if n % 11 == 5 {
                    match server
                        .post(&format!("/backoffice/v2/purchases/{id}/cancel"), &json!({}))
                        .await
                    {
                        Ok((200, _)) => cancels.lock().await.push(id),
                        Ok((status, reply)) => panic!("cancel answered {status}: {reply}"),
                        Err(_) => return,
                    }
                }
            }
            // Back-pressure is an answer the API allows; a server that is up answers nothing
            // else but 201 (a 503 here is a failure: storage refused while the server ran).
            Ok((429, _)) => tokio::time::sleep(Duration::from_millis(5)).await,
            Ok((status, reply)) => panic!("purchase answered {status}: {reply}"),
            Err(_) => return, // the server was killed
        }
    }
}

async fn check_everything_acknowledged_survived(server: &Api, contacts: &[Value], acked: &[Acked], cancels: &[String]) {
    let cancelled: std::collections::HashSet<&String> = cancels.iter().collect();
    // Every journal line of every wallet, summed per purchase and transaction type.
    let mut lines_by_purchase: HashMap<String, HashMap<String, Decimal>> = HashMap::new();
    for contact in contacts {
        let wallet_id = contact["wallet"]["id"].as_str().unwrap();
        let lines = journal_lines(server, wallet_id).await;
        let sum: Decimal = lines
            .iter()
            .map(|l| {
                if l["type"] == "CREDIT" {
                    dec(&l["amount"])
                } else {
                    -dec(&l["amount"])
                }
            })
            .sum();
        let wallet = server.get(&format!("/backoffice/v2/wallets/{wallet_id}")).await;
        assert_eq!(
            dec(&wallet["total_balance"]),
            sum,
            "balance equals journal sum for {wallet_id}"
        );
        assert!(sum >= Decimal::ZERO);
        for line in &lines {
            if let Some(purchase) = line["purchase"]["id"].as_str() {
                *lines_by_purchase
                    .entry(purchase.to_string())
                    .or_default()
                    .entry(line["transaction_type"].as_str().unwrap().to_string())
                    .or_default() += dec(&line["amount"]);
            }
        }
    }
    let none = HashMap::new();
    for purchase in acked {
        let id = purchase.response["id"].as_str().unwrap();
        let stored = server.get(&format!("/backoffice/v2/purchases/{id}")).await;
        assert_eq!(stored["reference_number"], purchase.reference.as_str());
        assert_eq!(
            stored["rewards"], purchase.response["rewards"],
            "purchase {id} kept its outcome"
        );
        let is_cancelled = cancelled.contains(&id.to_string());
        if is_cancelled {
            assert_eq!(stored["state"], "CANCELLED", "acknowledged cancel of {id} survived");
        }
        // Its journal lines, by type: the award and the spend exactly once; a cancel's
        // reversals exactly once (the spend given back whole, at most the award taken back),
        // and none for a purchase not cancelled.
        let lines = lines_by_purchase.get(id).unwrap_or(&none);
        let total = |kind: &str| lines.get(kind).copied().unwrap_or(Decimal::ZERO);
        let (award, spend) = (
            dec(&purchase.response["rewards"]["award"]),
            dec(&purchase.response["rewards"]["spend"]),
        );
        assert_eq!(total("AWARD"), award, "purchase {id}: AWARD lines");
        assert_eq!(total("SPEND"), spend, "purchase {id}: SPEND lines");
        if is_cancelled {
            assert_eq!(total("SPEND_REVERSAL"), spend, "purchase {id}: SPEND_REVERSAL lines");
            assert!(
                total("AWARD_REVERSAL") <= award,
                "purchase {id}: AWARD_REVERSAL lines {} above the award {award}",
                total("AWARD_REVERSAL")
            );
        } else if stored["state"] != "CANCELLED" {
            assert_eq!(
                total("SPEND_REVERSAL"),
                Decimal::ZERO,
                "purchase {id} was not cancelled"
            );
            assert_eq!(
                total("AWARD_REVERSAL"),
                Decimal::ZERO,
                "purchase {id} was not cancelled"
            );
        }
    }
    // A retry of every acknowledged purchase after the crash returns the first outcome.
    for chunk in acked.chunks(32) {
        let retries = chunk.iter().map(|purchase| async move {
            let (status, response) = server.post("/backoffice/v2/purchases", &purchase.body).await.unwrap();
            assert_eq!(status, 201, "{response}");
            assert_eq!(response["id"], purchase.response["id"]);
            assert_eq!(response["rewards"], purchase.response["rewards"]);
        });
        futures_util::future::join_all(retries).await;
    }
}

/// A 10% offer and `count` contacts with codes `{prefix}-N`.
async fn seed(server: &Api, prefix: &str, count: usize) -> Arc<Vec<Value>> {
    let (status, _) = server
        .post(
            "/backoffice/v2/reward_offers",
            &json!({"name": "10%", "award": {"type": "PERCENTAGE", "value": 10}}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201);
    let mut contacts = Vec::new();
    for n in 0..count {
        let (status, contact) = server
            .post(
                "/backoffice/v2/contacts",
                &json!({"first_name": "Crash", "code": format!("{prefix}-{n}")}),
            )
            .await
            .unwrap();
        assert_eq!(status, 201);
        contacts.push(contact);
    }
    Arc::new(contacts)
}

/// What clients had acknowledged to them, across crash cycles.
#[derive(Default)]
struct Acknowledged {
    purchases: Arc<Mutex<Vec<Acked>>>,
    cancels: Arc<Mutex<Vec<String>>>,
}

impl Acknowledged {
    async fn so_far(&self) -> (Vec<Acked>, Vec<String>) {
        (self.purchases.lock().await.clone(), self.cancels.lock().await.clone())
    }
}

/// Runs 16 clients against `server`, kills it with SIGKILL `after` its first acknowledgement
/// of this cycle (at most 20 s of waiting for one) and, when `commits_min` is given, after
/// the server has made that many group commits this cycle (at most 30 s), and waits for
/// every client to see the connection go.
async fn load_then_kill(
    server: Server,
    cycle: usize,
    after: Duration,
    commits_min: Option<f64>,
    contacts: &Arc<Vec<Value>>,
    acknowledged: &Acknowledged,
) {
    let commits_before = match commits_min {
        Some(_) => server
            .metric_if_recorded("rewards_journal_flush_seconds_count")
            .await
            .unwrap_or(0.0),
        None => 0.0,
    };
    let tasks: Vec<_> = (0..16)
        .map(|task| {
            tokio::spawn(client_loop(
                server.api.clone(),
                task,
                cycle,
                contacts.clone(),
                acknowledged.purchases.clone(),
                acknowledged.cancels.clone(),
            ))
        })
        .collect();
    // The restarted server must serve: wait (bounded) for this cycle's first acknowledgement,
    // then let the load run `after` more before the kill.
    let before = acknowledged.purchases.lock().await.len();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while acknowledged.purchases.lock().await.len() == before && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if let Some(commits) = commits_min {
        // However the clients' purchases are batched into group commits (larger under a
        // loaded machine), the log holds at least this many records of this cycle.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while server
            .metric_if_recorded("rewards_journal_flush_seconds_count")
            .await
            .unwrap_or(0.0)
            < commits_before + commits
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tokio::time::sleep(after).await;
    server.kill_hard();
    for task in tasks {
        task.await.expect("a client saw only answers the API allows");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_acknowledged_is_lost_when_the_process_is_killed() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut server = start_server(dir.path());
    let contacts = seed(&server, "K", 12).await;
    let acknowledged = Acknowledged::default();
    // A different, random kill moment each cycle: somewhere in its own 300 ms window.
    let mut acked_before = 0;
    for cycle in 0..5usize {
        let window_start = 50 + 300 * cycle as u64;
        let delay = rand::rng().random_range(window_start..window_start + 300);
        load_then_kill(
            server,
            cycle,
            Duration::from_millis(delay),
            None,
            &contacts,
            &acknowledged,
        )
        .await;
        server = start_server(dir.path());
        let (acked_now, cancels_now) = acknowledged.so_far().await;
        assert!(
            acked_now.len() > acked_before,
            "cycle {cycle}: new purchases were acknowledged ({} after {acked_before})",
            acked_now.len()
        );
        acked_before = acked_now.len();
        eprintln!(
            "crash cycle {cycle}: killed after {delay} ms; {} purchases and {} cancels acknowledged so far",
            acked_now.len(),
            cancels_now.len()
        );
        check_everything_acknowledged_survived(&server.api, &contacts, &acked_now, &cancels_now).await;
    }
    let before = observe_wallets(&server.api, &contacts).await;
    server.kill_hard();
    backup_restore_and_compare(dir.path(), &contacts, &before).await;
}

/// Balances and journals of every contact's wallet, as the API shows them.
async fn observe_wallets(server: &Api, contacts: &[Value]) -> Vec<Value> {
    let mut seen = Vec::new();
    for contact in contacts {
        let wallet_id = contact["wallet"]["id"].as_str().unwrap();
        seen.push(server.get(&format!("/backoffice/v2/wallets/{wallet_id}")).await);
        seen.push(Value::Array(journal_lines(server, wallet_id).await));
    }
    seen
}

/// `rewards admin` on a data dir, returning whether it succeeded and what it printed.
pub(crate) fn admin(data_dir: &Path, arguments: &[&std::ffi::OsStr]) -> (bool, Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rewards"))
        .arg("admin")
        .args(arguments)
        .env("REWARDS__STORAGE__DATA_DIR", data_dir)
        .env("REWARDS__STORAGE__CACHE_CAPACITY_BYTES", "16777216")
        .env("REWARDS__LOG__FILTER", "error")
        .output()
        .expect("rewards admin runs");
    (
        output.status.success(),
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A data dir that went through kill -9 cycles: `verify` is clean, a backup restores to a
/// new dir that `verify` also finds clean, and a server on it shows the same balances and
/// journals.
async fn backup_restore_and_compare(data_dir: &Path, contacts: &[Value], before: &[Value]) {
    let (ok, report, stderr) = admin(data_dir, &["verify".as_ref()]);
    assert!(ok, "verify after the kills: {report} {stderr}");
    assert!(report["purchases"].as_u64().unwrap() > 0, "{report}");
    let scratch = tempfile::TempDir::new().unwrap();
    let file = scratch.path().join("crash.backup");
    let (ok, summary, stderr) = admin(data_dir, &["backup".as_ref(), "--out".as_ref(), file.as_os_str()]);
    assert!(ok, "backup: {summary} {stderr}");
    let restored = scratch.path().join("restored");
    let (ok, restore, stderr) = admin(
        data_dir,
        &[
            "restore".as_ref(),
            "--from".as_ref(),
            file.as_os_str(),
            "--data-dir".as_ref(),
            restored.as_os_str(),
        ],
    );
    assert!(ok, "restore: {restore} {stderr}");
    assert_eq!(restore["records"], summary["records"]);
    assert_eq!(restore["sha256"], summary["sha256"]);
    let (ok, report, stderr) = admin(&restored, &["verify".as_ref()]);
    assert!(ok, "verify of the restored dir: {report} {stderr}");
    let server = start_server(&restored);
    assert_eq!(observe_wallets(&server.api, contacts).await, before);
    server.kill_hard();
}

/// A deriver that writes rounds of a few keys and then rests, so the commit log runs far ahead of
/// fjall; small log segments so several are written and trimmed.
const LAGGING_DERIVER: &[(&str, &str)] = &[
    ("REWARDS__JOURNAL__DERIVE_BATCH_WRITES_MAX", "8"),
    ("REWARDS__JOURNAL__DERIVE_PAUSE_MS", "20"),
    ("REWARDS__JOURNAL__LOG_SEGMENT_BYTES_MAX", "65536"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_while_the_deriver_lags_loses_nothing_and_applies_nothing_twice() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut server = start_server_with(dir.path(), LAGGING_DERIVER);
    let contacts = seed(&server, "L", 6).await;
    let acknowledged = Acknowledged::default();
    for cycle in 0..2usize {
        // At least 300 group commits this cycle, then a random moment within a second: the
        // lagging deriver (8 writes, then 20 ms of rest) cannot have derived most of them.
        let delay = rand::rng().random_range(0..1_000u64);
        load_then_kill(
            server,
            cycle,
            Duration::from_millis(delay),
            Some(300.0),
            &contacts,
            &acknowledged,
        )
        .await;
        // The next start replays what the deriver had not reached; the first restart keeps
        // the deriver lagging, the second runs it at full speed.
        let settings = if cycle == 0 { LAGGING_DERIVER } else { &[] };
        server = start_server_with(dir.path(), settings);
        let replayed = server.metric("rewards_recovered_log_records").await;
        eprintln!("lagging-deriver cycle {cycle}: the restart replayed {replayed} commit-log records");
        assert!(
            replayed >= 100.0,
            "the deriver lagged far behind at the kill, so the restart replays many records ({replayed})"
        );
        let (acked_now, cancels_now) = acknowledged.so_far().await;
        check_everything_acknowledged_survived(&server.api, &contacts, &acked_now, &cancels_now).await;
    }
    server.kill_hard();
}

/// SIGTERM with purchases in flight: the server stops taking new ones, answers those it
/// took, exits 0, and every purchase it acknowledged is there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_drains_in_flight_requests_and_exits_cleanly() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut server = start_server(dir.path());
    let contacts = seed(&server, "T", 8).await;
    let acked: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let tasks: Vec<_> = (0..16)
        .map(|task| {
            let (api, contacts, acked) = (server.api.clone(), contacts.clone(), acked.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let body = json!({
                        "contact": {"id": contacts[(task + n) % contacts.len()]["id"]},
                        "reference_number": format!("T{task}-{n}"),
                        "transaction_amounts": {"total": 10},
                    });
                    match api.post("/backoffice/v2/purchases", &body).await {
                        Ok((201, response)) => acked.lock().await.push((format!("T{task}-{n}"), response)),
                        // Refused while shutting down: allowed, and nothing was done.
                        Ok((503, reply)) => {
                            assert_eq!(reply["error"], "CRM.EXCEPTIONS.SERVICEUNAVAILABLEEXCEPTION", "{reply}");
                        }
                        Ok((status, reply)) => panic!("purchase answered {status} during shutdown: {reply}"),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let acked_at_signal = acked.lock().await.len();
    assert!(acked_at_signal > 0, "requests were flowing when the signal came");
    let pid = server.child.id();
    assert!(Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success());
    let mut exited = None;
    for _ in 0..400 {
        if let Some(status) = server.child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let status = exited.expect("the server exits after SIGTERM");
    assert!(status.success(), "graceful shutdown exits 0, got {status:?}");
    for task in tasks {
        task.await.expect("clients saw only 201, 503 or a closed connection");
    }
    let acked = acked.lock().await.clone();
    eprintln!(
        "SIGTERM: {acked_at_signal} purchases acknowledged before the signal, {} in all",
        acked.len()
    );
    server = start_server(dir.path());
    for (reference, response) in &acked {
        let stored = server
            .api
            .get(&format!(
                "/backoffice/v2/purchases/{}",
                response["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(stored["reference_number"], reference.as_str());
        assert_eq!(stored["rewards"], response["rewards"]);
    }
    server.kill_hard();
}
