//! Sign-in lockout: after `sign_in_failures_max` wrong passwords in a row for one identity
//! (a contact's email in its business and mode, or a back-office user's email), signing in
//! with it is refused with 429 for `sign_in_lockout_s`, the right password too. Failures
//! older than that are forgotten, and a right password clears them.
//!
//! Identities that do not exist are counted alike, so a lockout says nothing about whether
//! an email is registered. An attempt is counted before its password is checked, so
//! concurrent guesses cannot pass the limit between check and count. The counts live in
//! memory; a lockout, once reached, is written to the store and outlives a restart.

use crate::domain::ids::Tenant;
use crate::engine::{sha256, Engine, EngineError};
use crate::storage::WriteSet;
use std::collections::HashMap;

/// Failures of one identity.
#[derive(Debug, Default)]
struct Failures {
    failures: u32,
    /// Attempts counted and not yet settled.
    in_flight: u32,
    last_failed_on: i64,
    locked_until: Option<i64>,
    /// A lock is in the store (to remove once the right password is given).
    stored_lock: bool,
}

#[derive(Debug, Default)]
struct Entries {
    by_identity: HashMap<String, Failures>,
    /// Past this many entries, the idle ones are dropped.
    prune_at: usize,
}

/// The failure counts, per identity.
#[derive(Debug, Default)]
pub(in crate::engine) struct SignInFailures {
    entries: parking_lot::Mutex<Entries>,
}

const PRUNE_AT_MIN: usize = 10_000;

/// Which identity a sign-in names.
pub(in crate::engine) enum SignInIdentity<'a> {
    Contact(&'a Tenant, &'a str),
    User(&'a str),
}

impl SignInIdentity<'_> {
    fn key(&self) -> String {
        match self {
            SignInIdentity::Contact(tenant, email) => format!(
                "contact:{}:{}:{}",
                tenant.organisation,
                tenant.mode.code(),
                email.trim().to_lowercase()
            ),
            SignInIdentity::User(email) => format!("user:{}", email.trim().to_lowercase()),
        }
    }
}

/// One counted attempt: settle it with `failed` or `succeeded`; dropping it unsettled (an
/// error on the way) uncounts it.
pub(in crate::engine) struct SignInAttempt<'a> {
    engine: &'a Engine,
    key: String,
    settled: bool,
}

impl Engine {
    /// Counts a password attempt for `identity`, or refuses it (429) while the identity is
    /// locked, or while as many attempts as it has left are already being checked.
    pub(in crate::engine) fn begin_sign_in(
        &self,
        identity: SignInIdentity<'_>,
    ) -> Result<SignInAttempt<'_>, EngineError> {
        let key = identity.key();
        let settings = self.inner.settings.auth;
        let now = self.now();
        let known = self
            .inner
            .sign_in_failures
            .entries
            .lock()
            .by_identity
            .contains_key(&key);
        let stored_lock = match known {
            true => None,
            false => self.inner.store.sign_in_lock(&sha256(&key))?,
        };
        let mut entries = self.inner.sign_in_failures.entries.lock();
        if entries.by_identity.len() >= entries.prune_at {
            let lockout_s = settings.sign_in_lockout_s;
            entries.by_identity.retain(|_, failures| {
                failures.in_flight > 0
                    || failures.locked_until.is_some_and(|until| until > now)
                    || failures.last_failed_on + lockout_s > now
            });
            entries.prune_at = PRUNE_AT_MIN.max(entries.by_identity.len() * 2);
        }
        let failures = entries.by_identity.entry(key.clone()).or_default();
        if let Some(until) = stored_lock {
            failures.locked_until = Some(until);
            failures.stored_lock = true;
        }
        if let Some(until) = failures.locked_until {
            if until > now {
                return Err(locked(until - now));
            }
            failures.locked_until = None;
            failures.failures = 0;
        }
        if failures.last_failed_on + settings.sign_in_lockout_s <= now {
            failures.failures = 0;
        }
        if failures.failures + failures.in_flight >= settings.sign_in_failures_max.max(1) {
            return Err(locked(1));
        }
        failures.in_flight += 1;
        Ok(SignInAttempt {
            engine: self,
            key,
            settled: false,
        })
    }

    /// Forgets the identity's failures and lifts its lockout (with `writes`): its owner set
    /// a new password.
    pub(in crate::engine) fn clear_sign_in_failures(&self, identity: SignInIdentity<'_>, writes: &mut WriteSet) {
        let key = identity.key();
        self.inner.sign_in_failures.entries.lock().by_identity.remove(&key);
        writes.remove_sign_in_lock(&sha256(&key));
    }
}

fn locked(retry_after_s: i64) -> EngineError {
    metrics::counter!(crate::metrics_names::RATE_LIMITED_TOTAL, "what" => "sign_in").increment(1);
    EngineError::RateLimited {
        what: "email after repeated wrong passwords",
        retry_after_s: retry_after_s.max(1) as u64,
    }
}

impl SignInAttempt<'_> {
    /// A wrong password: counted, and the identity locks at the limit (written to the store).
    pub(in crate::engine) async fn failed(mut self) -> Result<(), EngineError> {
        self.settled = true;
        let settings = self.engine.inner.settings.auth;
        let now = self.engine.now();
        let lock_until = {
            let mut entries = self.engine.inner.sign_in_failures.entries.lock();
            let failures = entries.by_identity.entry(self.key.clone()).or_default();
            failures.in_flight = failures.in_flight.saturating_sub(1);
            failures.failures += 1;
            failures.last_failed_on = now;
            if failures.failures >= settings.sign_in_failures_max.max(1) && failures.locked_until.is_none() {
                let until = now + settings.sign_in_lockout_s;
                failures.locked_until = Some(until);
                failures.stored_lock = true;
                Some(until)
            } else {
                None
            }
        };
        if let Some(until) = lock_until {
            metrics::counter!(crate::metrics_names::SIGN_IN_LOCKOUTS_TOTAL).increment(1);
            tracing::warn!(until, "sign-in locked after repeated wrong passwords");
            let mut writes = WriteSet::default();
            writes.sign_in_lock(&sha256(&self.key), until);
            self.engine.inner.store.commit_async(writes).await?;
        }
        Ok(())
    }

    /// The right password: the identity's failures are forgotten (and its old lock removed).
    pub(in crate::engine) async fn succeeded(mut self) -> Result<(), EngineError> {
        self.settled = true;
        let had_stored_lock = {
            let mut entries = self.engine.inner.sign_in_failures.entries.lock();
            let failures = entries.by_identity.entry(self.key.clone()).or_default();
            failures.in_flight = failures.in_flight.saturating_sub(1);
            failures.failures = 0;
            let had = std::mem::take(&mut failures.stored_lock);
            if failures.in_flight == 0 {
                entries.by_identity.remove(&self.key);
            }
            had
        };
        if had_stored_lock {
            let mut writes = WriteSet::default();
            writes.remove_sign_in_lock(&sha256(&self.key));
            self.engine.inner.store.commit_async(writes).await?;
        }
        Ok(())
    }
}

impl Drop for SignInAttempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let mut entries = self.engine.inner.sign_in_failures.entries.lock();
            if let Some(failures) = entries.by_identity.get_mut(&self.key) {
                failures.in_flight = failures.in_flight.saturating_sub(1);
            }
        }
    }
}
