//! The HTTP façade (D12): authenticate, parse into domain types, one engine call, render.
//! One module per API family, each exposing `scope()`.

pub mod auth;
pub mod backoffice;
pub mod errors;
pub mod openapi;
pub mod self_service;
pub mod wire;

use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use errors::{codes, ApiError};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// UP while the server accepts work.
    pub status: &'static str,
}

/// Liveness (our addition).
#[utoipa::path(tag = "Engine additions", responses((status = 200, body = Health)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "UP" })
}

/// Prometheus metrics in text format (our addition). Aggregate counts only, no tenant data.
#[utoipa::path(tag = "Engine additions", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn prometheus_metrics(handle: web::Data<metrics_exporter_prometheus::PrometheusHandle>) -> HttpResponse {
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

#[derive(Serialize, ToSchema)]
pub struct JwksView {
    /// Ed25519 public keys (RFC 8037) that verify access tokens, by `kid`.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<rewards_engine::engine::Jwk>,
}

/// The public keys that verify this engine's access tokens (JWKS).
#[utoipa::path(tag = "Engine additions", responses((status = 200, body = JwksView)))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(engine: web::Data<rewards_engine::Engine>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "max-age=300"))
        .json(JwksView { keys: engine.jwks() })
}

/// Path segments that are part of a route; any other segment is an id or code.
const ROUTE_WORDS: &[&str] = &[
    "backoffice",
    "self-service",
    "register",
    "sign_out",
    "otp",
    "validate_otp",
    "request_email_verification",
    "verify_email",
    "forgot_password",
    "change_password",
    "oidc",
    "identities",
    "v2",
    "contacts",
    "reward_offers",
    "life_cycle_state",
    "purchases",
    "cancel",
    "bulk",
    "wallets",
    "journals",
    "organisations",
    "network",
    "switch",
    "users",
    "authenticate",
    "refresh",
    ".well-known",
    "jwks.json",
    "api_keys",
    "roll",
    "revoke",
    "health",
    "metrics",
    "openapi.json",
];

/// The route a path belongs to, with ids replaced by `{id}` (`/backoffice/v2/wallets/{id}`).
/// Cheaper than asking the router again, and bounded: unknown paths cannot blow up the
/// metric's label set.
fn route_label(path: &str) -> String {
    let mut label = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty()).take(6) {
        label.push('/');
        label.push_str(if ROUTE_WORDS.contains(&segment) {
            segment
        } else {
            "{id}"
        });
    }
    if label.is_empty() {
        label.push('/');
    }
    label
}

/// Counts and times every request by route pattern, method and status. A panic while
/// handling a request is caught here and answered with 500 and a stable code, so the
/// connection and the worker survive it (a panic is a bug, logged with its text).
pub async fn observe(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use crate::metrics as names;
    use futures_util::FutureExt;
    let started = std::time::Instant::now();
    let route = route_label(request.path());
    let method = request.method().as_str().to_string();
    let response = match std::panic::AssertUnwindSafe(next.call(request)).catch_unwind().await {
        Ok(response) => response?,
        Err(panic) => {
            let text = rewards_engine::panic_text(panic.as_ref());
            tracing::error!(%route, %method, panic = %text, "request handler panicked");
            let labels = [("route", route), ("method", method), ("status", "500".to_string())];
            ::metrics::counter!(names::HTTP_REQUESTS_TOTAL, &labels).increment(1);
            // Rendered by actix from the error, like any handler's error.
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL,
                "the request could not be handled; nothing was changed",
            )
            .into());
        }
    };
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    ::metrics::counter!(names::HTTP_REQUESTS_TOTAL, &labels).increment(1);
    ::metrics::histogram!(names::HTTP_REQUEST_SECONDS, &labels).record(started.elapsed().as_secs_f64());
    Ok(response)
}

fn query_error(error: QueryPayloadError, _request: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        codes::INVALID_VALUE,
        format!("invalid query: {error}"),
    )
    .into()
}

fn path_error(error: PathError, _request: &HttpRequest) -> actix_web::Error {
    ApiError::new(
        StatusCode::NOT_FOUND,
        codes::NOT_FOUND,
        format!("invalid path: {error}"),
    )
    .into()
}

async fn unknown_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        codes::NOT_FOUND,
        "no such endpoint",
    ))
}

/// Every route, extractor limit and error handler of the server.
pub fn configure(body_bytes_max: usize, bulk_body_bytes_max: usize) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(web::PayloadConfig::new(body_bytes_max))
            .app_data(wire::BodyLimit(body_bytes_max))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .service(health)
            .service(openapi::openapi_json)
            .service(jwks)
            .service(backoffice::scope(bulk_body_bytes_max))
            .service(self_service::scope())
            .default_service(web::to(unknown_route));
    }
}
