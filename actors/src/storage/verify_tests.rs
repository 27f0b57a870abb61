//! `verify` finds what is broken on purpose, and nothing in a sound store; a backup restores
//! to the same records, and a damaged one is refused before anything is written.

use super::*;
use crate::domain::ids::{OfferId, PurchaseId};
use crate::domain::wallet::{AwardGrant, WalletHeader};
use rust_decimal::Decimal;

fn settings() -> StoreSettings {
    StoreSettings {
        tables: TableSettings::small(),
        hook: None,
        lock_wait_ms: 5_000,
        writer: WriterSettings {
            batch_events_max: 1024,
            batch_wait_us: 0,
            queue_len_max: 1024,
            log_segment_bytes_max: 1 << 20,
            underived_bytes_max: 64 << 20,
            derive_batch_writes_max: 1024,
            derive_flush_ms: 5,
            derive_pause_ms: 0,
        },
    }
}

/// A wallet with a snapshot and `events` awards of 1.50 after it, all committed.
fn wallet_with_events(store: &Store, events: usize) -> Wallet {
    let mut wallet = Wallet::for_tests();
    let mut writes = WriteSet::default();
    writes.wallet_snapshot(&wallet);
    store.commit_and_wait(writes).unwrap();
    for _ in 0..events {
        let grant = AwardGrant {
            offer_id: OfferId::random(),
            amount: Decimal::new(150, 2),
            expires_at: None,
        };
        let (event, _) = wallet
            .post_purchase(0, PurchaseId::random(), None, &[grant], Decimal::MAX)
            .unwrap();
        let mut writes = WriteSet::default();
        writes.wallet_event(&wallet.header.tenant, wallet.header.id, &event);
        store.commit_and_wait(writes).unwrap();
    }
    wallet
}

fn records(store: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
    tables::Family::ALL
        .iter()
        .flat_map(|family| store.inner.tables.family(*family))
        .map(|item| {
            let (key, value) = item.unwrap();
            (key.to_vec(), value.to_vec())
        })
        .collect()
}

#[test]
fn verify_finds_nothing_in_a_sound_store_and_names_a_snapshot_that_disagrees_with_its_journal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &settings()).unwrap();
    wallet_with_events(&store, 5);
    let mut broken = wallet_with_events(&store, 3);
    drop(store);
    let store = Store::open(dir.path(), &settings()).unwrap();
    let report = store.verify().unwrap();
    assert_eq!((report.wallets, report.wallet_events), (2, 8));
    assert_eq!(report.findings, Vec::new());

    // A snapshot that holds an award its journal never got.
    let grant = AwardGrant {
        offer_id: OfferId::random(),
        amount: Decimal::new(7, 0),
        expires_at: None,
    };
    broken
        .post_purchase(0, PurchaseId::random(), None, &[grant], Decimal::MAX)
        .unwrap();
    let mut writes = WriteSet::default();
    writes.wallet_snapshot(&broken);
    store.commit_and_wait(writes).unwrap();
    drop(store);
    let store = Store::open(dir.path(), &settings()).unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let finding = &report.findings[0];
    assert_eq!(finding.check, "wallet");
    assert_eq!(finding.record, format!("wallet {}", broken.header.id));
    assert!(
        finding.detail.contains("disagrees with its journal"),
        "{}",
        finding.detail
    );
}

#[test]
fn verify_names_an_index_that_points_at_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &settings()).unwrap();
    let wallet = Wallet::for_tests();
    let mut writes = WriteSet::default();
    writes.wallet_code(&wallet.header.tenant, &wallet.header.code, ContactId::random());
    store.commit_and_wait(writes).unwrap();
    assert!(
        store.verify().is_err(),
        "verify wants everything derived (a stopped server's dir)"
    );
    drop(store);
    let store = Store::open(dir.path(), &settings()).unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].check, "index");
    assert!(
        report.findings[0].detail.contains("does not exist"),
        "{:?}",
        report.findings
    );
}

#[test]
fn a_backup_restores_to_the_same_records_and_a_damaged_one_is_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &settings()).unwrap();
    let wallet = wallet_with_events(&store, 40);
    let mut writes = WriteSet::default();
    writes.meta("name", b"value");
    store.commit_and_wait(writes).unwrap();
    drop(store);
    // Opened again, as the admin command opens a stopped server's dir: everything derived.
    let store = Store::open(dir.path(), &settings()).unwrap();
    let file = dir.path().join("backup.rwb");
    let summary = store.backup(&file).unwrap();
    assert!(summary.records >= 4, "{summary:?}");
    assert!(store.backup(&file).is_err(), "an existing file is never overwritten");
    let before = records(&store);
    drop(store);

    let target = tempfile::tempdir().unwrap();
    let restored_dir = target.path().join("restored");
    let restored = Store::restore(&file, &restored_dir, &settings()).unwrap();
    assert_eq!((restored.records, &restored.sha256), (summary.records, &summary.sha256));
    let store = Store::open(&restored_dir, &settings()).unwrap();
    assert_eq!(records(&store), before);
    assert_eq!(store.verify().unwrap().findings, Vec::new());
    let loaded = store
        .load_wallet(&wallet.header.tenant, wallet.header.id)
        .unwrap()
        .unwrap();
    assert_eq!(loaded, wallet);
    // The restored store goes on: a new commit, a restart, still there.
    let mut writes = WriteSet::default();
    writes.meta("after", b"restore");
    store.commit_and_wait(writes).unwrap();
    drop(store);
    let store = Store::open(&restored_dir, &settings()).unwrap();
    assert_eq!(store.meta("after").unwrap().unwrap(), b"restore".to_vec());
    drop(store);
    assert!(
        Store::restore(&file, &restored_dir, &settings()).is_err(),
        "restore never writes over a data dir"
    );

    // One flipped byte anywhere: refused, and nothing written.
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let damaged = target.path().join("damaged.rwb");
    std::fs::write(&damaged, &bytes).unwrap();
    let fresh = target.path().join("fresh");
    let error = Store::restore(&damaged, &fresh, &settings()).unwrap_err().to_string();
    assert!(error.contains("backup file"), "{error}");
    assert!(!fresh.exists(), "nothing written for a damaged backup");
    // Cut short: refused too.
    std::fs::write(&damaged, &bytes[..bytes.len() - 40]).unwrap();
    assert!(Store::restore(&damaged, &fresh, &settings()).is_err());
}

/// A transfer of `amount` from `origin` to `destination` as the wallets commit it; `credit`
/// decides whether the destination's credit is committed too, or its message left waiting.
fn transfer(store: &Store, origin: &mut Wallet, destination: &mut Wallet, amount: Decimal, credit: bool) {
    use crate::domain::ids::TransferId;
    use crate::domain::transfer::{ActorMessage, MessageBody, Recipient, TransferRecord};
    use crate::domain::wallet::Cause;
    let id = TransferId::random();
    let tenant = origin.header.tenant;
    let debit = origin.transfer_out(0, id, amount).unwrap();
    let record = TransferRecord {
        id,
        tenant,
        origin: origin.header.id,
        contact: origin.header.contact_id,
        destination: destination.header.id,
        currency: origin.header.currency,
        amount,
        code: "1234567890123456".into(),
        notes: None,
        transfer_date: None,
        created_on: 0,
        body_hash: [0; 32],
        pool: None,
    };
    let message = ActorMessage {
        id: ActorMessage::credit_id(id),
        seq: 1,
        to: Recipient::Wallet(tenant, destination.header.id),
        body: MessageBody::TransferCredit {
            transfer: id,
            from: origin.header.id,
            currency: origin.header.currency,
            amount,
        },
        committed_at: 0,
    };
    let mut writes = WriteSet::default();
    writes.wallet_event(&tenant, origin.header.id, &debit);
    writes.transfer(&record);
    if credit {
        let event = destination
            .transfer_in(0, Cause::TransferReceived(id), amount, Decimal::MAX)
            .unwrap();
        writes.wallet_event(&tenant, destination.header.id, &event);
    } else {
        writes.actor_message(&message);
    }
    store.commit_and_wait(writes).unwrap();
}

#[test]
fn verify_accepts_a_transfer_credited_or_waiting_and_names_one_whose_credit_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &settings()).unwrap();
    let mut origin = wallet_with_events(&store, 4);
    let mut destination = Wallet::open(WalletHeader {
        id: crate::domain::ids::WalletId::random(),
        ..origin.header.clone()
    });
    let mut writes = WriteSet::default();
    writes.wallet_snapshot(&destination);
    store.commit_and_wait(writes).unwrap();
    transfer(&store, &mut origin, &mut destination, Decimal::new(250, 2), true);
    transfer(&store, &mut origin, &mut destination, Decimal::new(100, 2), false);
    drop(store);
    let store = Store::open(dir.path(), &settings()).unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.transfers, 2);
    assert_eq!(report.findings, Vec::new(), "one credited, one waiting in the outbox");

    // The waiting credit's message vanishes: the transfer is half applied.
    let mut writes = WriteSet::default();
    writes.actor_message_done(1);
    store.commit_and_wait(writes).unwrap();
    drop(store);
    let store = Store::open(dir.path(), &settings()).unwrap();
    let report = store.verify().unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].check, "transfer");
    assert!(report.findings[0].detail.contains("nothing waits in the outbox"));
}
