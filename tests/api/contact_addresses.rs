//! A contact's addresses over HTTP: added (the same one kept once), listed, changed and
//! removed, one primary; an order is delivered to one of them by `address_id`, which needs
//! coordinates. Another contact's addresses are out of reach.

use crate::helpers::*;
use crate::orders::{account, as_contact, shop, HERE};
use crate::transfers::{holder, Holder};
use serde_json::{json, Value};

fn path(who: &Holder) -> String {
    format!("/self-service/v2/contacts/{}/addresses", who.contact_id)
}

async fn listed(app: &TestApp, who: &Holder) -> Vec<Value> {
    let reply = as_contact(app, who, "GET", &path(who), None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["content"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_contact_keeps_its_addresses_and_an_order_is_delivered_to_one() {
    let app = spawn_app().await;
    let shop = shop(&app).await;
    let ivy = holder(&app, "ivy").await;
    let jon = holder(&app, "jon").await;
    let home = json!({"type": "HOME", "name": "Home", "address_line_1": "2 Side Street", "town_city": "Nicosia",
                      "country_code": "CYP", "lat": HERE.0, "lon": HERE.1});
    let added = as_contact(&app, &ivy, "POST", &path(&ivy), Some(&home)).await;
    assert_eq!(added.status, 201, "{}", added.body);
    let home_id = added.body["id"].as_str().unwrap().to_string();
    let again = as_contact(&app, &ivy, "POST", &path(&ivy), Some(&home)).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(
        again.body["id"].as_str(),
        Some(home_id.as_str()),
        "the same address is kept once"
    );
    let office = json!({"type": "BUSINESS", "address_line_1": "1 Tower Road", "is_billing_address": true});
    let added = as_contact(&app, &ivy, "POST", &path(&ivy), Some(&office)).await;
    assert_eq!(added.status, 201, "{}", added.body);
    let office_id = added.body["id"].as_str().unwrap().to_string();
    let book = listed(&app, &ivy).await;
    assert_eq!(book.len(), 2);
    assert_eq!(
        (
            book[0]["is_primary"].as_bool(),
            book[1]["is_primary"].as_bool(),
            book[1]["is_billing_address"].as_bool()
        ),
        (Some(true), Some(false), Some(true))
    );

    // Bad input and other contacts change nothing.
    for (body, why) in [
        (json!({"address_line_1": "x"}), "no type"),
        (json!({"type": "CASTLE", "address_line_1": "x"}), "bad type"),
        (json!({"type": "HOME"}), "no line"),
        (json!({"type": "HOME", "address_line_1": "x", "lat": 35.1}), "lat alone"),
        (
            json!({"type": "HOME", "address_line_1": "x", "lat": 135.1, "lon": 3}),
            "off the globe",
        ),
        (
            json!({"type": "HOME", "address_line_1": "x", "country_code": "cy"}),
            "country",
        ),
        (
            json!({"type": "HOME", "address_line_1": "2 Side\u{0007}Street"}),
            "control character",
        ),
        (json!({"type": "HOME", "address_line_1": "x".repeat(201)}), "too long"),
        (
            json!({"type": "HOME", "address_line_1": "x", "lat": "35.1", "lon": 33}),
            "lat as text",
        ),
        (
            json!({"type": "HOME", "address_line_1": "x", "is_primary": "yes"}),
            "is_primary as text",
        ),
        (json!({"type": 7, "address_line_1": "x"}), "type as a number"),
    ] {
        let reply = as_contact(&app, &ivy, "POST", &path(&ivy), Some(&body)).await;
        assert_eq!(reply.status, 400, "{why}: {}", reply.body);
    }
    assert_eq!(as_contact(&app, &jon, "GET", &path(&ivy), None).await.status, 403);
    assert_eq!(
        as_contact(&app, &jon, "POST", &path(&ivy), Some(&home)).await.status,
        403
    );
    let jons = format!("{}/{home_id}", path(&jon));
    assert_eq!(as_contact(&app, &jon, "PUT", &jons, Some(&home)).await.status, 404);
    assert_eq!(as_contact(&app, &jon, "DELETE", &jons, None).await.status, 404);
    assert_eq!(listed(&app, &ivy).await, book, "nothing changed");

    // The office becomes primary.
    let mut moved = office.clone();
    moved["is_primary"] = json!(true);
    let office_path = format!("{}/{office_id}", path(&ivy));
    let changed = as_contact(&app, &ivy, "PUT", &office_path, Some(&moved)).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let book = listed(&app, &ivy).await;
    assert_eq!(
        (book[0]["is_primary"].as_bool(), book[1]["is_primary"].as_bool()),
        (Some(false), Some(true))
    );

    // Delivered home; the office has no coordinates; another contact's address is not found.
    let account_id = account(&app, &ivy).await;
    let order = |address: &str| {
        json!({"account_id": account_id, "supply_method": "DELIVERY", "delivery_method": "DIRECT_DELIVERY",
               "payment_method_type": "CASH", "fulfilled_by": shop.venue, "address_id": address,
               "items": [{"id": shop.latte, "quantity": 2}]})
    };
    let estimate = as_contact(
        &app,
        &ivy,
        "POST",
        "/self-service/v2/estimates/orders",
        Some(&order(&home_id)),
    )
    .await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    let submit = json!({"estimation_id": estimate.body["id"], "payments": [{"payment_method_type": "CASH"}]});
    let placed = as_contact(&app, &ivy, "POST", "/self-service/v2/orders", Some(&submit)).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let read = as_contact(
        &app,
        &ivy,
        "GET",
        &format!("/self-service/v2/orders/{}", placed.body["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(read.body["address"]["address_line_1"], "2 Side Street", "{}", read.body);
    let no_point = as_contact(
        &app,
        &ivy,
        "POST",
        "/self-service/v2/estimates/orders",
        Some(&order(&office_id)),
    )
    .await;
    assert_eq!(no_point.status, 400, "{}", no_point.body);
    let jon_account = account(&app, &jon).await;
    let mut stolen = order(&home_id);
    stolen["account_id"] = json!(jon_account);
    assert_eq!(
        as_contact(&app, &jon, "POST", "/self-service/v2/estimates/orders", Some(&stolen))
            .await
            .status,
        404
    );
    let nearest = as_contact(
        &app,
        &ivy,
        "POST",
        "/self-service/v2/estimates/order_fulfillment",
        Some(&json!({"supply_method": "DELIVERY", "address_id": home_id})),
    )
    .await;
    assert_eq!(nearest.status, 200, "{}", nearest.body);
    assert_eq!(
        nearest.body["fulfilled_by"][0]["id"],
        shop.venue.as_str(),
        "{}",
        nearest.body
    );

    // Removed: the home (no longer primary) goes; the office stays primary.
    let home_path = format!("{}/{home_id}", path(&ivy));
    assert_eq!(as_contact(&app, &ivy, "DELETE", &home_path, None).await.status, 200);
    assert_eq!(as_contact(&app, &ivy, "DELETE", &home_path, None).await.status, 404);
    let book = listed(&app, &ivy).await;
    assert_eq!((book.len(), book[0]["id"].as_str()), (1, Some(office_id.as_str())));
}
