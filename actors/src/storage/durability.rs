//! The storage layer's durability points, and a hook on them for tests.
//!
//! Every step that the durability argument (see the [`super`] module's doc) rests on reports
//! itself here, in the order it happens: the commit log's sync of a record, the
//! acknowledgement of the commits in it, a derived round written to fjall, that round
//! persisted with a real fsync, and a log segment deleted. A test installs a [`Hook`] to
//! record the order and check it (no acknowledgement before its sync, no segment deleted
//! before the round that derived it was persisted), or to inject a failure or a skipped
//! sync at one point and see that the checks and the engine notice.
//!
//! Without a hook every point costs one branch on an `Option`.

use std::sync::Arc;

/// A point on the path from a commit to a trimmed log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// The record `lsn` was written to the log and is about to be synced.
    LogSync { lsn: u64 },
    /// The record `lsn` is on disk (its `fdatasync` returned).
    LogSynced { lsn: u64 },
    /// The commits of record `lsn` are about to be acknowledged.
    Acknowledge { lsn: u64 },
    /// A round deriving records up to `lsn` was committed to fjall (its memtables and
    /// journal buffer) and is about to be persisted.
    RoundWritten { lsn: u64 },
    /// That round, with the derived LSN it reaches, is on disk (fjall's journal fsync'ed).
    RoundPersisted { lsn: u64 },
    /// A log segment whose last record is `last_lsn` is about to be deleted.
    SegmentDelete { last_lsn: u64 },
}

/// What the hook asks the storage layer to do at a point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Proceed,
    /// Fail here, as the disk would: the step reports this error instead of running.
    Fail(String),
    /// Skip the sync this point announces (`LogSync`, `RoundWritten`), as a bug that forgot
    /// it would. Elsewhere the same as `Proceed`. Tests use it to check that the checks fail.
    SkipSync,
}

pub type Hook = Arc<dyn Fn(Point) -> Action + Send + Sync>;

/// Runs the hook, if any, at `point`.
#[inline]
pub(crate) fn at(hook: &Option<Hook>, point: Point) -> Action {
    match hook {
        None => Action::Proceed,
        Some(hook) => hook(point),
    }
}

/// A recorder for tests: keeps every point in order and answers `Proceed`, or what
/// `inject` says for a point.
type Injector = Box<dyn Fn(Point) -> Action + Send + Sync>;

#[derive(Clone, Default)]
pub struct Recorder {
    points: Arc<parking_lot::Mutex<Vec<Point>>>,
    inject: Arc<parking_lot::Mutex<Option<Injector>>>,
}

impl Recorder {
    pub fn hook(&self) -> Hook {
        let recorder = self.clone();
        Arc::new(move |point| {
            recorder.points.lock().push(point);
            match &*recorder.inject.lock() {
                Some(inject) => inject(point),
                None => Action::Proceed,
            }
        })
    }

    /// From now on, `inject` decides the action at each point.
    pub fn inject(&self, inject: impl Fn(Point) -> Action + Send + Sync + 'static) {
        *self.inject.lock() = Some(Box::new(inject));
    }

    pub fn points(&self) -> Vec<Point> {
        self.points.lock().clone()
    }

    /// Checks the order the durability argument needs, returning each breach:
    /// - every acknowledgement of record `n` follows the sync of record `n`;
    /// - every deleted segment's last record was derived by a round persisted before.
    pub fn breaches(&self) -> Vec<String> {
        let mut breaches = Vec::new();
        let mut synced = std::collections::BTreeSet::new();
        let mut persisted = 0u64;
        for point in self.points() {
            match point {
                Point::LogSynced { lsn } => {
                    synced.insert(lsn);
                }
                Point::Acknowledge { lsn } if !synced.contains(&lsn) => {
                    breaches.push(format!("record {lsn} acknowledged before it was synced"));
                }
                Point::RoundPersisted { lsn } => persisted = persisted.max(lsn),
                Point::SegmentDelete { last_lsn } if last_lsn > persisted => breaches.push(format!(
                    "a segment up to record {last_lsn} deleted when rounds were persisted only up to {persisted}"
                )),
                _ => {}
            }
        }
        breaches
    }
}
