//! Contacts' accounts in the back office: `GET /backoffice/v2/contacts/{id}/accounts`,
//! `GET/PUT /backoffice/v2/accounts/{id}` (name, state, credit limit, ...) and the journal:
//! `GET /backoffice/v2/accounts/{id}/journals`, `POST` a manual journal line (our addition
//! until invoices and payments post their own).

use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::self_service::accounts::{
    account_id, account_view, journal_view, AccountJournalView, AccountJournalsQuery, AccountView, CustomField,
};
use crate::api::wire::{Money, PageQuery, Paged, PagedResponse};
use actix_web::{get, post, put, web, HttpResponse};
use rewards_engine::domain::account::{AccountState, JournalType};
use rewards_engine::domain::ids::{AccountJournalId, ContactId};
use rewards_engine::engine::{manual_journal, AccountUpdate};
use rewards_engine::Engine;
use serde::Deserialize;
use utoipa::ToSchema;

/// A contact's accounts, the primary one first.
#[utoipa::path(
    tag = "Accounts",
    params(("id" = String, Path), PageQuery),
    responses((status = 200, body = PagedResponse<AccountView>), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/contacts/{id}/accounts")]
pub async fn list_accounts(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let contact = ContactId::parse(&path).map_err(|_| ApiError::not_found("contact"))?;
    let views: Vec<AccountView> = engine
        .accounts(auth.tenant, contact)
        .await?
        .iter()
        .map(account_view)
        .collect();
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

/// An account, with its balance.
#[utoipa::path(
    tag = "Accounts",
    params(("id" = String, Path)),
    responses((status = 200, body = AccountView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/accounts/{id}")]
pub async fn get_account(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = engine.account(auth.tenant, None, account_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(account_view(&view)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackofficeAccountBody {
    pub name: Option<String>,
    /// ACTIVE, SUSPENDED (only the back office posts to it) or TERMINATED (for good).
    pub state: Option<String>,
    pub credit_limit: Option<Money>,
    pub classification_id: Option<String>,
    pub billing_address_id: Option<String>,
    pub is_primary: Option<bool>,
    pub custom_fields: Option<Vec<CustomField>>,
}

/// Changes an account; all or nothing.
#[utoipa::path(
    tag = "Accounts",
    params(("id" = String, Path)),
    request_body = BackofficeAccountBody,
    responses(
        (status = 200, body = AccountView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[put("/accounts/{id}")]
pub async fn update_account(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<BackofficeAccountBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let state = body
        .state
        .as_deref()
        .map(|code| {
            AccountState::parse(code)
                .ok_or_else(|| ApiError::invalid("state", "must be ACTIVE, SUSPENDED or TERMINATED"))
        })
        .transpose()?;
    let update = AccountUpdate {
        is_primary: body.is_primary,
        name: body.name,
        classification: body.classification_id.map(Some),
        billing_address: body.billing_address_id.map(Some),
        custom_fields: body
            .custom_fields
            .map(|fields| fields.into_iter().map(|field| (field.key, field.value)).collect()),
        state,
        credit_limit: body.credit_limit.map(|limit| limit.0),
    };
    let view = engine
        .update_account(auth.tenant, None, account_id(&path)?, update)
        .await?;
    Ok(HttpResponse::Ok().json(account_view(&view)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualJournalBody {
    /// The line's id, for retries: the same id is answered with the line first posted.
    pub id: Option<String>,
    /// DEBIT (the contact owes more) or CREDIT.
    #[serde(rename = "type")]
    pub journal_type: Option<String>,
    pub amount: Option<Money>,
    pub notes: Option<String>,
}

/// Posts a manual journal line to an account (our addition): a DEBIT raises what the
/// contact owes, a CREDIT lowers it. A suspended account takes it; a terminated one does not.
#[utoipa::path(
    tag = "Accounts",
    params(("id" = String, Path)),
    request_body = ManualJournalBody,
    responses(
        (status = 201, body = AccountJournalView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[post("/accounts/{id}/journals")]
pub async fn post_journal(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<ManualJournalBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let kind = body
        .journal_type
        .as_deref()
        .ok_or_else(|| ApiError::missing("type"))
        .and_then(|code| {
            JournalType::parse(code).ok_or_else(|| ApiError::invalid("type", "must be CREDIT or DEBIT"))
        })?;
    let amount = body.amount.ok_or_else(|| ApiError::missing("amount"))?.0;
    let id = body
        .id
        .as_deref()
        .map(|id| AccountJournalId::parse(id).map_err(|_| ApiError::invalid("id", "must be a UUID")))
        .transpose()?;
    let (_, line) = engine
        .post_account_journal(
            auth.tenant,
            account_id(&path)?,
            manual_journal(id, kind, amount, body.notes),
        )
        .await?;
    Ok(HttpResponse::Created().json(journal_view(&line)))
}

/// An account's posted lines, newest first by default; the last 12 months unless dates are given.
#[utoipa::path(
    tag = "Accounts",
    params(("id" = String, Path), PageQuery),
    responses((status = 200, body = PagedResponse<AccountJournalView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/accounts/{id}/journals")]
pub async fn list_journals(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<AccountJournalsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let query = query.query()?;
    let (lines, more, total) = engine
        .account_journals(auth.tenant, None, account_id(&path)?, &query, paged.engine_page())
        .await?;
    Ok(HttpResponse::Ok().json(PagedResponse {
        paging: paged.paging(total, more),
        content: lines.iter().map(journal_view).collect(),
    }))
}
