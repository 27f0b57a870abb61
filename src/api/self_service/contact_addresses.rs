//! A contact's addresses in apps: `GET/POST /contacts/{id}/addresses`,
//! `PUT/DELETE /contacts/{id}/addresses/{address_id}`. Home, business or another; one
//! primary, one for billing. An order is delivered to one by `address_id`.

use super::order_estimates::coded;
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{Json, PagedResponse, Paging};
use actix_web::{delete, get, post, put, web, HttpResponse};
use rewards_engine::domain::contact_address::{AddressFields, AddressType, ContactAddress};
use rewards_engine::domain::ids::AddressId;
use rewards_engine::engine::AddressChange;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddressBody {
    /// HOME, BUSINESS or ALTERNATIVE.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub is_primary: Option<bool>,
    pub address_line_1: Option<String>,
    pub address_line_2: Option<String>,
    pub state_province_county: Option<String>,
    pub town_city: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub country_code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub google_place_id: Option<String>,
    pub is_billing_address: Option<bool>,
}

impl AddressBody {
    fn fields(&self) -> Result<AddressFields, ApiError> {
        let kind = self.kind.as_deref().ok_or_else(|| ApiError::missing("type"))?;
        Ok(AddressFields {
            kind: coded("type", kind, AddressType::parse, &["HOME", "BUSINESS", "ALTERNATIVE"])?,
            name: self.name.clone(),
            line_1: self
                .address_line_1
                .clone()
                .ok_or_else(|| ApiError::missing("address_line_1"))?,
            line_2: self.address_line_2.clone(),
            state_province_county: self.state_province_county.clone(),
            town_city: self.town_city.clone(),
            postal_code: self.postal_code.clone(),
            country_code: self.country_code.clone(),
            lat: self.lat,
            lon: self.lon,
            google_place_id: self.google_place_id.clone(),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddressView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub is_primary: bool,
    /// Our addition beside the contract's fields.
    pub is_billing_address: bool,
    pub address_line_1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line_2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_province_county: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub town_city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub google_place_id: Option<String>,
}

fn view(address: &ContactAddress) -> AddressView {
    let fields = &address.fields;
    AddressView {
        id: address.id.to_string(),
        kind: fields.kind.code(),
        name: fields.name.clone(),
        is_primary: address.is_primary,
        is_billing_address: address.is_billing,
        address_line_1: fields.line_1.clone(),
        address_line_2: fields.line_2.clone(),
        state_province_county: fields.state_province_county.clone(),
        town_city: fields.town_city.clone(),
        postal_code: fields.postal_code.clone(),
        country_code: fields.country_code.clone(),
        lat: fields.lat,
        lon: fields.lon,
        google_place_id: fields.google_place_id.clone(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddressIdView {
    pub id: String,
}

fn address_id(text: &str) -> Result<AddressId, ApiError> {
    AddressId::parse(text).map_err(|_| ApiError::not_found("address"))
}

/// The signed-in contact's addresses, oldest first, all on one page (a contact keeps at
/// most 20).
#[utoipa::path(
    tag = "Contacts",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = PagedResponse<AddressView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/addresses")]
pub async fn list_addresses(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let book = engine.contact_addresses(&token.tenant, contact)?;
    let content: Vec<AddressView> = book.addresses.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(PagedResponse {
        paging: Paging {
            page: 1,
            size: content.len().max(1),
            total: Some(content.len()),
            has_more: false,
        },
        content,
    }))
}

/// Adds an address (the first is primary; `is_primary` or `is_billing_address` take that
/// from the others). The same address again answers the one kept.
#[utoipa::path(
    tag = "Contacts",
    params(("id" = String, Path)),
    request_body = AddressBody,
    responses(
        (status = 201, body = AddressIdView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/addresses")]
pub async fn add_address(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: Json<AddressBody>,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let change = AddressChange::Add {
        fields: body.fields()?,
        is_primary: body.is_primary.unwrap_or(false),
        is_billing: body.is_billing_address.unwrap_or(false),
    };
    let id = engine.change_contact_addresses(token.tenant, contact, change).await?;
    Ok(HttpResponse::Created().json(AddressIdView { id: id.to_string() }))
}

/// Replaces one of the signed-in contact's addresses.
#[utoipa::path(
    tag = "Contacts",
    params(("id" = String, Path), ("address_id" = String, Path)),
    request_body = AddressBody,
    responses(
        (status = 200, body = AddressIdView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[put("/contacts/{id}/addresses/{address_id}")]
pub async fn update_address(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    body: Json<AddressBody>,
) -> Result<HttpResponse, ApiError> {
    let (contact, id) = path.into_inner();
    let contact = token.own(&contact)?;
    let change = AddressChange::Update {
        id: address_id(&id)?,
        fields: body.fields()?,
        is_primary: body.is_primary,
        is_billing: body.is_billing_address,
    };
    let id = engine.change_contact_addresses(token.tenant, contact, change).await?;
    Ok(HttpResponse::Ok().json(AddressIdView { id: id.to_string() }))
}

/// Removes one of the signed-in contact's addresses (the oldest left becomes primary if
/// it was).
#[utoipa::path(
    tag = "Contacts",
    params(("id" = String, Path), ("address_id" = String, Path)),
    responses(
        (status = 200, body = AddressIdView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[delete("/contacts/{id}/addresses/{address_id}")]
pub async fn remove_address(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (contact, id) = path.into_inner();
    let contact = token.own(&contact)?;
    let id = engine
        .change_contact_addresses(token.tenant, contact, AddressChange::Remove(address_id(&id)?))
        .await?;
    Ok(HttpResponse::Ok().json(AddressIdView { id: id.to_string() }))
}
