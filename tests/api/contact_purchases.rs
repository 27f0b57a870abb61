//! A contact reads its own purchases (by date, paged) and each purchase's rewards, every
//! award explained; another contact's purchase is not found.

use crate::helpers::*;
use serde_json::{json, Value};

fn references(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|purchase| purchase["reference_number"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn contacts_list_their_purchases_and_read_each_award_explained() {
    let app = spawn_app().await;
    let (contact_id, token) = registered_contact(&app, "ria@example.com", "ria-password-1").await;
    let (other_id, other_token) = registered_contact(&app, "rob@example.com", "rob-password-1").await;
    app.create_offer(json!({
        "name": "Tea 20%",
        "products": {"skus": ["TEA"]},
        "award": {"type": "PERCENTAGE", "value": 20},
        "caps": {"per_purchase": 1},
    }))
    .await;
    let mut purchases: Vec<Value> = Vec::new();
    for (n, total) in ["10", "20", "30"].iter().enumerate() {
        if n > 0 {
            app.clock.advance(60);
        }
        let reply = app
            .post(
                "/backoffice/v2/purchases",
                &json!({
                    "contact": {"id": contact_id},
                    "reference_number": format!("R-{n}"),
                    "transaction_amounts": {"total": total.parse::<u32>().unwrap()},
                    "products": [{"product_sku": "TEA", "quantity": 1, "total_amount": total.parse::<u32>().unwrap()}],
                }),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        purchases.push(reply.body);
    }
    let other = app.purchase(&other_id, "R-OTHER", "5", None).await;
    assert_eq!(other.status, 201, "{}", other.body);

    let path = format!("/self-service/v2/contacts/{contact_id}/purchases");
    let all = with_token(&app, &token, "GET", &format!("{path}?include_total=true"), None).await;
    assert_eq!(references(&all), ["R-2", "R-1", "R-0"], "newest first");
    assert_eq!(all.body["paging"]["total"], 3);
    let oldest = with_token(&app, &token, "GET", &format!("{path}?order=ASC&size=2"), None).await;
    assert_eq!(references(&oldest), ["R-0", "R-1"]);
    assert_eq!(oldest.body["paging"]["has_more"], true);
    let second_date = purchases[1]["date"].as_i64().unwrap();
    let dated = with_token(&app, &token, "GET", &format!("{path}?date[gte]={second_date}"), None).await;
    assert_eq!(references(&dated), ["R-2", "R-1"]);
    let before = with_token(&app, &token, "GET", &format!("{path}?date[lt]={second_date}"), None).await;
    assert_eq!(references(&before), ["R-0"]);
    let returned = with_token(&app, &token, "GET", &format!("{path}?is_ad_hoc_returned=true"), None).await;
    assert!(references(&returned).is_empty());
    let foreign = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/contacts/{other_id}/purchases"),
        None,
    )
    .await;
    assert_eq!(foreign.status, 403, "{}", foreign.body);

    let id = purchases[2]["id"].as_str().unwrap();
    let one = with_token(&app, &token, "GET", &format!("/self-service/v2/purchases/{id}"), None).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["reference_number"], "R-2");
    let rewards = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/purchases/{id}/rewards"),
        None,
    )
    .await;
    assert_eq!(rewards.status, 200, "{}", rewards.body);
    let award = &rewards.body["content"][0];
    assert_eq!(award["type"], "AWARD");
    assert_eq!(award["reward_offer"]["name"], "Tea 20%");
    assert_eq!(award["explanation"]["basis"], "LINES");
    assert_eq!(award["explanation"]["lines"], json!([0]));
    assert_eq!(award["explanation"]["computed"].to_string(), "6.00");
    assert_eq!(award["explanation"]["caps"][0]["cap"], "PER_PURCHASE");
    let spends = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/purchases/{id}/rewards?type=SPEND"),
        None,
    )
    .await;
    assert_eq!(spends.body["content"], json!([]), "{}", spends.body);
    let bad = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/purchases/{id}/rewards?type=GIFT"),
        None,
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    // Another contact's purchase is not found, to either.
    let theirs = other.body["id"].as_str().unwrap();
    for path in [
        format!("/self-service/v2/purchases/{theirs}"),
        format!("/self-service/v2/purchases/{theirs}/rewards"),
    ] {
        let reply = with_token(&app, &token, "GET", &path, None).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
    }
    let mine = with_token(
        &app,
        &other_token,
        "GET",
        &format!("/self-service/v2/purchases/{theirs}"),
        None,
    )
    .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
}
