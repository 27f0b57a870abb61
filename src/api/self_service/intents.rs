//! Payment intents: `POST /self-service/v2/contacts/{id}/intents` sets up a payment with
//! one of the signed-in contact's payment methods at its gateway — charged at once
//! (`capture: AUTOMATIC`, COMPLETED) or authorised and held (`ON_HOLD`,
//! REQUIRES_CAPTURING) — and answers its `client_secret`. The app then sends the secret
//! with a top-up (`POST /self-service/v2/topups`), which is paid from the intent once (a
//! held intent is captured then). The intent is recorded before its gateway is asked, with
//! its id as the key; a lost answer leaves it PENDING for the reconciler; a hold never used
//! is released after seven days (CANCELLED).

use super::ContactToken;
use crate::api::auth::idempotency_key;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::Money;
use crate::payments::Gateways;
use actix_web::{post, web, HttpRequest, HttpResponse};
use rewards_engine::domain::ids::{IntegrationId, PaymentMethodId};
use rewards_engine::domain::intent::{Capture, IntentState};
use rewards_engine::domain::money::Currency;
use rewards_engine::engine::IntentRequest;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIntentBody {
    /// One of the business's active payment gateway integrations (it must hold the
    /// payment method); the method's own gateway if left out.
    pub integration_id: Option<String>,
    /// Accepted as the contract's example has it: the integration decides.
    pub payment_gateway: Option<String>,
    /// One of the contact's payment methods (required: one-time card payments are not
    /// supported).
    pub payment_method_id: Option<String>,
    /// CARD or ACCOUNT, when given: the method's own type.
    pub payment_method_type: Option<String>,
    /// AUTOMATIC (the default: charged now) or ON_HOLD (authorised, captured when used).
    pub capture: Option<String>,
    /// More than zero, in the wallet's currency.
    pub amount: Option<Money>,
    /// The wallet's currency.
    pub currency_code: Option<String>,
    pub statement_info: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntentView {
    /// Our addition: the intent's id.
    pub id: String,
    /// What the app sends with a top-up to pay it from this intent.
    pub client_secret: String,
    /// PENDING, REQUIRES_CAPTURING, COMPLETED, REJECTED or CANCELLED.
    pub state: &'static str,
    /// Why the gateway refused it (REJECTED).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl CreateIntentBody {
    fn request(self) -> Result<IntentRequest, ApiError> {
        let method = self.payment_method_id.ok_or_else(|| {
            ApiError::invalid(
                "payment_method_id",
                "is required: one-time card payments are not supported",
            )
        })?;
        if let Some(kind) = self.payment_method_type.as_deref() {
            if !matches!(kind, "CARD" | "ACCOUNT") {
                return Err(ApiError::invalid(
                    "payment_method_type",
                    "must be CARD or ACCOUNT: one of the contact's payment methods pays",
                ));
            }
        }
        Ok(IntentRequest {
            amount: self.amount.ok_or_else(|| ApiError::missing("amount"))?.0,
            currency: Some(
                Currency::parse(&self.currency_code.ok_or_else(|| ApiError::missing("currency_code"))?)
                    .map_err(|_| ApiError::invalid("currency_code", "is not a currency code"))?,
            ),
            payment_method: PaymentMethodId::parse(&method)
                .map_err(|_| ApiError::invalid("payment_method_id", "is not one of the contact's payment methods"))?,
            capture: match self.capture.as_deref() {
                None => Capture::Automatic,
                Some(code) => {
                    Capture::parse(code).ok_or_else(|| ApiError::invalid("capture", "must be AUTOMATIC or ON_HOLD"))?
                }
            },
            integration: self
                .integration_id
                .map(|id| {
                    IntegrationId::parse(&id).map_err(|_| {
                        ApiError::invalid("integration_id", "is not one of the business's active payment gateways")
                    })
                })
                .transpose()?,
            statement_info: self.statement_info,
        })
    }
}

/// Sets up a payment intent with one of the signed-in contact's payment methods. An
/// `Idempotency-Key` makes a retry answer the same intent (its secret included).
#[utoipa::path(
    tag = "Contact Financials",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry answer the same intent")),
    request_body = CreateIntentBody,
    responses(
        (status = 200, body = IntentView, description = "Set up: COMPLETED, REQUIRES_CAPTURING, REJECTED, or PENDING when the gateway's answer is not known yet"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/intents")]
pub async fn create_intent(
    token: ContactToken,
    request: HttpRequest,
    engine: web::Data<Engine>,
    gateways: web::Data<Gateways>,
    path: web::Path<String>,
    body: crate::api::wire::Json<CreateIntentBody>,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let key = idempotency_key(&request)?;
    let asked = body.into_inner().request()?;
    let begun = engine
        .begin_intent(token.tenant, contact, key.as_deref(), asked)
        .await?;
    let record = gateways.open_intent(&engine, begun).await?;
    let refused = record.state == IntentState::Rejected;
    Ok(HttpResponse::Ok().json(IntentView {
        id: record.id.to_string(),
        client_secret: record.client_secret.clone(),
        state: record.state.code(),
        error_code: refused.then(|| "PAYMENT_DECLINED".to_string()),
        error_description: record.error.clone(),
    }))
}
