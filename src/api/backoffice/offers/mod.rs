//! Reward offers in the back office: `POST /backoffice/v2/reward_offers`, `GET` (paged, by
//! state) and `GET /backoffice/v2/reward_offers/{id}`, `PUT /backoffice/v2/reward_offers/{id}`
//! (change what the body names) and `PUT /backoffice/v2/reward_offers/{id}/life_cycle_state`.

pub mod wire;

use crate::api::auth::{idempotency_key, BackOffice};
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{Paged, Paging};
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use rewards_engine::domain::ids::OfferId;
use rewards_engine::engine::OfferFilter;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wire::{parse_state, OfferBody, OfferView};

#[derive(Debug, Deserialize, ToSchema)]
pub struct LifeCycleBody {
    /// ACTIVE or INACTIVE.
    pub state: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OffersQuery {
    /// ACTIVE or INACTIVE.
    pub state: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferList {
    pub paging: Paging,
    pub content: Vec<OfferView>,
}

pub fn offer_id(text: &str) -> Result<OfferId, ApiError> {
    OfferId::parse(text).map_err(|_| ApiError::not_found("reward offer"))
}

/// Create a reward offer: who earns (targets, scheme, segment, schedule, conditions), on
/// what (the whole purchase or some products), how much (award, caps) and how it combines
/// with other offers. Every rule is checked; a refusal names the field and stores nothing.
#[utoipa::path(
    tag = "Reward offers",
    request_body = OfferBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first outcome")),
    responses((status = 201, body = OfferView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/reward_offers")]
pub async fn create_offer(
    auth: BackOffice,
    engine: web::Data<Engine>,
    request: HttpRequest,
    body: crate::api::wire::Json<OfferBody>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&request)?;
    let new = body.into_inner().into_new()?;
    let offer = engine.create_offer(auth.tenant, new, key.as_deref()).await?;
    Ok(HttpResponse::Created().json(OfferView::of(&offer, auth.tenant.organisation)))
}

/// The business's reward offers, newest first.
#[utoipa::path(
    tag = "Reward offers",
    params(OffersQuery, crate::api::wire::PageQuery),
    responses((status = 200, body = OfferList), (status = 400, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/reward_offers")]
pub async fn list_offers(
    auth: BackOffice,
    engine: web::Data<Engine>,
    query: web::Query<OffersQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let filter = OfferFilter {
        state: query.state.as_deref().map(parse_state).transpose()?,
        ..OfferFilter::default()
    };
    let mut offers = engine.offers_list(&auth.tenant, &filter).await?;
    if !paged.descending {
        offers.reverse();
    }
    let (offers, paging) = paged.page_of(offers);
    let content = offers
        .iter()
        .map(|offer| OfferView::of(offer, auth.tenant.organisation))
        .collect();
    Ok(HttpResponse::Ok().json(OfferList { paging, content }))
}

/// A reward offer.
#[utoipa::path(
    tag = "Reward offers",
    params(("id" = String, Path)),
    responses((status = 200, body = OfferView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/reward_offers/{id}")]
pub async fn get_offer(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (offer, budget) = engine.offer_with_budget(&auth.tenant, offer_id(&path)?).await?;
    let mut view = OfferView::of(&offer, auth.tenant.organisation);
    if let (Some(total), Some(state)) = (offer.terms.caps.budget, budget) {
        view.budget_usage = Some(wire::BudgetUsage::of(total, &state));
    }
    Ok(HttpResponse::Ok().json(view))
}

/// Change a reward offer: what the body names replaces the offer's, and the whole is checked
/// as a new offer is. Purchases evaluated after the change commits see all of it; none see
/// half of it.
#[utoipa::path(
    tag = "Reward offers",
    params(("id" = String, Path)),
    request_body = OfferBody,
    responses((status = 200, body = OfferView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[put("/reward_offers/{id}")]
pub async fn update_offer(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<OfferBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let offer = engine
        .update_offer(auth.tenant, offer_id(&path)?, |offer| body.apply(offer))
        .await?;
    Ok(HttpResponse::Ok().json(OfferView::of(&offer, auth.tenant.organisation)))
}

/// Activate or deactivate a reward offer. Idempotent.
#[utoipa::path(
    tag = "Reward offers",
    params(("id" = String, Path)),
    request_body = LifeCycleBody,
    responses((status = 200, body = OfferView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[put("/reward_offers/{id}/life_cycle_state")]
pub async fn set_offer_state(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<LifeCycleBody>,
) -> Result<HttpResponse, ApiError> {
    let state = parse_state(&body.state)?;
    let offer = engine.set_offer_state(auth.tenant, offer_id(&path)?, state).await?;
    Ok(HttpResponse::Ok().json(OfferView::of(&offer, auth.tenant.organisation)))
}
