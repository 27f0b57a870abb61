//! The journal writer (D2) and the deriver.
//!
//! The writer is one thread that turns many actors' commits into one packed commit-log
//! record, one `fdatasync`, and only then runs each commit's completion. Commits are
//! handled strictly in the order they arrive, so a completion also means every earlier
//! commit is durable. A commit with no writes is a barrier: its completion runs once
//! everything sent before it is on disk.
//!
//! The deriver is a second thread that applies logged records to sled, many at a time, with
//! the LSN it reached in the same atomic batch, flushes sled now and then and deletes log
//! segments that are fully derived and flushed. Until a record is derived its writes sit in
//! the [`Overlay`], which every read consults first. The log not yet derived *and flushed*
//! is bounded (`underived_bytes_max`): that bound is what recovery may have to replay, and
//! the writer waits when it is reached.
//!
//! If the log or sled fails, every commit in that batch and every later one completes with
//! an error: nothing more is acknowledged until a restart recovers from what is on disk.

use super::keys;
use super::log::LogWriter;
use super::overlay::{Bytes, Overlay};
use crate::metrics_names as names;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use parking_lot::{Condvar, Mutex};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Runs once the commit is durable (`Ok`) or can never be (`Err`). Runs on the writer
/// thread: it must only hand the outcome on (send a reply), never block.
pub type Completion = Box<dyn FnOnce(Result<(), StorageFailure>) + Send>;

#[derive(Debug, Clone, thiserror::Error)]
#[error("storage failed: {0}")]
pub struct StorageFailure(pub String);

pub(crate) struct Commit {
    pub writes: Vec<(Vec<u8>, Vec<u8>)>,
    pub completion: Completion,
}

pub(crate) enum WriterMessage {
    Commit(Commit),
    /// Finish what was sent before, derive it all, flush, and stop.
    Shutdown,
}

/// Read straight from the `[journal]` section of the settings file.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriterSettings {
    /// Most writes (records) in one group commit.
    pub batch_events_max: usize,
    /// How long the writer waits for more commits once it has one. 0: take what is queued.
    pub batch_wait_us: u64,
    /// Most commits queued for the writer; senders wait when it is full.
    pub queue_len_max: usize,
    /// A commit-log segment file is closed and a new one started past this size.
    pub log_segment_bytes_max: u64,
    /// Most commit-log bytes not yet derived into sled and flushed; the writer waits at
    /// this bound. Recovery replays at most this much.
    pub underived_bytes_max: u64,
    /// Most writes the deriver applies to sled in one batch.
    pub derive_batch_writes_max: usize,
    /// How often the deriver flushes sled (and then trims the log) while it has work.
    pub derive_flush_ms: u64,
    /// A pause after each derive batch; 0 in production. Tests use it to make the deriver
    /// lag on purpose.
    pub derive_pause_ms: u64,
}

/// What the writer has logged and the deriver has not yet flushed to sled, in bytes.
#[derive(Default)]
pub(crate) struct Underived {
    bytes: Mutex<u64>,
    drained: Condvar,
}

impl Underived {
    fn add(&self, bytes: u64) {
        *self.bytes.lock() += bytes;
    }

    fn release(&self, bytes: u64) {
        let mut held = self.bytes.lock();
        *held = held.saturating_sub(bytes);
        metrics::gauge!(names::DERIVE_LAG_BYTES).set(*held as f64);
        self.drained.notify_all();
    }

    /// Waits until fewer than `max` bytes are held, or the store has failed.
    fn wait_below(&self, max: u64, failed: &AtomicBool) {
        let mut held = self.bytes.lock();
        while *held >= max && !failed.load(Ordering::Acquire) {
            self.drained.wait_for(&mut held, Duration::from_millis(50));
        }
    }
}

struct Logged {
    lsn: u64,
    bytes: u64,
    /// Shared with the overlay.
    writes: Vec<(Bytes, Bytes)>,
}

enum DeriverMessage {
    Logged(Logged),
    Shutdown,
}

pub(crate) struct Shared {
    pub db: sled::Db,
    pub overlay: Arc<Overlay>,
    pub failed: Arc<AtomicBool>,
    /// The highest LSN applied to sled (not necessarily flushed).
    pub derived_lsn: Arc<AtomicU64>,
    /// Set by [`super::Store::halt_deriving`]: the deriver stops touching sled at once.
    pub halted: Arc<AtomicBool>,
    pub log_dir: PathBuf,
}

pub(crate) fn spawn(
    shared: Shared,
    log: LogWriter,
    settings: WriterSettings,
) -> std::io::Result<(Sender<WriterMessage>, JoinHandle<()>)> {
    let (sender, receiver) = crossbeam_channel::bounded(settings.queue_len_max.max(1));
    let (derive_sender, derive_receiver) = crossbeam_channel::unbounded();
    let underived = Arc::new(Underived::default());
    let deriver = {
        let deriver = Deriver {
            db: shared.db.clone(),
            overlay: shared.overlay.clone(),
            failed: shared.failed.clone(),
            derived_lsn: shared.derived_lsn.clone(),
            halted: shared.halted.clone(),
            log_dir: shared.log_dir.clone(),
            underived: underived.clone(),
            settings,
        };
        std::thread::Builder::new()
            .name("deriver".into())
            .spawn(move || deriver.run(derive_receiver))?
    };
    let writer = Writer {
        log,
        overlay: shared.overlay,
        failed: shared.failed,
        underived,
        deriver: Some((derive_sender, deriver)),
        settings,
    };
    let handle = std::thread::Builder::new()
        .name("journal-writer".into())
        .spawn(move || writer.run(receiver))?;
    Ok((sender, handle))
}

struct Writer {
    log: LogWriter,
    overlay: Arc<Overlay>,
    failed: Arc<AtomicBool>,
    underived: Arc<Underived>,
    deriver: Option<(Sender<DeriverMessage>, JoinHandle<()>)>,
    settings: WriterSettings,
}

impl Writer {
    fn run(mut self, receiver: Receiver<WriterMessage>) {
        let wait = Duration::from_micros(self.settings.batch_wait_us);
        let mut commits: Vec<Commit> = Vec::with_capacity(1024);
        loop {
            let mut shutdown = false;
            let mut writes = 0usize;
            match receiver.recv() {
                Ok(WriterMessage::Commit(commit)) => {
                    writes += commit.writes.len();
                    commits.push(commit);
                }
                Ok(WriterMessage::Shutdown) | Err(_) => shutdown = true,
            }
            let deadline = Instant::now() + wait;
            while !shutdown && writes < self.settings.batch_events_max {
                let next = match receiver.try_recv() {
                    Ok(message) => Some(message),
                    Err(TryRecvError::Disconnected) => {
                        shutdown = true;
                        None
                    }
                    Err(TryRecvError::Empty) => {
                        let now = Instant::now();
                        if wait.is_zero() || now >= deadline {
                            break;
                        }
                        match receiver.recv_timeout(deadline - now) {
                            Ok(message) => Some(message),
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => {
                                shutdown = true;
                                None
                            }
                        }
                    }
                };
                match next {
                    Some(WriterMessage::Commit(commit)) => {
                        writes += commit.writes.len();
                        commits.push(commit);
                    }
                    Some(WriterMessage::Shutdown) => shutdown = true,
                    None => {}
                }
            }
            if !commits.is_empty() {
                let (outcome, logged) = self.write_batch(&mut commits, writes);
                for commit in commits.drain(..) {
                    (commit.completion)(outcome.clone());
                }
                if let (Some(logged), Some((deriver, _))) = (logged, &self.deriver) {
                    let _ = deriver.send(DeriverMessage::Logged(logged));
                }
            }
            if shutdown {
                // Completions of anything still queued behind the shutdown: refuse them, so
                // no caller waits forever.
                while let Ok(message) = receiver.try_recv() {
                    if let WriterMessage::Commit(commit) = message {
                        (commit.completion)(Err(StorageFailure("journal writer stopped".into())));
                    }
                }
                if let Some((deriver, handle)) = self.deriver.take() {
                    let _ = deriver.send(DeriverMessage::Shutdown);
                    let _ = handle.join();
                }
                return;
            }
        }
    }

    fn write_batch(&mut self, commits: &mut [Commit], writes: usize) -> (Result<(), StorageFailure>, Option<Logged>) {
        if self.failed.load(Ordering::Acquire) {
            return (
                Err(StorageFailure("an earlier write failed; restart to recover".into())),
                None,
            );
        }
        if writes == 0 {
            // Only barriers: everything before them was made durable by an earlier batch.
            return (Ok(()), None);
        }
        let mut batch: Vec<(Bytes, Bytes)> = Vec::with_capacity(writes);
        for commit in commits.iter_mut() {
            batch.extend(
                commit
                    .writes
                    .drain(..)
                    .map(|(key, value)| (Bytes::from(key), Bytes::from(value))),
            );
        }
        self.underived
            .wait_below(self.settings.underived_bytes_max, &self.failed);
        let started = Instant::now();
        let appended = self.log.append(&batch);
        metrics::histogram!(names::JOURNAL_FLUSH_SECONDS).record(started.elapsed().as_secs_f64());
        match appended {
            Ok((lsn, bytes)) => {
                metrics::histogram!(names::JOURNAL_BATCH_WRITES).record(writes as f64);
                metrics::counter!(names::JOURNAL_WRITES_TOTAL).increment(writes as u64);
                // Visible to reads before anyone hears of it, and not before it is durable.
                self.overlay.insert(lsn, &batch);
                self.underived.add(bytes as u64);
                let logged = Logged {
                    lsn,
                    bytes: bytes as u64,
                    writes: batch,
                };
                (Ok(()), Some(logged))
            }
            Err(error) => {
                self.failed.store(true, Ordering::Release);
                tracing::error!(%error, "commit log write failed; refusing further commits");
                (Err(StorageFailure(error.to_string())), None)
            }
        }
    }
}

struct Deriver {
    db: sled::Db,
    overlay: Arc<Overlay>,
    failed: Arc<AtomicBool>,
    derived_lsn: Arc<AtomicU64>,
    halted: Arc<AtomicBool>,
    log_dir: PathBuf,
    underived: Arc<Underived>,
    settings: WriterSettings,
}

impl Deriver {
    fn run(self, receiver: Receiver<DeriverMessage>) {
        let flush_every = Duration::from_millis(self.settings.derive_flush_ms.max(1));
        let pause = Duration::from_millis(self.settings.derive_pause_ms);
        // Bytes applied to sled but not yet flushed, and when sled was last flushed.
        let mut unflushed = 0u64;
        let mut last_flush = Instant::now();
        let mut round: Vec<Logged> = Vec::new();
        let mut pending: Option<Logged> = None;
        let mut shutdown = false;
        loop {
            let first = match pending.take() {
                Some(logged) => Some(logged),
                None if shutdown => None,
                None => match receiver.recv_timeout(flush_every) {
                    Ok(DeriverMessage::Logged(logged)) => Some(logged),
                    Ok(DeriverMessage::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                        shutdown = true;
                        None
                    }
                    Err(RecvTimeoutError::Timeout) => None,
                },
            };
            if let Some(first) = first {
                let mut writes = first.writes.len();
                round.push(first);
                while writes < self.settings.derive_batch_writes_max {
                    match receiver.try_recv() {
                        Ok(DeriverMessage::Logged(logged)) => {
                            if writes + logged.writes.len() > self.settings.derive_batch_writes_max {
                                pending = Some(logged);
                                break;
                            }
                            writes += logged.writes.len();
                            round.push(logged);
                        }
                        Ok(DeriverMessage::Shutdown) | Err(TryRecvError::Disconnected) => {
                            shutdown = true;
                            break;
                        }
                        Err(TryRecvError::Empty) => break,
                    }
                }
                if self.halted.load(Ordering::Acquire) {
                    // As if the process died here: what is left stays only in the log.
                    round.clear();
                    pending = None;
                    if shutdown {
                        return;
                    }
                    continue;
                }
                if !self.failed.load(Ordering::Acquire) {
                    unflushed += self.derive(&mut round);
                }
                round.clear();
                if !pause.is_zero() && !shutdown {
                    std::thread::sleep(pause);
                }
            }
            let due = last_flush.elapsed() >= flush_every
                || unflushed >= self.settings.underived_bytes_max / 4
                || (shutdown && pending.is_none());
            if unflushed > 0 && due && !self.failed.load(Ordering::Acquire) {
                match self.db.flush() {
                    Ok(_) => {
                        self.underived.release(unflushed);
                        unflushed = 0;
                        let derived = self.derived_lsn.load(Ordering::Acquire);
                        if let Err(error) = super::log::trim(&self.log_dir, derived) {
                            tracing::warn!(%error, "could not delete derived commit-log segments");
                        }
                    }
                    Err(error) => self.fail(&error.to_string()),
                }
                last_flush = Instant::now();
            } else if unflushed == 0 {
                last_flush = Instant::now();
            }
            if shutdown && pending.is_none() {
                return;
            }
        }
    }

    /// Applies `round` to sled as one batch with the LSN reached; returns its log bytes.
    fn derive(&self, round: &mut [Logged]) -> u64 {
        let Some(last) = round.last().map(|logged| logged.lsn) else {
            return 0;
        };
        let mut batch = sled::Batch::default();
        let mut writes = 0usize;
        for logged in round.iter() {
            for (key, value) in &logged.writes {
                batch.insert(key.as_ref(), value.as_ref());
            }
            writes += logged.writes.len();
        }
        batch.insert(keys::derived_lsn(), &last.to_be_bytes());
        if let Err(error) = self.db.apply_batch(batch) {
            self.fail(&error.to_string());
            return 0;
        }
        self.derived_lsn.store(last, Ordering::Release);
        for logged in round.iter() {
            self.overlay.remove_derived(logged.lsn, &logged.writes);
        }
        metrics::counter!(names::DERIVED_WRITES_TOTAL).increment(writes as u64);
        round.iter().map(|logged| logged.bytes).sum()
    }

    fn fail(&self, error: &str) {
        // Everything acknowledged stays in the log and the overlay; reads stay right, but
        // nothing more is acknowledged until a restart replays the log.
        self.failed.store(true, Ordering::Release);
        tracing::error!(%error, "deriving the commit log into sled failed; refusing further commits");
        self.underived.drained.notify_all();
    }
}
