//! The contact's limits on its own wallet: `GET` and `PUT /self-service/v2/wallets/{id}/limits`.
//! A rule caps how many transactions and how much money of some kinds (DEBIT, CREDIT,
//! TOP_UP, TRANSFER) the wallet moves per day, week or month; the wallet's actor refuses a
//! command that would pass one, naming it.

use super::wallet_journals::own_wallet_id;
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, Money};
use actix_web::{get, put, web, HttpResponse};
use rewards_engine::domain::money::{with_minor_units, Currency};
use rewards_engine::domain::wallet::{LimitKind, LimitPeriod, WalletLimits};
use rewards_engine::engine::LimitChange;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitRuleView {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_number: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_amount: Option<Money>,
    /// DAILY, WEEKLY or MONTHLY (calendar periods in UTC; weeks from Monday).
    pub period: &'static str,
    /// DEBIT, CREDIT, TOP_UP, TRANSFER.
    pub applies_for: Vec<&'static str>,
    pub currency_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsView {
    /// Our addition on the update's answer and the read: the wallet's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub limit_rules: Vec<LimitRuleView>,
}

fn limits_view(id: Option<String>, limits: &WalletLimits, currency: Currency) -> LimitsView {
    LimitsView {
        id,
        limit_rules: limits
            .rules
            .iter()
            .map(|rule| LimitRuleView {
                id: rule.id.to_string(),
                name: rule.name.clone(),
                maximum_number: rule.maximum_number,
                maximum_amount: rule
                    .maximum_amount
                    .map(|amount| money(with_minor_units(amount, currency))),
                period: rule.period.code(),
                applies_for: rule.applies_for.iter().map(|kind| kind.code()).collect(),
                currency_code: currency.code().to_string(),
            })
            .collect(),
    }
}

/// The signed-in contact's limit rules on its wallet.
#[utoipa::path(
    tag = "Self-service wallets",
    params(("id" = String, Path)),
    responses((status = 200, body = LimitsView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/wallets/{id}/limits")]
pub async fn get_limits(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = own_wallet_id(&token, &engine, &path)?;
    let (currency, limits) = engine.wallet_limits(token.tenant, token.contact, id).await?;
    Ok(HttpResponse::Ok().json(limits_view(None, &limits, currency)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitRuleBody {
    /// The rule to change (else the rule is found by its name).
    pub id: Option<String>,
    pub name: Option<String>,
    pub maximum_number: Option<u32>,
    pub maximum_amount: Option<Money>,
    pub period: Option<String>,
    pub applies_for: Option<Vec<String>>,
    /// The wallet's currency (the only one its limits can be in).
    pub currency_code: Option<String>,
    /// Our addition: `true` removes the rule.
    #[serde(default)]
    pub remove: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsBody {
    pub limit_rules: Vec<LimitRuleBody>,
}

/// Most rule changes one request may carry.
const CHANGES_MAX: usize = 50;

fn change(index: usize, body: LimitRuleBody) -> Result<LimitChange, ApiError> {
    let field = |name: &str| format!("limit_rules[{index}].{name}");
    let id = body
        .id
        .map(|id| uuid::Uuid::parse_str(&id).map_err(|_| ApiError::invalid(&field("id"), "must be a rule id")))
        .transpose()?;
    let period = body
        .period
        .map(|code| {
            LimitPeriod::parse(&code)
                .ok_or_else(|| ApiError::invalid(&field("period"), "must be DAILY, WEEKLY or MONTHLY"))
        })
        .transpose()?;
    let applies_for = body
        .applies_for
        .map(|kinds| {
            kinds
                .iter()
                .map(|code| {
                    LimitKind::parse(code).ok_or_else(|| {
                        ApiError::invalid(&field("applies_for"), "each must be DEBIT, CREDIT, TOP_UP or TRANSFER")
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    Ok(LimitChange {
        id,
        name: body.name,
        maximum_number: body.maximum_number,
        maximum_amount: body.maximum_amount.map(|amount| amount.0),
        period,
        applies_for,
        remove: body.remove,
        currency: body
            .currency_code
            .map(|code| {
                Currency::parse(&code)
                    .map_err(|_| ApiError::invalid(&field("currency_code"), "must be an ISO 4217 code"))
            })
            .transpose()?,
    })
}

/// Adds, changes (by id or name) or removes the signed-in contact's limit rules: all of
/// them, or none when the rules they make are inconsistent (a daily limit above the
/// monthly one of a kind they share) or malformed.
#[utoipa::path(
    tag = "Self-service wallets",
    params(("id" = String, Path)),
    request_body = LimitsBody,
    responses(
        (status = 200, body = LimitsView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[put("/wallets/{id}/limits")]
pub async fn update_limits(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<LimitsBody>,
) -> Result<HttpResponse, ApiError> {
    let id = own_wallet_id(&token, &engine, &path)?;
    let body = body.into_inner();
    if body.limit_rules.len() > CHANGES_MAX {
        return Err(ApiError::invalid(
            "limit_rules",
            format!("at most {CHANGES_MAX} rules per request"),
        ));
    }
    let changes = body
        .limit_rules
        .into_iter()
        .enumerate()
        .map(|(index, rule)| change(index, rule))
        .collect::<Result<Vec<_>, _>>()?;
    let (currency, limits) = engine
        .update_wallet_limits(token.tenant, token.contact, id, changes)
        .await?;
    Ok(HttpResponse::Ok().json(limits_view(Some(id.to_string()), &limits, currency)))
}
