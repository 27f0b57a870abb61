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
struct Api {
    base: String,
    metrics_base: String,
    client: reqwest::Client,
}

/// A running `rewards` child process.
struct Server {
    child: Child,
    api: Arc<Api>,
}

fn start_server(data_dir: &Path) -> Server {
    start_server_with(data_dir, &[])
}

fn start_server_with(data_dir: &Path, settings: &[(&str, &str)]) -> Server {
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
    fn kill_hard(mut self) {
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
    async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), reqwest::Error> {
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
            .unwrap_or_else(|| panic!("metric {name} in /metrics"))
    }

    async fn get(&self, path: &str) -> Value {
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
    contact: usize,
    reference: String,
    body: Value,
    response: Value,
}

async fn journal_lines(server: &Api, wallet_id: &str) -> Vec<Value> {
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
                    contact,
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
            Ok((status, reply)) if status == 503 || status == 429 => {
                let _ = reply;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok((status, reply)) => panic!("purchase answered {status}: {reply}"),
            Err(_) => return, // the server was killed
        }
    }
}

async fn check_everything_acknowledged_survived(server: &Api, contacts: &[Value], acked: &[Acked], cancels: &[String]) {
    let cancelled: std::collections::HashSet<&String> = cancels.iter().collect();
    let mut awards_by_wallet: HashMap<String, HashMap<String, usize>> = HashMap::new();
    for purchase in acked {
        let id = purchase.response["id"].as_str().unwrap();
        let stored = server.get(&format!("/backoffice/v2/purchases/{id}")).await;
        assert_eq!(stored["reference_number"], purchase.reference.as_str());
        assert_eq!(
            stored["rewards"], purchase.response["rewards"],
            "purchase {id} kept its outcome"
        );
        if cancelled.contains(&id.to_string()) {
            assert_eq!(stored["state"], "CANCELLED", "acknowledged cancel of {id} survived");
        }
        let wallet = contacts[purchase.contact]["wallet"]["id"].as_str().unwrap().to_string();
        awards_by_wallet.entry(wallet).or_default().insert(
            id.to_string(),
            usize::from(dec(&purchase.response["rewards"]["award"]) > Decimal::ZERO),
        );
    }
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
        let mut award_lines: HashMap<String, usize> = HashMap::new();
        for line in lines.iter().filter(|l| l["transaction_type"] == "AWARD") {
            *award_lines
                .entry(line["purchase"]["id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        for (purchase, expected) in awards_by_wallet.get(wallet_id).cloned().unwrap_or_default() {
            assert_eq!(
                award_lines.get(&purchase).copied().unwrap_or(0),
                expected,
                "purchase {purchase} awarded exactly once"
            );
        }
    }
    // A retry of acknowledged purchases after the crash returns the first outcome.
    for purchase in acked.iter().rev().take(20) {
        let (status, response) = server.post("/backoffice/v2/purchases", &purchase.body).await.unwrap();
        assert_eq!(status, 201);
        assert_eq!(response["id"], purchase.response["id"]);
        assert_eq!(response["rewards"], purchase.response["rewards"]);
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

/// Runs 16 clients against `server`, kills it with SIGKILL after `after`, and waits for
/// every client to see the connection go.
async fn load_then_kill(
    server: Server,
    cycle: usize,
    after: Duration,
    contacts: &Arc<Vec<Value>>,
    acknowledged: &Acknowledged,
) {
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
    for cycle in 0..5usize {
        let window_start = 50 + 300 * cycle as u64;
        let delay = rand::rng().random_range(window_start..window_start + 300);
        load_then_kill(server, cycle, Duration::from_millis(delay), &contacts, &acknowledged).await;
        server = start_server(dir.path());
        let (acked_now, cancels_now) = acknowledged.so_far().await;
        assert!(!acked_now.is_empty(), "cycle {cycle}: some purchases were acknowledged");
        eprintln!(
            "crash cycle {cycle}: killed after {delay} ms; {} purchases and {} cancels acknowledged so far",
            acked_now.len(),
            cancels_now.len()
        );
        check_everything_acknowledged_survived(&server.api, &contacts, &acked_now, &cancels_now).await;
    }
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
        load_then_kill(server, cycle, Duration::from_millis(1_500), &contacts, &acknowledged).await;
        // The next start replays what the deriver had not reached; the first restart keeps
        // the deriver lagging, the second runs it at full speed.
        let settings = if cycle == 0 { LAGGING_DERIVER } else { &[] };
        server = start_server_with(dir.path(), settings);
        let replayed = server.metric("rewards_recovered_log_records").await;
        eprintln!("lagging-deriver cycle {cycle}: the restart replayed {replayed} commit-log records");
        assert!(
            replayed >= 50.0,
            "the deriver lagged far behind at the kill, so the restart replays many records ({replayed})"
        );
        let (acked_now, cancels_now) = acknowledged.so_far().await;
        check_everything_acknowledged_survived(&server.api, &contacts, &acked_now, &cancels_now).await;
    }
    server.kill_hard();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_exits_cleanly() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut server = start_server(dir.path());
    let (status, contact) = server
        .post("/backoffice/v2/contacts", &json!({"first_name": "Term"}))
        .await
        .unwrap();
    assert_eq!(status, 201);
    server
        .post(
            "/backoffice/v2/reward_offers",
            &json!({"name": "5", "award": {"type": "FIXED", "value": 5}}),
        )
        .await
        .unwrap();
    let (status, purchase) = server
        .post(
            "/backoffice/v2/purchases",
            &json!({"contact": {"id": contact["id"]}, "reference_number": "T-1", "transaction_amounts": {"total": 1}}),
        )
        .await
        .unwrap();
    assert_eq!(status, 201);
    let pid = server.child.id();
    assert!(Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success());
    let mut exited = None;
    for _ in 0..200 {
        if let Some(status) = server.child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = exited.expect("the server exits after SIGTERM");
    assert!(status.success(), "graceful shutdown exits 0, got {status:?}");
    let restarted = start_server(dir.path());
    let stored = restarted
        .api
        .get(&format!(
            "/backoffice/v2/purchases/{}",
            purchase["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(stored["rewards"]["award"], purchase["rewards"]["award"]);
    restarted.kill_hard();
}
