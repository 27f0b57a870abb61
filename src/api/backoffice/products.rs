//! The catalogue in the back office: `POST/GET /backoffice/v2/products`, `GET/PUT
//! /backoffice/v2/products/{id}`, and the classes products are filed under —
//! `POST/GET /backoffice/v2/products/{brands|families|categories|types}`.

use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::self_service::products::{class_views, product_page, ClassView, Names, ProductQuery, ProductView};
use crate::api::wire::{Money, Paged, PagedResponse};
use actix_web::{get, post, put, web, HttpResponse};
use rewards_engine::domain::ids::{OrganisationId, ProductClassId, ProductId};
use rewards_engine::domain::money::Currency;
use rewards_engine::domain::order::{TaxCode, TaxRate};
use rewards_engine::domain::product::{
    BillingPeriod, ClassKind, Composition, PeriodUnit, PriceModel, ProductClassification, TaxModel, Tier,
};
use rewards_engine::engine::{NewPrice, NewProduct, NewProductClass, ProductUpdate};
use rewards_engine::Engine;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClassBody {
    pub name: Option<String>,
    pub description: Option<String>,
    /// What a till calls it (the family, brand or category codes purchases carry).
    pub code: Option<String>,
    /// Categories: the parent category.
    pub parent_id: Option<String>,
    /// Types: TERMED_SERVICE, USAGE_SERVICE, ONE_TIME_SERVICE, TRACEABLE_PHYSICAL_GOOD,
    /// NON_TRACEABLE_PHYSICAL_GOOD or EXPENSES_SERVICE.
    pub classification: Option<String>,
    /// Types: FLAT, FLEXIBLE_BUNDLE, FIXED_BUNDLE or COMPOSITE.
    pub composition_method: Option<String>,
}

fn kind_of(path: &str) -> Result<ClassKind, ApiError> {
    match path {
        "brands" => Ok(ClassKind::Brand),
        "families" => Ok(ClassKind::Family),
        "categories" => Ok(ClassKind::Category),
        "types" => Ok(ClassKind::Type),
        _ => Err(ApiError::not_found("product class")),
    }
}

fn id_of<T>(parameter: &str, value: Option<String>, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
    value
        .map(|text| parse(&text).ok_or_else(|| ApiError::invalid(parameter, "must be an id")))
        .transpose()
}

fn class_id(parameter: &str, value: Option<String>) -> Result<Option<ProductClassId>, ApiError> {
    id_of(parameter, value, |text| ProductClassId::parse(text).ok())
}

fn product_ids(parameter: &str, values: Option<Vec<String>>) -> Result<Option<Vec<ProductId>>, ApiError> {
    values
        .map(|ids| {
            ids.iter()
                .map(|id| ProductId::parse(id).map_err(|_| ApiError::invalid(parameter, "must be product ids")))
                .collect()
        })
        .transpose()
}

fn class_ids(parameter: &str, values: Option<Vec<String>>) -> Result<Option<Vec<ProductClassId>>, ApiError> {
    values
        .map(|ids| {
            ids.iter()
                .map(|id| ProductClassId::parse(id).map_err(|_| ApiError::invalid(parameter, "must be ids")))
                .collect()
        })
        .transpose()
}

/// Files a brand, family, category or type (names unique among their kind).
#[utoipa::path(
    tag = "Products",
    params(("kind" = String, Path, description = "brands, families, categories or types")),
    request_body = CreateClassBody,
    responses((status = 201, body = ClassView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/products/{kind:brands|families|categories|types}")]
pub async fn create_class(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<CreateClassBody>,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&path)?;
    let body = body.into_inner();
    let new = NewProductClass {
        kind,
        name: body.name.ok_or_else(|| ApiError::missing("name"))?,
        description: body.description,
        code: body.code,
        parent: class_id("parent_id", body.parent_id)?,
        classification: id_of("classification", body.classification, ProductClassification::parse)?,
        composition: id_of("composition_method", body.composition_method, Composition::parse)?,
    };
    let class = engine.create_product_class(auth.tenant, new).await?;
    let all = engine.product_classes(&auth.tenant, kind)?;
    let view = class_views(&all)
        .into_iter()
        .find(|view| view.id == class.id.to_string())
        .ok_or_else(|| ApiError::from(rewards_engine::EngineError::Internal("product class")))?;
    Ok(HttpResponse::Created().json(view))
}

/// The business's classes of one kind, by name (every category, at any level).
#[utoipa::path(
    tag = "Products",
    params(("kind" = String, Path, description = "brands, families, categories or types"), crate::api::wire::PageQuery),
    responses((status = 200, body = PagedResponse<ClassView>), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/products/{kind:brands|families|categories|types}")]
pub async fn list_classes(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let kind = kind_of(&path)?;
    let (content, paging) = paged.page_of(class_views(&engine.product_classes(&auth.tenant, kind)?));
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierBody {
    pub lower_tier: u32,
    /// Left out on the last tier: no upper bound.
    pub upper_tier: Option<u32>,
    pub price: Money,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingPeriodBody {
    pub duration: u32,
    /// DAY, WEEK, MONTH or YEAR.
    pub uot: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceTermsBody {
    pub billing_period: Option<BillingPeriodBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceBody {
    /// FLAT (the default: `price` per unit), TIERED, VOLUME or STAIRSTEP (`tiers`).
    pub price_model: Option<String>,
    pub price: Option<Money>,
    pub tiers: Option<Vec<TierBody>>,
    /// The business's currency by default.
    pub currency_code: Option<String>,
    /// TAX_INCLUSIVE (the default) or TAX_EXCLUSIVE.
    pub tax_model: Option<String>,
    pub price_terms: Option<PriceTermsBody>,
    pub is_default: Option<bool>,
}

impl PriceBody {
    fn price(self) -> Result<NewPrice, ApiError> {
        let model = match self.price_model.as_deref() {
            None => PriceModel::Flat,
            Some(code) => PriceModel::parse(code)
                .ok_or_else(|| ApiError::invalid("pricing.price_model", "must be FLAT, TIERED, VOLUME or STAIRSTEP"))?,
        };
        let tiers = match (model, self.price, self.tiers) {
            (PriceModel::Flat, Some(price), None) => vec![Tier {
                lower: 1,
                upper: None,
                price: price.0,
            }],
            (PriceModel::Flat, _, _) => {
                return Err(ApiError::invalid(
                    "pricing.price",
                    "a FLAT price has its `price` and no tiers",
                ))
            }
            (_, None, Some(tiers)) => tiers
                .into_iter()
                .map(|tier| Tier {
                    lower: tier.lower_tier,
                    upper: tier.upper_tier,
                    price: tier.price.0,
                })
                .collect(),
            (_, _, _) => {
                return Err(ApiError::invalid(
                    "pricing.tiers",
                    "a tiered price has its tiers and no `price`",
                ))
            }
        };
        Ok(NewPrice {
            currency: self
                .currency_code
                .map(|code| {
                    Currency::parse(&code)
                        .map_err(|_| ApiError::invalid("pricing.currency_code", "is not a currency code"))
                })
                .transpose()?,
            model,
            tax_model: match self.tax_model.as_deref() {
                None => TaxModel::Inclusive,
                Some(code) => TaxModel::parse(code)
                    .ok_or_else(|| ApiError::invalid("pricing.tax_model", "must be TAX_INCLUSIVE or TAX_EXCLUSIVE"))?,
            },
            tiers,
            billing_period: self
                .price_terms
                .and_then(|terms| terms.billing_period)
                .map(|period| -> Result<BillingPeriod, ApiError> {
                    Ok(BillingPeriod {
                        duration: period.duration,
                        unit: PeriodUnit::parse(&period.uot).ok_or_else(|| {
                            ApiError::invalid(
                                "pricing.price_terms.billing_period.uot",
                                "must be DAY, WEEK, MONTH or YEAR",
                            )
                        })?,
                    })
                })
                .transpose()?,
            is_default: self.is_default.unwrap_or(false),
        })
    }
}

fn prices(values: Option<Vec<PriceBody>>) -> Result<Option<Vec<NewPrice>>, ApiError> {
    values
        .map(|prices| prices.into_iter().map(PriceBody::price).collect())
        .transpose()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProductBody {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// A product type (its classification and composition are the product's).
    pub type_id: Option<String>,
    pub family_id: Option<String>,
    pub brand_id: Option<String>,
    pub category_ids: Option<Vec<String>>,
    pub is_modifier: Option<bool>,
    /// The product this one is a variant of.
    pub variant_of: Option<String>,
    /// A bundle's or composite's products.
    pub components: Option<Vec<String>>,
    pub pricing: Option<Vec<PriceBody>>,
    pub crosssells: Option<Vec<String>>,
    pub upsells: Option<Vec<String>>,
    /// ENABLED (the default) or DISABLED.
    pub availability: Option<String>,
    /// An organisation of the business's network (the business by default).
    pub owner_id: Option<String>,
    /// Its tax (none: untaxed).
    pub tax_rate: Option<TaxRateBody>,
    /// The merchants and venues that sell it (none: every one).
    pub available_at: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRateBody {
    pub name: Option<String>,
    /// VAT, TAX_EXEMPT, SALES_TAX or OTHER.
    pub tax_code: Option<String>,
    /// 0 to 100.
    pub percentage: Option<Money>,
}

impl TaxRateBody {
    fn rate(self) -> Result<TaxRate, ApiError> {
        Ok(TaxRate {
            name: self.name.ok_or_else(|| ApiError::missing("tax_rate.name"))?,
            code: match self.tax_code.as_deref() {
                None => TaxCode::Vat,
                Some(code) => TaxCode::parse(code).ok_or_else(|| {
                    ApiError::invalid("tax_rate.tax_code", "must be VAT, TAX_EXEMPT, SALES_TAX or OTHER")
                })?,
            },
            percentage: self
                .percentage
                .ok_or_else(|| ApiError::missing("tax_rate.percentage"))?
                .0,
        })
    }
}

fn organisation_ids(parameter: &str, values: Option<Vec<String>>) -> Result<Option<Vec<OrganisationId>>, ApiError> {
    values
        .map(|ids| {
            ids.iter()
                .map(|id| {
                    OrganisationId::parse(id).map_err(|_| ApiError::invalid(parameter, "must be organisation ids"))
                })
                .collect()
        })
        .transpose()
}

fn availability(value: Option<&str>) -> Result<Option<bool>, ApiError> {
    match value {
        None => Ok(None),
        Some("ENABLED") => Ok(Some(true)),
        Some("DISABLED") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid("availability", "must be ENABLED or DISABLED")),
    }
}

/// Makes a product (its SKU unique in the business, any case).
#[utoipa::path(
    tag = "Products",
    request_body = CreateProductBody,
    responses((status = 201, body = ProductView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/products")]
pub async fn create_product(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<CreateProductBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let new = NewProduct {
        sku: body.sku.ok_or_else(|| ApiError::missing("sku"))?,
        name: body.name.ok_or_else(|| ApiError::missing("name"))?,
        description: body.description,
        product_type: class_id("type_id", body.type_id)?.ok_or_else(|| ApiError::missing("type_id"))?,
        family: class_id("family_id", body.family_id)?,
        brand: class_id("brand_id", body.brand_id)?,
        categories: class_ids("category_ids", body.category_ids)?.unwrap_or_default(),
        is_modifier: body.is_modifier.unwrap_or(false),
        variant_of: id_of("variant_of", body.variant_of, |text| ProductId::parse(text).ok())?,
        components: product_ids("components", body.components)?.unwrap_or_default(),
        prices: prices(body.pricing)?.unwrap_or_default(),
        cross_sells: product_ids("crosssells", body.crosssells)?.unwrap_or_default(),
        up_sells: product_ids("upsells", body.upsells)?.unwrap_or_default(),
        enabled: availability(body.availability.as_deref())?.unwrap_or(true),
        owner: id_of("owner_id", body.owner_id, |text| OrganisationId::parse(text).ok())?,
        tax_rate: body.tax_rate.map(TaxRateBody::rate).transpose()?,
        available_at: organisation_ids("available_at", body.available_at)?.unwrap_or_default(),
    };
    let product = engine.create_product(auth.tenant, new).await?;
    Ok(HttpResponse::Created().json(Names::new(&engine, auth.tenant).product(&product)))
}

/// The business's products (modifiers, variants and disabled ones too), by name.
#[utoipa::path(
    tag = "Products",
    params(ProductQuery, crate::api::wire::PageQuery),
    responses((status = 200, body = PagedResponse<crate::api::self_service::products::ProductListView>), (status = 400, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/products")]
pub async fn list_products(
    auth: BackOffice,
    engine: web::Data<Engine>,
    query: web::Query<ProductQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    product_page(&engine, auth.tenant, &query.filter(false)?, &paged)
}

fn product_id(path: &str) -> Result<ProductId, ApiError> {
    ProductId::parse(path).map_err(|_| ApiError::not_found("product"))
}

#[utoipa::path(
    tag = "Products",
    params(("id" = String, Path)),
    responses((status = 200, body = ProductView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/products/{id}")]
pub async fn get_product(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let product = engine.product(&auth.tenant, product_id(&path)?)?;
    Ok(HttpResponse::Ok().json(Names::new(&engine, auth.tenant).product(&product)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProductBody {
    pub name: Option<String>,
    pub description: Option<String>,
    pub availability: Option<String>,
    /// Replaces every price.
    pub pricing: Option<Vec<PriceBody>>,
    pub category_ids: Option<Vec<String>>,
    pub crosssells: Option<Vec<String>>,
    pub upsells: Option<Vec<String>>,
    pub tax_rate: Option<TaxRateBody>,
    pub available_at: Option<Vec<String>>,
}

/// Changes a product: all of it, or none.
#[utoipa::path(
    tag = "Products",
    params(("id" = String, Path)),
    request_body = UpdateProductBody,
    responses((status = 200, body = ProductView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[put("/products/{id}")]
pub async fn update_product(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<UpdateProductBody>,
) -> Result<HttpResponse, ApiError> {
    let id = product_id(&path)?;
    let body = body.into_inner();
    let update = ProductUpdate {
        name: body.name,
        description: body.description,
        enabled: availability(body.availability.as_deref())?,
        prices: prices(body.pricing)?,
        categories: class_ids("category_ids", body.category_ids)?,
        cross_sells: product_ids("crosssells", body.crosssells)?,
        up_sells: product_ids("upsells", body.upsells)?,
        tax_rate: body.tax_rate.map(TaxRateBody::rate).transpose()?,
        available_at: organisation_ids("available_at", body.available_at)?,
    };
    let product = engine.update_product(auth.tenant, id, update).await?;
    Ok(HttpResponse::Ok().json(Names::new(&engine, auth.tenant).product(&product)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowanceBody {
    /// A usage service of the business.
    pub product_id: Option<String>,
    pub per_transaction: Option<Money>,
    pub per_day: Option<Money>,
    pub per_billing_cycle: Option<Money>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowancesBody {
    pub allowances: Option<Vec<AllowanceBody>>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AllowanceView {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_transaction: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_day: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_billing_cycle: Option<Money>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AllowancesView {
    pub allowances: Vec<AllowanceView>,
}

fn allowances_view(allowances: &[rewards_engine::domain::usage::Allowance]) -> AllowancesView {
    AllowancesView {
        allowances: allowances
            .iter()
            .map(|a| AllowanceView {
                product_id: a.product.to_string(),
                sku: a.sku.clone(),
                name: a.name.clone(),
                per_transaction: a.per_transaction.map(Money),
                per_day: a.per_day.map(Money),
                per_billing_cycle: a.per_cycle.map(Money),
            })
            .collect(),
    }
}

/// Gives a termed service its allowances of usage services (replacing any), each bounded
/// per transaction, per day and per billing cycle (at least one bound).
#[utoipa::path(
    tag = "Products",
    params(("id" = String, Path)),
    request_body = AllowancesBody,
    responses((status = 200, body = AllowancesView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[put("/products/{id}/allowances")]
pub async fn set_allowances(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<AllowancesBody>,
) -> Result<HttpResponse, ApiError> {
    let id = product_id(&path)?;
    let asked = body
        .into_inner()
        .allowances
        .ok_or_else(|| ApiError::missing("allowances"))?
        .into_iter()
        .map(|a| {
            let product = a.product_id.ok_or_else(|| ApiError::missing("allowances.product_id"))?;
            Ok(rewards_engine::engine::NewAllowance {
                product: ProductId::parse(&product)
                    .map_err(|_| ApiError::invalid("allowances.product_id", "must be a product id"))?,
                per_transaction: a.per_transaction.map(|m| m.0),
                per_day: a.per_day.map(|m| m.0),
                per_cycle: a.per_billing_cycle.map(|m| m.0),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let saved = engine.set_allowances(auth.tenant, id, asked).await?;
    Ok(HttpResponse::Ok().json(allowances_view(&saved.allowances)))
}

/// A termed service's allowances.
#[utoipa::path(
    tag = "Products",
    params(("id" = String, Path)),
    responses((status = 200, body = AllowancesView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/products/{id}/allowances")]
pub async fn get_allowances(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = product_id(&path)?;
    engine.product(&auth.tenant, id)?;
    Ok(HttpResponse::Ok().json(allowances_view(&engine.allowances(&auth.tenant, id)?)))
}
