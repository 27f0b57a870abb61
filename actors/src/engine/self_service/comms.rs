//! The communications outbox (D5) and the limits on asking for codes.
//!
//! A message is enqueued in the same commit as what it reports (an OTP, a link), so a code
//! is never sent for something that did not happen, and never lost once acknowledged. A
//! dispatcher outside the engine takes pending messages, delivers them through a provider
//! and reports back: delivered or given up, and the message leaves the outbox.

use crate::domain::comms::{Channel, MessageKind, OutboundMessage};
use crate::domain::ids::{ContactId, Tenant};
use crate::engine::{Engine, EngineError};
use crate::storage::WriteSet;
use governor::{clock::Clock as _, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// `[otp]`: one-time passwords, the emailed links, and the limits on asking for them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtpSettings {
    pub ttl_s: i64,
    /// Wrong codes an OTP takes before even the right one is refused.
    pub attempts_max: u32,
    /// Codes (and links) one identity may ask for per window.
    pub requests_per_identity_max: u32,
    /// Codes (and links) one client address may ask for per window.
    pub requests_per_ip_max: u32,
    pub request_window_s: u64,
    /// Lifetime of an email-verification or password-reset link.
    pub link_ttl_s: i64,
    /// The verification link is this URL with `?token=…` appended.
    pub verify_email_url: String,
    /// The password-reset link is this URL with `?token=…` appended; the page it opens
    /// posts the token and the new password to `/self-service/v2/contacts/change_password`.
    pub reset_password_url: String,
}

impl Default for OtpSettings {
    fn default() -> Self {
        OtpSettings {
            ttl_s: 300,
            attempts_max: 5,
            requests_per_identity_max: 5,
            requests_per_ip_max: 30,
            request_window_s: 900,
            link_ttl_s: 86_400,
            verify_email_url: "http://localhost:8080/self-service/v2/contacts/verify_email".into(),
            reset_password_url: "http://localhost:8080/reset_password".into(),
        }
    }
}

/// Requests for codes, per identity and per client address: each may ask `max` times at
/// once, then once more every `window / max` (a generic cell rate, so a window never
/// resets all at once).
pub(in crate::engine) struct RequestLimits {
    identities: DefaultKeyedRateLimiter<String>,
    addresses: DefaultKeyedRateLimiter<IpAddr>,
    /// Lookups that say whether an email or phone is known (`wallet_exists`), per address:
    /// as many as requests for codes, counted apart.
    lookups: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(max: u32, window_s: u64) -> Quota {
    let max = NonZeroU32::new(max.max(1)).expect("at least 1");
    let period = Duration::from_secs(window_s.max(1)) / max.get();
    Quota::with_period(period.max(Duration::from_millis(1)))
        .expect("a positive period")
        .allow_burst(max)
}

/// Keys of the limiters are forgotten once idle this often: past this many checks the
/// limiters drop the keys that are back to a full allowance.
const RETAIN_EVERY_CHECKS: u64 = 4096;

impl RequestLimits {
    pub(in crate::engine) fn new(settings: &OtpSettings) -> Self {
        RequestLimits {
            identities: RateLimiter::keyed(quota(settings.requests_per_identity_max, settings.request_window_s)),
            addresses: RateLimiter::keyed(quota(settings.requests_per_ip_max, settings.request_window_s)),
            lookups: RateLimiter::keyed(quota(settings.requests_per_ip_max, settings.request_window_s)),
        }
    }

    /// Spends one request of the address (first, so a flood of identities from one address
    /// stops there) and of the identity.
    pub(in crate::engine) fn check(
        &self,
        identity: String,
        address: Option<IpAddr>,
        checks: u64,
    ) -> Result<(), EngineError> {
        if checks % RETAIN_EVERY_CHECKS == 0 {
            self.identities.retain_recent();
            self.addresses.retain_recent();
        }
        if let Some(address) = address {
            self.addresses
                .check_key(&address)
                .map_err(|not_until| refused("client address", &not_until))?;
        }
        self.identities
            .check_key(&identity)
            .map_err(|not_until| refused("identity", &not_until))
    }

    /// Spends one lookup of the address (none known: not limited here; the HTTP layer
    /// always knows it).
    pub(in crate::engine) fn check_lookup(&self, address: Option<IpAddr>, checks: u64) -> Result<(), EngineError> {
        if checks % RETAIN_EVERY_CHECKS == 0 {
            self.lookups.retain_recent();
        }
        let Some(address) = address else { return Ok(()) };
        self.lookups
            .check_key(&address)
            .map_err(|not_until| refused("client address", &not_until))
    }
}

/// 429 for `what`, retried when its limiter allows again.
fn refused(what: &'static str, not_until: &governor::NotUntil<governor::clock::QuantaInstant>) -> EngineError {
    let clock = governor::clock::DefaultClock::default();
    EngineError::RateLimited {
        what,
        retry_after_s: not_until.wait_time_from(clock.now()).as_secs().max(1),
    }
}

/// What a new message says and where it goes.
pub(in crate::engine) struct NewMessage {
    pub kind: MessageKind,
    pub channel: Channel,
    pub to: String,
    pub country_code: Option<String>,
    pub subject: String,
    pub body: String,
}

impl Engine {
    pub fn otp_settings(&self) -> &OtpSettings {
        &self.inner.settings.otp
    }

    /// Counts a request for a code or link against its limits (429 past them).
    pub(in crate::engine) fn limit_request(
        &self,
        tenant: &Tenant,
        identity: &str,
        address: Option<IpAddr>,
    ) -> Result<(), EngineError> {
        let checks = self
            .inner
            .limit_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = format!("{}:{}:{identity}", tenant.organisation, tenant.mode.code());
        let outcome = self.inner.limits.check(key, address, checks);
        if outcome.is_err() {
            metrics::counter!(crate::metrics_names::RATE_LIMITED_TOTAL, "what" => "otp_request").increment(1);
        }
        outcome
    }

    /// Adds a message for `contact` to `writes`; the dispatcher is woken once they commit
    /// (`outbox_committed`).
    pub(in crate::engine) fn enqueue_message(
        &self,
        writes: &mut WriteSet,
        tenant: &Tenant,
        contact: ContactId,
        message: NewMessage,
    ) -> Result<(), EngineError> {
        let seq = {
            let mut next = self.inner.outbox_seq.lock();
            let seq = match *next {
                Some(seq) => seq,
                None => self.inner.store.outbox_last_seq()? + 1,
            };
            *next = Some(seq + 1);
            seq
        };
        writes.outbox_message(&OutboundMessage {
            seq,
            id: uuid::Uuid::new_v4(),
            tenant: *tenant,
            contact,
            kind: message.kind,
            channel: message.channel,
            to: message.to,
            country_code: message.country_code,
            subject: message.subject,
            body: message.body,
            created_on: self.now(),
            attempts: 0,
        });
        Ok(())
    }

    /// Wakes the dispatcher: messages were committed.
    pub(in crate::engine) fn outbox_committed(&self) {
        self.inner.outbox_ready.notify_one();
    }

    /// Resolves when messages may have been added since the last call (or at once, if a
    /// wake-up is already pending).
    pub async fn outbox_changed(&self) {
        self.inner.outbox_ready.notified().await
    }

    /// Up to `limit` messages waiting for delivery, oldest first.
    pub fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboundMessage>, EngineError> {
        Ok(self.inner.store.outbox_pending(limit)?)
    }

    /// Records a failed attempt that will be retried.
    pub async fn outbox_attempt_failed(&self, message: &OutboundMessage) -> Result<(), EngineError> {
        let mut writes = WriteSet::default();
        writes.outbox_message(message);
        Ok(self.inner.store.commit_async(writes).await?)
    }

    /// The message is delivered (or given up, with `failure`): it leaves the outbox, and
    /// with it the code or link it carried.
    pub async fn outbox_finished(&self, message: &OutboundMessage, failure: Option<&str>) -> Result<(), EngineError> {
        let mut writes = WriteSet::default();
        writes.outbox_done(message.seq);
        self.inner.store.commit_async(writes).await?;
        let outcome = if failure.is_some() { "failed" } else { "delivered" };
        metrics::counter!(
            crate::metrics_names::MESSAGES_TOTAL,
            "channel" => message.channel.code(),
            "outcome" => outcome
        )
        .increment(1);
        Ok(())
    }
}
