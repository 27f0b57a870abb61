//! Finds or starts the actor that owns an entity (D1).
//!
//! Actors are spread over a fixed set of arbiters by a hash of their key. The first message
//! for an entity starts its actor: the caller's `start` closure recovers the state (under
//! the shard lock, so two callers never start two actors for one entity) and starts the
//! actor on the entity's arbiter. An actor removes itself when it retires.

use actix::{Actor, Addr, ArbiterHandle};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};

const SHARDS: usize = 64;

pub struct Registry<K, A: Actor> {
    shards: Vec<Mutex<HashMap<K, Addr<A>>>>,
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

    /// The live actor for `key`, or the one `start` makes on the key's arbiter. `start`
    /// returns `Ok(None)` when the entity does not exist.
    pub fn get_or_start<E>(
        &self,
        key: &K,
        start: impl FnOnce(&ArbiterHandle) -> Result<Option<Addr<A>>, E>,
    ) -> Result<Option<Addr<A>>, E> {
        let slot = self.slot(key);
        let mut shard = self.shards[slot as usize % SHARDS].lock();
        if let Some(addr) = shard.get(key) {
            if addr.connected() {
                return Ok(Some(addr.clone()));
            }
        }
        let arbiter = &self.arbiters[(slot >> 32) as usize % self.arbiters.len()];
        let started = start(arbiter)?;
        if let Some(addr) = &started {
            shard.insert(key.clone(), addr.clone());
        }
        Ok(started)
    }

    /// Forgets `key` if it still points at `addr` (an actor retiring).
    pub fn remove_if(&self, key: &K, addr: &Addr<A>) {
        let mut shard = self.shards[self.slot(key) as usize % SHARDS].lock();
        if shard.get(key).is_some_and(|current| current == addr) {
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
            .flat_map(|shard| shard.lock().values().cloned().collect::<Vec<_>>())
            .collect()
    }
}
