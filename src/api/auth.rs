//! Authentication of back-office calls (D10). The caller is either
//! - a secret API key in the `api_key` header: its organisation, acting as an admin, or
//! - a user's access token (`authorization: <jwt>` as CRM.COM's back-office clients send
//!   it, or `Authorization: Bearer <jwt>`): the organisation the user signed in to or
//!   switched into, with the user's role there.
//!
//! When both come, the token decides who calls (its organisation and role) and the key
//! bounds it: the key must be valid, of the token's mode, and the token's organisation
//! must be in the key's network (the key's business, or a service owner's whole network).
//! A token of one business sent with another business's key is refused (403).
//!
//! Either way the tenant (whose contacts and wallets the call works on) is the business at
//! or above the caller's organisation, in the caller's mode. Handlers never see a request
//! whose key or token was missing, unknown, expired, revoked or of the wrong kind.

use super::errors::{codes, ApiError};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use rewards_engine::domain::access::Caller;
use rewards_engine::domain::ids::{ApiKeyId, Mode, OrganisationId, Tenant, UserId};
use rewards_engine::domain::organisation::{ApiKeyKind, ApiKeyRecord};
use rewards_engine::engine::VerifiedToken;
use rewards_engine::{Engine, EngineError};
use std::future::{ready, Ready};
use std::sync::Arc;

pub const API_KEY_HEADER: &str = "api_key";

/// A back-office request: who calls, and the tenant it works on.
#[derive(Debug, Clone, Copy)]
pub struct BackOffice {
    pub caller: Caller,
    pub tenant: Tenant,
    /// The API key the request came with, when it came with one instead of a user's token.
    pub api_key: Option<ApiKeyId>,
}

/// The engine from the app data.
pub fn engine(request: &HttpRequest) -> Result<&Engine, ApiError> {
    request
        .app_data::<web::Data<Engine>>()
        .map(|data| data.get_ref())
        .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, codes::UNAVAILABLE, "engine missing"))
}

fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// The `api_key` header's key, checked (known, not expired, not revoked).
pub fn api_key(request: &HttpRequest) -> Result<Arc<ApiKeyRecord>, ApiError> {
    let key = header(request, API_KEY_HEADER).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHORIZED,
            "the api_key header is required",
        )
    })?;
    Ok(engine(request)?.authenticate_api_key(key)?)
}

/// The token of the `Authorization` header, if there is one: `Bearer <token>`, or the bare
/// token as CRM.COM's back-office clients send it.
pub fn bearer(request: &HttpRequest) -> Result<Option<&str>, ApiError> {
    match header(request, "authorization") {
        None => Ok(None),
        Some(value) => match value.split_once(' ') {
            None => Ok(Some(value)),
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
                Ok(Some(token.trim()))
            }
            Some(_) => {
                Err(EngineError::InvalidToken("expected Authorization: Bearer <token>, or the token alone").into())
            }
        },
    }
}

/// A verified access token from the `Authorization` header.
pub fn access_token(request: &HttpRequest) -> Result<Option<VerifiedToken>, ApiError> {
    match bearer(request)? {
        None => Ok(None),
        Some(token) => Ok(Some(engine(request)?.verify_access_token(token)?)),
    }
}

pub fn parse_mode(text: &str) -> Option<Mode> {
    Mode::parse(text)
}

fn user_caller(engine: &Engine, token: &VerifiedToken) -> Result<Caller, ApiError> {
    let claims = &token.claims;
    if claims.typ != "user" {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            "back-office calls need a user's token or a secret key; a contact's token reaches self-service calls only",
        ));
    }
    let malformed = || ApiError::from(EngineError::InvalidToken("malformed claims"));
    let user = UserId::parse(&claims.sub).map_err(|_| malformed())?;
    let organisation = OrganisationId::parse(&claims.org).map_err(|_| malformed())?;
    let mode = parse_mode(&claims.mode).ok_or_else(malformed)?;
    Ok(engine.user_caller(user, organisation, mode)?)
}

fn authenticate(request: &HttpRequest) -> Result<BackOffice, ApiError> {
    let engine = engine(request)?;
    let mut calling_key = None;
    let caller = match access_token(request)? {
        Some(token) => {
            let caller = user_caller(engine, &token)?;
            if header(request, API_KEY_HEADER).is_some() {
                let key = api_key(request)?;
                if key.mode != caller.mode {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        codes::FORBIDDEN,
                        "the api_key and the token are of different modes (live and test never meet)",
                    ));
                }
                let network = engine.business_of(key.organisation)?;
                if engine.organisation_for(network, caller.organisation).is_err() {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        codes::FORBIDDEN,
                        "the token acts in an organisation outside the api_key's network",
                    ));
                }
            }
            caller
        }
        None => {
            let record = api_key(request)?;
            if record.kind != ApiKeyKind::Secret {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    codes::FORBIDDEN,
                    "this call needs a secret API key or a user's token; public keys reach only pre-login calls",
                ));
            }
            calling_key = Some(record.id);
            Caller::key(record.organisation, record.mode)
        }
    };
    // A user's token may outlive the organisation it acts in (a removed venue's keys are
    // revoked with it): a caller whose organisation is gone is not authenticated.
    let business = engine.business_of(caller.organisation).map_err(|error| match error {
        EngineError::NotFound(_) => EngineError::InvalidToken("the organisation no longer exists"),
        other => other,
    })?;
    Ok(BackOffice {
        api_key: calling_key,
        caller,
        tenant: Tenant {
            organisation: business,
            mode: caller.mode,
        },
    })
}

impl FromRequest for BackOffice {
    type Error = ApiError;
    type Future = Ready<Result<BackOffice, ApiError>>;

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
