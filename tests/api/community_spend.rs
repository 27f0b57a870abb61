//! A community member spending the owner's wallet at the till: a SPEND token with
//! `community_id` posts the purchase to the owner's wallet, its spend trimmed to what the
//! member's allowance leaves (per purchase, per day, `max_amount` in all); retries count
//! once; a member the owner stops sharing with spends nothing.

use crate::helpers::*;
use crate::transfers::{fund, holder, Holder};
use serde_json::{json, Value};

async fn community_token(app: &TestApp, member: &Holder, owner: &str, extra: Value) -> Reply {
    let mut body = json!({"intent": "SPEND", "community_id": owner});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let path = format!("/self-service/v2/contacts/{}/tokens", member.contact_id);
    with_token(app, &member.token, "POST", &path, Some(&body)).await
}

async fn paid_with(app: &TestApp, token: &str, reference: &str, total: u32) -> Reply {
    app.post(
        "/backoffice/v2/purchases",
        &json!({"contact": {"otp": token}, "reference_number": reference, "transaction_amounts": {"total": total}}),
    )
    .await
}

#[tokio::test]
async fn a_member_spends_the_owner_s_wallet_within_its_allowance_once_per_purchase() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let kim = holder(&app, "kim").await;
    let lee = holder(&app, "lee").await;
    let zoe = holder(&app, "zoe").await;
    fund(&app, &kim, "F-1", "100").await;

    // Kim shares her wallet with Lee: 15 a purchase, 25 a day, 40 in all.
    let people = format!("/self-service/v2/contacts/{}/people", kim.contact_id);
    let invited = with_token(
        &app,
        &kim.token,
        "POST",
        &people,
        Some(&json!({
            "email": "lee@example.com",
            "phone": {"number": "35799000001"},
            "wallet_sharing": {"is_enabled": true, "method": "AUTO", "max_amount": 40},
            "usage_allowance": {"accumulated_allowance": {"cash_limits": {"per_transaction": 15, "per_day": 25}}},
        })),
    )
    .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let relationship = invited.body["id"].as_str().unwrap().to_string();
    // Not accepted yet: no token.
    let early = community_token(&app, &lee, &kim.contact_id, json!({})).await;
    assert_eq!(early.status, 400, "{}", early.body);
    let actions = format!(
        "/self-service/v2/contacts/{}/people/{relationship}/actions",
        lee.contact_id
    );
    assert_eq!(
        with_token(&app, &lee.token, "POST", &actions, Some(&json!({"action": "ACCEPT"})))
            .await
            .status,
        200
    );

    // 20 asked, 15 a purchase: 15 spent, from Kim's wallet; a retry counts once.
    let first = community_token(&app, &lee, &kim.contact_id, json!({})).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let code = first.body["token"].as_str().unwrap().to_string();
    let paid = paid_with(&app, &code, "C-1", 20).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    let person = with_token(&app, &kim.token, "GET", &format!("{people}/{relationship}"), None).await;
    assert_eq!(
        person.body["wallet_sharing"]["remaining_amount"].to_string(),
        "25.00",
        "{}",
        person.body
    );
    assert_eq!(
        paid.body["contact"]["id"],
        kim.contact_id.as_str(),
        "posted to the owner's wallet"
    );
    assert_eq!(paid.body["rewards"]["spend"].to_string(), "15.00", "{}", paid.body);
    let again = paid_with(&app, &code, "C-1", 20).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["id"], paid.body["id"]);
    let listed = with_token(
        &app,
        &lee.token,
        "GET",
        &format!(
            "/self-service/v2/contacts/{}/tokens?community_id={}",
            lee.contact_id, kim.contact_id
        ),
        None,
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["content"], json!([]), "the used token is not live");

    // The day has 10 left; a fixed amount above what is left is refused whole.
    let second = community_token(&app, &lee, &kim.contact_id, json!({})).await;
    let second = second.body["token"].as_str().unwrap().to_string();
    let paid = paid_with(&app, &second, "C-2", 20).await;
    assert_eq!(paid.body["rewards"]["spend"].to_string(), "10.00", "{}", paid.body);
    let fixed = community_token(&app, &lee, &kim.contact_id, json!({"spend_amount": 5})).await;
    assert_eq!(fixed.status, 200, "{}", fixed.body);
    let fixed = fixed.body["token"].as_str().unwrap().to_string();
    let refused = paid_with(&app, &fixed, "C-3", 20).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(
        refused.body["error"], "CRM.EXCEPTIONS.WALLETLIMITEXCEEDEDEXCEPTION",
        "{}",
        refused.body
    );

    // The next day: 15 more (40 in all), then nothing is left to spend.
    app.clock.advance(DAY_S);
    let signed_in = |holder: Holder, email: &'static str| {
        let app = &app;
        async move {
            Holder {
                token: crate::wallets::signed_in(app, email, "transfer-password-1").await,
                ..holder
            }
        }
    };
    let lee = signed_in(lee, "lee@example.com").await;
    let kim = signed_in(kim, "kim@example.com").await;
    let zoe = signed_in(zoe, "zoe@example.com").await;
    let third = community_token(&app, &lee, &kim.contact_id, json!({})).await;
    let third = third.body["token"].as_str().unwrap().to_string();
    let paid = paid_with(&app, &third, "C-4", 20).await;
    assert_eq!(paid.body["rewards"]["spend"].to_string(), "15.00", "{}", paid.body);
    let c4 = paid.body["id"].as_str().unwrap().to_string();
    let fourth = community_token(&app, &lee, &kim.contact_id, json!({})).await;
    let fourth = fourth.body["token"].as_str().unwrap().to_string();
    let paid = paid_with(&app, &fourth, "C-5", 20).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(
        paid.body["rewards"]["spend"].to_string(),
        "0.00",
        "max_amount is spent: {}",
        paid.body
    );

    // What is left of the 40, as Kim and Lee see it.
    let person = with_token(&app, &kim.token, "GET", &format!("{people}/{relationship}"), None).await;
    assert_eq!(person.status, 200, "{}", person.body);
    assert_eq!(
        person.body["wallet_sharing"]["remaining_amount"].to_string(),
        "0.00",
        "{}",
        person.body
    );
    let theirs = format!("/self-service/v2/contacts/{}/communities", lee.contact_id);
    let communities = with_token(&app, &lee.token, "GET", &theirs, None).await;
    assert_eq!(
        communities.body["content"][0]["wallet_sharing"]["remaining_amount"].to_string(),
        "0.00",
        "{}",
        communities.body
    );

    // Lee's own wallet was never touched; Kim's journal agrees with her balance.
    actor_outbox_drained(&app).await;
    assert_eq!(app.wallet(&lee.wallet_id).await["total_balance"].to_string(), "0.00");
    app.assert_balance_equals_journal(&kim.wallet_id).await;

    // A cancel gives the member's spend back to its allowance (and to today's), a return
    // its share of it: C-4's 15, then half of C-1's 15.
    let remaining = || async {
        let person = with_token(&app, &kim.token, "GET", &format!("{people}/{relationship}"), None).await;
        person.body["wallet_sharing"]["remaining_amount"].to_string()
    };
    let cancelled = app
        .post(&format!("/backoffice/v2/purchases/{c4}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(remaining().await, "15.00");
    let returned = app
        .post(
            "/backoffice/v2/purchases/ad_hoc_return",
            &json!({"purchase": {"reference_number": "C-1"}, "reference_number": "RET-C1", "return_amount": 10}),
        )
        .await;
    assert_eq!(returned.status, 201, "{}", returned.body);
    assert_eq!(remaining().await, "22.50");
    let fifth = community_token(&app, &lee, &kim.contact_id, json!({})).await;
    let fifth = fifth.body["token"].as_str().unwrap().to_string();
    let paid = paid_with(&app, &fifth, "C-7", 20).await;
    assert_eq!(paid.body["rewards"]["spend"].to_string(), "15.00", "{}", paid.body);
    assert_eq!(remaining().await, "7.50");
    app.assert_balance_equals_journal(&kim.wallet_id).await;

    // Someone not in the community, or a member the owner stopped sharing with, spends nothing.
    let stranger = community_token(&app, &zoe, &kim.contact_id, json!({})).await;
    assert_eq!(stranger.status, 400, "{}", stranger.body);
    let pending = community_token(&app, &lee, &kim.contact_id, json!({})).await;
    let pending = pending.body["token"].as_str().unwrap().to_string();
    let person = format!("{people}/{relationship}");
    let stopped = with_token(
        &app,
        &kim.token,
        "PUT",
        &person,
        Some(&json!({"wallet_sharing": {"is_enabled": false, "method": "AUTO"}})),
    )
    .await;
    assert_eq!(stopped.status, 200, "{}", stopped.body);
    let refused = paid_with(&app, &pending, "C-6", 20).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let refused = community_token(&app, &lee, &kim.contact_id, json!({})).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let bad = community_token(&app, &lee, "not-an-id", json!({})).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}
