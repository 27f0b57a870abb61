//! Settings: `config/default.toml` (compiled in), then `--config FILE`, then environment
//! variables `REWARDS__SECTION__KEY`. One struct, checked once at start-up; a bad value
//! stops start-up with a message naming its key.

use rewards_engine::engine::settings::{
    AccessSettings, ActorSettings, EngineSettings, JournalSettings, MoneyLimits, OrganisationSettings, OtpSettings,
    PaymentSettings, PurchaseSettings, StorageSettings,
};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub http: HttpSettings,
    // The engine's sections, as the engine reads them.
    pub storage: StorageSettings,
    pub journal: JournalSettings,
    pub actors: ActorSettings,
    pub organisation: OrganisationSettings,
    pub auth: AccessSettings,
    pub otp: OtpSettings,
    pub money: MoneyLimits,
    pub purchases: PurchaseSettings,
    #[serde(default)]
    pub payments: PaymentSettings,
    // The server's own.
    pub bootstrap: BootstrapSettings,
    pub communications: CommunicationsSettings,
    pub oidc: OidcSettings,
    pub facebook: FacebookSettings,
    pub metrics: MetricsSettings,
    pub log: LogSettings,
}

/// Where `GET /metrics` is served: its own listener, never the public API's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    pub bind: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub bind: String,
    pub body_bytes_max: usize,
    pub workers: usize,
    pub page_size_max: usize,
    pub bulk_items_max: usize,
    pub bulk_body_bytes_max: usize,
    pub shutdown_timeout_s: u64,
    /// Which address per-client limits count: empty, the TCP peer; else a header a trusted
    /// proxy sets (its last address).
    pub client_address_header: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSettings {
    pub organisation_name: String,
    pub public_api_key: String,
    pub secret_api_key: String,
    pub admin_email: String,
    pub admin_password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Log,
    Webhook,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunicationsSettings {
    pub email_provider: ProviderKind,
    pub sms_provider: ProviderKind,
    pub webhook_url: String,
    pub webhook_authorization: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    pub smtp_username: String,
    pub smtp_password: String,
    pub smtp_from: String,
    pub attempts_max: u32,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    pub timeout_ms: u64,
    pub batch_max: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    #[serde(default)]
    pub providers: std::collections::HashMap<String, OidcProviderSettings>,
    pub algorithms: Vec<String>,
    pub login_ttl_s: u64,
    pub keys_cache_s: u64,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderSettings {
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    /// Where the provider sends the person back when the app names no `redirect_url`.
    #[serde(default)]
    pub redirect_url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacebookSettings {
    pub app_id: String,
    pub app_secret: String,
    pub graph_url: String,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub filter: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("settings: {0}")]
    Load(#[from] config::ConfigError),
    #[error("setting {key}: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key,
        message: message.into(),
    }
}

impl Settings {
    /// Defaults, then `file`, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, SettingsError> {
        Self::load_with(file, config::Environment::with_prefix("REWARDS"))
    }

    /// As `load`, with the environment given as pairs (tests).
    pub fn load_from_pairs(file: Option<&Path>, pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let source = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Self::load_with(file, config::Environment::with_prefix("REWARDS").source(Some(source)))
    }

    fn load_with(file: Option<&Path>, environment: config::Environment) -> Result<Settings, SettingsError> {
        let mut builder =
            config::Config::builder().add_source(config::File::from_str(DEFAULT_TOML, config::FileFormat::Toml));
        if let Some(path) = file {
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        let settings: Settings = builder
            .add_source(
                environment
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    // REWARDS__PAYMENTS__GATEWAYS=stripe,test
                    .list_separator(",")
                    .with_list_parse_key("payments.gateways"),
            )
            .build()?
            .try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.bind_address()?;
        self.metrics_address()?;
        for (key, value, min) in [
            ("http.body_bytes_max", self.http.body_bytes_max as u64, 1),
            ("http.bulk_items_max", self.http.bulk_items_max as u64, 1),
            ("http.bulk_body_bytes_max", self.http.bulk_body_bytes_max as u64, 1),
            ("journal.batch_events_max", self.journal.batch_events_max as u64, 1),
            ("journal.queue_len_max", self.journal.queue_len_max as u64, 1),
            (
                "journal.log_segment_bytes_max",
                self.journal.log_segment_bytes_max,
                4096,
            ),
            ("journal.underived_bytes_max", self.journal.underived_bytes_max, 65536),
            (
                "journal.derive_batch_writes_max",
                self.journal.derive_batch_writes_max as u64,
                1,
            ),
            ("journal.derive_flush_ms", self.journal.derive_flush_ms, 1),
            ("actors.mailbox_len_max", self.actors.mailbox_len_max as u64, 1),
            ("actors.idle_ms", self.actors.idle_ms, 1),
            ("actors.snapshot_every_events", self.actors.snapshot_every_events, 1),
            (
                "auth.api_key_roll_overlap_max_s",
                self.auth.api_key_roll_overlap_max_s.max(0) as u64,
                0,
            ),
            ("auth.access_token_ttl_s", self.auth.access_token_ttl_s.max(0) as u64, 1),
            (
                "auth.refresh_token_ttl_s",
                self.auth.refresh_token_ttl_s.max(0) as u64,
                1,
            ),
            ("auth.password_chars_min", self.auth.password_chars_min as u64, 8),
            ("auth.sign_in_failures_max", self.auth.sign_in_failures_max as u64, 1),
            ("auth.sign_in_lockout_s", self.auth.sign_in_lockout_s.max(0) as u64, 1),
            ("otp.ttl_s", self.otp.ttl_s.max(0) as u64, 1),
            ("otp.attempts_max", self.otp.attempts_max as u64, 1),
            (
                "otp.requests_per_identity_max",
                self.otp.requests_per_identity_max as u64,
                1,
            ),
            ("otp.requests_per_ip_max", self.otp.requests_per_ip_max as u64, 1),
            ("otp.request_window_s", self.otp.request_window_s, 1),
            ("otp.link_ttl_s", self.otp.link_ttl_s.max(0) as u64, 60),
            (
                "communications.attempts_max",
                self.communications.attempts_max as u64,
                1,
            ),
            ("communications.retry_base_ms", self.communications.retry_base_ms, 1),
            ("communications.retry_max_ms", self.communications.retry_max_ms, 1),
            ("communications.timeout_ms", self.communications.timeout_ms, 1),
            ("communications.batch_max", self.communications.batch_max as u64, 1),
        ] {
            if value < min {
                return Err(invalid(key, format!("must be at least {min}")));
            }
        }
        for (key, value) in [
            ("purchases.date_future_skew_s", self.purchases.date_future_skew_s),
            ("purchases.date_backdate_max_s", self.purchases.date_backdate_max_s),
        ] {
            if !(0..=10 * 365 * 86_400).contains(&value) {
                return Err(invalid(key, "must be 0 to ten years in seconds"));
            }
        }
        if !(1..=1000).contains(&self.http.page_size_max) {
            return Err(invalid("http.page_size_max", "must be 1 to 1000"));
        }
        use rewards_engine::domain::ids::Mode;
        use rewards_engine::domain::organisation::{
            api_key_entropy_bits, api_key_name_says, ApiKeyKind, API_KEY_ENTROPY_BITS_MIN,
        };
        for (key, value, kind) in [
            (
                "bootstrap.public_api_key",
                &self.bootstrap.public_api_key,
                ApiKeyKind::Public,
            ),
            (
                "bootstrap.secret_api_key",
                &self.bootstrap.secret_api_key,
                ApiKeyKind::Secret,
            ),
        ] {
            if value.is_empty() {
                continue;
            }
            if value.len() < 16 || value.len() > 200 || value.chars().any(|c| !c.is_ascii_graphic()) {
                return Err(invalid(
                    key,
                    "must be 16 to 200 printable ASCII characters without spaces",
                ));
            }
            // The bootstrap keys are LIVE keys: a name that says otherwise would mislead
            // whoever holds it (a "test" key that moves live money).
            let (named_kind, named_mode) = api_key_name_says(value);
            if named_kind.is_some_and(|named| named != kind) {
                return Err(invalid(
                    key,
                    format!(
                        "its name says a {} key; this setting is the {} key",
                        named_kind.map_or("", |k| k.code()),
                        kind.code()
                    ),
                ));
            }
            if named_mode == Some(Mode::Test) {
                return Err(invalid(
                    key,
                    "the bootstrap keys are LIVE keys, so a name that says test (sk_test_/pk_test_) is refused; name it sk_live_… / pk_live_…, or leave it empty to generate one",
                ));
            }
            let bits = api_key_entropy_bits(value);
            if bits < API_KEY_ENTROPY_BITS_MIN {
                return Err(invalid(
                    key,
                    format!(
                        "is too easy to guess (about {bits:.0} bits; at least {API_KEY_ENTROPY_BITS_MIN} needed): use a long random value, or leave it empty to generate one"
                    ),
                ));
            }
        }
        if rewards_engine::domain::access::normalise_email(&self.bootstrap.admin_email).is_none() {
            return Err(invalid("bootstrap.admin_email", "must be an email address"));
        }
        let password_chars = self.bootstrap.admin_password.chars().count();
        if password_chars > 0 && password_chars < self.auth.password_chars_min {
            return Err(invalid(
                "bootstrap.admin_password",
                format!(
                    "must be at least auth.password_chars_min ({}) characters",
                    self.auth.password_chars_min
                ),
            ));
        }
        self.validate_communications()?;
        if !self.bootstrap.public_api_key.is_empty() && self.bootstrap.public_api_key == self.bootstrap.secret_api_key {
            return Err(invalid("bootstrap.secret_api_key", "must differ from the public key"));
        }
        Ok(())
    }

    fn validate_communications(&self) -> Result<(), SettingsError> {
        let comms = &self.communications;
        if comms.sms_provider == ProviderKind::Smtp {
            return Err(invalid("communications.sms_provider", "must be log or webhook"));
        }
        let uses = |kind| comms.email_provider == kind || comms.sms_provider == kind;
        if uses(ProviderKind::Webhook)
            && !(comms.webhook_url.starts_with("http://") || comms.webhook_url.starts_with("https://"))
        {
            return Err(invalid(
                "communications.webhook_url",
                "must be an http(s) URL when a provider is webhook",
            ));
        }
        if uses(ProviderKind::Smtp) {
            if comms.smtp_host.trim().is_empty() {
                return Err(invalid(
                    "communications.smtp_host",
                    "is required when email_provider is smtp",
                ));
            }
            if comms.smtp_from.parse::<lettre::message::Mailbox>().is_err() {
                return Err(invalid(
                    "communications.smtp_from",
                    "must be an address, e.g. Name <a@b.c>",
                ));
            }
        }
        for (name, provider) in &self.oidc.providers {
            if !(provider.issuer.starts_with("https://") || provider.issuer.starts_with("http://")) {
                return Err(invalid(
                    "oidc.providers.*.issuer",
                    format!("{name}: must be an http(s) URL"),
                ));
            }
            if provider.client_id.trim().is_empty() {
                return Err(invalid("oidc.providers.*.client_id", format!("{name}: is required")));
            }
            if !(provider.redirect_url.is_empty()
                || provider.redirect_url.starts_with("https://")
                || provider.redirect_url.starts_with("http://"))
            {
                return Err(invalid(
                    "oidc.providers.*.redirect_url",
                    format!("{name}: must be an http(s) URL"),
                ));
            }
        }
        if !self.facebook.app_id.is_empty() && self.facebook.app_secret.is_empty() {
            return Err(invalid("facebook.app_secret", "is required with facebook.app_id"));
        }
        for (key, url) in [
            ("otp.verify_email_url", &self.otp.verify_email_url),
            ("otp.reset_password_url", &self.otp.reset_password_url),
            ("facebook.graph_url", &self.facebook.graph_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(key, "must be an http(s) URL"));
            }
        }
        Ok(())
    }

    pub fn metrics_address(&self) -> Result<SocketAddr, SettingsError> {
        let address: SocketAddr = self
            .metrics
            .bind
            .parse()
            .map_err(|error| invalid("metrics.bind", format!("'{}': {error}", self.metrics.bind)))?;
        let api = self.bind_address()?;
        if address.port() != 0 && address.port() == api.port() {
            return Err(invalid(
                "metrics.bind",
                "must not be the API's listener (http.bind): metrics stay off the public port",
            ));
        }
        Ok(address)
    }

    pub fn bind_address(&self) -> Result<SocketAddr, SettingsError> {
        self.http
            .bind
            .parse()
            .map_err(|error| invalid("http.bind", format!("'{}': {error}", self.http.bind)))
    }

    /// What the engine is started with: its sections, as read.
    pub fn engine(&self) -> EngineSettings {
        EngineSettings {
            actors: self.actors,
            organisation: self.organisation,
            auth: self.auth,
            otp: self.otp.clone(),
            money: self.money,
            purchases: self.purchases,
            payments: self.payments.clone(),
        }
    }

    pub fn workers(&self) -> usize {
        if self.http.workers == 0 {
            std::thread::available_parallelism().map_or(2, |cores| cores.get())
        } else {
            self.http.workers
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_environment_overrides_them() {
        let settings = Settings::load_from_pairs(
            None,
            &[
                ("REWARDS__HTTP__BIND", "127.0.0.1:0"),
                ("REWARDS__BOOTSTRAP__SECRET_API_KEY", "sk_live_Xq7pR2mK9vLw4TnB8cYe"),
            ],
        )
        .unwrap();
        assert_eq!(settings.http.bind, "127.0.0.1:0");
        assert_eq!(settings.bootstrap.secret_api_key, "sk_live_Xq7pR2mK9vLw4TnB8cYe");
        assert_eq!(settings.organisation.default_currency.to_string(), "EUR");
    }

    #[test]
    fn chosen_bootstrap_keys_must_be_live_of_their_kind_and_hard_to_guess() {
        let refused = |name: &str, value: &str| {
            let error = Settings::load_from_pairs(None, &[(name, value)])
                .unwrap_err()
                .to_string();
            assert!(error.contains("bootstrap."), "{value}: {error}");
            error
        };
        let secret = "REWARDS__BOOTSTRAP__SECRET_API_KEY";
        let public = "REWARDS__BOOTSTRAP__PUBLIC_API_KEY";
        assert!(refused(secret, "sk_test_Xq7pR2mK9vLw4TnB8cYe").contains("LIVE"));
        assert!(refused(public, "pk_test_Xq7pR2mK9vLw4TnB8cYe").contains("LIVE"));
        assert!(refused(public, "sk_live_Xq7pR2mK9vLw4TnB8cYe").contains("SECRET"));
        assert!(refused(secret, "aaaaaaaaaaaaaaaa").contains("too easy to guess"));
        assert!(refused(secret, "0123456789abcdef").contains("too easy to guess"));
        assert!(refused(secret, "sk_live_\u{1b}[2J_Xq7pR2mK9vLw4TnB8cYe").contains("printable"));
        for (name, value) in [
            (secret, "sk_live_Xq7pR2mK9vLw4TnB8cYe"),
            (public, "pk_live_Xq7pR2mK9vLw4TnB8cYe"),
            (public, "6f1c0b3e-1d2a-4c5b-9e8f-7a6b5c4d3e2f"),
        ] {
            assert!(Settings::load_from_pairs(None, &[(name, value)]).is_ok(), "{value}");
        }
    }

    #[test]
    fn a_bad_setting_is_refused_with_its_key() {
        let error = Settings::load_from_pairs(None, &[("REWARDS__HTTP__BIND", "nowhere")]).unwrap_err();
        assert!(error.to_string().contains("http.bind"), "{error}");
        let error = Settings::load_from_pairs(None, &[("REWARDS__ACTORS__IDLE_MS", "soon")]).unwrap_err();
        assert!(error.to_string().contains("idle_ms"), "{error}");
        let error =
            Settings::load_from_pairs(None, &[("REWARDS__ORGANISATION__DEFAULT_CURRENCY", "EURO")]).unwrap_err();
        assert!(error.to_string().contains("organisation.default_currency"), "{error}");
        // The engine's sections are read by the engine's own types, with their checks.
        for (name, value, key) in [
            ("REWARDS__MONEY__AMOUNT_MAX", "0", "money.amount_max"),
            (
                "REWARDS__MONEY__WALLET_BALANCE_MAX",
                "1000000000000000001",
                "money.wallet_balance_max",
            ),
            ("REWARDS__ACTORS__SURPRISE", "1", "surprise"),
            // Moved to [http]; the old place is refused by name, not ignored.
            (
                "REWARDS__OTP__CLIENT_ADDRESS_HEADER",
                "X-Forwarded-For",
                "client_address_header",
            ),
        ] {
            let error = Settings::load_from_pairs(None, &[(name, value)]).unwrap_err();
            assert!(error.to_string().contains(key), "{name}: {error}");
        }
    }

    #[test]
    fn the_engine_gets_its_sections_as_read() {
        let settings = Settings::load_from_pairs(
            None,
            &[
                ("REWARDS__ACTORS__ARBITERS", "3"),
                ("REWARDS__OTP__TTL_S", "120"),
                ("REWARDS__MONEY__AMOUNT_MAX", "5000"),
                ("REWARDS__ORGANISATION__DEFAULT_CURRENCY", "usd"),
            ],
        )
        .unwrap();
        let engine = settings.engine();
        assert_eq!(engine.actors.arbiters(), 3);
        assert_eq!(engine.otp.ttl_s, 120);
        assert_eq!(engine.money.amount_max, rust_decimal::Decimal::from(5000));
        assert_eq!(engine.organisation.default_currency.to_string(), "USD");
    }
}
