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
