//! Orders in apps: placing the order an estimate previewed (`POST /orders` with the
//! estimation id: once), reading and listing orders, and the contact's actions on them
//! (`PUT /orders/{id}/actions`). The previews are `order_estimates`.

use super::locations::{address_view, AddressView};
use super::order_estimates::{coded, exact, supply_method, ProductRef};
use super::topups::{intent_paid, unsettled};
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Json, Money, Paged, PagedResponse};
use crate::payments::Gateways;
use actix_web::{get, post, put, web, HttpResponse};
use rewards_engine::domain::ids::{IntentId, OrderEstimateId, OrderId, OrganisationId, PaymentMethodId};
use rewards_engine::domain::order::{
    DeliveryMethod, Order, OrderAction, OrderCharge, OrderEstimate, OrderPayment, OrderState,
};
use rewards_engine::engine::{IntentTopUp, OrderFilter, TopUpRequest};
use rewards_engine::Engine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
pub struct PaymentBody {
    pub payment_method_type: Option<String>,
    pub payment_method_id: Option<String>,
    pub amount: Option<Money>,
    pub paid_on: Option<String>,
    pub payment_token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubmitOrderBody {
    pub estimation_id: Option<String>,
    pub payments: Option<Vec<PaymentBody>>,
    /// As estimated, or left out.
    pub use_wallet_funds: Option<bool>,
    /// As estimated, or left out.
    pub wallet_funds_amount: Option<Money>,
    /// A CARD or ACCOUNT_DEBIT order: the contact's payment intent for its amount due
    /// (in place of a payment method), captured if it was held.
    pub intent_id: Option<String>,
    /// Refused: orders are not paid from accounts yet.
    pub use_account_funds: Option<bool>,
    pub account_funds_amount: Option<Money>,
    pub notes: Option<String>,
    pub id: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub devices: Option<Vec<serde_json::Value>>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub custom_fields: Option<Vec<serde_json::Value>>,
    /// Refused: e-gift passes are not sold through orders yet (a promotion pass is
    /// presented with the order's estimate).
    #[schema(value_type = Option<Object>)]
    pub pass: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FulfilledBy {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmittedOrderView {
    pub id: String,
    pub number: String,
    pub fulfilled_by: FulfilledBy,
    pub estimated_delivery_time: EstimatedDeliveryTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EstimatedDeliveryTime {
    pub time_to_delivery: i64,
    pub uot: &'static str,
    pub delivery_at: i64,
}

fn fulfilled_by(engine: &Engine, id: OrganisationId) -> Result<FulfilledBy, ApiError> {
    let organisation = engine.organisation(id)?;
    Ok(FulfilledBy {
        id: organisation.id.to_string(),
        name: organisation.name,
        address: engine
            .organisation_address(id)?
            .map(|address| address_view(address, None)),
    })
}

/// What charges an order's amount due: nothing unless it is paid by CARD or ACCOUNT_DEBIT;
/// then the payment intent named, else the first payment method named.
fn charge_of(
    estimate: &OrderEstimate,
    payments: &[PaymentBody],
    intent: Option<&str>,
) -> Result<Option<OrderCharge>, ApiError> {
    if !estimate.payment.by_method() {
        if intent.is_some() {
            return Err(ApiError::invalid(
                "intent_id",
                "a payment intent pays an order paid by CARD or ACCOUNT_DEBIT",
            ));
        }
        return Ok(None);
    }
    if let Some(intent) = intent {
        let id = IntentId::parse(intent).map_err(|_| ApiError::not_found("payment intent"))?;
        return Ok(Some(OrderCharge::Intent(id)));
    }
    payments
        .iter()
        .find_map(|p| p.payment_method_id.as_deref())
        .map(|method| {
            PaymentMethodId::parse(method).map(OrderCharge::Method).map_err(|_| {
                ApiError::invalid(
                    "payments.payment_method_id",
                    "is not one of the contact's payment methods",
                )
            })
        })
        .transpose()
}

/// Places the order an estimate previewed, once: submitting the same estimation id again
/// answers the same order. An expired estimate, or one that may not be ordered, is refused.
/// An order paid by CARD or ACCOUNT_DEBIT charges its amount due to the payment method
/// named first (into the wallet, spent by the order with its wallet funds).
#[utoipa::path(
    tag = "Orders",
    request_body = SubmitOrderBody,
    responses(
        (status = 201, body = SubmittedOrderView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 504, body = ErrorBody, description = "The card's gateway did not answer in time: nothing ordered yet")
    ),
    security(("authorization_self_service" = []))
)]
#[post("/orders")]
pub async fn submit_order(
    token: ContactToken,
    engine: web::Data<Engine>,
    gateways: web::Data<Gateways>,
    body: Json<SubmitOrderBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let id = body
        .estimation_id
        .as_deref()
        .ok_or_else(|| ApiError::missing("estimation_id"))?;
    let id = OrderEstimateId::parse(id).map_err(|_| ApiError::not_found("order estimate"))?;
    if body.pass.is_some() {
        return Err(ApiError::invalid(
            "pass",
            "e-gift passes are not sold through orders yet; a promotion pass is presented with the estimate",
        ));
    }
    if body.use_account_funds == Some(true) {
        return Err(ApiError::invalid(
            "use_account_funds",
            "orders are not paid from accounts yet",
        ));
    }
    let estimate = engine.order_estimate(&token.tenant, token.contact, id)?;
    let wallet_used = estimate.wallet_funds > Decimal::ZERO;
    if body
        .use_wallet_funds
        .is_some_and(|used| used != wallet_used && !estimate.payment.from_wallet())
        || body
            .wallet_funds_amount
            .is_some_and(|amount| amount.0 != estimate.wallet_funds)
    {
        return Err(ApiError::invalid(
            "wallet_funds_amount",
            format!(
                "the wallet funds are the estimate's ({}): estimate the order again to change them",
                estimate.wallet_funds
            ),
        ));
    }
    let payments = body.payments.ok_or_else(|| ApiError::missing("payments"))?;
    for payment in &payments {
        let code = payment
            .payment_method_type
            .as_deref()
            .ok_or_else(|| ApiError::missing("payments.payment_method_type"))?;
        let named = OrderPayment::parse(code);
        let fits = named == Some(estimate.payment) || (wallet_used && named.is_some_and(OrderPayment::from_wallet));
        if !fits {
            return Err(ApiError::invalid(
                "payments.payment_method_type",
                format!("the estimate is paid by {}", estimate.payment.code()),
            ));
        }
    }
    // An order charged to a payment method or an intent: the charge first (a top-up of its
    // amount due, under an id the order and the charge decide), then the order spends it.
    let charge = charge_of(&estimate, &payments, body.intent_id.as_deref())?;
    if let Some(due) = engine.order_charge_due(&token.tenant, token.contact, id, charge)? {
        let record = match charge {
            Some(OrderCharge::Method(method)) => {
                let request = TopUpRequest {
                    id: Some(due.top_up),
                    wallet: Some(due.wallet),
                    amount: due.amount,
                    payment_method: method,
                    code: None,
                    notes: Some(due.notes),
                };
                let begun = engine.begin_top_up(token.tenant, token.contact, request).await?;
                gateways.charge_and_settle(&engine, begun).await?
            }
            Some(OrderCharge::Intent(intent)) => {
                let intent = engine.contact_intent(token.tenant, token.contact, intent).await?;
                if intent.amount != due.amount || intent.currency != estimate.currency {
                    return Err(ApiError::invalid(
                        "intent_id",
                        format!(
                            "the payment intent must be for the order's amount due, {} {}",
                            due.amount,
                            estimate.currency.code()
                        ),
                    ));
                }
                let intent = gateways.capture_intent(&engine, intent).await?;
                intent_paid(&intent, "intent_id", "nothing was ordered")?;
                let asked = IntentTopUp {
                    id: Some(due.top_up),
                    wallet: Some(due.wallet),
                    amount: Some(due.amount),
                    payment_method: None,
                    code: None,
                    notes: Some(due.notes),
                };
                engine
                    .top_up_from_intent(token.tenant, token.contact, &intent, asked)
                    .await?
            }
            None => return Err(ApiError::missing("payments.payment_method_id")),
        };
        if let Some(error) = unsettled(
            &record.id.to_string(),
            &record.state,
            "the order's charge",
            "nothing was ordered; submit again with another payment method",
            "the order is placed only once it is paid: submit again",
        ) {
            return Err(error);
        }
    }
    let order = engine.submit_order(token.tenant, token.contact, id, charge).await?;
    let minutes = (order.estimated_fulfilment - order.submitted_on) / 60;
    Ok(HttpResponse::Created().json(SubmittedOrderView {
        id: order.id.to_string(),
        number: order.number(),
        fulfilled_by: fulfilled_by(&engine, order.fulfilled_by)?,
        estimated_delivery_time: EstimatedDeliveryTime {
            time_to_delivery: minutes,
            uot: "MINUTE",
            delivery_at: order.estimated_fulfilment,
        },
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderItemView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub quantity: Money,
    pub price: Money,
    pub net: Money,
    pub tax: Money,
    pub sub_total: Money,
    pub total: Money,
    pub tax_model: &'static str,
    pub product: ProductRef,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyDates {
    pub submitted_on: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_on: Option<i64>,
    pub estimated_fulfillment: EstimatedFulfilment,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EstimatedFulfilment {
    pub date: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    pub number: String,
    pub supply_method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_method: Option<&'static str>,
    pub state: &'static str,
    pub is_favorite: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub total: Money,
    pub sub_total: Money,
    pub net_amount: Money,
    pub tax_amount: Money,
    pub wallet_funds: Money,
    pub amount_due: Money,
    pub amount_to_collect: Money,
    /// What the offers that discount at once took off (tax included in the amount: order
    /// prices are what the contact pays).
    pub discount: DiscountView,
    pub currency_code: String,
    pub fulfilled_by: FulfilledBy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressView>,
    pub key_dates: KeyDates,
    pub items: Vec<OrderItemView>,
    /// Our addition: how the amount due is paid.
    pub payment_method_type: &'static str,
    /// Our addition: the purchase that earned the order's awards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiscountView {
    pub amount: Money,
    pub amount_incl_tax: Money,
}

pub fn order_view(engine: &Engine, order: &Order) -> Result<OrderView, ApiError> {
    let currency = order.currency;
    let due = order.amount_due();
    Ok(OrderView {
        id: order.id.to_string(),
        number: order.number(),
        supply_method: order.supply_method.code(),
        delivery_method: order.delivery_method.map(DeliveryMethod::code),
        state: order.state.code(),
        is_favorite: order.is_favorite,
        notes: order.notes.clone(),
        total: exact(order.totals.total, currency),
        sub_total: exact(order.totals.net, currency),
        net_amount: exact(order.totals.net, currency),
        tax_amount: exact(order.totals.tax, currency),
        wallet_funds: exact(order.wallet_funds, currency),
        amount_due: exact(due, currency),
        amount_to_collect: exact(if order.payment.collected() { due } else { Decimal::ZERO }, currency),
        discount: DiscountView {
            amount: exact(order.discount, currency),
            amount_incl_tax: exact(order.discount, currency),
        },
        currency_code: currency.code().to_string(),
        fulfilled_by: fulfilled_by(engine, order.fulfilled_by)?,
        address: order.deliver_to.clone().map(|address| address_view(address, None)),
        key_dates: KeyDates {
            submitted_on: order.submitted_on,
            started_on: order.started_on,
            completed_on: order.completed_on,
            cancelled_on: order.cancelled_on,
            estimated_fulfillment: EstimatedFulfilment {
                date: order.estimated_fulfilment,
            },
        },
        items: order
            .lines
            .iter()
            .map(|line| OrderItemView {
                id: line.product.to_string(),
                notes: line.notes.clone(),
                quantity: money(Decimal::from(line.quantity)),
                price: exact(line.unit_price(currency.minor_units()), currency),
                net: exact(line.amounts.net, currency),
                tax: exact(line.amounts.tax, currency),
                sub_total: exact(line.amounts.total, currency),
                total: exact(line.amounts.total, currency),
                tax_model: line.tax_model.code(),
                product: ProductRef {
                    id: line.product.to_string(),
                    sku: line.sku.clone(),
                    name: line.name.clone(),
                    classification: line.classification.code(),
                },
            })
            .collect(),
        payment_method_type: order.payment.code(),
        purchase_id: order.purchase.map(|id| id.to_string()),
    })
}

pub(crate) fn order_id(text: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(text).map_err(|_| ApiError::not_found("order"))
}

/// One of the signed-in contact's orders.
#[utoipa::path(
    tag = "Orders",
    params(("id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/orders/{id}")]
pub async fn get_order(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order = engine.order(&token.tenant, Some(token.contact), order_id(&path)?)?;
    Ok(HttpResponse::Ok().json(order_view(&engine, &order)?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OrdersQuery {
    /// NEW, IN_PROGRESS, COMPLETED, CANCELLED; several, comma-separated.
    pub state: Option<String>,
    /// DELIVERY, PICK_UP or DIRECT_SALE.
    pub supply_method: Option<String>,
}

/// The signed-in contact's orders, newest first.
#[utoipa::path(
    tag = "Orders",
    params(("id" = String, Path), OrdersQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<OrderView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/orders")]
pub async fn list_orders(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<OrdersQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let states = query
        .state
        .as_deref()
        .map(|states| {
            states
                .split(',')
                .map(|code| {
                    OrderState::parse(code.trim()).ok_or_else(|| {
                        ApiError::invalid(
                            "state",
                            "each must be NEW, IN_PROGRESS, COMPLETED, CANCELLED or ON_HOLD",
                        )
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .transpose()?
        .unwrap_or_default();
    let supply = query
        .supply_method
        .as_deref()
        .map(|value| supply_method(Some(value)))
        .transpose()?;
    let filter = OrderFilter {
        states,
        favourites_only: false,
    };
    let mut orders = engine.contact_orders(&token.tenant, contact, &filter)?;
    orders.retain(|order| supply.is_none_or(|method| order.supply_method == method));
    if !paged.descending {
        orders.reverse();
    }
    let (page, paging) = paged.page_of(orders);
    let content = page
        .iter()
        .map(|order| order_view(&engine, order))
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderActionBody {
    /// CANCEL (while NEW), MARK_FAVORITE or PRINT_ORDER; the rest is the business's.
    pub action: Option<String>,
    pub cancellation_reason_id: Option<String>,
    pub provisioner: Option<String>,
    pub id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderIdView {
    pub id: String,
}

pub(crate) fn order_action(value: Option<&str>) -> Result<OrderAction, ApiError> {
    let value = value.ok_or_else(|| ApiError::missing("action"))?;
    coded(
        "action",
        value,
        OrderAction::parse,
        &[
            "START_PROGRESS",
            "COMPLETE",
            "CANCEL",
            "MARK_FAVORITE",
            "PRINT_ORDER",
            "ORDER_PROVISION",
        ],
    )
}

/// The signed-in contact cancels its order (while the business has not started on it: the
/// order's purchase is cancelled, its awards taken back and its wallet funds given back),
/// marks it a favourite or prints it.
#[utoipa::path(
    tag = "Orders",
    params(("id" = String, Path)),
    request_body = OrderActionBody,
    responses(
        (status = 200, body = OrderIdView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[put("/orders/{id}/actions")]
pub async fn order_actions(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: Json<OrderActionBody>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path)?;
    let action = order_action(body.action.as_deref())?;
    let order = engine
        .order_action(token.tenant, Some(token.contact), id, action)
        .await?;
    Ok(HttpResponse::Ok().json(OrderIdView {
        id: order.id.to_string(),
    }))
}
