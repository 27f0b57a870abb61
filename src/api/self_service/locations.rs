//! Where the business's merchants and venues are. The back office gives an organisation
//! its address (`PUT /backoffice/v2/organisations/{id}/address`, in the back office's
//! organisations); apps list the merchants and venues nearest first from a point
//! (`GET /self-service/v2/locations?lat=&lon=`, within `within` kilometres, 5 by default),
//! each with its distance in kilometres.

use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{Paged, PagedResponse};
use actix_web::{get, web, HttpResponse};
use rewards_engine::domain::ids::OrganisationId;
use rewards_engine::domain::location::{Address, Point, WITHIN_DEFAULT_M, WITHIN_MAX_M};
use rewards_engine::engine::LocationQuery;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct AddressView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line_1: Option<String>,
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
    pub lat: f64,
    pub lon: f64,
    /// From the point asked about, in kilometres (locations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<f64>,
}

pub(crate) fn address_view(address: Address, distance: Option<f64>) -> AddressView {
    AddressView {
        address_line_1: address.line_1,
        address_line_2: address.line_2,
        state_province_county: address.state_province_county,
        town_city: address.town_city,
        postal_code: address.postal_code,
        country_code: address.country_code,
        lat: address.lat,
        lon: address.lon,
        distance,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LocationsQuery {
    /// Latitude of the point, degrees.
    pub lat: Option<String>,
    /// Longitude of the point, degrees.
    pub lon: Option<String>,
    /// How far to look, in kilometres (5 by default).
    pub within: Option<String>,
    /// In the name.
    pub name: Option<String>,
    /// Only this organisation and those under it.
    pub organisation_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationView {
    pub id: String,
    pub name: String,
    /// Our addition: MERCHANT or VENUE.
    #[serde(rename = "type")]
    pub organisation_type: &'static str,
    pub address: AddressView,
}

fn number(parameter: &str, value: &Option<String>) -> Result<Option<f64>, ApiError> {
    value
        .as_deref()
        .map(|text| {
            text.trim()
                .parse::<f64>()
                .ok()
                .filter(|number| number.is_finite())
                .ok_or_else(|| ApiError::invalid(parameter, "must be a number"))
        })
        .transpose()
}

/// The business's merchants and venues within `within` km of the point, nearest first.
#[utoipa::path(
    tag = "Organisations",
    params(LocationsQuery, crate::api::wire::PageNumberQuery),
    responses((status = 200, body = PagedResponse<LocationView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/locations")]
pub async fn list_locations(
    token: ContactToken,
    engine: web::Data<Engine>,
    query: web::Query<LocationsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let lat = number("lat", &query.lat)?.ok_or_else(|| ApiError::missing("lat"))?;
    let lon = number("lon", &query.lon)?.ok_or_else(|| ApiError::missing("lon"))?;
    let origin = Point::new(lat, lon)
        .map_err(|why| ApiError::invalid(if why.starts_with("lat") { "lat" } else { "lon" }, why))?;
    let within_m = match number("within", &query.within)? {
        None => WITHIN_DEFAULT_M,
        Some(km) if km > 0.0 && km * 1_000.0 <= WITHIN_MAX_M => km * 1_000.0,
        Some(_) => {
            return Err(ApiError::invalid(
                "within",
                "must be more than 0 and at most 20000 (km)",
            ))
        }
    };
    let under = query
        .organisation_id
        .as_deref()
        .map(|id| OrganisationId::parse(id).map_err(|_| ApiError::invalid("organisation_id", "must be an id")))
        .transpose()?;
    let query = LocationQuery {
        origin,
        within_m,
        name: query.name.clone(),
        under,
    };
    // Only the page asked for is read whole.
    let (found, total) = engine.locations(&token.tenant, &query, paged.offset, paged.size)?;
    let views: Vec<LocationView> = found
        .into_iter()
        .map(|located| LocationView {
            id: located.organisation.id.to_string(),
            name: located.organisation.name.clone(),
            organisation_type: located.organisation.organisation_type.code(),
            address: address_view(located.address, Some(located.distance_m.round() / 1_000.0)),
        })
        .collect();
    let has_more = total > paged.offset.saturating_add(views.len());
    let paging = paged.paging(paged.include_total.then_some(total), has_more);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content: views }))
}

/// An organisation's address as the contract lists it (`addresses[]`).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationAddressView {
    pub address_line_1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line_2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_province_county: Option<String>,
    pub town_city: String,
    pub postal_code: String,
    pub country_code: String,
    pub lat: f64,
    pub lon: f64,
    pub is_primary: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkOrganisationView {
    pub id: String,
    pub name: String,
    /// Our addition: SERVICE_OWNER, BUSINESS, MERCHANT or VENUE.
    #[serde(rename = "type")]
    pub organisation_type: &'static str,
    pub addresses: Vec<OrganisationAddressView>,
    /// Our addition, when the list was asked about a point: kilometres from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<f64>,
}

fn network_view(
    organisation: &rewards_engine::domain::organisation::Organisation,
    address: Option<Address>,
    distance: Option<f64>,
) -> NetworkOrganisationView {
    // Only a complete address is listed (the contract requires its lines, town, postal
    // code and country); the back office always sets one complete.
    let addresses = address
        .and_then(|address| {
            Some(OrganisationAddressView {
                address_line_1: address.line_1?,
                address_line_2: address.line_2,
                state_province_county: address.state_province_county,
                town_city: address.town_city?,
                postal_code: address.postal_code?,
                country_code: address.country_code?,
                lat: address.lat,
                lon: address.lon,
                is_primary: true,
            })
        })
        .into_iter()
        .collect();
    NetworkOrganisationView {
        id: organisation.id.to_string(),
        name: organisation.name.clone(),
        organisation_type: organisation.organisation_type.code(),
        addresses,
        distance,
    }
}

fn organisation_id(path: &str) -> Result<OrganisationId, ApiError> {
    OrganisationId::parse(path).map_err(|_| ApiError::not_found("organisation"))
}

/// One organisation of the business's network, with its address.
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path)),
    responses((status = 200, body = NetworkOrganisationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/organisations/{id}")]
pub async fn get_organisation(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (organisation, address) = engine.network_organisation(&token.tenant, organisation_id(&path)?)?;
    Ok(HttpResponse::Ok().json(network_view(&organisation, address, None)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NetworkQuery {
    /// MERCHANT, VENUE, BUSINESS or SERVICE_OWNER.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub organisation_type: Option<String>,
    /// In the name.
    pub name: Option<String>,
    /// Comma-separated towns or cities.
    pub town_cities: Option<String>,
    /// With `lon` and `distance` (km): only those that near the point.
    pub lat: Option<String>,
    pub lon: Option<String>,
    pub distance: Option<String>,
    /// DISTANCE (nearest first; needs `lat` and `lon`), else by name.
    pub sort: Option<String>,
}

/// The organisations under one of the business's network, by name or nearest first.
#[utoipa::path(
    tag = "Organisations",
    params(("id" = String, Path), NetworkQuery, crate::api::wire::PageQuery),
    responses((status = 200, body = PagedResponse<NetworkOrganisationView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/organisations/{id}/network")]
pub async fn get_network(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<NetworkQuery>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    // `sort` is this list's own (DISTANCE); the rest of the paging is every list's.
    let paged = Paged::of_request_sorted_apart(&request)?;
    let id = organisation_id(&path)?;
    let only = query
        .organisation_type
        .as_deref()
        .map(|code| crate::api::backoffice::organisations::parse_type("type", code))
        .transpose()?;
    let origin = match (number("lat", &query.lat)?, number("lon", &query.lon)?) {
        (Some(lat), Some(lon)) => Some(Point::new(lat, lon).map_err(|why| ApiError::invalid("lat", why))?),
        (None, None) => None,
        _ => return Err(ApiError::invalid("lat", "lat and lon go together")),
    };
    let within_km = number("distance", &query.distance)?;
    if within_km.is_some_and(|km| km <= 0.0) {
        return Err(ApiError::invalid("distance", "must be more than 0 (km)"));
    }
    let by_distance = match query.sort.as_deref() {
        None => false,
        Some("DISTANCE") if origin.is_some() => true,
        Some("DISTANCE") => return Err(ApiError::invalid("sort", "DISTANCE needs lat and lon")),
        Some(_) => return Err(ApiError::invalid("sort", "must be DISTANCE (else by name)")),
    };
    let name = query.name.as_ref().map(|text| text.to_lowercase());
    let towns: Vec<String> = query
        .town_cities
        .as_deref()
        .map(|text| text.split(',').map(|town| town.trim().to_lowercase()).collect())
        .unwrap_or_default();
    let mut found: Vec<NetworkOrganisationView> = Vec::new();
    for (organisation, address) in engine.network_under(&token.tenant, id)? {
        let distance_km = match (origin, &address) {
            (Some(origin), Some(address)) => Point::new(address.lat, address.lon)
                .ok()
                .map(|point| origin.distance_m(point) / 1_000.0),
            _ => None,
        };
        let kept = only.is_none_or(|kind| organisation.organisation_type == kind)
            && name
                .as_ref()
                .is_none_or(|text| organisation.name.to_lowercase().contains(text))
            && (towns.is_empty()
                || address
                    .as_ref()
                    .and_then(|address| address.town_city.as_ref())
                    .is_some_and(|town| towns.contains(&town.to_lowercase())))
            && within_km.is_none_or(|km| distance_km.is_some_and(|distance| distance <= km));
        if kept {
            let shown = distance_km.map(|km| (km * 1_000.0).round() / 1_000.0);
            found.push(network_view(&organisation, address, shown));
        }
    }
    if by_distance {
        found.sort_by(|a, b| {
            a.distance
                .unwrap_or(f64::MAX)
                .total_cmp(&b.distance.unwrap_or(f64::MAX))
        });
    }
    let (content, paging) = paged.page_of(found);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}
