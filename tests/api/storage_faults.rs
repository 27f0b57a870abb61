//! Faults injected through the store's durability hook, seen over HTTP: a failing write
//! answers 503 and nothing more is acknowledged (nor read) until a restart recovers what was.

use crate::helpers::*;
use rewards_engine::storage::durability::{Action, Point, Recorder};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_write_answers_503_and_nothing_more_is_acknowledged_until_a_restart() {
    let dir = temp_dir();
    let recorder = Recorder::default();
    let app = spawn_app_hooked(
        dir.clone(),
        rewards_engine::ManualClock::new(START_S),
        &[],
        Some(recorder.hook()),
    )
    .await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("SF-1").await;
    let other = app.create_contact("SF-2").await;
    let (id, wallet) = (
        contact["id"].as_str().unwrap().to_string(),
        contact["wallet"]["id"].as_str().unwrap().to_string(),
    );
    let reply = app.purchase(&id, "SF-1-1", "100.00", None).await;
    assert_eq!(reply.status, 201, "{}", reply.body);

    recorder.inject(|point| match point {
        Point::LogSync { .. } => Action::Fail("EIO from the disk".into()),
        _ => Action::Proceed,
    });
    let reply = app.purchase(&id, "SF-1-2", "50.00", None).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(
        reply.error_code(),
        "CRM.EXCEPTIONS.SERVICEUNAVAILABLEEXCEPTION",
        "{}",
        reply.body
    );
    // The disk is fine again, but the store does not trust its memory: the same wallet's
    // actor, another contact's, and an administrative write are all refused.
    recorder.inject(|_| Action::Proceed);
    for (contact, reference) in [(&id, "SF-1-3"), (&other["id"].as_str().unwrap().to_string(), "SF-2-1")] {
        let reply = app.purchase(contact, reference, "20.00", None).await;
        assert_eq!(reply.status, 503, "{}", reply.body);
    }
    let reply = app
        .post(
            "/backoffice/v2/reward_offers",
            &serde_json::json!({"name": "Late", "award": {"type": "FIXED", "value": 1}}),
        )
        .await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    // Until a restart recovers from the disk, the server says it must restart.
    let reply = app.get(&format!("/backoffice/v2/wallets/{wallet}")).await;
    assert_eq!(reply.status, 503, "{}", reply.body);

    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    // A 503 does not say the write did not happen: the failed sync came after the record was
    // written, so it may be on disk. Whichever it is, a retry with the same reference counts
    // it once, and the purchases refused before the log (SF-1-3) are not there.
    let balance = app.assert_balance_equals_journal(&wallet).await;
    assert!(
        balance == "10.00".parse().unwrap() || balance == "15.00".parse().unwrap(),
        "{balance}"
    );
    let reply = app.purchase(&id, "SF-1-2", "50.00", None).await;
    assert!(reply.status == 201 || reply.status == 200, "{}", reply.body);
    let reply = app.purchase(&id, "SF-1-2", "50.00", None).await;
    assert!(reply.status == 201 || reply.status == 200, "{}", reply.body);
    assert_eq!(
        app.assert_balance_equals_journal(&wallet).await,
        "15.00".parse().unwrap()
    );
    // Two awards (SF-1-1 and SF-1-2, once), nothing of SF-1-3.
    assert_eq!(app.journal(&wallet).await.len(), 2);
}
