//! What the engine is started with.

use super::comms::CommsSettings;
use crate::actors::ActorSettings;
use crate::domain::money::{Currency, MoneyLimits};

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Arbiters (threads) actors run on; entities are sharded over them by hash.
    pub arbiters: usize,
    pub actors: ActorSettings,
    /// Currency of a new organisation's wallets.
    pub default_currency: Currency,
    /// Most contact routes (contact → wallet, currency) kept in memory for purchases.
    pub contact_routes_max: usize,
    pub access: AccessSettings,
    pub comms: CommsSettings,
    /// Bounds on every amount and balance (`[money]`).
    pub money: MoneyLimits,
    pub purchases: PurchaseSettings,
}

/// The window a purchase's `date` must fall in (`[purchases]`): a till's clock may run
/// `date_future_skew_s` ahead, and a purchase may be posted up to `date_backdate_max_s`
/// after it was made (a till that was offline). Offers are evaluated at the purchase date,
/// never later than the engine's now (see `Engine::post_for_contact`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseSettings {
    pub date_future_skew_s: i64,
    pub date_backdate_max_s: i64,
}

impl Default for PurchaseSettings {
    fn default() -> Self {
        PurchaseSettings {
            date_future_skew_s: 300,
            date_backdate_max_s: 30 * 86_400,
        }
    }
}

/// Keys, passwords and tokens (`[auth]` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
