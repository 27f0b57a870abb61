//! The write side: a `WriteSet` gathers the records of one commit, one method per record
//! family, each naming its key (see `keys`) and encoding its value.

use super::*;

/// Records to write atomically in one commit.
/// Clone, so a command holding one can be sent again to a fresh actor.
#[derive(Debug, Default, Clone)]
pub struct WriteSet {
    pub(in crate::storage) writes: Vec<(Op, Vec<u8>, Vec<u8>)>,
}

impl WriteSet {
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Adds another set's writes after this one's (one atomic commit).
    pub fn extend(&mut self, other: WriteSet) {
        self.writes.extend(other.writes);
    }

    /// Every record but history is a put: the value replaces the key's.
    pub(in crate::storage) fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        debug_assert!(!value.is_empty(), "an empty value is a removal");
        self.writes.push((Op::Put, key, value));
    }

    /// A removal is a put of nothing: reads see no record (every encoded record has at least
    /// its version byte), and the deriver removes the key from fjall.
    pub(in crate::storage) fn remove(&mut self, key: Vec<u8>) {
        self.writes.push((Op::Put, key, Vec::new()));
    }
}
