//! The one error type of the HTTP façade: CRM.COM's body `{status, message, error,
//! parameters}` with a stable `CRM.EXCEPTIONS.*` code per case (D8). Causes go to the log;
//! the wire gets the code and a message that says what to fix.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use rewards_engine::EngineError;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error code the API returns.
pub mod codes {
    pub const NOT_FOUND: &str = "CRM.EXCEPTIONS.NOTFOUNDEXCEPTION";
    pub const INVALID_VALUE: &str = "CRM.EXCEPTIONS.INVALIDVALUEEXCEPTION";
    pub const MISSING_PARAMETER: &str = "CRM.EXCEPTIONS.MISSINGPARAMETEREXCEPTION";
    pub const INSUFFICIENT_FUNDS: &str = "CRM.EXCEPTIONS.CANNOTSPENDAMOUNTWALLETBALANCENOTENOUGHEXCEPTION";
    pub const CURRENCY_MISMATCH: &str = "CRM.EXCEPTIONS.CURRENCYMISMATCHEXCEPTION";
    pub const REFERENCE_CONFLICT: &str = "CRM.EXCEPTIONS.REFERENCENUMBERALREADYUSEDEXCEPTION";
    pub const ALREADY_EXISTS: &str = "CRM.EXCEPTIONS.ALREADYEXISTSEXCEPTION";
    pub const IDEMPOTENCY_CONFLICT: &str = "CRM.EXCEPTIONS.IDEMPOTENCYKEYREUSEDEXCEPTION";
    pub const IDEMPOTENCY_IN_PROGRESS: &str = "CRM.EXCEPTIONS.IDEMPOTENCYKEYINPROGRESSEXCEPTION";
    pub const UNAUTHORIZED: &str = "CRM.EXCEPTIONS.INVALIDAPIKEYEXCEPTION";
    pub const INVALID_TOKEN: &str = "CRM.EXCEPTIONS.INVALIDTOKENEXCEPTION";
    pub const INVALID_LOGIN: &str = "CRM.EXCEPTIONS.INVALIDLOGINEXCEPTION";
    pub const FORBIDDEN: &str = "CRM.EXCEPTIONS.FORBIDDENEXCEPTION";
    pub const PAYLOAD_TOO_LARGE: &str = "CRM.EXCEPTIONS.PAYLOADTOOLARGEEXCEPTION";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "CRM.EXCEPTIONS.UNSUPPORTEDMEDIATYPEEXCEPTION";
    pub const BUSY: &str = "CRM.EXCEPTIONS.TOOMANYREQUESTSEXCEPTION";
    pub const UPSTREAM: &str = "CRM.EXCEPTIONS.BADGATEWAYEXCEPTION";
    pub const INVALID_OTP: &str = "CRM.EXCEPTIONS.INVALIDOTPEXCEPTION";
    pub const UNAVAILABLE: &str = "CRM.EXCEPTIONS.SERVICEUNAVAILABLEEXCEPTION";
    pub const CONFLICT: &str = "CRM.EXCEPTIONS.INVALIDSTATEEXCEPTION";
    pub const BALANCE_LIMIT: &str = "CRM.EXCEPTIONS.WALLETBALANCELIMITEXCEPTION";
    pub const PAYMENT_FAILED: &str = "CRM.EXCEPTIONS.PAYMENTFAILEDEXCEPTION";
    pub const WALLET_LIMIT: &str = "CRM.EXCEPTIONS.WALLETLIMITEXCEEDEDEXCEPTION";
    pub const SPEND_BLOCKED: &str = "CRM.EXCEPTIONS.CANNOTSPENDCONTACTSPENDBLOCKEDEXCEPTION";
    pub const INTERNAL: &str = "CRM.EXCEPTIONS.INTERNALSERVERERROREXCEPTION";
}

/// The wire error body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The HTTP status code, repeated.
    pub status: u16,
    pub message: Option<String>,
    /// A stable `CRM.EXCEPTIONS.*` code.
    pub error: Option<String>,
    /// The request parameters the error is about.
    pub parameters: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub parameters: Option<Vec<String>>,
    /// Seconds for the Retry-After header of a 429 or 503 (1 when not set).
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            parameters: None,
            retry_after_s: None,
        }
    }

    pub fn invalid(parameter: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: codes::INVALID_VALUE,
            message: message.into(),
            parameters: Some(vec![parameter.to_string()]),
            retry_after_s: None,
        }
    }

    pub fn missing(parameter: &str) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: codes::MISSING_PARAMETER,
            message: format!("{parameter} is required"),
            parameters: Some(vec![parameter.to_string()]),
            retry_after_s: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, format!("{what} not found"))
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            status: self.status.as_u16(),
            message: Some(self.message.clone()),
            error: Some(self.code.to_string()),
            parameters: self.parameters.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::TOO_MANY_REQUESTS || self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, self.retry_after_s.unwrap_or(1).to_string()));
        }
        response.json(self.body())
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        let message = error.to_string();
        match error {
            EngineError::NotFound(what) => ApiError::not_found(what),
            EngineError::Invalid { parameter, .. } => ApiError::invalid(parameter, message),
            EngineError::InvalidItem { parameter, .. } => ApiError::invalid(&parameter, message),
            EngineError::WalletLimit(_) => ApiError {
                parameters: Some(vec!["limit_rules".into()]),
                ..ApiError::new(StatusCode::BAD_REQUEST, codes::WALLET_LIMIT, message)
            },
            EngineError::CurrencyMismatch { .. } => ApiError {
                parameters: Some(vec!["currency_code".into()]),
                ..ApiError::new(StatusCode::BAD_REQUEST, codes::CURRENCY_MISMATCH, message)
            },
            EngineError::InsufficientFunds { parameter } => ApiError {
                parameters: Some(vec![parameter.to_string()]),
                ..ApiError::new(StatusCode::BAD_REQUEST, codes::INSUFFICIENT_FUNDS, message)
            },
            EngineError::SpendBlocked => ApiError {
                parameters: Some(vec!["spend_request".into()]),
                ..ApiError::new(StatusCode::BAD_REQUEST, codes::SPEND_BLOCKED, message)
            },
            EngineError::BalanceLimit { .. } => ApiError::new(StatusCode::CONFLICT, codes::BALANCE_LIMIT, message),
            EngineError::Internal(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, codes::INTERNAL, message),
            EngineError::ReferenceConflict => ApiError {
                parameters: Some(vec!["reference_number".into()]),
                ..ApiError::new(StatusCode::CONFLICT, codes::REFERENCE_CONFLICT, message)
            },
            EngineError::AlreadyExists(what) => ApiError {
                parameters: Some(vec![what.replace(' ', "_")]),
                ..ApiError::new(StatusCode::CONFLICT, codes::ALREADY_EXISTS, message)
            },
            EngineError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, codes::CONFLICT, message),
            EngineError::IdempotencyConflict => {
                ApiError::new(StatusCode::CONFLICT, codes::IDEMPOTENCY_CONFLICT, message)
            }
            EngineError::IdempotencyInProgress => {
                ApiError::new(StatusCode::CONFLICT, codes::IDEMPOTENCY_IN_PROGRESS, message)
            }
            EngineError::InvalidApiKey(_) => ApiError::new(StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED, message),
            EngineError::InvalidToken(_) => ApiError::new(StatusCode::UNAUTHORIZED, codes::INVALID_TOKEN, message),
            EngineError::InvalidLogin => ApiError::new(StatusCode::UNAUTHORIZED, codes::INVALID_LOGIN, message),
            EngineError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, message),
            EngineError::RateLimited { retry_after_s, .. } => ApiError {
                retry_after_s: Some(retry_after_s),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, codes::BUSY, message)
            },
            EngineError::InvalidOtp(_) => ApiError::new(StatusCode::UNAUTHORIZED, codes::INVALID_OTP, message),
            EngineError::Busy(_) => ApiError::new(StatusCode::TOO_MANY_REQUESTS, codes::BUSY, message),
            EngineError::ShuttingDown | EngineError::Storage(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::UNAVAILABLE, message)
            }
        }
    }
}
