//! Delivers the engine's outbox: codes and links by email and SMS, through the provider
//! each channel is set to (`[communications]`): `log`, `webhook` or `smtp`.
//!
//! The dispatcher takes pending messages, delivers up to `batch_max` at once, and reports
//! each back to the engine: delivered or given up (the message leaves the outbox), or failed
//! for now (the attempt is counted on disk, and the message is tried again after a doubling
//! backoff). It wakes when the engine commits messages, and when a retry falls due.
//!
//! A message is delivered at least once and normally exactly once: the only repeat is an
//! attempt that succeeded at the receiver but whose outcome was not recorded (a crash, a
//! lost response). Every delivery carries the message's id — the webhook's
//! `Idempotency-Key` header, the email's `Message-ID` — so a receiver drops such a repeat.

use crate::settings::{CommunicationsSettings, ProviderKind, SmtpTls};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rewards_engine::domain::comms::{Channel, OutboundMessage};
use rewards_engine::Engine;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    /// Worth trying again (a timeout, a 5xx, a transient SMTP reply).
    Retry(String),
    /// Will never work (a 4xx, a permanent SMTP reply, a malformed address).
    GiveUp(String),
}

/// Messages scanned per round: retries not yet due are skipped, so scan past them.
const SCAN_MAX: usize = 1024;

enum Provider {
    Log,
    Webhook {
        client: reqwest::Client,
        url: String,
        authorization: Option<String>,
    },
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

impl Provider {
    fn new(kind: ProviderKind, settings: &CommunicationsSettings) -> anyhow::Result<Provider> {
        let timeout = Duration::from_millis(settings.timeout_ms);
        Ok(match kind {
            ProviderKind::Log => Provider::Log,
            ProviderKind::Webhook => Provider::Webhook {
                client: reqwest::Client::builder().timeout(timeout).build()?,
                url: settings.webhook_url.clone(),
                authorization: Some(settings.webhook_authorization.clone()).filter(|value| !value.is_empty()),
            },
            ProviderKind::Smtp => {
                let host = settings.smtp_host.trim();
                let mut builder = match settings.smtp_tls {
                    SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                }
                .port(settings.smtp_port)
                .timeout(Some(timeout));
                if !settings.smtp_username.is_empty() {
                    builder = builder.credentials(Credentials::new(
                        settings.smtp_username.clone(),
                        settings.smtp_password.clone(),
                    ));
                }
                Provider::Smtp {
                    transport: builder.build(),
                    from: settings.smtp_from.parse()?,
                }
            }
        })
    }

    async fn deliver(&self, message: &OutboundMessage) -> Attempt {
        match self {
            Provider::Log => {
                tracing::info!(
                    target: "rewards::communications",
                    id = %message.id,
                    channel = message.channel.code(),
                    to = %message.to,
                    subject = %message.subject,
                    body = %message.body,
                    "message"
                );
                Attempt::Delivered
            }
            Provider::Webhook {
                client,
                url,
                authorization,
            } => deliver_webhook(client, url, authorization.as_deref(), message).await,
            Provider::Smtp { transport, from } => deliver_smtp(transport, from, message).await,
        }
    }
}

async fn deliver_webhook(
    client: &reqwest::Client,
    url: &str,
    authorization: Option<&str>,
    message: &OutboundMessage,
) -> Attempt {
    let payload = serde_json::json!({
        "id": message.id,
        "kind": message.kind.code(),
        "channel": message.channel.code(),
        "to": message.to,
        "country_code": message.country_code,
        "subject": message.subject,
        "body": message.body,
        "organisation_id": message.tenant.organisation.to_string(),
        "mode": message.tenant.mode.code(),
        "contact_id": message.contact.to_string(),
        "created_on": message.created_on,
        "attempt": message.attempts + 1,
    });
    let mut request = client
        .post(url)
        .header("Idempotency-Key", message.id.to_string())
        .json(&payload);
    if let Some(authorization) = authorization {
        request = request.header("Authorization", authorization);
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => Attempt::Delivered,
        Ok(response) => {
            let status = response.status();
            let reason = format!("webhook answered {status}");
            if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
                Attempt::Retry(reason)
            } else {
                Attempt::GiveUp(reason)
            }
        }
        Err(error) => Attempt::Retry(format!("webhook: {error}")),
    }
}

async fn deliver_smtp(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    message: &OutboundMessage,
) -> Attempt {
    let to: Mailbox = match message.to.parse() {
        Ok(to) => to,
        Err(error) => return Attempt::GiveUp(format!("recipient {}: {error}", message.to)),
    };
    let email = Message::builder()
        .message_id(Some(format!("<{}@rewards.local>", message.id)))
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(message.body.clone());
    let email = match email {
        Ok(email) => email,
        Err(error) => return Attempt::GiveUp(format!("email: {error}")),
    };
    match transport.send(email).await {
        Ok(_) => Attempt::Delivered,
        Err(error) if error.is_permanent() => Attempt::GiveUp(format!("smtp: {error}")),
        Err(error) => Attempt::Retry(format!("smtp: {error}")),
    }
}

/// Takes the outbox's messages to their providers.
pub struct Dispatcher {
    engine: Engine,
    email: Provider,
    sms: Provider,
    attempts_max: u32,
    retry_base: Duration,
    retry_max: Duration,
    batch_max: usize,
}

impl Dispatcher {
    pub fn new(engine: Engine, settings: &CommunicationsSettings) -> anyhow::Result<Dispatcher> {
        if settings.email_provider == ProviderKind::Log || settings.sms_provider == ProviderKind::Log {
            tracing::warn!(
                email = ?settings.email_provider,
                sms = ?settings.sms_provider,
                "one-time passwords and links of a channel set to `log` are written to the server log, not sent; set communications.*_provider to webhook or smtp to deliver them"
            );
        }
        Ok(Dispatcher {
            engine,
            email: Provider::new(settings.email_provider, settings)?,
            sms: Provider::new(settings.sms_provider, settings)?,
            attempts_max: settings.attempts_max.max(1),
            retry_base: Duration::from_millis(settings.retry_base_ms),
            retry_max: Duration::from_millis(settings.retry_max_ms),
            batch_max: settings.batch_max.max(1),
        })
    }

    /// The wait after the `attempts`-th failed attempt: base × 2^(attempts−1), at most max.
    fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u32 << attempts.saturating_sub(1).min(20);
        (self.retry_base * factor).min(self.retry_max)
    }

    /// Runs until the actix system stops. A message whose attempt was cut short by the stop
    /// is still pending, and is tried again on the next start.
    pub async fn run(self) {
        // seq → when its next attempt is due (only messages that failed since this start).
        let mut due: HashMap<u64, Instant> = HashMap::new();
        loop {
            let busy = match self.round(&mut due).await {
                Ok(delivered_any) => delivered_any,
                Err(error) => {
                    tracing::warn!(%error, "outbox: reading or recording failed; retrying shortly");
                    tokio::time::sleep(self.retry_base).await;
                    continue;
                }
            };
            if busy {
                continue;
            }
            let wait = due
                .values()
                .min()
                .map(|at| at.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(60));
            tokio::select! {
                _ = self.engine.outbox_changed() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One batch of due messages; true if there was one (more may be waiting).
    async fn round(&self, due: &mut HashMap<u64, Instant>) -> Result<bool, rewards_engine::EngineError> {
        let now = Instant::now();
        let pending = self.engine.outbox_pending(SCAN_MAX)?;
        let batch: Vec<OutboundMessage> = pending
            .into_iter()
            .filter(|message| due.get(&message.seq).is_none_or(|at| *at <= now))
            .take(self.batch_max)
            .collect();
        if batch.is_empty() {
            return Ok(false);
        }
        let attempts = futures_util::future::join_all(batch.iter().map(|message| match message.channel {
            Channel::Email => self.email.deliver(message),
            Channel::Sms => self.sms.deliver(message),
        }))
        .await;
        for (mut message, attempt) in batch.into_iter().zip(attempts) {
            message.attempts += 1;
            match attempt {
                Attempt::Delivered => {
                    due.remove(&message.seq);
                    self.engine.outbox_finished(&message, None).await?;
                }
                Attempt::GiveUp(reason) => {
                    tracing::warn!(id = %message.id, channel = message.channel.code(), %reason, "message given up");
                    due.remove(&message.seq);
                    self.engine.outbox_finished(&message, Some(&reason)).await?;
                }
                Attempt::Retry(reason) if message.attempts >= self.attempts_max => {
                    tracing::warn!(id = %message.id, channel = message.channel.code(), attempts = message.attempts, %reason, "message given up after its last attempt");
                    due.remove(&message.seq);
                    self.engine.outbox_finished(&message, Some(&reason)).await?;
                }
                Attempt::Retry(reason) => {
                    let wait = self.backoff(message.attempts);
                    tracing::info!(id = %message.id, attempts = message.attempts, ?wait, %reason, "message attempt failed; will retry");
                    metrics::counter!(
                        crate::metrics::MESSAGE_ATTEMPTS_FAILED_TOTAL,
                        "channel" => message.channel.code()
                    )
                    .increment(1);
                    self.engine.outbox_attempt_failed(&message).await?;
                    due.insert(message.seq, Instant::now() + wait);
                }
            }
        }
        Ok(true)
    }
}
