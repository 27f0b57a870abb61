//! Writes that are durable in the commit log but not yet derived into fjall.
//!
//! The writer adds a group commit's writes here after its `fdatasync` and before any of
//! them is acknowledged; the deriver removes them once fjall holds them. Every read checks
//! here first, so a read right after an acknowledgement sees the write however far the
//! deriver lags, and nothing not yet durable is ever visible.
//!
//! Keys and values are shared (`Arc`) with the deriver's copy of the record, so adding a
//! commit copies nothing. The map is split in shards by key hash, so an actor's point read
//! does not wait behind the writer adding a large group commit to one big map; prefix reads
//! (journals) visit every shard and merge.

use super::log::Op;
use super::page;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};
use std::ops::Bound;
use std::sync::Arc;

pub type Bytes = Arc<[u8]>;

const SHARDS: usize = 16;

/// A key's state in the overlay: for a put, the value; for a history page, the entries
/// appended since the deriver last wrote it (a delta, itself a page).
#[derive(Debug, Clone)]
pub struct Entry {
    pub lsn: u64,
    pub value: Bytes,
}

type Shard = BTreeMap<Bytes, Entry>;

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

/// A logged write as the writer and deriver hold it.
pub type Write = (Op, Bytes, Bytes);

impl Overlay {
    fn shard_of(&self, key: &[u8]) -> usize {
        self.hasher.hash_one(key) as usize % SHARDS
    }

    /// Groups `keys` by shard, as indexes, so each shard is locked once per call.
    fn by_shard<'a>(&self, keys: impl Iterator<Item = &'a [u8]>) -> Vec<Vec<usize>> {
        let mut groups = vec![Vec::new(); SHARDS];
        for (index, key) in keys.enumerate() {
            groups[self.shard_of(key)].push(index);
        }
        groups
    }

    /// Adds the writes of commit `lsn`: a put replaces the key's value, an append adds its
    /// entry to the key's delta.
    pub fn insert(&self, lsn: u64, writes: &[Write]) {
        for (shard, indexes) in self
            .by_shard(writes.iter().map(|(_, key, _)| key.as_ref()))
            .into_iter()
            .enumerate()
        {
            if indexes.is_empty() {
                continue;
            }
            let mut entries = self.shards[shard].write();
            for index in indexes {
                let (op, key, value) = &writes[index];
                let value = match (op, entries.get(key.as_ref())) {
                    (Op::Put, _) => value.clone(),
                    (Op::Append, Some(delta)) => {
                        let mut extended = Vec::with_capacity(delta.value.len() + value.len());
                        extended.extend_from_slice(&delta.value);
                        extended.extend_from_slice(value);
                        Bytes::from(extended)
                    }
                    (Op::Append, None) => {
                        let mut fresh = page::empty();
                        fresh.extend_from_slice(value);
                        Bytes::from(fresh)
                    }
                };
                entries.insert(key.clone(), Entry { lsn, value });
            }
        }
    }

    /// Forgets what the deriver has now put in fjall: each put key whose newest write is at
    /// or below `lsn`, and from each page's delta the entries up to the `seq` written.
    pub fn remove_derived(&self, puts: &[(Bytes, u64)], pages: &[(Bytes, u64)]) {
        let keys = puts.iter().chain(pages).map(|(key, _)| key.as_ref());
        for (shard, indexes) in self.by_shard(keys).into_iter().enumerate() {
            if indexes.is_empty() {
                continue;
            }
            let mut entries = self.shards[shard].write();
            for index in indexes {
                if index < puts.len() {
                    let (key, lsn) = &puts[index];
                    if entries.get(key.as_ref()).is_some_and(|entry| entry.lsn <= *lsn) {
                        entries.remove(key.as_ref());
                    }
                    continue;
                }
                let (key, written) = &pages[index - puts.len()];
                let Some(delta) = entries.get_mut(key.as_ref()) else {
                    continue;
                };
                // Deltas are built from entries the writer checked, so they parse; a
                // delta that did not would stay (and reads would report it).
                let Ok(all) = page::entries(&delta.value) else {
                    continue;
                };
                let mut kept = page::empty();
                let mut any = false;
                for (seq, event) in all.into_iter().filter(|(seq, _)| seq > written) {
                    page::push_entry(&mut kept, seq, event);
                    any = true;
                }
                if any {
                    delta.value = Bytes::from(kept);
                } else {
                    entries.remove(key.as_ref());
                }
            }
        }
    }

    /// What the overlay holds under `key`: a put's value, or a history page's delta.
    /// True when no write waits to be derived.
    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(|shard| shard.read().is_empty())
    }

    pub fn get(&self, key: &[u8]) -> Option<Bytes> {
        self.shards[self.shard_of(key)]
            .read()
            .get(key)
            .map(|entry| entry.value.clone())
    }

    /// The entries whose keys start with `prefix`, in key order.
    pub fn prefix(&self, prefix: &[u8]) -> Vec<(Bytes, Bytes)> {
        let mut found = Vec::new();
        for shard in &self.shards {
            let entries = shard.read();
            if entries.is_empty() {
                continue;
            }
            found.extend(
                entries
                    .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
                    .take_while(|(key, _)| key.starts_with(prefix))
                    .map(|(key, entry)| (key.clone(), entry.value.clone())),
            );
        }
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(key: &[u8], value: &[u8]) -> Write {
        (Op::Put, Arc::from(key), Arc::from(value))
    }

    fn append(key: &[u8], seq: u64, event: &[u8]) -> Write {
        (Op::Append, Arc::from(key), Arc::from(page::entry(seq, event)))
    }

    fn seqs(delta: &[u8]) -> Vec<u64> {
        page::entries(delta).unwrap().into_iter().map(|(seq, _)| seq).collect()
    }

    #[test]
    fn reads_see_the_newest_put_until_it_is_derived() {
        let overlay = Overlay::default();
        overlay.insert(1, &[put(b"Ca1", b"1"), put(b"Ca2", b"2"), put(b"Pz", b"p")]);
        overlay.insert(2, &[put(b"Ca2", b"2b"), put(b"Cb1", b"3")]);
        assert_eq!(overlay.get(b"Ca2").as_deref(), Some(&b"2b"[..]));
        let keys = |found: Vec<(Bytes, Bytes)>| found.into_iter().map(|(k, _)| k.to_vec()).collect::<Vec<_>>();
        assert_eq!(keys(overlay.prefix(b"Ca")), vec![b"Ca1".to_vec(), b"Ca2".to_vec()]);
        assert_eq!(
            keys(overlay.prefix(b"C")),
            vec![b"Ca1".to_vec(), b"Ca2".to_vec(), b"Cb1".to_vec()]
        );
        // Deriving up to commit 1 keeps the key commit 2 wrote again.
        let derived = |keys: &[&[u8]], lsn| keys.iter().map(|key| (Bytes::from(*key), lsn)).collect::<Vec<_>>();
        overlay.remove_derived(&derived(&[b"Ca1", b"Ca2", b"Pz"], 1), &[]);
        assert_eq!(overlay.get(b"Ca1"), None);
        assert_eq!(overlay.get(b"Ca2").as_deref(), Some(&b"2b"[..]));
        overlay.remove_derived(&derived(&[b"Ca2", b"Cb1"], 2), &[]);
        assert!(overlay.is_empty());
    }

    #[test]
    fn appends_gather_in_a_delta_that_deriving_trims() {
        let overlay = Overlay::default();
        overlay.insert(1, &[append(b"Ew0", 0, b"a"), append(b"Ew0", 1, b"b")]);
        overlay.insert(2, &[append(b"Ew0", 2, b"c")]);
        let delta = overlay.prefix(b"Ew").remove(0).1;
        assert_eq!(seqs(&delta), vec![0, 1, 2]);
        // The deriver wrote the page up to seq 1; entry 2 stays until it is written too.
        overlay.remove_derived(&[], &[(Bytes::from(&b"Ew0"[..]), 1)]);
        assert_eq!(seqs(&overlay.prefix(b"Ew").remove(0).1), vec![2]);
        overlay.remove_derived(&[], &[(Bytes::from(&b"Ew0"[..]), 2)]);
        assert!(overlay.is_empty());
    }
}
