//! Subscriptions in apps: adding services (`POST /contacts/{id}/services`), listing
//! services and subscriptions, a service's actions (`PUT /services/{id}`), and what a change
//! or the next bill would come to (`POST /estimates/service_delivery`,
//! `POST /estimates/billing`), worked out without applying anything.

use super::order_estimates::{coded, exact, price_terms, PresentedPassBody};
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{Json, Money, Paged, PagedResponse};
use actix_web::{get, post, put, web, HttpResponse};
use rewards_engine::domain::ids::{ProductId, ServiceId, SubscriptionId};
use rewards_engine::domain::product::{BillingPeriod, PeriodUnit};
use rewards_engine::domain::subscription::{
    BillingDay, FundingSource, Service, ServiceAction, ServiceState, Subscription, BILLING_DAY_OF_MONTH_MAX,
};
use rewards_engine::engine::{Funding, NewService, ServiceChange, SubscriptionUpdate};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodView {
    pub duration: u32,
    pub uot: &'static str,
}

pub(crate) fn period_view(period: BillingPeriod) -> PeriodView {
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
    /// The day its cycles start on (from its anchor, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_day: Option<BillingDayView>,
    pub billing_model: &'static str,
    pub payment_method: PaymentMethodRef,
    /// Our addition beside `payment_method`: WALLET or ACCOUNT.
    pub funding_source: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingDayView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month_of_year: Option<&'static str>,
}

const MONTHS: [&str; 12] = [
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
];

fn billing_day(subscription: &Subscription) -> Option<BillingDayView> {
    let anchor = subscription.anchor_day()?;
    let (week, month, year) = match subscription.period.unit {
        PeriodUnit::Day => return None,
        PeriodUnit::Week => (true, false, false),
        PeriodUnit::Month => (false, true, false),
        PeriodUnit::Year => (false, true, true),
    };
    Some(BillingDayView {
        day_of_week: week.then(|| WEEKDAYS[usize::from(anchor.weekday % 7)]),
        day_of_month: month.then_some(u32::from(anchor.day)),
        month_of_year: year.then(|| MONTHS[usize::from(anchor.month0 % 12)]),
    })
}

pub(crate) fn terms(subscription: &Subscription) -> SubscriptionTerms {
    SubscriptionTerms {
        billing_period: period_view(subscription.period),
        billing_day: billing_day(subscription),
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
            code: subscription.code(),
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
    /// One of the product's price plans (`pricing[].id`, with a billing period).
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
    /// A later date the services start on (a DRAFT each, activated then by the billing
    /// run; nothing billed before); at most three years ahead.
    pub scheduled_date: Option<i64>,
    /// A promotion pass: its plan's offer is unlocked for the first bill's award event.
    pub pass: Option<PresentedPassBody>,
}

pub(crate) fn product_id(parameter: &str, value: Option<&str>) -> Result<ProductId, ApiError> {
    let value = value.ok_or_else(|| ApiError::missing(parameter))?;
    ProductId::parse(value).map_err(|_| ApiError::invalid(parameter, "must be a product id"))
}

pub(crate) fn new_services(
    parameter: &str,
    services: Option<Vec<NewServiceBody>>,
) -> Result<Vec<NewService>, ApiError> {
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
                price_terms: price_terms("price_terms_id", service.price_terms_id.as_deref())?,
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
    let pass = body.pass.map(PresentedPassBody::payment).transpose()?;
    let ids = engine
        .add_services(
            token.tenant,
            contact,
            &services,
            funding,
            body.scheduled_date,
            pass.as_ref(),
        )
        .await?;
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
        code: subscription.code(),
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
    /// One of the product's price plans (`pricing[].id`, with a billing period).
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
    /// One of the product's price plans (`pricing[].id`, with a billing period).
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
            // The product's price plan to change to: named beside the product or on its own.
            price_terms: price_terms(
                "price_terms_id",
                self.change_to_service
                    .as_ref()
                    .and_then(|to| to.price_terms_id.as_deref())
                    .or(self.price_terms_id.as_deref()),
            )?,
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

#[derive(Debug, Deserialize, ToSchema)]
pub struct BillingDayBody {
    /// A weekly subscription's: MONDAY to SUNDAY.
    pub day_of_week: Option<String>,
    /// A monthly subscription's: 1 to 28.
    pub day_of_month: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubscriptionUpdateBody {
    /// CHANGE_BILLING_DAY, CHANGE_PAYMENT_METHOD or CANCEL.
    pub action: Option<String>,
    /// CHANGE_BILLING_DAY: the day cycles start on from now on.
    pub billing_day: Option<BillingDayBody>,
    /// CHANGE_PAYMENT_METHOD: WALLET or ACCOUNT (the contact's primary account).
    pub funding_source: Option<String>,
    /// CHANGE_PAYMENT_METHOD: WALLET or CRM_WALLET (the wallet), ACCOUNT_DEBIT (the account).
    pub payment_method_type: Option<String>,
    /// Refused: bills are paid from the wallet or the account, not a card.
    pub payment_method_id: Option<String>,
    /// CANCEL: on this date (later than now) instead of at once.
    pub scheduled_date: Option<i64>,
    /// No rule delays a cancellation here: it has no proposed date to use.
    pub use_proposed_date: Option<bool>,
}

const WEEKDAYS: [&str; 7] = [
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
];

impl SubscriptionUpdateBody {
    fn update(&self) -> Result<SubscriptionUpdate, ApiError> {
        let action = self.action.as_deref().ok_or_else(|| ApiError::missing("action"))?;
        match action {
            "CHANGE_BILLING_DAY" => {
                let day = self
                    .billing_day
                    .as_ref()
                    .ok_or_else(|| ApiError::missing("billing_day"))?;
                let day = match (day.day_of_week.as_deref(), day.day_of_month) {
                    (Some(name), None) => BillingDay::OfWeek(
                        WEEKDAYS
                            .iter()
                            .position(|d| d.eq_ignore_ascii_case(name))
                            .and_then(|i| u8::try_from(i).ok())
                            .ok_or_else(|| ApiError::invalid("billing_day.day_of_week", "must be MONDAY to SUNDAY"))?,
                    ),
                    (None, Some(n)) => BillingDay::OfMonth(
                        u8::try_from(n)
                            .ok()
                            .filter(|n| (1..=BILLING_DAY_OF_MONTH_MAX).contains(n))
                            .ok_or_else(|| {
                                ApiError::invalid(
                                    "billing_day.day_of_month",
                                    format!("must be 1 to {BILLING_DAY_OF_MONTH_MAX}"),
                                )
                            })?,
                    ),
                    _ => {
                        return Err(ApiError::invalid(
                            "billing_day",
                            "give day_of_week (weekly subscriptions) or day_of_month (monthly ones)",
                        ))
                    }
                };
                Ok(SubscriptionUpdate::BillingDay(day))
            }
            "CHANGE_PAYMENT_METHOD" => {
                if self.payment_method_id.is_some() {
                    return Err(ApiError::invalid(
                        "payment_method_id",
                        "bills are paid from the wallet or the primary account: give funding_source",
                    ));
                }
                let by_source = match self.funding_source.as_deref() {
                    None => None,
                    Some("WALLET") => Some(Funding::Wallet),
                    Some("ACCOUNT") => Some(Funding::Account),
                    Some(_) => return Err(ApiError::invalid("funding_source", "must be WALLET or ACCOUNT")),
                };
                let by_type = match self.payment_method_type.as_deref() {
                    None => None,
                    Some("WALLET") | Some("CRM_WALLET") => Some(Funding::Wallet),
                    Some("ACCOUNT_DEBIT") => Some(Funding::Account),
                    Some(_) => return Err(ApiError::invalid(
                        "payment_method_type",
                        "bills are paid from the wallet (WALLET, CRM_WALLET) or the primary account (ACCOUNT_DEBIT)",
                    )),
                };
                match (by_source, by_type) {
                    (Some(a), Some(b)) if a != b => Err(ApiError::invalid(
                        "payment_method_type",
                        "names another source than funding_source",
                    )),
                    (Some(funding), _) | (None, Some(funding)) => Ok(SubscriptionUpdate::Funding(funding)),
                    (None, None) => Err(ApiError::missing("funding_source")),
                }
            }
            "CANCEL" => Ok(SubscriptionUpdate::Cancel {
                scheduled: self.scheduled_date,
            }),
            _ => Err(ApiError::invalid(
                "action",
                "must be CHANGE_BILLING_DAY, CHANGE_PAYMENT_METHOD or CANCEL",
            )),
        }
    }
}

/// Changes one of the signed-in contact's subscriptions: the day its cycles start on (the
/// next bill runs from what was billed to the new cycle's end, prorated), what its bills
/// are paid from (bills made from now on), or cancels every service it still has, at once
/// or on `scheduled_date`.
#[utoipa::path(
    tag = "Subscriptions",
    params(("id" = String, Path)),
    request_body = SubscriptionUpdateBody,
    responses(
        (status = 200, body = ActionAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[put("/subscriptions/{id}")]
pub async fn update_subscription(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: Json<SubscriptionUpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let id = SubscriptionId::parse(&path).map_err(|_| ApiError::not_found("subscription"))?;
    let update = body.update()?;
    let now = engine.now();
    let subscription = engine
        .update_subscription(token.tenant, token.contact, id, update)
        .await?;
    Ok(HttpResponse::Ok().json(ActionAnswer {
        id: subscription.id.to_string(),
        proposed_date: match update {
            SubscriptionUpdate::Cancel { scheduled } => scheduled.filter(|at| *at > now),
            _ => None,
        },
    }))
}
