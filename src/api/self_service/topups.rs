//! Top-ups: `POST /self-service/v2/topups` pays money into the signed-in contact's wallet
//! with one of its payment methods, through the method's payment gateway. The top-up is
//! recorded before the gateway is asked (see `crate::payments`): a success is credited once,
//! a decline or failure credits nothing, and a top-up whose answer is not known in time is
//! settled later by the reconciler. A retry with the same `id` is answered with the top-up
//! as it then stands.

use super::ContactToken;
use crate::api::errors::{codes, ApiError, ErrorBody};
use crate::api::wire::Money;
use crate::payments::Gateways;
use actix_web::http::StatusCode;
use actix_web::{post, web, HttpResponse};
use rewards_engine::domain::ids::{PaymentMethodId, TopUpId, WalletId};
use rewards_engine::domain::intent::IntentState;
use rewards_engine::domain::payment::TopUpState;
use rewards_engine::engine::{IntentTopUp, TopUpRequest};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct TopUpPaymentMethodBody {
    /// One of the contact's payment methods.
    pub id: Option<String>,
    /// CARD, ACCOUNT_DEBIT or WALLET (the method's own type; optional).
    #[serde(rename = "type")]
    pub method_type: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTopUpBody {
    /// The id to give the top-up; a retry with the same id and body gets the same top-up.
    pub id: Option<String>,
    /// The contact's own wallet (the default).
    pub wallet_id: Option<String>,
    /// Not supported: a top-up is dated when it is paid.
    pub topup_date: Option<i64>,
    /// In the wallet's currency, more than zero (with `client_secret`: the intent's, may be
    /// left out).
    pub amount: Option<Money>,
    /// 16 digits; made at random if left out.
    pub code: Option<String>,
    pub payment_method: Option<TopUpPaymentMethodBody>,
    /// A payment intent's client secret (`POST /contacts/{id}/intents`): the top-up is
    /// paid from that intent, once (a held one is captured); its amount and method are the
    /// intent's.
    pub client_secret: Option<String>,
    /// Not supported yet: top-ups go to the open balance.
    pub commerce_pool_id: Option<String>,
    /// Not supported: refused when not empty.
    pub custom_fields: Option<Vec<serde_json::Value>>,
    pub notes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopUpView {
    pub id: String,
    /// Our addition: COMPLETED (credited) or PENDING (the gateway's answer is awaited).
    pub state: &'static str,
}

fn top_up_id(id: Option<String>) -> Result<Option<TopUpId>, ApiError> {
    id.map(|id| TopUpId::parse(&id).map_err(|_| ApiError::invalid("id", "must be a UUID")))
        .transpose()
}

/// The contact's own wallet, if named (another id is not found).
fn wallet_id(id: Option<String>) -> Result<Option<WalletId>, ApiError> {
    id.map(|id| WalletId::parse(&id).map_err(|_| ApiError::not_found("wallet")))
        .transpose()
}

impl CreateTopUpBody {
    fn refuse_unsupported(&self) -> Result<(), ApiError> {
        if self.topup_date.is_some() {
            return Err(ApiError::invalid(
                "topup_date",
                "a top-up is dated when it is paid; leave it out",
            ));
        }
        if self.commerce_pool_id.is_some() {
            return Err(ApiError::invalid(
                "commerce_pool_id",
                "top-ups into a commerce pool are not supported yet; leave it out to top up the open balance",
            ));
        }
        if self.custom_fields.as_ref().is_some_and(|fields| !fields.is_empty()) {
            return Err(ApiError::invalid("custom_fields", "custom fields are not supported"));
        }
        Ok(())
    }

    /// A top-up paid from a payment intent (`client_secret`): its amount and method are
    /// the intent's (either may be left out).
    fn intent_top_up(self) -> Result<IntentTopUp, ApiError> {
        self.refuse_unsupported()?;
        Ok(IntentTopUp {
            id: top_up_id(self.id)?,
            wallet: wallet_id(self.wallet_id)?,
            amount: self.amount.map(|amount| amount.0),
            payment_method: self
                .payment_method
                .and_then(|method| method.id)
                .map(|id| {
                    PaymentMethodId::parse(&id)
                        .map_err(|_| ApiError::invalid("payment_method.id", "must be the payment intent's"))
                })
                .transpose()?,
            code: self.code,
            notes: self.notes,
        })
    }

    fn request(self) -> Result<TopUpRequest, ApiError> {
        self.refuse_unsupported()?;
        let method = self.payment_method.ok_or_else(|| ApiError::missing("payment_method"))?;
        let method_id = method.id.ok_or_else(|| ApiError::missing("payment_method.id"))?;
        Ok(TopUpRequest {
            id: top_up_id(self.id)?,
            wallet: wallet_id(self.wallet_id)?,
            amount: self.amount.ok_or_else(|| ApiError::missing("amount"))?.0,
            payment_method: PaymentMethodId::parse(&method_id)
                .map_err(|_| ApiError::invalid("payment_method.id", "is not one of the contact's payment methods"))?,
            code: self.code,
            notes: self.notes,
        })
    }
}

/// Tops up the signed-in contact's wallet with one of its payment methods.
#[utoipa::path(
    tag = "Contact Financials",
    request_body = CreateTopUpBody,
    responses(
        (status = 201, body = TopUpView, description = "Charged and credited"),
        (status = 400, body = ErrorBody, description = "Invalid, declined, failed, or past a wallet limit"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 504, body = ErrorBody, description = "The gateway did not answer in time: pending, settled later")
    ),
    security(("authorization_self_service" = []))
)]
#[post("/topups")]
pub async fn create_top_up(
    token: ContactToken,
    engine: web::Data<Engine>,
    gateways: web::Data<Gateways>,
    body: crate::api::wire::Json<CreateTopUpBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if let Some(secret) = body.client_secret.clone() {
        return top_up_from_intent(&token, &engine, &gateways, body, &secret).await;
    }
    let request = body.request()?;
    let begun = engine.begin_top_up(token.tenant, token.contact, request).await?;
    let record = gateways.charge_and_settle(&engine, begun).await?;
    settled_reply(
        record.id.to_string(),
        &record.state,
        "top-up",
        "nothing was credited",
        "will be credited only if it was paid",
    )
}

/// A top-up paid from the contact's payment intent that `secret` names, once: a held
/// intent is captured first; one not paid (yet) pays nothing.
async fn top_up_from_intent(
    token: &ContactToken,
    engine: &Engine,
    gateways: &Gateways,
    body: CreateTopUpBody,
    secret: &str,
) -> Result<HttpResponse, ApiError> {
    let asked = body.intent_top_up()?;
    let intent = engine.intent_for_secret(token.tenant, token.contact, secret).await?;
    let intent = gateways.capture_intent(engine, intent).await?;
    intent_paid(&intent, "client_secret", "nothing was credited")?;
    let record = engine
        .top_up_from_intent(token.tenant, token.contact, &intent, asked)
        .await?;
    settled_reply(
        record.id.to_string(),
        &record.state,
        "top-up",
        "nothing was credited",
        "will be credited only if it was paid",
    )
}

/// Whether an intent (captured first if it was held) has paid: not yet answered (504) or
/// refused (400, naming `parameter`; `nothing` says what became of the request).
pub(crate) fn intent_paid(
    intent: &rewards_engine::domain::intent::IntentRecord,
    parameter: &str,
    nothing: &str,
) -> Result<(), ApiError> {
    match intent.state {
        IntentState::Completed => Ok(()),
        IntentState::Pending | IntentState::RequiresCapturing => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            codes::UPSTREAM,
            format!(
                "the payment gateway has not answered for payment intent {} yet: {nothing}; try again",
                intent.id
            ),
        )),
        state => Err(ApiError {
            parameters: Some(vec![parameter.into()]),
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::PAYMENT_FAILED,
                format!("payment intent {} is {}: {nothing}", intent.id, state.code()),
            )
        }),
    }
}

/// The answer to a top-up or payout as its gateway settled it: paid (201), failed (400,
/// `what_failed` says what became of the money) or not known yet (504, `pending` says).
fn settled_reply(
    id: String,
    state: &TopUpState,
    noun: &str,
    what_failed: &str,
    pending: &str,
) -> Result<HttpResponse, ApiError> {
    if let Some(error) = unsettled(&id, state, noun, what_failed, pending) {
        return Err(error);
    }
    Ok(HttpResponse::Created().json(TopUpView {
        id,
        state: state.code(),
    }))
}

/// Why a charge that did not succeed is answered as it is: failed (400, `what_failed`
/// says what became of the money) or not known yet (504, `pending` says); `None` when it
/// succeeded.
pub(crate) fn unsettled(
    id: &str,
    state: &TopUpState,
    noun: &str,
    what_failed: &str,
    pending: &str,
) -> Option<ApiError> {
    Some(match state {
        TopUpState::Succeeded { .. } => return None,
        TopUpState::Failed { reason } => ApiError {
            parameters: Some(vec!["payment_method".into()]),
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::PAYMENT_FAILED,
                format!("{noun} {id} was not paid: {reason}; {what_failed}"),
            )
        },
        TopUpState::Pending => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            codes::UPSTREAM,
            format!("the payment gateway did not answer in time: {noun} {id} is pending and {pending}"),
        ),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePayoutBody {
    /// The id to give the payout; a retry with the same id and body gets the same payout.
    pub id: Option<String>,
    /// The contact's own wallet (the default).
    pub wallet_id: Option<String>,
    /// In the wallet's currency, more than zero (open money and commerce money without
    /// spend conditions; never a pool's).
    pub amount: Option<Money>,
    pub payment_method: Option<TopUpPaymentMethodBody>,
    pub notes: Option<String>,
}

/// Pays money out of the signed-in contact's wallet to one of its payment methods. The
/// payout is debited when it is recorded, before the gateway is asked; paid keeps the
/// debit, failed gives it back (once), and a payout whose answer is not known in time is
/// settled later by the reconciler.
#[utoipa::path(
    tag = "Contact Financials",
    request_body = CreatePayoutBody,
    responses(
        (status = 201, body = TopUpView, description = "Paid out"),
        (status = 400, body = ErrorBody, description = "Invalid, not covered, past a limit, or failed (given back)"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 504, body = ErrorBody, description = "The gateway did not answer in time: pending, settled later")
    ),
    security(("authorization_self_service" = []))
)]
#[post("/payouts")]
pub async fn create_payout(
    token: ContactToken,
    engine: web::Data<Engine>,
    gateways: web::Data<Gateways>,
    body: crate::api::wire::Json<CreatePayoutBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let method = body.payment_method.ok_or_else(|| ApiError::missing("payment_method"))?;
    let method_id = method.id.ok_or_else(|| ApiError::missing("payment_method.id"))?;
    let request = rewards_engine::engine::PayoutRequest {
        id: body
            .id
            .map(|id| {
                rewards_engine::domain::ids::PayoutId::parse(&id).map_err(|_| ApiError::invalid("id", "must be a UUID"))
            })
            .transpose()?,
        wallet: wallet_id(body.wallet_id)?,
        amount: body.amount.ok_or_else(|| ApiError::missing("amount"))?.0,
        payment_method: PaymentMethodId::parse(&method_id)
            .map_err(|_| ApiError::invalid("payment_method.id", "is not one of the contact's payment methods"))?,
        notes: body.notes,
    };
    let begun = engine.begin_payout(token.tenant, token.contact, request).await?;
    let record = gateways.pay_out_and_settle(&engine, begun).await?;
    settled_reply(
        record.id.to_string(),
        &record.state,
        "payout",
        "the amount is back in the wallet",
        "is given back only if it was not paid",
    )
}
