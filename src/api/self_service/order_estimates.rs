//! Before an order: who can fulfil it (`POST /estimates/order_fulfillment`) and its preview
//! (`POST /estimates/orders`: lines priced and taxed, the delivery fee, the wallet funds it
//! uses and the awards it earns; an estimation id that expires). Placing it is `orders`.

use super::locations::{address_view, AddressView};
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Json, Money};
use actix_web::{post, web, HttpResponse};
use rewards_engine::domain::ids::{AccountId, AddressId, OrganisationId, ProductId};
use rewards_engine::domain::location::{Address, Point};
use rewards_engine::domain::money::{with_minor_units, Currency};
use rewards_engine::domain::order::{DeliveryMethod, OrderEstimate, OrderLine, OrderPayment, SupplyMethod, TaxRate};
use rewards_engine::engine::{Fulfiller, FulfilmentQuery, OrderItem, OrderRequest, PassPayment};
use rewards_engine::Engine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub(crate) fn coded<T>(
    parameter: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> Result<T, ApiError> {
    parse(value).ok_or_else(|| ApiError::invalid(parameter, format!("must be one of {}", all.join(", "))))
}

pub(crate) fn supply_method(value: Option<&str>) -> Result<SupplyMethod, ApiError> {
    let value = value.ok_or_else(|| ApiError::missing("supply_method"))?;
    coded(
        "supply_method",
        value,
        SupplyMethod::parse,
        &["DELIVERY", "PICK_UP", "DIRECT_SALE"],
    )
}

pub(crate) fn organisation_id(parameter: &str, value: Option<&str>) -> Result<Option<OrganisationId>, ApiError> {
    value
        .map(|id| OrganisationId::parse(id).map_err(|_| ApiError::invalid(parameter, "must be an organisation id")))
        .transpose()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EstimatedDelivery {
    pub time_to_delivery: i64,
    /// Always MINUTE.
    pub uot: &'static str,
    pub delivered_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryMethodView {
    #[serde(rename = "type")]
    pub method: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FulfillerView {
    pub id: String,
    pub name: String,
    pub address: AddressView,
    pub estimated_delivery: EstimatedDelivery,
    pub payment_method_types: Vec<&'static str>,
    pub delivery_methods: Vec<DeliveryMethodView>,
    /// Our addition: the least an order's total may be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_amount: Option<Money>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FulfillmentView {
    pub fulfilled_by: Vec<FulfillerView>,
}

fn fulfiller_view(fulfiller: Fulfiller, now: i64) -> FulfillerView {
    let minutes = i64::from(fulfiller.terms.minutes_to_fulfil);
    FulfillerView {
        id: fulfiller.organisation.id.to_string(),
        name: fulfiller.organisation.name,
        address: address_view(fulfiller.address, fulfiller.distance_m.map(|m| m / 1000.0)),
        estimated_delivery: EstimatedDelivery {
            time_to_delivery: minutes,
            uot: "MINUTE",
            delivered_at: now.saturating_add(minutes * 60),
        },
        payment_method_types: fulfiller.terms.payments.iter().map(|p| p.code()).collect(),
        delivery_methods: fulfiller
            .terms
            .delivery_methods
            .iter()
            .map(|method| DeliveryMethodView { method: method.code() })
            .collect(),
        minimum_amount: fulfiller.terms.minimum_amount.map(money),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FulfillmentBody {
    /// DELIVERY, PICK_UP or DIRECT_SALE.
    pub supply_method: Option<String>,
    /// Where the contact is: "latitude,longitude".
    pub lat_lot: Option<String>,
    pub requested_organisation_id: Option<String>,
    /// One of the contact's addresses with coordinates: fulfillers nearest to it (it takes
    /// the place of `lat_lot`).
    pub address_id: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub is_open: Option<bool>,
    pub contact_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub requested_delivery_at: Option<serde_json::Value>,
}

/// The merchants and venues that can fulfil an order by the supply method, nearest first
/// from `lat_lot` (a delivery needs it and keeps those that deliver that far).
#[utoipa::path(
    tag = "Orders",
    request_body = FulfillmentBody,
    responses(
        (status = 200, body = FulfillmentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/estimates/order_fulfillment")]
pub async fn order_fulfillment(
    token: ContactToken,
    engine: web::Data<Engine>,
    body: Json<FulfillmentBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let supply_method = supply_method(body.supply_method.as_deref())?;
    if let Some(contact) = body.contact_id.as_deref() {
        token.own(contact)?;
    }
    let origin = body
        .lat_lot
        .as_deref()
        .map(|text| {
            let bad = || ApiError::invalid("lat_lot", "must be \"latitude,longitude\" in degrees");
            let (lat, lon) = text.split_once(',').ok_or_else(bad)?;
            let lat = lat.trim().parse::<f64>().map_err(|_| bad())?;
            let lon = lon.trim().parse::<f64>().map_err(|_| bad())?;
            Point::new(lat, lon).map_err(|why| ApiError::invalid("lat_lot", why))
        })
        .transpose()?;
    let origin = match body.address_id.as_deref() {
        None => origin,
        Some(id) => {
            let id = AddressId::parse(id).map_err(|_| ApiError::not_found("address"))?;
            let address = engine.contact_address(&token.tenant, token.contact, id)?;
            let at = address
                .fields
                .location()
                .ok_or_else(|| ApiError::invalid("address_id", "the address has no coordinates (lat, lon)"))?;
            Some(Point::new(at.lat, at.lon).map_err(|why| ApiError::invalid("address_id", why))?)
        }
    };
    let query = FulfilmentQuery {
        supply_method,
        origin,
        requested: organisation_id("requested_organisation_id", body.requested_organisation_id.as_deref())?,
    };
    let now = engine.now();
    let found = engine.fulfillers(&token.tenant, &query)?;
    Ok(HttpResponse::Ok().json(FulfillmentView {
        fulfilled_by: found.into_iter().map(|f| fulfiller_view(f, now)).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ComponentBody {
    pub id: Option<String>,
    pub quantity: Option<Money>,
    /// Not used: the catalogue prices every line.
    pub price: Option<Money>,
    pub tax_model: Option<String>,
    /// One of the product's price plans (`pricing[].id`), in the wallet's currency; the
    /// default one when not given.
    pub price_terms_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ItemBody {
    /// The product.
    pub id: Option<String>,
    pub quantity: Option<Money>,
    /// Not used: the catalogue prices every line.
    pub price: Option<Money>,
    pub tax_model: Option<String>,
    pub notes: Option<String>,
    /// One of the product's price plans (`pricing[].id`), in the wallet's currency; the
    /// default one when not given.
    pub price_terms_id: Option<String>,
    pub components: Option<Vec<ComponentBody>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LocationBody {
    pub address_line_1: Option<String>,
    pub address_line_2: Option<String>,
    pub state_province_county: Option<String>,
    pub town_city: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub id: Option<String>,
    pub address_type: Option<String>,
    pub address_name: Option<String>,
    pub google_place_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DiscountBody {
    pub amount: Option<Money>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PresentedPassBody {
    pub code: Option<String>,
    pub pin: Option<String>,
}

impl PresentedPassBody {
    pub fn payment(self) -> Result<PassPayment, ApiError> {
        Ok(PassPayment {
            code: crate::api::backoffice::passes::pass_code("pass.", &self.code, &None)?,
            pin: self.pin,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderEstimateBody {
    pub account_id: Option<String>,
    pub supply_method: Option<String>,
    pub delivery_method: Option<String>,
    pub payment_method_type: Option<String>,
    pub fulfilled_by: Option<String>,
    pub current_location: Option<LocationBody>,
    pub use_wallet_funds: Option<bool>,
    pub block_wallet_funds: Option<bool>,
    pub wallet_funds_amount: Option<Money>,
    pub notes: Option<String>,
    pub items: Option<Vec<ItemBody>>,
    /// Refused unless zero: an app does not set its own discount.
    pub discount: Option<DiscountBody>,
    /// A promotion pass: its plan's offer is unlocked for the order's purchase (used when
    /// the order is submitted).
    pub pass: Option<PresentedPassBody>,
    /// One of the contact's addresses (`/contacts/{id}/addresses`), with coordinates: where
    /// the order is delivered (it takes the place of `current_location`).
    pub address_id: Option<String>,
    pub delivery_service_provider: Option<String>,
    pub queue_id: Option<String>,
    pub estimation_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub requested_delivery_at: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub preferred_billing_day: Option<serde_json::Value>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub milestones: Option<Vec<serde_json::Value>>,
}

/// A price plan's id (`pricing[].id` of a product), when one is named.
pub(crate) fn price_terms(parameter: &str, value: Option<&str>) -> Result<Option<uuid::Uuid>, ApiError> {
    value
        .map(|id| {
            uuid::Uuid::parse_str(id)
                .map_err(|_| ApiError::invalid(parameter, "must be one of the product's price ids"))
        })
        .transpose()
}

fn product_id(parameter: &str, value: Option<&str>) -> Result<ProductId, ApiError> {
    let value = value.ok_or_else(|| ApiError::missing(parameter))?;
    ProductId::parse(value).map_err(|_| ApiError::invalid(parameter, "must be a product id"))
}

impl OrderEstimateBody {
    /// The request; `address_id`, when given, is one of `contact`'s addresses, where the
    /// order is delivered (and the place fulfillers are nearest to).
    fn request(self, engine: &Engine, token: &ContactToken) -> Result<OrderRequest, ApiError> {
        let address = self
            .address_id
            .as_deref()
            .map(|id| {
                let id = AddressId::parse(id).map_err(|_| ApiError::not_found("address"))?;
                let address = engine.contact_address(&token.tenant, token.contact, id)?;
                address.fields.location().ok_or_else(|| {
                    ApiError::invalid(
                        "address_id",
                        "the address has no coordinates (lat, lon): add them, or send current_location",
                    )
                })
            })
            .transpose()?;
        if self
            .discount
            .as_ref()
            .and_then(|d| d.amount)
            .is_some_and(|amount| !amount.0.is_zero())
        {
            return Err(ApiError::invalid(
                "discount",
                "an app does not set its own discount: discounts come from the business's offers",
            ));
        }
        let account = self
            .account_id
            .as_deref()
            .ok_or_else(|| ApiError::missing("account_id"))
            .and_then(|id| {
                AccountId::parse(id).map_err(|_| ApiError::invalid("account_id", "must be an account id"))
            })?;
        let payment = self
            .payment_method_type
            .as_deref()
            .ok_or_else(|| ApiError::missing("payment_method_type"))?;
        let payment = coded(
            "payment_method_type",
            payment,
            OrderPayment::parse,
            &["CARD", "ACCOUNT_DEBIT", "WALLET", "CRM_WALLET", "CASH", "CHEQUE"],
        )?;
        let delivery_method = self
            .delivery_method
            .as_deref()
            .map(|value| {
                coded(
                    "delivery_method",
                    value,
                    DeliveryMethod::parse,
                    &["DIRECT_DELIVERY", "COURIER_SERVICE", "PICKUP_POINT"],
                )
            })
            .transpose()?;
        let location = match address {
            Some(address) => Some(Ok(address)),
            None => self.current_location.map(|at| match (at.lat, at.lon) {
                (Some(lat), Some(lon)) => Ok(Address {
                    line_1: at.address_line_1,
                    line_2: at.address_line_2,
                    town_city: at.town_city,
                    state_province_county: at.state_province_county,
                    postal_code: at.postal_code,
                    country_code: at.country_code,
                    lat,
                    lon,
                }),
                _ => Err(ApiError::invalid("current_location", "needs lat and lon")),
            }),
        }
        .transpose()?;
        let items = self
            .items
            .ok_or_else(|| ApiError::missing("items"))?
            .into_iter()
            .map(|item| {
                Ok(OrderItem {
                    product: product_id("items.id", item.id.as_deref())?,
                    quantity: item.quantity.ok_or_else(|| ApiError::missing("items.quantity"))?.0,
                    notes: item.notes,
                    price_terms: price_terms("items.price_terms_id", item.price_terms_id.as_deref())?,
                    components: item
                        .components
                        .unwrap_or_default()
                        .into_iter()
                        .map(|component| {
                            Ok((
                                product_id("items.components.id", component.id.as_deref())?,
                                component.quantity.map_or(Decimal::ONE, |quantity| quantity.0),
                                price_terms("items.components.price_terms_id", component.price_terms_id.as_deref())?,
                            ))
                        })
                        .collect::<Result<Vec<_>, ApiError>>()?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(OrderRequest {
            account: Some(account),
            supply_method: supply_method(self.supply_method.as_deref())?,
            delivery_method,
            fulfilled_by: organisation_id("fulfilled_by", self.fulfilled_by.as_deref())?,
            location,
            payment,
            use_wallet_funds: self.use_wallet_funds.unwrap_or(false),
            wallet_funds_amount: self.wallet_funds_amount.map(|amount| amount.0),
            block_wallet_funds: self.block_wallet_funds.unwrap_or(false),
            items,
            notes: self.notes,
            pass: self.pass.map(PresentedPassBody::payment).transpose()?,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductRef {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub classification: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaxRateView {
    pub name: String,
    pub tax_code: &'static str,
    pub percentage: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedTax {
    pub tax_rate: TaxRateView,
    pub tax_amount: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceItem {
    pub id: String,
    pub quantity: Money,
    pub unit_price: Money,
    pub net_amount: Money,
    pub tax_amount: Money,
    pub sub_total: Money,
    pub pricing: Money,
    pub product: ProductRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_product: Option<IdRef>,
    pub applied_taxes: Vec<AppliedTax>,
    /// Our addition: the line is the delivery fee.
    pub is_delivery_fee: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdRef {
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceEstimate {
    pub issued_date: i64,
    pub currency_code: String,
    pub net: Money,
    pub discount: Money,
    pub tax: Money,
    pub total: Money,
    pub total_price: Money,
    pub wallet_funds_amount: Money,
    pub amount_due: Money,
    pub amount_to_collect: Money,
    pub taxes_breakdown: Vec<AppliedTax>,
    pub items: Vec<InvoiceItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderEstimateSummary {
    pub ordering_allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_amount: Option<Money>,
    pub fulfilled_by: NamedRef,
    pub estimated_delivery: EstimatedDelivery,
    /// MINIMUM_COST when the total is below the organisation's minimum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_failure_reason: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvalidProduct {
    pub unavailability_reason: &'static str,
    pub product: NamedRef,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderRewards {
    /// What the order's purchase would award.
    pub award: Money,
    /// What it would pay from the wallet.
    pub spend: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderEstimateView {
    /// The estimation id to submit the order with.
    pub id: String,
    pub order_estimate: OrderEstimateSummary,
    pub invoice_estimate: InvoiceEstimate,
    pub invalid_products: Vec<InvalidProduct>,
    /// Our addition: the awards the order would earn and the wallet funds it would use.
    pub rewards: OrderRewards,
    /// Our addition: whether the wallet funds are held until the order or the expiry.
    pub wallet_funds_held: bool,
    /// Our addition: after this the estimate cannot be submitted.
    pub expiration_date: i64,
}

pub(crate) fn exact(value: Decimal, currency: Currency) -> Money {
    money(with_minor_units(value, currency))
}

pub(crate) fn tax_rate_view(rate: &TaxRate) -> TaxRateView {
    TaxRateView {
        name: rate.name.clone(),
        tax_code: rate.code.code(),
        percentage: money(rate.percentage),
    }
}

fn applied_tax(line: &OrderLine, currency: Currency) -> Vec<AppliedTax> {
    line.tax_rate
        .iter()
        .map(|rate| AppliedTax {
            tax_rate: tax_rate_view(rate),
            tax_amount: exact(line.amounts.tax, currency),
        })
        .collect()
}

/// Each tax rate with what the lines owe at it.
fn taxes_breakdown(lines: &[OrderLine], currency: Currency) -> Vec<AppliedTax> {
    let mut rates: Vec<(&TaxRate, Decimal)> = Vec::new();
    for line in lines {
        let Some(rate) = &line.tax_rate else { continue };
        match rates.iter_mut().find(|(known, _)| *known == rate) {
            Some((_, sum)) => *sum = sum.saturating_add(line.amounts.tax),
            None => rates.push((rate, line.amounts.tax)),
        }
    }
    rates
        .into_iter()
        .map(|(rate, sum)| AppliedTax {
            tax_rate: tax_rate_view(rate),
            tax_amount: exact(sum, currency),
        })
        .collect()
}

fn invoice_item(line: &OrderLine, currency: Currency) -> InvoiceItem {
    InvoiceItem {
        id: line.product.to_string(),
        quantity: money(Decimal::from(line.quantity)),
        unit_price: exact(line.unit_price(currency.minor_units()), currency),
        net_amount: exact(line.amounts.net, currency),
        tax_amount: exact(line.amounts.tax, currency),
        sub_total: exact(line.amounts.total, currency),
        pricing: exact(line.pricing, currency),
        product: ProductRef {
            id: line.product.to_string(),
            sku: line.sku.clone(),
            name: line.name.clone(),
            classification: line.classification.code(),
        },
        bundle_product: line.bundle.map(|id| IdRef { id: id.to_string() }),
        applied_taxes: applied_tax(line, currency),
        is_delivery_fee: line.is_fee,
    }
}

fn estimate_view(engine: &Engine, estimate: &OrderEstimate) -> Result<OrderEstimateView, ApiError> {
    let currency = estimate.currency;
    let organisation = engine.organisation(estimate.fulfilled_by)?;
    let minutes = i64::from(estimate.minutes_to_fulfil);
    let due = estimate.amount_due();
    let mut invalid_products = Vec::new();
    for (id, reason) in &estimate.unavailable {
        let name = estimate
            .lines
            .iter()
            .find(|line| line.product == *id)
            .map(|line| line.name.clone())
            .unwrap_or_default();
        invalid_products.push(InvalidProduct {
            unavailability_reason: reason.code(),
            product: NamedRef {
                id: id.to_string(),
                name,
            },
        });
    }
    Ok(OrderEstimateView {
        id: estimate.id.to_string(),
        order_estimate: OrderEstimateSummary {
            ordering_allowed: estimate.ordering_allowed(),
            minimum_amount: estimate.minimum_amount.map(|m| exact(m, currency)),
            fulfilled_by: NamedRef {
                id: organisation.id.to_string(),
                name: organisation.name,
            },
            estimated_delivery: EstimatedDelivery {
                time_to_delivery: minutes,
                uot: "MINUTE",
                delivered_at: estimate.created_on.saturating_add(minutes * 60),
            },
            order_failure_reason: estimate.below_minimum().then_some("MINIMUM_COST"),
        },
        invoice_estimate: InvoiceEstimate {
            issued_date: estimate.created_on,
            currency_code: currency.code().to_string(),
            net: exact(estimate.totals.net, currency),
            discount: exact(estimate.discount, currency),
            tax: exact(estimate.totals.tax, currency),
            total: exact(estimate.totals.total, currency),
            total_price: exact(estimate.totals.total, currency),
            wallet_funds_amount: exact(estimate.wallet_funds, currency),
            amount_due: exact(due, currency),
            amount_to_collect: exact(
                if estimate.payment.collected() {
                    due
                } else {
                    Decimal::ZERO
                },
                currency,
            ),
            taxes_breakdown: taxes_breakdown(&estimate.lines, currency),
            items: estimate.lines.iter().map(|line| invoice_item(line, currency)).collect(),
        },
        invalid_products,
        rewards: OrderRewards {
            award: exact(engine.order_estimate_awards(estimate)?, currency),
            spend: exact(estimate.wallet_funds, currency),
        },
        wallet_funds_held: estimate.held,
        expiration_date: estimate.expires_at,
    })
}

/// Previews an order for the signed-in contact: its lines priced and taxed from the
/// catalogue, the delivery fee, who fulfils it and when, the wallet funds it would use
/// (held with `block_wallet_funds`) and the awards its purchase would earn. Submit it with
/// `POST /orders {estimation_id}` before it expires.
#[utoipa::path(
    tag = "Orders",
    request_body = OrderEstimateBody,
    responses(
        (status = 200, body = OrderEstimateView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/estimates/orders")]
pub async fn estimate_order(
    token: ContactToken,
    engine: web::Data<Engine>,
    body: Json<OrderEstimateBody>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner().request(&engine, &token)?;
    let estimate = engine.estimate_order(token.tenant, token.contact, request).await?;
    Ok(HttpResponse::Ok().json(estimate_view(&engine, &estimate)?))
}
