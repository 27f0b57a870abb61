//! Finds or starts the actor that owns an entity (D1).
//!
//! Actors are spread over a fixed set of arbiters by a hash of their key. The first message
//! for an entity starts its actor: the caller's `start` closure recovers the state (under
//! the shard lock, so two callers never start two actors for one entity) and starts the
//! actor on the entity's arbiter. An actor removes itself when it retires.
//!
//! Live actors are bounded too (`live_max`): past the bound, starting an actor asks the
//! least recently used idle actors among a sample (from the new one's shard on) to
//! retire early, as they would after `idle_ms`, so memory stays bounded whatever the
//! traffic: a set-up that touches a million contacts once keeps at most `live_max` actors.
//!
//! Mailboxes are bounded here, not by actix: actix gives every sender clone a guaranteed
//! slot, so with a fresh `Addr` clone per request its capacity never refuses anything. Each
//! actor instead shares a `queued` counter with its [`ActorHandle`]: senders count a message
//! in before sending (refusing past the bound) and the actor counts it out as it takes it.

use actix::{Actor, Addr, ArbiterHandle};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

const SHARDS: usize = 64;

/// Messages sent to an actor and not yet taken by it.
#[derive(Debug, Default)]
pub struct MailboxCount(AtomicUsize);

impl MailboxCount {
    /// Counts a message in, unless `max` are already waiting.
    pub fn enter(&self, max: usize) -> bool {
        if self.0.fetch_add(1, Ordering::AcqRel) >= max {
            self.0.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Messages waiting now.
    pub fn waiting(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }

    /// Counts a message out: the actor took it, or it was never delivered.
    pub fn leave(&self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A live actor's address and its mailbox count.
pub struct ActorHandle<A: Actor> {
    pub addr: Addr<A>,
    pub queued: Arc<MailboxCount>,
    /// The registry's tick when the actor was last looked up (for the live bound's LRU).
    last_used: Arc<AtomicU64>,
}

impl<A: Actor> Clone for ActorHandle<A> {
    fn clone(&self) -> Self {
        ActorHandle {
            addr: self.addr.clone(),
            queued: self.queued.clone(),
            last_used: self.last_used.clone(),
        }
    }
}

/// An actor the registry can ask to retire early (when live actors pass the bound). The
/// actor retires only if it has nothing in flight, exactly as on its idle timer.
pub trait Retirable: Actor {
    fn ask_to_retire(addr: &Addr<Self>);
}

/// Idle actors a start past the bound compares (from its own shard and the next ones) to
/// pick the least recently used.
const EVICTION_SAMPLE: usize = 16;
/// Actors asked to retire per start past the bound (a little more than one, so the live
/// count comes back under the bound rather than hovering at it).
const EVICTIONS_PER_START: usize = 2;

pub struct Registry<K, A: Actor> {
    shards: Vec<Mutex<HashMap<K, ActorHandle<A>>>>,
    arbiters: Vec<ArbiterHandle>,
    hasher: RandomState,
    live: AtomicUsize,
    live_max: usize,
    tick: AtomicU64,
}

impl<K: Hash + Eq + Clone, A: Retirable> Registry<K, A> {
    /// `live_max`: live actors past which starting one retires idle ones early (0: no bound).
    pub fn new(arbiters: Vec<ArbiterHandle>, live_max: usize) -> Self {
        assert!(!arbiters.is_empty(), "a registry needs at least one arbiter");
        Registry {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            arbiters,
            hasher: RandomState::new(),
            live: AtomicUsize::new(0),
            live_max,
            tick: AtomicU64::new(0),
        }
    }

    /// Asks the least recently used idle actors in the held shard and a few other shards to
    /// retire, never the one just `started`. `held` is the shard the caller has locked.
    fn evict(&self, held: &mut HashMap<K, ActorHandle<A>>, held_index: usize, started: u64) {
        let mut candidates: Vec<(u64, Addr<A>)> = Vec::new();
        let consider = |candidates: &mut Vec<(u64, Addr<A>)>, shard: &HashMap<K, ActorHandle<A>>| {
            for handle in shard.values() {
                let used = handle.last_used.load(Ordering::Relaxed);
                if used != started && handle.queued.0.load(Ordering::Acquire) == 0 && handle.addr.connected() {
                    candidates.push((used, handle.addr.clone()));
                }
            }
        };
        consider(&mut candidates, held);
        // Further shards, from a rotating start, until the sample is big enough (with few
        // live actors per shard that may take many; with many, one or two).
        let start = self.tick.load(Ordering::Relaxed) as usize;
        for step in 1..SHARDS {
            if candidates.len() >= EVICTION_SAMPLE {
                break;
            }
            let index = (held_index + start + step) % SHARDS;
            // Never wait on another shard while holding one: skip it if busy.
            if let Some(shard) = self.shards[index].try_lock() {
                consider(&mut candidates, &shard);
            }
        }
        candidates.sort_unstable_by_key(|(used, _)| *used);
        for (_, addr) in candidates.into_iter().take(EVICTIONS_PER_START) {
            A::ask_to_retire(&addr);
        }
    }

    fn slot(&self, key: &K) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The live actor for `key`, or the one `start` makes on the key's arbiter, sharing the
    /// given mailbox count. `start` returns `Ok(None)` when the entity does not exist.
    pub fn get_or_start<E>(
        &self,
        key: &K,
        start: impl FnOnce(&ArbiterHandle, Arc<MailboxCount>) -> Result<Option<Addr<A>>, E>,
    ) -> Result<Option<ActorHandle<A>>, E> {
        let slot = self.slot(key);
        let index = slot as usize % SHARDS;
        let tick = self.tick.fetch_add(1, Ordering::Relaxed);
        let mut shard = self.shards[index].lock();
        if let Some(handle) = shard.get(key) {
            if handle.addr.connected() {
                handle.last_used.store(tick, Ordering::Relaxed);
                return Ok(Some(handle.clone()));
            }
        }
        let arbiter = &self.arbiters[(slot >> 32) as usize % self.arbiters.len()];
        let queued = Arc::new(MailboxCount::default());
        let started = start(arbiter, queued.clone())?.map(|addr| ActorHandle {
            addr,
            queued,
            last_used: Arc::new(AtomicU64::new(tick)),
        });
        if let Some(handle) = &started {
            if shard.insert(key.clone(), handle.clone()).is_none() {
                let live = self.live.fetch_add(1, Ordering::AcqRel) + 1;
                if self.live_max > 0 && live > self.live_max {
                    self.evict(&mut shard, index, tick);
                }
            }
        }
        Ok(started)
    }

    /// Forgets `key` if it still points at `addr` (an actor retiring).
    pub fn remove_if(&self, key: &K, addr: &Addr<A>) {
        let mut shard = self.shards[self.slot(key) as usize % SHARDS].lock();
        if shard.get(key).is_some_and(|current| current.addr == *addr) {
            shard.remove(key);
            self.live.fetch_sub(1, Ordering::AcqRel);
        }
    }

    pub fn len(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn addresses(&self) -> Vec<Addr<A>> {
        self.shards
            .iter()
            .flat_map(|shard| {
                shard
                    .lock()
                    .values()
                    .map(|handle| handle.addr.clone())
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}
