//! Orders: the back office says how a venue takes orders; a contact asks who can fulfil
//! one, previews it (prices, taxes, the delivery fee, wallet funds, awards), submits the
//! preview once, reads and lists its orders and cancels one; the back office moves orders
//! through their states. Bad input, expired previews and other contacts' orders change
//! nothing.

use crate::helpers::*;
use crate::transfers::{balance, d, fund, holder, Holder};
use serde_json::{json, Value};

pub(crate) struct Shop {
    pub(crate) venue: String,
    pub(crate) far_venue: String,
    pub(crate) latte: String,
    pub(crate) cake: String,
    pub(crate) syrup: String,
    pub(crate) blender: String,
    pub(crate) delivery: String,
}

async fn made(app: &TestApp, path: &str, body: Value) -> String {
    let reply = app.post(path, &body).await;
    assert_eq!(reply.status, 201, "{path}: {}", reply.body);
    reply.body["id"].as_str().unwrap().to_string()
}

fn flat(price: &str, tax_model: &str) -> Value {
    json!([{"price_model": "FLAT", "price": serde_json::Number::from_string_unchecked_compat(price),
            "currency_code": "EUR", "tax_model": tax_model, "is_default": true}])
}

/// A merchant with two venues (one in town, one far away), a catalogue and fulfilment
/// terms: the town venue delivers within 5 km for a fee, takes pick-ups, cash and wallet.
pub(crate) async fn shop(app: &TestApp) -> Shop {
    let merchant = made(
        app,
        "/backoffice/v2/organisations",
        json!({"name": "Coffee Co", "type": "MERCHANT"}),
    )
    .await;
    let venue = made(
        app,
        "/backoffice/v2/organisations",
        json!({"name": "Old Town", "type": "VENUE", "parent_id": merchant}),
    )
    .await;
    let far_venue = made(
        app,
        "/backoffice/v2/organisations",
        json!({"name": "Airport", "type": "VENUE", "parent_id": merchant}),
    )
    .await;
    for (id, lat, lon) in [(&venue, 35.1725, 33.3617), (&far_venue, 34.8751, 33.6249)] {
        let placed = app
            .put(
                &format!("/backoffice/v2/organisations/{id}/address"),
                &json!({"address_line_1": "1 Main Street", "town_city": "Nicosia", "postal_code": "1010",
                        "country_code": "CYP", "lat": lat, "lon": lon}),
            )
            .await;
        assert_eq!(placed.status, 200, "{}", placed.body);
    }
    let goods = made(
        app,
        "/backoffice/v2/products/types",
        json!({"name": "Goods", "classification": "NON_TRACEABLE_PHYSICAL_GOOD", "composition_method": "FLAT"}),
    )
    .await;
    let services = made(
        app,
        "/backoffice/v2/products/types",
        json!({"name": "Fees", "classification": "ONE_TIME_SERVICE", "composition_method": "FLAT"}),
    )
    .await;
    let vat = json!({"name": "VAT 19%", "tax_code": "VAT", "percentage": 19});
    let latte = made(
        app,
        "/backoffice/v2/products",
        json!({"sku": "LATTE", "name": "Latte", "type_id": goods, "pricing": flat("3.50", "TAX_INCLUSIVE"), "tax_rate": vat}),
    )
    .await;
    let cake = made(
        app,
        "/backoffice/v2/products",
        json!({"sku": "CAKE", "name": "Cake", "type_id": goods, "pricing": flat("4.00", "TAX_EXCLUSIVE"),
               "tax_rate": {"name": "VAT 5%", "tax_code": "VAT", "percentage": 5}}),
    )
    .await;
    let syrup = made(
        app,
        "/backoffice/v2/products",
        json!({"sku": "SYRUP", "name": "Syrup", "type_id": goods, "is_modifier": true, "pricing": flat("0.50", "TAX_INCLUSIVE")}),
    )
    .await;
    // Sold at the airport only.
    let blender = made(
        app,
        "/backoffice/v2/products",
        json!({"sku": "BLENDER", "name": "Blender", "type_id": goods, "pricing": flat("40", "TAX_INCLUSIVE"),
               "available_at": [far_venue]}),
    )
    .await;
    let delivery = made(
        app,
        "/backoffice/v2/products",
        json!({"sku": "DELIVERY", "name": "Delivery", "type_id": services, "pricing": flat("2.00", "TAX_INCLUSIVE")}),
    )
    .await;
    let terms = app
        .put(
            &format!("/backoffice/v2/organisations/{venue}/fulfilment"),
            &json!({"supply_methods": ["DELIVERY", "PICK_UP"], "delivery_methods": ["DIRECT_DELIVERY"],
                    "delivery_radius": 5, "delivery_fee_product_id": delivery, "minimum_amount": 5,
                    "minutes_to_fulfil": 30, "payment_method_types": ["CASH", "WALLET"]}),
        )
        .await;
    assert_eq!(terms.status, 200, "{}", terms.body);
    let terms = app
        .put(
            &format!("/backoffice/v2/organisations/{far_venue}/fulfilment"),
            &json!({"supply_methods": ["PICK_UP"], "minutes_to_fulfil": 10, "payment_method_types": ["CASH"]}),
        )
        .await;
    assert_eq!(terms.status, 200, "{}", terms.body);
    Shop {
        venue,
        far_venue,
        latte,
        cake,
        syrup,
        blender,
        delivery,
    }
}

pub(crate) async fn account(app: &TestApp, who: &Holder) -> String {
    let opened = with_token(
        app,
        &who.token,
        "POST",
        &format!("/self-service/v2/contacts/{}/accounts", who.contact_id),
        Some(&json!({"currency_code": "EUR", "name": "Orders"})),
    )
    .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    opened.body["id"].as_str().unwrap().to_string()
}

pub(crate) async fn as_contact(app: &TestApp, who: &Holder, method: &str, path: &str, body: Option<&Value>) -> Reply {
    with_token(app, &who.token, method, path, body).await
}

pub(crate) const HERE: (f64, f64) = (35.1700, 33.3650);

fn here() -> Value {
    json!({"address_line_1": "2 Side Street", "town_city": "Nicosia", "lat": HERE.0, "lon": HERE.1})
}

#[tokio::test]
async fn a_contact_previews_an_order_and_submits_it_once() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let shop = shop(&app).await;
    let ann = holder(&app, "ann").await;
    let account_id = account(&app, &ann).await;
    fund(&app, &ann, "F-1", "20").await;

    // Who fulfils: a delivery only from the venue that delivers this far; pick-ups from both.
    let fulfil = |supply: &str| json!({"supply_method": supply, "lat_lot": format!("{},{}", HERE.0, HERE.1)});
    let delivering = as_contact(
        &app,
        &ann,
        "POST",
        "/self-service/v2/estimates/order_fulfillment",
        Some(&fulfil("DELIVERY")),
    )
    .await;
    assert_eq!(delivering.status, 200, "{}", delivering.body);
    let ids: Vec<&str> = delivering.body["fulfilled_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![shop.venue.as_str()], "{}", delivering.body);
    assert_eq!(
        delivering.body["fulfilled_by"][0]["estimated_delivery"]["time_to_delivery"],
        30
    );
    let picking = as_contact(
        &app,
        &ann,
        "POST",
        "/self-service/v2/estimates/order_fulfillment",
        Some(&fulfil("PICK_UP")),
    )
    .await;
    let ids: Vec<&str> = picking.body["fulfilled_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![shop.venue.as_str(), shop.far_venue.as_str()],
        "nearest first: {}",
        picking.body
    );
    let nobody = as_contact(
        &app,
        &ann,
        "POST",
        "/self-service/v2/estimates/order_fulfillment",
        Some(&fulfil("DIRECT_SALE")),
    )
    .await;
    assert_eq!(nobody.body["fulfilled_by"], json!([]));

    // Two lattes with syrup, a cake; delivered; paid in cash with 5 of wallet funds, held.
    let body = json!({
        "account_id": account_id, "supply_method": "DELIVERY", "delivery_method": "DIRECT_DELIVERY",
        "payment_method_type": "CASH", "current_location": here(),
        "use_wallet_funds": true, "wallet_funds_amount": 5, "block_wallet_funds": true,
        "items": [
            {"id": shop.latte, "quantity": 2, "components": [{"id": shop.syrup, "quantity": 2}]},
            {"id": shop.cake, "quantity": 1, "notes": "no cream"},
        ],
    });
    let estimate = as_contact(&app, &ann, "POST", "/self-service/v2/estimates/orders", Some(&body)).await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    let invoice = &estimate.body["invoice_estimate"];
    // Lattes 7.00 incl. 19% (tax 1.12), syrup 1.00 untaxed, cake 4.00 + 5% (0.20), delivery 2.00.
    let items = invoice["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{}", estimate.body);
    assert_eq!(dec(&items[0]["sub_total"]), d("7.00"));
    assert_eq!(dec(&items[0]["tax_amount"]), d("1.12"));
    assert_eq!(dec(&items[0]["unit_price"]), d("3.50"));
    assert_eq!(items[1]["bundle_product"]["id"], shop.latte.as_str());
    assert_eq!(dec(&items[2]["tax_amount"]), d("0.20"));
    assert_eq!(dec(&items[2]["sub_total"]), d("4.20"));
    assert_eq!(items[3]["product"]["id"], shop.delivery.as_str());
    assert_eq!(items[3]["is_delivery_fee"], true);
    assert_eq!(dec(&invoice["total"]), d("14.20"));
    assert_eq!(dec(&invoice["tax"]), d("1.32"));
    assert_eq!(dec(&invoice["net"]), d("12.88"));
    assert_eq!(dec(&invoice["wallet_funds_amount"]), d("5"));
    assert_eq!(dec(&invoice["amount_due"]), d("9.20"));
    assert_eq!(dec(&invoice["amount_to_collect"]), d("9.20"));
    assert_eq!(invoice["taxes_breakdown"].as_array().unwrap().len(), 2);
    assert_eq!(estimate.body["order_estimate"]["ordering_allowed"], true);
    assert_eq!(
        estimate.body["order_estimate"]["fulfilled_by"]["id"],
        shop.venue.as_str()
    );
    // The suite's offer awards 10% of the purchase.
    assert_eq!(dec(&estimate.body["rewards"]["award"]), d("1.42"));
    assert_eq!(estimate.body["wallet_funds_held"], true);
    let estimation_id = estimate.body["id"].as_str().unwrap().to_string();
    // The hold keeps the funds from being spent elsewhere.
    assert_eq!(balance(&app, &ann.wallet_id).await, d("15"));

    let submit = json!({"estimation_id": estimation_id, "payments": [{"payment_method_type": "CASH"}]});
    let placed = as_contact(&app, &ann, "POST", "/self-service/v2/orders", Some(&submit)).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let order_id = placed.body["id"].as_str().unwrap().to_string();
    assert_eq!(placed.body["fulfilled_by"]["id"], shop.venue.as_str());
    // Submitting again answers the same order; the wallet was spent once and awarded once.
    let again = as_contact(&app, &ann, "POST", "/self-service/v2/orders", Some(&submit)).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["id"], order_id.as_str());
    assert_eq!(balance(&app, &ann.wallet_id).await, d("16.42"), "20 - 5 + 1.42");
    app.assert_balance_equals_journal(&ann.wallet_id).await;

    // The order equals its estimate.
    let order = as_contact(&app, &ann, "GET", &format!("/self-service/v2/orders/{order_id}"), None).await;
    assert_eq!(order.status, 200, "{}", order.body);
    assert_eq!(order.body["state"], "NEW");
    assert_eq!(dec(&order.body["total"]), d("14.20"));
    assert_eq!(dec(&order.body["wallet_funds"]), d("5"));
    assert_eq!(dec(&order.body["amount_due"]), d("9.20"));
    assert_eq!(dec(&order.body["tax_amount"]), d("1.32"));
    assert_eq!(order.body["items"].as_array().unwrap().len(), 4);
    assert_eq!(order.body["items"][2]["notes"], "no cream");
    assert_eq!(order.body["supply_method"], "DELIVERY");
    assert_eq!(order.body["address"]["lat"], HERE.0);
    let listed = as_contact(
        &app,
        &ann,
        "GET",
        &format!("/self-service/v2/contacts/{}/orders", ann.contact_id),
        None,
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["content"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["content"][0]["id"], order_id.as_str());
    let none = as_contact(
        &app,
        &ann,
        "GET",
        &format!("/self-service/v2/contacts/{}/orders?state=COMPLETED", ann.contact_id),
        None,
    )
    .await;
    assert_eq!(none.body["content"], json!([]));

    // The business moves it on; the contact may no longer cancel it, the business completes it.
    let started = app
        .put(
            &format!("/backoffice/v2/orders/{order_id}/actions"),
            &json!({"action": "START_PROGRESS"}),
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(started.body["state"], "IN_PROGRESS");
    let cancel = json!({"action": "CANCEL"});
    let refused = as_contact(
        &app,
        &ann,
        "PUT",
        &format!("/self-service/v2/orders/{order_id}/actions"),
        Some(&cancel),
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let favourite = as_contact(
        &app,
        &ann,
        "PUT",
        &format!("/self-service/v2/orders/{order_id}/actions"),
        Some(&json!({"action": "MARK_FAVORITE"})),
    )
    .await;
    assert_eq!(favourite.status, 200, "{}", favourite.body);
    let done = app
        .put(
            &format!("/backoffice/v2/orders/{order_id}/actions"),
            &json!({"action": "COMPLETE"}),
        )
        .await;
    assert_eq!(done.body["state"], "COMPLETED");
    assert_eq!(done.body["is_favorite"], true);
    let late = app
        .put(&format!("/backoffice/v2/orders/{order_id}/actions"), &cancel)
        .await;
    assert_eq!(late.status, 409, "a completed order is not cancelled: {}", late.body);
    assert_eq!(balance(&app, &ann.wallet_id).await, d("16.42"));
}

#[tokio::test]
async fn a_cancelled_order_gives_its_wallet_funds_and_awards_back() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let shop = shop(&app).await;
    let bo = holder(&app, "bo").await;
    let account_id = account(&app, &bo).await;
    fund(&app, &bo, "F-1", "30").await;
    // Paid wholly from the wallet, picked up.
    let body = json!({
        "account_id": account_id, "supply_method": "PICK_UP", "delivery_method": "PICKUP_POINT",
        "payment_method_type": "WALLET", "fulfilled_by": shop.venue,
        "items": [{"id": shop.latte, "quantity": 3}],
    });
    let estimate = as_contact(&app, &bo, "POST", "/self-service/v2/estimates/orders", Some(&body)).await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    assert_eq!(dec(&estimate.body["invoice_estimate"]["total"]), d("10.50"));
    assert_eq!(dec(&estimate.body["invoice_estimate"]["amount_due"]), d("0"));
    let submit = json!({"estimation_id": estimate.body["id"], "payments": [{"payment_method_type": "WALLET"}]});
    let placed = as_contact(&app, &bo, "POST", "/self-service/v2/orders", Some(&submit)).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let order_id = placed.body["id"].as_str().unwrap().to_string();
    assert_eq!(balance(&app, &bo.wallet_id).await, d("20.55"), "30 - 10.50 + 1.05");

    let cancelled = as_contact(
        &app,
        &bo,
        "PUT",
        &format!("/self-service/v2/orders/{order_id}/actions"),
        Some(&json!({"action": "CANCEL"})),
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(balance(&app, &bo.wallet_id).await, d("30"));
    app.assert_balance_equals_journal(&bo.wallet_id).await;
    let order = as_contact(&app, &bo, "GET", &format!("/self-service/v2/orders/{order_id}"), None).await;
    assert_eq!(order.body["state"], "CANCELLED");
    assert!(order.body["key_dates"]["cancelled_on"].is_i64());

    // A wallet that cannot cover a WALLET order is refused at the estimate.
    let big = json!({
        "account_id": account_id, "supply_method": "PICK_UP", "delivery_method": "PICKUP_POINT",
        "payment_method_type": "WALLET", "fulfilled_by": shop.venue,
        "items": [{"id": shop.latte, "quantity": 20}],
    });
    let short = as_contact(&app, &bo, "POST", "/self-service/v2/estimates/orders", Some(&big)).await;
    assert_eq!(short.status, 400, "{}", short.body);
    assert_eq!(balance(&app, &bo.wallet_id).await, d("30"));
}

#[tokio::test]
async fn expired_unavailable_and_small_orders_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let shop = shop(&app).await;
    let cy = holder(&app, "cy").await;
    let account_id = account(&app, &cy).await;
    fund(&app, &cy, "F-1", "20").await;
    let order = |items: Value, fulfilled_by: &str| {
        json!({"account_id": account_id, "supply_method": "PICK_UP", "delivery_method": "PICKUP_POINT",
               "payment_method_type": "CASH", "fulfilled_by": fulfilled_by, "use_wallet_funds": true,
               "wallet_funds_amount": 2, "block_wallet_funds": true, "items": items})
    };
    let estimate = |body: Value| {
        let (app, cy) = (&app, &cy);
        async move { as_contact(app, cy, "POST", "/self-service/v2/estimates/orders", Some(&body)).await }
    };
    let submit = |id: Value| {
        let (app, cy) = (&app, &cy);
        async move {
            let body = json!({"estimation_id": id, "payments": [{"payment_method_type": "CASH"}]});
            as_contact(app, cy, "POST", "/self-service/v2/orders", Some(&body)).await
        }
    };

    // Below the venue's minimum: previewed, not orderable.
    let small = estimate(order(json!([{"id": shop.latte, "quantity": 1}]), &shop.venue)).await;
    assert_eq!(small.status, 200, "{}", small.body);
    assert_eq!(small.body["order_estimate"]["ordering_allowed"], false);
    assert_eq!(small.body["order_estimate"]["order_failure_reason"], "MINIMUM_COST");
    assert_eq!(submit(small.body["id"].clone()).await.status, 400);
    // A product the venue does not sell.
    let elsewhere = estimate(order(json!([{"id": shop.blender, "quantity": 1}]), &shop.venue)).await;
    assert_eq!(
        elsewhere.body["order_estimate"]["ordering_allowed"], false,
        "{}",
        elsewhere.body
    );
    assert_eq!(
        elsewhere.body["invalid_products"][0]["unavailability_reason"],
        "AVAILABILITY"
    );
    assert_eq!(
        elsewhere.body["invalid_products"][0]["product"]["id"],
        shop.blender.as_str()
    );
    assert_eq!(submit(elsewhere.body["id"].clone()).await.status, 400);
    // The airport sells it.
    let there = estimate(order(json!([{"id": shop.blender, "quantity": 1}]), &shop.far_venue)).await;
    assert_eq!(there.body["order_estimate"]["ordering_allowed"], true, "{}", there.body);

    // Bad input: each a clear 4xx.
    let bad: Vec<(Value, &str)> = vec![
        (
            order(json!([{"id": shop.latte, "quantity": 0}]), &shop.venue),
            "quantity",
        ),
        (
            order(json!([{"id": shop.latte, "quantity": -1}]), &shop.venue),
            "quantity",
        ),
        (
            order(json!([{"id": shop.latte, "quantity": 1.5}]), &shop.venue),
            "quantity",
        ),
        (
            order(json!([{"id": shop.latte, "quantity": 2000000}]), &shop.venue),
            "quantity",
        ),
        (
            order(
                json!([{"id": uuid::Uuid::new_v4().to_string(), "quantity": 1}]),
                &shop.venue,
            ),
            "items.id",
        ),
        (
            order(json!([{"id": shop.syrup, "quantity": 1}]), &shop.venue),
            "modifier",
        ),
        (
            order(
                json!([{"id": shop.latte, "quantity": 1, "components": [{"id": shop.cake}]}]),
                &shop.venue,
            ),
            "components",
        ),
        (order(json!([]), &shop.venue), "items"),
        (
            order(
                json!([{"id": shop.latte, "quantity": 2}]),
                &uuid::Uuid::new_v4().to_string(),
            ),
            "organisation",
        ),
    ];
    for (body, why) in bad {
        let reply = estimate(body).await;
        assert!(
            reply.status == 400 || reply.status == 404,
            "{why}: {} {}",
            reply.status,
            reply.body
        );
    }
    let mut delivery_without_location = order(json!([{"id": shop.latte, "quantity": 2}]), &shop.venue);
    delivery_without_location["supply_method"] = json!("DELIVERY");
    let reply = estimate(delivery_without_location.clone()).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    delivery_without_location["current_location"] = json!({"address_line_1": "2 Side Street"});
    assert_eq!(estimate(delivery_without_location).await.status, 400);
    let mut card = order(json!([{"id": shop.latte, "quantity": 2}]), &shop.venue);
    card["payment_method_type"] = json!("CARD");
    assert_eq!(estimate(card).await.status, 400);
    let mut too_much = order(json!([{"id": shop.latte, "quantity": 2}]), &shop.venue);
    too_much["wallet_funds_amount"] = json!(-3);
    assert_eq!(estimate(too_much).await.status, 400);
    let mut discounted = order(json!([{"id": shop.latte, "quantity": 2}]), &shop.venue);
    discounted["discount"] = json!({"amount": 5, "type": "AMOUNT"});
    assert_eq!(estimate(discounted).await.status, 400);

    // Expired: refused, and its held funds are free again.
    let held = estimate(order(json!([{"id": shop.latte, "quantity": 2}]), &shop.venue)).await;
    assert_eq!(held.status, 200, "{}", held.body);
    app.clock.advance(901);
    // A new session: the access token expired with the estimate.
    let signed_in = contact_sign_in(&app, PUBLIC_KEY, "cy@example.com", "transfer-password-1").await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let cy = Holder {
        token: signed_in.body["access_token"].as_str().unwrap().to_string(),
        contact_id: cy.contact_id.clone(),
        wallet_id: cy.wallet_id.clone(),
    };
    let expired = {
        let body = json!({"estimation_id": held.body["id"], "payments": [{"payment_method_type": "CASH"}]});
        as_contact(&app, &cy, "POST", "/self-service/v2/orders", Some(&body)).await
    };
    assert_eq!(expired.status, 400, "{}", expired.body);
    assert!(
        expired.body["message"].as_str().unwrap().contains("expired"),
        "{}",
        expired.body
    );

    // Nothing was ordered, nothing spent or awarded beyond the funding.
    let listed = as_contact(
        &app,
        &cy,
        "GET",
        &format!("/self-service/v2/contacts/{}/orders", cy.contact_id),
        None,
    )
    .await;
    assert_eq!(listed.body["content"], json!([]));
    assert_eq!(balance(&app, &cy.wallet_id).await, d("20"));
    app.assert_balance_equals_journal(&cy.wallet_id).await;
}

#[tokio::test]
async fn another_contacts_estimate_and_order_are_not_found() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let shop = shop(&app).await;
    let dee = holder(&app, "dee").await;
    let eve = holder(&app, "eve").await;
    let account_id = account(&app, &dee).await;
    let body = json!({"account_id": account_id, "supply_method": "PICK_UP", "delivery_method": "PICKUP_POINT",
                      "payment_method_type": "CASH", "items": [{"id": shop.cake, "quantity": 2}]});
    let estimate = as_contact(&app, &dee, "POST", "/self-service/v2/estimates/orders", Some(&body)).await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    // Eve cannot use Dee's account, estimate or order.
    let theirs = as_contact(&app, &eve, "POST", "/self-service/v2/estimates/orders", Some(&body)).await;
    assert_eq!(theirs.status, 400, "{}", theirs.body);
    let submit = json!({"estimation_id": estimate.body["id"], "payments": [{"payment_method_type": "CASH"}]});
    let stolen = as_contact(&app, &eve, "POST", "/self-service/v2/orders", Some(&submit)).await;
    assert_eq!(stolen.status, 404, "{}", stolen.body);
    let placed = as_contact(&app, &dee, "POST", "/self-service/v2/orders", Some(&submit)).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let order_id = placed.body["id"].as_str().unwrap();
    let read = as_contact(&app, &eve, "GET", &format!("/self-service/v2/orders/{order_id}"), None).await;
    assert_eq!(read.status, 404);
    let cancel = as_contact(
        &app,
        &eve,
        "PUT",
        &format!("/self-service/v2/orders/{order_id}/actions"),
        Some(&json!({"action": "CANCEL"})),
    )
    .await;
    assert_eq!(cancel.status, 404);
    let list = as_contact(
        &app,
        &eve,
        "GET",
        &format!("/self-service/v2/contacts/{}/orders", dee.contact_id),
        None,
    )
    .await;
    assert_eq!(list.status, 403);
    let order = as_contact(&app, &dee, "GET", &format!("/self-service/v2/orders/{order_id}"), None).await;
    assert_eq!(order.body["state"], "NEW", "{}", order.body);
    // Paid in cash: all of it is collected on pick-up.
    assert_eq!(dec(&order.body["amount_to_collect"]), d("8.40"));
}
