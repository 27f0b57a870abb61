//! What the engine is opened with. Each struct here is one section of the server's
//! settings file (`config/default.toml`), deserialised as it stands, so the server embeds
//! them instead of copying them field by field.

use crate::domain::money::Currency;
use crate::storage::{durability, StoreSettings, TableSettings};
use serde::{Deserialize, Deserializer};
use std::path::PathBuf;

pub use super::comms::OtpSettings;
/// The `[actors]` section.
pub use crate::actors::ActorSettings;
/// The `[money]` section.
pub use crate::domain::money::MoneyLimits;
/// The `[journal]` section: the commit-log writer's and deriver's settings.
pub use crate::storage::WriterSettings as JournalSettings;
/// Told of every durability point of the store (tests inject failures through it).
pub use durability::Hook as DurabilityHook;

/// What `Engine::start` takes: every section but storage and the journal, which the store
/// takes (`Engine::open` takes all of them).
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// `[actors]`
    pub actors: ActorSettings,
    /// `[organisation]`
    pub organisation: OrganisationSettings,
    /// `[auth]`
    pub auth: AccessSettings,
    /// `[otp]`
    pub otp: OtpSettings,
    /// `[money]`: bounds on every amount and balance.
    pub money: MoneyLimits,
    /// `[purchases]`
    pub purchases: PurchaseSettings,
    /// `[payments]`
    pub payments: PaymentSettings,
}

/// `[payments]`: payment gateways (the server runs them; the engine checks names).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSettings {
    /// The gateways payment methods may name: `test` (built in, documented test cards) and
    /// `stripe` (a Stripe-style API at `stripe_base_url`). The first is the business's: a
    /// payment method that names no gateway is held by it.
    pub gateways: Vec<String>,
    /// How long a charge may take before the top-up is answered as pending.
    pub charge_timeout_ms: u64,
    /// How often pending top-ups are looked up at their gateway and settled.
    pub reconcile_interval_ms: u64,
    /// A pending top-up at least this old whose gateway never heard of its charge fails.
    pub give_up_after_s: i64,
    /// How often the scheduler looks for auto and termed top-ups due.
    #[serde(default = "schedule_interval_ms")]
    pub schedule_interval_ms: u64,
    /// How often the billing run bills the subscriptions due.
    #[serde(default = "billing_interval_ms")]
    pub billing_interval_ms: u64,
    /// Whether the `test` gateway may be used in live mode too (it charges nothing: never
    /// in production).
    #[serde(default)]
    pub test_gateway_live: bool,
    /// The `stripe` gateway's base URL and secret key.
    #[serde(default)]
    pub stripe_base_url: Option<String>,
    #[serde(default)]
    pub stripe_secret_key: Option<String>,
}

fn schedule_interval_ms() -> u64 {
    1_000
}

fn billing_interval_ms() -> u64 {
    60_000
}

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings {
            gateways: vec!["test".into()],
            charge_timeout_ms: 10_000,
            reconcile_interval_ms: 30_000,
            give_up_after_s: 3_600,
            schedule_interval_ms: schedule_interval_ms(),
            billing_interval_ms: billing_interval_ms(),
            test_gateway_live: false,
            stripe_base_url: None,
            stripe_secret_key: None,
        }
    }
}

/// `[storage]`: where the data dir is, and fjall's sizes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// The commit log (`commit-log/`) and the records derived from it (`records/`).
    pub data_dir: PathBuf,
    /// fjall's block cache, shared by every record family.
    pub cache_capacity_bytes: u64,
    /// A record family's memtable is flushed to a table past this size.
    pub memtable_bytes_max: u64,
    /// fjall's own journals are kept to at most this much.
    pub journal_bytes_max: u64,
    /// Level-0 tables that start a compaction into level 1.
    pub l0_tables_compaction: u8,
    /// Threads for fjall's flushes and compactions.
    pub worker_threads: usize,
    /// How long opening waits for the data dir's lock, held by an instance still stopping.
    pub lock_wait_ms: u64,
}

impl StorageSettings {
    pub(crate) fn store(&self, journal: JournalSettings, hook: Option<DurabilityHook>) -> StoreSettings {
        StoreSettings {
            tables: TableSettings {
                cache_capacity_bytes: self.cache_capacity_bytes,
                memtable_bytes_max: self.memtable_bytes_max,
                journal_bytes_max: self.journal_bytes_max,
                l0_tables_compaction: self.l0_tables_compaction,
                worker_threads: self.worker_threads,
            },
            lock_wait_ms: self.lock_wait_ms,
            writer: journal,
            hook,
        }
    }
}

/// `[organisation]`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationSettings {
    /// Currency of the wallets of an organisation created without one (ISO-4217).
    #[serde(deserialize_with = "currency_code")]
    pub default_currency: Currency,
}

impl Default for OrganisationSettings {
    fn default() -> Self {
        OrganisationSettings {
            default_currency: Currency::parse("EUR").expect("EUR is a currency"),
        }
    }
}

fn currency_code<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Currency, D::Error> {
    let code = String::deserialize(deserializer)?;
    Currency::parse(&code).map_err(|error| serde::de::Error::custom(format!("organisation.default_currency: {error}")))
}

/// `[purchases]`: the window a purchase's `date` must fall in: a till's clock may run
/// `date_future_skew_s` ahead, and a purchase may be posted up to `date_backdate_max_s`
/// after it was made (a till that was offline). Offers are evaluated at the purchase date,
/// never later than the engine's now (see `Engine::post_for_contact`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseSettings {
    pub date_future_skew_s: i64,
    pub date_backdate_max_s: i64,
    /// How often the scheduled sweep expires lots due in wallets nobody touched.
    #[serde(default = "default_sweep_interval_ms")]
    pub expiry_sweep_interval_ms: u64,
    /// How an ad hoc return takes back awards: PROPORTION of the purchase total returned,
    /// or by LINE for awards computed on lines.
    #[serde(default)]
    pub return_reversal: crate::domain::purchase_return::ReversalRule,
}

fn default_sweep_interval_ms() -> u64 {
    60_000
}

impl Default for PurchaseSettings {
    fn default() -> Self {
        PurchaseSettings {
            date_future_skew_s: 300,
            date_backdate_max_s: 30 * 86_400,
            expiry_sweep_interval_ms: default_sweep_interval_ms(),
            return_reversal: Default::default(),
        }
    }
}

/// `[auth]`: keys, passwords and tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessSettings {
    /// Longest a rolled API key keeps working beside its replacement.
    pub api_key_roll_overlap_max_s: i64,
    pub access_token_ttl_s: i64,
    pub refresh_token_ttl_s: i64,
    pub password_chars_min: usize,
    /// Wrong passwords in a row that lock an identity out of signing in.
    pub sign_in_failures_max: u32,
    /// How long a lockout lasts, and how long a wrong password counts towards one.
    pub sign_in_lockout_s: i64,
}

impl Default for AccessSettings {
    fn default() -> Self {
        AccessSettings {
            api_key_roll_overlap_max_s: 30 * 86_400,
            access_token_ttl_s: 900,
            refresh_token_ttl_s: 30 * 86_400,
            password_chars_min: 10,
            sign_in_failures_max: 5,
            sign_in_lockout_s: 900,
        }
    }
}
