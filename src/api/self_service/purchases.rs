//! A contact's purchases: `GET /self-service/v2/contacts/{id}/purchases` (by date, paged),
//! `GET /self-service/v2/purchases/{id}` and `GET /self-service/v2/purchases/{id}/rewards`
//! (each award with how it came about, and the spend), and `POST
//! /self-service/v2/purchases/reclaim` (claiming a purchase made without naming a contact).

use super::contacts::IdView;
use super::ContactToken;
use crate::api::backoffice::purchases::wire::{purchase_view, reward_entries, PurchaseView, RewardEntryView};
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::Money;
use crate::api::wire::{Paged, Paging};
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::domain::ids::PurchaseId;
use rewards_engine::domain::ids::ReferenceNumber;
use rewards_engine::domain::money::Currency;
use rewards_engine::engine::Claim;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
pub struct PurchasesQuery {
    /// Purchases dated exactly then (epoch seconds).
    pub date: Option<i64>,
    #[serde(rename = "date[gt]")]
    #[param(rename = "date[gt]")]
    pub date_gt: Option<i64>,
    #[serde(rename = "date[gte]")]
    #[param(rename = "date[gte]")]
    pub date_gte: Option<i64>,
    #[serde(rename = "date[lt]")]
    #[param(rename = "date[lt]")]
    pub date_lt: Option<i64>,
    #[serde(rename = "date[lte]")]
    #[param(rename = "date[lte]")]
    pub date_lte: Option<i64>,
    /// Only purchases with (true) or without (false) an ad hoc return.
    pub is_ad_hoc_returned: Option<bool>,
}

impl PurchasesQuery {
    /// Inclusive (from, to) bounds on the purchase date.
    fn dates(&self) -> (Option<i64>, Option<i64>) {
        let from = [self.date, self.date_gte, self.date_gt.map(|gt| gt.saturating_add(1))]
            .into_iter()
            .flatten()
            .max();
        let to = [self.date, self.date_lte, self.date_lt.map(|lt| lt.saturating_sub(1))]
            .into_iter()
            .flatten()
            .min();
        (from, to)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaseList {
    pub paging: Paging,
    pub content: Vec<PurchaseView>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RewardsQuery {
    /// AWARD, REDEEM or SPEND.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub reward_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RewardEntryList {
    pub content: Vec<RewardEntryView>,
}

fn purchase_id(text: &str) -> Result<PurchaseId, ApiError> {
    PurchaseId::parse(text).map_err(|_| ApiError::not_found("purchase"))
}

/// The contact's purchases, newest first.
#[utoipa::path(
    tag = "Self-service purchases",
    params(("id" = String, Path), PurchasesQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PurchaseList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/purchases")]
pub async fn list_purchases(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<PurchasesQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let id = token.own(&path)?;
    let (records, has_more, total) = engine.contact_purchases(
        &token.tenant,
        id,
        query.dates(),
        query.is_ad_hoc_returned,
        paged.engine_page(),
    )?;
    Ok(HttpResponse::Ok().json(PurchaseList {
        paging: paged.paging(total, has_more),
        content: records.iter().map(|record| purchase_view(record, false)).collect(),
    }))
}

/// One of the contact's purchases.
#[utoipa::path(
    tag = "Self-service purchases",
    params(("id" = String, Path)),
    responses((status = 200, body = PurchaseView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/purchases/{id}")]
pub async fn get_purchase(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = engine.contact_purchase(&token.tenant, token.contact, purchase_id(&path)?)?;
    Ok(HttpResponse::Ok().json(purchase_view(&record, false)))
}

/// A purchase's awards, each with the offer, the rule, the lines and the caps that made it,
/// and its spend.
#[utoipa::path(
    tag = "Self-service purchases",
    params(("id" = String, Path), RewardsQuery),
    responses(
        (status = 200, body = RewardEntryList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/purchases/{id}/rewards")]
pub async fn purchase_rewards(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<RewardsQuery>,
) -> Result<HttpResponse, ApiError> {
    let wanted = match query.reward_type.as_deref() {
        None => None,
        Some(kind @ ("AWARD" | "REDEEM" | "SPEND")) => Some(kind),
        Some(other) => {
            return Err(ApiError::invalid(
                "type",
                format!("type must be AWARD, REDEEM or SPEND, not {other:?}"),
            ))
        }
    };
    let record = engine.contact_purchase(&token.tenant, token.contact, purchase_id(&path)?)?;
    let content = reward_entries(&record)
        .into_iter()
        .filter(|entry| wanted.is_none_or(|kind| entry.entry_type == kind))
        .collect();
    Ok(HttpResponse::Ok().json(RewardEntryList { content }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReclaimAmounts {
    pub net: Option<Money>,
    pub tax: Option<Money>,
    pub discount: Option<Money>,
    pub total: Option<Money>,
}

/// A purchase to claim: its receipt number, with the receipt's transaction code or its
/// total.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReclaimBody {
    /// The receipt (reference) number of the purchase.
    pub id: String,
    /// The code the receipt prints.
    pub transaction_code: Option<String>,
    /// The purchase's amounts: its total stands in for the code.
    pub transaction_amounts: Option<ReclaimAmounts>,
    /// Where it was made (not needed: the receipt number names the purchase).
    pub organisation: Option<serde_json::Value>,
    /// ISO 4217; must be the purchase's.
    pub currency_code: Option<String>,
}

/// Claim a purchase made without naming a contact: it is posted to the signed-in contact's
/// wallet, once, its offers evaluated as of the purchase's date.
#[utoipa::path(
    tag = "Self-service purchases",
    request_body = ReclaimBody,
    responses(
        (status = 201, body = IdView), (status = 400, body = ErrorBody, description = "The code or total does not match, or another currency"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Claimed by another contact")
    ),
    security(("authorization_self_service" = []))
)]
#[post("/purchases/reclaim")]
pub async fn reclaim(
    token: ContactToken,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<ReclaimBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let reference_number = ReferenceNumber::parse(&body.id).map_err(|_| ApiError::not_found("purchase"))?;
    if body.transaction_code.is_none()
        && body
            .transaction_amounts
            .as_ref()
            .and_then(|a| a.total.as_ref())
            .is_none()
    {
        return Err(ApiError::missing("transaction_code"));
    }
    let currency = body
        .currency_code
        .map(|code| Currency::parse(&code).map_err(|error| ApiError::invalid("currency_code", error.to_string())))
        .transpose()?;
    let record = engine
        .reclaim(
            token.tenant,
            token.contact,
            Claim {
                reference_number,
                transaction_code: body.transaction_code,
                total: body
                    .transaction_amounts
                    .and_then(|amounts| amounts.total)
                    .map(|total| total.0),
                currency,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(IdView {
        id: record.id.to_string(),
    }))
}
