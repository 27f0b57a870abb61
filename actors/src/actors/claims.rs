//! In-flight claims on unique keys that span actors (a purchase reference, a contact code,
//! an idempotency key).
//!
//! A claim lives from the moment a command is accepted until its outcome is durable; after
//! that the stored record answers. Two commands for the same key and owner (a retry to the
//! same wallet) share the claim, since one actor serialises them; a different owner is a
//! conflict. This is not a lock on balances (D1): it only keeps two actors from both
//! creating the same unique thing before either has written it.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

const SHARDS: usize = 64;

#[derive(Default)]
struct Shard {
    held: HashMap<Vec<u8>, (u128, usize)>,
}

pub struct Claims {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
}

impl Default for Claims {
    fn default() -> Self {
        Claims {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
        }
    }
}

/// Held while a command is in flight; dropping it releases the claim.
pub struct ClaimGuard {
    claims: Arc<Claims>,
    key: Vec<u8>,
}

impl Claims {
    fn shard(&self, key: &[u8]) -> &Mutex<Shard> {
        &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS]
    }

    /// Claims `key` for `owner`. Fails with the current owner when another holds it.
    pub fn claim(self: &Arc<Self>, key: Vec<u8>, owner: u128) -> Result<ClaimGuard, u128> {
        let mut shard = self.shard(&key).lock();
        match shard.held.get_mut(&key) {
            Some((holder, _)) if *holder != owner => return Err(*holder),
            Some((_, count)) => *count += 1,
            None => {
                shard.held.insert(key.clone(), (owner, 1));
            }
        }
        Ok(ClaimGuard {
            claims: self.clone(),
            key,
        })
    }

    pub fn held(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().held.len()).sum()
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        let mut shard = self.claims.shard(&self.key).lock();
        if let Some((_, count)) = shard.held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                shard.held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_shared_by_one_owner_and_refused_to_another_until_released() {
        let claims = Arc::new(Claims::default());
        let first = claims.claim(b"ref-1".to_vec(), 7).unwrap();
        let again = claims.claim(b"ref-1".to_vec(), 7).unwrap();
        assert_eq!(claims.claim(b"ref-1".to_vec(), 8).err(), Some(7));
        drop(first);
        assert!(claims.claim(b"ref-1".to_vec(), 8).is_err());
        drop(again);
        assert_eq!(claims.held(), 0);
        assert!(claims.claim(b"ref-1".to_vec(), 8).is_ok());
    }
}
