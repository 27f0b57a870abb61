//! What a change to a contact's services, or its next bill, would come to, worked out
//! without applying anything (`POST /estimates/service_delivery`, `POST /estimates/billing`).

use super::order_estimates::{exact, price_terms, tax_rate_view, AppliedTax};
use super::subscriptions::*;
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Json, Money};
use actix_web::{post, web, HttpResponse};
use rewards_engine::domain::ids::{ServiceId, SubscriptionId};
use rewards_engine::domain::money::Currency;
use rewards_engine::domain::order::{LineAmounts, TaxRate};
use rewards_engine::domain::subscription::{bill_totals, BillLine, FundingSource, ServiceAction, Subscription};
use rewards_engine::engine::ServiceChange;
use rewards_engine::Engine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct BilledPeriod {
    pub from_date: i64,
    pub to_date: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillTotals {
    pub total_amount: Money,
    pub tax_amount: Money,
    pub net_amount: Money,
    pub discount_amount: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinePeriod {
    pub from: i64,
    pub to: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineItem {
    pub quantity: Money,
    pub unit_price: Money,
    pub net_amount: Money,
    pub tax_amount: Money,
    pub sub_total: Money,
    pub pricing: Money,
    pub product: ServiceProduct,
    pub period: LinePeriod,
    pub applied_taxes: Vec<AppliedTax>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invoicing {
    pub issued_date: i64,
    pub currency_code: String,
    pub is_credit: bool,
    pub total_net_amount: Money,
    pub total_discount_amount: Money,
    pub total_tax_amount: Money,
    pub total_amount: Money,
    pub total_price: Money,
    pub wallet_funds_amount: Money,
    pub account_funds: Money,
    pub amount_due: Money,
    pub line_items: Vec<LineItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingEstimate {
    pub billed_period: BilledPeriod,
    pub totals: BillTotals,
    pub invoicing: Vec<Invoicing>,
    pub billing_date: i64,
}

fn line_item(subscription: &Subscription, line: &BillLine) -> LineItem {
    let currency = subscription.currency;
    let service = subscription.service(line.service);
    let quantity = service.map_or(1, |s| s.quantity);
    let rate: Option<&TaxRate> = service.and_then(|s| s.tax_rate.as_ref());
    LineItem {
        quantity: money(Decimal::from(quantity)),
        unit_price: exact(line.amounts.total / Decimal::from(quantity.max(1)), currency),
        net_amount: exact(line.amounts.net, currency),
        tax_amount: exact(line.amounts.tax, currency),
        sub_total: exact(line.amounts.total, currency),
        pricing: exact(line.amounts.total, currency),
        product: ServiceProduct {
            id: service.map(|s| s.product.to_string()).unwrap_or_default(),
            name: line.name.clone(),
            sku: line.sku.clone(),
            classification: service.map_or("TERMED_SERVICE", |s| s.classification.code()),
        },
        period: LinePeriod {
            from: line.from,
            to: line.to,
        },
        applied_taxes: rate
            .map(|rate| AppliedTax {
                tax_rate: tax_rate_view(rate),
                tax_amount: exact(line.amounts.tax, currency),
            })
            .into_iter()
            .collect(),
    }
}

fn totals_view(totals: LineAmounts, currency: Currency) -> BillTotals {
    BillTotals {
        total_amount: exact(totals.total, currency),
        tax_amount: exact(totals.tax, currency),
        net_amount: exact(totals.net, currency),
        discount_amount: exact(Decimal::ZERO, currency),
    }
}

fn billing_estimate(subscription: &Subscription, lines: &[BillLine], issued: i64) -> Result<BillingEstimate, ApiError> {
    let currency = subscription.currency;
    let totals = bill_totals(lines).ok_or_else(|| ApiError::invalid("services", "the bill's amounts overflow"))?;
    let from = lines.iter().map(|l| l.from).min().unwrap_or(issued);
    let to = lines.iter().map(|l| l.to).max().unwrap_or(issued);
    let (wallet, account) = match subscription.funding {
        FundingSource::Wallet => (totals.total.max(Decimal::ZERO), Decimal::ZERO),
        FundingSource::Account => (Decimal::ZERO, totals.total.max(Decimal::ZERO)),
    };
    Ok(BillingEstimate {
        billed_period: BilledPeriod {
            from_date: from,
            to_date: to,
        },
        totals: totals_view(totals, currency),
        invoicing: vec![Invoicing {
            issued_date: issued,
            currency_code: currency.code().to_string(),
            is_credit: totals.total < Decimal::ZERO,
            total_net_amount: exact(totals.net, currency),
            total_discount_amount: exact(Decimal::ZERO, currency),
            total_tax_amount: exact(totals.tax, currency),
            total_amount: exact(totals.total, currency),
            total_price: exact(totals.total, currency),
            wallet_funds_amount: exact(wallet, currency),
            account_funds: exact(account, currency),
            amount_due: exact(Decimal::ZERO, currency),
            line_items: lines.iter().map(|line| line_item(subscription, line)).collect(),
        }],
        billing_date: issued,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BillingBody {
    pub contact_id: Option<String>,
    pub subscription_id: Option<String>,
    /// The bill as it would be made then (now when not given; up to a year ahead).
    pub as_of_date: Option<i64>,
    pub account_id: Option<String>,
    pub upcoming_billing_cycles: Option<u32>,
    pub organisation_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub pass: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingEstimates {
    pub billing_estimate: Vec<BillingEstimate>,
    /// Our addition: the subscription of each estimate, in order.
    pub subscriptions: Vec<IdView>,
}

/// The signed-in contact's upcoming bills: for each of its subscriptions (or the one
/// named), what a bill made at `as_of_date` would hold, prorated where a service started or
/// changed within a cycle; a bill waiting to be paid comes first.
#[utoipa::path(
    tag = "Subscriptions",
    request_body = BillingBody,
    responses((status = 201, body = BillingEstimates), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[post("/estimates/billing")]
pub async fn estimate_billing(
    token: ContactToken,
    engine: web::Data<Engine>,
    body: Json<BillingBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if let Some(contact) = body.contact_id.as_deref() {
        token.own(contact)?;
    }
    let only = body
        .subscription_id
        .as_deref()
        .map(|id| {
            SubscriptionId::parse(id).map_err(|_| ApiError::invalid("subscription_id", "must be a subscription id"))
        })
        .transpose()?;
    let at = body.as_of_date;
    let issued = at.unwrap_or_else(|| engine.now());
    let mut estimates = Vec::new();
    let mut subscriptions = Vec::new();
    for (subscription, lines) in engine.upcoming_bills(&token.tenant, token.contact, at)? {
        if only.is_some_and(|id| id != subscription.id) || lines.is_empty() {
            continue;
        }
        estimates.push(billing_estimate(&subscription, &lines, issued)?);
        subscriptions.push(IdView {
            id: subscription.id.to_string(),
        });
    }
    Ok(HttpResponse::Created().json(BillingEstimates {
        billing_estimate: estimates,
        subscriptions,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ServiceRefBody {
    pub id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ServiceToChangeBody {
    pub from_service_id: Option<String>,
    pub to_service_product_id: Option<String>,
    pub to_quantity: Option<u32>,
    pub to_price_terms_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ServiceDeliveryBody {
    /// NEW (`services_to_add`), CANCEL (`services_to_remove`), CHANGE, UPGRADE or
    /// DOWNGRADE (`services_to_change`), ACTIVATE, PAUSE, RESUME or REGRET
    /// (`services_to_update`).
    pub action: Option<String>,
    pub contact_id: Option<String>,
    pub number_of_days: Option<u32>,
    pub services_to_add: Option<Vec<NewServiceBody>>,
    pub services_to_remove: Option<Vec<ServiceRefBody>>,
    pub services_to_change: Option<Vec<ServiceToChangeBody>>,
    pub services_to_update: Option<Vec<ServiceRefBody>>,
    pub subscription_id: Option<String>,
    pub account_id: Option<String>,
    pub organisation_id: Option<String>,
    pub scheduled_date: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliverySubscription {
    pub state: &'static str,
    pub terms: DeliveryTerms,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryTerms {
    pub billing_period: PeriodView,
    pub billing_model: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDeliveryEstimate {
    pub action_allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_billing_at: Option<i64>,
    pub subscription: DeliverySubscription,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_estimate: Option<BillingEstimate>,
    /// Our addition: why the action is not allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDeliveryView {
    pub service_delivery_estimate: Vec<ServiceDeliveryEstimate>,
}

fn delivery_estimate(
    subscription: &Subscription,
    lines: &[BillLine],
    now: i64,
) -> Result<ServiceDeliveryEstimate, ApiError> {
    Ok(ServiceDeliveryEstimate {
        action_allowed: true,
        next_billing_at: Some(subscription.next_look(now)).filter(|at| *at != i64::MAX),
        subscription: DeliverySubscription {
            state: subscription.state().code(),
            terms: DeliveryTerms {
                billing_period: period_view(subscription.period),
                billing_model: subscription.billing_model.code(),
            },
        },
        billing_estimate: if lines.is_empty() {
            None
        } else {
            Some(billing_estimate(subscription, lines, now)?)
        },
        reason: None,
    })
}

fn service_ids(parameter: &str, refs: Option<Vec<ServiceRefBody>>) -> Result<Vec<ServiceId>, ApiError> {
    let refs = refs.ok_or_else(|| ApiError::missing(parameter))?;
    if refs.is_empty() {
        return Err(ApiError::missing(parameter));
    }
    refs.into_iter()
        .map(|r| {
            let id = r.id.ok_or_else(|| ApiError::missing(parameter))?;
            ServiceId::parse(&id).map_err(|_| ApiError::invalid(parameter, "must be service ids"))
        })
        .collect()
}

/// What a change to the signed-in contact's services would do, without doing it: for each
/// service named, whether the action is allowed and the bill it would make now (a new
/// service's rest of the cycle, a change's credit and new charge, a regret's credit).
#[utoipa::path(
    tag = "Subscriptions",
    request_body = ServiceDeliveryBody,
    responses((status = 201, body = ServiceDeliveryView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[post("/estimates/service_delivery")]
pub async fn estimate_service_delivery(
    token: ContactToken,
    engine: web::Data<Engine>,
    body: Json<ServiceDeliveryBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if let Some(contact) = body.contact_id.as_deref() {
        token.own(contact)?;
    }
    let action = body.action.as_deref().ok_or_else(|| ApiError::missing("action"))?;
    let now = engine.now();
    let mut estimates = Vec::new();
    let mut preview = |id: ServiceId, change: ServiceChange| -> Result<(), ApiError> {
        match engine.preview_service_action(&token.tenant, token.contact, id, &change) {
            Ok((subscription, lines)) => estimates.push(delivery_estimate(&subscription, &lines, now)?),
            Err(rewards_engine::EngineError::Conflict(reason)) => {
                let subscription = engine
                    .contact_subscriptions(&token.tenant, token.contact)?
                    .into_iter()
                    .find(|s| s.service(id).is_some())
                    .ok_or_else(|| ApiError::not_found("service"))?;
                let mut refused = delivery_estimate(&subscription, &[], now)?;
                refused.action_allowed = false;
                refused.reason = Some(reason);
                estimates.push(refused);
            }
            Err(other) => return Err(other.into()),
        }
        Ok(())
    };
    let simple = |action| ServiceChange {
        action,
        days: body.number_of_days,
        change_to: None,
        quantity: None,
        price_terms: None,
        scheduled: None,
    };
    match action {
        "NEW" => {
            let services = new_services("services_to_add", body.services_to_add)?;
            for (subscription, lines) in engine.preview_add_services(&token.tenant, token.contact, &services)? {
                estimates.push(delivery_estimate(&subscription, &lines, now)?);
            }
        }
        "CANCEL" => {
            for id in service_ids("services_to_remove", body.services_to_remove)? {
                preview(id, simple(ServiceAction::Cancel))?;
            }
        }
        "ACTIVATE" | "PAUSE" | "RESUME" | "REGRET" => {
            let action = ServiceAction::parse(action).ok_or(ApiError::missing("action"))?;
            for id in service_ids("services_to_update", body.services_to_update)? {
                preview(id, simple(action))?;
            }
        }
        "CHANGE" | "UPGRADE" | "DOWNGRADE" => {
            let changes = body
                .services_to_change
                .ok_or_else(|| ApiError::missing("services_to_change"))?;
            for change in changes {
                let id = change
                    .from_service_id
                    .as_deref()
                    .ok_or_else(|| ApiError::missing("services_to_change.from_service_id"))?;
                let id = ServiceId::parse(id)
                    .map_err(|_| ApiError::invalid("services_to_change.from_service_id", "must be a service id"))?;
                let change_to = change
                    .to_service_product_id
                    .as_deref()
                    .map(|p| product_id("services_to_change.to_service_product_id", Some(p)))
                    .transpose()?;
                preview(
                    id,
                    ServiceChange {
                        action: ServiceAction::Change,
                        days: None,
                        change_to,
                        quantity: change.to_quantity,
                        price_terms: price_terms(
                            "services_to_change.to_price_terms_id",
                            change.to_price_terms_id.as_deref(),
                        )?,
                        scheduled: None,
                    },
                )?;
            }
        }
        _ => {
            return Err(ApiError::invalid(
                "action",
                "must be NEW, CANCEL, CHANGE, UPGRADE, DOWNGRADE, ACTIVATE, PAUSE, RESUME or REGRET",
            ))
        }
    }
    Ok(HttpResponse::Created().json(ServiceDeliveryView {
        service_delivery_estimate: estimates,
    }))
}
