//! Organisations of the network (service owner → business → merchant → venue) and their
//! API keys.

use super::ids::{ApiKeyId, Mode, OrganisationId, TapId};
use super::money::Currency;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrganisationType {
    ServiceOwner,
    Business,
    Merchant,
    Venue,
}

impl OrganisationType {
    /// The type as CRM.COM spells it.
    pub fn code(self) -> &'static str {
        match self {
            OrganisationType::ServiceOwner => "SERVICE_OWNER",
            OrganisationType::Business => "BUSINESS",
            OrganisationType::Merchant => "MERCHANT",
            OrganisationType::Venue => "VENUE",
        }
    }

    /// Whether an organisation of this type may have one of type `child` directly under it:
    /// service owner → business → merchant → venue, and a business may hold venues itself.
    pub fn may_hold(self, child: OrganisationType) -> bool {
        use OrganisationType::*;
        matches!(
            (self, child),
            (ServiceOwner, Business) | (Business, Merchant) | (Business, Venue) | (Merchant, Venue)
        )
    }
}

/// An organisation. The first six fields are the layout of the first release; fields were
/// added after them only, so a record of the old layout is a prefix of the new one (see
/// `LegacyOrganisation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    pub organisation_type: OrganisationType,
    pub parent: Option<OrganisationId>,
    pub default_currency: Currency,
    pub created_on: i64,
    /// The tills and terminals (merchants and venues only); codes are unique in the business.
    pub taps: Vec<Tap>,
    pub updated_on: i64,
}

/// A TAP (transaction acquiring point): the POS or terminal reference a purchase may name
/// instead of the organisation's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tap {
    pub id: TapId,
    pub code: String,
    pub name: Option<String>,
}

/// Longest TAP code and TAP name accepted.
pub const TAP_CODE_MAX: usize = 50;
pub const TAP_NAME_MAX: usize = 200;

/// Most TAPs one organisation holds.
pub const TAPS_MAX: usize = 500;

impl OrganisationType {
    /// Whether organisations of this type have tills (TAPs): merchants and venues.
    pub fn has_taps(self) -> bool {
        matches!(self, OrganisationType::Merchant | OrganisationType::Venue)
    }
}

/// A TAP code as given: trimmed, 1 to `TAP_CODE_MAX` printable characters.
pub fn tap_code(text: &str) -> Result<String, String> {
    let code = text.trim();
    if code.is_empty() || code.chars().count() > TAP_CODE_MAX || code.chars().any(char::is_control) {
        return Err(format!("a TAP code is 1 to {TAP_CODE_MAX} printable characters"));
    }
    Ok(code.to_string())
}

/// Where a TAP code or id leads: the organisation holding it, and the TAP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapEntry {
    pub organisation: OrganisationId,
    pub tap: Tap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiKeyKind {
    /// For apps: pre-login self-service calls only.
    Public,
    /// For servers: the organisation's back-office and POS calls.
    Secret,
}

impl ApiKeyKind {
    pub fn code(self) -> &'static str {
        match self {
            ApiKeyKind::Public => "PUBLIC",
            ApiKeyKind::Secret => "SECRET",
        }
    }
}

/// A stored API key. The key itself is never stored, only its SHA-256 (it is a random
/// secret of at least 122 bits, so a fast hash is enough; passwords get argon2id).
///
/// The first four fields are the layout of the first release; fields were added after them
/// only, so a record of the old layout is a prefix of the new one (see `LegacyApiKeyRecord`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub organisation: OrganisationId,
    pub mode: Mode,
    pub kind: ApiKeyKind,
    pub created_on: i64,
    pub id: ApiKeyId,
    pub name: String,
    /// What lists show instead of the key: its first and last characters.
    pub hint: String,
    /// Set when the key is rolled: the old key works until then.
    pub expires_on: Option<i64>,
    pub revoked_on: Option<i64>,
    /// The key that replaced this one when it was rolled.
    pub rolled_to: Option<ApiKeyId>,
}

/// Why a key is not accepted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyState {
    Active,
    Expired,
    Revoked,
}

impl ApiKeyState {
    pub fn code(self) -> &'static str {
        match self {
            ApiKeyState::Active => "ACTIVE",
            ApiKeyState::Expired => "EXPIRED",
            ApiKeyState::Revoked => "REVOKED",
        }
    }
}

impl ApiKeyRecord {
    pub fn state(&self, now: i64) -> ApiKeyState {
        if self.revoked_on.is_some() {
            ApiKeyState::Revoked
        } else if self.expires_on.is_some_and(|expiry| expiry <= now) {
            ApiKeyState::Expired
        } else {
            ApiKeyState::Active
        }
    }
}

/// What a key's name says it is: `sk_live_…`, `sk_test_…`, `pk_live_…`, `pk_test_…` (the
/// kind from `sk_`/`pk_`, the mode when it follows). `None` for names that say nothing
/// (a UUID public key).
pub fn api_key_name_says(key: &str) -> (Option<ApiKeyKind>, Option<Mode>) {
    let kind = if key.starts_with("sk_") {
        Some(ApiKeyKind::Secret)
    } else if key.starts_with("pk_") {
        Some(ApiKeyKind::Public)
    } else {
        None
    };
    let rest = key.get(3..).filter(|_| kind.is_some()).unwrap_or("");
    let mode = if rest.starts_with("live_") {
        Some(Mode::Live)
    } else if rest.starts_with("test_") {
        Some(Mode::Test)
    } else {
        None
    };
    (kind, mode)
}

/// An estimate of the bits of randomness in a chosen key: its length times the Shannon
/// entropy of its characters, after the `sk_live_`-style prefix. Generous to structured
/// text, but it refuses the keys people type to get going (`aaaaaaaaaaaaaaaa`, `1234…`).
pub fn api_key_entropy_bits(key: &str) -> f64 {
    let (kind, mode) = api_key_name_says(key);
    let skip = match (kind, mode) {
        (Some(_), Some(_)) => 8,
        (Some(_), None) => 3,
        _ => 0,
    };
    let body: Vec<char> = key.chars().skip(skip).collect();
    if body.is_empty() {
        return 0.0;
    }
    let mut counts = std::collections::HashMap::new();
    for c in &body {
        *counts.entry(*c).or_insert(0usize) += 1;
    }
    let length = body.len() as f64;
    let per_char: f64 = counts
        .values()
        .map(|count| {
            let p = *count as f64 / length;
            -p * p.log2()
        })
        .sum();
    per_char * length
}

/// The fewest estimated bits a chosen key must carry.
pub const API_KEY_ENTROPY_BITS_MIN: f64 = 72.0;

/// The part of a key that lists may show: enough to tell keys apart, too little to use.
pub fn api_key_hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 16 {
        return "…".into();
    }
    let head: String = chars[..chars.len().min(8)].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::OrganisationType::*;
    use super::*;

    #[test]
    fn a_key_name_tells_its_kind_and_mode_and_weak_keys_score_low() {
        assert_eq!(
            api_key_name_says("sk_test_abc"),
            (Some(ApiKeyKind::Secret), Some(Mode::Test))
        );
        assert_eq!(
            api_key_name_says("pk_live_abc"),
            (Some(ApiKeyKind::Public), Some(Mode::Live))
        );
        assert_eq!(api_key_name_says("sk_abc"), (Some(ApiKeyKind::Secret), None));
        assert_eq!(api_key_name_says("6f1c0b3e-1d2a"), (None, None));
        assert!(api_key_entropy_bits("aaaaaaaaaaaaaaaa") < 1.0);
        assert!(api_key_entropy_bits("0123456789abcdef") < API_KEY_ENTROPY_BITS_MIN);
        assert!(api_key_entropy_bits("sk_live_secret_key_for_the_suite_0001") > API_KEY_ENTROPY_BITS_MIN);
    }

    #[test]
    fn keys_are_hinted_and_expire_or_are_revoked() {
        let secret = format!("sk_test_{}", "5e".repeat(32));
        let hint = api_key_hint(&secret);
        assert!(hint.starts_with("sk_test_") && hint.ends_with(&secret[secret.len() - 4..]));
        assert!(!hint.contains(&secret[8..60]));
        assert_eq!(api_key_hint("short"), "…");
        let mut record = ApiKeyRecord {
            organisation: OrganisationId::random(),
            mode: Mode::Live,
            kind: ApiKeyKind::Secret,
            created_on: 5,
            id: ApiKeyId::random(),
            name: "till".into(),
            hint: hint.clone(),
            expires_on: None,
            revoked_on: None,
            rolled_to: None,
        };
        assert_eq!(record.state(100), ApiKeyState::Active);
        record.expires_on = Some(100);
        assert_eq!(record.state(99), ApiKeyState::Active);
        assert_eq!(record.state(100), ApiKeyState::Expired);
        record.revoked_on = Some(50);
        assert_eq!(record.state(60), ApiKeyState::Revoked);
    }

    #[test]
    fn the_network_nests_service_owner_business_merchant_venue() {
        assert!(ServiceOwner.may_hold(Business));
        assert!(Business.may_hold(Merchant) && Business.may_hold(Venue) && Merchant.may_hold(Venue));
        for (parent, child) in [
            (Venue, Venue),
            (Venue, Merchant),
            (Merchant, Merchant),
            (Merchant, Business),
            (Business, Business),
            (Business, ServiceOwner),
            (ServiceOwner, Merchant),
            (ServiceOwner, ServiceOwner),
        ] {
            assert!(!parent.may_hold(child), "{parent:?} must not hold {child:?}");
        }
    }

    #[test]
    fn tap_codes_are_trimmed_and_bounded() {
        assert_eq!(tap_code("  T-1 ").unwrap(), "T-1");
        assert!(tap_code("").is_err() && tap_code("a\nb").is_err() && tap_code(&"x".repeat(51)).is_err());
    }
}
