//! Usage in apps: whether usage may be consumed now against a service's allowances, and
//! recording it (`POST /estimates/allowance`), and the contact's usage records
//! (`GET /contacts/{id}/usage_records`).

use super::order_estimates::coded;
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Json, Money, Paged, PagedResponse};
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::domain::ids::{ProductId, ServiceId, SubscriptionId};
use rewards_engine::domain::product::ProductClassification;
use rewards_engine::domain::usage::Remaining;
use rewards_engine::engine::UsageFilter;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
pub struct ServiceRef {
    pub id: Option<String>,
    /// TERMED_SERVICE (allowances come with termed services).
    pub classification: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UsageProductRef {
    pub id: Option<String>,
    pub sku: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UsageBody {
    pub product: Option<UsageProductRef>,
    pub usage_amount: Option<Money>,
    pub cash_amount: Option<Money>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AllowanceBody {
    pub service: Option<ServiceRef>,
    pub usage: Option<Vec<UsageBody>>,
    /// Record the usage when it is authorised.
    pub block_usage: Option<bool>,
    pub contact_id: Option<String>,
    pub account_id: Option<String>,
    pub community_id: Option<String>,
    pub organisation_id: Option<String>,
    pub currency_code: Option<String>,
    pub estimation_id: Option<String>,
    pub cash_amount: Option<Money>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NamedProduct {
    pub id: String,
    pub name: String,
    pub sku: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllowanceService {
    pub id: String,
    pub classification: &'static str,
    pub product: NamedProduct,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Bounds {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_transaction: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_day: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_billing_cycle: Option<Money>,
}

fn bounds(left: &Remaining) -> Bounds {
    Bounds {
        per_transaction: left.per_transaction.map(money),
        per_day: left.per_day.map(money),
        per_billing_cycle: left.per_cycle.map(money),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductAllowanceView {
    pub item_type: &'static str,
    pub item_id: String,
    pub item_code: String,
    pub name: String,
    pub remaining_usage: Bounds,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceAllowanceView {
    pub authorise_consumption: bool,
    pub currency_code: String,
    pub service: AllowanceService,
    pub products_allowance: Vec<ProductAllowanceView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorisedUsage {
    pub amount: Money,
    pub usage: Money,
    pub product: NamedProduct,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllowanceView {
    pub estimation_id: String,
    pub services: Vec<ServiceAllowanceView>,
    pub authorised_usage: Vec<AuthorisedUsage>,
    /// Our addition: whether the usage was recorded (`block_usage` and authorised).
    pub recorded: bool,
}

/// Whether the signed-in contact may consume usage on one of its services now: each usage
/// product within what is left of the service's allowance per transaction, today (UTC) and
/// this billing cycle, the service effective. With `block_usage`, authorised usage is
/// recorded against the allowance (`GET /contacts/{id}/usage_records`).
#[utoipa::path(
    tag = "Subscriptions",
    request_body = AllowanceBody,
    responses(
        (status = 200, body = AllowanceView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/estimates/allowance")]
pub async fn authorise_usage(
    token: ContactToken,
    engine: web::Data<Engine>,
    body: Json<AllowanceBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if let Some(contact) = body.contact_id.as_deref() {
        token.own(contact)?;
    }
    let service = body.service.ok_or_else(|| ApiError::missing("service"))?;
    let classification = service
        .classification
        .as_deref()
        .ok_or_else(|| ApiError::missing("service.classification"))?;
    let classification = coded(
        "service.classification",
        classification,
        ProductClassification::parse,
        &["TERMED_SERVICE"],
    )?;
    if classification != ProductClassification::TermedService {
        return Err(ApiError::invalid(
            "service.classification",
            "allowances come with termed services",
        ));
    }
    let id = service.id.as_deref().ok_or_else(|| ApiError::missing("service.id"))?;
    let id = ServiceId::parse(id).map_err(|_| ApiError::not_found("service"))?;
    let usage = body
        .usage
        .ok_or_else(|| ApiError::missing("usage"))?
        .into_iter()
        .map(|line| {
            let product = line.product.ok_or_else(|| ApiError::missing("usage.product"))?;
            let product = product
                .id
                .as_deref()
                .ok_or_else(|| ApiError::missing("usage.product.id"))?;
            let product =
                ProductId::parse(product).map_err(|_| ApiError::invalid("usage.product.id", "must be a product id"))?;
            let amount = line
                .usage_amount
                .ok_or_else(|| ApiError::missing("usage.usage_amount"))?
                .0;
            Ok((product, amount))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let block = body.block_usage == Some(true);
    let answer = engine
        .authorise_usage(token.tenant, token.contact, id, &usage, block)
        .await?;
    let service = answer
        .subscription
        .service(answer.service)
        .ok_or_else(|| ApiError::not_found("service"))?;
    let currency = answer.subscription.currency.code().to_string();
    Ok(HttpResponse::Ok().json(AllowanceView {
        estimation_id: answer.id.to_string(),
        services: vec![ServiceAllowanceView {
            authorise_consumption: answer.authorised,
            currency_code: currency,
            service: AllowanceService {
                id: service.id.to_string(),
                classification: service.classification.code(),
                product: NamedProduct {
                    id: service.product.to_string(),
                    name: service.name.clone(),
                    sku: service.sku.clone(),
                },
            },
            products_allowance: answer
                .allowances
                .iter()
                .map(|(allowance, left)| ProductAllowanceView {
                    item_type: "PRODUCT",
                    item_id: allowance.product.to_string(),
                    item_code: allowance.sku.clone(),
                    name: allowance.name.clone(),
                    remaining_usage: bounds(left),
                })
                .collect(),
        }],
        authorised_usage: answer
            .lines
            .iter()
            .filter(|line| line.authorised)
            .map(|line| AuthorisedUsage {
                amount: money(rust_decimal::Decimal::ZERO),
                usage: money(line.amount),
                product: NamedProduct {
                    id: line.allowance.product.to_string(),
                    name: line.allowance.name.clone(),
                    sku: line.allowance.sku.clone(),
                },
            })
            .collect(),
        recorded: !answer.recorded.is_empty(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageRecordView {
    pub id: String,
    pub usage_amount: Money,
    pub usage_timestamp: i64,
    pub created_date: i64,
    pub charged_amount: Money,
    pub billed_amount: Money,
    pub currency_code: String,
    pub state: &'static str,
    pub billing_directive: &'static str,
    pub billing_state: &'static str,
    pub usage_product: NamedProduct,
    pub service: NamedProduct,
    /// Our additions: the service's subscription, and the authorisation that recorded it.
    pub subscription_id: String,
    pub estimation_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UsageRecordsQuery {
    /// The termed service the usage was consumed on.
    pub service_id: Option<String>,
    pub subscription_id: Option<String>,
    /// The usage product.
    pub usage_service_id: Option<String>,
}

/// The signed-in contact's usage records, newest first: usage consumed within its
/// services' allowances (never charged or billed).
#[utoipa::path(
    tag = "Subscriptions",
    params(("id" = String, Path), UsageRecordsQuery, crate::api::wire::PageNumberQuery),
    responses(
        (status = 200, body = PagedResponse<UsageRecordView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/usage_records")]
pub async fn list_usage_records(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<UsageRecordsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let parse = |parameter: &str, value: Option<&str>| {
        value
            .map(|v| uuid::Uuid::parse_str(v).map_err(|_| ApiError::invalid(parameter, "must be an id")))
            .transpose()
    };
    let filter = UsageFilter {
        service: parse("service_id", query.service_id.as_deref())?.map(ServiceId),
        subscription: parse("subscription_id", query.subscription_id.as_deref())?.map(SubscriptionId),
        product: parse("usage_service_id", query.usage_service_id.as_deref())?.map(ProductId),
    };
    let currency = engine.contact_currency(&token.tenant, contact)?;
    let mut records = engine.usage_records(&token.tenant, contact, &filter)?;
    if !paged.descending {
        records.reverse();
    }
    let (page, paging) = paged.page_of(records);
    let content = page
        .into_iter()
        .map(|record| UsageRecordView {
            id: record.id.to_string(),
            usage_amount: money(record.amount),
            usage_timestamp: record.at,
            created_date: record.at,
            charged_amount: money(rust_decimal::Decimal::ZERO),
            billed_amount: money(rust_decimal::Decimal::ZERO),
            currency_code: currency.code().to_string(),
            state: "POSTED",
            billing_directive: "NOT_TO_BE_BILLED",
            billing_state: "COMPLETED",
            usage_product: NamedProduct {
                id: record.product.to_string(),
                name: record.name,
                sku: record.sku,
            },
            service: NamedProduct {
                id: record.service.to_string(),
                name: record.service_name,
                sku: record.service_sku,
            },
            subscription_id: record.subscription.to_string(),
            estimation_id: record.estimate.to_string(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}
