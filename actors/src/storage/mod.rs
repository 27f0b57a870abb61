//! Storage: the only code that names sled (D9).
//!
//! Writers build a [`WriteSet`] of typed records and hand it to [`Store::commit`]; the
//! journal writer makes it durable together with other actors' commits (group commit) and
//! then runs the completion. Readers use the typed getters below. Nothing outside this
//! module knows keys, prefixes or the codec, so the commit format can change (a packed
//! commit log) without touching actors, rules or handlers.

pub mod codec;
pub mod keys;
pub mod writer;

use crate::domain::contact::Contact;
use crate::domain::ids::{ContactCode, ContactId, OfferId, OrganisationId, PurchaseId, Tenant, WalletCode, WalletId};
use crate::domain::offer::RewardOffer;
use crate::domain::organisation::{ApiKeyRecord, Organisation};
use crate::domain::purchase::PurchaseRecord;
use crate::domain::wallet::{Wallet, WalletEvent};
use codec::{decode, encode, CodecError};
use crossbeam_channel::Sender;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use writer::{Commit, WriterMessage};
pub use writer::{Completion, StorageFailure, WriterSettings};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("corrupt record under key prefix '{prefix}': {source}")]
    Corrupt { prefix: char, source: CodecError },
    #[error("{0}")]
    Failed(#[from] StorageFailure),
    #[error("the journal writer has stopped")]
    WriterStopped,
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub cache_capacity_bytes: u64,
    /// How long `open` waits for another sled instance (a process still exiting, or one
    /// just dropped in this process, whose IO threads finish asynchronously) to release the
    /// data dir's lock.
    pub lock_wait_ms: u64,
    pub writer: WriterSettings,
}

/// The stored outcome of an `Idempotency-Key` command: the body it came with and the
/// resource it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub body_hash: [u8; 32],
    pub resource_id: uuid::Uuid,
}

/// Records to write atomically in one commit.
#[derive(Debug, Default)]
pub struct WriteSet {
    writes: Vec<(Vec<u8>, Vec<u8>)>,
}

impl WriteSet {
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
    pub fn contact(&mut self, contact: &Contact) {
        self.writes
            .push((keys::contact(&contact.tenant, contact.id), encode(contact)));
    }
    pub fn contact_code(&mut self, tenant: &Tenant, code: &ContactCode, id: ContactId) {
        self.writes.push((keys::contact_code(tenant, code), encode(&id)));
    }
    pub fn wallet_code(&mut self, tenant: &Tenant, code: &WalletCode, contact: ContactId) {
        self.writes.push((keys::wallet_code(tenant, code), encode(&contact)));
    }
    pub fn wallet_snapshot(&mut self, wallet: &Wallet) {
        let header = &wallet.header;
        self.writes
            .push((keys::wallet_snapshot(&header.tenant, header.id), encode(wallet)));
    }
    pub fn wallet_event(&mut self, tenant: &Tenant, wallet: WalletId, event: &WalletEvent) {
        self.writes
            .push((keys::wallet_event(tenant, wallet, event.seq), encode(event)));
    }
    pub fn purchase(&mut self, purchase: &PurchaseRecord) {
        self.writes
            .push((keys::purchase(&purchase.tenant, purchase.id), encode(purchase)));
    }
    pub fn offer(&mut self, tenant: &Tenant, offer: &RewardOffer) {
        self.writes.push((keys::offer(tenant, offer.id), encode(offer)));
    }
    pub fn idempotency(&mut self, tenant: &Tenant, key_hash: &[u8; 32], record: &IdempotencyRecord) {
        self.writes.push((keys::idempotency(tenant, key_hash), encode(record)));
    }
    pub fn organisation(&mut self, organisation: &Organisation) {
        self.writes
            .push((keys::organisation(organisation.id), encode(organisation)));
    }
    pub fn api_key(&mut self, key_hash: &[u8; 32], record: &ApiKeyRecord) {
        self.writes.push((keys::api_key(key_hash), encode(record)));
    }
    pub fn meta(&mut self, name: &str, value: &[u8]) {
        self.writes.push((keys::meta(name), encode(&value.to_vec())));
    }
}

struct Inner {
    db: sled::Db,
    writer: parking_lot::Mutex<Option<(Sender<WriterMessage>, JoinHandle<()>)>>,
    sender: Sender<WriterMessage>,
    failed: Arc<AtomicBool>,
}

/// Cheap to clone; all clones share one database and one journal writer.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

fn corrupt(prefix: u8) -> impl FnOnce(CodecError) -> StoreError {
    move |source| StoreError::Corrupt {
        prefix: prefix as char,
        source,
    }
}

impl Store {
    pub fn open(dir: &Path, settings: &StoreSettings) -> Result<Store, StoreError> {
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(settings.cache_capacity_bytes)
            .mode(sled::Mode::HighThroughput)
            // Durability comes from the writer's explicit flush (D2), not a timer.
            .flush_every_ms(None);
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(settings.lock_wait_ms);
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                // sled reports a held lock only as an io error with this text.
                Err(sled::Error::Io(error))
                    if error.to_string().contains("could not acquire lock") && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(error) => return Err(error.into()),
            }
        };
        let failed = Arc::new(AtomicBool::new(false));
        let (sender, handle) = writer::spawn(db.clone(), settings.writer, failed.clone())?;
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                writer: parking_lot::Mutex::new(Some((sender.clone(), handle))),
                sender,
                failed,
            }),
        })
    }

    /// Queues a commit; `completion` runs once it is durable (or can never be). Blocks while
    /// the writer's queue is full: back-pressure on the actors.
    pub fn commit(&self, writes: WriteSet, completion: Completion) {
        let commit = Commit {
            writes: writes.writes,
            completion,
        };
        if let Err(error) = self.inner.sender.send(WriterMessage::Commit(commit)) {
            if let WriterMessage::Commit(commit) = error.into_inner() {
                (commit.completion)(Err(StorageFailure("journal writer stopped".into())));
            }
        }
    }

    /// Commits and waits, for rare administrative writes made outside actors.
    pub fn commit_and_wait(&self, writes: WriteSet) -> Result<(), StoreError> {
        let (sender, receiver) = crossbeam_channel::bounded(1);
        self.commit(writes, Box::new(move |outcome| drop(sender.send(outcome))));
        receiver
            .recv()
            .map_err(|_| StoreError::WriterStopped)?
            .map_err(StoreError::from)
    }

    /// The async twin of `commit_and_wait`.
    pub async fn commit_async(&self, writes: WriteSet) -> Result<(), StoreError> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        self.commit(writes, Box::new(move |outcome| drop(sender.send(outcome))));
        receiver
            .await
            .map_err(|_| StoreError::WriterStopped)?
            .map_err(StoreError::from)
    }

    pub fn has_failed(&self) -> bool {
        self.inner.failed.load(Ordering::Acquire)
    }

    /// Stops the writer after everything queued so far is durable. Later commits fail.
    pub fn shutdown(&self) {
        let taken = self.inner.writer.lock().take();
        if let Some((sender, handle)) = taken {
            let _ = sender.send(WriterMessage::Shutdown);
            let _ = handle.join();
        }
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.inner.db.get(key)? {
            None => Ok(None),
            Some(bytes) => decode(&bytes).map(Some).map_err(corrupt(key[0])),
        }
    }

    pub fn contact(&self, tenant: &Tenant, id: ContactId) -> Result<Option<Contact>, StoreError> {
        self.get(&keys::contact(tenant, id))
    }

    pub fn contact_by_code(&self, tenant: &Tenant, code: &ContactCode) -> Result<Option<ContactId>, StoreError> {
        self.get(&keys::contact_code(tenant, code))
    }

    /// The contact whose wallet has this code.
    pub fn contact_by_wallet_code(&self, tenant: &Tenant, code: &WalletCode) -> Result<Option<ContactId>, StoreError> {
        self.get(&keys::wallet_code(tenant, code))
    }

    /// A wallet as of its last durable event: latest snapshot plus the events after it.
    pub fn load_wallet(&self, tenant: &Tenant, id: WalletId) -> Result<Option<Wallet>, StoreError> {
        Ok(self.recover_wallet(tenant, id)?.map(|(wallet, _)| wallet))
    }

    /// As `load_wallet`, also saying how many events were replayed after the snapshot, so
    /// the actor knows when the next snapshot is due.
    pub fn recover_wallet(&self, tenant: &Tenant, id: WalletId) -> Result<Option<(Wallet, u64)>, StoreError> {
        let Some(mut wallet) = self.get::<Wallet>(&keys::wallet_snapshot(tenant, id))? else {
            return Ok(None);
        };
        let snapshot_seq = wallet.next_seq();
        wallet.restore_indexes();
        let start = keys::wallet_event(tenant, id, wallet.next_seq());
        let end = keys::wallet_event(tenant, id, u64::MAX);
        for item in self.inner.db.range(start..=end) {
            let (_, bytes) = item?;
            let event: WalletEvent = decode(&bytes).map_err(corrupt(keys::WALLET_EVENT))?;
            wallet.replay(&event);
        }
        let replayed = wallet.next_seq() - snapshot_seq;
        Ok(Some((wallet, replayed)))
    }

    /// Visits a wallet's events in one scan, newest first when `descending`, until `visit`
    /// returns `false`.
    pub fn visit_wallet_events(
        &self,
        tenant: &Tenant,
        id: WalletId,
        descending: bool,
        mut visit: impl FnMut(WalletEvent) -> bool,
    ) -> Result<(), StoreError> {
        let scan = self.inner.db.scan_prefix(keys::wallet_events(tenant, id));
        let scan: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = if descending {
            Box::new(scan.rev())
        } else {
            Box::new(scan)
        };
        for item in scan {
            let (_, bytes) = item?;
            if !visit(decode(&bytes).map_err(corrupt(keys::WALLET_EVENT))?) {
                break;
            }
        }
        Ok(())
    }

    /// Every event of a wallet, oldest first (tests and checks).
    pub fn all_wallet_events(&self, tenant: &Tenant, id: WalletId) -> Result<Vec<WalletEvent>, StoreError> {
        let mut events = Vec::new();
        self.visit_wallet_events(tenant, id, false, |event| {
            events.push(event);
            true
        })?;
        Ok(events)
    }

    pub fn purchase(&self, tenant: &Tenant, id: PurchaseId) -> Result<Option<PurchaseRecord>, StoreError> {
        self.get(&keys::purchase(tenant, id))
    }

    pub fn offer(&self, tenant: &Tenant, id: OfferId) -> Result<Option<RewardOffer>, StoreError> {
        self.get(&keys::offer(tenant, id))
    }

    pub fn offers(&self, tenant: &Tenant) -> Result<Vec<RewardOffer>, StoreError> {
        self.inner
            .db
            .scan_prefix(keys::offers(tenant))
            .map(|item| {
                let (_, bytes) = item?;
                decode(&bytes).map_err(corrupt(keys::OFFER))
            })
            .collect()
    }

    pub fn idempotency(&self, tenant: &Tenant, key_hash: &[u8; 32]) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get(&keys::idempotency(tenant, key_hash))
    }

    pub fn organisation(&self, id: OrganisationId) -> Result<Option<Organisation>, StoreError> {
        self.get(&keys::organisation(id))
    }

    pub fn api_key(&self, key_hash: &[u8; 32]) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get(&keys::api_key(key_hash))
    }

    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&keys::meta(name))
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some((sender, handle)) = self.writer.get_mut().take() {
            let _ = sender.send(WriterMessage::Shutdown);
            let _ = handle.join();
        }
    }
}
