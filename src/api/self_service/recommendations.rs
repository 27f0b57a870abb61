//! Recommendations in apps: products to add to an order (`GET /orders/recommendation`),
//! categories of products (`GET /products/recommendation`: best sellers, what an offer the
//! contact can earn rewards, where its commerce money can be spent), and services to
//! subscribe to (`GET /services/recommendation`).

use super::order_estimates::exact;
use super::subscriptions::PeriodView;
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Paged, PagedResponse};
use actix_web::{get, web, HttpResponse};
use rewards_engine::domain::ids::{OrderEstimateId, ServiceId, SubscriptionId};
use rewards_engine::domain::product::{BillingPeriod, PeriodUnit, Price, Product};
use rewards_engine::engine::{CategoryKind, ServiceQuery};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryPricing {
    pub id: String,
    pub price_model: &'static str,
    pub currency_code: String,
    pub tax_model: &'static str,
    pub price: crate::api::wire::Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_period: Option<PeriodView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSummary {
    pub id: String,
    pub sku: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<SummaryPricing>,
}

fn period(period: Option<BillingPeriod>) -> Option<PeriodView> {
    period.map(|p| PeriodView {
        duration: p.duration,
        uot: p.unit.code(),
    })
}

fn summary_pricing(price: &Price) -> SummaryPricing {
    SummaryPricing {
        id: price.id.to_string(),
        price_model: price.model.code(),
        currency_code: price.currency.code().to_string(),
        tax_model: price.tax_model.code(),
        price: exact(price.unit_price(), price.currency),
        billing_period: period(price.billing_period),
    }
}

fn summary(product: &Product) -> ProductSummary {
    let price = product.prices.iter().find(|p| p.is_default).or(product.prices.first());
    ProductSummary {
        id: product.id.to_string(),
        sku: product.sku.clone(),
        name: product.name.clone(),
        description: product.description.clone(),
        pricing: price.map(summary_pricing),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderRecommendationView {
    pub cross_sells: Vec<ProductSummary>,
    pub upsells: Vec<ProductSummary>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OrderRecommendationQuery {
    /// The order estimate whose products the recommendation follows.
    pub estimation_id: Option<String>,
    /// Cross-sells (true by default).
    pub include_cross_sells: Option<bool>,
    /// Up-sells (true by default).
    pub include_upsells: Option<bool>,
}

/// Products to add to an order: the cross- and up-sells of what the signed-in contact's
/// estimate holds, sold by the organisation that would fulfil it.
#[utoipa::path(
    tag = "Orders",
    params(OrderRecommendationQuery),
    responses(
        (status = 200, body = OrderRecommendationView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/orders/recommendation")]
pub async fn order_recommendation(
    token: ContactToken,
    engine: web::Data<Engine>,
    query: web::Query<OrderRecommendationQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = query
        .estimation_id
        .as_deref()
        .ok_or_else(|| ApiError::missing("estimation_id"))?;
    let id = OrderEstimateId::parse(id).map_err(|_| ApiError::not_found("order estimate"))?;
    let recommended = engine.order_recommendation(&token.tenant, token.contact, id)?;
    Ok(HttpResponse::Ok().json(OrderRecommendationView {
        cross_sells: if query.include_cross_sells == Some(false) {
            Vec::new()
        } else {
            recommended.cross_sells.iter().map(summary).collect()
        },
        upsells: if query.include_upsells == Some(false) {
            Vec::new()
        } else {
            recommended.up_sells.iter().map(summary).collect()
        },
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryPrice {
    pub id: String,
    pub price: crate::api::wire::Money,
    pub currency_code: String,
    pub is_default: bool,
    pub tax_model: &'static str,
    pub price_model: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryProduct {
    pub id: String,
    pub sku: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub pricing: Vec<CategoryPrice>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_ends: Option<i64>,
    pub products: Vec<CategoryProduct>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendedCategoryView {
    pub category: CategoryView,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProductRecommendationQuery {
    /// BEST_SELLING, REWARD_OFFER_PROMOTION or COMMERCE_MONEY (every kind when not given).
    pub category_type: Option<String>,
    /// Only the category with this id (an offer's or a pool's).
    pub category_id: Option<String>,
    /// The signed-in contact (its own id only).
    pub contact_id: Option<String>,
    /// Products per category (10 by default, at most 100).
    pub size: Option<usize>,
}

fn kind_code(kind: CategoryKind) -> &'static str {
    match kind {
        CategoryKind::BestSelling => "BEST_SELLING",
        CategoryKind::RewardOffer => "REWARD_OFFER_PROMOTION",
        CategoryKind::CommerceMoney => "COMMERCE_MONEY",
    }
}

/// Categories of products for the signed-in contact: the business's best sellers; for each
/// reward offer it can earn now that rewards some products, those products (the category
/// named after the offer); for each commerce pool its wallet holds money in, the products
/// it may be spent on.
#[utoipa::path(
    tag = "Products",
    params(ProductRecommendationQuery),
    responses(
        (status = 200, body = Vec<RecommendedCategoryView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/products/recommendation")]
pub async fn product_recommendation(
    token: ContactToken,
    engine: web::Data<Engine>,
    query: web::Query<ProductRecommendationQuery>,
) -> Result<HttpResponse, ApiError> {
    if let Some(contact) = query.contact_id.as_deref() {
        token.own(contact)?;
    }
    let kinds = match query.category_type.as_deref() {
        None => Vec::new(),
        Some("BEST_SELLING") => vec![CategoryKind::BestSelling],
        Some("REWARD_OFFER_PROMOTION") => vec![CategoryKind::RewardOffer],
        Some("COMMERCE_MONEY") => vec![CategoryKind::CommerceMoney],
        Some(_) => {
            return Err(ApiError::invalid(
                "category_type",
                "must be BEST_SELLING, REWARD_OFFER_PROMOTION or COMMERCE_MONEY",
            ))
        }
    };
    let size = query.size.unwrap_or(10);
    if size == 0 || size > rewards_engine::engine::RECOMMENDED_MAX {
        return Err(ApiError::invalid(
            "size",
            format!("must be 1 to {}", rewards_engine::engine::RECOMMENDED_MAX),
        ));
    }
    let categories = engine
        .product_recommendations(&token.tenant, token.contact, &kinds, size)
        .await?;
    let views: Vec<RecommendedCategoryView> = categories
        .into_iter()
        .filter(|c| query.category_id.as_deref().is_none_or(|id| id == c.id))
        .map(|category| RecommendedCategoryView {
            category: CategoryView {
                kind: kind_code(category.kind),
                id: category.id,
                name: category.name,
                description: category.description,
                validity_ends: category.validity_ends,
                products: category
                    .products
                    .iter()
                    .map(|product| CategoryProduct {
                        id: product.id.to_string(),
                        sku: product.sku.clone(),
                        name: product.name.clone(),
                        description: product.description.clone(),
                        pricing: product
                            .prices
                            .iter()
                            .map(|price| CategoryPrice {
                                id: price.id.to_string(),
                                price: exact(price.unit_price(), price.currency),
                                currency_code: price.currency.code().to_string(),
                                is_default: price.is_default,
                                tax_model: price.tax_model.code(),
                                price_model: price.model.code(),
                            })
                            .collect(),
                    })
                    .collect(),
            },
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceTermsView {
    pub billing_model: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_period: Option<PeriodView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServicePriceView {
    pub id: String,
    pub is_default: bool,
    pub price_model: &'static str,
    pub tiers: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upper_tier: Option<u32>,
    pub price: crate::api::wire::Money,
    pub currency_code: String,
    pub tax_model: &'static str,
    pub price_terms: PriceTermsView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendedServiceView {
    pub id: String,
    pub sku: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub composition: &'static str,
    pub prices: Vec<ServicePriceView>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ServiceRecommendationQuery {
    /// The signed-in contact (its own id only).
    pub contact_id: Option<String>,
    /// In the SKU, name or description.
    pub search_value: Option<String>,
    /// Only services billed over this many `billing_period_uot`.
    pub billing_period_duration: Option<u32>,
    /// DAY, WEEK, MONTH or YEAR.
    pub billing_period_uot: Option<String>,
    /// Services to add to this subscription of the contact.
    pub subscription_id: Option<String>,
    /// Services to change this service of the contact to.
    pub service_id: Option<String>,
}

/// Termed services for the signed-in contact, with their prices: for a first subscription
/// any; for a subscription (`subscription_id`), those of its billing period it does not
/// have; for a change (`service_id`), the other services of its period. By name, paged.
#[utoipa::path(
    tag = "Subscriptions",
    params(ServiceRecommendationQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<RecommendedServiceView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/services/recommendation")]
pub async fn service_recommendation(
    token: ContactToken,
    engine: web::Data<Engine>,
    query: web::Query<ServiceRecommendationQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    if let Some(contact) = query.contact_id.as_deref() {
        token.own(contact)?;
    }
    let period = match (query.billing_period_duration, query.billing_period_uot.as_deref()) {
        (None, None) => None,
        (Some(duration), Some(uot)) if duration > 0 => Some(BillingPeriod {
            duration,
            unit: PeriodUnit::parse(uot)
                .ok_or_else(|| ApiError::invalid("billing_period_uot", "must be DAY, WEEK, MONTH or YEAR"))?,
        }),
        _ => {
            return Err(ApiError::invalid(
                "billing_period_duration",
                "a billing period needs its duration (1 or more) and its uot",
            ))
        }
    };
    let service_query = ServiceQuery {
        search: query.search_value.clone().filter(|s| !s.trim().is_empty()),
        period,
        subscription: query
            .subscription_id
            .as_deref()
            .map(|id| SubscriptionId::parse(id).map_err(|_| ApiError::not_found("subscription")))
            .transpose()?,
        service: query
            .service_id
            .as_deref()
            .map(|id| ServiceId::parse(id).map_err(|_| ApiError::not_found("service")))
            .transpose()?,
    };
    let found = engine.service_recommendations(&token.tenant, token.contact, &service_query)?;
    let views: Vec<RecommendedServiceView> = found
        .iter()
        .map(|(product, prices)| RecommendedServiceView {
            id: product.id.to_string(),
            sku: product.sku.clone(),
            name: product.name.clone(),
            description: product.description.clone(),
            composition: product.composition.code(),
            prices: prices
                .iter()
                .map(|price| ServicePriceView {
                    id: price.id.to_string(),
                    is_default: price.is_default,
                    price_model: price.model.code(),
                    tiers: price.tiers.len(),
                    upper_tier: price.tiers.last().and_then(|tier| tier.upper),
                    price: money(rewards_engine::domain::money::with_minor_units(
                        price.unit_price(),
                        price.currency,
                    )),
                    currency_code: price.currency.code().to_string(),
                    tax_model: price.tax_model.code(),
                    price_terms: PriceTermsView {
                        billing_model: "PRE_BILL",
                        billing_period: period_of(price),
                    },
                })
                .collect(),
        })
        .collect();
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

fn period_of(price: &Price) -> Option<PeriodView> {
    period(price.billing_period)
}
