//! The billing run killed with SIGKILL: subscriptions made 40 days ago (in process, on a
//! manual clock) are due their second monthly bill; the real `rewards` binary bills them
//! and is killed mid-run, then started again, then the run is finished in process. Every
//! subscription is billed each due cycle exactly once: two bills, two charges.

use crate::crash::start_server_with;
use crate::helpers::*;
use crate::subscriptions::catalogue;
use futures_util::{stream, StreamExt};
use rewards_engine::domain::ids::ProductId;
use rewards_engine::domain::ids::{ContactId, Mode, OrganisationId, Tenant, WalletId};
use rewards_engine::engine::{Funding, NewService};
use rewards_engine::ManualClock;
use rust_decimal::Decimal;
use serde_json::Value;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SUBSCRIBERS: usize = 300;
const DAY: i64 = 86_400;
const PAID: &str = "rewards_bills_total{outcome=\"paid\"}";

fn tenant_of(app: &TestApp) -> Tenant {
    let keys: Value =
        serde_json::from_slice(&std::fs::read(app.data_dir.path().join("bootstrap.json")).unwrap()).unwrap();
    Tenant {
        organisation: OrganisationId::parse(keys["organisation_id"].as_str().unwrap()).unwrap(),
        mode: Mode::Live,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_billing_run_killed_with_sigkill_bills_each_due_cycle_exactly_once() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let dir = temp_dir();
    // 40 days ago: 300 contacts with 100.00 each subscribe to the TV (30.00 a month).
    let app = spawn_app_with(dir.clone(), ManualClock::new(now - 40 * DAY), &[]).await;
    let funding = app.percentage_offer(10, None).await;
    let tv = ProductId::parse(&catalogue(&app).await.tv).unwrap();
    let tenant = tenant_of(&app);
    let made: Vec<(ContactId, WalletId)> = stream::iter(0..SUBSCRIBERS)
        .map(|n| {
            let app = &app;
            async move {
                let contact = app.create_contact(&format!("SUB{n:04}")).await;
                let id = contact["id"].as_str().unwrap().to_string();
                let funded = app.purchase(&id, &format!("FUND-{n}"), "1000", None).await;
                assert_eq!(funded.status, 201, "{}", funded.body);
                (
                    ContactId::parse(&id).unwrap(),
                    WalletId::parse(contact["wallet"]["id"].as_str().unwrap()).unwrap(),
                )
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    app.set_offer_state(&funding, "INACTIVE").await;
    stream::iter(&made)
        .for_each_concurrent(16, |(contact, _)| {
            let app = &app;
            async move {
                let service = NewService {
                    product: tv,
                    quantity: 1,
                    price_terms: None,
                };
                app.engine
                    .add_services(tenant, *contact, &[service], Funding::Wallet, None, None)
                    .await
                    .expect("subscribed and billed");
            }
        })
        .await;
    let (dir, _) = app.stop().await;

    // The real binary, on today's clock: every subscription is due. Killed once the run
    // has paid some bills and (most likely) not all.
    let server = start_server_with(dir.path(), &[("REWARDS__PAYMENTS__BILLING_INTERVAL_MS", "20")]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let paid_before_kill = loop {
        let paid = server.metric_if_recorded(PAID).await.unwrap_or(0.0);
        if paid > 0.0 {
            break paid;
        }
        assert!(Instant::now() < deadline, "the billing run never paid a bill");
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    server.kill_hard();
    eprintln!("killed after {paid_before_kill} of {SUBSCRIBERS} bills were seen paid");
    // Started again, then stopped hard once more mid-way (or after it finished).
    let server = start_server_with(dir.path(), &[("REWARDS__PAYMENTS__BILLING_INTERVAL_MS", "20")]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill_hard();

    // Finished in process: nothing is billed twice, nothing left out.
    let app = spawn_app_with(dir, ManualClock::new(now + 60), &[]).await;
    while app.engine.billing_run(10_000).await.unwrap().looked > 0 {}
    for (contact, wallet) in &made {
        let subscriptions = app.engine.contact_subscriptions(&tenant, *contact).unwrap();
        assert_eq!(subscriptions.len(), 1);
        assert_eq!(
            (subscriptions[0].bills, subscriptions[0].open_bill),
            (2, None),
            "{contact}: two bills, both paid"
        );
        let balance = dec(&app.wallet(&wallet.to_string()).await["total_balance"]);
        assert_eq!(balance, Decimal::new(4_000, 2), "{contact}: 100 - 30 - 30");
        app.assert_balance_equals_journal(&wallet.to_string()).await;
    }
}
