//! Payment gateways: plugins behind one interface, and the top-up flow that uses them.
//!
//! A top-up is recorded pending by the engine *before* its gateway is asked to charge; the
//! gateway's answer then settles it once (`Engine::settle_top_up`): a success credits the
//! wallet in the same commit, a decline or failure credits nothing. Every charge carries the
//! top-up's id as its idempotency key, so asking again is safe: when an answer is lost (a
//! timeout, a crash between the charge and its settlement) the reconciler asks again with
//! the same key, and settles with what it learns — a late success exactly once, a charge
//! the gateway never saw failed once it is `give_up_after_s` old.
//!
//! The scheduler begins the auto and termed top-ups contacts opted in to when they are due
//! (`Engine::begin_scheduled_top_up`) and charges them the same way.

mod intents;
pub mod stripe;
pub mod test_gateway;

use rewards_engine::domain::payment::{ChargeOutcome, PayoutRecord, TopUpRecord, TopUpState};
use rewards_engine::engine::PaymentSettings;
use rewards_engine::{Engine, EngineError};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A charge to make (or to ask about again: the same key is the same charge).
#[derive(Debug, Clone)]
pub struct Charge {
    /// The idempotency key: the top-up's id.
    pub key: String,
    /// The gateway's token for the payment method.
    pub token: String,
    /// In the currency's minor units (cents).
    pub amount_minor: u64,
    pub currency: String,
    /// Whether this asks about an earlier charge (the reconciler) rather than a new one.
    pub retry: bool,
}

/// What a gateway said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayAnswer {
    /// The charge was made, or refused: final.
    Settled(ChargeOutcome),
    /// No answer (a timeout, a broken connection, a 5xx): the charge may or may not have
    /// been made; ask again with the same key.
    Unknown(String),
}

pub type GatewayFuture<'a> = Pin<Box<dyn Future<Output = GatewayAnswer> + Send + 'a>>;

/// One payment gateway.
pub trait PaymentGateway: Send + Sync {
    /// Makes (or, with the same key, finds) a charge.
    fn charge<'a>(&'a self, charge: &'a Charge) -> GatewayFuture<'a>;
    /// Makes (or, with the same key, finds) a payout of `charge.amount_minor` to the
    /// method `charge.token` names.
    fn payout<'a>(&'a self, payout: &'a Charge) -> GatewayFuture<'a>;
    /// Authorises and holds a charge without taking it (or, with the same key, finds the
    /// hold); a success carries the hold's reference.
    fn authorise<'a>(&'a self, charge: &'a Charge) -> GatewayFuture<'a>;
    /// Takes the hold `reference` (made with `charge.key`); asking again is safe.
    fn capture<'a>(&'a self, charge: &'a Charge, reference: &'a str) -> GatewayFuture<'a>;
    /// Releases the hold `reference` unused; asking again is safe.
    fn release<'a>(&'a self, charge: &'a Charge, reference: &'a str) -> GatewayFuture<'a>;
}

/// The gateways by name, as `[payments] gateways` lists them.
#[derive(Clone)]
pub struct Gateways {
    gateways: Arc<HashMap<String, Arc<dyn PaymentGateway>>>,
    settings: PaymentSettings,
}

impl Gateways {
    pub fn new(settings: &PaymentSettings) -> anyhow::Result<Gateways> {
        let mut gateways: HashMap<String, Arc<dyn PaymentGateway>> = HashMap::new();
        for name in &settings.gateways {
            let gateway: Arc<dyn PaymentGateway> = match name.as_str() {
                "test" => Arc::new(test_gateway::TestGateway),
                "stripe" => Arc::new(stripe::StripeGateway::new(settings)?),
                other => anyhow::bail!("payments.gateways: unknown gateway '{other}' (known: test, stripe)"),
            };
            gateways.insert(name.clone(), gateway);
        }
        Ok(Gateways {
            gateways: Arc::new(gateways),
            settings: settings.clone(),
        })
    }

    /// The charge (or payout) a record asks its gateway for: its id is the key.
    fn charge_of(
        key: impl std::fmt::Display,
        token: &str,
        amount: rust_decimal::Decimal,
        currency: rewards_engine::domain::money::Currency,
        retry: bool,
    ) -> Charge {
        Charge {
            key: key.to_string(),
            token: token.to_string(),
            amount_minor: currency.minor_units_of(amount),
            currency: currency.code().to_ascii_lowercase(),
            retry,
        }
    }

    /// Asks the top-up's gateway, within the charge timeout (past it: unknown).
    async fn ask(&self, record: &TopUpRecord, retry: bool) -> GatewayAnswer {
        let charge = Self::charge_of(record.id, &record.token, record.amount, record.currency, retry);
        self.within_timeout(&record.gateway, &charge, false).await
    }

    async fn within_timeout(&self, gateway: &str, charge: &Charge, payout: bool) -> GatewayAnswer {
        let Some(gateway) = self.gateways.get(gateway) else {
            return GatewayAnswer::Unknown(format!("gateway '{gateway}' is not configured"));
        };
        let timeout = Duration::from_millis(self.settings.charge_timeout_ms.max(1));
        let asked = if payout {
            gateway.payout(charge)
        } else {
            gateway.charge(charge)
        };
        match actix_web::rt::time::timeout(timeout, asked).await {
            Ok(answer) => answer,
            Err(_) => GatewayAnswer::Unknown("the gateway did not answer in time".into()),
        }
    }

    fn payout_of(record: &PayoutRecord, retry: bool) -> Charge {
        Self::charge_of(record.id, &record.token, record.amount, record.currency, retry)
    }

    /// Pays out a payout just recorded (and debited) and settles it with the answer; an
    /// unknown answer leaves it pending for the reconciler.
    pub async fn pay_out_and_settle(
        &self,
        engine: &Engine,
        record: Arc<PayoutRecord>,
    ) -> Result<Arc<PayoutRecord>, EngineError> {
        if record.state != TopUpState::Pending {
            return Ok(record);
        }
        match self
            .within_timeout(&record.gateway, &Self::payout_of(&record, false), true)
            .await
        {
            GatewayAnswer::Settled(outcome) => {
                engine
                    .settle_payout(record.tenant, record.wallet, record.id, outcome)
                    .await
            }
            GatewayAnswer::Unknown(why) => {
                tracing::warn!(payout = %record.id, %why, "payout left pending: its gateway's answer is not known");
                Ok(record)
            }
        }
    }

    /// Charges a top-up just recorded and settles it with the answer; an unknown answer
    /// leaves it pending for the reconciler. Answers the top-up as it then stands.
    pub async fn charge_and_settle(
        &self,
        engine: &Engine,
        record: Arc<TopUpRecord>,
    ) -> Result<Arc<TopUpRecord>, EngineError> {
        if record.state != TopUpState::Pending {
            return Ok(record);
        }
        match self.ask(&record, false).await {
            GatewayAnswer::Settled(outcome) => {
                engine
                    .settle_top_up(record.tenant, record.wallet, record.id, outcome)
                    .await
            }
            GatewayAnswer::Unknown(why) => {
                tracing::warn!(top_up = %record.id, %why, "top-up left pending: its gateway's answer is not known");
                Ok(record)
            }
        }
    }

    /// One round of the reconciler: each pending top-up at least a charge-timeout old is
    /// asked about again; answered, it is settled; unknown and past `give_up_after_s`, it
    /// fails (its gateway never made the charge: every ask carried the same key).
    pub async fn reconcile(&self, engine: &Engine) -> Result<usize, EngineError> {
        let now = engine.now();
        let settle_after_s = i64::try_from(self.settings.charge_timeout_ms / 1000 + 1).unwrap_or(i64::MAX);
        let mut settled = 0;
        // What an answer settles a pending record with: `None` leaves it pending.
        let decide = |answer: GatewayAnswer, created_on: i64| match answer {
            GatewayAnswer::Settled(outcome) => Some(outcome),
            GatewayAnswer::Unknown(why) if now.saturating_sub(created_on) >= self.settings.give_up_after_s => {
                Some(ChargeOutcome::Failed {
                    reason: format!("no answer from the gateway: {why}"),
                })
            }
            GatewayAnswer::Unknown(_) => None,
        };
        let due = |state: &TopUpState, created_on: i64| {
            *state == TopUpState::Pending && now.saturating_sub(created_on) >= settle_after_s
        };
        for (_, record) in engine.pending_top_ups(256)? {
            if !due(&record.state, record.created_on) {
                continue;
            }
            if let Some(outcome) = decide(self.ask(&record, true).await, record.created_on) {
                engine
                    .settle_top_up(record.tenant, record.wallet, record.id, outcome)
                    .await?;
                settled += 1;
            }
        }
        for record in engine.pending_payouts(256)? {
            if !due(&record.state, record.created_on) {
                continue;
            }
            let answer = self
                .within_timeout(&record.gateway, &Self::payout_of(&record, true), true)
                .await;
            if let Some(outcome) = decide(answer, record.created_on) {
                engine
                    .settle_payout(record.tenant, record.wallet, record.id, outcome)
                    .await?;
                settled += 1;
            }
        }
        settled += self.reconcile_intents(engine).await?;
        Ok(settled)
    }

    /// One round of the scheduler: each auto or termed top-up due is begun (recorded
    /// pending, its settings moved on, in one commit) and charged at once; one whose answer
    /// is lost is the reconciler's like any other. Answers how many were charged.
    pub async fn schedule(&self, engine: &Engine) -> Result<usize, EngineError> {
        let mut charged = 0;
        for entry in engine.scheduled_top_ups_due(256)? {
            let Some(record) = engine.begin_scheduled_top_up(entry).await? else {
                continue;
            };
            let record = match engine.check_business_gateway(&record.tenant, &record.gateway) {
                // The business stopped taking payments through the method's gateway since
                // the contact opted in: nothing is charged.
                Err(refused) => {
                    let failed = ChargeOutcome::Failed {
                        reason: refused.to_string(),
                    };
                    engine
                        .settle_top_up(record.tenant, record.wallet, record.id, failed)
                        .await?
                }
                Ok(()) => self.charge_and_settle(engine, record).await?,
            };
            tracing::info!(top_up = %record.id, wallet = %record.wallet, state = record.state.code(), notes = ?record.notes, "scheduled top-up charged");
            charged += 1;
        }
        Ok(charged)
    }

    /// Looks for scheduled top-ups due every `schedule_interval_ms`.
    pub async fn run_scheduler(self, engine: Engine) {
        self.run_rounds(engine, Round::Schedule).await
    }

    /// Reconciles at start (what a crash left pending) and then every
    /// `reconcile_interval_ms`.
    pub async fn run_reconciler(self, engine: Engine) {
        self.run_rounds(engine, Round::Reconcile).await
    }

    /// Runs `round` now and then at its interval, until the engine closes; a failed round
    /// is tried again the next time.
    async fn run_rounds(self, engine: Engine, round: Round) {
        let interval_ms = match round {
            Round::Schedule => self.settings.schedule_interval_ms,
            Round::Reconcile => self.settings.reconcile_interval_ms,
        };
        let interval = Duration::from_millis(interval_ms.max(10));
        while !engine.is_closing() {
            let done = match round {
                Round::Schedule => self.schedule(&engine).await,
                Round::Reconcile => self.reconcile(&engine).await,
            };
            if let Err(error) = done {
                tracing::warn!(%error, ?round, "a payments round failed; retrying next round");
            }
            actix_web::rt::time::sleep(interval).await;
        }
    }
}

/// The payments' background rounds.
#[derive(Debug, Clone, Copy)]
enum Round {
    /// Begin and charge the auto and termed top-ups due.
    Schedule,
    /// Settle the top-ups and payouts left pending.
    Reconcile,
}

/// Bills the subscriptions due now and then every `interval_ms`, until the engine closes:
/// batches of 1,000 until a batch finds fewer due. A failed run is tried again next time.
pub async fn run_billing(engine: Engine, interval_ms: u64) {
    const BATCH: usize = 1_000;
    let interval = Duration::from_millis(interval_ms.max(10));
    while !engine.is_closing() {
        loop {
            match engine.billing_run(BATCH).await {
                Ok(round) => {
                    if round.looked > 0 {
                        tracing::info!(?round, "billing run");
                    }
                    if round.looked < BATCH || round.paid + round.refused == 0 {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "a billing run failed; retrying next time");
                    break;
                }
            }
        }
        actix_web::rt::time::sleep(interval).await;
    }
}
