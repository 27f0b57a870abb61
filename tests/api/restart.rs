//! Stopping and starting on the same data dir, gracefully or after a crash, loses and
//! changes nothing; idle actors stop and come back from the store.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

/// Everything the API shows about a set of contacts and purchases.
async fn observe(app: &TestApp, contacts: &[Value], purchases: &[String], offers: &[String]) -> Vec<Value> {
    let mut seen = Vec::new();
    for contact in contacts {
        let id = contact["id"].as_str().unwrap();
        let wallet_id = contact["wallet"]["id"].as_str().unwrap();
        seen.push(app.get(&format!("/backoffice/v2/contacts/{id}")).await.body);
        seen.push(app.wallet(wallet_id).await);
        seen.push(Value::Array(app.journal(wallet_id).await));
    }
    for id in purchases {
        seen.push(app.get(&format!("/backoffice/v2/purchases/{id}")).await.body);
    }
    for id in offers {
        seen.push(app.get(&format!("/backoffice/v2/reward_offers/{id}")).await.body);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_and_a_crash_keep_every_contact_wallet_journal_purchase_and_offer_identical() {
    let dir = temp_dir();
    // Snapshots every few events, so recovery reads a snapshot and replays events after it.
    let overrides = [("REWARDS__ACTORS__SNAPSHOT_EVERY_EVENTS", "3")];
    let app = spawn_app_with(dir.clone(), rewards_engine::ManualClock::new(START_S), &overrides).await;
    let offers = vec![
        app.percentage_offer(10, Some(10)).await["id"]
            .as_str()
            .unwrap()
            .to_string(),
        app.create_offer(json!({"name": "Bonus", "award": {"type": "FIXED", "value": 1}}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string(),
    ];
    let mut contacts = Vec::new();
    let mut purchases = Vec::new();
    for c in 0..4 {
        let contact = app.create_contact(&format!("RS-{c}")).await;
        let id = contact["id"].as_str().unwrap().to_string();
        for p in 0..6 {
            let spend = (p % 3 == 2).then_some(("3.00", false));
            let reply = app
                .purchase(&id, &format!("RS-{c}-{p}"), &format!("{}.50", 10 + p), spend)
                .await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            purchases.push(reply.body["id"].as_str().unwrap().to_string());
        }
        let to_cancel = &purchases[purchases.len() - 5];
        assert_eq!(
            app.post(&format!("/backoffice/v2/purchases/{to_cancel}/cancel"), &json!({}))
                .await
                .status,
            200
        );
        contacts.push(contact);
    }
    app.clock.advance(11 * DAY_S); // the percentage awards expire
    let before = observe(&app, &contacts, &purchases, &offers).await;
    for contact in &contacts {
        app.assert_balance_equals_journal(contact["wallet"]["id"].as_str().unwrap())
            .await;
    }

    let (dir, clock) = app.stop().await;
    let bootstrap_path = dir.path().join("bootstrap.json");
    let bootstrap_before = std::fs::read(&bootstrap_path).unwrap();
    let keys: Value = serde_json::from_slice(&bootstrap_before).unwrap();
    assert_eq!(keys["secret_api_key"], SECRET_KEY);
    assert_eq!(keys["public_api_key"], PUBLIC_KEY);
    assert_eq!(keys["admin_email"], ADMIN_EMAIL);
    assert!(
        keys.get("admin_password").is_none(),
        "a chosen password is not written out"
    );
    assert!(rewards_engine::domain::ids::OrganisationId::parse(keys["organisation_id"].as_str().unwrap()).is_ok());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&bootstrap_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let app = spawn_app_with(dir.clone(), clock, &overrides).await;
    let after = observe(&app, &contacts, &purchases, &offers).await;
    assert_eq!(before, after);
    assert_eq!(
        std::fs::read(dir.path().join("bootstrap.json")).unwrap(),
        bootstrap_before,
        "bootstrap runs once"
    );

    // The recovered wallets go on working: a retry changes nothing, a new purchase adds.
    let first = contacts[0]["id"].as_str().unwrap();
    let retry = app.purchase(first, "RS-0-0", "10.50", None).await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body["id"].as_str().unwrap(), purchases[0]);
    let fresh = app.purchase(first, "RS-0-new", "20.00", None).await;
    assert_eq!(fresh.status, 201, "{}", fresh.body);
    app.assert_balance_equals_journal(contacts[0]["wallet"]["id"].as_str().unwrap())
        .await;

    // Now a crash: one more purchase per contact after the snapshots the graceful stop
    // wrote, and no snapshot at the crash. The restart recovers each wallet from its
    // snapshot plus the events after it, and shows the same as before the crash.
    for (c, contact) in contacts.iter().enumerate() {
        let reply = app
            .purchase(contact["id"].as_str().unwrap(), &format!("RS-{c}-crash"), "12.00", None)
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        purchases.push(reply.body["id"].as_str().unwrap().to_string());
    }
    let before = observe(&app, &contacts, &purchases, &offers).await;
    let (dir, clock) = app.crash().await;
    let app = spawn_app_with(dir, clock, &overrides).await;
    assert_eq!(app.engine.wallet_events_replayed(), 0, "no wallet woken yet");
    let after = observe(&app, &contacts, &purchases, &offers).await;
    assert_eq!(before, after);
    assert!(
        app.engine.wallet_events_replayed() >= contacts.len() as u64,
        "each wallet replayed its events after its snapshot ({})",
        app.engine.wallet_events_replayed()
    );
    for contact in &contacts {
        app.assert_balance_equals_journal(contact["wallet"]["id"].as_str().unwrap())
            .await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_wallet_actors_stop_and_recover_their_state_on_the_next_message() {
    let overrides = [("REWARDS__ACTORS__IDLE_MS", "250")];
    let app = spawn_app_with(temp_dir(), rewards_engine::ManualClock::new(START_S), &overrides).await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("IDLE-1").await;
    let id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    let original = app.purchase(id, "I-1", "30.00", None).await;
    assert!(app.engine.live_wallet_actors() >= 1);
    wait_for_idle_wallet_actors(&app).await;
    assert_eq!(app.engine.live_wallet_actors(), 0, "idle actors stop");
    assert_eq!(app.wallet(wallet_id).await["total_balance"].to_string(), "3.00");
    let spend = app.purchase(id, "I-2", "2.00", Some(("2.00", true))).await;
    assert_eq!(spend.status, 201, "{}", spend.body);
    // After another idle stop, a retry of the first purchase is still recognised.
    wait_for_idle_wallet_actors(&app).await;
    let retry = app.purchase(id, "I-1", "30.00", None).await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body, original.body);
    app.assert_balance_equals_journal(wallet_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_stays_bounded_when_a_wallet_actor_stops_before_each_snapshot_is_due() {
    let overrides = [
        ("REWARDS__ACTORS__IDLE_MS", "20"),
        ("REWARDS__ACTORS__SNAPSHOT_EVERY_EVENTS", "3"),
    ];
    let app = spawn_app_with(temp_dir(), rewards_engine::ManualClock::new(START_S), &overrides).await;
    // No offer: purchases add events but no lots, so a snapshot is due every 3 events. (Each
    // idle stop now also writes one, which keeps replay at 0 here on its own.)
    let contact = app.create_contact("SNAP-1").await;
    let id = contact["id"].as_str().unwrap();
    for n in 0..10 {
        assert_eq!(app.purchase(id, &format!("S-{n}"), "10.00", None).await.status, 201);
        wait_for_idle_wallet_actors(&app).await;
        assert_eq!(app.engine.live_wallet_actors(), 0);
    }
    let (tenant, wallet_id) = live_wallet(&app, &contact);
    let (wallet, replayed) = app.engine.store().recover_wallet(&tenant, wallet_id).unwrap().unwrap();
    assert_eq!(wallet.next_seq(), 10);
    assert!(
        replayed < 3,
        "recovery replayed {replayed} events after the last snapshot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wallet_actor_that_stops_when_idle_leaves_a_snapshot_so_nothing_is_replayed() {
    // Snapshots by count are far off (1,000 events); only passivation writes one. Idle for a
    // quarter second: long enough that five purchases on a busy machine keep the actor up.
    let overrides = [("REWARDS__ACTORS__IDLE_MS", "250")];
    let app = spawn_app_with(temp_dir(), rewards_engine::ManualClock::new(START_S), &overrides).await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("PASSIVE-1").await;
    let id = contact["id"].as_str().unwrap();
    for n in 0..5 {
        assert_eq!(app.purchase(id, &format!("PS-{n}"), "10.00", None).await.status, 201);
    }
    let (tenant, wallet_id) = live_wallet(&app, &contact);
    let (_, replayed) = app.engine.store().recover_wallet(&tenant, wallet_id).unwrap().unwrap();
    assert_eq!(
        replayed, 5,
        "while the actor runs, its events are past the last snapshot"
    );
    // The snapshot is committed as the actor stops; wait for it to be durable.
    let mut waited = 0;
    let replayed = loop {
        let (wallet, replayed) = app.engine.store().recover_wallet(&tenant, wallet_id).unwrap().unwrap();
        assert_eq!(wallet.next_seq(), 5);
        if replayed == 0 && app.engine.live_wallet_actors() == 0 {
            break replayed;
        }
        assert!(
            waited < 500,
            "after 5 s: {} wallet actors live, {replayed} events to replay",
            app.engine.live_wallet_actors()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    };
    assert_eq!(replayed, 0, "the idle stop wrote a snapshot of the wallet's state");
    assert_eq!(
        app.wallet(contact["wallet"]["id"].as_str().unwrap()).await["total_balance"].to_string(),
        "5.00"
    );
    app.assert_balance_equals_journal(contact["wallet"]["id"].as_str().unwrap())
        .await;
}

/// The engine's tenant (the bootstrap business, live) and id of a contact's wallet, for
/// reading the store directly.
fn live_wallet(
    app: &TestApp,
    contact: &Value,
) -> (
    rewards_engine::domain::ids::Tenant,
    rewards_engine::domain::ids::WalletId,
) {
    let keys: Value =
        serde_json::from_slice(&std::fs::read(app.data_dir.path().join("bootstrap.json")).unwrap()).unwrap();
    let tenant = rewards_engine::domain::ids::Tenant {
        organisation: rewards_engine::domain::ids::OrganisationId::parse(keys["organisation_id"].as_str().unwrap())
            .unwrap(),
        mode: rewards_engine::domain::ids::Mode::Live,
    };
    let wallet = rewards_engine::domain::ids::WalletId::parse(contact["wallet"]["id"].as_str().unwrap()).unwrap();
    (tenant, wallet)
}

/// Waits (up to 5 s) until every wallet actor has stopped for idleness; fails the test if
/// one never does.
async fn wait_for_idle_wallet_actors(app: &TestApp) {
    for _ in 0..500 {
        if app.engine.live_wallet_actors() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{} wallet actors still live after 5 s; idle actors must stop",
        app.engine.live_wallet_actors()
    );
}

/// Past `[actors] live_max`, starting an actor retires the least recently used idle ones:
/// touching many wallets once keeps few alive, and each comes back whole when needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_actors_stay_near_their_bound_however_many_wallets_are_touched() {
    let overrides = [("REWARDS__ACTORS__LIVE_MAX", "8")];
    let app = spawn_app_with(temp_dir(), rewards_engine::ManualClock::new(START_S), &overrides).await;
    app.percentage_offer(10, None).await;
    let mut contacts = Vec::new();
    let mut most_live = 0;
    for n in 0..60 {
        let contact = app.create_contact(&format!("LRU-{n}")).await;
        let reply = app
            .purchase(contact["id"].as_str().unwrap(), &format!("LRU-{n}-1"), "10.00", None)
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        most_live = most_live.max(app.engine.live_wallet_actors());
        contacts.push(contact);
    }
    assert!(
        most_live <= 8 + 4,
        "at most a few past the bound of 8 while retirements land: {most_live}"
    );
    // Every evicted wallet comes back with what it had, and takes more.
    for (n, contact) in contacts.iter().enumerate() {
        let reply = app
            .purchase(contact["id"].as_str().unwrap(), &format!("LRU-{n}-2"), "20.00", None)
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let wallet = contact["wallet"]["id"].as_str().unwrap();
        assert_eq!(app.assert_balance_equals_journal(wallet).await, "3.00".parse().unwrap());
    }
    assert!(app.engine.live_wallet_actors() <= 12);
}
