//! Storage: the only code that names fjall or the commit log (D9).
//!
//! Writers build a [`WriteSet`] of typed records and hand it to [`Store::commit`]; the
//! journal writer makes it durable together with other actors' commits as one packed
//! commit-log record (group commit) and then runs the completion. The deriver applies the
//! records to fjall behind it, one keyspace per record family ([`tables`]); until then they
//! are read from the [`overlay::Overlay`]. Readers use the typed getters below. Nothing
//! outside this module knows keys, prefixes, the codec or the log.
//!
//! On open, the log records fjall has not yet derived are replayed into it before anything
//! else runs, so readers and actors start from everything ever acknowledged.
//!
//! # Why a power cut at any instant loses nothing acknowledged
//!
//! What is synced, in order (each step is a [`durability::Point`], and the tests check the
//! order through a hook on them):
//!
//! 1. **Log record.** A group commit is written to the current log segment and
//!    `fdatasync`'ed; a new segment is created (or renamed into place) and its directory
//!    fsync'ed before a record goes in it. Only then are its commits acknowledged, so
//!    every acknowledged write is in a synced log record. A cut before the sync loses only
//!    writes nobody heard about; a record torn by the cut is the last one, and recovery
//!    cuts it off.
//! 2. **Derived round.** The deriver writes a round (each key once) and the derived LSN it
//!    reaches as **one atomic fjall batch**, then calls `persist(PersistMode::SyncAll)`,
//!    an fsync of fjall's journal holding that batch (fjall fsyncs a new journal file and
//!    its directory when it rotates, and its flushed tables before it drops a journal).
//!    fjall recovers a batch whole or not at all, so after a cut the derived LSN on disk
//!    always matches the records on disk.
//! 3. **Trim.** Only after step 2 returned does the deriver delete log segments, and only
//!    those whose every record is at or below the persisted LSN. A cut before or during
//!    the deletes leaves records that are both derived and logged; replaying them again
//!    changes nothing (puts are overwritten by the same values, appends a page holds are
//!    dropped).
//!
//! So at any instant each acknowledged write is in a synced log segment not yet deleted,
//! or in fjall at or below a persisted derived LSN, and recovery (replay the log after
//! that LSN) rebuilds everything. A failed step (an IO error, or a failure the hook
//! injects) stops acknowledging until a restart, and deletes nothing.
//!
//! # The data dir
//!
//! `<data_dir>/STORE` names the layout (written and fsync'ed when the data dir is first
//! made), `records/` holds fjall, `commit-log/` the log. A data dir that is not empty but
//! has no `STORE` (a copy that lost files, or sled's files from before fjall) is refused,
//! never taken for a first start.

mod backup;
pub mod codec;
mod derive;
pub mod durability;
pub mod keys;
pub mod legacy;
pub mod legacy_orders;
pub mod log;
pub mod overlay;
pub mod page;
mod records;
pub mod tables;
mod verify;
pub mod writer;
mod writes;
pub use backup::BackupSummary;
#[cfg(test)]
pub(crate) use records::{decode_wallet, decode_wallet_event};
pub use records::{IdempotencyRecord, LotExpiry};
pub use verify::{Finding, VerifyReport};
pub use writes::WriteSet;

use crate::domain::access::{RefreshToken, Session, SigningKey, Subject, User};
use crate::domain::budget::BudgetState;
use crate::domain::comms::OutboundMessage;
use crate::domain::contact::{
    Contact, ContactDetails, ContactIdentity, ContactPreferences, IdentityProvider, Membership,
};
use crate::domain::contact_token::ContactTokenRecord;
use crate::domain::ids::{
    ApiKeyId, ContactCode, ContactId, OfferId, OrganisationId, PurchaseId, SchemeId, TapId, Tenant, TokenId, UserId,
    WalletCode, WalletId,
};
use crate::domain::offer::{RewardHistory, RewardOffer};
use crate::domain::organisation::{ApiKeyRecord, Organisation, TapEntry};
use crate::domain::otp::{LinkToken, OneTimePassword};
use crate::domain::purchase::PurchaseRecord;
use crate::domain::scheme::{RewardScheme, SchemeMembership};
use crate::domain::wallet::{Wallet, WalletEvent};
use codec::{decode, encode, CodecError};
use crossbeam_channel::Sender;
use legacy::{decode_offer, decode_purchase, LegacyApiKeyRecord, LegacyOrganisation};
use log::Op;
use overlay::Overlay;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
pub use tables::TableSettings;
use tables::{KeyValue, Tables};
use writer::{Commit, WriterMessage};
pub use writer::{Completion, StorageFailure, WriterSettings};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("fjall: {0}")]
    Fjall(#[from] fjall::Error),
    #[error("a key with prefix byte {0} belongs to no record family")]
    UnknownKey(u8),
    #[error("injected failure: {0}")]
    Injected(String),
    #[error("{0}")]
    DataDir(String),
    #[error("corrupt record under key prefix '{prefix}': {source}")]
    Corrupt { prefix: char, source: CodecError },
    #[error("{0}")]
    Failed(#[from] StorageFailure),
    #[error("the journal writer has stopped")]
    WriterStopped,
    /// Stored wallet events that do not replay (they would overflow or break an invariant).
    #[error("{0}")]
    WalletFault(#[from] crate::domain::wallet::WalletFault),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Log(#[from] log::LogError),
}

#[derive(Clone)]
pub struct StoreSettings {
    pub tables: TableSettings,
    /// How long `open` waits for another instance (a process still exiting, or one just
    /// dropped in this process, whose background threads finish asynchronously) to release
    /// the data dir's lock.
    pub lock_wait_ms: u64,
    pub writer: WriterSettings,
    /// Told of every durability point (tests); `None` in production.
    pub hook: Option<durability::Hook>,
}

impl StoreSettings {
    /// Small sizes for tests: a small fjall, short log segments, rounds a second apart.
    pub fn small() -> StoreSettings {
        StoreSettings {
            tables: TableSettings::small(),
            lock_wait_ms: 5_000,
            writer: WriterSettings {
                batch_events_max: 1024,
                batch_wait_us: 0,
                queue_len_max: 1024,
                log_segment_bytes_max: 1 << 20,
                underived_bytes_max: 64 << 20,
                derive_batch_writes_max: 4096,
                derive_flush_ms: 1_000,
                derive_pause_ms: 0,
            },
            hook: None,
        }
    }
}

struct Inner {
    tables: Arc<Tables>,
    data_dir: PathBuf,
    overlay: Arc<Overlay>,
    writer: parking_lot::Mutex<Option<(Sender<WriterMessage>, JoinHandle<()>)>>,
    sender: Sender<WriterMessage>,
    failed: Arc<AtomicBool>,
    halted: Arc<AtomicBool>,
}

/// One key of a merged scan: what fjall holds under it and what the overlay holds, either
/// or both.
struct MergedItem {
    stored: Option<fjall::Slice>,
    logged: Option<overlay::Bytes>,
}

impl MergedItem {
    /// For a put key: the overlay's value is the newer one.
    fn newest(&self) -> &[u8] {
        match (&self.logged, &self.stored) {
            (Some(logged), _) => logged,
            (None, Some(stored)) => stored,
            (None, None) => &[],
        }
    }

    /// For a history page: fjall's page and the overlay's delta, each entry once.
    fn page_entries(&self) -> Result<Vec<(u64, &[u8])>, StoreError> {
        page::combine(self.stored.as_deref(), self.logged.as_deref()).map_err(corrupt(keys::WALLET_EVENT))
    }
}

/// A fjall scan merged with the overlay's entries in the same key range, key by key.
struct Merged<I: Iterator<Item = Result<KeyValue, StoreError>>> {
    stored: std::iter::Peekable<I>,
    overlay: std::iter::Peekable<std::vec::IntoIter<(overlay::Bytes, overlay::Bytes)>>,
    descending: bool,
}

impl<I: Iterator<Item = Result<KeyValue, StoreError>>> Iterator for Merged<I> {
    type Item = Result<MergedItem, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_key()? {
                // Removed, and not yet removed from fjall: no record.
                Ok(MergedItem {
                    logged: Some(logged), ..
                }) if logged.is_empty() => continue,
                item => return Some(item),
            }
        }
    }
}

impl<I: Iterator<Item = Result<KeyValue, StoreError>>> Merged<I> {
    fn next_key(&mut self) -> Option<Result<MergedItem, StoreError>> {
        let order = match (self.stored.peek(), self.overlay.peek()) {
            (None, None) => return None,
            (Some(Err(_)), _) | (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(Ok((stored_key, _))), Some((logged_key, _))) => {
                let order = stored_key.as_ref().cmp(logged_key.as_ref());
                if self.descending {
                    order.reverse()
                } else {
                    order
                }
            }
        };
        let stored = match order {
            std::cmp::Ordering::Greater => None,
            _ => match self.stored.next()? {
                Ok((_, value)) => Some(value),
                Err(error) => return Some(Err(error)),
            },
        };
        let logged = match order {
            std::cmp::Ordering::Less => None,
            _ => self.overlay.next().map(|(_, value)| value),
        };
        Some(Ok(MergedItem { stored, logged }))
    }
}

fn merged<I: Iterator<Item = Result<KeyValue, StoreError>>>(
    stored: I,
    mut overlay: Vec<(overlay::Bytes, overlay::Bytes)>,
    descending: bool,
) -> Merged<I> {
    if descending {
        overlay.reverse();
    }
    Merged {
        stored: stored.peekable(),
        overlay: overlay.into_iter().peekable(),
        descending,
    }
}

/// The commit log lives beside fjall's directory in the data dir.
pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("commit-log")
}

/// Where fjall keeps the derived records.
pub fn records_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("records")
}

/// The marker naming the data dir's layout.
pub const MARKER_FILE: &str = "STORE";
const MARKER: &str = "rewards-engine store 2: commit log + fjall 3\n";

/// How a data dir looks before it is opened.
enum DataDir {
    /// Absent or empty: a first start.
    New,
    /// Ours, of this layout.
    Ours,
}

/// Checks `dir` before anything is written to it: a first start only on an empty dir,
/// never over a dir that lost its marker or holds sled's files.
fn inspect_data_dir(dir: &Path) -> Result<DataDir, StoreError> {
    let entries: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            // The root of a freshly made ext* file system has one: still an empty volume.
            .filter(|name| name != "lost+found")
            .collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(DataDir::New),
        Err(error) => return Err(error.into()),
    };
    if entries.is_empty() {
        return Ok(DataDir::New);
    }
    match std::fs::read(dir.join(MARKER_FILE)) {
        Ok(marker) if marker == MARKER.as_bytes() => {
            if !records_dir(dir).join("version").exists() {
                return Err(StoreError::DataDir(format!(
                    "{}: the derived records (records/) are missing; restore the data dir from a backup (rewards admin restore)",
                    dir.display()
                )));
            }
            Ok(DataDir::Ours)
        }
        Ok(marker) => Err(StoreError::DataDir(format!(
            "{}: STORE names a layout this version does not read: {:?}",
            dir.display(),
            String::from_utf8_lossy(&marker).trim()
        ))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let sled = entries.iter().any(|name| name == "conf") && entries.iter().any(|name| name == "db");
            Err(StoreError::DataDir(if sled {
                format!(
                    "{}: this data dir was written by the sled version of the engine, which this version does not read; start on a new data dir",
                    dir.display()
                )
            } else {
                format!(
                    "{}: the data dir is not empty ({}) but has no STORE marker; refusing to start over it (a first start needs an empty dir)",
                    dir.display(),
                    entries.join(", ")
                )
            }))
        }
        Err(error) => Err(error.into()),
    }
}

/// Makes `dir` a new data dir: creates it, and fjall's directory, and then writes the
/// marker, synced with its dir. A crash before the marker leaves a dir that the next
/// start refuses (not empty, no marker) rather than one it half trusts.
fn create_data_dir(dir: &Path, settings: &StoreSettings) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir)?;
    drop(Tables::open(
        &records_dir(dir),
        &settings.tables,
        settings.lock_wait_ms,
        None,
    )?);
    write_marker(dir)
}

/// Writes `STORE` and syncs it and its dir: from now on the dir is ours.
fn write_marker(dir: &Path) -> Result<(), StoreError> {
    use std::io::Write;
    let mut file = std::fs::File::create(dir.join(MARKER_FILE))?;
    file.write_all(MARKER.as_bytes())?;
    file.sync_all()?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Derives the log records fjall does not hold yet, a round of at most `ROUND_KEYS` keys at
/// a time, each persisted with the LSN it reaches, then deletes the log they came from.
/// Returns the last LSN in the log or in fjall.
fn recover(tables: &Tables, dir: &Path, hook: &Option<durability::Hook>) -> Result<u64, StoreError> {
    const ROUND_KEYS: usize = 65_536;
    let started = std::time::Instant::now();
    let derived = tables.derived_lsn()?;
    let (mut records, mut writes) = (0u64, 0u64);
    let mut pending = derive::Pending::default();
    let last = log::replay(dir, derived, |record| -> Result<(), StoreError> {
        records += 1;
        writes += record.writes.len() as u64;
        let shared: Vec<overlay::Write> = record
            .writes
            .into_iter()
            .map(|(op, key, value)| (op, overlay::Bytes::from(key), overlay::Bytes::from(value)))
            .collect();
        pending.add(record.lsn, 0, &shared);
        if pending.keys() >= ROUND_KEYS {
            std::mem::take(&mut pending).apply(tables)?;
        }
        Ok(())
    })?;
    if records > 0 {
        if !pending.is_empty() {
            pending.apply(tables)?;
        }
        log::trim(dir, last, hook)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    metrics::gauge!(crate::metrics_names::RECOVERY_SECONDS).set(seconds);
    metrics::gauge!(crate::metrics_names::RECOVERED_RECORDS).set(records as f64);
    if records > 0 {
        tracing::info!(records, writes, seconds, "replayed the commit log into fjall");
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
    /// Opens the data dir in `dir`, making it if it is absent or empty, and replays what
    /// the log holds beyond the derived records.
    pub fn open(dir: &Path, settings: &StoreSettings) -> Result<Store, StoreError> {
        if let DataDir::New = inspect_data_dir(dir)? {
            create_data_dir(dir, settings)?;
        }
        let tables = Arc::new(Tables::open(
            &records_dir(dir),
            &settings.tables,
            settings.lock_wait_ms,
            settings.hook.clone(),
        )?);
        let log_dir = log_dir(dir);
        let last_lsn = recover(&tables, &log_dir, &settings.hook)?;
        let log = log::LogWriter::open(&log_dir, last_lsn + 1, settings.writer.log_segment_bytes_max)?
            .with_hook(settings.hook.clone());
        let failed = Arc::new(AtomicBool::new(false));
        let overlay = Arc::new(Overlay::default());
        let halted = Arc::new(AtomicBool::new(false));
        let shared = writer::Shared {
            tables: tables.clone(),
            overlay: overlay.clone(),
            failed: failed.clone(),
            halted: halted.clone(),
            log_dir,
            hook: settings.hook.clone(),
        };
        let (sender, handle) = writer::spawn(shared, log, settings.writer)?;
        Ok(Store {
            inner: Arc::new(Inner {
                tables,
                data_dir: dir.to_path_buf(),
                overlay,
                writer: parking_lot::Mutex::new(Some((sender.clone(), handle))),
                sender,
                failed,
                halted,
            }),
        })
    }

    /// True when the store holds no record at all, derived or logged (a first start).
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.inner.overlay.is_empty() && self.inner.tables.is_empty()?)
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// Bytes the derived records take on disk (fjall's tables and journals).
    pub fn records_disk_bytes(&self) -> u64 {
        self.inner.tables.disk_bytes()
    }

    /// Stops deriving the commit log into fjall, as a crash between a log flush and its
    /// derived writes would: commits are still logged and acknowledged, reads still see
    /// them (overlay), and the next open must replay them. For crash tests.
    pub fn halt_deriving(&self) {
        self.inner.halted.store(true, Ordering::Release);
    }

    /// As a process killed at this instant: no later commit reaches the log (each fails),
    /// and the deriver stops touching fjall. What is on disk is what a restart recovers.
    /// For crash tests.
    pub fn crash(&self) {
        self.inner.halted.store(true, Ordering::Release);
        self.inner.failed.store(true, Ordering::Release);
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

    /// Up to `limit` records under `prefix`, in key order, from fjall and the overlay merged
    /// (the overlay's value is the newer; a removal there hides fjall's record).
    fn scan<T: serde::de::DeserializeOwned>(&self, prefix: &[u8], limit: usize) -> Result<Vec<T>, StoreError> {
        let logged = self.inner.overlay.prefix(prefix);
        merged(self.inner.tables.prefix(prefix, false)?, logged, false)
            .take(limit)
            .map(|item| decode(item?.newest()).map_err(corrupt(prefix[0])))
            .collect()
    }

    /// `scan` for a record whose layout grew (see `get_or_upgrade`).
    fn scan_or_upgrade<T: serde::de::DeserializeOwned, Old: serde::de::DeserializeOwned>(
        &self,
        prefix: &[u8],
        upgrade: impl Fn(Old) -> T,
    ) -> Result<Vec<T>, StoreError> {
        self.scan_decoded(prefix, |bytes| {
            decode::<T>(bytes).or_else(|_| decode::<Old>(bytes).map(&upgrade))
        })
    }

    /// Every record under `prefix`, read with its own decoder (one that knows every layout
    /// it was written in).
    fn scan_decoded<T>(
        &self,
        prefix: &[u8],
        decoder: impl Fn(&[u8]) -> Result<T, CodecError>,
    ) -> Result<Vec<T>, StoreError> {
        let logged = self.inner.overlay.prefix(prefix);
        merged(self.inner.tables.prefix(prefix, false)?, logged, false)
            .map(|item| decoder(item?.newest()).map_err(corrupt(prefix[0])))
            .collect()
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        // The overlay first: a miss there means the deriver already put it in fjall (or it
        // was never written), so fjall is read second.
        if let Some(bytes) = self.inner.overlay.get(key) {
            if bytes.is_empty() {
                return Ok(None);
            }
            return decode(&bytes).map(Some).map_err(corrupt(key[0]));
        }
        match self.inner.tables.get(key)? {
            None => Ok(None),
            Some(bytes) => decode(&bytes).map(Some).map_err(corrupt(key[0])),
        }
    }

    /// A record whose layout grew: today's layout, or else the older one (a prefix of it,
    /// so its bytes end where the new fields begin and never pass for today's) upgraded.
    fn get_or_upgrade<T: serde::de::DeserializeOwned, Old: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
        upgrade: impl FnOnce(Old) -> T,
    ) -> Result<Option<T>, StoreError> {
        self.get_decoded(key, |bytes| {
            decode::<T>(bytes).or_else(|_| decode::<Old>(bytes).map(upgrade))
        })
    }

    /// A record read with its own decoder (one that knows every layout it was written in).
    fn get_decoded<T>(
        &self,
        key: &[u8],
        decoder: impl FnOnce(&[u8]) -> Result<T, CodecError>,
    ) -> Result<Option<T>, StoreError> {
        let bytes = match self.inner.overlay.get(key) {
            Some(bytes) => bytes.to_vec(),
            None => match self.inner.tables.get(key)? {
                Some(bytes) => bytes.to_vec(),
                None => return Ok(None),
            },
        };
        if bytes.is_empty() {
            return Ok(None);
        }
        decoder(&bytes).map(Some).map_err(corrupt(key[0]))
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

#[cfg(test)]
mod durability_tests;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod verify_tests;
