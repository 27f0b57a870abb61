//! `POST /backoffice/v2/reward_offers`, `GET /backoffice/v2/reward_offers/{id}`,
//! `PUT /backoffice/v2/reward_offers/{id}/life_cycle_state`.

use crate::api::auth::{idempotency_key, BackOffice};
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money};
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use rewards_engine::domain::ids::OfferId;
use rewards_engine::domain::offer::{AwardKind, AwardRule, OfferState, RewardOffer};
use rewards_engine::engine::NewOffer;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Availability {
    /// Epoch seconds; purchases dated before this earn nothing.
    pub from: Option<i64>,
    /// Epoch seconds, inclusive.
    pub to: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AwardBody {
    /// PERCENTAGE of the purchase total, or a FIXED amount per purchase.
    #[serde(rename = "type")]
    pub award_type: String,
    pub value: Money,
    /// Awards expire this many days after they are credited; none: never.
    pub expiry_days: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateOfferBody {
    pub name: String,
    /// ACTIVE (default) or INACTIVE.
    pub state: Option<String>,
    pub availability: Option<Availability>,
    pub award: AwardBody,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LifeCycleBody {
    /// ACTIVE or INACTIVE.
    pub state: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AwardView {
    #[serde(rename = "type")]
    pub award_type: &'static str,
    pub value: Money,
    pub expiry_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferView {
    pub id: String,
    pub name: String,
    pub state: &'static str,
    pub availability: Availability,
    pub award: AwardView,
    pub created_date: i64,
    pub updated_date: i64,
}

impl From<&RewardOffer> for OfferView {
    fn from(offer: &RewardOffer) -> Self {
        OfferView {
            id: offer.id.to_string(),
            name: offer.name.clone(),
            state: state_name(offer.state),
            availability: Availability {
                from: offer.available_from,
                to: offer.available_to,
            },
            award: AwardView {
                award_type: match offer.award.kind {
                    AwardKind::Percentage => "PERCENTAGE",
                    AwardKind::Fixed => "FIXED",
                },
                value: money(offer.award.value),
                expiry_days: offer.award.expiry_days,
            },
            created_date: offer.created_on,
            updated_date: offer.updated_on,
        }
    }
}

fn state_name(state: OfferState) -> &'static str {
    match state {
        OfferState::Active => "ACTIVE",
        OfferState::Inactive => "INACTIVE",
    }
}

fn parse_state(text: &str) -> Result<OfferState, ApiError> {
    match text {
        "ACTIVE" => Ok(OfferState::Active),
        "INACTIVE" => Ok(OfferState::Inactive),
        other => Err(ApiError::invalid(
            "state",
            format!("state must be ACTIVE or INACTIVE, not {other}"),
        )),
    }
}

impl TryFrom<CreateOfferBody> for NewOffer {
    type Error = ApiError;

    fn try_from(body: CreateOfferBody) -> Result<Self, ApiError> {
        let kind = match body.award.award_type.as_str() {
            "PERCENTAGE" => AwardKind::Percentage,
            "FIXED" => AwardKind::Fixed,
            other => {
                return Err(ApiError::invalid(
                    "award.type",
                    format!("award.type must be PERCENTAGE or FIXED, not {other}"),
                ))
            }
        };
        let availability = body.availability.unwrap_or(Availability { from: None, to: None });
        Ok(NewOffer {
            name: body.name,
            state: body
                .state
                .as_deref()
                .map(parse_state)
                .transpose()?
                .unwrap_or(OfferState::Active),
            available_from: availability.from,
            available_to: availability.to,
            award: AwardRule {
                kind,
                value: body.award.value.0,
                expiry_days: body.award.expiry_days,
            },
        })
    }
}

fn offer_id(text: &str) -> Result<OfferId, ApiError> {
    OfferId::parse(text).map_err(|_| ApiError::not_found("reward offer"))
}

/// Create a reward offer.
#[utoipa::path(
    tag = "Reward offers",
    request_body = CreateOfferBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first outcome")),
    responses((status = 201, body = OfferView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/reward_offers")]
pub async fn create_offer(
    auth: BackOffice,
    engine: web::Data<Engine>,
    request: HttpRequest,
    body: crate::api::wire::Json<CreateOfferBody>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&request)?;
    let new = NewOffer::try_from(body.into_inner())?;
    let offer = engine.create_offer(auth.tenant, new, key.as_deref()).await?;
    Ok(HttpResponse::Created().json(OfferView::from(&offer)))
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
    let offer = engine.offer(&auth.tenant, offer_id(&path)?)?;
    Ok(HttpResponse::Ok().json(OfferView::from(&offer)))
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
    Ok(HttpResponse::Ok().json(OfferView::from(&offer)))
}
