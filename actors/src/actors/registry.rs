//! Finds or starts the actor that owns an entity (D1).
//!
//! Actors are spread over a fixed set of arbiters by a hash of their key. The first message
//! for an entity starts its actor: the caller's `start` closure recovers the state (under
//! the shard lock, so two callers never start two actors for one entity) and starts the
//! actor on the entity's arbiter. An actor removes itself when it retires.
//!
//! Mailboxes are bounded here, not by actix: actix gives every sender clone a guaranteed
//! slot, so with a fresh `Addr` clone per request its capacity never refuses anything. Each
//! actor instead shares a `queued` counter with its [`ActorHandle`]: senders count a message
//! in before sending (refusing past the bound) and the actor counts it out as it takes it.

use actix::{Actor, Addr, ArbiterHandle};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
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

    /// Counts a message out: the actor took it, or it was never delivered.
    pub fn leave(&self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A live actor's address and its mailbox count.
pub struct ActorHandle<A: Actor> {
    pub addr: Addr<A>,
    pub queued: Arc<MailboxCount>,
}

impl<A: Actor> Clone for ActorHandle<A> {
    fn clone(&self) -> Self {
        ActorHandle {
            addr: self.addr.clone(),
            queued: self.queued.clone(),
        }
    }
}

pub struct Registry<K, A: Actor> {
    shards: Vec<Mutex<HashMap<K, ActorHandle<A>>>>,
    arbiters: Vec<ArbiterHandle>,
    hasher: RandomState,
}

impl<K: Hash + Eq + Clone, A: Actor> Registry<K, A> {
    pub fn new(arbiters: Vec<ArbiterHandle>) -> Self {
        assert!(!arbiters.is_empty(), "a registry needs at least one arbiter");
        Registry {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            arbiters,
            hasher: RandomState::new(),
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
        let mut shard = self.shards[slot as usize % SHARDS].lock();
        if let Some(handle) = shard.get(key) {
            if handle.addr.connected() {
                return Ok(Some(handle.clone()));
            }
        }
        let arbiter = &self.arbiters[(slot >> 32) as usize % self.arbiters.len()];
        let queued = Arc::new(MailboxCount::default());
        let started = start(arbiter, queued.clone())?.map(|addr| ActorHandle { addr, queued });
        if let Some(handle) = &started {
            shard.insert(key.clone(), handle.clone());
        }
        Ok(started)
    }

    /// Forgets `key` if it still points at `addr` (an actor retiring).
    pub fn remove_if(&self, key: &K, addr: &Addr<A>) {
        let mut shard = self.shards[self.slot(key) as usize % SHARDS].lock();
        if shard.get(key).is_some_and(|current| current.addr == *addr) {
            shard.remove(key);
        }
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().len()).sum()
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
