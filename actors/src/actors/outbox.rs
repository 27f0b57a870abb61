//! The outbox between entities (D5), as the actors see it: the next sequence number for a
//! message they commit, and a bell that wakes the delivery loop once one is durable. The
//! delivery itself is the engine's (`engine::delivery`).

use crate::storage::{Store, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;

pub struct Outbox {
    next_seq: AtomicU64,
    ready: Notify,
}

impl Outbox {
    /// Numbers continue after the messages still waiting and after `now_s` in microseconds,
    /// so they grow across restarts even when the outbox was empty.
    pub fn open(store: &Store, now_s: i64) -> Result<Outbox, StoreError> {
        let after_pending = store.actor_outbox_last_seq()?.saturating_add(1);
        let from_clock = u64::try_from(now_s).unwrap_or(0).saturating_mul(1_000_000);
        Ok(Outbox {
            next_seq: AtomicU64::new(after_pending.max(from_clock)),
            ready: Notify::new(),
        })
    }

    /// The sequence number of the next message committed.
    pub fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::AcqRel)
    }

    /// A message is durable: wake the delivery loop.
    pub fn wake(&self) {
        self.ready.notify_one();
    }

    /// Waits for the next `wake` (or one that came since the last wait).
    pub async fn woken(&self) {
        self.ready.notified().await;
    }
}
