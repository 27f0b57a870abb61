//! Spawns the real application (port 0, temporary data dir, manual clock) in its own thread
//! and actix system, and gives tests typed helpers to call it.

use actix_web::dev::ServerHandle;
use reqwest::StatusCode;
use rewards_engine::{Engine, ManualClock};
use rewards_server::{Application, Settings};
use serde_json::{json, Value};

use std::sync::Arc;
use tempfile::TempDir;

pub const SECRET_KEY: &str = "sk_live_secret_key_for_the_suite_0001";
pub const PUBLIC_KEY: &str = "pk_live_public_key_for_the_suite_0001";
pub const ADMIN_EMAIL: &str = "admin@suite.example";
pub const ADMIN_PASSWORD: &str = "suite-admin-password-1";
/// 2027-01-15, a fixed start for the manual clock.
pub const START_S: i64 = 1_800_000_000;
pub const DAY_S: i64 = 86_400;

pub struct TestApp {
    pub address: String,
    /// The `/metrics` listener.
    pub metrics_address: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub engine: Engine,
    pub data_dir: Arc<TempDir>,
    handle: ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn test_settings(data_dir: &std::path::Path, overrides: &[(&str, &str)]) -> Settings {
    let dir = data_dir.to_string_lossy().to_string();
    let mut pairs: Vec<(&str, &str)> = vec![
        ("REWARDS__HTTP__BIND", "127.0.0.1:0"),
        ("REWARDS__HTTP__WORKERS", "2"),
        ("REWARDS__ACTORS__ARBITERS", "2"),
        ("REWARDS__STORAGE__DATA_DIR", &dir),
        ("REWARDS__STORAGE__CACHE_CAPACITY_BYTES", "16777216"),
        ("REWARDS__STORAGE__MEMTABLE_BYTES_MAX", "4194304"),
        ("REWARDS__STORAGE__WORKER_THREADS", "1"),
        ("REWARDS__PAYMENTS__TEST_GATEWAY_LIVE", "true"),
        ("REWARDS__BOOTSTRAP__SECRET_API_KEY", SECRET_KEY),
        ("REWARDS__BOOTSTRAP__PUBLIC_API_KEY", PUBLIC_KEY),
        ("REWARDS__BOOTSTRAP__ADMIN_EMAIL", ADMIN_EMAIL),
        ("REWARDS__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("REWARDS__LOG__FILTER", "warn"),
        ("REWARDS__METRICS__BIND", "127.0.0.1:0"),
    ];
    pairs.extend_from_slice(overrides);
    Settings::load_from_pairs(None, &pairs).expect("test settings load")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Arc::new(TempDir::new().unwrap()), ManualClock::new(START_S), &[]).await
}

pub async fn spawn_app_with(data_dir: Arc<TempDir>, clock: ManualClock, overrides: &[(&str, &str)]) -> TestApp {
    spawn_app_hooked(data_dir, clock, overrides, None).await
}

/// As `spawn_app_with`, with a hook on the store's durability points.
pub async fn spawn_app_hooked(
    data_dir: Arc<TempDir>,
    clock: ManualClock,
    overrides: &[(&str, &str)],
    hook: Option<rewards_engine::storage::durability::Hook>,
) -> TestApp {
    let settings = test_settings(data_dir.path(), overrides);
    let (sender, receiver) = std::sync::mpsc::channel();
    let app_clock = clock.clone();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let application = Application::build_with_hook(settings, Arc::new(app_clock), hook)
                .await
                .expect("application builds");
            sender
                .send((
                    application.port(),
                    application.metrics_port(),
                    application.handle(),
                    application.engine(),
                ))
                .unwrap();
            application.run_until_stopped().await.expect("server runs");
        })
    });
    let (port, metrics_port, handle, engine) =
        tokio::task::spawn_blocking(move || receiver.recv().expect("application starts"))
            .await
            .unwrap();
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        metrics_address: format!("http://127.0.0.1:{metrics_port}"),
        client: reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap(),
        clock,
        engine,
        data_dir,
        handle,
        thread: Some(thread),
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<String>,
    /// False when the server closes the connection after this reply (`connection: close`).
    pub keeps_alive: bool,
}

impl Reply {
    pub fn error_code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

/// A decimal from a JSON number, exactly.
pub fn dec(value: &Value) -> rust_decimal::Decimal {
    value
        .to_string()
        .parse()
        .unwrap_or_else(|_| panic!("{value} is not a decimal"))
}

impl TestApp {
    /// Stops the server gracefully and returns its data dir, for a restart.
    pub async fn stop(mut self) -> (Arc<TempDir>, ManualClock) {
        self.handle.stop(true).await;
        let thread = self.thread.take().unwrap();
        tokio::task::spawn_blocking(move || thread.join().unwrap())
            .await
            .unwrap();
        (self.data_dir.clone(), self.clock.clone())
    }

    /// Stops as `kill -9` would: the engine writes nothing more (no snapshot at stop), then
    /// the server goes. Returns the data dir, for a restart that recovers from the log.
    pub async fn crash(self) -> (Arc<TempDir>, ManualClock) {
        self.engine.crash().await;
        self.stop().await
    }

    pub fn metrics_url(&self) -> String {
        format!("{}/metrics", self.metrics_address)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// The reply to a call, checked against CRM.COM's contract (`contract::check`).
    async fn reply(method: &str, path: &str, request: Option<&Value>, response: reqwest::Response) -> Reply {
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let keeps_alive = response
            .headers()
            .get("connection")
            .is_none_or(|value| !value.as_bytes().eq_ignore_ascii_case(b"close"));
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        crate::contract::check(method, path, request, status.as_u16(), &body);
        Reply {
            status,
            body,
            retry_after,
            keeps_alive,
        }
    }

    /// A JSON request with the secret key.
    async fn send_json(&self, method: reqwest::Method, path: &str, body: &Value) -> Reply {
        let request = self
            .client
            .request(method.clone(), self.url(path))
            .header("api_key", SECRET_KEY)
            .json(body);
        Self::reply(method.as_str(), path, Some(body), request.send().await.unwrap()).await
    }

    /// Any request, with exactly the headers given (no key unless one is passed).
    pub async fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Reply {
        let verb = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(verb, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Self::reply(method, path, body, request.send().await.unwrap()).await
    }

    /// A request with one API key.
    pub async fn with_key(&self, key: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.call(method, path, &[("api_key", key)], body).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    pub async fn post_raw(&self, path: &str, key: Option<&str>, content_type: &str, body: Vec<u8>) -> Reply {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(key) = key {
            request = request.header("api_key", key);
        }
        // Not JSON, or not meant to be: only the response is checked.
        Self::reply("POST", path, None, request.send().await.unwrap()).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send_json(reqwest::Method::PUT, path, body).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        let response = self
            .client
            .get(self.url(path))
            .header("api_key", SECRET_KEY)
            .send()
            .await
            .unwrap();
        Self::reply("GET", path, None, response).await
    }

    pub async fn create_offer(&self, body: Value) -> Value {
        let reply = self.post("/backoffice/v2/reward_offers", &body).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body
    }

    pub async fn percentage_offer(&self, percent: u32, expiry_days: Option<u32>) -> Value {
        self.create_offer(json!({"name": format!("{percent}% back"), "award": {"type": "PERCENTAGE", "value": percent, "expiry_days": expiry_days}}))
            .await
    }

    /// Sets an offer ACTIVE or INACTIVE.
    pub async fn set_offer_state(&self, offer: &Value, state: &str) {
        let path = format!(
            "/backoffice/v2/reward_offers/{}/life_cycle_state",
            offer["id"].as_str().unwrap()
        );
        let reply = self.put(&path, &serde_json::json!({ "state": state })).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }

    pub async fn create_contact(&self, code: &str) -> Value {
        let reply = self
            .post(
                "/backoffice/v2/contacts",
                &json!({"first_name": "Ann", "last_name": "Lee", "email_address": format!("{code}@example.com"), "code": code}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body
    }

    pub async fn purchase(&self, contact_id: &str, reference: &str, total: &str, spend: Option<(&str, bool)>) -> Reply {
        let mut body = json!({
            "contact": {"id": contact_id},
            "reference_number": reference,
            "transaction_amounts": {"total": serde_json::Number::from_string_unchecked_compat(total)},
        });
        if let Some((amount, restrict)) = spend {
            body["spend_request"] = json!({"amount": serde_json::Number::from_string_unchecked_compat(amount), "restrict_fully_covered": restrict});
        }
        self.post("/backoffice/v2/purchases", &body).await
    }

    pub async fn wallet(&self, wallet_id: &str) -> Value {
        let reply = self.get(&format!("/backoffice/v2/wallets/{wallet_id}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    /// Every journal line of a wallet, oldest first, across pages.
    pub async fn journal(&self, wallet_id: &str) -> Vec<Value> {
        let mut lines = Vec::new();
        for page in 1.. {
            let reply = self
                .get(&format!(
                    "/backoffice/v2/wallets/{wallet_id}/journals?order=ASC&size=100&page={page}"
                ))
                .await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            lines.extend(reply.body["content"].as_array().unwrap().iter().cloned());
            if !reply.body["paging"]["has_more"].as_bool().unwrap() {
                break;
            }
        }
        lines
    }

    /// Asserts balance = sum of journal for a wallet, through the API, and returns it.
    pub async fn assert_balance_equals_journal(&self, wallet_id: &str) -> rust_decimal::Decimal {
        let wallet = self.wallet(wallet_id).await;
        let journal = self.journal(wallet_id).await;
        let sum: rust_decimal::Decimal = journal
            .iter()
            .map(|line| {
                if line["type"] == "CREDIT" {
                    dec(&line["amount"])
                } else {
                    -dec(&line["amount"])
                }
            })
            .sum();
        let balance = dec(&wallet["total_balance"]);
        assert_eq!(
            balance, sum,
            "wallet {wallet_id}: balance {balance} but journal sums to {sum}"
        );
        assert!(balance >= rust_decimal::Decimal::ZERO);
        balance
    }
}

/// Makes a second business (EUR) whose live secret key is `key`, and returns its id.
pub async fn another_business(app: &TestApp, key: &str, name: &str) -> rewards_engine::domain::ids::OrganisationId {
    let id = rewards_engine::domain::ids::OrganisationId::random();
    app.engine
        .bootstrap_organisation(
            id,
            name,
            rewards_engine::domain::money::Currency::parse("EUR").unwrap(),
            &[(
                rewards_engine::domain::ids::Mode::Live,
                rewards_engine::domain::organisation::ApiKeyKind::Secret,
                key,
            )],
            None,
            &name.to_ascii_lowercase().replace(' ', "-"),
        )
        .await
        .unwrap();
    id
}

/// `serde_json::Number` from decimal text, kept exact (arbitrary_precision is on).
pub trait NumberCompat {
    fn from_string_unchecked_compat(text: &str) -> serde_json::Number;
}

impl NumberCompat for serde_json::Number {
    fn from_string_unchecked_compat(text: &str) -> serde_json::Number {
        text.parse().expect("a JSON number")
    }
}

/// Waits (at most 10 s) until the communications outbox holds nothing: every message
/// created so far was delivered or given up. Messages are created before the request that
/// makes them is answered, so after this a receiver has seen everything it ever will.
pub async fn outbox_drained(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let pending = app.engine.outbox_pending(1).expect("the outbox reads");
        if pending.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the outbox still holds messages after 10 s: {pending:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Waits (at most 10 s) until the outbox between entities holds nothing: every budget
/// settle or refund and every transfer credit committed so far was applied by its recipient.
pub async fn actor_outbox_drained(app: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let pending = app.engine.store().actor_messages_pending(1).expect("the outbox reads");
        if pending.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the outbox between entities still holds messages after 10 s: {pending:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

pub fn temp_dir() -> Arc<TempDir> {
    Arc::new(TempDir::new().unwrap())
}

/// One part of a JWT: base64url (no padding) of its JSON.
pub fn encode_part(value: &Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// An Ed25519 private key (its 32-byte seed) as PKCS#8 DER, for `EncodingKey::from_ed_der`.
pub fn ed25519_pkcs8(seed: [u8; 32]) -> Vec<u8> {
    // The fixed PKCS#8 v1 header of an Ed25519 key (RFC 8410), then the seed.
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ];
    der.extend_from_slice(&seed);
    der
}

/// A contact's email and password sign-in, with the app's key.
pub async fn contact_sign_in(app: &TestApp, key: &str, email: &str, password: &str) -> Reply {
    let body = serde_json::json!({"provider": "EMAIL", "username": email, "password": password});
    app.with_key(key, "POST", "/self-service/v2/contacts/authenticate", Some(&body))
        .await
}

/// A back-office user's email and password sign-in, with an API key (it decides the mode).
pub async fn user_sign_in(app: &TestApp, key: &str, email: &str, password: &str) -> Reply {
    let body = serde_json::json!({"provider": "EMAIL", "username": email, "password": password});
    app.with_key(key, "POST", "/backoffice/v2/users/authenticate", Some(&body))
        .await
}

/// Registers a person by email and password with the public key: (contact id, access token).
pub async fn registered_contact(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let body = serde_json::json!({
        "first_name": "Pat",
        "last_name": "Person",
        "identification": {"provider": "EMAIL", "email": email, "password": password},
    });
    let reply = app
        .with_key(PUBLIC_KEY, "POST", "/self-service/v2/contacts/register", Some(&body))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    (
        reply.body["contact"]["id"].as_str().unwrap().to_string(),
        reply.body["access_token"].as_str().unwrap().to_string(),
    )
}

/// A call with a contact's token alone (no key).
pub async fn with_token(app: &TestApp, token: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    app.call(method, path, &[("authorization", &format!("Bearer {token}"))], body)
        .await
}
