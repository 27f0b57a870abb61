//! Contact tokens: `POST /self-service/v2/contacts/{id}/tokens` (a token to name the contact
//! at the till, carrying a spend) and `GET` (the contact's live tokens).

use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money};
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::domain::contact_token::{ContactTokenRecord, TokenIntent};
use rewards_engine::domain::ids::ContactId;
use rewards_engine::engine::NewContactToken;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The estimate an APPROVE_PURCHASE or REJECT_PURCHASE token decides.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenPurchase {
    pub estimate_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenBody {
    /// SPEND, or APPROVE_PURCHASE / REJECT_PURCHASE with `purchase.estimate_id` (the
    /// contact's decision on a purchase estimate: approving lets the till post it;
    /// rejecting gives its hold back).
    pub intent: String,
    pub purchase: Option<TokenPurchase>,
    /// What to spend; none: as much as the wallet holds, up to the purchase's total.
    pub spend_amount: Option<Money>,
    /// A SPEND token that spends a community's wallet: the community owner's contact id
    /// (the owner must share its wallet with this contact, AUTO).
    pub community_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TokensQuery {
    /// SPEND, APPROVE_PURCHASE or REJECT_PURCHASE.
    pub intent: Option<String>,
    /// Only the tokens that spend this community owner's wallet.
    pub community_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    /// What the till enters or scans.
    pub token: String,
    /// A 16-digit code the till may take instead.
    pub alternative_token: String,
    pub expiration: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spend_amount: Option<Money>,
    pub intent: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub content: Vec<TokenView>,
}

impl From<&ContactTokenRecord> for TokenView {
    fn from(record: &ContactTokenRecord) -> Self {
        TokenView {
            id: record.id.to_string(),
            token: record.token.clone(),
            alternative_token: record.alternative.clone(),
            expiration: record.expires_at,
            spend_amount: record.spend_amount.map(money),
            intent: record.intent.code(),
        }
    }
}

fn intent(field: &str, text: &str) -> Result<TokenIntent, ApiError> {
    match text {
        "SPEND" => Ok(TokenIntent::Spend),
        "APPROVE_PURCHASE" => Ok(TokenIntent::ApprovePurchase),
        "REJECT_PURCHASE" => Ok(TokenIntent::RejectPurchase),
        other => Err(ApiError::invalid(
            field,
            format!("{field} must be SPEND, APPROVE_PURCHASE or REJECT_PURCHASE, not {other:?}"),
        )),
    }
}

fn community(community: &Option<String>) -> Result<Option<ContactId>, ApiError> {
    community
        .as_deref()
        .map(|id| ContactId::parse(id).map_err(|_| ApiError::invalid("community_id", "must be a contact id")))
        .transpose()
}

/// A contact token: the till names the contact with it (`contact.otp` on the purchase) and
/// the purchase spends what it says, once, before it expires.
#[utoipa::path(
    tag = "Self-service contact tokens",
    params(("id" = String, Path)),
    request_body = TokenBody,
    responses(
        (status = 200, body = TokenView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/tokens")]
pub async fn create_token(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<TokenBody>,
) -> Result<HttpResponse, ApiError> {
    let id = token.own(&path)?;
    let body = body.into_inner();
    let community = community(&body.community_id)?;
    let estimate = body
        .purchase
        .map(|purchase| {
            rewards_engine::domain::ids::EstimateId::parse(&purchase.estimate_id)
                .map_err(|_| ApiError::not_found("estimate"))
        })
        .transpose()?;
    let new = NewContactToken {
        intent: intent("intent", &body.intent)?,
        spend_amount: body.spend_amount.map(|amount| amount.0),
        estimate,
        community,
    };
    let record = engine.create_contact_token(token.tenant, id, new).await?;
    Ok(HttpResponse::Ok().json(TokenView::from(&record)))
}

/// The contact's live tokens (unused and unexpired), newest first.
#[utoipa::path(
    tag = "Self-service contact tokens",
    params(("id" = String, Path), TokensQuery),
    responses(
        (status = 200, body = TokenList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/tokens")]
pub async fn list_tokens(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<TokensQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = token.own(&path)?;
    let owner = community(&query.community_id)?;
    let wanted = query.intent.as_deref().map(|text| intent("intent", text)).transpose()?;
    let records = engine.contact_tokens(&token.tenant, id, wanted, owner)?;
    Ok(HttpResponse::Ok().json(TokenList {
        content: records.iter().map(TokenView::from).collect(),
    }))
}
