//! Reward offers for apps: `GET /self-service/v2/reward_offers` (the active offers; for a
//! signed-in contact, those it can earn from) and `GET /self-service/v2/reward_offers/{id}`.

use super::ContactOrApp;
use crate::api::backoffice::offers::offer_id;
use crate::api::backoffice::offers::wire::{goal_name, parse_goal, parse_type, type_name, Availability, IdRef};
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{Paged, Paging};
use actix_web::{get, web, HttpResponse};
use rewards_engine::domain::ids::OrganisationId;
use rewards_engine::engine::{OfferEntry, OfferFilter};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
pub struct OffersQuery {
    /// Comma-separated goals: ACHIEVEMENT, SPEND, VISITS, MEMBERSHIP.
    pub goals: Option<String>,
    /// Comma-separated offer types.
    pub types: Option<String>,
    pub is_featured: Option<bool>,
    pub performance_enabled: Option<bool>,
    /// Comma-separated organisation ids: offers for purchases there (or anywhere).
    pub organisations: Option<String>,
    /// The organisation that owns the offers.
    pub owner: Option<String>,
    /// A part of the name, any case.
    pub search_value: Option<String>,
    // Filters by organisation location and classification: refused by name, not ignored
    // (ignoring them would list offers the app asked to leave out).
    #[param(ignore)]
    pub countries: Option<String>,
    #[param(ignore)]
    pub industries: Option<String>,
    #[param(ignore)]
    pub industry_sectors: Option<String>,
    #[param(ignore)]
    pub lat: Option<String>,
    #[param(ignore)]
    pub lon: Option<String>,
    #[param(ignore)]
    pub reward_offer_tags: Option<String>,
    #[param(ignore)]
    pub tags: Option<String>,
    #[param(ignore)]
    pub towns_cities: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetsView {
    pub organisations: Vec<IdRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RewardOfferView {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<IdRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terms_and_conditions: Option<String>,
    pub goal: &'static str,
    #[serde(rename = "type")]
    pub offer_type: &'static str,
    pub owner: IdRef,
    pub is_featured: bool,
    pub performance_enabled: bool,
    pub availability: Availability,
    pub targets: TargetsView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RewardOfferList {
    pub paging: Paging,
    pub content: Vec<RewardOfferView>,
}

fn named((id, name): (impl ToString, String)) -> IdRef {
    IdRef {
        id: id.to_string(),
        name: Some(name),
    }
}

impl From<OfferEntry> for RewardOfferView {
    fn from(entry: OfferEntry) -> Self {
        let offer = entry.offer;
        let terms = offer.terms;
        RewardOfferView {
            id: offer.id.to_string(),
            name: offer.name,
            scheme: entry.scheme.map(named),
            short_description: terms.short_description,
            long_description: terms.long_description,
            terms_and_conditions: terms.terms_and_conditions,
            goal: goal_name(terms.goal),
            offer_type: type_name(terms.offer_type),
            owner: named(entry.owner),
            is_featured: terms.is_featured,
            performance_enabled: terms.performance_enabled,
            availability: Availability {
                from: offer.available_from,
                to: offer.available_to,
            },
            targets: TargetsView {
                organisations: entry.targets.into_iter().map(named).collect(),
            },
        }
    }
}

fn list<T>(text: &Option<String>, parse: impl Fn(&str) -> Result<T, ApiError>) -> Result<Vec<T>, ApiError> {
    text.iter()
        .flat_map(|text| text.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(parse)
        .collect()
}

impl OffersQuery {
    fn filter(&self) -> Result<OfferFilter, ApiError> {
        let location_filters = [
            ("countries", &self.countries),
            ("industries", &self.industries),
            ("industry_sectors", &self.industry_sectors),
            ("lat", &self.lat),
            ("lon", &self.lon),
            ("reward_offer_tags", &self.reward_offer_tags),
            ("tags", &self.tags),
            ("towns_cities", &self.towns_cities),
        ];
        if let Some((name, _)) = location_filters.iter().find(|(_, value)| value.is_some()) {
            return Err(ApiError::invalid(
                name,
                format!(
                    "{name}: filtering offers by organisation location, classification or tags is not available yet"
                ),
            ));
        }
        let organisation = |field: &'static str| {
            move |text: &str| {
                OrganisationId::parse(text)
                    .map_err(|_| ApiError::invalid(field, format!("{field}: {text:?} is not an organisation id")))
            }
        };
        Ok(OfferFilter {
            current: true,
            is_featured: self.is_featured,
            performance_enabled: self.performance_enabled,
            owner: self.owner.as_deref().map(organisation("owner")).transpose()?,
            organisations: list(&self.organisations, organisation("organisations"))?,
            goals: list(&self.goals, |goal| parse_goal("goals", goal))?,
            types: list(&self.types, |offer_type| parse_type("types", offer_type))?,
            search: self.search_value.clone().filter(|text| !text.trim().is_empty()),
            ..OfferFilter::default()
        })
    }
}

/// The business's active reward offers, newest first; for a signed-in contact, only those
/// it can earn from (no scheme, or a scheme it belongs to).
#[utoipa::path(
    tag = "Self-service reward offers",
    params(OffersQuery, crate::api::wire::PageQuery),
    responses((status = 200, body = RewardOfferList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []), ("Public_API_key" = []))
)]
#[get("/reward_offers")]
pub async fn list_offers(
    caller: ContactOrApp,
    engine: web::Data<Engine>,
    query: web::Query<OffersQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let mut filter = query.filter()?;
    let tenant = match caller {
        ContactOrApp::Contact(token) => {
            filter.contact = Some(token.contact);
            token.tenant
        }
        ContactOrApp::App(app) => app.tenant,
    };
    let mut offers = engine.offer_entries(&tenant, &filter).await?;
    if !paged.descending {
        offers.reverse();
    }
    let (offers, paging) = paged.page_of(offers);
    let content = offers.into_iter().map(RewardOfferView::from).collect();
    Ok(HttpResponse::Ok().json(RewardOfferList { paging, content }))
}

/// An active reward offer.
#[utoipa::path(
    tag = "Self-service reward offers",
    params(("id" = String, Path)),
    responses((status = 200, body = RewardOfferView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []), ("Public_API_key" = []))
)]
#[get("/reward_offers/{id}")]
pub async fn get_offer(
    caller: ContactOrApp,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tenant = match caller {
        ContactOrApp::Contact(token) => token.tenant,
        ContactOrApp::App(app) => app.tenant,
    };
    let entry = engine.active_offer_entry(&tenant, offer_id(&path)?)?;
    Ok(HttpResponse::Ok().json(RewardOfferView::from(entry)))
}
