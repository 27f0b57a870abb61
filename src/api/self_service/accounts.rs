//! The contact's accounts and their journals: `GET/POST /self-service/v2/contacts/{id}/accounts`,
//! `GET/PUT /self-service/v2/accounts/{id}`, `GET /self-service/v2/accounts/{id}/journals` and
//! `GET /self-service/v2/journals/{id}`. Only the signed-in contact's own accounts are found.

use super::wallet_journals::posted_range;
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money, Paged, PagedResponse};
use actix_web::{get, post, put, web, HttpResponse};
use rewards_engine::domain::account::{AccountJournal, AccountTransaction, JournalType};
use rewards_engine::domain::ids::{AccountId, AccountJournalId};
use rewards_engine::domain::money::{with_minor_units, Currency};
use rewards_engine::engine::{AccountUpdate, AccountView as EngineAccount, JournalQuery, NewAccount};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct CustomField {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdView {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub is_primary: bool,
    pub name: String,
    pub number: String,
    /// ACTIVE, SUSPENDED or TERMINATED.
    pub state: &'static str,
    pub currency_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<IdView>,
    pub custom_fields: Vec<CustomField>,
    /// What the contact owes (below zero: paid ahead).
    pub balance: Money,
    /// Nothing falls due yet (no invoices): always 0.
    pub overdue_amount: Money,
    pub credit_limit: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<IdView>,
}

pub fn account_view(view: &EngineAccount) -> AccountView {
    let account = &view.account;
    let exact = |value| money(with_minor_units(value, account.currency));
    AccountView {
        id: account.id.to_string(),
        is_primary: view.is_primary,
        name: account.name.clone(),
        number: account.number.clone(),
        state: account.state.code(),
        currency_code: account.currency.code().to_string(),
        classification: account.classification.clone().map(|id| IdView { id }),
        custom_fields: account
            .custom_fields
            .iter()
            .map(|(key, value)| CustomField {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        balance: exact(account.balance),
        overdue_amount: exact(rust_decimal::Decimal::ZERO),
        credit_limit: exact(account.credit_limit),
        billing_address: account.billing_address.clone().map(|id| IdView { id }),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountBody {
    pub name: Option<String>,
    pub classification_id: Option<String>,
    /// ISO 4217 (required by the contract).
    pub currency_code: Option<String>,
    pub is_primary: Option<bool>,
    pub billing_address_id: Option<String>,
    pub custom_fields: Option<Vec<CustomField>>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AccountsQuery {
    pub currency_code: Option<String>,
    pub is_primary: Option<bool>,
}

fn currency(parameter: &str, code: &str) -> Result<Currency, ApiError> {
    Currency::parse(code).map_err(|error| ApiError::invalid(parameter, error.to_string()))
}

/// The signed-in contact's accounts, the primary one first.
#[utoipa::path(
    tag = "Contact Accounts",
    params(("id" = String, Path), AccountsQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<AccountView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/accounts")]
pub async fn list_accounts(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<AccountsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let wanted = query
        .currency_code
        .as_deref()
        .map(|code| currency("currency_code", code))
        .transpose()?;
    let views: Vec<AccountView> = engine
        .accounts(token.tenant, contact)
        .await?
        .iter()
        .filter(|view| wanted.is_none_or(|currency| view.account.currency == currency))
        .filter(|view| query.is_primary.is_none_or(|primary| view.is_primary == primary))
        .map(account_view)
        .collect();
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

/// Opens an account for the signed-in contact: the first one, or one marked `is_primary`,
/// is primary. At most 10.
#[utoipa::path(
    tag = "Contact Accounts",
    params(("id" = String, Path)),
    request_body = CreateAccountBody,
    responses(
        (status = 201, body = IdView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/accounts")]
pub async fn create_account(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<CreateAccountBody>,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let body = body.into_inner();
    let code = body
        .currency_code
        .as_deref()
        .ok_or_else(|| ApiError::missing("currency_code"))?;
    let new = NewAccount {
        name: body.name,
        currency: Some(currency("currency_code", code)?),
        is_primary: body.is_primary.unwrap_or(false),
        classification: body.classification_id,
        billing_address: body.billing_address_id,
        custom_fields: body
            .custom_fields
            .unwrap_or_default()
            .into_iter()
            .map(|field| (field.key, field.value))
            .collect(),
    };
    let view = engine.create_account(token.tenant, contact, new).await?;
    Ok(HttpResponse::Created().json(IdView {
        id: view.account.id.to_string(),
    }))
}

pub(crate) fn account_id(text: &str) -> Result<AccountId, ApiError> {
    AccountId::parse(text).map_err(|_| ApiError::not_found("account"))
}

/// One of the signed-in contact's accounts, with its balance.
#[utoipa::path(
    tag = "Contact Accounts",
    params(("id" = String, Path)),
    responses((status = 200, body = AccountView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/accounts/{id}")]
pub async fn get_account(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = engine
        .account(token.tenant, Some(token.contact), account_id(&path)?)
        .await?;
    Ok(HttpResponse::Ok().json(account_view(&view)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountBody {
    pub classification_id: Option<String>,
    /// Make this account the primary one (the other stops being it).
    pub is_primary: Option<bool>,
    pub billing_address_id: Option<String>,
}

/// Changes one of the signed-in contact's accounts: its classification, billing address, or
/// whether it is primary.
#[utoipa::path(
    tag = "Contact Accounts",
    params(("id" = String, Path)),
    request_body = UpdateAccountBody,
    responses(
        (status = 200, body = IdView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[put("/accounts/{id}")]
pub async fn update_account(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<UpdateAccountBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let update = AccountUpdate {
        is_primary: body.is_primary,
        classification: body.classification_id.map(Some),
        billing_address: body.billing_address_id.map(Some),
        ..AccountUpdate::default()
    };
    let view = engine
        .update_account(token.tenant, Some(token.contact), account_id(&path)?, update)
        .await?;
    Ok(HttpResponse::Ok().json(IdView {
        id: view.account.id.to_string(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountJournalView {
    pub id: String,
    pub number: String,
    /// What it records (a payment's id), or the line itself.
    pub entity_id: String,
    pub issued_date: i64,
    pub posted_date: i64,
    /// INVOICE, CREDIT_NOTE, PAYMENT, REFUND, PAYOUT, TOP_UP, TRANSFER, MANUAL_JOURNAL or
    /// SETTLEMENT_PROCESS.
    pub transaction_type: &'static str,
    /// CREDIT or DEBIT.
    #[serde(rename = "type")]
    pub journal_type: &'static str,
    pub currency_code: String,
    pub amount: Money,
    /// Our addition: the account's balance right after it.
    pub balance_after: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

pub fn journal_view(line: &AccountJournal) -> AccountJournalView {
    let exact = |value| money(with_minor_units(value, line.currency));
    AccountJournalView {
        id: line.id.to_string(),
        number: line.number.clone(),
        entity_id: line.entity.unwrap_or(line.id.0).to_string(),
        issued_date: line.issued_on,
        posted_date: line.posted_on,
        transaction_type: line.transaction.code(),
        journal_type: line.kind.code(),
        currency_code: line.currency.code().to_string(),
        amount: exact(line.amount),
        balance_after: exact(line.balance_after),
        notes: line.notes.clone(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AccountJournalsQuery {
    /// Posted exactly then (epoch seconds), or, as the contract has it, within the range
    /// `posted_on[gt]`, `posted_on[gte]`, `posted_on[lt]` and `posted_on[lte]` give. No
    /// date given: the last 12 months.
    pub posted_on: Option<i64>,
    #[serde(rename = "posted_on[gt]")]
    #[param(ignore)]
    pub posted_on_gt: Option<i64>,
    #[serde(rename = "posted_on[gte]")]
    #[param(ignore)]
    pub posted_on_gte: Option<i64>,
    #[serde(rename = "posted_on[lt]")]
    #[param(ignore)]
    pub posted_on_lt: Option<i64>,
    #[serde(rename = "posted_on[lte]")]
    #[param(ignore)]
    pub posted_on_lte: Option<i64>,
    pub transaction_type: Option<String>,
    /// CREDIT or DEBIT.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub journal_type: Option<String>,
}

impl AccountJournalsQuery {
    pub fn query(&self) -> Result<JournalQuery, ApiError> {
        let (posted_from, posted_to) = posted_range(
            self.posted_on,
            self.posted_on_gt,
            self.posted_on_gte,
            self.posted_on_lt,
            self.posted_on_lte,
        );
        Ok(JournalQuery {
            posted_from,
            posted_to,
            transaction: self
                .transaction_type
                .as_deref()
                .map(|code| {
                    AccountTransaction::parse(code).ok_or_else(|| {
                        ApiError::invalid(
                            "transaction_type",
                            "must be INVOICE, CREDIT_NOTE, PAYMENT, REFUND, PAYOUT, TOP_UP, TRANSFER, MANUAL_JOURNAL or SETTLEMENT_PROCESS",
                        )
                    })
                })
                .transpose()?,
            kind: self
                .journal_type
                .as_deref()
                .map(|code| JournalType::parse(code).ok_or_else(|| ApiError::invalid("type", "must be CREDIT or DEBIT")))
                .transpose()?,
        })
    }
}

/// The posted lines of one of the signed-in contact's accounts, newest first by default;
/// the last 12 months unless dates are given.
#[utoipa::path(
    tag = "Contact Accounts",
    params(("id" = String, Path), AccountJournalsQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<AccountJournalView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/accounts/{id}/journals")]
pub async fn list_account_journals(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<AccountJournalsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let query = query.query()?;
    let (lines, more, total) = engine
        .account_journals(
            token.tenant,
            Some(token.contact),
            account_id(&path)?,
            &query,
            paged.engine_page(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(PagedResponse {
        paging: paged.paging(total, more),
        content: lines.iter().map(journal_view).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JournalDetailView {
    pub id: String,
    pub number: String,
    pub entity_id: String,
    pub issued_date: i64,
    pub posted_date: i64,
    pub currency_code: String,
    /// Our addition: as in the list.
    pub transaction_type: &'static str,
    /// Our addition: CREDIT or DEBIT.
    #[serde(rename = "type")]
    pub journal_type: &'static str,
    /// The financial lines of what it records (none for a payment or a manual journal).
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<serde_json::Value>,
    pub net: Money,
    pub tax: Money,
    pub discount: Money,
    pub sub_total: Money,
    pub total: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct JournalQueryParams {
    /// Include the financial lines (there are none yet).
    pub include_lines: Option<bool>,
}

/// One line of one of the signed-in contact's account journals.
#[utoipa::path(
    tag = "Contact Accounts",
    params(("id" = String, Path), JournalQueryParams),
    responses((status = 200, body = JournalDetailView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/journals/{id}")]
pub async fn get_journal(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    _query: web::Query<JournalQueryParams>,
) -> Result<HttpResponse, ApiError> {
    let id = AccountJournalId::parse(&path).map_err(|_| ApiError::not_found("journal"))?;
    let line = engine.account_journal(token.tenant, Some(token.contact), id).await?;
    let exact = |value| money(with_minor_units(value, line.currency));
    Ok(HttpResponse::Ok().json(JournalDetailView {
        id: line.id.to_string(),
        number: line.number.clone(),
        entity_id: line.entity.unwrap_or(line.id.0).to_string(),
        issued_date: line.issued_on,
        posted_date: line.posted_on,
        currency_code: line.currency.code().to_string(),
        transaction_type: line.transaction.code(),
        journal_type: line.kind.code(),
        lines: Vec::new(),
        net: exact(line.amount),
        tax: exact(rust_decimal::Decimal::ZERO),
        discount: exact(rust_decimal::Decimal::ZERO),
        sub_total: exact(line.amount),
        total: exact(line.amount),
        notes: line.notes.clone(),
    }))
}
