//! The catalogue in apps: `GET /self-service/v2/products` (search by name, SKU, family,
//! brand, category and type; modifiers, variants and disabled products are not listed),
//! `GET /products/{id}`, `/products/{id}/components`, `/products/{id}/variants`, and the
//! classes: `/products/brands`, `/products/categories`, `/products/types`. With the
//! contact's token or the business's secret key.

use super::ContactOrServer;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money, Paged, PagedResponse};
use actix_web::{get, web, HttpResponse};
use rewards_engine::domain::ids::{ProductClassId, ProductId, Tenant};
use rewards_engine::domain::money::with_minor_units;
use rewards_engine::domain::product::{ClassKind, Price, Product, ProductClass, ProductClassification};
use rewards_engine::engine::ProductFilter;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductRef {
    pub id: String,
    pub sku: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingPeriodView {
    pub duration: u32,
    /// DAY, WEEK, MONTH or YEAR.
    pub uot: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceTermsView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_period: Option<BillingPeriodView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierView {
    pub lower_tier: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upper_tier: Option<u32>,
    pub price: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceView {
    pub id: String,
    /// The first tier's price (FLAT: the unit price).
    pub price: Money,
    pub currency_code: String,
    pub is_default: bool,
    pub tax_model: &'static str,
    pub price_model: &'static str,
    pub price_terms: PriceTermsView,
    pub tiers: Vec<TierView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: String,
    pub sku: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub classification: &'static str,
    pub type_composition: &'static str,
    pub number_of_prices: usize,
    #[serde(rename = "type")]
    pub product_type: NamedRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<NamedRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<NamedRef>,
    pub categories: Vec<NamedRef>,
    pub is_modifier: bool,
    /// Our addition: the product this is a variant of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_of: Option<String>,
    /// ENABLED or DISABLED.
    pub availability: &'static str,
    pub owner: NamedRef,
    pub pricing: Vec<PriceView>,
    pub upsells: Vec<ProductRef>,
    pub crosssells: Vec<ProductRef>,
    /// Our addition: its tax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rate: Option<super::order_estimates::TaxRateView>,
    /// Our addition: the merchants and venues that sell it (empty: every one).
    pub available_at: Vec<String>,
}

/// A product in a list: as one, with how many components and variants it has.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductListView {
    pub id: String,
    pub sku: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub classification: &'static str,
    pub type_composition: &'static str,
    pub components: usize,
    pub variants: usize,
    pub number_of_prices: usize,
    pub availability: &'static str,
    pub owner: NamedRef,
    pub is_modifier: bool,
    pub pricing: Vec<PriceView>,
}

fn price_view(price: &Price) -> PriceView {
    let exact = |value| money(with_minor_units(value, price.currency));
    PriceView {
        id: price.id.to_string(),
        price: exact(price.unit_price()),
        currency_code: price.currency.code().to_string(),
        is_default: price.is_default,
        tax_model: price.tax_model.code(),
        price_model: price.model.code(),
        price_terms: PriceTermsView {
            billing_period: price.billing_period.map(|period| BillingPeriodView {
                duration: period.duration,
                uot: period.unit.code(),
            }),
        },
        tiers: price
            .tiers
            .iter()
            .map(|tier| TierView {
                lower_tier: tier.lower,
                upper_tier: tier.upper,
                price: exact(tier.price),
            })
            .collect(),
    }
}

/// Names the views show: classes and products looked up once per view.
pub struct Names<'a> {
    engine: &'a Engine,
    tenant: Tenant,
}

impl<'a> Names<'a> {
    pub fn new(engine: &'a Engine, tenant: Tenant) -> Names<'a> {
        Names { engine, tenant }
    }

    fn class(&self, kind: ClassKind, id: ProductClassId) -> NamedRef {
        NamedRef {
            id: id.to_string(),
            name: self
                .engine
                .product_class(&self.tenant, kind, id)
                .map(|class| class.name)
                .unwrap_or_default(),
        }
    }

    fn products(&self, ids: &[ProductId]) -> Vec<ProductRef> {
        ids.iter()
            .filter_map(|id| self.engine.product(&self.tenant, *id).ok())
            .map(|product| ProductRef {
                id: product.id.to_string(),
                sku: product.sku,
                name: product.name,
            })
            .collect()
    }

    fn owner(&self, product: &Product) -> NamedRef {
        NamedRef {
            id: product.owner.to_string(),
            name: self
                .engine
                .organisation(product.owner)
                .map(|organisation| organisation.name)
                .unwrap_or_default(),
        }
    }

    pub fn product(&self, product: &Product) -> ProductView {
        ProductView {
            id: product.id.to_string(),
            sku: product.sku.clone(),
            name: product.name.clone(),
            description: product.description.clone(),
            classification: product.classification.code(),
            type_composition: product.composition.code(),
            number_of_prices: product.prices.len(),
            product_type: self.class(ClassKind::Type, product.product_type),
            family: product.family.map(|id| self.class(ClassKind::Family, id)),
            brand: product.brand.map(|id| self.class(ClassKind::Brand, id)),
            categories: product
                .categories
                .iter()
                .map(|id| self.class(ClassKind::Category, *id))
                .collect(),
            is_modifier: product.is_modifier,
            variant_of: product.variant_of.map(|id| id.to_string()),
            availability: if product.enabled { "ENABLED" } else { "DISABLED" },
            owner: self.owner(product),
            pricing: product.prices.iter().map(price_view).collect(),
            upsells: self.products(&product.up_sells),
            crosssells: self.products(&product.cross_sells),
            tax_rate: product.tax_rate.as_ref().map(super::order_estimates::tax_rate_view),
            available_at: product.available_at.iter().map(ToString::to_string).collect(),
        }
    }

    pub fn listed(&self, product: &Product, variants: usize) -> ProductListView {
        ProductListView {
            id: product.id.to_string(),
            sku: product.sku.clone(),
            name: product.name.clone(),
            description: product.description.clone(),
            classification: product.classification.code(),
            type_composition: product.composition.code(),
            components: product.components.len(),
            variants,
            number_of_prices: product.prices.len(),
            availability: if product.enabled { "ENABLED" } else { "DISABLED" },
            owner: self.owner(product),
            is_modifier: product.is_modifier,
            pricing: product.prices.iter().map(price_view).collect(),
        }
    }
}

/// A page of products, listed with their variant counts.
pub fn product_page(
    engine: &Engine,
    tenant: Tenant,
    filter: &ProductFilter,
    paged: &Paged,
) -> Result<HttpResponse, ApiError> {
    let names = Names::new(engine, tenant);
    let views: Vec<ProductListView> = engine
        .products_with_variants(&tenant, filter)?
        .iter()
        .map(|(product, variants)| names.listed(product, *variants))
        .collect();
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ProductQuery {
    /// In the name or the SKU.
    pub search_value: Option<String>,
    pub name: Option<String>,
    /// Comma-separated.
    pub product_skus: Option<String>,
    /// Comma-separated.
    pub product_ids: Option<String>,
    pub family_id: Option<String>,
    pub brand_id: Option<String>,
    /// This category and those below it.
    pub category_id: Option<String>,
    pub category_id_exact: Option<String>,
    pub type_id: Option<String>,
    pub classification: Option<String>,
}

fn class_id(parameter: &str, value: &Option<String>) -> Result<Option<ProductClassId>, ApiError> {
    value
        .as_deref()
        .map(|id| ProductClassId::parse(id).map_err(|_| ApiError::invalid(parameter, "must be an id")))
        .transpose()
}

impl ProductQuery {
    pub fn filter(&self, listed_only: bool) -> Result<ProductFilter, ApiError> {
        let list = |value: &Option<String>| -> Vec<String> {
            value
                .as_deref()
                .map(|text| {
                    text.split(',')
                        .map(str::trim)
                        .filter(|item| !item.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(ProductFilter {
            search: self.search_value.clone(),
            name: self.name.clone(),
            skus: list(&self.product_skus),
            ids: list(&self.product_ids)
                .iter()
                .map(|id| ProductId::parse(id).map_err(|_| ApiError::invalid("product_ids", "must be ids")))
                .collect::<Result<_, _>>()?,
            family: class_id("family_id", &self.family_id)?,
            brand: class_id("brand_id", &self.brand_id)?,
            category: class_id("category_id", &self.category_id)?,
            category_exact: class_id("category_id_exact", &self.category_id_exact)?,
            product_type: class_id("type_id", &self.type_id)?,
            classification: self
                .classification
                .as_deref()
                .map(|code| {
                    ProductClassification::parse(code)
                        .ok_or_else(|| ApiError::invalid("classification", "is not a product classification"))
                })
                .transpose()?,
            listed_only,
        })
    }
}

/// Products that can be ordered on their own, by name.
#[utoipa::path(
    tag = "Products",
    params(ProductQuery, crate::api::wire::PageQuery),
    responses((status = 200, body = PagedResponse<ProductListView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []), ("Secret_API_key" = []))
)]
#[get("/products")]
pub async fn search_products(
    caller: ContactOrServer,
    engine: web::Data<Engine>,
    query: web::Query<ProductQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    product_page(&engine, caller.tenant(), &query.filter(true)?, &paged)
}

fn product_id(path: &str) -> Result<ProductId, ApiError> {
    ProductId::parse(path).map_err(|_| ApiError::not_found("product"))
}

/// One product.
#[utoipa::path(
    tag = "Products",
    params(("id" = String, Path)),
    responses((status = 200, body = ProductView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []), ("Secret_API_key" = []))
)]
#[get("/products/{id}")]
pub async fn get_product(
    caller: ContactOrServer,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tenant = caller.tenant();
    let product = engine.product(&tenant, product_id(&path)?)?;
    Ok(HttpResponse::Ok().json(Names::new(&engine, tenant).product(&product)))
}

/// A component's price, as the contract shapes it there (`rate_model`, no terms).
#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentPriceView {
    pub id: String,
    pub price: Money,
    pub currency_code: String,
    pub tax_model: &'static str,
    pub rate_model: &'static str,
    pub tiers: Vec<TierView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentProductView {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub availability: &'static str,
    pub pricing: Vec<ComponentPriceView>,
}

/// One component of a bundle: a product, always included.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentView {
    pub id: String,
    /// PRODUCT.
    pub item_type: &'static str,
    pub item_id: String,
    pub name: String,
    pub mandatory: bool,
    pub item_classification: &'static str,
    pub products: Vec<ComponentProductView>,
}

/// What a bundle or composite product is made of (none for any other), in its order.
#[utoipa::path(
    tag = "Products",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<ComponentView>), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []), ("Secret_API_key" = []))
)]
#[get("/products/{id}/components")]
pub async fn list_components(
    caller: ContactOrServer,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tenant = caller.tenant();
    let product = engine.product(&tenant, product_id(&path)?)?;
    let components: Vec<ComponentView> = product
        .components
        .iter()
        .filter_map(|id| engine.product(&tenant, *id).ok())
        .map(|component| ComponentView {
            id: component.id.to_string(),
            item_type: "PRODUCT",
            item_id: component.id.to_string(),
            name: component.name.clone(),
            mandatory: true,
            item_classification: component.classification.code(),
            products: vec![ComponentProductView {
                id: component.id.to_string(),
                sku: component.sku.clone(),
                name: component.name.clone(),
                availability: if component.enabled { "ENABLED" } else { "DISABLED" },
                pricing: component
                    .prices
                    .iter()
                    .map(|price| {
                        let view = price_view(price);
                        ComponentPriceView {
                            id: view.id,
                            price: view.price,
                            currency_code: view.currency_code,
                            tax_model: view.tax_model,
                            rate_model: view.price_model,
                            tiers: view.tiers,
                        }
                    })
                    .collect(),
            }],
        })
        .collect();
    Ok(HttpResponse::Ok().json(components))
}

/// A product's variants, by name.
#[utoipa::path(
    tag = "Products",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<ProductView>), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []), ("Secret_API_key" = []))
)]
#[get("/products/{id}/variants")]
pub async fn list_variants(
    caller: ContactOrServer,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let tenant = caller.tenant();
    let product = engine.product(&tenant, product_id(&path)?)?;
    let names = Names::new(&engine, tenant);
    let variants: Vec<ProductView> = engine
        .products(&tenant, &ProductFilter::default())?
        .iter()
        .filter(|other| other.variant_of == Some(product.id))
        .map(|variant| names.product(variant))
        .collect();
    Ok(HttpResponse::Ok().json(variants))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClassView {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Our addition: what a till calls it (purchases carry family, brand and category codes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A category's parent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<NamedRef>,
    /// A category's children.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_nodes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_in_order_menus: Option<bool>,
    /// A type's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composition_method: Option<&'static str>,
}

pub fn class_views(classes: &[ProductClass]) -> Vec<ClassView> {
    classes
        .iter()
        .map(|class| ClassView {
            id: class.id.to_string(),
            name: class.name.clone(),
            description: class.description.clone(),
            code: class.code.clone(),
            parent: class.parent.map(|parent| NamedRef {
                id: parent.to_string(),
                name: classes
                    .iter()
                    .find(|other| other.id == parent)
                    .map(|other| other.name.clone())
                    .unwrap_or_default(),
            }),
            child_nodes: (class.kind == ClassKind::Category)
                .then(|| classes.iter().filter(|other| other.parent == Some(class.id)).count()),
            available_in_order_menus: (class.kind == ClassKind::Category).then_some(true),
            classification: class.classification.map(ProductClassification::code),
            composition_method: class.composition.map(|composition| composition.code()),
        })
        .collect()
}

/// What a class list keeps.
#[derive(Debug, Default)]
pub struct ClassQuery {
    pub search_value: Option<String>,
    pub parent_id: Option<String>,
    pub return_all: Option<bool>,
    pub classifications: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct BrandQuery {
    /// In the name or the description.
    pub search_value: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct CategoryQuery {
    /// Only the children of this category (else the top ones).
    pub parent_id: Option<String>,
    /// Every category, at any level.
    pub return_all: Option<bool>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct TypeQuery {
    /// In the name or the description.
    pub search_value: Option<String>,
    /// Comma-separated classifications.
    pub classifications: Option<String>,
}

fn classes_page(
    engine: &Engine,
    tenant: Tenant,
    kind: ClassKind,
    query: &ClassQuery,
    paged: &Paged,
) -> Result<HttpResponse, ApiError> {
    let all = engine.product_classes(&tenant, kind)?;
    let parent = class_id("parent_id", &query.parent_id)?;
    let search = query.search_value.as_ref().map(|text| text.to_lowercase());
    let kinds: Vec<&str> = query
        .classifications
        .as_deref()
        .map(|text| text.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let views: Vec<ClassView> = class_views(&all)
        .into_iter()
        .zip(&all)
        .filter(|(_, class)| {
            search.as_ref().is_none_or(|text| {
                class.name.to_lowercase().contains(text)
                    || class
                        .description
                        .as_ref()
                        .is_some_and(|about| about.to_lowercase().contains(text))
            }) && (kind != ClassKind::Category || query.return_all == Some(true) || class.parent == parent)
                && (kinds.is_empty()
                    || class
                        .classification
                        .is_some_and(|classification| kinds.contains(&classification.code())))
        })
        .map(|(view, _)| view)
        .collect();
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

/// The business's product brands, by name.
#[utoipa::path(
    tag = "Products",
    params(BrandQuery, crate::api::wire::PageQuery),
    responses((status = 200, body = PagedResponse<ClassView>), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []), ("Secret_API_key" = []))
)]
#[get("/products/brands")]
pub async fn list_brands(
    caller: ContactOrServer,
    engine: web::Data<Engine>,
    query: web::Query<BrandQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let query = ClassQuery {
        search_value: query.into_inner().search_value,
        ..ClassQuery::default()
    };
    classes_page(&engine, caller.tenant(), ClassKind::Brand, &query, &paged)
}

/// The business's product categories: the top ones, a parent's children, or all.
#[utoipa::path(
    tag = "Products",
    params(CategoryQuery, crate::api::wire::PageQuery),
    responses((status = 200, body = PagedResponse<ClassView>), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []), ("Secret_API_key" = []))
)]
#[get("/products/categories")]
pub async fn list_categories(
    caller: ContactOrServer,
    engine: web::Data<Engine>,
    query: web::Query<CategoryQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let query = ClassQuery {
        parent_id: query.parent_id,
        return_all: query.return_all,
        ..ClassQuery::default()
    };
    classes_page(&engine, caller.tenant(), ClassKind::Category, &query, &paged)
}

/// The business's product types, by name.
#[utoipa::path(
    tag = "Products",
    params(TypeQuery, crate::api::wire::PageQuery),
    responses((status = 200, body = PagedResponse<ClassView>), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []), ("Secret_API_key" = []))
)]
#[get("/products/types")]
pub async fn list_types(
    caller: ContactOrServer,
    engine: web::Data<Engine>,
    query: web::Query<TypeQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let query = ClassQuery {
        search_value: query.search_value,
        classifications: query.classifications,
        ..ClassQuery::default()
    };
    classes_page(&engine, caller.tenant(), ClassKind::Type, &query, &paged)
}
