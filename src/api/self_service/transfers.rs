//! `POST /self-service/v2/transfers`: a contact moves money from its wallet to another
//! wallet of the same business. Answered 201 once the debit is durable; the credit lands
//! through the outbox between entities, exactly once.

use super::ContactToken;
use crate::api::auth::idempotency_key;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::Money;
use actix_web::{post, web, HttpRequest, HttpResponse};
use rewards_engine::domain::ids::{TransferId, WalletId};
use rewards_engine::engine::TransferRequest;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One end of a transfer: a wallet (accounts are not part of the engine yet).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TransferEndBody {
    pub wallet_id: Option<String>,
    /// Not supported yet: refused with 400.
    pub account_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTransferBody {
    /// The id to give the transfer; a retry with the same id and body gets the same answer.
    pub id: Option<String>,
    pub origin: Option<TransferEndBody>,
    pub destination: Option<TransferEndBody>,
    /// In the origin wallet's currency, more than zero.
    pub amount: Option<Money>,
    /// Epoch seconds, within the window a purchase date may take.
    pub transfer_date: Option<i64>,
    /// 16 digits; made at random if left out.
    pub code: Option<String>,
    /// Not supported yet (no cash pockets): only `false` is accepted.
    pub cash_pocket: Option<bool>,
    /// Not supported yet (commerce pools come with the rewards engine): refused with 400.
    pub commerce_pool_id: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferCreatedView {
    pub id: String,
}

fn wallet_of(end: Option<TransferEndBody>, name: &str) -> Result<WalletId, ApiError> {
    let end = end.ok_or_else(|| ApiError::invalid(name, "is required"))?;
    if end.account_id.is_some() {
        return Err(ApiError::invalid(
            &format!("{name}.account_id"),
            "accounts are not supported yet; give a wallet_id",
        ));
    }
    let id = end
        .wallet_id
        .ok_or_else(|| ApiError::invalid(&format!("{name}.wallet_id"), "is required"))?;
    WalletId::parse(&id).map_err(|error| ApiError::invalid(&format!("{name}.wallet_id"), error.to_string()))
}

impl TryFrom<CreateTransferBody> for TransferRequest {
    type Error = ApiError;

    fn try_from(body: CreateTransferBody) -> Result<Self, ApiError> {
        let pool = body
            .commerce_pool_id
            .as_deref()
            .map(|id| {
                rewards_engine::domain::ids::CommercePoolId::parse(id)
                    .map_err(|_| ApiError::invalid("commerce_pool_id", "must be a commerce pool id"))
            })
            .transpose()?;
        if body.cash_pocket == Some(true) {
            return Err(ApiError::invalid("cash_pocket", "cash pockets are not supported yet"));
        }
        let id = body
            .id
            .map(|id| TransferId::parse(&id).map_err(|error| ApiError::invalid("id", error.to_string())))
            .transpose()?;
        Ok(TransferRequest {
            id,
            origin: wallet_of(body.origin, "origin")?,
            destination: wallet_of(body.destination, "destination")?,
            amount: body.amount.ok_or_else(|| ApiError::invalid("amount", "is required"))?.0,
            code: body.code,
            notes: body.notes,
            transfer_date: body.transfer_date,
            pool,
        })
    }
}

/// Transfer money from the signed-in contact's wallet to another wallet of the business.
#[utoipa::path(
    tag = "Contact Financials",
    request_body = CreateTransferBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first outcome")),
    responses(
        (status = 201, body = TransferCreatedView),
        (status = 400, body = ErrorBody, description = "Invalid, not covered by the balance, the same wallet, or another currency"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "The origin is not the contact's wallet"),
        (status = 404, body = ErrorBody, description = "No such destination wallet in the business"),
        (status = 409, body = ErrorBody, description = "The id was used for another transfer")
    ),
    security(("authorization_self_service" = []))
)]
#[post("/transfers")]
pub async fn create_transfer(
    token: ContactToken,
    engine: web::Data<Engine>,
    request: HttpRequest,
    body: crate::api::wire::Json<CreateTransferBody>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&request)?;
    let transfer = TransferRequest::try_from(body.into_inner())?;
    let record = engine
        .transfer(token.tenant, token.contact, transfer, key.as_deref())
        .await?;
    Ok(HttpResponse::Created().json(TransferCreatedView {
        id: record.id.to_string(),
    }))
}

/// Several transfers from the signed-in contact's wallet, all or none: each is checked as a
/// single transfer is, then the wallet's actor debits them all and commits their credits'
/// messages in one commit (each credit lands once, shortly after). At most
/// `BULK_TRANSFERS_MAX`; give each an `id` to make a retry safe.
#[utoipa::path(
    tag = "Contact Financials",
    request_body = Vec<CreateTransferBody>,
    responses(
        (status = 204, description = "Every transfer was sent"),
        (status = 400, body = ErrorBody, description = "Any transfer invalid, not covered, or past a limit: none sent"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/transfers/bulk")]
pub async fn create_transfers_in_bulk(
    token: ContactToken,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<Vec<CreateTransferBody>>,
) -> Result<HttpResponse, ApiError> {
    let bodies = body.into_inner();
    if bodies.is_empty() || bodies.len() > rewards_engine::engine::BULK_TRANSFERS_MAX {
        return Err(ApiError::invalid(
            "transfers",
            format!("must be 1 to {} transfers", rewards_engine::engine::BULK_TRANSFERS_MAX),
        ));
    }
    let transfers = bodies
        .into_iter()
        .map(TransferRequest::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    engine.transfer_bulk(token.tenant, token.contact, transfers).await?;
    Ok(HttpResponse::NoContent().finish())
}
