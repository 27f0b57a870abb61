//! What the contact's wallet holds and where it came from, in apps:
//! `GET /self-service/v2/wallets/{id}/journals` (every credit and debit, filtered as the
//! contract has it) and `GET /self-service/v2/wallets/{id}/commerce_balances` (what it holds
//! per named commerce pool). Only the signed-in contact's own wallet is found.

use super::ContactToken;
use crate::api::backoffice::wallets::{journal_view, JournalView};
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money, Paged, PagedResponse};
use actix_web::{get, web, HttpResponse};
use rewards_engine::domain::ids::{CommercePoolId, WalletId};
use rewards_engine::domain::money::with_minor_units;
use rewards_engine::domain::wallet::Pocket;
use rewards_engine::engine::JournalFilter;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Longest `transaction_type` filter, in characters.
const TRANSACTION_TYPE_MAX: usize = 64;

#[derive(Debug, Deserialize, IntoParams)]
pub struct JournalsQuery {
    /// Lines of this named commerce pool only.
    pub commerce_pool_id: Option<String>,
    /// Show what is left of each credit (`unallocated_amount`).
    pub include_unallocated_credit: Option<bool>,
    /// Lines of commerce (reward) money.
    pub is_commerce: Option<bool>,
    /// Lines of open money.
    pub is_open: Option<bool>,
    /// Wallet fee lines only (the engine charges none).
    pub is_wallet_fee: Option<bool>,
    /// Posted exactly then (epoch seconds).
    pub posted_on: Option<i64>,
    #[serde(rename = "posted_on[gt]")]
    #[param(rename = "posted_on[gt]")]
    pub posted_on_gt: Option<i64>,
    #[serde(rename = "posted_on[gte]")]
    #[param(rename = "posted_on[gte]")]
    pub posted_on_gte: Option<i64>,
    #[serde(rename = "posted_on[lt]")]
    #[param(rename = "posted_on[lt]")]
    pub posted_on_lt: Option<i64>,
    #[serde(rename = "posted_on[lte]")]
    #[param(rename = "posted_on[lte]")]
    pub posted_on_lte: Option<i64>,
    /// AWARD, SPEND, EXPIRATION, AWARD_REVERSAL, SPEND_REVERSAL, SHORTFALL_SETTLEMENT,
    /// TRANSFER, HOLD or HOLD_RELEASE.
    pub transaction_type: Option<String>,
    /// CREDIT or DEBIT.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub journal_type: Option<String>,
}

impl JournalsQuery {
    fn filter(&self) -> Result<JournalFilter, ApiError> {
        let credit = match self.journal_type.as_deref() {
            None => None,
            Some("CREDIT") => Some(true),
            Some("DEBIT") => Some(false),
            Some(_) => return Err(ApiError::invalid("type", "must be CREDIT or DEBIT")),
        };
        if let Some(kind) = &self.transaction_type {
            if kind.is_empty()
                || kind.len() > TRANSACTION_TYPE_MAX
                || !kind.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
            {
                return Err(ApiError::invalid(
                    "transaction_type",
                    format!("must be a transaction type: 1 to {TRANSACTION_TYPE_MAX} capital letters or '_'"),
                ));
            }
        }
        let pool = self
            .commerce_pool_id
            .as_deref()
            .map(|id| CommercePoolId::parse(id).map_err(|_| ApiError::invalid("commerce_pool_id", "must be a pool id")))
            .transpose()?;
        let pocket = match (
            self.is_open == Some(true),
            self.is_commerce == Some(true) || pool.is_some(),
        ) {
            (true, false) => Some(Pocket::Open),
            (false, true) => Some(Pocket::Commerce),
            _ => None,
        };
        let (posted_from, posted_to) = posted_range(
            self.posted_on,
            self.posted_on_gt,
            self.posted_on_gte,
            self.posted_on_lt,
            self.posted_on_lte,
        );
        Ok(JournalFilter {
            credit,
            transaction_type: self.transaction_type.clone(),
            posted_from,
            posted_to,
            pocket,
            pool,
            fees_only: self.is_wallet_fee == Some(true),
            with_lots: self.include_unallocated_credit == Some(true),
        })
    }
}

/// Inclusive (from, to) bounds from `posted_on` and its `[gt]`, `[gte]`, `[lt]`, `[lte]`.
pub(super) fn posted_range(
    on: Option<i64>,
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
) -> (Option<i64>, Option<i64>) {
    let from = [on, gte, gt.map(|gt| gt.saturating_add(1))].into_iter().flatten().max();
    let to = [on, lte, lt.map(|lt| lt.saturating_sub(1))].into_iter().flatten().min();
    (from, to)
}

/// The signed-in contact's own wallet named by the path (another's, or none: not found).
pub(super) fn own_wallet_id(token: &ContactToken, engine: &Engine, path: &str) -> Result<WalletId, ApiError> {
    let id = WalletId::parse(path).map_err(|_| ApiError::not_found("wallet"))?;
    engine.check_own_wallet(token.tenant, token.contact, id)?;
    Ok(id)
}

/// The signed-in contact's wallet journal: one line per credit or debit, newest first by
/// default.
#[utoipa::path(
    tag = "Self-service wallets",
    params(("id" = String, Path), JournalsQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<JournalView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/wallets/{id}/journals")]
pub async fn list_journals(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<JournalsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let id = own_wallet_id(&token, &engine, &path)?;
    let journal = engine
        .wallet_journal(token.tenant, id, paged.engine_page(), &filter)
        .await?;
    let currency = journal.wallet.header.currency;
    let content = journal
        .lines
        .into_iter()
        .map(|line| journal_view(line, currency, filter.with_lots))
        .collect();
    Ok(HttpResponse::Ok().json(PagedResponse {
        paging: paged.paging(journal.total, journal.more),
        content,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CommerceBalancesQuery {
    /// This pool only.
    pub commerce_pool_id: Option<String>,
    /// Show when the amounts expire.
    pub include_expiration: Option<bool>,
    /// Only pools the contact may spend from now: none needs activating yet, so every pool.
    pub is_active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpirationView {
    pub zero_to_thirty: Money,
    pub thirty_to_sixty: Money,
    pub sixty_to_ninety: Money,
    pub ninety_plus: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PoolOrganisationView {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub organisation_type: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommerceBalanceView {
    /// The pool's id.
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub amount: Money,
    pub currency_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<ExpirationView>,
    /// Where the pool's money may be spent (and below them); empty: anywhere.
    pub organisations: Vec<PoolOrganisationView>,
}

/// What the signed-in contact's wallet holds per named commerce pool, the largest first.
/// Commerce money outside every named pool is in the wallet's `total_commerce` only.
#[utoipa::path(
    tag = "Self-service wallets",
    params(("id" = String, Path), CommerceBalancesQuery),
    responses(
        (status = 200, body = PagedResponse<CommerceBalanceView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/wallets/{id}/commerce_balances")]
pub async fn commerce_balances(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<CommerceBalancesQuery>,
) -> Result<HttpResponse, ApiError> {
    let only = query
        .commerce_pool_id
        .as_deref()
        .map(|id| CommercePoolId::parse(id).map_err(|_| ApiError::invalid("commerce_pool_id", "must be a pool id")))
        .transpose()?;
    let id = own_wallet_id(&token, &engine, &path)?;
    let holdings = engine.wallet_holdings(token.tenant, id).await?;
    let currency = holdings.view.header.currency;
    let exact = |value| money(with_minor_units(value, currency));
    let mut content = Vec::new();
    for balance in holdings
        .pools
        .into_iter()
        .filter(|balance| only.is_none_or(|only| only == balance.pool))
    {
        // A pool is never deleted; one that cannot be read is left out rather than guessed.
        let Ok(pool) = engine.commerce_pool(&token.tenant, balance.pool) else {
            continue;
        };
        let organisations = pool
            .conditions
            .organisations
            .iter()
            .filter_map(|id| engine.organisation(*id).ok())
            .map(|organisation| PoolOrganisationView {
                id: organisation.id.to_string(),
                name: organisation.name,
                organisation_type: organisation.organisation_type.code(),
            })
            .collect();
        let expiring = balance.expiring;
        content.push(CommerceBalanceView {
            id: pool.id.to_string(),
            name: pool.name,
            description: pool.description,
            amount: exact(balance.amount),
            currency_code: currency.code().to_string(),
            expiration: (query.include_expiration == Some(true)).then(|| ExpirationView {
                zero_to_thirty: exact(expiring.zero_to_thirty),
                thirty_to_sixty: exact(expiring.thirty_to_sixty),
                sixty_to_ninety: exact(expiring.sixty_to_ninety),
                ninety_plus: exact(expiring.ninety_plus),
            }),
            organisations,
        });
    }
    let paging = crate::api::wire::Paging {
        page: 1,
        size: content.len(),
        total: Some(content.len()),
        has_more: false,
    };
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}
