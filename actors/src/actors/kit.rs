//! The lifecycle every entity actor shares (D1), written once.
//!
//! An actor kind is an [`Entity`]: a state type, its commands, how it is recovered from the
//! store and how it handles one command. The kit gives every kind the rest:
//!
//! - **Start on demand and recovery**: [`Kind::actor`] finds the live actor of a key, or
//!   recovers the state with [`Entity::recover`] and starts one on the key's arbiter.
//! - **Bounded mailboxes**: [`Kind::ask`] counts a command in before sending it and refuses
//!   past `mailbox_len_max` (`EngineError::Busy` upstream); the actor counts it out.
//! - **Commits and barriers**: [`Life::commit`] hands writes to the journal writer and runs
//!   the continuation once they are durable (D2); [`Life::after_durable`] waits for every
//!   earlier commit of this actor, so an answer never outruns the state it reads.
//! - **Retirement**: after `idle_ms` with no message and nothing in flight, or when the
//!   registry's live bound asks (LRU), or at shutdown. [`Entity::on_retire`] may add final
//!   writes (a wallet's snapshot). A command reaching a retired actor is refused with the
//!   kind's `retry`, and [`Kind::ask`] sends it again to a fresh actor.
//! - **Faults**: a panic while handling a command is caught, its reply answers `faulted`
//!   as it drops, and the state is reloaded as it is on disk ([`Entity::reload`]) once
//!   every earlier commit is durable, so no half-applied command survives. A failed commit
//!   poisons the actor (memory is ahead of disk): it retires at its next message, without
//!   final writes, and the next command starts it again from the store.

use super::registry::{ActorHandle, MailboxCount, Registry, Retirable};
use super::{panic_text, ActorSettings, Faulted, Reply};
use crate::metrics_names as names;
use crate::storage::{StorageFailure, Store, StoreError, WriteSet};
use actix::prelude::*;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How often a command is sent again after meeting a retiring actor.
const RETIRED_ACTOR_ATTEMPTS: usize = 8;

/// The error a kind's replies carry: besides its own refusals, it can say "this actor had
/// retired, send again" and "the command failed inside the actor".
pub trait KitError: Faulted + From<StorageFailure> + Send + 'static {
    fn retry() -> Self;
    fn is_retry(&self) -> bool;
}

/// One kind of entity actor: a state, its commands, and how it recovers.
pub trait Entity: Sized + Unpin + Send + 'static {
    type Key: Clone + Hash + Eq + Debug + Send + Sync + Unpin + 'static;
    type Command: Send + 'static;
    /// What every actor of the kind shares (a clock, limits, counters), given to `recover`.
    type Deps: Clone + Send + Sync + 'static;
    /// The `kind` label of the actor metrics.
    const KIND: &'static str;

    /// The entity as the store holds it; `Ok(None)` when it does not exist.
    fn recover(key: &Self::Key, store: &Store, deps: &Self::Deps) -> Result<Option<Self>, StoreError>;

    /// Applies one command: answer its reply (now, or once its commit is durable).
    fn handle(&mut self, command: Self::Command, life: &mut Life<Self>);

    /// Answers a command that reached a retired actor with the kind's `retry`.
    fn refuse(command: Self::Command);

    /// Replaces memory with the state on disk, after a fault; every earlier commit of this
    /// actor is durable by then. An error retires the actor.
    fn reload(&mut self, life: &Life<Self>) -> Result<(), String>;

    /// Writes committed as the actor retires (a snapshot, so the next start replays less).
    fn on_retire(&mut self, _life: &Life<Self>) -> WriteSet {
        WriteSet::default()
    }
}

/// The lifecycle part of an actor, handed to [`Entity::handle`].
pub struct Life<E: Entity> {
    key: E::Key,
    store: Store,
    settings: ActorSettings,
    registry: Arc<Registry<E::Key, EntityActor<E>>>,
    queued: Arc<MailboxCount>,
    /// Commits handed to the writer by this actor, and how many of them have completed.
    submitted: u64,
    settled: Arc<AtomicU64>,
    /// Set when a commit failed: memory is ahead of disk, so this actor must not go on.
    poisoned: Arc<AtomicBool>,
    last_message: Instant,
    retired: bool,
    /// Set when a command failed half way: memory must be reloaded from the store.
    faulted: bool,
}

impl<E: Entity> Life<E> {
    pub fn key(&self) -> &E::Key {
        &self.key
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn settings(&self) -> &ActorSettings {
        &self.settings
    }

    /// Commits handed to the writer so far (the number of the latest).
    pub fn commits_submitted(&self) -> u64 {
        self.submitted
    }

    /// Commits of this actor that have completed (durable or failed), in order.
    pub fn commits_settled(&self) -> u64 {
        self.settled.load(Ordering::Acquire)
    }

    pub fn in_flight(&self) -> bool {
        self.commits_settled() < self.submitted
    }

    /// Marks the state as not to be trusted: it is reloaded from the store after this
    /// command (see [`Entity::reload`]).
    pub fn set_faulted(&mut self) {
        self.faulted = true;
    }

    /// Hands `writes` to the journal writer; `then` runs once they are durable (or failed).
    pub fn commit<F>(&mut self, writes: WriteSet, then: F)
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
    pub fn after_durable<F>(&mut self, then: F)
    where
        F: FnOnce(Result<(), StorageFailure>) + Send + 'static,
    {
        if self.in_flight() {
            self.store.commit(WriteSet::default(), Box::new(then));
        } else {
            then(Ok(()));
        }
    }

    /// Commits `writes` and answers `value` once they are durable (a failure if they fail).
    pub fn commit_then_reply<T: Send + 'static, Er: KitError>(
        &mut self,
        writes: WriteSet,
        reply: Reply<T, Er>,
        value: T,
    ) {
        self.commit(writes, move |outcome| {
            let _ = reply.send(outcome.map(|()| value).map_err(Er::from));
        });
    }

    /// Sends `answer` once every earlier commit of this actor is durable: an answer may
    /// depend on state those commits made, so it must not outrun them.
    pub fn answer_after_durable<T: Send + 'static, Er: KitError>(
        &mut self,
        reply: Reply<T, Er>,
        answer: Result<T, Er>,
    ) {
        self.after_durable(move |outcome| {
            let _ = reply.send(outcome.map_err(Er::from).and(answer));
        });
    }

    /// Commits `writes` if there are any, then answers once everything is durable.
    pub fn commit_then_answer<T: Send + 'static, Er: KitError>(
        &mut self,
        writes: WriteSet,
        reply: Reply<T, Er>,
        answer: Result<T, Er>,
    ) {
        if !writes.is_empty() {
            self.commit(writes, |_| {});
        }
        self.answer_after_durable(reply, answer);
    }
}

/// What an entity actor's mailbox carries: the kind's commands and the kit's own controls.
pub enum Envelope<C> {
    Command(C),
    /// Finish everything in flight, then stop (graceful shutdown).
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    /// Retire now if nothing is in flight, as on the idle timer (the registry's live bound).
    RetireIfIdle,
}

impl<C: Send + 'static> Message for Envelope<C> {
    type Result = ();
}

/// The actix actor of one entity: its state and its lifecycle.
pub struct EntityActor<E: Entity> {
    state: E,
    life: Life<E>,
}

impl<E: Entity> EntityActor<E> {
    fn retire(&mut self, ctx: &mut Context<Self>) {
        if self.life.retired {
            return;
        }
        self.life.retired = true;
        // Not when a commit failed: memory is ahead of disk. A later actor of this entity
        // may start before these writes are durable; it then recovers the older state,
        // which is as true as this one (`on_retire` writes only what recovery would rebuild).
        if !self.life.poisoned.load(Ordering::Acquire) {
            let writes = self.state.on_retire(&self.life);
            if !writes.is_empty() {
                self.life.commit(writes, |_| {});
            }
        }
        self.life.registry.remove_if(&self.life.key, &ctx.address());
        ctx.stop();
    }

    /// Throws memory away and reloads the entity as it is on disk, after every commit this
    /// actor made is durable (a barrier through the writer, which applies commits in
    /// order). Rare, so the arbiter's thread waits for it.
    fn reload(&mut self, ctx: &mut Context<Self>) {
        self.life.faulted = false;
        metrics::counter!(names::ACTOR_FAULTS_TOTAL, "kind" => E::KIND).increment(1);
        let reloaded = self
            .life
            .store
            .commit_and_wait(WriteSet::default())
            .map_err(|error| error.to_string())
            .and_then(|()| self.state.reload(&self.life));
        if let Err(error) = reloaded {
            tracing::error!(kind = E::KIND, key = ?self.life.key, %error, "reload after a fault failed; retiring");
            self.life.poisoned.store(true, Ordering::Release);
            self.retire(ctx);
        }
    }
}

impl<E: Entity> Actor for EntityActor<E> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // The bound is kept by `queued` (see the registry); actix's own capacity would not
        // refuse anything with a sender clone per request, so it is left unbounded.
        ctx.set_mailbox_capacity(0);
        metrics::gauge!(names::ACTORS_LIVE, "kind" => E::KIND).increment(1.0);
        metrics::counter!(names::ACTOR_STARTS_TOTAL, "kind" => E::KIND).increment(1);
        let idle = Duration::from_millis(self.life.settings.idle_ms);
        let check_every = Duration::from_millis((self.life.settings.idle_ms / 2).clamp(10, 5_000));
        ctx.run_interval(check_every, move |actor, ctx| {
            if actor.life.last_message.elapsed() >= idle && !actor.life.in_flight() {
                actor.retire(ctx);
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        metrics::gauge!(names::ACTORS_LIVE, "kind" => E::KIND).decrement(1.0);
        metrics::counter!(names::ACTOR_STOPS_TOTAL, "kind" => E::KIND).increment(1);
    }
}

impl<E: Entity> Handler<Envelope<E::Command>> for EntityActor<E> {
    type Result = ();

    fn handle(&mut self, envelope: Envelope<E::Command>, ctx: &mut Self::Context) {
        self.life.last_message = Instant::now();
        if matches!(envelope, Envelope::Command(_)) {
            self.life.queued.leave();
        }
        if self.life.poisoned.load(Ordering::Acquire) {
            // Memory may hold changes that never reached disk; only a restart is safe.
            self.retire(ctx);
        }
        if self.life.retired {
            match envelope {
                Envelope::Command(command) => E::refuse(command),
                Envelope::Shutdown { reply } => {
                    let _ = reply.send(());
                }
                Envelope::RetireIfIdle => {}
            }
            return;
        }
        match envelope {
            Envelope::Command(command) => {
                // A panic is caught here: the reply it held answers `faulted` as it drops,
                // and the state is reloaded below.
                let (state, life) = (&mut self.state, &mut self.life);
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| state.handle(command, life)));
                if let Err(panic) = outcome {
                    let text = panic_text(panic.as_ref());
                    tracing::error!(kind = E::KIND, key = ?self.life.key, panic = %text, "actor panicked; reloading its state");
                    self.life.faulted = true;
                }
                if self.life.faulted && !self.life.retired {
                    self.reload(ctx);
                }
            }
            Envelope::Shutdown { reply } => {
                // Retiring may commit final writes; the reply waits for them too.
                self.retire(ctx);
                self.life.after_durable(move |_| {
                    let _ = reply.send(());
                });
            }
            Envelope::RetireIfIdle => {
                if !self.life.in_flight() && self.life.queued.waiting() == 0 {
                    metrics::counter!(names::ACTOR_EVICTIONS_TOTAL, "kind" => E::KIND).increment(1);
                    self.retire(ctx);
                }
            }
        }
    }
}

impl<E: Entity> Retirable for EntityActor<E> {
    fn ask_to_retire(addr: &Addr<Self>) {
        addr.do_send(Envelope::RetireIfIdle);
    }
}

/// Why [`Kind::ask`] got no answer from the entity itself.
#[derive(Debug)]
pub enum AskError<Er> {
    /// `recover` found no such entity.
    NotFound,
    /// The mailbox is full, or the actor kept retiring under the command.
    Busy,
    /// Recovering the entity failed.
    Store(StoreError),
    /// The entity answered with an error.
    Refused(Er),
}

/// Every actor of one kind: finds or starts them, and sends them commands.
pub struct Kind<E: Entity> {
    registry: Arc<Registry<E::Key, EntityActor<E>>>,
    store: Store,
    settings: ActorSettings,
    deps: E::Deps,
}

impl<E: Entity> Kind<E> {
    pub fn new(arbiters: Vec<ArbiterHandle>, store: Store, settings: ActorSettings, deps: E::Deps) -> Self {
        Kind {
            registry: Arc::new(Registry::new(arbiters, settings.live_max)),
            store,
            settings,
            deps,
        }
    }

    /// The live actor of `key`, or a new one on the entity's arbiter with the state
    /// recovered from the store; `Ok(None)` when the entity does not exist.
    pub fn actor(&self, key: &E::Key) -> Result<Option<ActorHandle<EntityActor<E>>>, StoreError> {
        self.registry.get_or_start(key, |arbiter, queued| {
            let Some(state) = E::recover(key, &self.store, &self.deps)? else {
                return Ok(None);
            };
            let life = Life {
                key: key.clone(),
                store: self.store.clone(),
                settings: self.settings,
                registry: self.registry.clone(),
                queued,
                submitted: 0,
                settled: Arc::new(AtomicU64::new(0)),
                poisoned: Arc::new(AtomicBool::new(false)),
                last_message: Instant::now(),
                retired: false,
                faulted: false,
            };
            Ok(Some(EntityActor::start_in_arbiter(arbiter, move |_| EntityActor {
                state,
                life,
            })))
        })
    }

    /// Sends the command `make` builds around a reply and awaits the answer. A command that
    /// met a retiring actor is built again and sent to a fresh one.
    pub async fn ask<T, Er: KitError>(
        &self,
        key: &E::Key,
        make: impl Fn(Reply<T, Er>) -> E::Command,
    ) -> Result<T, AskError<Er>> {
        for _ in 0..RETIRED_ACTOR_ATTEMPTS {
            let actor = self.actor(key).map_err(AskError::Store)?.ok_or(AskError::NotFound)?;
            if !actor.queued.enter(self.settings.mailbox_len_max) {
                metrics::counter!(names::MAILBOX_FULL_TOTAL, "kind" => E::KIND).increment(1);
                return Err(AskError::Busy);
            }
            let (reply, answer) = Reply::channel();
            if actor.addr.try_send(Envelope::Command(make(reply))).is_err() {
                // Closed: the actor stopped between lookup and send; start a fresh one.
                actor.queued.leave();
                self.registry.remove_if(key, &actor.addr);
                continue;
            }
            match answer.await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(error)) if error.is_retry() => continue,
                Ok(Err(error)) => return Err(AskError::Refused(error)),
                // Dropped unanswered: the actor stopped with the command in its mailbox.
                Err(_) => continue,
            }
        }
        Err(AskError::Busy)
    }

    /// Asks every live actor to finish what it holds and stop; the receivers complete when
    /// each one's last writes are durable.
    pub fn shut_down(&self) -> Vec<oneshot::Receiver<()>> {
        self.registry
            .addresses()
            .into_iter()
            .map(|addr| {
                let (reply, done) = oneshot::channel();
                addr.do_send(Envelope::Shutdown { reply });
                done
            })
            .collect()
    }

    /// Live actors of this kind.
    pub fn live(&self) -> usize {
        self.registry.len()
    }

    pub fn deps(&self) -> &E::Deps {
        &self.deps
    }
}

#[cfg(test)]
mod tests;
