//! Lots expire on the engine clock: when their wallet is next touched (see `flow.rs`) and by
//! the scheduled sweep in wallets nobody touches; each lot once, each expiry in the journal.

use crate::helpers::*;
use rewards_engine::ManualClock;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Waits (at most 10 s) until the expiry index holds nothing due on the engine clock: the
/// scheduled sweep has been through every wallet with lots due. Reads the store only, so
/// no wallet is touched.
async fn sweep_done(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let due = app.engine.store().lot_expiries_due(app.engine.now(), 100).unwrap();
        if due.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "the sweep left {due:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn expirations(journal: &[Value]) -> Vec<String> {
    journal
        .iter()
        .filter(|line| line["transaction_type"] == "EXPIRATION")
        .map(|line| line["amount"].to_string())
        .collect()
}

#[tokio::test]
async fn the_scheduled_sweep_expires_lots_in_wallets_nobody_touches_each_once() {
    let overrides = [("REWARDS__PURCHASES__EXPIRY_SWEEP_INTERVAL_MS", "20")];
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &overrides).await;
    app.percentage_offer(10, Some(30)).await;
    let kept = app.create_contact("C-KEPT").await;
    let spent = app.create_contact("C-SPENT").await;
    let kept_wallet = kept["wallet"]["id"].as_str().unwrap();
    let spent_wallet = spent["wallet"]["id"].as_str().unwrap();
    let kept_id = kept["id"].as_str().unwrap();
    let spent_id = spent["id"].as_str().unwrap();
    assert_eq!(app.purchase(kept_id, "R-K1", "100.00", None).await.status, 201);
    assert_eq!(app.purchase(spent_id, "R-S1", "100.00", None).await.status, 201);
    // A day later the second contact spends its whole award (and earns 5.00 more, expiring
    // a day after the first award).
    app.clock.advance(DAY_S);
    let spend = app.purchase(spent_id, "R-S2", "50.00", Some(("10.00", true))).await;
    assert_eq!(spend.status, 201, "{}", spend.body);
    let indexed = app.engine.store().lot_expiries_due(i64::MAX, 100).unwrap();
    let instants: Vec<i64> = indexed.iter().map(|entry| entry.expires_at).collect();
    assert_eq!(
        instants,
        [START_S + 30 * DAY_S, START_S + 30 * DAY_S, START_S + 31 * DAY_S]
    );

    // Nothing is due a second before the first expiry; at it, the sweep runs on its own.
    app.clock.set(START_S + 30 * DAY_S - 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.engine.store().lot_expiries_due(i64::MAX, 100).unwrap().len(), 3);
    app.clock.set(START_S + 30 * DAY_S);
    sweep_done(&app).await;
    let journal = app.journal(kept_wallet).await;
    assert_eq!(expirations(&journal), ["10.00"]);
    assert_eq!(journal.last().unwrap()["posted_on"], START_S + 30 * DAY_S);
    // The spent lot had nothing left to expire; its index entry is gone all the same.
    assert!(expirations(&app.journal(spent_wallet).await).is_empty());
    assert_eq!(app.engine.store().lot_expiries_due(i64::MAX, 100).unwrap().len(), 1);

    app.clock.set(START_S + 31 * DAY_S);
    sweep_done(&app).await;
    assert_eq!(expirations(&app.journal(spent_wallet).await), ["5.00"]);
    // Touching the wallets, and more sweeps, expire nothing again.
    app.clock.advance(DAY_S);
    tokio::time::sleep(Duration::from_millis(100)).await;
    for wallet in [kept_wallet, spent_wallet] {
        assert_eq!(
            app.assert_balance_equals_journal(wallet).await,
            rust_decimal::Decimal::ZERO
        );
        assert_eq!(expirations(&app.journal(wallet).await).len(), 1);
    }
    assert!(app.engine.store().lot_expiries_due(i64::MAX, 100).unwrap().is_empty());
}
