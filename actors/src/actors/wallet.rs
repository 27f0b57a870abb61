//! The wallet actor (D1): the only code that changes a wallet.
//!
//! One message at a time: apply the command to the in-memory [`Wallet`], hand the resulting
//! records to the journal writer, and move on. The reply travels with the commit and is
//! sent by the writer only after the flush (D2), so the actor never waits on disk and a
//! caller never hears of anything that is not durable. Reads wait for the actor's earlier
//! commits (a barrier), so nobody sees a balance that a crash could take back.
//!
//! The actor stops itself after `idle_ms` without messages and with nothing in flight; a
//! message that reaches it after it has retired is answered with `Retry`, and the engine
//! starts a fresh actor, which recovers from the store.
//!
//! A command that cannot be applied (a panic, or an entry the wallet refuses as a fault) is
//! answered with `Internal`; its changes to memory are thrown away by reloading the wallet
//! from the store once every earlier commit is durable, so the next command works on the
//! last durable state.

use super::registry::{MailboxCount, Registry};
use super::ActorSettings;
use crate::clock::Clock;
use crate::domain::ids::{PurchaseId, Tenant, WalletId};
use crate::domain::purchase::{PurchaseRecord, PurchaseRequest, PurchaseState, SaleOrganisation};
use crate::domain::wallet::{AwardGrant, Balances, CommandError, Wallet, WalletFault, WalletHeader, WalletRejection};
use crate::metrics_names as names;
use crate::storage::{StorageFailure, Store, WriteSet};
use actix::prelude::*;
use rust_decimal::Decimal;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

pub type WalletKey = (Tenant, WalletId);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    #[error("rejected: {0:?}")]
    Rejected(WalletRejection),
    #[error("reference number already used with a different purchase")]
    ReferenceConflict,
    #[error("purchase not found")]
    PurchaseNotFound,
    /// The actor retired before handling the message; send it again.
    #[error("actor retired")]
    Retry,
    /// The command could not be applied (a panic or a fault); nothing of it was kept.
    #[error("the wallet could not apply the command")]
    Internal,
    #[error("{0}")]
    Storage(String),
}

impl From<StorageFailure> for WalletError {
    fn from(failure: StorageFailure) -> Self {
        WalletError::Storage(failure.0)
    }
}

/// A wallet as a read returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletView {
    pub header: WalletHeader,
    pub balances: Balances,
}

/// Where an answer goes (see `super::Reply`: a panic answers `Internal`).
pub type Reply<T> = super::Reply<T, WalletError>;

impl super::Faulted for WalletError {
    fn faulted() -> Self {
        WalletError::Internal
    }
}

pub enum WalletMessage {
    PostPurchase {
        purchase_id: PurchaseId,
        /// The request and where it was made (one allocation for both).
        request: Box<(PurchaseRequest, SaleOrganisation)>,
        body_hash: [u8; 32],
        awards: Vec<AwardGrant>,
        reply: Reply<Arc<PurchaseRecord>>,
    },
    CancelPurchase {
        purchase_id: PurchaseId,
        reply: Reply<Arc<PurchaseRecord>>,
    },
    Read {
        reply: Reply<WalletView>,
    },
    /// Finish everything in flight, then stop (graceful shutdown).
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    /// Retire now if nothing is in flight, as on the idle timer (the registry's live bound).
    RetireIfIdle,
}

impl Message for WalletMessage {
    type Result = ();
}

/// Purchases this actor posted or cancelled recently, so a retry or cancel arriving before
/// the record is durable still finds it. Entries are pruned once durable and old.
struct RecentPurchase {
    record: Arc<PurchaseRecord>,
    commit_number: u64,
}

const RECENT_PURCHASES_MAX: usize = 256;

pub struct WalletActor {
    key: WalletKey,
    wallet: Wallet,
    store: Store,
    clock: Arc<dyn Clock>,
    registry: Arc<Registry<WalletKey, WalletActor>>,
    settings: ActorSettings,
    queued: Arc<MailboxCount>,
    /// Commits handed to the writer by this actor, and how many of them have completed.
    submitted: u64,
    settled: Arc<AtomicU64>,
    /// Set when a commit failed: memory is ahead of disk, so this actor must not go on.
    poisoned: Arc<AtomicBool>,
    recent: HashMap<PurchaseId, RecentPurchase>,
    recent_order: VecDeque<PurchaseId>,
    events_since_snapshot: u64,
    last_message: Instant,
    retired: bool,
    /// Set when a command failed half way: memory must be reloaded from the store.
    faulted: bool,
    /// The most the wallet may hold (`[money] wallet_balance_max`); credits past it are refused.
    balance_max: Decimal,
}

impl WalletActor {
    pub fn new(
        key: WalletKey,
        wallet: Wallet,
        store: Store,
        clock: Arc<dyn Clock>,
        registry: Arc<Registry<WalletKey, WalletActor>>,
        settings: ActorSettings,
        queued: Arc<MailboxCount>,
    ) -> Self {
        WalletActor {
            balance_max: crate::domain::money::MoneyLimits::default().wallet_balance_max,
            key,
            wallet,
            store,
            clock,
            registry,
            settings,
            queued,
            submitted: 0,
            settled: Arc::new(AtomicU64::new(0)),
            poisoned: Arc::new(AtomicBool::new(false)),
            recent: HashMap::new(),
            recent_order: VecDeque::new(),
            events_since_snapshot: 0,
            last_message: Instant::now(),
            retired: false,
            faulted: false,
        }
    }

    /// The most the wallet may hold (`[money] wallet_balance_max`; the default bound if not
    /// given).
    pub fn with_balance_max(mut self, balance_max: Decimal) -> Self {
        self.balance_max = balance_max;
        self
    }

    /// Events recovery replayed on top of the snapshot: they count towards the next one, so
    /// replay stays bounded however often the actor stops and starts.
    pub fn with_events_since_snapshot(mut self, events: u64) -> Self {
        self.events_since_snapshot = events;
        self
    }

    fn in_flight(&self) -> bool {
        self.settled.load(Ordering::Acquire) < self.submitted
    }

    /// Hands `writes` to the journal writer; `then` runs once they are durable.
    fn commit<F>(&mut self, writes: WriteSet, then: F)
    where
        F: FnOnce(Result<(), StorageFailure>) + Send + 'static,
    {
        self.submitted += 1;
        let number = self.submitted;
        let settled = self.settled.clone();
        let poisoned = self.poisoned.clone();
        self.store.commit(
            writes,
            Box::new(move |outcome| {
                if outcome.is_err() {
                    poisoned.store(true, Ordering::Release);
                }
                settled.fetch_max(number, Ordering::AcqRel);
                then(outcome);
            }),
        );
    }

    /// Runs `then` once every commit this actor made so far is durable.
    fn after_durable<F>(&mut self, then: F)
    where
        F: FnOnce(Result<(), StorageFailure>) + Send + 'static,
    {
        if self.in_flight() {
            self.store.commit(WriteSet::default(), Box::new(then));
        } else {
            then(Ok(()));
        }
    }

    /// Adds wallet events to `writes`, plus a snapshot when enough events have passed that
    /// rewriting the state costs no more than replaying them would.
    fn add_events(&mut self, writes: &mut WriteSet, events: &[crate::domain::wallet::WalletEvent]) {
        for event in events {
            writes.wallet_event(&self.key.0, self.key.1, event);
        }
        self.events_since_snapshot += events.len() as u64;
        let threshold = self.settings.snapshot_every_events.max(self.wallet.lot_count() as u64);
        if self.events_since_snapshot >= threshold {
            writes.wallet_snapshot(&self.wallet);
            self.events_since_snapshot = 0;
        }
    }

    fn sweep(&mut self, now: i64, writes: &mut WriteSet) -> Result<(), WalletFault> {
        if let Some(event) = self.wallet.sweep_expired(now)? {
            self.add_events(writes, &[event]);
        }
        Ok(())
    }

    /// A command failed after it may have changed memory: answer `Internal` and have the
    /// handler reload the wallet before the next message.
    fn fault<T>(&mut self, reply: Reply<T>, fault: &WalletFault) {
        tracing::error!(wallet = %self.key.1, %fault, "wallet command failed; reloading the wallet");
        self.faulted = true;
        let _ = reply.send(Err(WalletError::Internal));
    }

    /// Throws memory away and reloads the wallet as it is on disk, after every commit this
    /// actor made is durable (a barrier through the writer, which applies commits in
    /// order). Rare, so the arbiter's thread waits for it. If the wallet cannot be loaded,
    /// the actor retires and the next message starts a fresh one.
    fn reload(&mut self, ctx: &mut Context<Self>) {
        self.faulted = false;
        metrics::counter!(names::ACTOR_FAULTS_TOTAL, "kind" => "wallet").increment(1);
        let reloaded = self
            .store
            .commit_and_wait(WriteSet::default())
            .and_then(|()| self.store.recover_wallet(&self.key.0, self.key.1));
        match reloaded {
            Ok(Some((wallet, replayed))) => {
                self.wallet = wallet;
                self.events_since_snapshot = replayed;
            }
            outcome => {
                if let Err(error) = outcome {
                    tracing::error!(wallet = %self.key.1, %error, "wallet reload failed");
                }
                self.poisoned.store(true, Ordering::Release);
                self.retire(ctx);
            }
        }
    }

    fn remember(&mut self, record: Arc<PurchaseRecord>) {
        let id = record.id;
        if self
            .recent
            .insert(
                id,
                RecentPurchase {
                    record,
                    commit_number: self.submitted,
                },
            )
            .is_none()
        {
            self.recent_order.push_back(id);
        }
        let settled = self.settled.load(Ordering::Acquire);
        while self.recent_order.len() > RECENT_PURCHASES_MAX {
            let Some(oldest) = self.recent_order.front().copied() else {
                break;
            };
            match self.recent.get(&oldest) {
                Some(entry) if entry.commit_number > settled => break,
                _ => {
                    self.recent_order.pop_front();
                    self.recent.remove(&oldest);
                }
            }
        }
    }

    fn find_purchase(&self, id: PurchaseId) -> Result<Option<Arc<PurchaseRecord>>, WalletError> {
        if let Some(entry) = self.recent.get(&id) {
            return Ok(Some(entry.record.clone()));
        }
        self.store
            .purchase(&self.key.0, id)
            .map(|found| found.map(Arc::new))
            .map_err(|error| WalletError::Storage(error.to_string()))
    }

    /// Sends `answer` once every earlier commit of this actor is durable: an answer may
    /// depend on state those commits made, so it must not outrun them.
    fn answer_after_durable<T: Send + 'static>(&mut self, reply: Reply<T>, answer: Result<T, WalletError>) {
        self.after_durable(move |outcome| {
            let _ = reply.send(outcome.map_err(WalletError::from).and(answer));
        });
    }

    /// Commits `writes` if there are any, then answers after durability.
    fn commit_then_answer<T: Send + 'static>(
        &mut self,
        writes: WriteSet,
        reply: Reply<T>,
        answer: Result<T, WalletError>,
    ) {
        if !writes.is_empty() {
            self.commit(writes, |_| {});
        }
        self.answer_after_durable(reply, answer);
    }

    fn post_purchase(
        &mut self,
        purchase_id: PurchaseId,
        request: PurchaseRequest,
        at: SaleOrganisation,
        body_hash: [u8; 32],
        awards: Vec<AwardGrant>,
        reply: Reply<Arc<PurchaseRecord>>,
    ) {
        match self.find_purchase(purchase_id) {
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
            Ok(Some(existing)) => {
                if existing.body_hash == body_hash {
                    metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "replayed").increment(1);
                    self.answer_after_durable(reply, Ok(existing));
                } else {
                    metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "conflict").increment(1);
                    let _ = reply.send(Err(WalletError::ReferenceConflict));
                }
                return;
            }
            Ok(None) => {}
        }
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(now, &mut writes) {
            return self.fault(reply, &fault);
        }
        match self
            .wallet
            .post_purchase(now, purchase_id, request.spend, &awards, self.balance_max)
        {
            Err(CommandError::Fault(fault)) => self.fault(reply, &fault),
            Err(CommandError::Rejected(rejection)) => {
                metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "rejected").increment(1);
                metrics::counter!(names::SPENDS_TOTAL, "outcome" => "refused").increment(1);
                self.commit_then_answer(writes, reply, Err(WalletError::Rejected(rejection)));
            }
            Ok((event, effects)) => {
                let currency = self.wallet.header.currency;
                metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "posted").increment(1);
                if !effects.awards.is_empty() {
                    metrics::counter!(names::AWARDS_TOTAL, "outcome" => "credited")
                        .increment(effects.awards.len() as u64);
                    metrics::counter!(names::AWARDED_MINOR_UNITS_TOTAL, "currency" => currency.static_code())
                        .increment(currency.minor_units_of(effects.awarded()));
                }
                if !effects.spends.is_empty() {
                    metrics::counter!(names::SPENDS_TOTAL, "outcome" => "spent").increment(1);
                    metrics::counter!(names::SPENT_MINOR_UNITS_TOTAL, "currency" => currency.static_code())
                        .increment(currency.minor_units_of(effects.spent()));
                }
                let record = Arc::new(PurchaseRecord {
                    id: purchase_id,
                    tenant: self.key.0,
                    date: request.date.unwrap_or(now),
                    request,
                    body_hash,
                    state: PurchaseState::Posted,
                    posted_on: now,
                    cancelled_on: None,
                    effects,
                    balances_after: self.wallet.balances(),
                    organisation: Some(at),
                });
                #[cfg(feature = "failpoints")]
                super::failpoints::hit(super::failpoints::Failpoint::InWalletPurchase, self.key.1 .0);
                self.add_events(&mut writes, &[event]);
                writes.purchase(&record);
                let answer = record.clone();
                self.commit(writes, move |outcome| {
                    let _ = reply.send(outcome.map(|()| answer).map_err(WalletError::from));
                });
                self.remember(record);
            }
        }
    }

    fn cancel_purchase(&mut self, purchase_id: PurchaseId, reply: Reply<Arc<PurchaseRecord>>) {
        let record = match self.find_purchase(purchase_id) {
            Ok(Some(record)) if record.request.wallet_id == self.key.1 => record,
            Ok(_) => {
                let _ = reply.send(Err(WalletError::PurchaseNotFound));
                return;
            }
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
        };
        if record.state == PurchaseState::Cancelled {
            self.answer_after_durable(reply, Ok(record));
            return;
        }
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(now, &mut writes) {
            return self.fault(reply, &fault);
        }
        let event = match self
            .wallet
            .cancel_purchase(now, purchase_id, &record.effects, self.balance_max)
        {
            Ok(event) => event,
            Err(CommandError::Fault(fault)) => return self.fault(reply, &fault),
            Err(CommandError::Rejected(rejection)) => {
                return self.commit_then_answer(writes, reply, Err(WalletError::Rejected(rejection)))
            }
        };
        metrics::counter!(names::PURCHASES_TOTAL, "outcome" => "cancelled").increment(1);
        if !record.effects.awards.is_empty() {
            metrics::counter!(names::AWARDS_TOTAL, "outcome" => "reversed")
                .increment(record.effects.awards.len() as u64);
        }
        if !record.effects.spends.is_empty() {
            metrics::counter!(names::SPENDS_TOTAL, "outcome" => "restored").increment(1);
        }
        self.add_events(&mut writes, &[event]);
        // A spend given back to a lot that has since expired expires again at once.
        if let Err(fault) = self.sweep(now, &mut writes) {
            return self.fault(reply, &fault);
        }
        let mut cancelled = (*record).clone();
        cancelled.state = PurchaseState::Cancelled;
        cancelled.cancelled_on = Some(now);
        let cancelled = Arc::new(cancelled);
        writes.purchase(&cancelled);
        let answer = cancelled.clone();
        self.commit(writes, move |outcome| {
            let _ = reply.send(outcome.map(|()| answer).map_err(WalletError::from));
        });
        self.remember(cancelled);
    }

    fn read(&mut self, reply: Reply<WalletView>) {
        let now = self.clock.now_s();
        let mut writes = WriteSet::default();
        if let Err(fault) = self.sweep(now, &mut writes) {
            return self.fault(reply, &fault);
        }
        let view = WalletView {
            header: self.wallet.header.clone(),
            balances: self.wallet.balances(),
        };
        self.commit_then_answer(writes, reply, Ok(view));
    }

    fn retire(&mut self, ctx: &mut Context<Self>) {
        if !self.retired {
            self.retired = true;
            // A snapshot on passivation: the next start loads it instead of replaying the
            // events since the last one. Not when a commit failed (memory is ahead of
            // disk). A later actor of this wallet may start before it is durable; it then
            // replays from the older snapshot, and either snapshot is a true state.
            if self.events_since_snapshot > 0 && !self.poisoned.load(Ordering::Acquire) {
                let mut writes = WriteSet::default();
                writes.wallet_snapshot(&self.wallet);
                self.events_since_snapshot = 0;
                self.commit(writes, |_| {});
            }
            self.registry.remove_if(&self.key, &ctx.address());
            ctx.stop();
        }
    }
}

impl Actor for WalletActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // The bound is kept by `queued` (see the registry); actix's own capacity would not
        // refuse anything with a sender clone per request, so it is left unbounded.
        ctx.set_mailbox_capacity(0);
        metrics::gauge!(names::ACTORS_LIVE, "kind" => "wallet").increment(1.0);
        metrics::counter!(names::ACTOR_STARTS_TOTAL, "kind" => "wallet").increment(1);
        let check_every = Duration::from_millis((self.settings.idle_ms / 2).clamp(10, 5_000));
        ctx.run_interval(check_every, |actor, ctx| {
            let idle = actor.last_message.elapsed() >= Duration::from_millis(actor.settings.idle_ms);
            if idle && !actor.in_flight() {
                actor.retire(ctx);
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        metrics::gauge!(names::ACTORS_LIVE, "kind" => "wallet").decrement(1.0);
        metrics::counter!(names::ACTOR_STOPS_TOTAL, "kind" => "wallet").increment(1);
    }
}

impl Handler<WalletMessage> for WalletActor {
    type Result = ();

    fn handle(&mut self, message: WalletMessage, ctx: &mut Self::Context) {
        self.last_message = Instant::now();
        if !matches!(message, WalletMessage::Shutdown { .. } | WalletMessage::RetireIfIdle) {
            self.queued.leave();
        }
        if self.poisoned.load(Ordering::Acquire) {
            // Memory may hold changes that never reached disk; only a restart is safe.
            self.retire(ctx);
        }
        if self.retired {
            match message {
                WalletMessage::PostPurchase { reply, .. } | WalletMessage::CancelPurchase { reply, .. } => {
                    let _ = reply.send(Err(WalletError::Retry));
                }
                WalletMessage::Read { reply } => {
                    let _ = reply.send(Err(WalletError::Retry));
                }
                WalletMessage::Shutdown { reply } => {
                    let _ = reply.send(());
                }
                WalletMessage::RetireIfIdle => {}
            }
            return;
        }
        // A panic while handling is caught here: the reply it held answers `Internal` as
        // it drops, and the wallet is reloaded below, so no half-applied command survives.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.dispatch(message, ctx)));
        if let Err(panic) = outcome {
            let text = super::panic_text(panic.as_ref());
            tracing::error!(wallet = %self.key.1, panic = %text, "wallet actor panicked; reloading the wallet");
            self.faulted = true;
        }
        if self.faulted && !self.retired {
            self.reload(ctx);
        }
    }
}

impl WalletActor {
    fn dispatch(&mut self, message: WalletMessage, ctx: &mut Context<Self>) {
        match message {
            WalletMessage::PostPurchase {
                purchase_id,
                request,
                body_hash,
                awards,
                reply,
            } => {
                let (request, at) = *request;
                self.post_purchase(purchase_id, request, at, body_hash, awards, reply)
            }
            WalletMessage::CancelPurchase { purchase_id, reply } => self.cancel_purchase(purchase_id, reply),
            WalletMessage::Read { reply } => self.read(reply),
            WalletMessage::Shutdown { reply } => {
                // Retiring may commit a snapshot; the reply waits for it too.
                self.retire(ctx);
                self.after_durable(move |_| {
                    let _ = reply.send(());
                });
            }
            WalletMessage::RetireIfIdle => {
                if !self.in_flight() && self.queued.waiting() == 0 {
                    metrics::counter!(names::ACTOR_EVICTIONS_TOTAL, "kind" => "wallet").increment(1);
                    self.retire(ctx);
                }
            }
        }
    }
}

impl super::registry::Retirable for WalletActor {
    fn ask_to_retire(addr: &actix::Addr<Self>) {
        addr.do_send(WalletMessage::RetireIfIdle);
    }
}
