//! The communications outbox: messages waiting to be delivered, by sequence number.

use crate::storage::*;

impl Store {
    pub fn outbox_message(&self, seq: u64) -> Result<Option<OutboundMessage>, StoreError> {
        self.get(&keys::outbox_message(seq))
    }

    /// Up to `limit` messages waiting in the outbox, oldest first.
    pub fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboundMessage>, StoreError> {
        let prefix = keys::outbox();
        self.scan(&prefix, limit)
    }

    /// The highest outbox sequence number used, 0 for none.
    pub fn outbox_last_seq(&self) -> Result<u64, StoreError> {
        let prefix = keys::outbox();
        let logged = self.inner.overlay.prefix(&prefix).last().map(|(key, _)| key.to_vec());
        let stored = self
            .inner
            .tables
            .prefix(&prefix, true)?
            .next()
            .transpose()?
            .map(|(key, _)| key.to_vec());
        let seq = |key: Option<Vec<u8>>| {
            key.and_then(|key| {
                key.get(1..9)
                    .map(|bytes| u64::from_be_bytes(bytes.try_into().expect("8 bytes")))
            })
            .unwrap_or(0)
        };
        Ok(seq(logged).max(seq(stored)))
    }
}

impl WriteSet {
    pub fn outbox_message(&mut self, message: &OutboundMessage) {
        self.put(keys::outbox_message(message.seq), encode(message));
    }

    /// A message leaves the outbox once delivered or given up.
    pub fn outbox_done(&mut self, seq: u64) {
        self.remove(keys::outbox_message(seq));
    }
}
