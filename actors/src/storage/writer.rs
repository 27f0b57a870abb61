//! The journal writer (D2): one thread that turns many actors' commits into one sled batch,
//! one `flush` (fsync), and only then runs each commit's completion.
//!
//! Commits are handled strictly in the order they arrive, so a completion also means every
//! earlier commit is durable. A commit with no writes is a barrier: its completion runs once
//! everything sent before it is on disk. If sled fails, every commit in that batch and every
//! later one completes with an error: nothing more is acknowledged until a restart recovers
//! from what is on disk.

use crate::metrics_names as names;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
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
    pub writes: Vec<(Vec<u8>, Vec<u8>)>,
    pub completion: Completion,
}

pub(crate) enum WriterMessage {
    Commit(Commit),
    /// Finish what was sent before, flush, and stop.
    Shutdown,
}

#[derive(Debug, Clone, Copy)]
pub struct WriterSettings {
    /// Most writes (records) in one group commit.
    pub batch_events_max: usize,
    /// How long the writer waits for more commits once it has one. 0: take what is queued.
    pub batch_wait_us: u64,
    /// Most commits queued for the writer; senders wait when it is full.
    pub queue_len_max: usize,
}

pub(crate) fn spawn(
    db: sled::Db,
    settings: WriterSettings,
    failed: Arc<AtomicBool>,
) -> std::io::Result<(Sender<WriterMessage>, JoinHandle<()>)> {
    let (sender, receiver) = crossbeam_channel::bounded(settings.queue_len_max.max(1));
    let handle = std::thread::Builder::new()
        .name("journal-writer".into())
        .spawn(move || run(db, settings, receiver, failed))?;
    Ok((sender, handle))
}

fn run(db: sled::Db, settings: WriterSettings, receiver: Receiver<WriterMessage>, failed: Arc<AtomicBool>) {
    let wait = Duration::from_micros(settings.batch_wait_us);
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
        while !shutdown && writes < settings.batch_events_max {
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
            let outcome = write_batch(&db, &mut commits, writes, &failed);
            for commit in commits.drain(..) {
                (commit.completion)(outcome.clone());
            }
        }
        if shutdown {
            // Completions of anything still queued behind the shutdown: refuse them, so no
            // caller waits forever.
            while let Ok(message) = receiver.try_recv() {
                if let WriterMessage::Commit(commit) = message {
                    (commit.completion)(Err(StorageFailure("journal writer stopped".into())));
                }
            }
            let _ = db.flush();
            return;
        }
    }
}

fn write_batch(
    db: &sled::Db,
    commits: &mut [Commit],
    writes: usize,
    failed: &AtomicBool,
) -> Result<(), StorageFailure> {
    if failed.load(Ordering::Acquire) {
        return Err(StorageFailure("an earlier write failed; restart to recover".into()));
    }
    if writes == 0 {
        // Only barriers: everything before them was flushed by an earlier batch.
        return Ok(());
    }
    let mut batch = sled::Batch::default();
    for commit in commits.iter_mut() {
        for (key, value) in commit.writes.drain(..) {
            batch.insert(key, value);
        }
    }
    let started = Instant::now();
    let outcome = db.apply_batch(batch).and_then(|()| db.flush().map(|_| ()));
    metrics::histogram!(names::JOURNAL_FLUSH_SECONDS).record(started.elapsed().as_secs_f64());
    metrics::histogram!(names::JOURNAL_BATCH_WRITES).record(writes as f64);
    metrics::counter!(names::JOURNAL_WRITES_TOTAL).increment(writes as u64);
    outcome.map_err(|error| {
        failed.store(true, Ordering::Release);
        tracing::error!(%error, "journal write failed; refusing further commits");
        StorageFailure(error.to_string())
    })
}
