//! The journal writer (D2) and the deriver.
//!
//! The writer is one thread that turns many actors' commits into one packed commit-log
//! record, one `fdatasync`, and only then runs each commit's completion. Commits are
//! handled strictly in the order they arrive, so a completion also means every earlier
//! commit is durable. A commit with no writes is a barrier: its completion runs once
//! everything sent before it is on disk.
//!
//! The deriver is a second thread that gathers logged records for a round
//! (`derive_flush_ms`, or sooner when a bound is reached), writes each key they touch once
//! ([`Pending`]) in one fjall batch with the LSN reached, persists it with an fsync, and
//! only then deletes log segments that are fully derived. Until a record is derived its writes sit in the [`Overlay`], which every
//! read consults first. The log not yet derived *and flushed*
//! is bounded (`underived_bytes_max`): that bound is what recovery may have to replay, and
//! the writer waits when it is reached.
//!
//! If the log or fjall fails, every commit in that batch and every later one completes with
//! an error: nothing more is acknowledged until a restart recovers from what is on disk.

use super::derive::Pending;
use super::durability::{self, Hook, Point};
use super::log::{LogWriter, Op};
use super::overlay::{Bytes, Overlay, Write};
use super::tables::Tables;
use crate::metrics_names as names;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use parking_lot::{Condvar, Mutex};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
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
    pub writes: Vec<(Op, Vec<u8>, Vec<u8>)>,
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
    /// Most commit-log bytes not yet derived into fjall and persisted; the writer waits at
    /// this bound. Recovery replays at most this much.
    pub underived_bytes_max: u64,
    /// Most distinct keys the deriver gathers before it writes a round to fjall.
    pub derive_batch_writes_max: usize,
    /// How long the deriver gathers log records before it writes them to fjall as one round
    /// (each key once), persists it, and trims the log. Longer rounds write fewer keys.
    pub derive_flush_ms: u64,
    /// A pause after each round; 0 in production. Tests use it to make the deriver lag on
    /// purpose.
    pub derive_pause_ms: u64,
}

/// What the writer has logged and the deriver has not yet persisted in fjall, in bytes.
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
    writes: Vec<Write>,
}

enum DeriverMessage {
    Logged(Logged),
    Shutdown,
}

pub(crate) struct Shared {
    pub tables: Arc<Tables>,
    pub overlay: Arc<Overlay>,
    pub failed: Arc<AtomicBool>,
    /// Set by [`super::Store::halt_deriving`]: the deriver stops touching fjall at once.
    pub halted: Arc<AtomicBool>,
    pub log_dir: PathBuf,
    pub hook: Option<Hook>,
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
            tables: shared.tables.clone(),
            hook: shared.hook.clone(),
            overlay: shared.overlay.clone(),
            failed: shared.failed.clone(),
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
        hook: shared.hook.clone(),
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
    hook: Option<Hook>,
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
                if let (Ok(()), Some(logged)) = (&outcome, &logged) {
                    durability::at(&self.hook, Point::Acknowledge { lsn: logged.lsn });
                }
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
        let mut batch: Vec<Write> = Vec::with_capacity(writes);
        for commit in commits.iter_mut() {
            batch.extend(
                commit
                    .writes
                    .drain(..)
                    .map(|(op, key, value)| (op, Bytes::from(key), Bytes::from(value))),
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
    tables: Arc<Tables>,
    hook: Option<Hook>,
    overlay: Arc<Overlay>,
    failed: Arc<AtomicBool>,
    halted: Arc<AtomicBool>,
    log_dir: PathBuf,
    underived: Arc<Underived>,
    settings: WriterSettings,
}

impl Deriver {
    fn run(self, receiver: Receiver<DeriverMessage>) {
        let round_every = Duration::from_millis(self.settings.derive_flush_ms.max(1));
        let pause = Duration::from_millis(self.settings.derive_pause_ms);
        let mut pending = Pending::default();
        // When the first record of the round in `pending` arrived.
        let mut round_started = Instant::now();
        let mut shutdown = false;
        loop {
            let wait = if pending.is_empty() {
                round_every
            } else {
                round_every.saturating_sub(round_started.elapsed())
            };
            let mut next = match receiver.recv_timeout(wait) {
                Ok(message) => Some(message),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(DeriverMessage::Shutdown),
            };
            while let Some(message) = next.take() {
                match message {
                    DeriverMessage::Logged(logged) => {
                        if pending.is_empty() {
                            round_started = Instant::now();
                        }
                        pending.add(logged.lsn, logged.bytes, &logged.writes);
                    }
                    DeriverMessage::Shutdown => shutdown = true,
                }
                if shutdown || self.round_full(&pending) {
                    break;
                }
                next = match receiver.try_recv() {
                    Ok(message) => Some(message),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => Some(DeriverMessage::Shutdown),
                };
            }
            if self.halted.load(Ordering::Acquire) {
                // As if the process died here: what is left stays only in the log.
                pending = Pending::default();
            }
            let due = shutdown || round_started.elapsed() >= round_every || self.round_full(&pending);
            if due && !pending.is_empty() && !self.failed.load(Ordering::Acquire) {
                self.derive(std::mem::take(&mut pending));
                if !pause.is_zero() && !shutdown {
                    std::thread::sleep(pause);
                }
            }
            if shutdown {
                return;
            }
        }
    }

    /// A round is written early when it holds half the underived bound (so the writer
    /// never waits while the deriver could have made room) or its most keys.
    fn round_full(&self, pending: &Pending) -> bool {
        pending.bytes >= self.settings.underived_bytes_max / 2
            || pending.keys() >= self.settings.derive_batch_writes_max
    }

    /// Writes one round to fjall with the LSN reached and persists it, then releases its
    /// log bytes and deletes the log segments it covered, in that order.
    fn derive(&self, pending: Pending) {
        let (lsn, bytes) = (pending.last_lsn, pending.bytes);
        let derived = match pending.apply(&self.tables) {
            Ok(derived) => derived,
            Err(error) => return self.fail(&error.to_string()),
        };
        // fjall answers reads with these now, so the overlay may let them go.
        self.overlay.remove_derived(&derived.puts, &derived.pages);
        metrics::counter!(names::DERIVED_WRITES_TOTAL).increment(derived.keys() as u64);
        self.underived.release(bytes);
        if let Err(error) = super::log::trim(&self.log_dir, lsn, &self.hook) {
            tracing::warn!(%error, "could not delete derived commit-log segments");
        }
    }

    fn fail(&self, error: &str) {
        // Everything acknowledged stays in the log and the overlay; reads stay right, but
        // nothing more is acknowledged until a restart replays the log.
        self.failed.store(true, Ordering::Release);
        tracing::error!(%error, "deriving the commit log into fjall failed; refusing further commits");
        self.underived.drained.notify_all();
    }
}
