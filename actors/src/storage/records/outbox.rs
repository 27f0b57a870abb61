//! The outboxes: communications (emails, texts) and messages between entities (D5), each
//! waiting to be delivered, by sequence number.

use crate::domain::transfer::ActorMessage;
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
        self.last_seq(&keys::outbox())
    }

    /// Up to `limit` messages between entities waiting in their outbox, oldest first.
    pub fn actor_messages_pending(&self, limit: usize) -> Result<Vec<ActorMessage>, StoreError> {
        self.scan(&keys::actor_outbox(), limit)
    }

    /// The highest sequence number of a message between entities still waiting, 0 for none.
    pub fn actor_outbox_last_seq(&self) -> Result<u64, StoreError> {
        self.last_seq(&keys::actor_outbox())
    }

    /// The highest sequence number under an outbox `prefix` (one byte), 0 for none.
    fn last_seq(&self, prefix: &[u8]) -> Result<u64, StoreError> {
        let logged = self.inner.overlay.prefix(prefix).last().map(|(key, _)| key.to_vec());
        let stored = self
            .inner
            .tables
            .prefix(prefix, true)?
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

    pub fn actor_message(&mut self, message: &ActorMessage) {
        self.put(keys::actor_message(message.seq), encode(message));
    }

    /// A message between entities leaves the outbox once its recipient applied it.
    pub fn actor_message_done(&mut self, seq: u64) {
        self.remove(keys::actor_message(seq));
    }
}
