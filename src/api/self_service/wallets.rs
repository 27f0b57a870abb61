//! The contact's wallet in apps: `GET /self-service/v2/wallets/{id}` (the contract's wallet:
//! its code and balances) and `GET /self-service/v2/wallets/{id}/code`. Only the signed-in
//! contact's own wallet is found.

use super::{client_address, AppKey, ContactToken};
use crate::api::backoffice::purchases::{balance, Balance};
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money};
use actix_web::{get, web, HttpRequest, HttpResponse};
use rewards_engine::actors::wallet::WalletView;
use rewards_engine::domain::ids::WalletId;
use rewards_engine::domain::money::with_minor_units;
use rewards_engine::engine::ContactLookup;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactWalletView {
    pub id: String,
    pub code: String,
    pub balances: Vec<Balance>,
    pub total_balance: Money,
    pub total_open: Money,
    pub total_commerce: Money,
    /// Our addition: value reversed after it was spent, settled first from later credits.
    pub shortfall: Money,
    /// Our addition: held for purchase estimates, out of the balances until used or given back.
    pub held: Money,
}

/// The signed-in contact's wallet named by the path (another's, or none, is not found).
async fn own_wallet(token: &ContactToken, engine: &Engine, path: &str) -> Result<WalletView, ApiError> {
    let id = WalletId::parse(path).map_err(|_| ApiError::not_found("wallet"))?;
    Ok(engine.own_wallet(token.tenant, token.contact, id).await?)
}

/// The signed-in contact's wallet.
#[utoipa::path(
    tag = "Self-service wallets",
    params(("id" = String, Path)),
    responses((status = 200, body = ContactWalletView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/wallets/{id}")]
pub async fn get_wallet(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = own_wallet(&token, &engine, &path).await?;
    let currency = view.header.currency;
    let exact = |value| money(with_minor_units(value, currency));
    Ok(HttpResponse::Ok().json(ContactWalletView {
        id: view.header.id.to_string(),
        code: view.header.code.as_str().to_string(),
        balances: vec![balance(currency, &view.balances)],
        total_balance: exact(view.balances.total),
        total_open: exact(view.balances.open),
        total_commerce: exact(view.balances.commerce),
        shortfall: exact(view.balances.shortfall),
        held: exact(view.held),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletCodeView {
    /// The wallet's static code (16 digits), which a till takes to name the contact.
    pub code: String,
}

/// The signed-in contact's wallet code (static: the business has no dynamic codes).
#[utoipa::path(
    tag = "Self-service wallets",
    params(("id" = String, Path)),
    responses((status = 200, body = WalletCodeView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/wallets/{id}/code")]
pub async fn get_wallet_code(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = own_wallet(&token, &engine, &path).await?;
    Ok(HttpResponse::Ok().json(WalletCodeView {
        code: view.header.code.as_str().to_string(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WalletExistsQuery {
    /// EMAIL or PHONE.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub identity_type: Option<String>,
    /// The email address or phone number.
    pub value: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletExistsView {
    pub wallet_exists: bool,
}

/// Whether a contact of the business signs in with this email or phone (every contact has
/// a wallet). Limited per client address (429 with `Retry-After` past it).
#[utoipa::path(
    tag = "Self-service wallets",
    params(WalletExistsQuery),
    responses(
        (status = 200, body = WalletExistsView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)
    ),
    security(("Public_API_key" = []))
)]
#[get("/wallets/wallet_exists")]
pub async fn wallet_exists(
    app: AppKey,
    request: HttpRequest,
    engine: web::Data<Engine>,
    query: web::Query<WalletExistsQuery>,
) -> Result<HttpResponse, ApiError> {
    let value = query.value.clone().ok_or_else(|| ApiError::missing("value"))?;
    let lookup = match query.identity_type.as_deref() {
        Some("EMAIL") => ContactLookup::Email(value),
        Some("PHONE") => ContactLookup::Phone(value),
        Some(_) => return Err(ApiError::invalid("type", "must be EMAIL or PHONE")),
        None => return Err(ApiError::missing("type")),
    };
    let exists = engine.wallet_exists(&app.tenant, &lookup, client_address(&request))?;
    Ok(HttpResponse::Ok().json(WalletExistsView { wallet_exists: exists }))
}
