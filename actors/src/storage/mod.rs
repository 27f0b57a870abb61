//! Storage: the only code that names sled or the commit log (D9).
//!
//! Writers build a [`WriteSet`] of typed records and hand it to [`Store::commit`]; the
//! journal writer makes it durable together with other actors' commits as one packed
//! commit-log record (group commit) and then runs the completion. The deriver applies the
//! records to sled behind it; until then they are read from the [`overlay::Overlay`].
//! Readers use the typed getters below. Nothing outside this module knows keys, prefixes,
//! the codec or the log.
//!
//! On open, the log records sled has not yet derived are replayed into it before anything
//! else runs, so readers and actors start from everything ever acknowledged.

pub mod codec;
pub mod keys;
pub mod log;
pub mod overlay;
pub mod writer;

use crate::domain::contact::Contact;
use crate::domain::ids::{ContactCode, ContactId, OfferId, OrganisationId, PurchaseId, Tenant, WalletCode, WalletId};
use crate::domain::offer::RewardOffer;
use crate::domain::organisation::{ApiKeyRecord, Organisation};
use crate::domain::purchase::PurchaseRecord;
use crate::domain::wallet::{Wallet, WalletEvent};
use codec::{decode, encode, CodecError};
use crossbeam_channel::Sender;
use overlay::Overlay;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    #[error("{0}")]
    Log(#[from] log::LogError),
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
    overlay: Arc<Overlay>,
    writer: parking_lot::Mutex<Option<(Sender<WriterMessage>, JoinHandle<()>)>>,
    sender: Sender<WriterMessage>,
    failed: Arc<AtomicBool>,
    halted: Arc<AtomicBool>,
}

/// A value read from sled or from the overlay.
enum Value {
    Sled(sled::IVec),
    Logged(Arc<[u8]>),
}

impl std::ops::Deref for Value {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Value::Sled(bytes) => bytes,
            Value::Logged(bytes) => bytes,
        }
    }
}

/// A sled scan merged with the overlay's entries in the same key range; the overlay wins
/// where both hold a key (it is newer).
struct Merged<I: Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> {
    sled: std::iter::Peekable<I>,
    overlay: std::iter::Peekable<std::vec::IntoIter<(overlay::Bytes, overlay::Bytes)>>,
    descending: bool,
}

impl<I: Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> Iterator for Merged<I> {
    type Item = Result<Value, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let order = match (self.sled.peek(), self.overlay.peek()) {
            (None, None) => return None,
            (Some(Err(_)), _) | (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(Ok((sled_key, _))), Some((logged_key, _))) => {
                let order = sled_key.as_ref().cmp(logged_key.as_ref());
                if self.descending {
                    order.reverse()
                } else {
                    order
                }
            }
        };
        match order {
            std::cmp::Ordering::Less => self
                .sled
                .next()
                .map(|item| item.map(|(_, value)| Value::Sled(value)).map_err(StoreError::from)),
            std::cmp::Ordering::Equal => {
                self.sled.next();
                self.overlay.next().map(|(_, value)| Ok(Value::Logged(value)))
            }
            std::cmp::Ordering::Greater => self.overlay.next().map(|(_, value)| Ok(Value::Logged(value))),
        }
    }
}

fn merged<I: Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>>(
    sled: I,
    mut overlay: Vec<(overlay::Bytes, overlay::Bytes)>,
    descending: bool,
) -> Merged<I> {
    if descending {
        overlay.reverse();
    }
    Merged {
        sled: sled.peekable(),
        overlay: overlay.into_iter().peekable(),
        descending,
    }
}

/// The commit log lives beside sled's files in the data dir.
pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("commit-log")
}

/// Applies the log records sled has not derived yet, in batches, then flushes sled.
/// Returns the last LSN in the log or in sled.
fn recover(db: &sled::Db, dir: &Path) -> Result<u64, StoreError> {
    const BATCH_WRITES: usize = 65_536;
    let started = std::time::Instant::now();
    let derived = match db.get(keys::derived_lsn())? {
        Some(bytes) => u64::from_be_bytes(bytes.as_ref().try_into().map_err(|_| StoreError::Corrupt {
            prefix: keys::DERIVED_LSN as char,
            source: CodecError::Empty,
        })?),
        None => 0,
    };
    let (mut records, mut writes) = (0u64, 0u64);
    let mut batch = sled::Batch::default();
    let mut in_batch = 0usize;
    let mut last_applied = derived;
    let apply = |batch: &mut sled::Batch, lsn: u64| -> Result<(), StoreError> {
        batch.insert(keys::derived_lsn(), &lsn.to_be_bytes());
        Ok(db.apply_batch(std::mem::take(batch))?)
    };
    let last = log::replay(dir, derived, |record| -> Result<(), StoreError> {
        records += 1;
        writes += record.writes.len() as u64;
        in_batch += record.writes.len();
        for (key, value) in record.writes {
            batch.insert(key, value);
        }
        last_applied = record.lsn;
        if in_batch >= BATCH_WRITES {
            in_batch = 0;
            apply(&mut batch, record.lsn)?;
        }
        Ok(())
    })?;
    if in_batch > 0 {
        apply(&mut batch, last_applied)?;
    }
    if records > 0 {
        db.flush()?;
        log::trim(dir, last_applied)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    metrics::gauge!(crate::metrics_names::RECOVERY_SECONDS).set(seconds);
    metrics::gauge!(crate::metrics_names::RECOVERED_RECORDS).set(records as f64);
    if records > 0 {
        tracing::info!(records, writes, seconds, "replayed the commit log into sled");
    }
    Ok(last.max(derived))
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
        let log_dir = log_dir(dir);
        let last_lsn = recover(&db, &log_dir)?;
        let log = log::LogWriter::open(&log_dir, last_lsn + 1, settings.writer.log_segment_bytes_max)?;
        let failed = Arc::new(AtomicBool::new(false));
        let overlay = Arc::new(Overlay::default());
        let halted = Arc::new(AtomicBool::new(false));
        let shared = writer::Shared {
            db: db.clone(),
            overlay: overlay.clone(),
            failed: failed.clone(),
            derived_lsn: Arc::new(AtomicU64::new(last_lsn)),
            halted: halted.clone(),
            log_dir,
        };
        let (sender, handle) = writer::spawn(shared, log, settings.writer)?;
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                overlay,
                writer: parking_lot::Mutex::new(Some((sender.clone(), handle))),
                sender,
                failed,
                halted,
            }),
        })
    }

    /// Stops deriving the commit log into sled, as a crash between a log flush and its
    /// derived writes would: commits are still logged and acknowledged, reads still see
    /// them (overlay), and the next open must replay them. For crash tests.
    pub fn halt_deriving(&self) {
        self.inner.halted.store(true, Ordering::Release);
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
        // The overlay first: a miss there means the deriver already put it in sled (or it
        // was never written), so sled is read second.
        if let Some(bytes) = self.inner.overlay.get(key) {
            return decode(&bytes).map(Some).map_err(corrupt(key[0]));
        }
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
        // The overlay is read before sled, so an event the deriver moves in between is
        // seen in one or both (the merge keeps one), never in neither.
        let logged = self.inner.overlay.range(&start, &end);
        for item in merged(self.inner.db.range(start..=end), logged, false) {
            let bytes = item?;
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
        let prefix = keys::wallet_events(tenant, id);
        let logged = self.inner.overlay.prefix(&prefix);
        let scan = self.inner.db.scan_prefix(prefix);
        let scan: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = if descending {
            Box::new(scan.rev())
        } else {
            Box::new(scan)
        };
        for item in merged(scan, logged, descending) {
            let bytes = item?;
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
        let prefix = keys::offers(tenant);
        let logged = self.inner.overlay.prefix(&prefix);
        merged(self.inner.db.scan_prefix(prefix), logged, false)
            .map(|item| decode(&item?).map_err(corrupt(keys::OFFER)))
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
