//! Scheduled actions: an action on a service sent with a later date is kept SCHEDULED and
//! taken by the billing run once due (or REJECTED when the service moved meanwhile); the
//! contact lists, moves and cancels them. Actions taken at once are listed as EXECUTED.

use crate::helpers::*;
use crate::subscriptions::{act, add, catalogue, services, share, signed_in, state_of, DAY, FEB15, MAR15};
use crate::transfers::{balance, d, fund, holder};
use serde_json::json;

#[tokio::test]
async fn scheduled_actions_are_taken_when_due_moved_cancelled_or_rejected() {
    let app = spawn_app().await;
    let offer = app.percentage_offer(10, None).await;
    let shop = catalogue(&app).await;
    let ann = holder(&app, "ann").await;
    let bob = holder(&app, "bob").await;
    fund(&app, &ann, "F-1", "200").await;
    app.set_offer_state(&offer, "INACTIVE").await;
    let tv = add(&app, &ann, &shop.tv).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let gym = add(&app, &ann, &shop.gym).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let actions = |who: &crate::transfers::Holder, query: &str| {
        let (app, token, path) = (
            &app,
            who.token.clone(),
            format!("/self-service/v2/subscriptions/actions{query}"),
        );
        async move { with_token(app, &token, "GET", &path, None).await }
    };

    // A pause for 10 days from now, moved to 12.
    let scheduled = act(
        &app,
        &ann,
        &tv,
        json!({"action": "PAUSE", "scheduled_date": START_S + 10 * DAY}),
    )
    .await;
    assert_eq!(scheduled.status, 200, "{}", scheduled.body);
    assert_eq!(scheduled.body["proposed_date"], START_S + 10 * DAY);
    let listed = actions(&ann, "?is_scheduled=true").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let pause = listed.body["content"][0].clone();
    assert_eq!(listed.body["content"].as_array().unwrap().len(), 1, "{}", listed.body);
    assert_eq!(
        (pause["state"].as_str(), pause["behaviour_code"].as_str()),
        (Some("SCHEDULED"), Some("PAUSE_SERVICE"))
    );
    let pause_id = pause["id"].as_str().unwrap().to_string();
    let path = format!("/self-service/v2/subscriptions/actions/{pause_id}");
    let moved = with_token(
        &app,
        &ann.token,
        "PUT",
        &path,
        Some(&json!({"action": "UPDATE", "scheduled_date": START_S + 12 * DAY})),
    )
    .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["proposed_date"], START_S + 12 * DAY);
    assert_eq!(
        with_token(&app, &bob.token, "PUT", &path, Some(&json!({"action": "CANCEL"})))
            .await
            .status,
        404
    );
    // Nothing happens before it is due; the run takes it once it is.
    app.clock.set(START_S + 11 * DAY);
    app.engine.billing_run(1000).await.unwrap();
    let ann = signed_in(&app, "ann", &ann).await;
    assert_eq!(state_of(&services(&app, &ann).await, &tv), "EFFECTIVE");
    app.clock.set(START_S + 12 * DAY + 3600);
    app.engine.billing_run(1000).await.unwrap();
    let ann = signed_in(&app, "ann", &ann).await;
    assert_eq!(state_of(&services(&app, &ann).await, &tv), "PAUSED");
    let done = actions(&ann, "").await;
    let pause = done.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == pause_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(pause["state"], "EXECUTED", "{}", done.body);
    assert!(pause["executed_on"].is_i64());

    // A change scheduled for a paused service is refused now; a resume is kept, then cancelled.
    let refused = act(
        &app,
        &ann,
        &tv,
        json!({"action": "CHANGE", "change_to_service": {"product_id": shop.tv_plus}, "scheduled_date": FEB15}),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let resume = act(
        &app,
        &ann,
        &tv,
        json!({"action": "RESUME", "scheduled_date": FEB15 + 5 * DAY}),
    )
    .await;
    assert_eq!(resume.status, 200, "{}", resume.body);
    let pending = actions(&ann, "?is_scheduled=true").await;
    let resume_id = pending.body["content"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/self-service/v2/subscriptions/actions/{resume_id}");
    let cancelled = with_token(&app, &ann.token, "PUT", &path, Some(&json!({"action": "CANCEL"}))).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(
        with_token(&app, &ann.token, "PUT", &path, Some(&json!({"action": "CANCEL"})))
            .await
            .status,
        409
    );

    // A resume the day before the March cycle: the run resumes it and bills that one day.
    assert_eq!(
        act(
            &app,
            &ann,
            &tv,
            json!({"action": "RESUME", "scheduled_date": MAR15 - DAY})
        )
        .await
        .status,
        200
    );
    // A deactivation of the gym whose service is cancelled before it is due: rejected.
    assert_eq!(
        act(
            &app,
            &ann,
            &gym,
            json!({"action": "DEACTIVATE", "scheduled_date": MAR15 - DAY})
        )
        .await
        .status,
        200
    );
    app.clock.set(FEB15);
    app.engine.billing_run(1000).await.unwrap(); // February: the gym, 20.00
    let ann = signed_in(&app, "ann", &ann).await;
    assert_eq!(act(&app, &ann, &gym, json!({"action": "CANCEL"})).await.status, 200);
    let before = balance(&app, &ann.wallet_id).await;
    app.clock.set(MAR15 - DAY);
    app.engine.billing_run(1000).await.unwrap();
    assert_eq!(
        balance(&app, &ann.wallet_id).await,
        before - share("30.00", DAY, 28 * DAY)
    );
    let ann = signed_in(&app, "ann", &ann).await;
    assert_eq!(state_of(&services(&app, &ann).await, &tv), "EFFECTIVE");
    let all = actions(&ann, "").await;
    let states: Vec<(&str, &str)> = all.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["business_classification_code"].as_str().unwrap(),
                a["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(states.contains(&("DEACTIVATE_SERVICE", "REJECTED")), "{states:?}");
    assert!(states.contains(&("RESUME_SERVICE", "CANCELLED")), "{states:?}");
    assert!(states.contains(&("CANCEL_SERVICE", "EXECUTED")), "{states:?}");
    assert!(states.contains(&("RESUME_SERVICE", "EXECUTED")), "{states:?}");
    assert_eq!(
        balance(&app, &ann.wallet_id).await,
        d("200") - d("30") - d("20") - d("20") - share("30.00", DAY, 28 * DAY)
    );
    app.assert_balance_equals_journal(&ann.wallet_id).await;
    // The contact's list, by state and by code.
    let path = format!("/self-service/v2/contacts/{}/subscriptions/actions", ann.contact_id);
    let rejected = with_token(&app, &ann.token, "GET", &format!("{path}?state=REJECTED"), None).await;
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    assert_eq!(
        rejected.body["content"].as_array().unwrap().len(),
        1,
        "{}",
        rejected.body
    );
    assert_eq!(
        rejected.body["content"][0]["business_classification_code"],
        "DEACTIVATE_SERVICE"
    );
    let pauses = with_token(
        &app,
        &ann.token,
        "GET",
        &format!("{path}?behaviour_code=PAUSE_SERVICE"),
        None,
    )
    .await;
    assert_eq!(pauses.body["content"].as_array().unwrap().len(), 1, "{}", pauses.body);
    assert_eq!(
        with_token(&app, &ann.token, "GET", &format!("{path}?state=NOPE"), None)
            .await
            .status,
        400
    );
    let bob = signed_in(&app, "bob", &bob).await;
    assert_eq!(with_token(&app, &bob.token, "GET", &path, None).await.status, 403);
    let theirs = with_token(
        &app,
        &bob.token,
        "GET",
        &format!("/self-service/v2/subscriptions/actions?contact_id={}", ann.contact_id),
        None,
    )
    .await;
    assert_eq!(theirs.status, 403);
}

#[tokio::test]
async fn a_subscription_maturity_offer_rewards_the_bill_of_its_billing_cycle_once() {
    let app = spawn_app().await;
    let funding = app.percentage_offer(10, None).await;
    let shop = catalogue(&app).await;
    let cy = holder(&app, "cy").await;
    fund(&app, &cy, "F-1", "200").await;
    app.set_offer_state(&funding, "INACTIVE").await;
    // Only SUBSCRIPTION_MATURITY offers name a milestone, and they must.
    let milestone = |name: &str, offer_type: &str, maturity: serde_json::Value| {
        json!({"name": name, "type": offer_type, "award": {"type": "FIXED", "value": 5},
               "conditions": {"subscription_maturity": maturity}})
    };
    for (offer_type, maturity, field) in [
        (
            "DISCOUNT",
            json!({"billing_cycle": 2}),
            "conditions.subscription_maturity",
        ),
        ("SUBSCRIPTION_MATURITY", json!(null), "conditions.subscription_maturity"),
        (
            "SUBSCRIPTION_MATURITY",
            json!({"billing_cycle": 0}),
            "conditions.subscription_maturity.billing_cycle",
        ),
        (
            "SUBSCRIPTION_MATURITY",
            json!({"billing_cycle": 1201}),
            "conditions.subscription_maturity.billing_cycle",
        ),
    ] {
        let refused = app
            .post("/backoffice/v2/reward_offers", &milestone("Bad", offer_type, maturity))
            .await;
        assert_eq!(refused.status, 400, "{offer_type}: {}", refused.body);
        assert!(refused.body.to_string().contains(field), "{}", refused.body);
    }
    let second = app
        .create_offer(milestone(
            "Second month",
            "SUBSCRIPTION_MATURITY",
            json!({"billing_cycle": 2}),
        ))
        .await;
    assert_eq!(
        second["conditions"]["subscription_maturity"],
        json!({"billing_cycle": 2, "recurring": false})
    );
    // The first cycle's bill (30.00) earns nothing from it, nor does a purchase.
    assert_eq!(add(&app, &cy, &shop.tv).await.status, 200);
    assert_eq!(app.purchase(&cy.contact_id, "P-1", "10", None).await.status, 201);
    assert_eq!(balance(&app, &cy.wallet_id).await, d("170.00"));
    // The second cycle's bill earns 5, once however often the run looks; the third none.
    app.clock.set(FEB15);
    for _ in 0..2 {
        app.engine.billing_run(1000).await.unwrap();
    }
    assert_eq!(balance(&app, &cy.wallet_id).await, d("145.00"), "170 - 30 + 5");
    app.clock.set(MAR15);
    app.engine.billing_run(1000).await.unwrap();
    assert_eq!(balance(&app, &cy.wallet_id).await, d("115.00"), "145 - 30");
    let milestones: Vec<_> = app
        .journal(&cy.wallet_id)
        .await
        .into_iter()
        .filter(|line| line["transaction_type"] == "AWARD" && dec(&line["amount"]) == d("5"))
        .collect();
    assert_eq!(milestones.len(), 1, "{milestones:?}");
    app.assert_balance_equals_journal(&cy.wallet_id).await;
}

#[tokio::test]
async fn a_subscription_moves_its_billing_day_changes_its_funding_and_is_cancelled() {
    let app = spawn_app().await;
    let funding = app.percentage_offer(10, None).await;
    let shop = catalogue(&app).await;
    let ann = holder(&app, "ann").await;
    let bob = holder(&app, "bob").await;
    fund(&app, &ann, "F-1", "200").await;
    app.set_offer_state(&funding, "INACTIVE").await;
    let tv = add(&app, &ann, &shop.tv).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let paper = add(&app, &ann, &shop.weekly).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = |who: &crate::transfers::Holder| {
        let (app, token, path) = (
            &app,
            who.token.clone(),
            format!("/self-service/v2/contacts/{}/subscriptions", who.contact_id),
        );
        async move {
            let reply = with_token(app, &token, "GET", &path, None).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.body["content"].as_array().unwrap().clone()
        }
    };
    let subscriptions = listed(&ann).await;
    let of = |period: &str| {
        subscriptions
            .iter()
            .find(|s| s["terms"]["billing_period"]["uot"] == period)
            .unwrap()
            .clone()
    };
    let (monthly, weekly) = (of("MONTH"), of("WEEK"));
    assert_eq!(monthly["terms"]["billing_day"], json!({"day_of_month": 15}));
    assert_eq!(weekly["terms"]["billing_day"], json!({"day_of_week": "FRIDAY"}));
    let monthly_id = monthly["id"].as_str().unwrap().to_string();
    let path = format!("/self-service/v2/subscriptions/{monthly_id}");
    let put = |who: &crate::transfers::Holder, path: String, body: serde_json::Value| {
        let (app, token) = (&app, who.token.clone());
        async move { with_token(app, &token, "PUT", &path, Some(&body)).await }
    };
    let balance_before = balance(&app, &ann.wallet_id).await;
    assert_eq!(balance_before, d("167.00"), "200 - 30 - 3");

    // Bad requests change nothing; another contact's subscription is not found.
    for (body, status) in [
        (
            json!({"action": "CHANGE_BILLING_DAY", "billing_day": {"day_of_month": 29}}),
            400,
        ),
        (
            json!({"action": "CHANGE_BILLING_DAY", "billing_day": {"day_of_month": -1}}),
            400,
        ),
        (
            json!({"action": "CHANGE_BILLING_DAY", "billing_day": {"day_of_week": "MONDAY"}}),
            400,
        ),
        (json!({"action": "CHANGE_BILLING_DAY", "billing_day": {}}), 400),
        (json!({"action": "CHANGE_BILLING_DAY"}), 400),
        (
            json!({"action": "CHANGE_PAYMENT_METHOD", "payment_method_id": "ac5401c3-b2e6-2d99-171f-276084d97536"}),
            400,
        ),
        (
            json!({"action": "CHANGE_PAYMENT_METHOD", "payment_method_type": "CARD"}),
            400,
        ),
        (
            json!({"action": "CHANGE_PAYMENT_METHOD", "funding_source": "WALLET", "payment_method_type": "ACCOUNT_DEBIT"}),
            400,
        ),
        (
            json!({"action": "CHANGE_PAYMENT_METHOD", "funding_source": "ACCOUNT"}),
            400,
        ),
        (
            json!({"action": "CANCEL", "scheduled_date": START_S + 4 * 366 * DAY}),
            400,
        ),
        (json!({"action": "SUSPEND"}), 400),
        (json!({"action": 5}), 400),
        (
            json!({"action": "CHANGE_BILLING_DAY", "billing_day": {"day_of_month": "first"}}),
            400,
        ),
        (
            json!({"action": "CHANGE_BILLING_DAY", "billing_day": {"day_of_month": 4_294_967_297u64}}),
            400,
        ),
        (
            json!({"action": "CHANGE_BILLING_DAY", "billing_day": {"day_of_week": "MON\u{0000}DAY"}}),
            400,
        ),
        (json!({"action": "CANCEL", "scheduled_date": "tomorrow"}), 400),
    ] {
        let reply = put(&ann, path.clone(), body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
    }
    let refused = put(&bob, path.clone(), json!({"action": "CANCEL"})).await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    assert_eq!(
        put(
            &ann,
            "/self-service/v2/subscriptions/not-an-id".into(),
            json!({"action": "CANCEL"})
        )
        .await
        .status,
        404
    );
    assert_eq!(listed(&ann).await, subscriptions, "nothing changed");

    // The 1st of the month from now on: nothing more until 1 February, then what was
    // billed (to 15 February, 08:00) up to 1 March, prorated over February's 28 days.
    let moved = put(
        &ann,
        path.clone(),
        json!({"action": "CHANGE_BILLING_DAY", "billing_day": {"day_of_month": 1}}),
    )
    .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["id"], monthly_id.as_str());
    let feb1 = START_S + 17 * DAY - 8 * 3600;
    let mar1 = feb1 + 28 * DAY;
    let now_monthly = listed(&ann)
        .await
        .into_iter()
        .find(|s| s["id"] == monthly_id.as_str())
        .unwrap();
    assert_eq!(now_monthly["terms"]["billing_day"], json!({"day_of_month": 1}));
    assert_eq!(now_monthly["billing_info"]["next_billing_date"], feb1);
    // Once the contact opens an account, bills may be paid from it; then the wallet again.
    let opened = with_token(
        &app,
        &ann.token,
        "POST",
        &format!("/self-service/v2/contacts/{}/accounts", ann.contact_id),
        Some(&json!({"currency_code": "EUR", "name": "Bills"})),
    )
    .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    let to_account = put(
        &ann,
        path.clone(),
        json!({"action": "CHANGE_PAYMENT_METHOD", "funding_source": "ACCOUNT"}),
    )
    .await;
    assert_eq!(to_account.status, 200, "{}", to_account.body);
    let terms = listed(&ann)
        .await
        .into_iter()
        .find(|s| s["id"] == monthly_id.as_str())
        .unwrap()["terms"]
        .clone();
    assert_eq!(
        (
            terms["funding_source"].as_str(),
            terms["payment_method"]["type"].as_str()
        ),
        (Some("ACCOUNT"), Some("ACCOUNT_DEBIT"))
    );
    let back = put(
        &ann,
        path.clone(),
        json!({"action": "CHANGE_PAYMENT_METHOD", "funding_source": "WALLET", "payment_method_type": "CRM_WALLET"}),
    )
    .await;
    assert_eq!(back.status, 200, "{}", back.body);
    // The paper (3.00 a week) is cancelled from 25 January; the TV renewed on 1 February.
    let cancel = put(
        &ann,
        format!("/self-service/v2/subscriptions/{}", weekly["id"].as_str().unwrap()),
        json!({"action": "CANCEL", "scheduled_date": START_S + 10 * DAY}),
    )
    .await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    assert_eq!(cancel.body["proposed_date"], START_S + 10 * DAY);
    for at in [START_S + 7 * DAY, START_S + 10 * DAY + 60] {
        app.clock.set(at);
        app.engine.billing_run(1000).await.unwrap();
    }
    let ann = signed_in(&app, "ann", &ann).await;
    assert_eq!(state_of(&services(&app, &ann).await, &paper), "CANCELLED");
    let paper_bills = balance_before - d("3.00");
    assert_eq!(
        balance(&app, &ann.wallet_id).await,
        paper_bills,
        "one more week of paper, on 22 January"
    );
    app.clock.set(feb1);
    app.engine.billing_run(1000).await.unwrap();
    let prorated = share("30.00", mar1 - FEB15, 28 * DAY);
    assert_eq!(balance(&app, &ann.wallet_id).await, paper_bills - prorated);
    app.clock.set(mar1);
    app.engine.billing_run(1000).await.unwrap();
    assert_eq!(balance(&app, &ann.wallet_id).await, paper_bills - prorated - d("30.00"));
    // Cancelled at once: the TV stops; a second cancel has nothing left to cancel.
    let ann = signed_in(&app, "ann", &ann).await;
    let cancelled = put(&ann, path.clone(), json!({"action": "CANCEL"})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(state_of(&services(&app, &ann).await, &tv), "CANCELLED");
    assert_eq!(put(&ann, path.clone(), json!({"action": "CANCEL"})).await.status, 409);
    app.clock.set(mar1 + 31 * DAY);
    app.engine.billing_run(1000).await.unwrap();
    assert_eq!(balance(&app, &ann.wallet_id).await, paper_bills - prorated - d("30.00"));
    app.assert_balance_equals_journal(&ann.wallet_id).await;
}

#[tokio::test]
async fn services_added_for_a_later_date_start_then_and_are_billed_from_then() {
    let app = spawn_app().await;
    let funding = app.percentage_offer(10, None).await;
    let shop = catalogue(&app).await;
    let kim = holder(&app, "kim").await;
    fund(&app, &kim, "F-1", "100").await;
    app.set_offer_state(&funding, "INACTIVE").await;
    // The TV from 1 February (17 days on, at midnight): a draft, nothing billed yet.
    let feb1 = START_S + 17 * DAY - 8 * 3600;
    let added = with_token(
        &app,
        &kim.token,
        "POST",
        &format!("/self-service/v2/contacts/{}/services", kim.contact_id),
        Some(&json!({"services": [{"product_id": shop.tv}], "scheduled_date": feb1})),
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let tv = added.body[0]["id"].as_str().unwrap().to_string();
    assert_eq!(state_of(&services(&app, &kim).await, &tv), "DRAFT");
    assert_eq!(balance(&app, &kim.wallet_id).await, d("100"));
    let scheduled = with_token(
        &app,
        &kim.token,
        "GET",
        "/self-service/v2/subscriptions/actions?is_scheduled=true",
        None,
    )
    .await;
    assert_eq!(scheduled.status, 200, "{}", scheduled.body);
    assert_eq!(
        scheduled.body["content"][0]["behaviour_code"], "ACTIVATE_SERVICE",
        "{}",
        scheduled.body
    );
    assert_eq!(scheduled.body["content"][0]["scheduled_on"], feb1);
    // Nothing happens before; on the day it is activated and billed a whole cycle, the
    // subscription anchored then.
    app.clock.set(feb1 - 60);
    app.engine.billing_run(1000).await.unwrap();
    assert_eq!(balance(&app, &kim.wallet_id).await, d("100"));
    app.clock.set(feb1 + 60);
    app.engine.billing_run(1000).await.unwrap();
    let kim = signed_in(&app, "kim", &kim).await;
    assert_eq!(state_of(&services(&app, &kim).await, &tv), "EFFECTIVE");
    assert_eq!(
        balance(&app, &kim.wallet_id).await,
        d("70.00"),
        "100 - a whole month of 30"
    );
    let listed = with_token(
        &app,
        &kim.token,
        "GET",
        &format!("/self-service/v2/contacts/{}/subscriptions", kim.contact_id),
        None,
    )
    .await;
    assert_eq!(
        listed.body["content"][0]["terms"]["billing_day"],
        json!({"day_of_month": 1})
    );
    app.assert_balance_equals_journal(&kim.wallet_id).await;
}

#[tokio::test]
async fn a_promotion_pass_presented_with_new_services_unlocks_its_offer_on_their_first_bill() {
    let app = spawn_app().await;
    let funding = app.percentage_offer(10, None).await;
    let locked = app.percentage_offer(20, None).await;
    let shop = catalogue(&app).await;
    let plan = app
        .post(
            "/backoffice/v2/pass_plans",
            &json!({"name": "Welcome", "classification": "PROMOTION",
                    "code_format": {"type": "ALPHANUMERIC", "prefix": "TV", "length": 10},
                    "promotion_passes": {"reward_offer_id": locked["id"], "pass_code_type": "MULTIPLE", "maximum_usage": 1}}),
        )
        .await;
    assert_eq!(plan.status, 201, "{}", plan.body);
    let (_, code, _) = crate::passes::issue(&app, plan.body["id"].as_str().unwrap()).await;
    let ned = holder(&app, "ned").await;
    let ola = holder(&app, "ola").await;
    fund(&app, &ned, "F-1", "100").await;
    fund(&app, &ola, "F-2", "100").await;
    app.set_offer_state(&funding, "INACTIVE").await;
    let add_with = |who: &crate::transfers::Holder, body: serde_json::Value| {
        let (app, token, path) = (
            &app,
            who.token.clone(),
            format!("/self-service/v2/contacts/{}/services", who.contact_id),
        );
        async move { with_token(app, &token, "POST", &path, Some(&body)).await }
    };
    // Not with a later start; not a pass the business issued.
    let later = add_with(
        &ned,
        json!({"services": [{"product_id": shop.tv}], "pass": {"code": code}, "scheduled_date": START_S + DAY}),
    )
    .await;
    assert_eq!(later.status, 400, "{}", later.body);
    let unknown = add_with(
        &ned,
        json!({"services": [{"product_id": shop.tv}], "pass": {"code": "TV-NOT-A-PASS"}}),
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(services(&app, &ned).await.is_empty(), "nothing added");
    // The first bill (30.00) earns the unlocked 20%; the pass is then spent.
    let added = add_with(
        &ned,
        json!({"services": [{"product_id": shop.tv}], "pass": {"code": code}}),
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(balance(&app, &ned.wallet_id).await, d("76.00"), "100 - 30 + 6");
    let spent = add_with(
        &ola,
        json!({"services": [{"product_id": shop.tv}], "pass": {"code": code}}),
    )
    .await;
    assert_eq!(spent.status, 409, "{}", spent.body);
    // Without it, a bill earns nothing from the locked offer; nor do later bills.
    assert_eq!(
        add_with(&ola, json!({"services": [{"product_id": shop.tv}]}))
            .await
            .status,
        200
    );
    assert_eq!(balance(&app, &ola.wallet_id).await, d("70.00"));
    app.clock.set(FEB15);
    app.engine.billing_run(1000).await.unwrap();
    assert_eq!(balance(&app, &ned.wallet_id).await, d("46.00"), "76 - 30");
    app.assert_balance_equals_journal(&ned.wallet_id).await;
}

#[tokio::test]
async fn a_service_takes_the_price_plan_it_names() {
    let app = spawn_app().await;
    let funding = app.percentage_offer(10, None).await;
    let shop = catalogue(&app).await;
    let termed = app
        .post(
            "/backoffice/v2/products/types",
            &json!({"name": "Streams", "classification": "TERMED_SERVICE", "composition_method": "FLAT"}),
        )
        .await;
    assert_eq!(termed.status, 201, "{}", termed.body);
    let plan = |price: u32, uot: &str, default: bool| {
        json!({"price_model": "FLAT", "price": price, "currency_code": "EUR", "tax_model": "TAX_INCLUSIVE",
               "is_default": default, "price_terms": {"billing_period": {"duration": 1, "uot": uot}}})
    };
    let made = app
        .post(
            "/backoffice/v2/products",
            &json!({"sku": "STREAM", "name": "Stream", "type_id": termed.body["id"],
                    "pricing": [plan(20, "MONTH", true), plan(200, "YEAR", false)]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let stream = made.body["id"].as_str().unwrap().to_string();
    let product = app.get(&format!("/self-service/v2/products/{stream}")).await;
    let pricing = product.body["pricing"].as_array().cloned().unwrap_or_default();
    let price_id = |amount: &str| {
        pricing
            .iter()
            .find(|p| dec(&p["price"]) == d(amount))
            .map(|p| p["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("a price of {amount}: {}", product.body))
    };
    let (monthly, yearly) = (price_id("20"), price_id("200"));
    let pat = holder(&app, "pat").await;
    fund(&app, &pat, "F-1", "300").await;
    app.set_offer_state(&funding, "INACTIVE").await;
    let path = format!("/self-service/v2/contacts/{}/services", pat.contact_id);
    // Not one of its prices: refused, nothing added.
    for terms in [
        uuid::Uuid::new_v4().to_string(),
        shop.tv.clone(),
        "not-an-id".to_string(),
    ] {
        let body = json!({"services": [{"product_id": stream, "price_terms_id": terms}]});
        let refused = with_token(&app, &pat.token, "POST", &path, Some(&body)).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
    }
    assert!(services(&app, &pat).await.is_empty());
    // The yearly plan: a yearly subscription, billed 200 for the year.
    let body = json!({"services": [{"product_id": stream, "price_terms_id": yearly}]});
    let added = with_token(&app, &pat.token, "POST", &path, Some(&body)).await;
    assert_eq!(added.status, 200, "{}", added.body);
    let service = added.body[0]["id"].as_str().unwrap().to_string();
    assert_eq!(balance(&app, &pat.wallet_id).await, d("100.00"), "300 - 200");
    let listed = services(&app, &pat).await;
    assert_eq!(listed[0]["price"]["id"], yearly.as_str(), "{listed:?}");
    // A change to the monthly plan is another billing period; to its own plan, no change.
    for terms in [&monthly, &yearly] {
        let refused = act(
            &app,
            &pat,
            &service,
            json!({"action": "CHANGE", "price_terms_id": terms}),
        )
        .await;
        assert_eq!(refused.status, 400, "{}", refused.body);
    }
    // The default, monthly, when none is named.
    let body = json!({"services": [{"product_id": stream}]});
    assert_eq!(
        with_token(&app, &pat.token, "POST", &path, Some(&body)).await.status,
        200
    );
    assert_eq!(balance(&app, &pat.wallet_id).await, d("80.00"), "100 - 20");
    app.assert_balance_equals_journal(&pat.wallet_id).await;
}
