//! The POS purchase: `POST /backoffice/v2/purchases`, `GET /backoffice/v2/purchases/{id}`,
//! `POST /backoffice/v2/purchases/{id}/cancel`, `POST /backoffice/v2/purchases/ad_hoc_return`.

pub mod estimates;
pub mod returns;
pub mod wire;
pub use estimates::{create_estimate, get_estimate};
pub use returns::create_return;
pub use wire::*;

use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::IgnoredBody;
use crate::startup::HttpLimits;
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::engine::{ContactRef, PurchaseSubmission};
use rewards_engine::Engine;

/// Submit a POS purchase: awards from every active offer, and an optional spend from the
/// wallet, applied atomically. A retry with the same `reference_number` and body returns
/// the first outcome; with a different body it is refused (409).
#[utoipa::path(
    tag = "POS",
    request_body = CreatePurchaseBody,
    responses(
        (status = 201, body = PurchaseView, description = "The purchase; without a contact, an UnclaimedView with its transaction_code"),
        (status = 400, body = ErrorBody, description = "Bad input, currency mismatch, or insufficient funds with restrict_fully_covered"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[post("/purchases")]
pub async fn create_purchase(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<CreatePurchaseBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if let Some(estimate) = body.estimate_id.clone() {
        let (estimate, reference) = estimates::from_estimate(body, &estimate)?;
        let record = engine.post_estimate(auth.tenant, estimate, reference).await?;
        return Ok(HttpResponse::Created().json(purchase_view(&record, true)));
    }
    let submission = PurchaseSubmission::try_from(body)?;
    if submission.contact == ContactRef::Unnamed && submission.pass.is_none() {
        let record = engine.post_unclaimed(&auth.caller, auth.tenant, submission).await?;
        return Ok(HttpResponse::Created().json(unclaimed_view(&record)));
    }
    let record = engine.post_purchase(&auth.caller, auth.tenant, submission).await?;
    Ok(HttpResponse::Created().json(purchase_view(&record, true)))
}

/// A purchase.
#[utoipa::path(
    tag = "POS",
    params(("id" = String, Path)),
    responses((status = 200, body = PurchaseView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/purchases/{id}")]
pub async fn get_purchase(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = purchase_id(&path)?;
    match engine.purchase(&auth.tenant, id) {
        Ok(record) => Ok(HttpResponse::Ok().json(purchase_view(&record, false))),
        // Kept for a contact to claim, and not claimed yet.
        Err(rewards_engine::EngineError::NotFound(_)) => {
            let record = engine.unclaimed(&auth.tenant, id)?;
            Ok(HttpResponse::Ok().json(unclaimed_view(&record)))
        }
        Err(error) => Err(error.into()),
    }
}

/// Cancel a purchase: its awards and spend are reversed exactly. An award already spent is
/// reversed as far as it can be; the rest becomes the wallet's shortfall. Idempotent.
#[utoipa::path(
    tag = "POS",
    params(("id" = String, Path)),
    responses((status = 200, body = PurchaseView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/purchases/{id}/cancel")]
pub async fn cancel_purchase(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    _body: IgnoredBody,
) -> Result<HttpResponse, ApiError> {
    let record = engine.cancel_purchase(auth.tenant, purchase_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(purchase_view(&record, false)))
}

/// Submit many purchases at once (our addition). Each item is handled exactly as a single
/// `POST /purchases` (idempotent on its `reference_number`); items for the same wallet are
/// applied in the order given. The response is 200 with one outcome per item.
#[utoipa::path(
    post,
    path = "/purchases/bulk",
    tag = "Engine additions",
    request_body = BulkPurchasesBody,
    responses(
        (status = 200, body = BulkResponse),
        (status = 400, body = ErrorBody, description = "No items, too many items, or a body that is not JSON"),
        (status = 413, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
pub async fn create_purchases_bulk(
    auth: BackOffice,
    engine: web::Data<Engine>,
    limits: web::Data<HttpLimits>,
    body: crate::api::wire::Json<BulkPurchasesBody>,
) -> Result<HttpResponse, ApiError> {
    let items = body.into_inner().purchases;
    if items.is_empty() || items.len() > limits.bulk_items_max {
        return Err(ApiError::invalid(
            "purchases",
            format!(
                "purchases must hold 1 to {} items, not {}",
                limits.bulk_items_max,
                items.len()
            ),
        ));
    }
    let count = items.len();
    let mut results: Vec<Option<BulkOutcome>> = (0..count).map(|_| None).collect();
    let mut accepted = Vec::with_capacity(count);
    let mut accepted_index = Vec::with_capacity(count);
    for (index, item) in items.into_iter().enumerate() {
        let parsed = serde_json::from_value::<CreatePurchaseBody>(item)
            .map_err(|error| ApiError::invalid("purchases", format!("item {index}: {error}")))
            .and_then(PurchaseSubmission::try_from);
        match parsed {
            Ok(submission) => {
                accepted.push(submission);
                accepted_index.push(index);
            }
            Err(error) => results[index] = Some(failed(index, error)),
        }
    }
    let outcomes = engine.post_purchases(&auth.caller, auth.tenant, accepted).await;
    for (index, outcome) in accepted_index.into_iter().zip(outcomes) {
        results[index] = Some(match outcome {
            Ok(record) => BulkOutcome {
                index,
                status: 201,
                purchase: Some(purchase_view(&record, true)),
                error: None,
            },
            Err(error) => failed(index, ApiError::from(error)),
        });
    }
    let results = results.into_iter().flatten().collect();
    Ok(HttpResponse::Ok().json(BulkResponse { results }))
}

fn failed(index: usize, error: ApiError) -> BulkOutcome {
    BulkOutcome {
        index,
        status: error.status.as_u16(),
        purchase: None,
        error: Some(error.body()),
    }
}
