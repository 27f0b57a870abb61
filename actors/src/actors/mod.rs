//! The actors: one per wallet and one per contact, started on demand by a
//! [`registry::Registry`], stopped when idle. Every kind is a state type on the shared
//! lifecycle of [`kit`].

pub mod account;
pub mod budget;
pub mod claims;
pub mod contact;
pub mod kit;
pub mod outbox;
pub mod pass;
mod recent;
pub mod registry;
pub mod wallet;

/// An error an actor answers with when a command failed inside it (a panic or a fault).
pub trait Faulted {
    fn faulted() -> Self;
}

/// Where an actor's answer goes. If the actor panics while holding it, dropping it during
/// the unwind answers `E::faulted()`, so the caller learns the command failed (500)
/// instead of hearing nothing, or retrying it.
pub struct Reply<T, E: Faulted> {
    sender: Option<tokio::sync::oneshot::Sender<Result<T, E>>>,
}

impl<T, E: Faulted> Reply<T, E> {
    /// A reply and the receiver its answer arrives on.
    pub fn channel() -> (Reply<T, E>, tokio::sync::oneshot::Receiver<Result<T, E>>) {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        (Reply { sender: Some(sender) }, receiver)
    }

    pub fn send(mut self, answer: Result<T, E>) -> Result<(), Result<T, E>> {
        match self.sender.take() {
            Some(sender) => sender.send(answer),
            None => Err(answer),
        }
    }
}

impl<T, E: Faulted> Drop for Reply<T, E> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(sender) = self.sender.take() {
                let _ = sender.send(Err(E::faulted()));
            }
        }
    }
}

/// The message of a caught panic, for the log.
pub fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// The `[actors]` settings section: where actors run and the limits every actor kind
/// shares (D11).
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorSettings {
    /// Arbiters (threads) actors run on; entities are sharded over them by hash. 0: one
    /// per core.
    pub arbiters: usize,
    /// An actor with no message for this long, and nothing in flight, stops.
    pub idle_ms: u64,
    /// Messages an actor's mailbox holds; past that callers get "busy".
    pub mailbox_len_max: usize,
    /// A wallet writes a snapshot after at least this many events (or as many events as it
    /// has lots, whichever is more, so snapshots of big wallets stay amortised).
    pub snapshot_every_events: u64,
    /// Live actors of one kind (wallets, contacts) past which starting another asks the
    /// least recently used idle ones to retire early. 0: no bound (only `idle_ms`).
    pub live_max: usize,
    /// Contact routes (contact → wallet, currency) kept in memory for purchases. 0: none.
    pub contact_routes_max: usize,
}

impl Default for ActorSettings {
    /// As `config/default.toml`.
    fn default() -> Self {
        ActorSettings {
            arbiters: 0,
            idle_ms: 60_000,
            mailbox_len_max: 1024,
            snapshot_every_events: 1000,
            live_max: 100_000,
            contact_routes_max: 1_000_000,
        }
    }
}

impl ActorSettings {
    /// The arbiters to start: `arbiters`, or one per core when it is 0.
    pub fn arbiters(&self) -> usize {
        match self.arbiters {
            0 => std::thread::available_parallelism().map_or(2, |cores| cores.get()),
            count => count,
        }
    }
}

/// Test hooks (the `failpoints` feature, which only test builds turn on): make an actor,
/// or the engine on the caller's thread, panic at a chosen point for one chosen entity,
/// once, so tests can check that a panic never leaves an entity unusable.
#[cfg(feature = "failpoints")]
pub mod failpoints {
    use parking_lot::Mutex;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Failpoint {
        /// In a wallet's actor, after a purchase changed the wallet in memory and before it
        /// is committed.
        InWalletPurchase,
        /// In the engine, on the caller's thread (an HTTP worker), before a purchase
        /// reaches the wallet's actor.
        BeforeWalletPurchase,
        /// In a contact's actor, after a profile change took the contact's place in memory
        /// and before it is committed.
        InContactChange,
        /// Not a panic: while armed, the outbox delivers nothing to this wallet (it tries
        /// again later), so a test can see what happens before a message arrives.
        HoldDeliveryTo,
    }

    /// Set once anything is armed, so builds with the feature (benches too) pay one atomic
    /// load per hook, not a lock.
    static ANY: AtomicBool = AtomicBool::new(false);
    static ARMED: Mutex<Option<HashSet<(Failpoint, uuid::Uuid)>>> = Mutex::new(None);

    /// `point` panics the next time it is reached for `entity` (a wallet's or contact's id).
    pub fn arm(point: Failpoint, entity: uuid::Uuid) {
        ANY.store(true, Ordering::Release);
        ARMED.lock().get_or_insert_with(HashSet::new).insert((point, entity));
    }

    /// Whether `point` is armed for `entity`, leaving it armed.
    pub fn holds(point: Failpoint, entity: uuid::Uuid) -> bool {
        ANY.load(Ordering::Acquire)
            && ARMED
                .lock()
                .as_ref()
                .is_some_and(|armed| armed.contains(&(point, entity)))
    }

    pub fn disarm(point: Failpoint, entity: uuid::Uuid) {
        if let Some(armed) = ARMED.lock().as_mut() {
            armed.remove(&(point, entity));
        }
    }

    pub fn hit(point: Failpoint, entity: uuid::Uuid) {
        let armed = ANY.load(Ordering::Acquire)
            && ARMED
                .lock()
                .as_mut()
                .is_some_and(|armed| armed.remove(&(point, entity)));
        if armed {
            panic!("failpoint {point:?} for {entity}");
        }
    }
}
