//! Where a contact's money came from, in apps: `GET /self-service/v2/wallets/{id}/transactions`
//! (each journal line with its reward event, financial event and transfer, expiry or hold)
//! and `/summarised_totals`, for the signed-in contact's own wallet only.

use crate::helpers::*;
use crate::wallets::{signed_in, two_days_of_awards};
use serde_json::{json, Value};

fn lines(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["content"].as_array().unwrap().clone()
}

fn totals(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["wallet_totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|total| format!("{} {}", total["type"].as_str().unwrap(), total["total"]))
        .collect()
}

#[tokio::test]
async fn each_transaction_says_where_it_came_from_and_the_totals_add_up() {
    let app = spawn_app().await;
    let (token, wallet, pool, venue) = two_days_of_awards(&app).await;
    let contact = app.get(&format!("/backoffice/v2/wallets/{wallet}")).await.body["contact"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (friend, friend_token) = registered_contact(&app, "friend@example.com", "friend-password-1").await;
    let friend_wallet = app.get(&format!("/backoffice/v2/contacts/{friend}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sent = app
        .call(
            "POST",
            "/self-service/v2/transfers",
            &[("authorization", &format!("Bearer {token}")), ("api_key", PUBLIC_KEY)],
            Some(&json!({"origin": {"wallet_id": wallet}, "destination": {"wallet_id": friend_wallet}, "amount": 1})),
        )
        .await;
    assert_eq!(sent.status.as_u16() / 100, 2, "{}", sent.body);
    actor_outbox_drained(&app).await;
    let held = app
        .post(
            "/backoffice/v2/purchases/estimates",
            &json!({
                "contact": {"id": contact},
                "transaction_amounts": {"total": 20},
                "spend_request": {"amount": 2, "restrict_fully_covered": true},
                "hold_funds": true,
            }),
        )
        .await;
    assert_eq!(held.status, 201, "{}", held.body);
    let estimate = held.body["id"].as_str().unwrap().to_string();

    let path = format!("/self-service/v2/wallets/{wallet}/transactions");
    let all = lines(&with_token(&app, &token, "GET", &format!("{path}?size=100"), None).await);
    assert_eq!(all.len(), 7, "{all:#?}");
    let find = |predicate: &dyn Fn(&Value) -> bool| -> Value {
        all.iter()
            .find(|line| predicate(line))
            .cloned()
            .unwrap_or_else(|| panic!("{all:#?}"))
    };
    let pooled = find(&|line| line["reward_event"]["reward_offer"]["name"] == "Coffee money");
    assert_eq!(pooled["type"], "CREDIT");
    assert_eq!(pooled["pocket"], "BUSINESS_COMMERCE");
    let event = &pooled["reward_event"];
    assert_eq!(
        (event["type"].as_str(), event["state"].as_str()),
        (Some("AWARD"), Some("POSTED"))
    );
    assert!(event["expiry_date"].is_i64(), "{pooled}");
    assert!(["R-1", "R-2"].contains(&event["reference_number"].as_str().unwrap()));
    let spend = find(&|line| line["reward_event"]["type"] == "SPEND");
    assert_eq!(spend["reward_event"]["spend_method"], "ON_REQUEST", "{spend}");
    assert_eq!(spend["reward_event"]["reference_number"], "R-2");
    assert_eq!(spend["amount"].to_string(), "4.00");
    let second_purchase = spend["reward_event"]["purchase_id"].as_str().unwrap().to_string();
    let transfer = find(&|line| line["financial_event"]["type"] == "TRANSFER");
    assert_eq!(
        (transfer["type"].as_str(), transfer["amount"].to_string()),
        (Some("DEBIT"), "1.00".into())
    );
    assert_eq!(transfer["transfer"]["contact"]["id"], friend.as_str(), "{transfer}");
    assert_eq!(transfer["transfer"]["wallet"]["id"], friend_wallet.as_str());
    assert_eq!(transfer["financial_event"]["amount"].to_string(), "1.00");
    let hold = find(&|line| line["blocked_by"].is_object());
    assert_eq!(hold["blocked_by"]["id"], estimate.as_str(), "{hold}");
    assert_eq!(hold["blocked_by"]["entity"], "PURCHASE");

    // The friend sees who sent it, in its open money.
    let theirs = format!("/self-service/v2/wallets/{friend_wallet}/transactions");
    let received = lines(&with_token(&app, &friend_token, "GET", &theirs, None).await);
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(received[0]["transfer"]["contact"]["id"], contact.as_str());
    assert_eq!(received[0]["transfer"]["contact"]["name"], "Pat Person");
    assert_eq!(received[0]["pocket"], "BUSINESS");
    let open = format!("{theirs}?pocket=BUSINESS");
    assert_eq!(
        lines(&with_token(&app, &friend_token, "GET", &open, None).await).len(),
        1
    );
    let ours_open = format!("{path}?pocket=BUSINESS");
    assert_eq!(lines(&with_token(&app, &token, "GET", &ours_open, None).await).len(), 0);
    let crm = format!("{path}?pocket=CRMCOM");
    assert_eq!(lines(&with_token(&app, &token, "GET", &crm, None).await).len(), 0);
    let debits = format!("{path}?type=DEBIT");
    assert_eq!(lines(&with_token(&app, &token, "GET", &debits, None).await).len(), 3);

    // Totals: awarded as awarded, the hold is not spent until its purchase takes it.
    let totals_path = format!("/self-service/v2/wallets/{wallet}/summarised_totals");
    let everything = totals(&with_token(&app, &token, "GET", &totals_path, None).await);
    assert_eq!(
        everything,
        [
            "TOP_UP 0.00",
            "SPENT 4.00",
            "SENT 1.00",
            "RECEIVED 0.00",
            "AWARDED 22.00",
            "REDEEMED 0.00",
            "DONATIONS 0.00",
            "PAYOUTS 0.00"
        ]
    );
    let day_two = START_S + DAY_S;
    let second_day = format!("{totals_path}?posted_on[gte]={day_two}");
    let second = totals(&with_token(&app, &token, "GET", &second_day, None).await);
    assert_eq!(second[4], "AWARDED 7.00", "{second:?}");
    let first_day = format!("{totals_path}?posted_on[lt]={day_two}");
    let first = totals(&with_token(&app, &token, "GET", &first_day, None).await);
    assert_eq!((first[1].as_str(), first[4].as_str()), ("SPENT 0.00", "AWARDED 15.00"));
    let friend_totals = format!("/self-service/v2/wallets/{friend_wallet}/summarised_totals");
    let friend_totals = totals(&with_token(&app, &friend_token, "GET", &friend_totals, None).await);
    assert_eq!(friend_totals[3], "RECEIVED 1.00");

    // A cancelled purchase's spend is given back: not spent, and its events say CANCELLED.
    let cancelled = app
        .post(
            &format!("/backoffice/v2/purchases/{second_purchase}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let after = totals(&with_token(&app, &token, "GET", &totals_path, None).await);
    assert_eq!((after[1].as_str(), after[4].as_str()), ("SPENT 0.00", "AWARDED 22.00"));
    let all = lines(&with_token(&app, &token, "GET", &format!("{path}?size=100"), None).await);
    let of_second: Vec<&Value> = all
        .iter()
        .filter(|line| line["reward_event"]["purchase_id"] == second_purchase.as_str())
        .collect();
    assert!(of_second.len() >= 4, "{all:#?}");
    assert!(of_second
        .iter()
        .all(|line| line["reward_event"]["state"] == "CANCELLED"));

    // Lots of the pool expire: the expiry names the pool, and the award shows EXPIRED.
    app.clock.advance(45 * DAY_S);
    let token = signed_in(&app, "journals@example.com", "journals-password-1").await;
    let all = lines(&with_token(&app, &token, "GET", &format!("{path}?size=100"), None).await);
    let expiry = all
        .iter()
        .find(|line| line["wallet_expiration"].is_object())
        .unwrap_or_else(|| panic!("{all:#?}"));
    assert_eq!(
        expiry["wallet_expiration"]["commerce_pool"]["id"],
        pool.as_str(),
        "{expiry}"
    );
    assert_eq!(expiry["wallet_expiration"]["commerce_pool"]["name"], "Harbour coffee");
    let first_award = all
        .iter()
        .find(|line| {
            line["reward_event"]["reward_offer"]["name"] == "Coffee money"
                && line["reward_event"]["reference_number"] == "R-1"
        })
        .unwrap();
    assert_eq!(first_award["reward_event"]["state"], "EXPIRED", "{first_award}");
    // Purchases that name no place were made at the business.
    assert_ne!(first_award["reward_event"]["performed_by"]["id"], venue.as_str());
    assert!(
        first_award["reward_event"]["performed_by"]["name"].is_string(),
        "{first_award}"
    );

    // Bad filters are 400 in the contract's body; another contact's wallet is 404.
    for query in [
        "?pocket=SOMEWHERE",
        "?type=SIDEWAYS",
        "?community_member_id=%00",
        "?posted_on[lt]=soon",
        "?size=0",
    ] {
        let refused = with_token(&app, &token, "GET", &format!("{path}{query}"), None).await;
        assert_eq!(refused.status, 400, "{query}: {}", refused.body);
    }
    let member = format!("{path}?community_member_id=00000000-0000-4000-8000-000000000007");
    assert_eq!(lines(&with_token(&app, &token, "GET", &member, None).await).len(), 0);
    let bad_totals = format!("{totals_path}?posted_on[gt]=later");
    assert_eq!(with_token(&app, &token, "GET", &bad_totals, None).await.status, 400);
    let friend_token = signed_in(&app, "friend@example.com", "friend-password-1").await;
    for nosy in [&path, &totals_path] {
        assert_eq!(with_token(&app, &friend_token, "GET", nosy, None).await.status, 404);
        assert_eq!(app.call("GET", nosy, &[], None).await.status, 401);
    }
}
