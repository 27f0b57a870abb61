//! Deriving fjall's records from commit-log records, sparingly.
//!
//! [`Pending`] gathers many log records and keeps, per key, only what fjall needs: the
//! newest value of a put, and for a history page every entry appended to it. Applying it
//! writes each key once, so a snapshot rewritten ten times, or a page that gained thirty
//! events, costs one write per round rather than one per log write.
//!
//! A round is one atomic fjall batch holding the LSN it reaches, persisted before the log
//! it came from may be deleted. A crash before the persist leaves the previous LSN and
//! recovery replays the round; replaying it again is harmless (puts are overwritten by the
//! same or later values as the replay goes on; appends of entries a page already holds are
//! dropped).

use super::log::Op;
use super::overlay::{Bytes, Write};
use super::tables::{Derived, Tables};
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

    /// Writes every gathered key and the LSN reached as one round (see
    /// [`Tables::write_round`]): durable when this returns `Ok`.
    pub fn apply(self, tables: &Tables) -> Result<Derived, StoreError> {
        let lsn = self.last_lsn;
        tables.write_round(self.puts.into_iter().collect(), self.appends.into_iter().collect(), lsn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{keys, page};
    use std::sync::Arc;

    fn put(key: &[u8], value: &[u8]) -> Write {
        (Op::Put, Arc::from(key), Arc::from(value))
    }

    fn append(key: &[u8], seq: u64) -> Write {
        (Op::Append, Arc::from(key), Arc::from(page::entry(seq, &[seq as u8])))
    }

    pub(crate) fn tables(dir: &std::path::Path) -> Tables {
        let settings = crate::storage::tables::TableSettings::small();
        Tables::open(dir, &settings, 5_000, None).unwrap()
    }

    #[test]
    fn a_round_writes_each_key_once_and_a_replayed_round_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let tables = tables(dir.path());
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
        let derived = pending.apply(&tables).unwrap();
        assert_eq!(derived.pages, vec![(Bytes::from(&b"Ep"[..]), 2)]);
        assert_eq!(tables.get(b"S1").unwrap().unwrap().as_ref(), b"new");
        assert_eq!(tables.derived_lsn().unwrap(), 2, "the LSN is written with the round");
        let seqs = |tables: &Tables| -> Vec<u64> {
            let stored = tables.get(b"Ep").unwrap().unwrap();
            page::entries(&stored)
                .unwrap()
                .into_iter()
                .map(|(seq, _)| seq)
                .collect()
        };
        assert_eq!(seqs(&tables), vec![0, 1, 2]);

        // A crash before the log was trimmed: recovery replays both records again.
        let mut again = Pending::default();
        for (lsn, writes) in &records {
            again.add(*lsn, 10, writes);
        }
        again.apply(&tables).unwrap();
        assert_eq!(seqs(&tables), vec![0, 1, 2], "no entry twice");
        assert_eq!(tables.get(b"S1").unwrap().unwrap().as_ref(), b"new");
        assert_eq!(
            tables.get(keys::derived_lsn()).unwrap().unwrap().as_ref(),
            &2u64.to_be_bytes()
        );
    }

    #[test]
    fn a_removal_removes_and_a_round_is_one_batch_across_families() {
        let dir = tempfile::tempdir().unwrap();
        {
            let tables = tables(dir.path());
            let mut pending = Pending::default();
            pending.add(
                1,
                10,
                &[put(b"P1", b"purchase"), put(b"C1", b"contact"), put(b"B1", b"message")],
            );
            pending.apply(&tables).unwrap();
            let mut pending = Pending::default();
            pending.add(2, 10, &[put(b"B1", b"")]);
            pending.apply(&tables).unwrap();
        }
        let tables = tables(dir.path());
        assert_eq!(tables.get(b"P1").unwrap().unwrap().as_ref(), b"purchase");
        assert_eq!(tables.get(b"C1").unwrap().unwrap().as_ref(), b"contact");
        assert!(tables.get(b"B1").unwrap().is_none());
        assert_eq!(tables.derived_lsn().unwrap(), 2);
    }
}
