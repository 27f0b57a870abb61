//! The `stripe` gateway: a Stripe-style payment API at `[payments] stripe_base_url`.
//!
//! A charge is `POST {base}/v1/payment_intents` (form: `amount` in minor units, `currency`,
//! `payment_method` = the token, `confirm=true`, `metadata[top_up]`), with the secret key as
//! a bearer token and the top-up's id as the `Idempotency-Key` — so asking again about a
//! charge whose answer was lost finds the same charge. `status: succeeded` is a success;
//! `requires_payment_method` or `canceled` (with `last_payment_error`), a 402 card error or
//! a 400 is a failure (nothing charged); anything else (`processing`, a 409, a 5xx, a
//! timeout, a broken connection) is not known yet.
//!
//! A hold (a payment intent with capture ON_HOLD) is the same call with
//! `capture_method=manual` (`requires_capture` is held); it is captured with
//! `POST …/v1/payment_intents/{id}/capture` and released with `…/cancel`.

use super::{Charge, GatewayAnswer, GatewayFuture, PaymentGateway};
use rewards_engine::domain::payment::ChargeOutcome;
use rewards_engine::engine::PaymentSettings;
use serde::Deserialize;
use std::time::Duration;

pub struct StripeGateway {
    client: reqwest::Client,
    base_url: String,
    secret_key: String,
}

#[derive(Debug, Deserialize)]
struct IntentBody {
    id: Option<String>,
    status: Option<String>,
    last_payment_error: Option<ErrorBody>,
    error: Option<ErrorBody>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
}

impl ErrorBody {
    fn reason(&self) -> String {
        self.decline_code
            .clone()
            .or_else(|| self.code.clone())
            .or_else(|| self.message.clone())
            .unwrap_or_else(|| "declined".into())
    }
}

impl StripeGateway {
    pub fn new(settings: &PaymentSettings) -> anyhow::Result<StripeGateway> {
        let base_url = settings
            .stripe_base_url
            .clone()
            .ok_or_else(|| anyhow::anyhow!("payments.stripe_base_url: the http gateway needs its base URL"))?;
        let secret_key = settings
            .stripe_secret_key
            .clone()
            .ok_or_else(|| anyhow::anyhow!("payments.stripe_secret_key: the http gateway needs its secret key"))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.charge_timeout_ms.max(1)))
            .build()?;
        Ok(StripeGateway {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            secret_key,
        })
    }

    /// Posts `form` to `path` with the record's id as `Idempotency-Key`, and reads the
    /// answer: a 2xx body to `settled` (its status says what became of it), a 400 or 402 a
    /// failure (nothing moved), anything else not known yet.
    async fn post_form(
        &self,
        path: &str,
        key: &str,
        form: &[(&str, &str)],
        settled: impl FnOnce(IntentBody) -> GatewayAnswer,
    ) -> GatewayAnswer {
        let response = match self
            .client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", key)
            .form(form)
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) => return GatewayAnswer::Unknown(format!("the gateway could not be reached: {error}")),
        };
        let status = response.status();
        let body: Option<IntentBody> = response.json().await.ok();
        match (status.as_u16(), body) {
            (200..=299, Some(body)) => settled(body),
            (400 | 402, Some(body)) => GatewayAnswer::Settled(ChargeOutcome::Failed {
                reason: body
                    .error
                    .map_or_else(|| "declined".to_string(), |error| error.reason()),
            }),
            (code, _) => GatewayAnswer::Unknown(format!("the gateway answered {code}")),
        }
    }

    /// `POST {base}/v1/payment_intents`: a charge (`succeeded` is paid), or, with `hold`,
    /// an authorisation (`capture_method=manual`; `requires_capture` is held, its id the
    /// reference). `requires_payment_method` or `canceled` failed; anything else unknown.
    async fn payment_intent(&self, charge: &Charge, hold: bool) -> GatewayAnswer {
        let amount = charge.amount_minor.to_string();
        let mut form = vec![
            ("amount", amount.as_str()),
            ("currency", charge.currency.as_str()),
            ("payment_method", charge.token.as_str()),
            ("confirm", "true"),
        ];
        let (done, what) = if hold {
            form.extend([("capture_method", "manual"), ("metadata[intent]", charge.key.as_str())]);
            ("requires_capture", "hold")
        } else {
            form.push(("metadata[top_up]", charge.key.as_str()));
            ("succeeded", "charge")
        };
        self.post_form("/v1/payment_intents", &charge.key, &form, |body| {
            match body.status.as_deref() {
                Some(status) if status == done => GatewayAnswer::Settled(ChargeOutcome::Succeeded {
                    charge: body.id.unwrap_or_else(|| charge.key.clone()),
                }),
                Some("requires_payment_method") | Some("canceled") => GatewayAnswer::Settled(ChargeOutcome::Failed {
                    reason: body
                        .last_payment_error
                        .map_or_else(|| "declined".to_string(), |error| error.reason()),
                }),
                other => GatewayAnswer::Unknown(format!("the {what} is {}", other.unwrap_or("of no status"))),
            }
        })
        .await
    }

    /// `POST {base}/v1/payment_intents/{reference}/{action}` (capture or cancel), its own
    /// `Idempotency-Key` (`{action}-{key}`): `done` is the status that says it happened.
    async fn on_hold(&self, charge: &Charge, reference: &str, action: &str, done: &str) -> GatewayAnswer {
        let path = format!("/v1/payment_intents/{reference}/{action}");
        let key = format!("{action}-{}", charge.key);
        self.post_form(&path, &key, &[], |body| match body.status.as_deref() {
            Some(status) if status == done => GatewayAnswer::Settled(ChargeOutcome::Succeeded {
                charge: body.id.unwrap_or_else(|| reference.to_string()),
            }),
            Some("canceled") => GatewayAnswer::Settled(ChargeOutcome::Failed {
                reason: "the hold was cancelled".into(),
            }),
            other => GatewayAnswer::Unknown(format!("the hold is {}", other.unwrap_or("of no status"))),
        })
        .await
    }

    /// `POST {base}/v1/payouts` (form: `amount`, `currency`, `destination` = the token,
    /// `metadata[payout]`) with the payout's id as `Idempotency-Key`: `paid`, `pending` or
    /// `in_transit` is accepted (paid out); `failed` or `canceled`, a 402 or a 400 failed.
    async fn pay_out(&self, payout: &Charge) -> GatewayAnswer {
        let amount = payout.amount_minor.to_string();
        let form = [
            ("amount", amount.as_str()),
            ("currency", payout.currency.as_str()),
            ("destination", payout.token.as_str()),
            ("metadata[payout]", payout.key.as_str()),
        ];
        self.post_form("/v1/payouts", &payout.key, &form, |body| match body.status.as_deref() {
            Some("paid" | "pending" | "in_transit") => GatewayAnswer::Settled(ChargeOutcome::Succeeded {
                charge: body.id.unwrap_or_else(|| payout.key.clone()),
            }),
            Some(state @ ("failed" | "canceled")) => GatewayAnswer::Settled(ChargeOutcome::Failed {
                reason: body
                    .last_payment_error
                    .map_or_else(|| state.to_string(), |error| error.reason()),
            }),
            other => GatewayAnswer::Unknown(format!("the payout is {}", other.unwrap_or("of no status"))),
        })
        .await
    }
}

impl PaymentGateway for StripeGateway {
    fn charge<'a>(&'a self, charge: &'a Charge) -> GatewayFuture<'a> {
        Box::pin(self.payment_intent(charge, false))
    }

    fn authorise<'a>(&'a self, charge: &'a Charge) -> GatewayFuture<'a> {
        Box::pin(self.payment_intent(charge, true))
    }

    fn capture<'a>(&'a self, charge: &'a Charge, reference: &'a str) -> GatewayFuture<'a> {
        Box::pin(self.on_hold(charge, reference, "capture", "succeeded"))
    }

    fn release<'a>(&'a self, charge: &'a Charge, reference: &'a str) -> GatewayFuture<'a> {
        Box::pin(self.on_hold(charge, reference, "cancel", "canceled"))
    }

    fn payout<'a>(&'a self, payout: &'a Charge) -> GatewayFuture<'a> {
        Box::pin(self.pay_out(payout))
    }
}
