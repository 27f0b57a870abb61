//! The organisation network under the bootstrap business: what may hold what, the network
//! listing and its type filter, and bad input changing nothing.

use crate::helpers::*;
use serde_json::{json, Value};

fn names(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|organisation| organisation["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_network_nests_merchants_and_venues_under_the_business() {
    let app = spawn_app().await;
    let merchant = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "North Merchant", "type": "MERCHANT"}),
        )
        .await;
    assert_eq!(merchant.status, 201, "{}", merchant.body);
    assert_eq!(merchant.body["type"], "MERCHANT");
    let business_id = merchant.body["parent"]["id"].as_str().unwrap().to_string();
    let merchant_id = merchant.body["id"].as_str().unwrap().to_string();
    let venue = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "North Venue", "type": "VENUE", "parent_id": merchant_id}),
        )
        .await;
    assert_eq!(venue.status, 201, "{}", venue.body);
    assert_eq!(venue.body["parent"]["name"], "North Merchant");
    let shop = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Own Shop", "type": "VENUE"}),
        )
        .await;
    assert_eq!(shop.status, 201, "{}", shop.body);
    let venue_id = venue.body["id"].as_str().unwrap();

    let network = app
        .get(&format!("/backoffice/v2/organisations/{business_id}/network"))
        .await;
    assert_eq!(network.status, 200);
    assert_eq!(names(&network.body), ["North Merchant", "North Venue", "Own Shop"]);
    let venues = app
        .get(&format!(
            "/backoffice/v2/organisations/{business_id}/network?type=VENUE"
        ))
        .await;
    assert_eq!(names(&venues.body), ["North Venue", "Own Shop"]);
    let under_merchant = app
        .get(&format!("/backoffice/v2/organisations/{merchant_id}/network"))
        .await;
    assert_eq!(names(&under_merchant.body), ["North Venue"]);
    let read = app.get(&format!("/backoffice/v2/organisations/{venue_id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["name"], "North Venue");

    // What may not hold what, and bad input: each refused, nothing added.
    for (body, parameter) in [
        (json!({"name": "Deep", "type": "VENUE", "parent_id": venue_id}), "type"),
        (
            json!({"name": "Nested", "type": "MERCHANT", "parent_id": merchant_id}),
            "type",
        ),
        (json!({"name": "Twin", "type": "BUSINESS"}), "type"),
        (json!({"name": "Owner", "type": "SERVICE_OWNER"}), "type"),
        (json!({"name": "Odd", "type": "SHOP"}), "type"),
        (json!({"name": "  ", "type": "MERCHANT"}), "name"),
    ] {
        let refused = app.post("/backoffice/v2/organisations", &body).await;
        assert_eq!(refused.status, 400, "{body}: {}", refused.body);
        assert_eq!(refused.body["parameters"][0], parameter, "{}", refused.body);
    }
    let unknown_parent = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Lost", "type": "VENUE", "parent_id": "6d1b4c3e-0000-4000-8000-000000000001"}),
        )
        .await;
    assert_eq!(unknown_parent.status, 404, "{}", unknown_parent.body);
    let bad_filter = app
        .get(&format!("/backoffice/v2/organisations/{business_id}/network?type=SHOP"))
        .await;
    assert_eq!(bad_filter.status, 400);
    let after = app
        .get(&format!("/backoffice/v2/organisations/{business_id}/network"))
        .await;
    assert_eq!(names(&after.body), ["North Merchant", "North Venue", "Own Shop"]);
    for unknown in ["6d1b4c3e-0000-4000-8000-000000000001", "not-an-id"] {
        assert_eq!(
            app.get(&format!("/backoffice/v2/organisations/{unknown}")).await.status,
            404
        );
        let network = app
            .get(&format!("/backoffice/v2/organisations/{unknown}/network"))
            .await;
        assert_eq!(network.status, 404);
    }
}
