//! Recommendations: an order's cross- and up-sells; the business's best sellers, the
//! products an offer the contact can earn rewards (named after the offer), the products
//! its commerce money can be spent on; services for a first subscription, more, or a
//! change. Another contact's estimate is not found.

use crate::helpers::*;
use crate::transfers::{fund, holder, Holder};
use serde_json::{json, Value};

async fn made(app: &TestApp, path: &str, body: Value) -> String {
    let reply = app.post(path, &body).await;
    assert_eq!(reply.status, 201, "{path}: {}", reply.body);
    reply.body["id"].as_str().unwrap().to_string()
}

async fn get(app: &TestApp, who: &Holder, path: &str) -> Reply {
    with_token(app, &who.token, "GET", path, None).await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn orders_products_and_services_are_recommended() {
    let app = spawn_app().await;
    let merchant = made(
        &app,
        "/backoffice/v2/organisations",
        json!({"name": "Coffee Co", "type": "MERCHANT"}),
    )
    .await;
    let venue = made(
        &app,
        "/backoffice/v2/organisations",
        json!({"name": "Old Town", "type": "VENUE", "parent_id": merchant}),
    )
    .await;
    let placed = app
        .put(
            &format!("/backoffice/v2/organisations/{venue}/address"),
            &json!({"address_line_1": "1 Main Street", "town_city": "Nicosia", "postal_code": "1010",
                    "country_code": "CYP", "lat": 35.17, "lon": 33.36}),
        )
        .await;
    assert_eq!(placed.status, 200);
    let terms = app
        .put(
            &format!("/backoffice/v2/organisations/{venue}/fulfilment"),
            &json!({"supply_methods": ["PICK_UP"], "minutes_to_fulfil": 5, "payment_method_types": ["CASH"]}),
        )
        .await;
    assert_eq!(terms.status, 200, "{}", terms.body);
    let goods = made(
        &app,
        "/backoffice/v2/products/types",
        json!({"name": "Goods", "classification": "NON_TRACEABLE_PHYSICAL_GOOD", "composition_method": "FLAT"}),
    )
    .await;
    let plans = made(
        &app,
        "/backoffice/v2/products/types",
        json!({"name": "Plans", "classification": "TERMED_SERVICE", "composition_method": "FLAT"}),
    )
    .await;
    let hot = made(
        &app,
        "/backoffice/v2/products/families",
        json!({"name": "Hot drinks", "code": "HOT"}),
    )
    .await;
    let price = |p: u32| json!([{"price": p, "currency_code": "EUR"}]);
    let monthly = |p: u32, uot: &str| json!([{"price": p, "currency_code": "EUR", "price_terms": {"billing_period": {"duration": 1, "uot": uot}}}]);
    let cake = made(
        &app,
        "/backoffice/v2/products",
        json!({"sku": "CAKE", "name": "Cake", "type_id": goods, "pricing": price(4)}),
    )
    .await;
    let large = made(
        &app,
        "/backoffice/v2/products",
        json!({"sku": "LATTE-L", "name": "Large latte", "type_id": goods, "family_id": hot, "pricing": price(5)}),
    )
    .await;
    let latte = made(
        &app,
        "/backoffice/v2/products",
        json!({"sku": "LATTE", "name": "Latte", "type_id": goods, "family_id": hot, "pricing": price(3),
               "crosssells": [cake], "upsells": [large]}),
    )
    .await;
    let tv = made(
        &app,
        "/backoffice/v2/products",
        json!({"sku": "TV", "name": "TV", "type_id": plans, "pricing": monthly(30, "MONTH")}),
    )
    .await;
    let tv_plus = made(
        &app,
        "/backoffice/v2/products",
        json!({"sku": "TV-PLUS", "name": "TV plus", "type_id": plans, "pricing": monthly(45, "MONTH")}),
    )
    .await;
    let paper = made(
        &app,
        "/backoffice/v2/products",
        json!({"sku": "PAPER", "name": "Paper", "type_id": plans, "pricing": monthly(3, "WEEK")}),
    )
    .await;
    // A 10% offer on everything, one on hot drinks (by the family's code), a pool for cake.
    app.percentage_offer(10, None).await;
    let hot_offer = app
        .create_offer(
            json!({"name": "Hot drinks double", "short_description": "Hot drinks earn more",
                             "products": {"families": ["HOT"]}, "award": {"type": "PERCENTAGE", "value": 10}}),
        )
        .await;
    let pool = made(
        &app,
        "/backoffice/v2/commerce_pools",
        json!({"name": "Cake money", "spend_conditions": {"products": {"skus": ["CAKE"]}}}),
    )
    .await;
    app.create_offer(
        json!({"name": "Cake money back", "award": {"type": "PERCENTAGE", "value": 5},
                            "destination": {"type": "POOL", "commerce_pool": {"id": pool}}}),
    )
    .await;

    let ann = holder(&app, "ann").await;
    let bob = holder(&app, "bob").await;
    let opened = with_token(
        &app,
        &ann.token,
        "POST",
        &format!("/self-service/v2/contacts/{}/accounts", ann.contact_id),
        Some(&json!({"currency_code": "EUR"})),
    )
    .await;
    let account = opened.body["id"].as_str().unwrap().to_string();
    let estimate = |items: Value| {
        json!({"account_id": account, "supply_method": "PICK_UP", "delivery_method": "PICKUP_POINT",
               "payment_method_type": "CASH", "fulfilled_by": venue, "items": items})
    };
    let previewed = with_token(
        &app,
        &ann.token,
        "POST",
        "/self-service/v2/estimates/orders",
        Some(&estimate(json!([{"id": latte, "quantity": 2}]))),
    )
    .await;
    assert_eq!(previewed.status, 200, "{}", previewed.body);
    // The hot-drinks offer rewards the latte line by its family's code: 10% + 10% + the pool's 5%.
    assert_eq!(
        dec(&previewed.body["rewards"]["award"]),
        crate::transfers::d("1.50"),
        "{}",
        previewed.body
    );
    let estimation = previewed.body["id"].as_str().unwrap().to_string();

    // The order's cross- and up-sells; what it holds already is not recommended.
    let path = format!("/self-service/v2/orders/recommendation?estimation_id={estimation}");
    let recommended = get(&app, &ann, &path).await;
    assert_eq!(recommended.status, 200, "{}", recommended.body);
    assert_eq!(ids(&recommended.body["cross_sells"]), vec![cake.clone()]);
    assert_eq!(ids(&recommended.body["upsells"]), vec![large.clone()]);
    let with_cake = with_token(
        &app,
        &ann.token,
        "POST",
        "/self-service/v2/estimates/orders",
        Some(&estimate(
            json!([{"id": latte, "quantity": 1}, {"id": cake, "quantity": 1}]),
        )),
    )
    .await;
    let path = format!(
        "/self-service/v2/orders/recommendation?estimation_id={}",
        with_cake.body["id"].as_str().unwrap()
    );
    assert_eq!(get(&app, &ann, &path).await.body["cross_sells"], json!([]));
    let theirs = get(
        &app,
        &bob,
        &format!("/self-service/v2/orders/recommendation?estimation_id={estimation}"),
    )
    .await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);

    // Two lattes and a cake sold: the latte sells best.
    for id in [estimation.clone(), with_cake.body["id"].as_str().unwrap().to_string()] {
        let placed = with_token(
            &app,
            &ann.token,
            "POST",
            "/self-service/v2/orders",
            Some(&json!({"estimation_id": id, "payments": [{"payment_method_type": "CASH"}]})),
        )
        .await;
        assert_eq!(placed.status, 201, "{}", placed.body);
    }
    let categories = get(&app, &ann, "/self-service/v2/products/recommendation").await;
    assert_eq!(categories.status, 200, "{}", categories.body);
    let find = |kind: &str| -> Vec<Value> {
        categories
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["category"]["type"] == kind)
            .cloned()
            .collect()
    };
    let best = find("BEST_SELLING");
    assert_eq!(
        ids(&best[0]["category"]["products"]),
        vec![latte.clone(), cake.clone()],
        "{}",
        categories.body
    );
    let offers = find("REWARD_OFFER_PROMOTION");
    assert_eq!(offers.len(), 1, "only the offer with products: {}", categories.body);
    assert_eq!(offers[0]["category"]["id"], hot_offer["id"]);
    assert_eq!(offers[0]["category"]["name"], "Hot drinks double");
    assert_eq!(
        ids(&offers[0]["category"]["products"]),
        vec![large.clone(), latte.clone()]
    );
    // The orders' purchases put money in the cake pool: cake is where it can be spent.
    let commerce = find("COMMERCE_MONEY");
    assert_eq!(commerce.len(), 1, "{}", categories.body);
    assert_eq!(commerce[0]["category"]["name"], "Cake money");
    assert_eq!(ids(&commerce[0]["category"]["products"]), vec![cake.clone()]);
    // Bob has no pool money; one kind at a time; bad input.
    let bobs = get(
        &app,
        &bob,
        "/self-service/v2/products/recommendation?category_type=COMMERCE_MONEY",
    )
    .await;
    assert_eq!(bobs.body, json!([]), "{}", bobs.body);
    assert_eq!(
        get(
            &app,
            &ann,
            "/self-service/v2/products/recommendation?category_type=NOPE"
        )
        .await
        .status,
        400
    );
    assert_eq!(
        get(&app, &ann, "/self-service/v2/products/recommendation?size=0")
            .await
            .status,
        400
    );
    let other = format!("/self-service/v2/products/recommendation?contact_id={}", bob.contact_id);
    assert_eq!(get(&app, &ann, &other).await.status, 403);

    // Services: any for a first subscription; by period; more for a subscription; a change.
    let listed = get(&app, &ann, "/self-service/v2/services/recommendation").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(
        ids(&listed.body["content"]),
        vec![paper.clone(), tv.clone(), tv_plus.clone()]
    );
    let monthly_only = get(
        &app,
        &ann,
        "/self-service/v2/services/recommendation?billing_period_duration=1&billing_period_uot=MONTH",
    )
    .await;
    assert_eq!(ids(&monthly_only.body["content"]), vec![tv.clone(), tv_plus.clone()]);
    fund(&app, &ann, "F-1", "100").await;
    let added = with_token(
        &app,
        &ann.token,
        "POST",
        &format!("/self-service/v2/contacts/{}/services", ann.contact_id),
        Some(&json!({"services": [{"product_id": tv}]})),
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let service = added.body[0]["id"].as_str().unwrap().to_string();
    let subs = with_token(
        &app,
        &ann.token,
        "GET",
        &format!("/self-service/v2/contacts/{}/subscriptions", ann.contact_id),
        None,
    )
    .await;
    let subscription = subs.body["content"][0]["id"].as_str().unwrap().to_string();
    let more = get(
        &app,
        &ann,
        &format!("/self-service/v2/services/recommendation?subscription_id={subscription}"),
    )
    .await;
    assert_eq!(ids(&more.body["content"]), vec![tv_plus.clone()], "{}", more.body);
    let change = get(
        &app,
        &ann,
        &format!("/self-service/v2/services/recommendation?service_id={service}"),
    )
    .await;
    assert_eq!(ids(&change.body["content"]), vec![tv_plus.clone()]);
    let search = get(&app, &ann, "/self-service/v2/services/recommendation?search_value=pap").await;
    assert_eq!(ids(&search.body["content"]), vec![paper.clone()]);
    let bad = get(
        &app,
        &ann,
        "/self-service/v2/services/recommendation?billing_period_duration=1",
    )
    .await;
    assert_eq!(bad.status, 400);
    let not_theirs = get(
        &app,
        &bob,
        &format!("/self-service/v2/services/recommendation?service_id={service}"),
    )
    .await;
    assert_eq!(not_theirs.status, 404);
}
