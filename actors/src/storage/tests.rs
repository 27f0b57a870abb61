//! Reads through the overlay, fjall and replay agree.

use super::*;
use crate::domain::wallet::Cause;

/// Store settings for tests: small tables, no batch wait; derive rounds end after
/// `derive_batch_writes_max` keys.
pub(crate) fn settings(derive_batch_writes_max: usize) -> StoreSettings {
    StoreSettings {
        tables: TableSettings::small(),
        hook: None,
        lock_wait_ms: 5_000,
        writer: WriterSettings {
            batch_events_max: 1024,
            batch_wait_us: 0,
            queue_len_max: 1024,
            log_segment_bytes_max: 4096,
            underived_bytes_max: 64 << 20,
            derive_batch_writes_max,
            // Rounds end on the key count alone.
            derive_flush_ms: 600_000,
            derive_pause_ms: 0,
        },
    }
}

fn event(seq: u64) -> WalletEvent {
    WalletEvent {
        seq,
        at: seq as i64,
        cause: Cause::Expiry,
        entries: Vec::new(),
        pools: Vec::new(),
        pool_ids: Vec::new(),
    }
}

fn seqs(store: &Store, wallet: &Wallet, descending: bool) -> Vec<u64> {
    let mut seen = Vec::new();
    store
        .visit_wallet_events(&wallet.header.tenant, wallet.header.id, descending, |event| {
            seen.push(event.seq);
            true
        })
        .unwrap();
    seen
}

fn append_events(store: &Store, wallet: &Wallet, seqs: std::ops::Range<u64>) {
    for seq in seqs {
        let mut writes = WriteSet::default();
        writes.wallet_event(&wallet.header.tenant, wallet.header.id, &event(seq));
        store.commit_and_wait(writes).unwrap();
    }
}

fn check(store: &Store, wallet: &Wallet, events: u64) {
    assert_eq!(seqs(store, wallet, false), (0..events).collect::<Vec<_>>());
    assert_eq!(seqs(store, wallet, true), (0..events).rev().collect::<Vec<_>>());
    let (loaded, replayed) = store
        .recover_wallet(&wallet.header.tenant, wallet.header.id)
        .unwrap()
        .unwrap();
    assert_eq!((loaded.next_seq(), replayed), (events, events));
}

/// History spread over pages, partly in fjall and partly in the overlay (rounds of a
/// few keys write pages half full), then a crash with the deriver halted, and a
/// restart that replays: every read sees each event once, in order.
#[test]
fn history_pages_read_the_same_from_fjall_overlay_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Wallet::for_tests();
    let (tenant, id) = (wallet.header.tenant, wallet.header.id);
    let store = Store::open(dir.path(), &settings(3)).unwrap();
    let mut writes = WriteSet::default();
    writes.wallet_snapshot(&wallet);
    store.commit_and_wait(writes).unwrap();
    for seq in 0..70 {
        let mut writes = WriteSet::default();
        writes.wallet_event(&tenant, id, &event(seq));
        if seq % 2 == 0 {
            // Unrelated keys, so rounds fill up and end between a page's events.
            writes.meta(&format!("m{seq}"), b"x");
        }
        store.commit_and_wait(writes).unwrap();
        if seq % 9 == 0 {
            check(&store, &wallet, seq + 1);
        }
    }
    check(&store, &wallet, 70);
    store.halt_deriving();
    append_events(&store, &wallet, 70..100);
    check(&store, &wallet, 100);
    drop(store);

    let store = Store::open(dir.path(), &settings(1 << 16)).unwrap();
    check(&store, &wallet, 100);
    append_events(&store, &wallet, 100..140);
    check(&store, &wallet, 140);
    drop(store);
    let store = Store::open(dir.path(), &settings(1 << 16)).unwrap();
    check(&store, &wallet, 140);
}

fn message(seq: u64) -> OutboundMessage {
    use crate::domain::comms::{Channel, MessageKind};
    let tenant = Wallet::for_tests().header.tenant;
    OutboundMessage {
        seq,
        id: uuid::Uuid::new_v4(),
        tenant,
        contact: ContactId::random(),
        kind: MessageKind::OneTimePassword,
        channel: Channel::Email,
        to: "a@example.com".into(),
        country_code: None,
        subject: "code".into(),
        body: format!("{seq}"),
        created_on: 0,
        attempts: 0,
    }
}

fn pending(store: &Store) -> Vec<u64> {
    store
        .outbox_pending(100)
        .unwrap()
        .into_iter()
        .map(|message| message.seq)
        .collect()
}

/// Removed records read as absent whether the removal is still in the overlay, derived
/// into fjall, or replayed from the log after a crash.
#[test]
fn removals_read_as_absent_from_overlay_fjall_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &settings(2)).unwrap();
    for seq in 1..=6 {
        let mut writes = WriteSet::default();
        writes.outbox_message(&message(seq));
        store.commit_and_wait(writes).unwrap();
    }
    for seq in [2, 5] {
        let mut writes = WriteSet::default();
        writes.outbox_done(seq);
        store.commit_and_wait(writes).unwrap();
    }
    assert_eq!(pending(&store), vec![1, 3, 4, 6]);
    assert!(store.outbox_message(2).unwrap().is_none());
    assert_eq!(store.outbox_last_seq().unwrap(), 6);
    store.halt_deriving();
    let mut writes = WriteSet::default();
    writes.outbox_done(1);
    writes.outbox_done(6);
    writes.outbox_message(&message(7));
    store.commit_and_wait(writes).unwrap();
    assert_eq!(pending(&store), vec![3, 4, 7]);
    assert!(store.outbox_message(6).unwrap().is_none());
    drop(store);

    let store = Store::open(dir.path(), &settings(1 << 16)).unwrap();
    assert_eq!(pending(&store), vec![3, 4, 7]);
    assert!(store.outbox_message(1).unwrap().is_none());
    assert_eq!(store.outbox_message(4).unwrap().unwrap().body, "4");
    assert_eq!(store.outbox_last_seq().unwrap(), 7);
}

/// A first start only on an empty dir (a volume's `lost+found` aside); a dir that is not
/// empty without the marker, or with sled's files, is refused and left as it was.
#[test]
fn a_data_dir_is_recognised_never_guessed() {
    let volume = tempfile::tempdir().unwrap();
    std::fs::create_dir(volume.path().join("lost+found")).unwrap();
    drop(Store::open(volume.path(), &settings(1 << 16)).unwrap());
    assert!(volume.path().join(MARKER_FILE).exists());

    let sled = tempfile::tempdir().unwrap();
    std::fs::write(sled.path().join("conf"), b"segment_size: 524288").unwrap();
    std::fs::write(sled.path().join("db"), b"").unwrap();
    let error = Store::open(sled.path(), &settings(1 << 16)).err().unwrap().to_string();
    assert!(error.contains("sled version"), "{error}");
    assert!(!sled.path().join(MARKER_FILE).exists(), "nothing written");

    let stranger = tempfile::tempdir().unwrap();
    std::fs::write(stranger.path().join("notes.txt"), b"mine").unwrap();
    let error = Store::open(stranger.path(), &settings(1 << 16))
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("no STORE marker") && error.contains("notes.txt"),
        "{error}"
    );

    // Ours, but the derived records are gone: refused, not started empty.
    let lost = tempfile::tempdir().unwrap();
    drop(Store::open(lost.path(), &settings(1 << 16)).unwrap());
    std::fs::remove_dir_all(records_dir(lost.path())).unwrap();
    let error = Store::open(lost.path(), &settings(1 << 16)).err().unwrap().to_string();
    assert!(error.contains("records/"), "{error}");
}
