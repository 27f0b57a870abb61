//! The contact's payment methods: `GET/POST /self-service/v2/contacts/{id}/payment_methods`
//! and `PUT/DELETE .../payment_methods/{payment_method_id}`. A method is what a payment
//! gateway holds (its token); the engine keeps only what shows it, never a card number.

use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{Paged, PagedResponse};
use actix_web::{delete, get, post, put, web, HttpResponse};
use rewards_engine::domain::ids::PaymentMethodId;
use rewards_engine::domain::payment::{AccountDetails, CardDetails, EWalletDetails, PaymentMethod, PaymentMethodKind};
use rewards_engine::engine::{NewPaymentMethod, PaymentMethodChange};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct GatewayTokenBody {
    /// The gateway that holds the method: one of `[payments] gateways` (STRIPE, or our
    /// `test`), any case; none: the business's gateway (the first configured).
    pub gateway: Option<String>,
    /// The gateway's token for it.
    pub token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CardBody {
    pub name: Option<String>,
    pub first6: Option<String>,
    pub last4: Option<String>,
    pub brand: Option<String>,
    pub expiration_month: Option<u8>,
    pub expiration_year: Option<u16>,
    pub gateway_token: Option<Vec<GatewayTokenBody>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AccountDebitBody {
    pub account_name: Option<String>,
    pub account_number: Option<String>,
    pub iban: Option<String>,
    pub bank: Option<String>,
    pub gateway_token: Option<Vec<GatewayTokenBody>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EWalletBody {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub gateway_token: Option<Vec<GatewayTokenBody>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePaymentMethodBody {
    pub name: Option<String>,
    pub is_primary: Option<bool>,
    /// CARD, ACCOUNT_DEBIT or WALLET.
    pub payment_method_type: Option<String>,
    pub notes: Option<String>,
    pub card: Option<CardBody>,
    pub account_debit: Option<AccountDebitBody>,
    pub wallet: Option<EWalletBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub first6: String,
    pub last4: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    pub expiration_month: u8,
    pub expiration_year: u16,
    pub gateway_token: Vec<GatewayTokenBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDebitView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// The account's last 4 digits, masked.
    pub account_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<String>,
    pub gateway_token: Vec<GatewayTokenBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EWalletView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub gateway_token: Vec<GatewayTokenBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethodView {
    pub id: String,
    pub is_primary: bool,
    /// Our methods are for payments, not only for identifying the contact.
    pub is_rewards: bool,
    pub payment_method_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// What identifies it to its owner ("VISA ****4242 12/2030").
    pub identifier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<CardView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_debit: Option<AccountDebitView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet: Option<EWalletView>,
}

fn view(method: &PaymentMethod) -> PaymentMethodView {
    let token = || {
        vec![GatewayTokenBody {
            gateway: Some(method.gateway.to_ascii_uppercase()),
            token: method.token.clone(),
        }]
    };
    PaymentMethodView {
        id: method.id.to_string(),
        is_primary: method.is_primary,
        is_rewards: false,
        payment_method_type: method.kind.code(),
        name: method.name.clone(),
        notes: method.notes.clone(),
        identifier: method.identifier(),
        card: method.card.as_ref().map(|card| CardView {
            name: card.name.clone(),
            first6: card.first6.clone(),
            last4: card.last4.clone(),
            brand: card.brand.clone(),
            expiration_month: card.expiration_month,
            expiration_year: card.expiration_year,
            gateway_token: token(),
        }),
        account_debit: method.account.as_ref().map(|account| AccountDebitView {
            account_name: account.account_name.clone(),
            account_number: format!("****{}", account.last_digits),
            bank: account.bank.clone(),
            gateway_token: token(),
        }),
        wallet: method.e_wallet.as_ref().map(|e_wallet| EWalletView {
            email: e_wallet.email.clone().or_else(|| e_wallet.phone.clone()),
            gateway_token: token(),
        }),
    }
}

/// The one gateway token a method must carry.
fn one_token(parameter: &str, tokens: Option<Vec<GatewayTokenBody>>) -> Result<GatewayTokenBody, ApiError> {
    match tokens.as_deref() {
        Some([token]) => Ok(GatewayTokenBody {
            gateway: token
                .gateway
                .as_ref()
                .map(|gateway| gateway.trim().to_ascii_lowercase()),
            token: token.token.clone(),
        }),
        _ => Err(ApiError::invalid(
            &format!("{parameter}.gateway_token"),
            "needs exactly one gateway token: the gateway that holds the method, and its token there",
        )),
    }
}

impl TryFrom<CreatePaymentMethodBody> for NewPaymentMethod {
    type Error = ApiError;

    fn try_from(body: CreatePaymentMethodBody) -> Result<Self, ApiError> {
        let kind = body
            .payment_method_type
            .as_deref()
            .ok_or_else(|| ApiError::missing("payment_method_type"))
            .and_then(|code| {
                PaymentMethodKind::parse(code)
                    .ok_or_else(|| ApiError::invalid("payment_method_type", "must be CARD, ACCOUNT_DEBIT or WALLET"))
            })?;
        let (token, card, account, e_wallet) = match (kind, body.card, body.account_debit, body.wallet) {
            (PaymentMethodKind::Card, Some(card), None, None) => {
                let required = |name: &str| ApiError::missing(&format!("card.{name}"));
                let details = CardDetails {
                    name: card.name,
                    first6: card.first6.ok_or_else(|| required("first6"))?,
                    last4: card.last4.ok_or_else(|| required("last4"))?,
                    brand: card.brand,
                    expiration_month: card.expiration_month.ok_or_else(|| required("expiration_month"))?,
                    expiration_year: card.expiration_year.ok_or_else(|| required("expiration_year"))?,
                };
                (one_token("card", card.gateway_token)?, Some(details), None, None)
            }
            (PaymentMethodKind::AccountDebit, None, Some(account), None) => {
                let number = account
                    .iban
                    .or(account.account_number)
                    .ok_or_else(|| ApiError::missing("account_debit.account_number"))?;
                let number: String = number.chars().filter(|c| !c.is_whitespace()).collect();
                let last_digits = number
                    .get(number.len().saturating_sub(4)..)
                    .unwrap_or_default()
                    .to_string();
                let details = AccountDetails {
                    account_name: account.account_name,
                    last_digits,
                    bank: account.bank,
                };
                (
                    one_token("account_debit", account.gateway_token)?,
                    None,
                    Some(details),
                    None,
                )
            }
            (PaymentMethodKind::Wallet, None, None, Some(e_wallet)) => {
                let details = EWalletDetails {
                    email: e_wallet.email,
                    phone: e_wallet.phone,
                };
                (one_token("wallet", e_wallet.gateway_token)?, None, None, Some(details))
            }
            (kind, ..) => {
                return Err(ApiError::invalid(
                    "payment_method_type",
                    format!(
                        "a {} method takes its own details only ({})",
                        kind.code(),
                        match kind {
                            PaymentMethodKind::Card => "card",
                            PaymentMethodKind::AccountDebit => "account_debit",
                            PaymentMethodKind::Wallet => "wallet",
                        }
                    ),
                ))
            }
        };
        Ok(NewPaymentMethod {
            kind,
            name: body.name,
            notes: body.notes,
            is_primary: body.is_primary.unwrap_or(false),
            gateway: token.gateway,
            token: token.token,
            card,
            account,
            e_wallet,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PaymentMethodsQuery {
    /// CARD, ACCOUNT_DEBIT or WALLET.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub method_type: Option<String>,
}

/// The signed-in contact's payment methods, the primary one first.
#[utoipa::path(
    tag = "Self-service payment methods",
    params(("id" = String, Path), PaymentMethodsQuery),
    responses(
        (status = 200, body = PagedResponse<PaymentMethodView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/payment_methods")]
pub async fn list_payment_methods(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<PaymentMethodsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let kind = query
        .method_type
        .as_deref()
        .map(|code| {
            PaymentMethodKind::parse(code)
                .ok_or_else(|| ApiError::invalid("type", "must be CARD, ACCOUNT_DEBIT or WALLET"))
        })
        .transpose()?;
    let methods = engine.payment_methods(token.tenant, contact).await?;
    let views: Vec<PaymentMethodView> = methods
        .methods
        .iter()
        .filter(|method| kind.is_none_or(|kind| method.kind == kind))
        .map(view)
        .collect();
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethodCreated {
    pub id: String,
}

/// Adds a payment method its gateway holds for the signed-in contact (the first one added,
/// or one marked `is_primary`, is primary).
#[utoipa::path(
    tag = "Self-service payment methods",
    params(("id" = String, Path)),
    request_body = CreatePaymentMethodBody,
    responses(
        (status = 200, body = PaymentMethodCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/payment_methods")]
pub async fn create_payment_method(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<CreatePaymentMethodBody>,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let new = NewPaymentMethod::try_from(body.into_inner())?;
    let method = engine.add_payment_method(token.tenant, contact, new).await?;
    Ok(HttpResponse::Ok().json(PaymentMethodCreated {
        id: method.id.to_string(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePaymentMethodBody {
    pub name: Option<String>,
    pub notes: Option<String>,
    pub is_primary: Option<bool>,
    /// A card's new expiry (as its gateway renewed it).
    pub card: Option<CardExpiryBody>,
    pub account_debit: Option<AccountNameBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CardExpiryBody {
    pub exp_month: Option<u8>,
    pub exp_year: Option<u16>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AccountNameBody {
    pub account_name: Option<String>,
}

fn method_id(text: &str) -> Result<PaymentMethodId, ApiError> {
    PaymentMethodId::parse(text).map_err(|_| ApiError::not_found("payment method"))
}

/// Renames, notes or makes primary one of the signed-in contact's payment methods.
#[utoipa::path(
    tag = "Self-service payment methods",
    params(("id" = String, Path), ("payment_method_id" = String, Path)),
    request_body = UpdatePaymentMethodBody,
    responses(
        (status = 200, body = PaymentMethodCreated), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[put("/contacts/{id}/payment_methods/{payment_method_id}")]
pub async fn update_payment_method(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    body: crate::api::wire::Json<UpdatePaymentMethodBody>,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path.0)?;
    let id = method_id(&path.1)?;
    let body = body.into_inner();
    let card_expiry = match body.card {
        None => None,
        Some(CardExpiryBody {
            exp_month: Some(month),
            exp_year: Some(year),
        }) => Some((month, year)),
        Some(_) => return Err(ApiError::missing("card.exp_month")),
    };
    let change = PaymentMethodChange {
        name: body.name,
        notes: body.notes,
        is_primary: body.is_primary,
        card_expiry,
        account_name: body.account_debit.and_then(|account| account.account_name),
    };
    let method = engine.update_payment_method(token.tenant, contact, id, change).await?;
    Ok(HttpResponse::Ok().json(PaymentMethodCreated {
        id: method.id.to_string(),
    }))
}

/// Removes one of the signed-in contact's payment methods.
#[utoipa::path(
    tag = "Self-service payment methods",
    params(("id" = String, Path), ("payment_method_id" = String, Path)),
    responses(
        (status = 200, body = PaymentMethodCreated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[delete("/contacts/{id}/payment_methods/{payment_method_id}")]
pub async fn delete_payment_method(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path.0)?;
    let id = method_id(&path.1)?;
    engine.remove_payment_method(token.tenant, contact, id).await?;
    Ok(HttpResponse::Ok().json(PaymentMethodCreated { id: id.to_string() }))
}
