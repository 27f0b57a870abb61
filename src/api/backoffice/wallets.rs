//! `GET /backoffice/v2/wallets/{id}` and `GET /backoffice/v2/wallets/{id}/journals`.

use super::purchases::{balance, Balance};
use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money, PageQuery, Paged, PagedResponse};
use actix_web::{get, put, web, HttpResponse};
use rewards_engine::domain::ids::WalletId;
use rewards_engine::domain::money::{with_minor_units, Currency};
use rewards_engine::engine::JournalLine;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletContact {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletView {
    pub id: String,
    pub code: String,
    pub currency_code: String,
    pub total_balance: Money,
    pub total_open: Money,
    pub total_commerce: Money,
    /// Our addition: value reversed after it was spent, settled first from later credits.
    pub shortfall: Money,
    /// Our addition: held for purchase estimates (not in the balances above).
    pub held: Money,
    pub spend_settings: SpendSettingsView,
    pub balances: Vec<Balance>,
    pub contact: WalletContact,
}

/// Whether the contact can spend, as CRM.COM shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpendBlockedView {
    pub status: bool,
    /// When it last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpendSettingsView {
    pub spend_blocked: SpendBlockedView,
    /// Purchases with no spend request spend what the wallet holds, up to their total.
    pub auto_spend: bool,
}

impl From<rewards_engine::domain::wallet::SpendSettings> for SpendSettingsView {
    fn from(settings: rewards_engine::domain::wallet::SpendSettings) -> Self {
        SpendSettingsView {
            spend_blocked: SpendBlockedView {
                status: settings.blocked,
                date: settings.blocked_on,
            },
            auto_spend: settings.auto_spend,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendSettingsBody {
    pub spend_blocked: Option<bool>,
    pub auto_spend: Option<bool>,
}

/// Block or unblock a contact's spending, or set its auto-spend (our addition). A block
/// stops every spend, transfer and estimate hold from its wallet once it is answered.
#[utoipa::path(
    tag = "Contacts",
    params(("id" = String, Path)),
    request_body = SpendSettingsBody,
    responses((status = 200, body = SpendSettingsView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[put("/contacts/{id}/spend_settings")]
pub async fn set_spend_settings(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<SpendSettingsBody>,
) -> Result<HttpResponse, ApiError> {
    let contact = rewards_engine::domain::ids::ContactId::parse(&path).map_err(|_| ApiError::not_found("contact"))?;
    let body = body.into_inner();
    let settings = engine
        .set_spend_settings(auth.tenant, contact, body.spend_blocked, body.auto_spend)
        .await?;
    Ok(HttpResponse::Ok().json(SpendSettingsView::from(settings)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JournalPurchase {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JournalView {
    pub id: String,
    /// CREDIT or DEBIT.
    #[serde(rename = "type")]
    pub journal_type: &'static str,
    /// AWARD, SPEND, EXPIRATION, AWARD_REVERSAL, SPEND_REVERSAL, SHORTFALL_SETTLEMENT,
    /// TRANSFER, HOLD or HOLD_RELEASE.
    pub transaction_type: &'static str,
    pub amount: Money,
    pub currency: String,
    pub posted_on: i64,
    /// For credits that opened a lot with an expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<i64>,
    /// The purchase the line came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase: Option<JournalPurchase>,
    /// The transfer the line came from (sent, received, or given back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<JournalPurchase>,
    /// What the line is, in words.
    pub description: &'static str,
    /// For a credit that opened a lot: what is left of it (when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unallocated_amount: Option<Money>,
}

/// A journal line as the contract shows it; `unallocated` adds what is left of a credit's lot.
pub fn journal_view(line: JournalLine, currency: Currency, unallocated: bool) -> JournalView {
    let exact = |value| money(with_minor_units(value, currency));
    let left = match (&line.lot, &line.entry.new_lot) {
        (Some(lot), Some(_)) if unallocated => Some(exact(lot.remaining)),
        _ => None,
    };
    JournalView {
        id: line.id.to_string(),
        journal_type: if line.entry.kind.is_credit() { "CREDIT" } else { "DEBIT" },
        transaction_type: line.entry.kind.transaction_type(),
        amount: exact(line.entry.amount),
        currency: currency.code().to_string(),
        posted_on: line.posted_on,
        expiration_date: line.entry.new_lot.and_then(|lot| lot.expires_at),
        purchase: line.purchase.map(|id| JournalPurchase { id: id.to_string() }),
        transfer: line.cause.transfer().map(|id| JournalPurchase { id: id.to_string() }),
        description: line.cause.description(),
        unallocated_amount: left,
    }
}

fn wallet_id(text: &str) -> Result<WalletId, ApiError> {
    WalletId::parse(text).map_err(|_| ApiError::not_found("wallet"))
}

/// A wallet's balances.
#[utoipa::path(
    tag = "Wallets",
    params(("id" = String, Path)),
    responses((status = 200, body = WalletView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/wallets/{id}")]
pub async fn get_wallet(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = engine.wallet(auth.tenant, wallet_id(&path)?).await?;
    let currency = view.header.currency;
    let exact = |value| money(with_minor_units(value, currency));
    Ok(HttpResponse::Ok().json(WalletView {
        id: view.header.id.to_string(),
        code: view.header.code.as_str().to_string(),
        currency_code: currency.code().to_string(),
        total_balance: exact(view.balances.total),
        total_open: exact(view.balances.open),
        total_commerce: exact(view.balances.commerce),
        shortfall: exact(view.balances.shortfall),
        held: exact(view.held),
        spend_settings: SpendSettingsView::from(view.spend),
        balances: vec![balance(currency, &view.balances)],
        contact: WalletContact {
            id: view.header.contact_id.to_string(),
        },
    }))
}

/// A wallet's journal: one line per credit or debit, newest first by default.
#[utoipa::path(
    tag = "Wallets",
    params(("id" = String, Path), PageQuery),
    responses((status = 200, body = PagedResponse<JournalView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/wallets/{id}/journals")]
pub async fn list_journals(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let id = wallet_id(&path)?;
    let journal = engine
        .wallet_journal(auth.tenant, id, paged.engine_page(), &Default::default())
        .await?;
    let currency = journal.wallet.header.currency;
    let content = journal
        .lines
        .into_iter()
        .map(|line| journal_view(line, currency, false))
        .collect();
    Ok(HttpResponse::Ok().json(PagedResponse {
        paging: paged.paging(journal.total, journal.more),
        content,
    }))
}
