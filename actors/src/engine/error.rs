//! Typed rejections of the engine: each a stable kind the façade maps to its wire code and
//! status; the façade, not the engine, decides how a rejection is shown.

use crate::actors::contact::ContactActorError;
use crate::domain::money::Currency;
use crate::storage::StoreError;
use rust_decimal::Decimal;

/// Outcomes the façade renders as errors (D8). Business rejections and bad input first,
/// infrastructure last.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Invalid { parameter: &'static str, message: String },
    /// As `Invalid`, for a parameter inside a list (`limit_rules[2].name`).
    #[error("{parameter}: {message}")]
    InvalidItem { parameter: String, message: String },
    #[error("purchase currency {given} differs from the wallet currency {wallet}")]
    CurrencyMismatch { given: Currency, wallet: Currency },
    #[error("the wallet balance is not enough to cover {parameter}")]
    InsufficientFunds { parameter: &'static str },
    #[error("the contact's spending is blocked")]
    SpendBlocked,
    /// A wallet limit rule the command would pass (the message names it).
    #[error("{0}")]
    WalletLimit(String),
    #[error("the wallet would hold more than its maximum balance ({max})")]
    BalanceLimit { max: Decimal },
    #[error("reference_number was already used for a different purchase")]
    ReferenceConflict,
    #[error("a {0} with this value already exists")]
    AlreadyExists(&'static str),
    /// The request is well formed but the state of things does not allow it.
    #[error("{0}")]
    Conflict(String),
    #[error("Idempotency-Key was already used with a different request")]
    IdempotencyConflict,
    #[error("a request with this Idempotency-Key is still in progress")]
    IdempotencyInProgress,
    #[error("the {0} is busy; retry shortly")]
    Busy(&'static str),
    #[error("the api_key is not valid: {0}")]
    InvalidApiKey(&'static str),
    #[error("the token is not valid: {0}")]
    InvalidToken(&'static str),
    #[error("the username or password is wrong")]
    InvalidLogin,
    #[error("{0}")]
    Forbidden(String),
    #[error("too many requests for this {what}; retry in {retry_after_s} s")]
    RateLimited { what: &'static str, retry_after_s: u64 },
    #[error("the one-time password is not valid: {0}")]
    InvalidOtp(&'static str),
    #[error("the engine is shutting down")]
    ShuttingDown,
    /// A command failed inside the engine (a panic or a broken invariant); nothing of it
    /// was kept and the entity works again from its last durable state.
    #[error("the {0} could not apply the request; nothing was changed")]
    Internal(&'static str),
    #[error("storage unavailable: {0}")]
    Storage(String),
}

impl From<ContactActorError> for EngineError {
    fn from(error: ContactActorError) -> Self {
        match error {
            ContactActorError::AlreadyExists => EngineError::AlreadyExists("contact"),
            ContactActorError::NotFound => EngineError::NotFound("contact"),
            ContactActorError::Invalid(error) => invalid(error.parameter(), error),
            ContactActorError::Scheme(error) => invalid(error.parameter(), error),
            ContactActorError::Storage(error) => EngineError::Storage(error),
            ContactActorError::Internal => EngineError::Internal("contact"),
            ContactActorError::Retry => EngineError::Busy("contact"),
        }
    }
}

impl From<StoreError> for EngineError {
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "store error");
        EngineError::Storage(error.to_string())
    }
}

/// A short text a request gives (a name, an id the engine keeps, a group): trimmed, 1 to
/// `max` characters, none of them a control character.
pub(crate) fn short_text(parameter: &'static str, value: &str, max: usize) -> Result<String, EngineError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(invalid(parameter, format!("must be 1 to {max} printable characters")));
    }
    Ok(value.to_string())
}

pub(crate) fn invalid(parameter: &'static str, message: impl std::fmt::Display) -> EngineError {
    EngineError::Invalid {
        parameter,
        message: format!("{parameter}: {message}"),
    }
}
