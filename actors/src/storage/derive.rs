//! Deriving sled's records from commit-log records, sparingly.
//!
//! [`Pending`] gathers many log records and keeps, per key, only what sled needs: the
//! newest value of a put, and for a history page every entry appended to it. Applying it
//! writes each key once, so a snapshot rewritten ten times, or a page that gained thirty
//! events, costs one sled write per round rather than one per log write.
//!
//! Applying uses plain inserts, not one atomic sled batch: sled's batches take a global
//! write lock that stalls every reader for the whole batch. Atomicity is not needed,
//! because the LSN sled holds (key `L`) is only moved after the round's writes are flushed:
//! a crash half-way leaves `L` where it was and recovery replays the round, and replaying
//! it again is harmless (puts are overwritten by the same or later values as the replay
//! goes on; appends of entries a page already holds are dropped).

use super::keys;
use super::log::Op;
use super::overlay::{Bytes, Write};
use super::page;
use super::StoreError;
use std::collections::BTreeMap;

/// Log records gathered for one round of deriving.
#[derive(Default)]
pub(crate) struct Pending {
    /// The newest value of each put key, with the LSN that wrote it.
    puts: BTreeMap<Bytes, (u64, Bytes)>,
    /// The entries appended to each history page, in order.
    appends: BTreeMap<Bytes, Vec<u8>>,
    /// The last LSN gathered, and the log bytes of the records gathered.
    pub last_lsn: u64,
    pub bytes: u64,
}

/// What a round wrote, for the overlay to forget.
pub(crate) struct Derived {
    /// Put keys with the LSN of the value written.
    pub puts: Vec<(Bytes, u64)>,
    /// Page keys with the highest `seq` the page now holds.
    pub pages: Vec<(Bytes, u64)>,
}

impl Derived {
    pub fn keys(&self) -> usize {
        self.puts.len() + self.pages.len()
    }
}

impl Pending {
    pub fn add(&mut self, lsn: u64, bytes: u64, writes: &[Write]) {
        for (op, key, value) in writes {
            match op {
                Op::Put => {
                    self.puts.insert(key.clone(), (lsn, value.clone()));
                }
                Op::Append => self.appends.entry(key.clone()).or_default().extend_from_slice(value),
            }
        }
        self.last_lsn = lsn;
        self.bytes += bytes;
    }

    pub fn is_empty(&self) -> bool {
        self.last_lsn == 0
    }

    /// Distinct keys the round will write.
    pub fn keys(&self) -> usize {
        self.puts.len() + self.appends.len()
    }

    /// Writes every gathered key into sled (visible to reads at once, durable at the next
    /// flush). A page is read from sled and extended with its new entries. With `threads`
    /// above one the keys are split between that many threads (recovery, where nothing
    /// else runs); keys are distinct, so their order does not matter.
    pub fn apply(self, db: &sled::Db, threads: usize) -> Result<Derived, StoreError> {
        let puts: Vec<(Bytes, (u64, Bytes))> = self.puts.into_iter().collect();
        let pages: Vec<(Bytes, Vec<u8>)> = self.appends.into_iter().collect();
        let threads = threads.clamp(1, 16);
        if threads == 1 || puts.len() + pages.len() < PARALLEL_KEYS_MIN {
            return write(db, &puts, &pages);
        }
        let put_parts: Vec<&[(Bytes, (u64, Bytes))]> = puts.chunks(puts.len().div_ceil(threads).max(1)).collect();
        let page_parts: Vec<&[(Bytes, Vec<u8>)]> = pages.chunks(pages.len().div_ceil(threads).max(1)).collect();
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|index| {
                    let puts = put_parts.get(index).copied().unwrap_or_default();
                    let pages = page_parts.get(index).copied().unwrap_or_default();
                    scope.spawn(move || write(db, puts, pages))
                })
                .collect();
            let mut derived = Derived {
                puts: Vec::with_capacity(puts.len()),
                pages: Vec::with_capacity(pages.len()),
            };
            for worker in workers {
                let part = worker.join().expect("a derive thread panicked")?;
                derived.puts.extend(part.puts);
                derived.pages.extend(part.pages);
            }
            Ok(derived)
        })
    }
}

/// Below this many keys a round is written on the calling thread alone.
const PARALLEL_KEYS_MIN: usize = 4_096;

fn write(db: &sled::Db, puts: &[(Bytes, (u64, Bytes))], pages: &[(Bytes, Vec<u8>)]) -> Result<Derived, StoreError> {
    let mut derived = Derived {
        puts: Vec::with_capacity(puts.len()),
        pages: Vec::with_capacity(pages.len()),
    };
    for (key, (lsn, value)) in puts {
        // An empty value is a removal (`WriteSet::remove`).
        if value.is_empty() {
            db.remove(key.as_ref())?;
        } else {
            db.insert(key.as_ref(), value.as_ref())?;
        }
        derived.puts.push((key.clone(), *lsn));
    }
    let corrupt = |source| StoreError::Corrupt {
        prefix: keys::WALLET_EVENT as char,
        source,
    };
    for (key, added) in pages {
        let base = db.get(key.as_ref())?;
        let (written, last) = page::extend(base.as_deref(), added).map_err(corrupt)?;
        db.insert(key.as_ref(), written)?;
        derived.pages.push((key.clone(), last.unwrap_or(0)));
    }
    Ok(derived)
}

/// Makes everything inserted so far durable, then records that sled holds the log up to
/// `lsn` and makes that durable too. Only then may log records up to `lsn` be deleted.
pub(crate) fn checkpoint(db: &sled::Db, lsn: u64) -> Result<(), StoreError> {
    db.flush()?;
    db.insert(keys::derived_lsn(), &lsn.to_be_bytes())?;
    db.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn put(key: &[u8], value: &[u8]) -> Write {
        (Op::Put, Arc::from(key), Arc::from(value))
    }

    fn append(key: &[u8], seq: u64) -> Write {
        (Op::Append, Arc::from(key), Arc::from(page::entry(seq, &[seq as u8])))
    }

    #[test]
    fn a_round_writes_each_key_once_and_a_replayed_round_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let records: Vec<(u64, Vec<Write>)> = vec![
            (1, vec![put(b"S1", b"old"), append(b"Ep", 0), append(b"Ep", 1)]),
            (2, vec![put(b"S1", b"new"), append(b"Ep", 2), put(b"P9", b"x")]),
        ];
        let mut pending = Pending::default();
        for (lsn, writes) in &records {
            pending.add(*lsn, 10, writes);
        }
        assert_eq!(
            pending.keys(),
            3,
            "two puts of S1 and three appends to one page coalesce"
        );
        let derived = pending.apply(&db, 1).unwrap();
        assert_eq!(derived.pages, vec![(Bytes::from(&b"Ep"[..]), 2)]);
        assert_eq!(db.get(b"S1").unwrap().unwrap().as_ref(), b"new");
        let seqs = |db: &sled::Db| -> Vec<u64> {
            let stored = db.get(b"Ep").unwrap().unwrap();
            page::entries(&stored)
                .unwrap()
                .into_iter()
                .map(|(seq, _)| seq)
                .collect()
        };
        assert_eq!(seqs(&db), vec![0, 1, 2]);

        // A crash before the checkpoint: recovery replays both records again.
        let mut again = Pending::default();
        for (lsn, writes) in &records {
            again.add(*lsn, 10, writes);
        }
        again.apply(&db, 1).unwrap();
        assert_eq!(seqs(&db), vec![0, 1, 2], "no entry twice");
        assert_eq!(db.get(b"S1").unwrap().unwrap().as_ref(), b"new");
        checkpoint(&db, 2).unwrap();
        assert_eq!(
            db.get(keys::derived_lsn()).unwrap().unwrap().as_ref(),
            &2u64.to_be_bytes()
        );
    }

    #[test]
    fn a_round_split_between_threads_writes_what_one_thread_writes() {
        let round = || {
            let mut pending = Pending::default();
            for lsn in 1..=4u64 {
                let writes: Vec<Write> = (0..3_000u64)
                    .flat_map(|n| {
                        let put_key = format!("P{n:05}");
                        let page_key = format!("E{:05}", n % 2_000);
                        [
                            put(put_key.as_bytes(), &lsn.to_be_bytes()),
                            append(page_key.as_bytes(), lsn * 10 + n / 2_000),
                        ]
                    })
                    .collect();
                pending.add(lsn, 100, &writes);
            }
            pending
        };
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let dbs: Vec<sled::Db> = dirs
            .iter()
            .map(|dir| sled::Config::new().path(dir.path()).open().unwrap())
            .collect();
        assert!(round().keys() >= PARALLEL_KEYS_MIN);
        let one = round().apply(&dbs[0], 1).unwrap();
        let two = round().apply(&dbs[1], 2).unwrap();
        assert_eq!((one.puts.len(), one.pages.len()), (two.puts.len(), two.pages.len()));
        let contents = |db: &sled::Db| db.iter().map(|item| item.unwrap()).collect::<Vec<_>>();
        assert_eq!(contents(&dbs[0]), contents(&dbs[1]));
        assert_eq!(contents(&dbs[0]).len(), 5_000);
    }
}
