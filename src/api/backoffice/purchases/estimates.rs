//! Purchase estimates: `POST /backoffice/v2/purchases/estimates`, `GET
//! /backoffice/v2/purchases/estimates/{id}`, and a purchase posted from one
//! (`POST /backoffice/v2/purchases` with `estimate_id`).

use super::{award_entry, spend_entry, CreatePurchaseBody, RewardEntryView, Rewards, TransactionAmountsBody};
use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::money;
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::domain::estimate::EstimateRecord;
use rewards_engine::domain::ids::{EstimateId, ReferenceNumber};
use rewards_engine::domain::money::with_minor_units;
use rewards_engine::engine::{EstimateOptions, PurchaseSubmission};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A purchase estimate: the purchase as `POST /purchases` takes it (no reference number
/// needed), and what to do with its spend.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EstimateBody {
    #[serde(flatten)]
    pub purchase: CreatePurchaseBody,
    /// Hold the spend in the wallet until the purchase comes or the estimate expires.
    #[serde(default)]
    pub hold_funds: bool,
    /// The purchase may be posted only once the contact approves the estimate (a contact
    /// token with intent APPROVE_PURCHASE).
    #[serde(default)]
    pub approval_required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EstimateHoldView {
    pub amount: crate::api::wire::Money,
    pub expiration_date: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EstimateView {
    pub id: String,
    /// PENDING, APPROVED, REJECTED, USED or EXPIRED.
    pub state: &'static str,
    pub created_date: i64,
    pub expiration_date: i64,
    pub approval_required: bool,
    pub contact: super::PurchaseContact,
    pub currency_code: String,
    pub transaction_amounts: TransactionAmountsBody,
    /// What it would award, and spend from the wallet.
    pub rewards: Rewards,
    /// Each award it would get, explained.
    pub reward_breakdown: Vec<RewardEntryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold: Option<EstimateHoldView>,
    /// The purchase posted from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_id: Option<String>,
}

pub fn estimate_view(record: &EstimateRecord, now: i64) -> EstimateView {
    let currency = record.request.currency;
    let exact = |value| money(with_minor_units(value, currency));
    EstimateView {
        id: record.id.to_string(),
        state: record.state_code(now),
        created_date: record.created_on,
        expiration_date: record.expires_at,
        approval_required: record.approval_required,
        contact: super::PurchaseContact {
            id: record.contact_id.to_string(),
        },
        currency_code: currency.code().to_string(),
        transaction_amounts: super::amounts_as_given(&record.request.amounts, currency),
        rewards: Rewards {
            award: exact(record.awarded()),
            spend: exact(record.spend),
        },
        reward_breakdown: record
            .explanations
            .iter()
            .map(|e| award_entry(currency, e.offer_id, e.amount, Some(e)))
            .chain((record.spend > rust_decimal::Decimal::ZERO).then(|| spend_entry(currency, record.spend)))
            .collect(),
        // A hold stands while the estimate is open: used, rejected or expired, it is gone.
        hold: (record.held && matches!(record.state_code(now), "PENDING" | "APPROVED")).then(|| EstimateHoldView {
            amount: exact(record.spend),
            expiration_date: record.expires_at,
        }),
        purchase_id: match record.state {
            rewards_engine::domain::estimate::EstimateState::Used(purchase) => Some(purchase.to_string()),
            _ => None,
        },
    }
}

pub(crate) fn estimate_id(text: &str) -> Result<EstimateId, ApiError> {
    EstimateId::parse(text).map_err(|_| ApiError::not_found("estimate"))
}

/// A purchase posted from an estimate names it and its own reference number, nothing else.
pub(super) fn from_estimate(
    body: CreatePurchaseBody,
    estimate: &str,
) -> Result<(EstimateId, ReferenceNumber), ApiError> {
    let named = [
        ("contact", body.contact.is_some()),
        ("organisation", body.organisation.is_some()),
        ("transaction_amounts", body.transaction_amounts.is_some()),
        ("currency_code", body.currency_code.is_some()),
        ("date", body.date.is_some()),
        ("products", !body.products.is_empty()),
        ("spend_request", body.spend_request.is_some()),
        ("pass", body.pass.is_some()),
    ];
    if let Some((field, _)) = named.iter().find(|(_, given)| *given) {
        return Err(ApiError::invalid(
            field,
            format!("{field} comes from the estimate: a purchase from an estimate gives only reference_number and estimate_id"),
        ));
    }
    let id = EstimateId::parse(estimate).map_err(|_| ApiError::invalid("estimate_id", "not an estimate id"))?;
    let reference = body
        .reference_number
        .ok_or_else(|| ApiError::missing("reference_number"))?;
    let reference =
        ReferenceNumber::parse(&reference).map_err(|error| ApiError::invalid("reference_number", error.to_string()))?;
    Ok((id, reference))
}

/// Work out what a purchase would earn and spend, without posting it; optionally hold the
/// spend in the wallet (15 minutes) and ask for the contact's approval. Post the purchase
/// with `POST /purchases {reference_number, estimate_id}`.
#[utoipa::path(
    tag = "POS",
    request_body = EstimateBody,
    responses(
        (status = 201, body = EstimateView),
        (status = 400, body = ErrorBody, description = "Bad input, or a spend with restrict_fully_covered the wallet cannot cover"),
        (status = 404, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[post("/purchases/estimates")]
pub async fn create_estimate(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<EstimateBody>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.into_inner();
    if body.purchase.estimate_id.is_some() {
        return Err(ApiError::invalid(
            "estimate_id",
            "an estimate does not come from another",
        ));
    }
    // The reference number belongs to the purchase posted later.
    body.purchase
        .reference_number
        .get_or_insert_with(|| "ESTIMATE".to_string());
    let options = EstimateOptions {
        hold: body.hold_funds,
        approval_required: body.approval_required,
        ..EstimateOptions::default()
    };
    let submission = PurchaseSubmission::try_from(body.purchase)?;
    let record = engine
        .estimate_purchase(&auth.caller, auth.tenant, submission, options)
        .await?;
    Ok(HttpResponse::Created().json(estimate_view(&record, engine.now())))
}

/// A purchase estimate, with its state now.
#[utoipa::path(
    tag = "POS",
    params(("id" = String, Path)),
    responses((status = 200, body = EstimateView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/purchases/estimates/{id}")]
pub async fn get_estimate(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let record = engine.estimate(&auth.tenant, estimate_id(&path)?)?;
    Ok(HttpResponse::Ok().json(estimate_view(&record, engine.now())))
}
