//! Many clients at once: retries never double-count, spends never overdraw.

use crate::helpers::*;
use futures_util::future::join_all;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_identical_purchases_award_exactly_once() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("CC-1").await;
    let contact_id = contact["id"].as_str().unwrap().to_string();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    let replies = join_all((0..100).map(|_| app.purchase(&contact_id, "SAME-REF", "80.00", None))).await;
    let ids: std::collections::HashSet<String> = replies
        .iter()
        .map(|reply| {
            assert_eq!(reply.status, 201, "{}", reply.body);
            reply.body["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every retry names the same purchase");
    assert_eq!(app.wallet(wallet_id).await["total_balance"].to_string(), "8.00");
    let awards = app
        .journal(wallet_id)
        .await
        .iter()
        .filter(|line| line["transaction_type"] == "AWARD")
        .count();
    assert_eq!(awards, 1);
    app.assert_balance_equals_journal(wallet_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_spends_of_one_euro_from_five_hundred_spend_exactly_five_hundred() {
    let app = spawn_app().await;
    let funding = app
        .create_offer(json!({"name": "Funding", "award": {"type": "FIXED", "value": 500}}))
        .await;
    let contact = app.create_contact("CC-2").await;
    let contact_id = contact["id"].as_str().unwrap().to_string();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    assert_eq!(app.purchase(&contact_id, "FUND", "1.00", None).await.status, 201);
    app.set_offer_state(&funding, "INACTIVE").await;
    assert_eq!(app.wallet(wallet_id).await["total_balance"].to_string(), "500.00");

    let replies = join_all((0..1000).map(|n| {
        let contact_id = contact_id.clone();
        let app = &app;
        async move {
            app.purchase(&contact_id, &format!("SPEND-{n}"), "1.00", Some(("1.00", true)))
                .await
        }
    }))
    .await;
    let succeeded = replies.iter().filter(|reply| reply.status == 201).count();
    let refused = replies
        .iter()
        .filter(|reply| {
            reply.status == 400
                && reply.error_code() == "CRM.EXCEPTIONS.CANNOTSPENDAMOUNTWALLETBALANCENOTENOUGHEXCEPTION"
        })
        .count();
    let others: Vec<_> = replies
        .iter()
        .filter(|r| r.status != 201 && r.status != 400)
        .map(|r| (r.status, r.body.clone()))
        .collect();
    assert!(others.is_empty(), "unexpected replies: {others:?}");
    assert_eq!((succeeded, refused), (500, 500));
    assert_eq!(app.wallet(wallet_id).await["total_balance"].to_string(), "0.00");
    assert_eq!(
        app.assert_balance_equals_journal(wallet_id).await,
        rust_decimal::Decimal::ZERO
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_reference_sent_for_two_contacts_at_once_is_posted_for_one_only() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let first = app.create_contact("CC-3").await;
    let second = app.create_contact("CC-4").await;
    let ids = [
        first["id"].as_str().unwrap().to_string(),
        second["id"].as_str().unwrap().to_string(),
    ];
    let replies = join_all((0..40).map(|n| app.purchase(&ids[n % 2], "SHARED", "10.00", None))).await;
    let posted: std::collections::HashSet<String> = replies
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.body["contact"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(posted.len(), 1, "one contact owns the reference");
    assert!(replies.iter().all(|r| r.status == 201 || r.status == 409));
    let mut awarded = rust_decimal::Decimal::ZERO;
    for contact in [&first, &second] {
        awarded += app
            .assert_balance_equals_journal(contact["wallet"]["id"].as_str().unwrap())
            .await;
    }
    assert_eq!(awarded.to_string(), "1.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_mailbox_answers_busy_with_retry_after_and_changes_nothing() {
    let overrides = [("REWARDS__ACTORS__MAILBOX_LEN_MAX", "2")];
    let app = spawn_app_with(temp_dir(), rewards_engine::ManualClock::new(START_S), &overrides).await;
    app.create_offer(json!({"name": "One", "award": {"type": "FIXED", "value": 1}}))
        .await;
    let contact = app.create_contact("MB-1").await;
    let contact_id = contact["id"].as_str().unwrap().to_string();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    let replies = join_all((0..400).map(|n| {
        let (app, contact_id) = (&app, &contact_id);
        async move { app.purchase(contact_id, &format!("MB-{n}"), "5.00", None).await }
    }))
    .await;
    let posted = replies.iter().filter(|reply| reply.status == 201).count();
    let busy: Vec<_> = replies.iter().filter(|reply| reply.status == 429).collect();
    assert_eq!(posted + busy.len(), 400, "only 201 or 429");
    assert!(!busy.is_empty(), "400 purchases at once overflow a mailbox of 2");
    for reply in &busy {
        assert_eq!(reply.error_code(), "CRM.EXCEPTIONS.TOOMANYREQUESTSEXCEPTION");
        assert_eq!(reply.retry_after.as_deref(), Some("1"));
    }
    let balance = app.assert_balance_equals_journal(wallet_id).await;
    assert_eq!(
        balance,
        rust_decimal::Decimal::from(posted as u64),
        "only the posted purchases awarded"
    );
    // A refused purchase was not recorded: sent again, it posts.
    let retried = app
        .purchase(
            &contact_id,
            &format!("MB-{}", replies.iter().position(|r| r.status == 429).unwrap()),
            "5.00",
            None,
        )
        .await;
    assert_eq!(retried.status, 201, "{}", retried.body);
}
