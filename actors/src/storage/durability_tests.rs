//! The durability order, checked through the hook on its points rather than argued; and
//! back-pressure: the writer waits at `underived_bytes_max`, and a full queue blocks senders.

use super::durability::{Action, Point, Recorder};
use super::*;

fn settings(recorder: &Recorder) -> StoreSettings {
    StoreSettings {
        tables: TableSettings::small(),
        hook: Some(recorder.hook()),
        lock_wait_ms: 5_000,
        writer: WriterSettings {
            batch_events_max: 1024,
            batch_wait_us: 0,
            queue_len_max: 1024,
            // Many small segments, so many trims.
            log_segment_bytes_max: 2048,
            underived_bytes_max: 64 << 20,
            derive_batch_writes_max: 8,
            derive_flush_ms: 1,
            derive_pause_ms: 0,
        },
    }
}

fn commit_meta(store: &Store, n: u64) -> Result<(), StoreError> {
    let mut writes = WriteSet::default();
    writes.meta(&format!("k{n:05}"), &[7u8; 100]);
    store.commit_and_wait(writes)
}

fn wait_for(recorder: &Recorder, what: impl Fn(&[Point]) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !what(&recorder.points()) {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out: {:?}",
            recorder.points().last()
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn deletes(points: &[Point]) -> usize {
    points
        .iter()
        .filter(|point| matches!(point, Point::SegmentDelete { .. }))
        .count()
}

#[test]
fn no_acknowledgement_before_its_sync_and_no_segment_deleted_before_its_round_is_persisted() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();
    let store = Store::open(dir.path(), &settings(&recorder)).unwrap();
    for n in 0..300 {
        commit_meta(&store, n).unwrap();
    }
    wait_for(&recorder, |points| deletes(points) >= 5);
    drop(store);
    let points = recorder.points();
    assert!(points.iter().any(|point| matches!(point, Point::RoundPersisted { .. })));
    assert_eq!(recorder.breaches(), Vec::<String>::new());
    let store = Store::open(dir.path(), &settings(&Recorder::default())).unwrap();
    for n in 0..300 {
        assert!(store.meta(&format!("k{n:05}")).unwrap().is_some(), "record {n}");
    }
}

/// A round that fails after its batch went into fjall but before it was persisted: the
/// store stops acknowledging, deletes no segment the failed round covers, and a restart
/// finds every acknowledged record.
#[test]
fn a_round_failing_half_way_deletes_nothing_it_covers_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();
    let store = Store::open(dir.path(), &settings(&recorder)).unwrap();
    for n in 0..100 {
        commit_meta(&store, n).unwrap();
    }
    wait_for(&recorder, |points| deletes(points) >= 2);
    recorder.inject(|point| match point {
        Point::RoundWritten { .. } => Action::Fail("disk full".into()),
        _ => Action::Proceed,
    });
    let mut acknowledged = 100;
    for n in 100..400 {
        match commit_meta(&store, n) {
            Ok(()) => acknowledged = n + 1,
            Err(_) => break,
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !store.has_failed() {
        assert!(std::time::Instant::now() < deadline, "the failed round was not noticed");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Once the failure is seen, nothing more is acknowledged.
    assert!(commit_meta(&store, 10_000).is_err());
    drop(store);
    assert_eq!(recorder.breaches(), Vec::<String>::new());
    let store = Store::open(dir.path(), &settings(&Recorder::default())).unwrap();
    for n in 0..acknowledged {
        assert!(store.meta(&format!("k{n:05}")).unwrap().is_some(), "record {n}");
    }
}

/// The check is able to fail: a log that skips its sync is caught.
#[test]
fn a_log_that_skips_its_sync_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();
    recorder.inject(|point| match point {
        Point::LogSync { lsn } if lsn % 7 == 3 => Action::SkipSync,
        _ => Action::Proceed,
    });
    let store = Store::open(dir.path(), &settings(&recorder)).unwrap();
    for n in 0..20 {
        commit_meta(&store, n).unwrap();
    }
    drop(store);
    let breaches = recorder.breaches();
    assert!(
        breaches
            .iter()
            .any(|breach| breach.contains("acknowledged before it was synced")),
        "{breaches:?}"
    );
}

/// A log write that fails is not acknowledged, and neither is anything after it.
#[test]
fn a_failing_log_write_acknowledges_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();
    let store = Store::open(dir.path(), &settings(&recorder)).unwrap();
    commit_meta(&store, 0).unwrap();
    recorder.inject(|point| match point {
        Point::LogSync { .. } => Action::Fail("EIO".into()),
        _ => Action::Proceed,
    });
    assert!(commit_meta(&store, 1).is_err());
    recorder.inject(|_| Action::Proceed);
    assert!(commit_meta(&store, 2).is_err(), "the writer refuses after a failure");
    assert!(store.has_failed());
}

mod pressure {
    use super::durability::{Action, Point, Recorder};
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// A gate a hook can block on until the test opens it.
    #[derive(Clone, Default)]
    struct Gate(Arc<(parking_lot::Mutex<bool>, parking_lot::Condvar)>);

    impl Gate {
        fn wait(&self) {
            let (open, opened) = &*self.0;
            let mut open = open.lock();
            while !*open {
                opened.wait(&mut open);
            }
        }
        fn open(&self) {
            *self.0 .0.lock() = true;
            self.0 .1.notify_all();
        }
    }

    fn settings(recorder: &Recorder, underived_bytes_max: u64, queue_len_max: usize) -> StoreSettings {
        StoreSettings {
            tables: TableSettings::small(),
            hook: Some(recorder.hook()),
            lock_wait_ms: 5_000,
            writer: WriterSettings {
                batch_events_max: 1,
                batch_wait_us: 0,
                queue_len_max,
                log_segment_bytes_max: 1 << 20,
                underived_bytes_max,
                derive_batch_writes_max: 1,
                derive_flush_ms: 1,
                derive_pause_ms: 0,
            },
        }
    }

    fn meta(n: usize) -> WriteSet {
        let mut writes = WriteSet::default();
        writes.meta(&format!("k{n:05}"), &[1u8; 200]);
        writes
    }

    /// Starts `count` commits on a thread, counting those acknowledged.
    fn commit_in_background(store: &Store, count: usize) -> (Arc<AtomicUsize>, std::thread::JoinHandle<()>) {
        let done = Arc::new(AtomicUsize::new(0));
        let (store, counter) = (store.clone(), done.clone());
        let handle = std::thread::spawn(move || {
            for n in 0..count {
                store.commit_and_wait(meta(n)).unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        (done, handle)
    }

    #[test]
    fn the_writer_waits_while_the_underived_log_is_at_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = Recorder::default();
        let gate = Gate::default();
        let held = gate.clone();
        recorder.inject(move |point| {
            if let Point::RoundWritten { .. } = point {
                held.wait();
            }
            Action::Proceed
        });
        // About four records of ~230 bytes fit under the bound.
        let store = Store::open(dir.path(), &settings(&recorder, 1_000, 64)).unwrap();
        let (done, handle) = commit_in_background(&store, 40);
        std::thread::sleep(Duration::from_millis(300));
        let before = done.load(Ordering::SeqCst);
        assert!(
            (1..10).contains(&before),
            "{before} commits acknowledged while the deriver was held"
        );
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(done.load(Ordering::SeqCst), before, "the writer waits");
        gate.open();
        handle.join().unwrap();
        assert_eq!(done.load(Ordering::SeqCst), 40);
    }

    #[test]
    fn a_full_queue_blocks_its_senders() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = Recorder::default();
        let gate = Gate::default();
        let held = gate.clone();
        recorder.inject(move |point| {
            if let Point::LogSync { .. } = point {
                held.wait();
            }
            Action::Proceed
        });
        let store = Store::open(dir.path(), &settings(&recorder, 64 << 20, 4)).unwrap();
        let sent = Arc::new(AtomicUsize::new(0));
        let (sender, counter) = (store.clone(), sent.clone());
        let handle = std::thread::spawn(move || {
            for n in 0..20 {
                sender.commit(meta(n), Box::new(|_| {}));
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        std::thread::sleep(Duration::from_millis(300));
        // One commit held in the writer's sync, four queued, and the sender blocked.
        let queued = sent.load(Ordering::SeqCst);
        assert!((4..=6).contains(&queued), "{queued} commits sent into a queue of 4");
        gate.open();
        handle.join().unwrap();
        assert_eq!(sent.load(Ordering::SeqCst), 20);
        store.commit_and_wait(meta(99)).unwrap();
    }
}
