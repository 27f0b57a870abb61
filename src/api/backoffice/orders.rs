//! Orders in the back office: how each merchant or venue takes orders
//! (`PUT/GET /backoffice/v2/organisations/{id}/fulfilment`), reading an order and moving it
//! through its states (`GET /backoffice/v2/orders/{id}`, `PUT /backoffice/v2/orders/{id}/actions`).

use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::self_service::orders::{order_action, order_id, order_view, OrderActionBody, OrderView};
use crate::api::wire::{money, Json, Money};
use actix_web::{get, put, web, HttpResponse};
use rewards_engine::domain::ids::{OrganisationId, ProductId};
use rewards_engine::domain::order::{DeliveryMethod, FulfilmentTerms, OrderPayment, SupplyMethod};
use rewards_engine::Engine;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfilmentBody {
    /// DELIVERY, PICK_UP, DIRECT_SALE.
    pub supply_methods: Option<Vec<String>>,
    /// DIRECT_DELIVERY, COURIER_SERVICE, PICKUP_POINT (needed to deliver).
    pub delivery_methods: Option<Vec<String>>,
    /// How far it delivers, in kilometres (needed to deliver).
    pub delivery_radius: Option<Money>,
    /// The product charged per delivery.
    pub delivery_fee_product_id: Option<String>,
    /// The least an order's total may be.
    pub minimum_amount: Option<Money>,
    /// How long an order takes to be ready (or delivered), in minutes.
    pub minutes_to_fulfil: Option<u32>,
    /// CASH, CHEQUE, WALLET, CRM_WALLET.
    pub payment_method_types: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FulfilmentView {
    pub supply_methods: Vec<&'static str>,
    pub delivery_methods: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_radius: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_fee_product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_amount: Option<Money>,
    pub minutes_to_fulfil: u32,
    pub payment_method_types: Vec<&'static str>,
    pub updated_date: i64,
}

fn fulfilment_view(terms: &FulfilmentTerms) -> FulfilmentView {
    FulfilmentView {
        supply_methods: terms.supply_methods.iter().map(|m| m.code()).collect(),
        delivery_methods: terms.delivery_methods.iter().map(|m| m.code()).collect(),
        delivery_radius: terms
            .delivery_radius_m
            .map(|m| money(Decimal::from(m) / Decimal::from(1000))),
        delivery_fee_product_id: terms.delivery_fee.map(|id| id.to_string()),
        minimum_amount: terms.minimum_amount.map(money),
        minutes_to_fulfil: terms.minutes_to_fulfil,
        payment_method_types: terms.payments.iter().map(|p| p.code()).collect(),
        updated_date: terms.updated_on,
    }
}

fn codes<T>(parameter: &str, values: Option<Vec<String>>, parse: fn(&str) -> Option<T>) -> Result<Vec<T>, ApiError> {
    values
        .unwrap_or_default()
        .iter()
        .map(|value| parse(value).ok_or_else(|| ApiError::invalid(parameter, format!("{value} is not one of them"))))
        .collect()
}

fn organisation_id(text: &str) -> Result<OrganisationId, ApiError> {
    OrganisationId::parse(text).map_err(|_| ApiError::not_found("organisation"))
}

impl FulfilmentBody {
    fn terms(self) -> Result<FulfilmentTerms, ApiError> {
        let radius = self
            .delivery_radius
            .map(|km| {
                km.0.checked_mul(Decimal::from(1000))
                    .and_then(|metres| metres.round().to_u32())
                    .filter(|metres| *metres > 0)
                    .ok_or_else(|| ApiError::invalid("delivery_radius", "must be 0.001 to 1000 km"))
            })
            .transpose()?;
        Ok(FulfilmentTerms {
            supply_methods: codes("supply_methods", self.supply_methods, SupplyMethod::parse)?,
            delivery_methods: codes("delivery_methods", self.delivery_methods, DeliveryMethod::parse)?,
            delivery_radius_m: radius,
            delivery_fee: self
                .delivery_fee_product_id
                .map(|id| {
                    ProductId::parse(&id)
                        .map_err(|_| ApiError::invalid("delivery_fee_product_id", "must be a product id"))
                })
                .transpose()?,
            minimum_amount: self.minimum_amount.map(|m| m.0),
            minutes_to_fulfil: self.minutes_to_fulfil.unwrap_or(0),
            payments: codes("payment_method_types", self.payment_method_types, OrderPayment::parse)?,
            updated_on: 0,
        })
    }
}

/// Sets how a merchant or venue takes orders: supply methods, how and how far it
/// delivers, the delivery fee's product, the least an order may come to, how long an order
/// takes, and how orders are paid. Replaces what was set.
#[utoipa::path(
    tag = "Orders",
    params(("id" = String, Path)),
    request_body = FulfilmentBody,
    responses((status = 200, body = FulfilmentView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[put("/organisations/{id}/fulfilment")]
pub async fn set_fulfilment(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: Json<FulfilmentBody>,
) -> Result<HttpResponse, ApiError> {
    let id = organisation_id(&path)?;
    let terms = body.into_inner().terms()?;
    let saved = engine.set_fulfilment(&auth.caller, auth.tenant, id, terms).await?;
    Ok(HttpResponse::Ok().json(fulfilment_view(&saved)))
}

/// How a merchant or venue takes orders (404 when it takes none).
#[utoipa::path(
    tag = "Orders",
    params(("id" = String, Path)),
    responses((status = 200, body = FulfilmentView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/organisations/{id}/fulfilment")]
pub async fn get_fulfilment(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let terms = engine
        .fulfilment(&auth.tenant, organisation_id(&path)?)?
        .ok_or_else(|| ApiError::not_found("fulfilment terms"))?;
    Ok(HttpResponse::Ok().json(fulfilment_view(&terms)))
}

/// An order of the business.
#[utoipa::path(
    tag = "Orders",
    params(("id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/orders/{id}")]
pub async fn get_order(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order = engine.order(&auth.tenant, None, order_id(&path)?)?;
    Ok(HttpResponse::Ok().json(order_view(&engine, &order)?))
}

/// Moves an order: START_PROGRESS, COMPLETE, CANCEL (its purchase cancelled: awards taken
/// back, wallet funds given back), MARK_FAVORITE, PRINT_ORDER; as `domain::order` allows.
#[utoipa::path(
    tag = "Orders",
    params(("id" = String, Path)),
    request_body = OrderActionBody,
    responses(
        (status = 200, body = OrderView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[put("/orders/{id}/actions")]
pub async fn order_actions(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: Json<OrderActionBody>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path)?;
    let action = order_action(body.action.as_deref())?;
    let order = engine.order_action(auth.tenant, None, id, action).await?;
    Ok(HttpResponse::Ok().json(order_view(&engine, &order)?))
}
