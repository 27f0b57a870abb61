//! Payment intents at their gateways: an intent just recorded is charged (capture
//! AUTOMATIC) or held (ON_HOLD) with its id as the key; a held one is captured when a
//! top-up uses it; the reconciler asks again about intents whose answer was lost and
//! releases holds never used (`domain::intent::HOLD_DAYS`).

use super::{Charge, GatewayAnswer, Gateways};
use rewards_engine::actors::wallet::IntentOutcome;
use rewards_engine::domain::intent::{Capture, IntentRecord, IntentState};
use rewards_engine::domain::payment::ChargeOutcome;
use rewards_engine::{Engine, EngineError};
use std::sync::Arc;
use std::time::Duration;

/// What a gateway is asked about an intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    /// Charge or hold it, as its capture says.
    Open,
    Capture,
    Release,
}

impl Gateways {
    /// Asks the intent's gateway, within the charge timeout (past it: unknown).
    async fn ask_intent(&self, record: &IntentRecord, ask: Ask, retry: bool) -> GatewayAnswer {
        let Some(gateway) = self.gateways.get(&record.gateway) else {
            return GatewayAnswer::Unknown(format!("gateway '{}' is not configured", record.gateway));
        };
        let charge: Charge = Self::charge_of(record.id, &record.token, record.amount, record.currency, retry);
        let reference = record.reference.clone().unwrap_or_default();
        let asked = match (ask, record.capture) {
            (Ask::Open, Capture::Automatic) => gateway.charge(&charge),
            (Ask::Open, Capture::OnHold) => gateway.authorise(&charge),
            (Ask::Capture, _) => gateway.capture(&charge, &reference),
            (Ask::Release, _) => gateway.release(&charge, &reference),
        };
        let timeout = Duration::from_millis(self.settings.charge_timeout_ms.max(1));
        match actix_web::rt::time::timeout(timeout, asked).await {
            Ok(answer) => answer,
            Err(_) => GatewayAnswer::Unknown("the gateway did not answer in time".into()),
        }
    }

    /// What a gateway's answer to `ask` settles the intent with (`None`: not known yet).
    fn intent_outcome(record: &IntentRecord, ask: Ask, answer: GatewayAnswer) -> Option<IntentOutcome> {
        match (ask, answer) {
            (_, GatewayAnswer::Unknown(_)) => None,
            (Ask::Open, GatewayAnswer::Settled(ChargeOutcome::Succeeded { charge })) => Some(match record.capture {
                Capture::Automatic => IntentOutcome::Paid { reference: charge },
                Capture::OnHold => IntentOutcome::Held { reference: charge },
            }),
            (Ask::Capture, GatewayAnswer::Settled(ChargeOutcome::Succeeded { charge })) => {
                Some(IntentOutcome::Paid { reference: charge })
            }
            (Ask::Release, GatewayAnswer::Settled(ChargeOutcome::Succeeded { .. })) => Some(IntentOutcome::Released),
            // Refused: the gateway holds nothing to release any more.
            (Ask::Release, GatewayAnswer::Settled(ChargeOutcome::Failed { .. })) => Some(IntentOutcome::Released),
            (_, GatewayAnswer::Settled(ChargeOutcome::Failed { reason })) => Some(IntentOutcome::Refused { reason }),
        }
    }

    async fn settle(
        &self,
        engine: &Engine,
        record: Arc<IntentRecord>,
        ask: Ask,
        retry: bool,
    ) -> Result<Arc<IntentRecord>, EngineError> {
        let answer = self.ask_intent(&record, ask, retry).await;
        match Self::intent_outcome(&record, ask, answer) {
            Some(outcome) => {
                engine
                    .settle_intent(record.tenant, record.wallet, record.id, outcome)
                    .await
            }
            None => {
                tracing::warn!(intent = %record.id, ?ask, "payment intent left as it is: its gateway's answer is not known");
                Ok(record)
            }
        }
    }

    /// Charges or holds an intent just recorded and settles it with the answer; an unknown
    /// answer leaves it pending for the reconciler. Answers it as it then stands.
    pub async fn open_intent(
        &self,
        engine: &Engine,
        record: Arc<IntentRecord>,
    ) -> Result<Arc<IntentRecord>, EngineError> {
        if record.state != IntentState::Pending {
            return Ok(record);
        }
        self.settle(engine, record, Ask::Open, false).await
    }

    /// Captures a held intent a top-up is about to use (marked capturing first, so the
    /// reconciler finishes a capture whose answer is lost); a completed one is as it is.
    pub async fn capture_intent(
        &self,
        engine: &Engine,
        record: Arc<IntentRecord>,
    ) -> Result<Arc<IntentRecord>, EngineError> {
        if record.state != IntentState::RequiresCapturing {
            return Ok(record);
        }
        let capturing = engine
            .begin_intent_capture(record.tenant, record.contact, &record)
            .await?;
        if !capturing.capturing {
            return Ok(capturing);
        }
        self.settle(engine, capturing, Ask::Capture, false).await
    }

    /// One round over the open intents: each pending one at least a charge timeout old is
    /// asked about again (failed once `give_up_after_s` old with no answer); each capture
    /// whose answer was lost is asked again (abandoned, the hold kept, after as long); each
    /// hold past its days is released.
    pub(super) async fn reconcile_intents(&self, engine: &Engine) -> Result<usize, EngineError> {
        let now = engine.now();
        let settle_after_s = i64::try_from(self.settings.charge_timeout_ms / 1000 + 1).unwrap_or(i64::MAX);
        let mut settled = 0;
        for record in engine.open_intents(256)? {
            let record = Arc::new(record);
            let age = now.saturating_sub(record.updated_on);
            let (ask, give_up) = if record.state == IntentState::Pending {
                let outcome = IntentOutcome::Refused {
                    reason: "no answer from the gateway".into(),
                };
                (Ask::Open, outcome)
            } else if record.capturing {
                (Ask::Capture, IntentOutcome::CaptureAbandoned)
            } else if record.hold_expired(now) {
                (Ask::Release, IntentOutcome::Released)
            } else {
                continue;
            };
            if ask != Ask::Release && age < settle_after_s {
                continue;
            }
            let answer = self.ask_intent(&record, ask, true).await;
            let outcome = match Self::intent_outcome(&record, ask, answer) {
                Some(outcome) => outcome,
                None if ask != Ask::Release && age >= self.settings.give_up_after_s => give_up,
                None => continue,
            };
            engine
                .settle_intent(record.tenant, record.wallet, record.id, outcome)
                .await?;
            settled += 1;
        }
        Ok(settled)
    }
}
