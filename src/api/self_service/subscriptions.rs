//! Subscriptions in apps: adding services (`POST /contacts/{id}/services`), listing
//! services and subscriptions, a service's actions (`PUT /services/{id}`), and what a change
//! or the next bill would come to (`POST /estimates/service_delivery`,
//! `POST /estimates/billing`), worked out without applying anything.

use super::order_estimates::{coded, exact, tax_rate_view, AppliedTax};
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Json, Money, Paged, PagedResponse};
use actix_web::{get, post, put, web, HttpResponse};
use rewards_engine::domain::ids::{ProductId, ServiceId, SubscriptionActionId, SubscriptionId};
use rewards_engine::domain::money::Currency;
use rewards_engine::domain::order::{LineAmounts, TaxRate};
use rewards_engine::domain::product::BillingPeriod;
use rewards_engine::domain::subscription::{
    bill_totals, ActionState, BillLine, FundingSource, Service, ServiceAction, ServiceState, Subscription,
};
use rewards_engine::engine::{Funding, NewService, ScheduleChange, ServiceChange};
use rewards_engine::Engine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodView {
    pub duration: u32,
    pub uot: &'static str,
}

fn period_view(period: BillingPeriod) -> PeriodView {
    PeriodView {
        duration: period.duration,
        uot: period.unit.code(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethodRef {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionTerms {
    pub billing_period: PeriodView,
    pub billing_model: &'static str,
    pub payment_method: PaymentMethodRef,
    /// Our addition beside `payment_method`: WALLET or ACCOUNT.
    pub funding_source: &'static str,
}

fn terms(subscription: &Subscription) -> SubscriptionTerms {
    SubscriptionTerms {
        billing_period: period_view(subscription.period),
        billing_model: subscription.billing_model.code(),
        payment_method: PaymentMethodRef {
            kind: match subscription.funding {
                FundingSource::Wallet => "WALLET",
                FundingSource::Account => "ACCOUNT_DEBIT",
            },
        },
        funding_source: subscription.funding.code(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceProduct {
    pub id: String,
    pub name: String,
    pub sku: String,
    pub classification: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServicePrice {
    pub id: String,
    pub price: Money,
    pub currency_code: String,
    pub tax_model: &'static str,
    pub billing_period: PeriodView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceBilling {
    pub billed_to: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceTerms {
    pub billing_model: &'static str,
    pub auto_renew: bool,
    pub in_contract: bool,
    pub quantity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PausedPeriod {
    pub start_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceSubscription {
    pub id: String,
    pub code: String,
    pub terms: SubscriptionTerms,
    pub state: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub id: String,
    pub state: &'static str,
    pub added_on: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_activated_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_activated_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_deactivated_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_on: Option<i64>,
    pub is_recurring_charge: bool,
    pub has_allowance: bool,
    pub scheduled_actions: bool,
    pub product: ServiceProduct,
    pub price: ServicePrice,
    pub billing: ServiceBilling,
    pub terms: ServiceTerms,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_period: Option<PausedPeriod>,
    pub subscription: ServiceSubscription,
    pub start_date: i64,
}

fn service_view(subscription: &Subscription, service: &Service, has_allowance: bool) -> ServiceView {
    let currency = subscription.currency;
    ServiceView {
        id: service.id.to_string(),
        state: service.state.code(),
        added_on: service.added_on,
        first_activated_on: service.first_activated_on,
        last_activated_on: service.last_activated_on,
        last_deactivated_on: service.last_deactivated_on,
        removed_on: service.removed_on,
        is_recurring_charge: true,
        has_allowance,
        scheduled_actions: false,
        product: ServiceProduct {
            id: service.product.to_string(),
            name: service.name.clone(),
            sku: service.sku.clone(),
            classification: service.classification.code(),
        },
        price: ServicePrice {
            id: service.price.id.to_string(),
            price: exact(service.price.unit_price(), currency),
            currency_code: currency.code().to_string(),
            tax_model: service.price.tax_model.code(),
            billing_period: period_view(subscription.period),
        },
        billing: ServiceBilling {
            billed_to: service.billed_to,
        },
        terms: ServiceTerms {
            billing_model: subscription.billing_model.code(),
            auto_renew: true,
            in_contract: false,
            quantity: service.quantity,
        },
        paused_period: (service.state == ServiceState::Paused).then(|| PausedPeriod {
            start_date: service.last_deactivated_on.unwrap_or(service.billed_to),
            end_date: service.paused_until,
        }),
        subscription: ServiceSubscription {
            id: subscription.id.to_string(),
            code: subscription.code.clone(),
            terms: terms(subscription),
            state: subscription.state().code(),
        },
        start_date: service.first_activated_on.unwrap_or(service.added_on),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewServiceBody {
    pub product_id: Option<String>,
    pub quantity: Option<u32>,
    pub price_terms_id: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub components: Option<Vec<serde_json::Value>>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub devices: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddServicesBody {
    pub services: Option<Vec<NewServiceBody>>,
    /// WALLET or CRM_WALLET (the default): paid from the wallet; ACCOUNT_DEBIT: from the
    /// contact's primary account. CARD, CHEQUE: not taken yet.
    pub payment_method_type: Option<String>,
    pub payment_method_id: Option<String>,
    /// Refused: services start when added.
    pub scheduled_date: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub pass: Option<serde_json::Value>,
}

fn product_id(parameter: &str, value: Option<&str>) -> Result<ProductId, ApiError> {
    let value = value.ok_or_else(|| ApiError::missing(parameter))?;
    ProductId::parse(value).map_err(|_| ApiError::invalid(parameter, "must be a product id"))
}

fn new_services(parameter: &str, services: Option<Vec<NewServiceBody>>) -> Result<Vec<NewService>, ApiError> {
    services
        .ok_or_else(|| ApiError::missing(parameter))?
        .into_iter()
        .map(|service| {
            if service.components.as_ref().is_some_and(|c| !c.is_empty()) {
                return Err(ApiError::invalid(parameter, "components of services are not taken yet"));
            }
            Ok(NewService {
                product: product_id("product_id", service.product_id.as_deref())?,
                quantity: service.quantity.unwrap_or(1),
            })
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdView {
    pub id: String,
}

/// Subscribes the signed-in contact to termed services: each joins its subscription of the
/// service's billing period (made when there is none) and is billed at once for the rest of
/// the current cycle. When the wallet cannot pay that, nothing is subscribed (400).
#[utoipa::path(
    tag = "Subscriptions",
    params(("id" = String, Path)),
    request_body = AddServicesBody,
    responses(
        (status = 200, body = Vec<IdView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/services")]
pub async fn add_services(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: Json<AddServicesBody>,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let body = body.into_inner();
    if body.scheduled_date.is_some() {
        return Err(ApiError::invalid(
            "scheduled_date",
            "services start when added: scheduling is not taken yet",
        ));
    }
    if body.pass.is_some() {
        return Err(ApiError::invalid("pass", "passes are not taken on subscriptions yet"));
    }
    let funding =
        match body.payment_method_type.as_deref() {
            None | Some("WALLET") | Some("CRM_WALLET") => Funding::Wallet,
            Some("ACCOUNT_DEBIT") => Funding::Account,
            Some(_) => return Err(ApiError::invalid(
                "payment_method_type",
                "subscriptions are paid from the wallet (WALLET, CRM_WALLET) or the primary account (ACCOUNT_DEBIT)",
            )),
        };
    let services = new_services("services", body.services)?;
    let ids = engine.add_services(token.tenant, contact, &services, funding).await?;
    Ok(HttpResponse::Ok().json(ids.iter().map(|id| IdView { id: id.to_string() }).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ServicesQuery {
    /// Only this subscription's services.
    pub subscription_id: Option<String>,
    /// TERMED_SERVICE (every service here is one).
    pub classification: Option<String>,
}

/// The signed-in contact's services across its subscriptions, newest first.
#[utoipa::path(
    tag = "Subscriptions",
    params(("id" = String, Path), ServicesQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<ServiceView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/services")]
pub async fn list_services(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<ServicesQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let only = query
        .subscription_id
        .as_deref()
        .map(|id| {
            SubscriptionId::parse(id).map_err(|_| ApiError::invalid("subscription_id", "must be a subscription id"))
        })
        .transpose()?;
    if let Some(classification) = query.classification.as_deref() {
        if !["TERMED_SERVICE", "ONE_TIME_SERVICE"].contains(&classification) {
            return Err(ApiError::invalid(
                "classification",
                "must be ONE_TIME_SERVICE or TERMED_SERVICE",
            ));
        }
    }
    let keep_any = query.classification.as_deref() != Some("ONE_TIME_SERVICE");
    let subscriptions = engine.contact_subscriptions(&token.tenant, contact)?;
    let mut views: Vec<(i64, ServiceView)> = Vec::new();
    for subscription in subscriptions.iter().filter(|s| only.is_none_or(|id| s.id == id)) {
        for service in subscription.services.iter().filter(|_| keep_any) {
            let has_allowance = !engine.allowances(&token.tenant, service.product)?.is_empty();
            views.push((service.added_on, service_view(subscription, service, has_allowance)));
        }
    }
    views.sort_by_key(|(added, _)| std::cmp::Reverse(*added));
    if !paged.descending {
        views.reverse();
    }
    let (content, paging) = paged.page_of(views.into_iter().map(|(_, view)| view).collect());
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingInfo {
    pub bill_up_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_billing_date: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: String,
    pub code: String,
    pub state: &'static str,
    pub active_services: usize,
    pub inactive_services: usize,
    pub draft_services: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_activation_date: Option<i64>,
    pub start_date: i64,
    pub billing_info: BillingInfo,
    pub terms: SubscriptionTerms,
    /// A bill was refused and waits to be paid.
    pub usage_blocked: bool,
    /// Our addition: its bills, oldest first.
    pub bills: Vec<BillView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillView {
    pub id: String,
    pub number: u32,
    pub state: &'static str,
    pub total_amount: Money,
    pub issued_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

fn subscription_view(engine: &Engine, subscription: &Subscription) -> Result<SubscriptionView, ApiError> {
    let count = |states: &[ServiceState]| {
        subscription
            .services
            .iter()
            .filter(|s| states.contains(&s.state))
            .count()
    };
    let bills = engine.subscription_bills(subscription)?;
    Ok(SubscriptionView {
        id: subscription.id.to_string(),
        code: subscription.code.clone(),
        state: subscription.state().code(),
        active_services: count(&[ServiceState::Effective]),
        inactive_services: count(&[ServiceState::NotEffective, ServiceState::Paused]),
        draft_services: count(&[ServiceState::Draft]),
        first_activation_date: subscription.services.iter().filter_map(|s| s.first_activated_on).min(),
        start_date: subscription.anchor,
        billing_info: BillingInfo {
            bill_up_date: subscription
                .services
                .iter()
                .filter(|s| s.billable())
                .map(|s| s.billed_to)
                .min()
                .unwrap_or(subscription.anchor),
            next_billing_date: (subscription.next_billing_at != i64::MAX).then_some(subscription.next_billing_at),
        },
        terms: terms(subscription),
        usage_blocked: subscription.open_bill.is_some(),
        bills: bills
            .iter()
            .map(|bill| BillView {
                id: bill.id.to_string(),
                number: bill.seq + 1,
                state: bill.state.code(),
                total_amount: exact(bill.totals.total, bill.currency),
                issued_date: bill.created_on,
                paid_date: bill.paid_on,
                failure_reason: bill.failure.clone(),
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SubscriptionsQuery {
    /// ACTIVE, INACTIVE or CHURNED.
    pub state: Option<String>,
    /// Churned subscriptions only (they are left out otherwise).
    pub include_only_terminated: Option<bool>,
}

/// The signed-in contact's subscriptions (churned ones only when asked), oldest first.
#[utoipa::path(
    tag = "Subscriptions",
    params(("id" = String, Path), SubscriptionsQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<SubscriptionView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/subscriptions")]
pub async fn list_subscriptions(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<SubscriptionsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let state = query
        .state
        .as_deref()
        .map(|code| {
            coded(
                "state",
                code,
                rewards_engine::domain::subscription::SubscriptionState::parse,
                &["ACTIVE", "INACTIVE", "CHURNED"],
            )
        })
        .transpose()?;
    let churned_only = query.include_only_terminated == Some(true);
    let mut found: Vec<Subscription> = engine
        .contact_subscriptions(&token.tenant, contact)?
        .into_iter()
        .filter(|s| {
            let churned = s.state() == rewards_engine::domain::subscription::SubscriptionState::Churned;
            churned == churned_only && state.is_none_or(|state| s.state() == state)
        })
        .collect();
    if paged.descending {
        found.reverse();
    }
    let (page, paging) = paged.page_of(found);
    let content = page
        .iter()
        .map(|s| subscription_view(&engine, s))
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeToBody {
    pub product_id: Option<String>,
    pub price_terms_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ServiceActionBody {
    /// ACTIVATE, CANCEL, CHANGE, DEACTIVATE, PAUSE, REGRET or RESUME.
    pub action: Option<String>,
    /// PAUSE: for this many days (until resumed when not given).
    pub number_of_days: Option<u32>,
    /// CHANGE: the new quantity.
    pub quantity: Option<u32>,
    /// CHANGE: the product to change to.
    pub change_to_service: Option<ChangeToBody>,
    /// Take the action then (a date later than now; at once when not given or past).
    pub scheduled_date: Option<i64>,
    pub use_proposed_date: Option<bool>,
    pub category_id: Option<String>,
    pub price_terms_id: Option<String>,
}

fn service_action(value: Option<&str>) -> Result<ServiceAction, ApiError> {
    let value = value.ok_or_else(|| ApiError::missing("action"))?;
    coded(
        "action",
        value,
        ServiceAction::parse,
        &[
            "ACTIVATE",
            "CANCEL",
            "CHANGE",
            "DEACTIVATE",
            "PAUSE",
            "REGRET",
            "RESUME",
        ],
    )
}

impl ServiceActionBody {
    fn change(&self) -> Result<ServiceChange, ApiError> {
        Ok(ServiceChange {
            scheduled: self.scheduled_date,
            action: service_action(self.action.as_deref())?,
            days: self.number_of_days,
            change_to: self
                .change_to_service
                .as_ref()
                .map(|to| product_id("change_to_service.product_id", to.product_id.as_deref()))
                .transpose()?,
            quantity: self.quantity,
        })
    }
}

/// Takes an action on one of the signed-in contact's services (the table in
/// `domain::subscription`), billing at once what it makes due: a resumed or activated
/// service's rest of the cycle; a change's new service, less a credit for what the old one
/// had been billed beyond now; a regret's credit of everything the service was billed.
#[utoipa::path(
    tag = "Subscriptions",
    params(("id" = String, Path)),
    request_body = ServiceActionBody,
    responses(
        (status = 200, body = IdView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[put("/services/{id}")]
pub async fn update_service(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: Json<ServiceActionBody>,
) -> Result<HttpResponse, ApiError> {
    let id = ServiceId::parse(&path).map_err(|_| ApiError::not_found("service"))?;
    let change = body.change()?;
    let (_, in_effect) = engine.service_action(token.tenant, token.contact, id, change).await?;
    let now = engine.now();
    Ok(HttpResponse::Ok().json(ActionAnswer {
        id: in_effect.to_string(),
        proposed_date: change.scheduled.filter(|at| *at > now),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionAnswer {
    pub id: String,
    /// When a scheduled action will be taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed_date: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionActionView {
    pub id: String,
    pub state: &'static str,
    pub behaviour_code: &'static str,
    pub business_classification_code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_on: Option<i64>,
    /// Our additions: the service, its subscription, why a rejected action was.
    pub service_id: String,
    pub subscription_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ActionsQuery {
    pub contact_id: Option<String>,
    pub subscription_id: Option<String>,
    pub service_id: Option<String>,
    /// Only the scheduled ones.
    pub is_scheduled: Option<bool>,
}

/// The actions taken on the signed-in contact's services and those scheduled, newest first.
#[utoipa::path(
    tag = "Subscriptions",
    params(ActionsQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<SubscriptionActionView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/subscriptions/actions")]
pub async fn list_actions(
    token: ContactToken,
    engine: web::Data<Engine>,
    query: web::Query<ActionsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    if let Some(contact) = query.contact_id.as_deref() {
        token.own(contact)?;
    }
    let subscription = query
        .subscription_id
        .as_deref()
        .map(|id| {
            SubscriptionId::parse(id).map_err(|_| ApiError::invalid("subscription_id", "must be a subscription id"))
        })
        .transpose()?;
    let service = query
        .service_id
        .as_deref()
        .map(|id| ServiceId::parse(id).map_err(|_| ApiError::invalid("service_id", "must be a service id")))
        .transpose()?;
    let mut views: Vec<(i64, SubscriptionActionView)> = Vec::new();
    for found in engine.contact_subscriptions(&token.tenant, token.contact)? {
        if subscription.is_some_and(|id| id != found.id) {
            continue;
        }
        for action in &found.actions {
            if service.is_some_and(|id| id != action.service)
                || (query.is_scheduled == Some(true) && action.state != ActionState::Scheduled)
            {
                continue;
            }
            views.push((
                action.created_on,
                SubscriptionActionView {
                    id: action.id.to_string(),
                    state: action.state.code(),
                    behaviour_code: action.action.behaviour_code(),
                    business_classification_code: action.action.classification_code(),
                    scheduled_on: action.scheduled_on,
                    executed_on: action.executed_on,
                    cancelled_on: action.cancelled_on,
                    rejected_on: action.rejected_on,
                    service_id: action.service.to_string(),
                    subscription_id: found.id.to_string(),
                    reason: action.reason.clone(),
                },
            ));
        }
    }
    views.sort_by_key(|(created, _)| std::cmp::Reverse(*created));
    if !paged.descending {
        views.reverse();
    }
    let (content, paging) = paged.page_of(views.into_iter().map(|(_, view)| view).collect());
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateActionBody {
    /// CANCEL or TERMINATE (the scheduled action is not taken), UPDATE (`scheduled_date`).
    pub action: Option<String>,
    pub scheduled_date: Option<i64>,
    pub category_id: Option<String>,
    pub use_proposed_date: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub period_settings: Option<serde_json::Value>,
}

/// Cancels one of the signed-in contact's scheduled actions, or moves it to another date.
#[utoipa::path(
    tag = "Subscriptions",
    params(("id" = String, Path)),
    request_body = UpdateActionBody,
    responses(
        (status = 200, body = ActionAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[put("/subscriptions/actions/{id}")]
pub async fn update_action(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: Json<UpdateActionBody>,
) -> Result<HttpResponse, ApiError> {
    let id = SubscriptionActionId::parse(&path).map_err(|_| ApiError::not_found("subscription action"))?;
    let change = match body.action.as_deref() {
        None => return Err(ApiError::missing("action")),
        Some("CANCEL") | Some("TERMINATE") => ScheduleChange::Cancel,
        Some("UPDATE") => {
            ScheduleChange::Reschedule(body.scheduled_date.ok_or_else(|| ApiError::missing("scheduled_date"))?)
        }
        Some(_) => return Err(ApiError::invalid("action", "must be CANCEL, UPDATE or TERMINATE")),
    };
    let action = engine
        .change_scheduled_action(token.tenant, token.contact, id, change)
        .await?;
    Ok(HttpResponse::Ok().json(ActionAnswer {
        id: action.id.to_string(),
        proposed_date: action.scheduled_on.filter(|_| action.state == ActionState::Scheduled),
    }))
}

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
