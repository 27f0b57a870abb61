//! Authentication of back-office calls: the secret API key in the `api_key` header decides
//! the caller (its organisation and live/test mode, D10) and the tenant whose contacts and
//! wallets it works on (the business at or above the key's organisation). Handlers never
//! see a request whose key was missing, unknown, expired, revoked or public.

use super::errors::{codes, ApiError};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use rewards_engine::domain::access::Caller;
use rewards_engine::domain::ids::Tenant;
use rewards_engine::domain::organisation::ApiKeyKind;
use rewards_engine::Engine;
use std::future::{ready, Ready};

pub const API_KEY_HEADER: &str = "api_key";

/// A request made with a secret API key: who calls, and the tenant it works on.
#[derive(Debug, Clone, Copy)]
pub struct SecretKey {
    pub caller: Caller,
    pub tenant: Tenant,
}

fn authenticate(request: &HttpRequest) -> Result<SecretKey, ApiError> {
    let engine = request
        .app_data::<web::Data<Engine>>()
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, codes::UNAVAILABLE, "engine missing"))?;
    let key = request
        .headers()
        .get(API_KEY_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORIZED,
                "the api_key header is required",
            )
        })?;
    let record = engine.authenticate_api_key(key)?;
    if record.kind != ApiKeyKind::Secret {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            "this call needs a secret API key; public keys reach only pre-login self-service calls",
        ));
    }
    Ok(SecretKey {
        caller: Caller::key(record.organisation, record.mode),
        tenant: Tenant {
            organisation: engine.business_of(record.organisation)?,
            mode: record.mode,
        },
    })
}

impl FromRequest for SecretKey {
    type Error = ApiError;
    type Future = Ready<Result<SecretKey, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(authenticate(request))
    }
}

/// The optional `Idempotency-Key` header of create calls (D4).
pub fn idempotency_key(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    match request.headers().get("Idempotency-Key") {
        None => Ok(None),
        Some(value) => {
            let text = value
                .to_str()
                .map_err(|_| ApiError::invalid("Idempotency-Key", "must be printable ASCII"))?;
            let text = text.trim();
            if text.is_empty() || text.len() > 255 {
                return Err(ApiError::invalid("Idempotency-Key", "must be 1 to 255 characters"));
            }
            Ok(Some(text.to_string()))
        }
    }
}
