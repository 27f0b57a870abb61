//! Writes that are durable in the commit log but not yet derived into sled.
//!
//! The writer adds a group commit's writes here after its `fdatasync` and before any of
//! them is acknowledged; the deriver removes them once sled holds them. Every read checks
//! here first, so a read right after an acknowledgement sees the write however far the
//! deriver lags, and nothing not yet durable is ever visible.
//!
//! Keys and values are shared (`Arc`) with the deriver's copy of the record, so adding a
//! commit copies nothing. The map is split in shards by key hash, so an actor's point read
//! does not wait behind the writer adding a large group commit to one big map; range reads
//! (journals, recovery) visit every shard and merge.

use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::ops::Bound;
use std::sync::Arc;

pub type Bytes = Arc<[u8]>;

const SHARDS: usize = 16;

type Shard = BTreeMap<Bytes, (u64, Bytes)>;

pub struct Overlay {
    shards: Vec<RwLock<Shard>>,
    hasher: RandomState,
}

impl Default for Overlay {
    fn default() -> Self {
        Overlay {
            shards: (0..SHARDS).map(|_| RwLock::new(BTreeMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl Overlay {
    fn shard_of(&self, key: &[u8]) -> usize {
        self.hasher.hash_one(key) as usize % SHARDS
    }

    /// Groups `writes` by shard, as indexes, so each shard is locked once per commit.
    fn by_shard(&self, writes: &[(Bytes, Bytes)]) -> Vec<Vec<usize>> {
        let mut groups = vec![Vec::new(); SHARDS];
        for (index, (key, _)) in writes.iter().enumerate() {
            groups[self.shard_of(key)].push(index);
        }
        groups
    }

    pub fn insert(&self, lsn: u64, writes: &[(Bytes, Bytes)]) {
        for (shard, indexes) in self.by_shard(writes).into_iter().enumerate() {
            if indexes.is_empty() {
                continue;
            }
            let mut entries = self.shards[shard].write();
            for index in indexes {
                let (key, value) = &writes[index];
                entries.insert(key.clone(), (lsn, value.clone()));
            }
        }
    }

    /// Forgets the writes of the commit `lsn`, now in sled, unless a later commit wrote
    /// the same key since.
    pub fn remove_derived(&self, lsn: u64, writes: &[(Bytes, Bytes)]) {
        for (shard, indexes) in self.by_shard(writes).into_iter().enumerate() {
            if indexes.is_empty() {
                continue;
            }
            let mut entries = self.shards[shard].write();
            for index in indexes {
                let key: &[u8] = &writes[index].0;
                if entries.get(key).is_some_and(|(written, _)| *written <= lsn) {
                    entries.remove(key);
                }
            }
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<Bytes> {
        self.shards[self.shard_of(key)]
            .read()
            .get(key)
            .map(|(_, value)| value.clone())
    }

    fn collect(&self, start: &[u8], end: Bound<&[u8]>, keep: impl Fn(&[u8]) -> bool) -> Vec<(Bytes, Bytes)> {
        let mut found = Vec::new();
        for shard in &self.shards {
            let entries = shard.read();
            if entries.is_empty() {
                continue;
            }
            found.extend(
                entries
                    .range::<[u8], _>((Bound::Included(start), end))
                    .take_while(|(key, _)| keep(key))
                    .map(|(key, (_, value))| (key.clone(), value.clone())),
            );
        }
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        found
    }

    /// The entries with keys in `[start, end]`, in key order.
    pub fn range(&self, start: &[u8], end: &[u8]) -> Vec<(Bytes, Bytes)> {
        self.collect(start, Bound::Included(end), |_| true)
    }

    /// The entries whose keys start with `prefix`, in key order.
    pub fn prefix(&self, prefix: &[u8]) -> Vec<(Bytes, Bytes)> {
        self.collect(prefix, Bound::Unbounded, |key| key.starts_with(prefix))
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.shards.iter().all(|shard| shard.read().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(key: &[u8], value: &[u8]) -> (Bytes, Bytes) {
        (Arc::from(key), Arc::from(value))
    }

    #[test]
    fn reads_see_the_newest_write_until_it_is_derived() {
        let overlay = Overlay::default();
        let first = vec![write(b"Ea1", b"1"), write(b"Ea2", b"2"), write(b"Pz", b"p")];
        let second = vec![write(b"Ea2", b"2b"), write(b"Eb1", b"3")];
        overlay.insert(1, &first);
        overlay.insert(2, &second);
        assert_eq!(overlay.get(b"Ea2").as_deref(), Some(&b"2b"[..]));
        let keys = |found: Vec<(Bytes, Bytes)>| found.into_iter().map(|(k, _)| k.to_vec()).collect::<Vec<_>>();
        assert_eq!(keys(overlay.prefix(b"Ea")), vec![b"Ea1".to_vec(), b"Ea2".to_vec()]);
        assert_eq!(
            keys(overlay.range(b"Ea2", b"Eb9")),
            vec![b"Ea2".to_vec(), b"Eb1".to_vec()]
        );
        // Deriving commit 1 keeps the key commit 2 wrote again.
        overlay.remove_derived(1, &first);
        assert_eq!(overlay.get(b"Ea1"), None);
        assert_eq!(overlay.get(b"Ea2").as_deref(), Some(&b"2b"[..]));
        overlay.remove_derived(2, &second);
        assert!(overlay.is_empty());
    }
}
