//! API keys of the network's organisations (our design; CRM.COM manages keys in its
//! dashboard): `POST /backoffice/v2/api_keys`, `GET /backoffice/v2/api_keys`,
//! `GET /backoffice/v2/api_keys/{id}`, `POST /backoffice/v2/api_keys/{id}/roll`,
//! `POST /backoffice/v2/api_keys/{id}/revoke`. A key is shown in full once, in the response
//! that creates it; lists show a hint.

use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{PageQuery, Paged, Paging};
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::domain::ids::{ApiKeyId, Mode, OrganisationId};
use rewards_engine::domain::organisation::ApiKeyKind;
use rewards_engine::engine::{ApiKeyEntry, NewApiKey};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateApiKeyBody {
    /// PUBLIC (apps, pre-login self-service calls only) or SECRET (servers).
    #[serde(rename = "type")]
    pub key_type: String,
    /// LIVE or TEST; by default the calling key's mode.
    pub mode: Option<String>,
    pub name: Option<String>,
    /// By default the calling key's organisation; else one under it.
    pub organisation_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RollApiKeyBody {
    /// Until when (epoch seconds) the old key keeps working; by default one day from now,
    /// at most `auth.api_key_roll_overlap_max_s` ahead. Now stops it at once.
    pub expiration_date: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// By default the calling key's organisation.
    pub organisation_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyOrganisation {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub key_type: &'static str,
    pub mode: &'static str,
    /// ACTIVE, EXPIRED or REVOKED.
    pub state: &'static str,
    /// The key's first and last characters.
    pub masked_key: String,
    /// The key itself: only in the response that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub organisation: ApiKeyOrganisation,
    pub created_date: i64,
    pub expiration_date: Option<i64>,
    pub revoked_date: Option<i64>,
    /// The key that replaced this one, if it was rolled.
    pub rolled_to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    pub paging: Paging,
    pub content: Vec<ApiKeyView>,
}

impl From<ApiKeyEntry> for ApiKeyView {
    fn from(entry: ApiKeyEntry) -> Self {
        let record = entry.record;
        ApiKeyView {
            id: record.id.to_string(),
            name: record.name,
            key_type: record.kind.code(),
            mode: record.mode.code(),
            state: entry.state.code(),
            masked_key: record.hint,
            key: entry.key,
            organisation: ApiKeyOrganisation {
                id: record.organisation.to_string(),
                name: entry.organisation_name,
            },
            created_date: record.created_on,
            expiration_date: record.expires_on,
            revoked_date: record.revoked_on,
            rolled_to: record.rolled_to.map(|id| id.to_string()),
        }
    }
}

fn key_id(text: &str) -> Result<ApiKeyId, ApiError> {
    ApiKeyId::parse(text).map_err(|_| ApiError::not_found("api key"))
}

fn organisation_id(text: &str) -> Result<OrganisationId, ApiError> {
    OrganisationId::parse(text).map_err(|_| ApiError::not_found("organisation"))
}

/// Create a key for the caller's organisation or one under it (our addition).
#[utoipa::path(
    tag = "API keys",
    request_body = CreateApiKeyBody,
    responses((status = 201, body = ApiKeyView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/api_keys")]
pub async fn create_api_key(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<CreateApiKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let kind = match body.key_type.as_str() {
        "PUBLIC" => ApiKeyKind::Public,
        "SECRET" => ApiKeyKind::Secret,
        other => {
            return Err(ApiError::invalid(
                "type",
                format!("type must be PUBLIC or SECRET, not {other}"),
            ))
        }
    };
    let mode = match body.mode.as_deref() {
        None => auth.caller.mode,
        Some("LIVE") => Mode::Live,
        Some("TEST") => Mode::Test,
        Some(other) => {
            return Err(ApiError::invalid(
                "mode",
                format!("mode must be LIVE or TEST, not {other}"),
            ))
        }
    };
    let new = NewApiKey {
        organisation: body.organisation_id.as_deref().map(organisation_id).transpose()?,
        kind,
        mode,
        name: body.name.unwrap_or_default(),
    };
    let issued = engine.create_api_key(&auth.caller, new).await?;
    Ok(HttpResponse::Created().json(ApiKeyView::from(issued)))
}

/// The keys of an organisation, masked, paged; newest first unless `order=ASC` (our
/// addition).
#[utoipa::path(
    tag = "API keys",
    params(ListQuery, PageQuery),
    responses((status = 200, body = ApiKeyList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/api_keys")]
pub async fn list_api_keys(
    auth: BackOffice,
    engine: web::Data<Engine>,
    query: web::Query<ListQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let organisation = match query.organisation_id.as_deref() {
        Some(text) => organisation_id(text)?,
        None => auth.caller.organisation,
    };
    let mut keys = engine.api_keys(&auth.caller, organisation)?;
    if paged.descending {
        keys.reverse();
    }
    let (keys, paging) = paged.page_of(keys);
    Ok(HttpResponse::Ok().json(ApiKeyList {
        paging,
        content: keys.into_iter().map(ApiKeyView::from).collect(),
    }))
}

/// One key, masked (our addition).
#[utoipa::path(
    tag = "API keys",
    params(("id" = String, Path)),
    responses((status = 200, body = ApiKeyView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/api_keys/{id}")]
pub async fn get_api_key(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let entry = engine.api_key(&auth.caller, key_id(&path)?)?;
    Ok(HttpResponse::Ok().json(ApiKeyView::from(entry)))
}

/// Replace a key: the response holds the new key, shown once; the old one keeps working
/// until `expiration_date` (our addition).
#[utoipa::path(
    tag = "API keys",
    params(("id" = String, Path)),
    request_body = RollApiKeyBody,
    responses((status = 201, body = ApiKeyView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/api_keys/{id}/roll")]
pub async fn roll_api_key(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<RollApiKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let issued = engine
        .roll_api_key(&auth.caller, key_id(&path)?, body.expiration_date)
        .await?;
    Ok(HttpResponse::Created().json(ApiKeyView::from(issued)))
}

/// Stop a key at once (our addition). A secret key may not revoke itself while it is its
/// organisation's last active secret key of its mode (409): make another one first.
#[utoipa::path(
    tag = "API keys",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = ApiKeyView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The calling key is the organisation's last active secret key")
    ),
    security(("Secret_API_key" = []))
)]
#[post("/api_keys/{id}/revoke")]
pub async fn revoke_api_key(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let entry = engine
        .revoke_api_key(&auth.caller, key_id(&path)?, auth.api_key)
        .await?;
    Ok(HttpResponse::Ok().json(ApiKeyView::from(entry)))
}
