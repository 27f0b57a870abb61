//! The organisation network: `POST /backoffice/v2/organisations`,
//! `GET /backoffice/v2/organisations/{id}`, `GET /backoffice/v2/organisations/{id}/network`.
//! A secret key reaches its own organisation and everything under it; anything else is not
//! found.

use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::domain::ids::OrganisationId;
use rewards_engine::domain::organisation::{Organisation, OrganisationType};
use rewards_engine::engine::NewOrganisation;
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
    pub created_date: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkView {
    pub content: Vec<OrganisationView>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NetworkQuery {
    /// Only organisations of this type (SERVICE_OWNER, BUSINESS, MERCHANT, VENUE).
    #[serde(rename = "type")]
    pub organisation_type: Option<String>,
}

fn parse_type(parameter: &str, text: &str) -> Result<OrganisationType, ApiError> {
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

fn view(engine: &Engine, organisation: &Organisation) -> Result<OrganisationView, ApiError> {
    let parent = match organisation.parent {
        Some(id) => {
            let parent = engine.organisation(id)?;
            Some(ParentView {
                id: parent.id.to_string(),
                name: parent.name,
            })
        }
        None => None,
    };
    Ok(OrganisationView {
        id: organisation.id.to_string(),
        name: organisation.name.clone(),
        organisation_type: organisation.organisation_type.code(),
        parent,
        currency_code: organisation.default_currency.to_string(),
        created_date: organisation.created_on,
    })
}

/// Add an organisation to the network, under the key's organisation or one below it.
#[utoipa::path(
    tag = "Organisations",
    request_body = CreateOrganisationBody,
    responses((status = 201, body = OrganisationView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/organisations")]
pub async fn create_organisation(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: web::Json<CreateOrganisationBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let new = NewOrganisation {
        name: body.name,
        organisation_type: parse_type("type", &body.organisation_type)?,
        parent: body.parent_id.as_deref().map(organisation_id).transpose()?,
    };
    let organisation = engine.create_organisation(auth.caller.organisation, new).await?;
    Ok(HttpResponse::Created().json(view(&engine, &organisation)?))
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
    let organisation = engine.organisation_for(auth.caller.organisation, organisation_id(&path)?)?;
    Ok(HttpResponse::Ok().json(view(&engine, &organisation)?))
}

/// Every organisation under one the key reaches, nearest first.
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path), NetworkQuery),
    responses((status = 200, body = NetworkView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/organisations/{id}/network")]
pub async fn get_network(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<NetworkQuery>,
) -> Result<HttpResponse, ApiError> {
    let only = query
        .organisation_type
        .as_deref()
        .map(|text| parse_type("type", text))
        .transpose()?;
    let network = engine.organisation_network(auth.caller.organisation, organisation_id(&path)?, only)?;
    let content = network
        .iter()
        .map(|organisation| view(&engine, organisation))
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(NetworkView { content }))
}
