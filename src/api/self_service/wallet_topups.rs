//! The contact's automatic top-ups on its own wallet: `PUT /self-service/v2/wallets/{id}`
//! sets them (the contract's only updatable parts of a wallet) and
//! `GET /self-service/v2/wallets/{id}/topup_settings` reads them. Nothing is topped up
//! until the contact opts in:
//!
//! - `auto_topup`: when a debit takes the balance to `threshold` or below, top up `amount`
//!   (more than the threshold) with the payment method;
//! - `termed_topup`: top up `amount` at each occurrence of `frequency`, a Quartz cron
//!   expression in UTC (at most daily); `period` (DAILY, WEEKLY, MONTHLY) is kept as given.
//!
//! A setting left out is kept; `null` switches it off (our addition: the contract has no
//! other way to opt out). The scheduler charges each through the method's gateway like any
//! top-up.

use super::wallet_journals::own_wallet_id;
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money};
use actix_web::{get, put, web, HttpResponse};
use rewards_engine::domain::ids::PaymentMethodId;
use rewards_engine::domain::money::{with_minor_units, Currency};
use rewards_engine::domain::payment::PaymentMethods;
use rewards_engine::domain::topup_schedule::TopUpPeriod;
use rewards_engine::engine::{AutoTopUpAsk, ScheduleView, TermedTopUpAsk, TopUpSettingsChange};
use rewards_engine::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct MethodIdentityView {
    pub id: String,
    /// The brand, last digits and expiry of a card; the bank and last digits of an account.
    pub identifier: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopUpMethodView {
    /// CARD, ACCOUNT_DEBIT or WALLET.
    #[serde(rename = "type")]
    pub method_type: &'static str,
    pub identity: MethodIdentityView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AutoTopUpView {
    pub threshold: Money,
    pub amount: Money,
    pub payment_method: TopUpMethodView,
    pub currency_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TermedTopUpView {
    pub amount: Money,
    pub currency_code: String,
    /// A Quartz cron expression, in UTC.
    pub frequency: String,
    pub payment_method: TopUpMethodView,
    /// DAILY, WEEKLY or MONTHLY, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<&'static str>,
    /// Our addition: when the next top-up is due (epoch seconds).
    pub next_topup_date: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopUpSettingsView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_topup: Option<AutoTopUpView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termed_topup: Option<TermedTopUpView>,
}

fn method_view(methods: &PaymentMethods, id: PaymentMethodId) -> TopUpMethodView {
    let found = methods.get(id);
    TopUpMethodView {
        method_type: found.map_or("CARD", |method| method.kind.code()),
        identity: MethodIdentityView {
            id: id.to_string(),
            identifier: found.map(|method| method.identifier()).unwrap_or_default(),
        },
    }
}

fn settings_view(view: &ScheduleView) -> TopUpSettingsView {
    let currency = view.currency;
    let exact = |value| money(with_minor_units(value, currency));
    TopUpSettingsView {
        auto_topup: view.settings.auto.as_ref().map(|auto| AutoTopUpView {
            threshold: exact(auto.threshold),
            amount: exact(auto.amount),
            payment_method: method_view(&view.methods, auto.payment_method),
            currency_code: currency.code().to_string(),
        }),
        termed_topup: view.settings.termed.as_ref().map(|termed| TermedTopUpView {
            amount: exact(termed.amount),
            currency_code: currency.code().to_string(),
            frequency: termed.frequency.clone(),
            payment_method: method_view(&view.methods, termed.payment_method),
            period: termed.period.map(TopUpPeriod::code),
            next_topup_date: termed.next_due,
        }),
    }
}

/// The signed-in contact's auto and termed top-ups on its wallet (`{}` until it opts in).
#[utoipa::path(
    tag = "Self-service wallets",
    params(("id" = String, Path)),
    responses((status = 200, body = TopUpSettingsView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/wallets/{id}/topup_settings")]
pub async fn get_top_up_settings(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = own_wallet_id(&token, &engine, &path)?;
    let view = engine.top_up_settings(token.tenant, token.contact, id).await?;
    Ok(HttpResponse::Ok().json(settings_view(&view)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MethodIdentityBody {
    pub id: Option<String>,
    pub identifier: Option<String>,
}

/// One of the contact's payment methods: by `id` (the auto top-up's shape) or
/// `identity.id` (the termed top-up's).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TopUpMethodBody {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub method_type: Option<String>,
    pub identifier: Option<String>,
    pub identity: Option<MethodIdentityBody>,
}

impl TopUpMethodBody {
    fn id(self, parameter: &str) -> Result<PaymentMethodId, ApiError> {
        let id = self
            .id
            .or(self.identity.and_then(|identity| identity.id))
            .ok_or_else(|| ApiError::missing(&format!("{parameter}.id")))?;
        PaymentMethodId::parse(&id)
            .map_err(|_| ApiError::invalid(parameter, "is not one of the contact's payment methods"))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoTopUpBody {
    /// The balance at or below which a debit tops the wallet up; zero or more.
    pub threshold: Option<Money>,
    /// More than the threshold, in the wallet's currency.
    pub amount: Option<Money>,
    pub payment_method: Option<TopUpMethodBody>,
    /// The wallet's currency, if given.
    pub currency_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermedTopUpBody {
    pub amount: Option<Money>,
    pub currency_code: Option<String>,
    /// A Quartz cron expression in UTC (seconds first; `?`, `L`, `W`, `#`; Sunday = 1), at
    /// most daily: "0 0 12 * * ?" is noon every day.
    pub frequency: Option<String>,
    /// DAILY, WEEKLY or MONTHLY, kept and shown as given (the frequency decides).
    pub period: Option<String>,
    pub payment_method: Option<TopUpMethodBody>,
}

/// A field that may be left out (kept) or `null` (switched off).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWalletBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<AutoTopUpBody>)]
    pub auto_topup: Option<Option<AutoTopUpBody>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<TermedTopUpBody>)]
    pub termed_topup: Option<Option<TermedTopUpBody>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedWalletView {
    pub id: String,
}

fn currency(parameter: &str, code: Option<String>) -> Result<Option<Currency>, ApiError> {
    code.map(|code| Currency::parse(&code).map_err(|_| ApiError::invalid(parameter, "is not a currency code")))
        .transpose()
}

impl UpdateWalletBody {
    fn change(self) -> Result<TopUpSettingsChange, ApiError> {
        let auto = self
            .auto_topup
            .map(|auto| {
                auto.map(|auto| -> Result<AutoTopUpAsk, ApiError> {
                    Ok(AutoTopUpAsk {
                        threshold: auto
                            .threshold
                            .ok_or_else(|| ApiError::missing("auto_topup.threshold"))?
                            .0,
                        amount: auto.amount.ok_or_else(|| ApiError::missing("auto_topup.amount"))?.0,
                        payment_method: auto
                            .payment_method
                            .ok_or_else(|| ApiError::missing("auto_topup.payment_method"))?
                            .id("auto_topup.payment_method")?,
                        currency: currency("auto_topup.currency_code", auto.currency_code)?,
                    })
                })
                .transpose()
            })
            .transpose()?;
        let termed = self
            .termed_topup
            .map(|termed| {
                termed
                    .map(|termed| -> Result<TermedTopUpAsk, ApiError> {
                        Ok(TermedTopUpAsk {
                            amount: termed.amount.ok_or_else(|| ApiError::missing("termed_topup.amount"))?.0,
                            currency: currency("termed_topup.currency_code", termed.currency_code)?,
                            frequency: termed.frequency,
                            period: termed
                                .period
                                .map(|code| {
                                    TopUpPeriod::parse(&code).ok_or_else(|| {
                                        ApiError::invalid("termed_topup.period", "must be DAILY, WEEKLY or MONTHLY")
                                    })
                                })
                                .transpose()?,
                            payment_method: termed
                                .payment_method
                                .ok_or_else(|| ApiError::missing("termed_topup.payment_method"))?
                                .id("termed_topup.payment_method")?,
                        })
                    })
                    .transpose()
            })
            .transpose()?;
        Ok(TopUpSettingsChange { auto, termed })
    }
}

/// Sets the signed-in contact's auto and termed top-ups on its wallet: each given replaces
/// what was set, `null` switches it off, one left out is kept. All or nothing.
#[utoipa::path(
    tag = "Self-service wallets",
    params(("id" = String, Path)),
    request_body = UpdateWalletBody,
    responses(
        (status = 200, body = UpdatedWalletView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[put("/wallets/{id}")]
pub async fn update_wallet(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<UpdateWalletBody>,
) -> Result<HttpResponse, ApiError> {
    let id = own_wallet_id(&token, &engine, &path)?;
    let change = body.into_inner().change()?;
    engine
        .set_top_up_settings(token.tenant, token.contact, id, change)
        .await?;
    Ok(HttpResponse::Ok().json(UpdatedWalletView { id: id.to_string() }))
}
