//! Subscriptions over HTTP: a contact adds termed services (billed at once for the rest of
//! the cycle), changes, pauses, resumes, regrets and cancels them, previews a change and its
//! next bill; the billing run bills each due cycle from the wallet, a refused bill is asked
//! for again; and a run stopped by a crash bills every due cycle exactly once.
//!
//! The clock starts on 15 January 2027 at 08:00 UTC: monthly cycles end on 15 February
//! (31 days) and 15 March (28 days). Prorated amounts are worked out here by hand.

use crate::helpers::*;
use crate::transfers::{balance, d, fund, holder, Holder};
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub(crate) const DAY: i64 = 86_400;
pub(crate) const FEB15: i64 = START_S + 31 * DAY;
pub(crate) const MAR15: i64 = FEB15 + 28 * DAY;
pub(crate) const APR15: i64 = MAR15 + 31 * DAY;

pub(crate) struct Catalogue {
    pub(crate) tv: String,
    pub(crate) tv_plus: String,
    pub(crate) gym: String,
    pub(crate) weekly: String,
    pub(crate) latte: String,
}

async fn made(app: &TestApp, path: &str, body: Value) -> String {
    let reply = app.post(path, &body).await;
    assert_eq!(reply.status, 201, "{path}: {}", reply.body);
    reply.body["id"].as_str().unwrap().to_string()
}

fn priced(price: &str, uot: &str) -> Value {
    json!([{"price_model": "FLAT", "price": serde_json::Number::from_string_unchecked_compat(price),
            "currency_code": "EUR", "tax_model": "TAX_INCLUSIVE", "is_default": true,
            "price_terms": {"billing_period": {"duration": 1, "uot": uot}}}])
}

pub(crate) async fn catalogue(app: &TestApp) -> Catalogue {
    let termed = made(
        app,
        "/backoffice/v2/products/types",
        json!({"name": "Plans", "classification": "TERMED_SERVICE", "composition_method": "FLAT"}),
    )
    .await;
    let goods = made(
        app,
        "/backoffice/v2/products/types",
        json!({"name": "Goods", "classification": "NON_TRACEABLE_PHYSICAL_GOOD", "composition_method": "FLAT"}),
    )
    .await;
    let plan = |sku: &str, price: &str, uot: &str| json!({"sku": sku, "name": sku, "type_id": termed, "pricing": priced(price, uot)});
    Catalogue {
        tv: made(app, "/backoffice/v2/products", plan("TV", "30.00", "MONTH")).await,
        tv_plus: made(app, "/backoffice/v2/products", plan("TV-PLUS", "45.00", "MONTH")).await,
        gym: made(
            app,
            "/backoffice/v2/products",
            json!({"sku": "GYM", "name": "Gym", "type_id": termed, "pricing": priced("20.00", "MONTH"),
                   "tax_rate": {"name": "VAT 20%", "tax_code": "VAT", "percentage": 20}}),
        )
        .await,
        weekly: made(app, "/backoffice/v2/products", plan("PAPER", "3.00", "WEEK")).await,
        latte: made(
            app,
            "/backoffice/v2/products",
            json!({"sku": "LATTE", "name": "Latte", "type_id": goods, "pricing": [{"price": 3, "currency_code": "EUR"}]}),
        )
        .await,
    }
}

/// The holder signed in again (days pass here; access tokens do not last that long).
pub(crate) async fn signed_in(app: &TestApp, name: &str, who: &Holder) -> Holder {
    let reply = contact_sign_in(app, PUBLIC_KEY, &format!("{name}@example.com"), "transfer-password-1").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    Holder {
        contact_id: who.contact_id.clone(),
        wallet_id: who.wallet_id.clone(),
        token: reply.body["access_token"].as_str().unwrap().to_string(),
    }
}

pub(crate) async fn add(app: &TestApp, who: &Holder, product: &str) -> Reply {
    with_token(
        app,
        &who.token,
        "POST",
        &format!("/self-service/v2/contacts/{}/services", who.contact_id),
        Some(&json!({"services": [{"product_id": product}]})),
    )
    .await
}

pub(crate) async fn act(app: &TestApp, who: &Holder, service: &str, body: Value) -> Reply {
    with_token(
        app,
        &who.token,
        "PUT",
        &format!("/self-service/v2/services/{service}"),
        Some(&body),
    )
    .await
}

async fn subscriptions(app: &TestApp, who: &Holder) -> Value {
    let reply = with_token(
        app,
        &who.token,
        "GET",
        &format!("/self-service/v2/contacts/{}/subscriptions", who.contact_id),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

pub(crate) async fn services(app: &TestApp, who: &Holder) -> Vec<Value> {
    let reply = with_token(
        app,
        &who.token,
        "GET",
        &format!("/self-service/v2/contacts/{}/services?size=100", who.contact_id),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["content"].as_array().unwrap().clone()
}

pub(crate) fn state_of(services: &[Value], id: &str) -> String {
    services
        .iter()
        .find(|s| s["id"] == id)
        .map(|s| s["state"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// `amount` for `part` seconds of a cycle of `whole` seconds, to the cent (half away from zero).
pub(crate) fn share(amount: &str, part: i64, whole: i64) -> Decimal {
    (d(amount) * Decimal::from(part) / Decimal::from(whole))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

#[tokio::test]
async fn services_are_billed_prorated_changed_paused_and_cancelled() {
    let app = spawn_app().await;
    // The 10% offer funds the wallets, then stops: bills' awards are tested on their own.
    let offer = app.percentage_offer(10, None).await;
    let shop = catalogue(&app).await;
    let ann = holder(&app, "ann").await;
    fund(&app, &ann, "F-1", "200").await;
    app.set_offer_state(&offer, "INACTIVE").await;

    // January 15: the TV plan starts its subscription, billed for the whole first cycle.
    let added = add(&app, &ann, &shop.tv).await;
    assert_eq!(added.status, 200, "{}", added.body);
    let tv = added.body[0]["id"].as_str().unwrap().to_string();
    assert_eq!(balance(&app, &ann.wallet_id).await, d("170.00"));
    let subs = subscriptions(&app, &ann).await;
    assert_eq!(subs["content"].as_array().unwrap().len(), 1, "{subs}");
    assert_eq!(subs["content"][0]["state"], "ACTIVE");
    assert_eq!(subs["content"][0]["bills"][0]["state"], "PAID");
    assert_eq!(subs["content"][0]["billing_info"]["next_billing_date"], FEB15);
    let listed = services(&app, &ann).await;
    assert_eq!(listed[0]["billing"]["billed_to"], FEB15);
    assert_eq!(listed[0]["subscription"]["terms"]["billing_period"]["uot"], "MONTH");

    // January 25: the gym joins the same subscription, billed for the 21 days left of 31.
    app.clock.advance(10 * DAY);
    let ann = signed_in(&app, "ann", &ann).await;
    let added = add(&app, &ann, &shop.gym).await;
    assert_eq!(added.status, 200, "{}", added.body);
    let gym = added.body[0]["id"].as_str().unwrap().to_string();
    let gym_first = share("20.00", 21 * DAY, 31 * DAY);
    assert_eq!(gym_first, d("13.55"));
    assert_eq!(balance(&app, &ann.wallet_id).await, d("170.00") - gym_first);
    assert_eq!(subscriptions(&app, &ann).await["content"].as_array().unwrap().len(), 1);
    // A weekly plan makes a subscription of its own.
    let preview = with_token(
        &app,
        &ann.token,
        "POST",
        "/self-service/v2/estimates/service_delivery",
        Some(&json!({"action": "NEW", "services_to_add": [{"product_id": shop.weekly}]})),
    )
    .await;
    assert_eq!(preview.status, 201, "{}", preview.body);
    assert_eq!(
        preview.body["service_delivery_estimate"][0]["subscription"]["terms"]["billing_period"]["uot"],
        "WEEK"
    );

    // Upgrading the TV now: the preview, then the change, cost the same.
    let change = json!({"action": "CHANGE", "services_to_change": [{"from_service_id": tv, "to_service_product_id": shop.tv_plus}]});
    let preview = with_token(
        &app,
        &ann.token,
        "POST",
        "/self-service/v2/estimates/service_delivery",
        Some(&change),
    )
    .await;
    assert_eq!(preview.status, 201, "{}", preview.body);
    let estimate = &preview.body["service_delivery_estimate"][0];
    assert_eq!(estimate["action_allowed"], true, "{}", preview.body);
    let upgrade = share("45.00", 21 * DAY, 31 * DAY) - share("30.00", 21 * DAY, 31 * DAY);
    assert_eq!(upgrade, d("10.16"));
    assert_eq!(dec(&estimate["billing_estimate"]["totals"]["total_amount"]), upgrade);
    let before = balance(&app, &ann.wallet_id).await;
    let changed = act(
        &app,
        &ann,
        &tv,
        json!({"action": "CHANGE", "change_to_service": {"product_id": shop.tv_plus}}),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let tv_plus = changed.body["id"].as_str().unwrap().to_string();
    assert_ne!(tv_plus, tv);
    assert_eq!(balance(&app, &ann.wallet_id).await, before - upgrade);
    let listed = services(&app, &ann).await;
    assert_eq!(state_of(&listed, &tv), "SWAPPED");
    assert_eq!(state_of(&listed, &tv_plus), "EFFECTIVE");

    // The next bill, previewed: a whole cycle of each.
    let upcoming = with_token(
        &app,
        &ann.token,
        "POST",
        "/self-service/v2/estimates/billing",
        Some(&json!({"as_of_date": FEB15})),
    )
    .await;
    assert_eq!(upcoming.status, 201, "{}", upcoming.body);
    let next = &upcoming.body["billing_estimate"][0];
    assert_eq!(dec(&next["totals"]["total_amount"]), d("65.00"), "{}", upcoming.body);
    assert_eq!(
        dec(&next["totals"]["tax_amount"]),
        d("3.33"),
        "the gym's VAT: 20.00 × 20/120"
    );
    assert_eq!(next["billed_period"]["to_date"], MAR15);

    // February 15: the billing run bills it, once however often it runs.
    app.clock.set(FEB15);
    let before = balance(&app, &ann.wallet_id).await;
    let round = app.engine.billing_run(1000).await.unwrap();
    assert_eq!(round.paid, 1, "{round:?}");
    assert_eq!(app.engine.billing_run(1000).await.unwrap().paid, 0);
    assert_eq!(balance(&app, &ann.wallet_id).await, before - d("65.00"));

    // Paused at once: March bills the TV only; resumed on 29 March for the 17 days left of 31.
    let ann = signed_in(&app, "ann", &ann).await;
    assert_eq!(act(&app, &ann, &gym, json!({"action": "PAUSE"})).await.status, 200);
    assert_eq!(
        act(&app, &ann, &gym, json!({"action": "PAUSE"})).await.status,
        409,
        "paused already"
    );
    app.clock.set(MAR15);
    let before = balance(&app, &ann.wallet_id).await;
    app.engine.billing_run(1000).await.unwrap();
    assert_eq!(balance(&app, &ann.wallet_id).await, before - d("45.00"));
    app.clock.set(MAR15 + 14 * DAY);
    let ann = signed_in(&app, "ann", &ann).await;
    let before = balance(&app, &ann.wallet_id).await;
    assert_eq!(act(&app, &ann, &gym, json!({"action": "RESUME"})).await.status, 200);
    assert_eq!(
        balance(&app, &ann.wallet_id).await,
        before - share("20.00", 17 * DAY, 31 * DAY)
    );

    // Too late to regret the TV; cancelled, it is billed no more.
    let regret = act(&app, &ann, &tv_plus, json!({"action": "REGRET"})).await;
    assert_eq!(regret.status, 409, "{}", regret.body);
    assert_eq!(act(&app, &ann, &tv_plus, json!({"action": "CANCEL"})).await.status, 200);
    app.clock.set(APR15);
    let before = balance(&app, &ann.wallet_id).await;
    app.engine.billing_run(1000).await.unwrap();
    assert_eq!(balance(&app, &ann.wallet_id).await, before - d("20.00"));
    app.assert_balance_equals_journal(&ann.wallet_id).await;

    // Every bill is in the wallet's journal.
    let ann = signed_in(&app, "ann", &ann).await;
    let subs = subscriptions(&app, &ann).await;
    let bills = subs["content"][0]["bills"].as_array().unwrap();
    assert_eq!(bills.len(), 7, "{subs}");
    assert!(bills.iter().all(|bill| bill["state"] == "PAID"), "{subs}");
    let journal = app.journal(&ann.wallet_id).await;
    let billed = journal
        .iter()
        .filter(|line| line["transaction_type"] == "SUBSCRIPTION_BILL")
        .count();
    // Seven bills; the change's credit and charge are one bill, one line.
    assert_eq!(billed, 7, "{journal:?}");
}

#[tokio::test]
async fn a_refused_bill_is_asked_for_again_and_a_new_service_needs_its_first_bill_paid() {
    let app = spawn_app().await;
    // The 10% offer funds the wallets, then stops: bills' awards are tested on their own.
    let offer = app.percentage_offer(10, None).await;
    let shop = catalogue(&app).await;
    let bo = holder(&app, "bo").await;
    fund(&app, &bo, "F-1", "40").await;
    app.set_offer_state(&offer, "INACTIVE").await;
    let tv = add(&app, &bo, &shop.tv).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(balance(&app, &bo.wallet_id).await, d("10.00"));
    // Another 45.00 service: the wallet cannot pay its first bill, so it is not added.
    let refused = add(&app, &bo, &shop.tv_plus).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(balance(&app, &bo.wallet_id).await, d("10.00"));
    let listed = services(&app, &bo).await;
    assert!(
        listed
            .iter()
            .all(|s| s["product"]["id"] != shop.tv_plus.as_str() || s["state"] == "REMOVED"),
        "{listed:?}"
    );
    assert_eq!(state_of(&listed, &tv), "EFFECTIVE");

    // February: 30.00 due, 10.00 in the wallet: refused, nothing taken, asked again a day on.
    app.clock.set(FEB15);
    let round = app.engine.billing_run(1000).await.unwrap();
    assert_eq!(round.refused, 1, "{round:?}");
    assert_eq!(balance(&app, &bo.wallet_id).await, d("10.00"));
    let bo = signed_in(&app, "bo", &bo).await;
    let subs = subscriptions(&app, &bo).await;
    assert_eq!(subs["content"][0]["usage_blocked"], true, "{subs}");
    // The withdrawn service's first bill, then February's: both refused.
    assert_eq!(subs["content"][0]["bills"][1]["state"], "FAILED");
    assert_eq!(subs["content"][0]["bills"][2]["state"], "FAILED");
    assert!(subs["content"][0]["bills"][2]["failure_reason"].as_str().is_some());
    assert_eq!(
        app.engine.billing_run(1000).await.unwrap().looked,
        0,
        "not before a day"
    );
    app.set_offer_state(&offer, "ACTIVE").await;
    fund(&app, &bo, "F-2", "50").await;
    app.set_offer_state(&offer, "INACTIVE").await;
    app.clock.advance(DAY);
    let round = app.engine.billing_run(1000).await.unwrap();
    assert_eq!(round.paid, 1, "{round:?}");
    assert_eq!(balance(&app, &bo.wallet_id).await, d("30.00"));
    let bo = signed_in(&app, "bo", &bo).await;
    let subs = subscriptions(&app, &bo).await;
    assert_eq!(subs["content"][0]["usage_blocked"], false);
    // The same bill, paid on its second attempt: no fourth.
    assert_eq!(subs["content"][0]["bills"].as_array().unwrap().len(), 3, "{subs}");
    assert_eq!(subs["content"][0]["bills"][2]["state"], "PAID");
    app.assert_balance_equals_journal(&bo.wallet_id).await;
}

#[tokio::test]
async fn a_regret_gives_back_every_charge_and_bad_requests_change_nothing() {
    let app = spawn_app().await;
    // The 10% offer funds the wallets, then stops: bills' awards are tested on their own.
    let offer = app.percentage_offer(10, None).await;
    let shop = catalogue(&app).await;
    let cy = holder(&app, "cy").await;
    let dee = holder(&app, "dee").await;
    fund(&app, &cy, "F-1", "100").await;
    app.set_offer_state(&offer, "INACTIVE").await;
    let gym = add(&app, &cy, &shop.gym).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(balance(&app, &cy.wallet_id).await, d("80.00"));
    app.clock.advance(3 * DAY);
    let cy = signed_in(&app, "cy", &cy).await;
    let dee = signed_in(&app, "dee", &dee).await;
    let regretted = act(&app, &cy, &gym, json!({"action": "REGRET"})).await;
    assert_eq!(regretted.status, 200, "{}", regretted.body);
    assert_eq!(balance(&app, &cy.wallet_id).await, d("100.00"));
    assert_eq!(state_of(&services(&app, &cy).await, &gym), "REGRETTED");
    let subs = subscriptions(&app, &cy).await;
    assert_eq!(subs["content"], json!([]), "churned subscriptions are left out: {subs}");
    let churned = with_token(
        &app,
        &cy.token,
        "GET",
        &format!(
            "/self-service/v2/contacts/{}/subscriptions?include_only_terminated=true",
            cy.contact_id
        ),
        None,
    )
    .await;
    assert_eq!(churned.body["content"][0]["state"], "CHURNED", "{}", churned.body);
    app.assert_balance_equals_journal(&cy.wallet_id).await;

    // Bad input: each a clear 4xx, nothing changes.
    let tv = add(&app, &cy, &shop.tv).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let funds = balance(&app, &cy.wallet_id).await;
    let path = format!("/self-service/v2/contacts/{}/services", cy.contact_id);
    for (body, why) in [
        (json!({"services": [{"product_id": shop.latte}]}), "not a service"),
        (
            json!({"services": [{"product_id": uuid::Uuid::new_v4().to_string()}]}),
            "unknown",
        ),
        (
            json!({"services": [{"product_id": shop.tv, "quantity": 0}]}),
            "quantity 0",
        ),
        (json!({"services": []}), "none"),
        (
            json!({"services": [{"product_id": shop.tv}], "payment_method_type": "CARD"}),
            "card",
        ),
        (
            json!({"services": [{"product_id": shop.tv}], "payment_method_type": "ACCOUNT_DEBIT"}),
            "no account",
        ),
        (
            json!({"services": [{"product_id": shop.tv}], "scheduled_date": START_S + 4 * 366 * DAY}),
            "scheduled past three years",
        ),
    ] {
        let reply = with_token(&app, &cy.token, "POST", &path, Some(&body)).await;
        assert_eq!(reply.status, 400, "{why}: {}", reply.body);
    }
    for (body, status) in [
        (json!({"action": "RESUME"}), 409),
        (json!({"action": "ACTIVATE"}), 409),
        (json!({"action": "SHOUT"}), 400),
        (json!({"action": "PAUSE", "number_of_days": 0}), 400),
        (json!({"action": "CHANGE"}), 400),
        (
            json!({"action": "CHANGE", "change_to_service": {"product_id": shop.weekly}}),
            400,
        ),
    ] {
        let reply = act(&app, &cy, &tv, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
    }
    assert_eq!(balance(&app, &cy.wallet_id).await, funds);
    assert_eq!(state_of(&services(&app, &cy).await, &tv), "EFFECTIVE");

    // Another contact reaches none of it.
    let theirs = act(&app, &dee, &tv, json!({"action": "CANCEL"})).await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
    let listed = with_token(
        &app,
        &dee.token,
        "GET",
        &format!("/self-service/v2/contacts/{}/services", cy.contact_id),
        None,
    )
    .await;
    assert_eq!(listed.status, 403);
    let preview = with_token(
        &app,
        &dee.token,
        "POST",
        "/self-service/v2/estimates/service_delivery",
        Some(&json!({"action": "CANCEL", "services_to_remove": [{"id": tv}]})),
    )
    .await;
    assert_eq!(preview.status, 404, "{}", preview.body);
    assert_eq!(state_of(&services(&app, &cy).await, &tv), "EFFECTIVE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_billing_run_stopped_by_a_crash_bills_each_due_cycle_exactly_once() {
    use rewards_engine::storage::durability::{Action, Point, Recorder};
    use std::sync::atomic::{AtomicUsize, Ordering};
    const CONTACTS: usize = 24;
    let recorder = Recorder::default();
    let app = spawn_app_hooked(
        temp_dir(),
        rewards_engine::ManualClock::new(START_S),
        &[],
        Some(recorder.hook()),
    )
    .await;
    // The 10% offer funds the wallets, then stops: bills' awards are tested on their own.
    let offer = app.percentage_offer(10, None).await;
    let shop = catalogue(&app).await;
    let mut holders = Vec::new();
    for index in 0..CONTACTS {
        let who = holder(&app, &format!("bill{index}")).await;
        fund(&app, &who, &format!("F-{index}"), "100").await;
        holders.push(who);
    }
    app.set_offer_state(&offer, "INACTIVE").await;
    for who in &holders {
        let added = add(&app, who, &shop.tv).await;
        assert_eq!(added.status, 200, "{}", added.body);
    }

    // February 15: every subscription is due. The disk fails two syncs into the run, so
    // it stops part way (bills made and not paid, wallets debited and bills not marked),
    // then the process dies.
    app.clock.set(FEB15);
    let syncs = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = syncs.clone();
    recorder.inject(move |point| match point {
        Point::LogSync { .. } if counted.fetch_add(1, Ordering::SeqCst) >= 2 => Action::Fail("EIO".into()),
        _ => Action::Proceed,
    });
    let stopped = app.engine.billing_run(1000).await;
    if let Ok(round) = stopped {
        assert!(round.paid < CONTACTS, "the run should stop part way: {round:?}");
    }
    assert!(syncs.load(Ordering::SeqCst) > 2, "the disk failed during the run");
    let (dir, clock) = app.crash().await;

    // Restarted: runs (the server's own at start, and these) until nothing is due.
    let app = spawn_app_with(dir, clock, &[]).await;
    for _ in 0..50 {
        let round = app.engine.billing_run(1000).await.unwrap();
        if round.looked == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for who in &holders {
        // 100 funded, 30 for January, 30 for February: once each.
        assert_eq!(
            balance(&app, &who.wallet_id).await,
            d("40.00"),
            "wallet {}",
            who.wallet_id
        );
        app.assert_balance_equals_journal(&who.wallet_id).await;
        let billed = app
            .journal(&who.wallet_id)
            .await
            .iter()
            .filter(|line| line["transaction_type"] == "SUBSCRIPTION_BILL")
            .count();
        assert_eq!(billed, 2, "wallet {}", who.wallet_id);
    }
    assert_eq!(app.engine.billing_run(1000).await.unwrap().looked, 0);
}

#[tokio::test]
async fn usage_is_authorised_within_a_services_allowances_and_recorded_once_blocked() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let plans = made(
        &app,
        "/backoffice/v2/products/types",
        json!({"name": "Plans", "classification": "TERMED_SERVICE", "composition_method": "FLAT"}),
    )
    .await;
    let metered = made(
        &app,
        "/backoffice/v2/products/types",
        json!({"name": "Usage", "classification": "USAGE_SERVICE", "composition_method": "FLAT"}),
    )
    .await;
    let mobile = made(
        &app,
        "/backoffice/v2/products",
        json!({"sku": "MOBILE", "name": "Mobile", "type_id": plans, "pricing": priced("20.00", "MONTH")}),
    )
    .await;
    let data = made(
        &app,
        "/backoffice/v2/products",
        json!({"sku": "DATA", "name": "Data (MB)", "type_id": metered}),
    )
    .await;
    let calls = made(
        &app,
        "/backoffice/v2/products",
        json!({"sku": "CALLS", "name": "Calls (min)", "type_id": metered}),
    )
    .await;
    let path = format!("/backoffice/v2/products/{mobile}/allowances");
    let set = app
        .put(
            &path,
            &json!({"allowances": [
                {"product_id": data, "per_transaction": 500, "per_day": 1000, "per_billing_cycle": 3000},
                {"product_id": calls, "per_billing_cycle": 100},
            ]}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(app.get(&path).await.body, set.body);
    for (product, body) in [
        (&data, json!({"allowances": [{"product_id": calls, "per_day": 1}]})),
        (&mobile, json!({"allowances": [{"product_id": mobile, "per_day": 1}]})),
        (&mobile, json!({"allowances": [{"product_id": data}]})),
        (&mobile, json!({"allowances": [{"product_id": data, "per_day": -1}]})),
    ] {
        let reply = app
            .put(&format!("/backoffice/v2/products/{product}/allowances"), &body)
            .await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
    }

    let eve = holder(&app, "eve").await;
    let fay = holder(&app, "fay").await;
    fund(&app, &eve, "F-1", "100").await;
    let service = add(&app, &eve, &mobile).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(services(&app, &eve).await[0]["has_allowance"], true);
    let ask = |who: &Holder, usage: Value, block: bool| {
        let body = json!({"service": {"id": service, "classification": "TERMED_SERVICE"}, "usage": usage, "block_usage": block});
        let (app, token) = (&app, who.token.clone());
        async move { with_token(app, &token, "POST", "/self-service/v2/estimates/allowance", Some(&body)).await }
    };
    let mb = |amount: u32| json!([{"product": {"id": data, "sku": "DATA"}, "usage_amount": amount}]);
    let minutes = |amount: u32| json!([{"product": {"id": calls, "sku": "CALLS"}, "usage_amount": amount}]);
    let allowed = |reply: &Reply| reply.body["services"][0]["authorise_consumption"] == true;

    // Asking records nothing; past a bound is not authorised.
    let asked = ask(&eve, mb(400), false).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(allowed(&asked), "{}", asked.body);
    assert_eq!(asked.body["recorded"], false);
    assert_eq!(
        asked.body["services"][0]["products_allowance"][0]["remaining_usage"]["per_day"],
        1000
    );
    assert!(
        !allowed(&ask(&eve, mb(600), true).await),
        "over the per-transaction bound"
    );
    // Blocked: recorded against today's and the cycle's allowance.
    for _ in 0..2 {
        let blocked = ask(&eve, mb(400), true).await;
        assert!(allowed(&blocked), "{}", blocked.body);
        assert_eq!(blocked.body["recorded"], true);
    }
    let third = ask(&eve, mb(400), true).await;
    assert!(!allowed(&third), "200 MB left today: {}", third.body);
    assert_eq!(
        third.body["services"][0]["products_allowance"][0]["remaining_usage"]["per_day"],
        200
    );
    assert_eq!(
        third.body["services"][0]["products_allowance"][0]["remaining_usage"]["per_billing_cycle"],
        2200
    );
    assert!(allowed(&ask(&eve, minutes(60), true).await));
    assert!(
        !allowed(&ask(&eve, minutes(50), true).await),
        "40 minutes left this cycle"
    );

    // The next day: the day's allowance is back, the cycle's is not.
    app.clock.advance(DAY);
    let eve = signed_in(&app, "eve", &eve).await;
    let next = ask(&eve, mb(400), true).await;
    assert!(allowed(&next), "{}", next.body);
    assert_eq!(
        next.body["services"][0]["products_allowance"][0]["remaining_usage"]["per_billing_cycle"],
        1800
    );
    assert!(!allowed(&ask(&eve, minutes(50), true).await));
    // The next cycle: all of it again.
    app.clock.set(FEB15);
    let eve = signed_in(&app, "eve", &eve).await;
    assert!(allowed(&ask(&eve, minutes(100), true).await));

    // The records: newest first, by usage product.
    let path = format!("/self-service/v2/contacts/{}/usage_records", eve.contact_id);
    let records = with_token(&app, &eve.token, "GET", &path, None).await;
    assert_eq!(records.status, 200, "{}", records.body);
    let list = records.body["content"].as_array().unwrap();
    assert_eq!(list.len(), 5, "{}", records.body);
    assert_eq!(list[0]["usage_product"]["sku"], "CALLS");
    assert_eq!(list[0]["usage_amount"], 100);
    assert_eq!(list[0]["billing_directive"], "NOT_TO_BE_BILLED");
    let only_calls = with_token(
        &app,
        &eve.token,
        "GET",
        &format!("{path}?usage_service_id={calls}"),
        None,
    )
    .await;
    assert_eq!(only_calls.body["content"].as_array().unwrap().len(), 2);

    // A paused service consumes nothing; another contact's is not found; bad input.
    let fay = signed_in(&app, "fay", &fay).await;
    assert_eq!(ask(&fay, mb(1), false).await.status, 404);
    assert_eq!(with_token(&app, &fay.token, "GET", &path, None).await.status, 403);
    assert_eq!(act(&app, &eve, &service, json!({"action": "PAUSE"})).await.status, 200);
    assert!(!allowed(&ask(&eve, mb(1), true).await));
    assert_eq!(ask(&eve, mb(0), true).await.status, 400);
    assert_eq!(
        ask(
            &eve,
            json!([{"product": {"id": mobile, "sku": "MOBILE"}, "usage_amount": 1}]),
            true
        )
        .await
        .status,
        400
    );
    let still = with_token(&app, &eve.token, "GET", &path, None).await;
    assert_eq!(still.body["content"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn paid_bills_earn_awards_through_the_offers_once_and_never_auto_spend() {
    let app = spawn_app().await;
    let funding = app.percentage_offer(10, None).await;
    let shop = catalogue(&app).await;
    let gus = holder(&app, "gus").await;
    fund(&app, &gus, "F-1", "200").await;
    app.set_offer_state(&funding, "INACTIVE").await;
    // Subscribers of the TV plan earn 10% of what it is billed; the gym earns nothing.
    app.create_offer(
        json!({"name": "TV loyalty", "products": {"skus": ["TV"]}, "award": {"type": "PERCENTAGE", "value": 10}}),
    )
    .await;
    // An auto-spending wallet: a bill's award event must not spend it again.
    let settings = app
        .put(
            &format!("/backoffice/v2/contacts/{}/spend_settings", gus.contact_id),
            &json!({"spend_blocked": false, "auto_spend": true}),
        )
        .await;
    assert_eq!(settings.status, 200, "{}", settings.body);
    assert_eq!(add(&app, &gus, &shop.tv).await.status, 200);
    assert_eq!(add(&app, &gus, &shop.gym).await.status, 200);
    // 200 - 30 - 20 + 3.00 (10% of the TV's bill).
    assert_eq!(balance(&app, &gus.wallet_id).await, d("153.00"));
    app.clock.set(FEB15);
    for _ in 0..3 {
        app.engine.billing_run(1000).await.unwrap();
    }
    assert_eq!(balance(&app, &gus.wallet_id).await, d("106.00"), "153 - 50 + 3, once");
    app.assert_balance_equals_journal(&gus.wallet_id).await;
    let awards = app
        .journal(&gus.wallet_id)
        .await
        .iter()
        .filter(|line| line["transaction_type"] == "AWARD")
        .count();
    assert_eq!(awards, 3, "the funding and two TV bills");
}
