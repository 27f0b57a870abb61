//! The organisation network: `POST /backoffice/v2/organisations`,
//! `GET/PUT/DELETE /backoffice/v2/organisations/{id}`,
//! `GET /backoffice/v2/organisations/{id}/network`. A secret key reaches its own organisation
//! and everything under it; anything else is not found. Merchants and venues hold TAPs: the
//! tills a POS purchase may name instead of the organisation's id.

use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::self_service::locations::{address_view, AddressView};
use crate::api::wire::{PageQuery, Paged, Paging};
use actix_web::{delete, get, post, put, web, HttpResponse};
use rewards_engine::domain::ids::OrganisationId;
use rewards_engine::domain::location::Address;
use rewards_engine::domain::organisation::{OrganisationType, Tap};
use rewards_engine::engine::{NewOrganisation, NewTap, OrganisationEntry, OrganisationUpdate};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateOrganisationBody {
    pub name: String,
    /// SERVICE_OWNER, BUSINESS, MERCHANT or VENUE; it must fit under the parent (service
    /// owner → business → merchant → venue; a business may hold venues too).
    #[serde(rename = "type")]
    pub organisation_type: String,
    /// The parent organisation; by default the key's own organisation.
    pub parent_id: Option<String>,
    /// Merchants and venues only: their tills. Codes are unique in the business.
    #[serde(default)]
    pub taps: Vec<TapBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TapBody {
    /// The terminal's reference, 1 to 50 characters, unique in the business.
    pub code: String,
    pub name: Option<String>,
}

/// Each field given replaces the organisation's; `taps` replaces the whole list (a TAP whose
/// code stays keeps its id; `[]` removes them all).
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateOrganisationBody {
    pub name: Option<String>,
    pub taps: Option<Vec<TapBody>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TapView {
    pub id: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

pub fn tap_view(tap: &Tap) -> TapView {
    TapView {
        id: tap.id.to_string(),
        code: tap.code.clone(),
        name: tap.name.clone(),
    }
}

fn new_taps(taps: Vec<TapBody>) -> Vec<NewTap> {
    taps.into_iter()
        .map(|tap| NewTap {
            code: tap.code,
            name: tap.name,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParentView {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationView {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub organisation_type: &'static str,
    pub parent: Option<ParentView>,
    pub currency_code: String,
    pub taps: Vec<TapView>,
    pub created_date: i64,
    pub updated_date: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkView {
    pub paging: Paging,
    pub content: Vec<OrganisationView>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NetworkQuery {
    /// Only organisations of this type (SERVICE_OWNER, BUSINESS, MERCHANT, VENUE).
    #[serde(rename = "type")]
    pub organisation_type: Option<String>,
}

pub(crate) fn parse_type(parameter: &str, text: &str) -> Result<OrganisationType, ApiError> {
    match text {
        "SERVICE_OWNER" => Ok(OrganisationType::ServiceOwner),
        "BUSINESS" => Ok(OrganisationType::Business),
        "MERCHANT" => Ok(OrganisationType::Merchant),
        "VENUE" => Ok(OrganisationType::Venue),
        other => Err(ApiError::invalid(
            parameter,
            format!("{parameter} must be SERVICE_OWNER, BUSINESS, MERCHANT or VENUE, not {other}"),
        )),
    }
}

fn organisation_id(text: &str) -> Result<OrganisationId, ApiError> {
    OrganisationId::parse(text).map_err(|_| ApiError::not_found("organisation"))
}

impl From<OrganisationEntry> for OrganisationView {
    fn from(entry: OrganisationEntry) -> Self {
        let organisation = entry.organisation;
        let parent = organisation.parent.zip(entry.parent_name).map(|(id, name)| ParentView {
            id: id.to_string(),
            name,
        });
        OrganisationView {
            id: organisation.id.to_string(),
            name: organisation.name,
            organisation_type: organisation.organisation_type.code(),
            parent,
            currency_code: organisation.default_currency.to_string(),
            taps: organisation.taps.iter().map(tap_view).collect(),
            created_date: organisation.created_on,
            updated_date: organisation.updated_on,
        }
    }
}

/// Add an organisation to the network, under the key's organisation or one below it.
#[utoipa::path(
    tag = "Organisations",
    request_body = CreateOrganisationBody,
    responses(
        (status = 201, body = OrganisationView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "A TAP code is taken in the business")
    ),
    security(("Secret_API_key" = []))
)]
#[post("/organisations")]
pub async fn create_organisation(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<CreateOrganisationBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let new = NewOrganisation {
        name: body.name,
        organisation_type: parse_type("type", &body.organisation_type)?,
        parent: body.parent_id.as_deref().map(organisation_id).transpose()?,
        taps: new_taps(body.taps),
    };
    let entry = engine.create_organisation(&auth.caller, new).await?;
    Ok(HttpResponse::Created().json(OrganisationView::from(entry)))
}

/// An organisation the key reaches.
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path)),
    responses((status = 200, body = OrganisationView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/organisations/{id}")]
pub async fn get_organisation(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let entry = engine.reached_organisation(&auth.caller, organisation_id(&path)?)?;
    Ok(HttpResponse::Ok().json(OrganisationView::from(entry)))
}

/// Rename an organisation the key reaches, or replace its TAPs (live-mode admins).
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path)),
    request_body = UpdateOrganisationBody,
    responses(
        (status = 200, body = OrganisationView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "A TAP code is taken in the business")
    ),
    security(("Secret_API_key" = []))
)]
#[put("/organisations/{id}")]
pub async fn update_organisation(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<UpdateOrganisationBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let update = OrganisationUpdate {
        name: body.name,
        taps: body.taps.map(new_taps),
    };
    let entry = engine
        .update_organisation(&auth.caller, organisation_id(&path)?, update)
        .await?;
    Ok(HttpResponse::Ok().json(OrganisationView::from(entry)))
}

/// Remove a merchant or venue that holds no organisations: its TAPs are freed and its API
/// keys revoked; purchases made there keep its id. Businesses and service owners own
/// contacts and wallets and are not removed (409).
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path)),
    responses(
        (status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A business, or an organisation that still holds others")
    ),
    security(("Secret_API_key" = []))
)]
#[delete("/organisations/{id}")]
pub async fn delete_organisation(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    engine
        .delete_organisation(&auth.caller, organisation_id(&path)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every organisation under one the key reaches, nearest first, paged.
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path), NetworkQuery, PageQuery),
    responses((status = 200, body = NetworkView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/organisations/{id}/network")]
pub async fn get_network(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<NetworkQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let only = query
        .organisation_type
        .as_deref()
        .map(|text| parse_type("type", text))
        .transpose()?;
    let network = engine.organisation_network(&auth.caller, organisation_id(&path)?, only)?;
    let (network, paging) = paged.page_of(network);
    Ok(HttpResponse::Ok().json(NetworkView {
        paging,
        content: network.into_iter().map(OrganisationView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    pub address_line_1: Option<String>,
    pub address_line_2: Option<String>,
    pub state_province_county: Option<String>,
    pub town_city: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub country_code: Option<String>,
    /// Degrees, −90 to 90.
    pub lat: Option<f64>,
    /// Degrees, −180 to 180.
    pub lon: Option<f64>,
}

/// Gives an organisation of the network its address and coordinates (replacing any).
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path)),
    request_body = AddressBody,
    responses((status = 200, body = AddressView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[put("/organisations/{id}/address")]
pub async fn set_address(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<AddressBody>,
) -> Result<HttpResponse, ApiError> {
    let id = organisation_id(&path)?;
    let body = body.into_inner();
    let address = Address {
        line_1: body.address_line_1,
        line_2: body.address_line_2,
        town_city: body.town_city,
        state_province_county: body.state_province_county,
        postal_code: body.postal_code,
        country_code: body.country_code,
        lat: body.lat.ok_or_else(|| ApiError::missing("lat"))?,
        lon: body.lon.ok_or_else(|| ApiError::missing("lon"))?,
    };
    let saved = engine.set_organisation_address(&auth.caller, id, address).await?;
    Ok(HttpResponse::Ok().json(address_view(saved, None)))
}
