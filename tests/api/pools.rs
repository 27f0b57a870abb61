//! Commerce pools over HTTP: an offer whose awards may be spent only at named organisations
//! and on named products. Spends at the till take only the lots the sale meets, estimates
//! hold only those, and the conditions are checked when the offer is made.

use crate::helpers::*;
use serde_json::{json, Value};

fn num(text: &str) -> serde_json::Number {
    serde_json::Number::from_string_unchecked_compat(text)
}

async fn venue(app: &TestApp, name: &str) -> String {
    let reply = app
        .post("/backoffice/v2/organisations", &json!({"name": name, "type": "VENUE"}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_string()
}

/// A venue of another business (whose live secret key is `key`), made with its own key.
async fn their_venue(app: &TestApp, key: &str) -> Reply {
    another_business(app, key, &format!("Business of {key}")).await;
    let theirs = app
        .with_key(
            key,
            "POST",
            "/backoffice/v2/organisations",
            Some(&json!({"name": "Their venue", "type": "VENUE"})),
        )
        .await;
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    theirs
}

fn sale(contact: &str, reference: &str, at: &str, lines: &[(&str, &str)], spend: &str, restrict: bool) -> Value {
    let total: rust_decimal::Decimal = lines
        .iter()
        .map(|(_, amount)| amount.parse::<rust_decimal::Decimal>().unwrap())
        .sum();
    json!({
        "contact": {"id": contact},
        "reference_number": reference,
        "organisation": {"id": at},
        "transaction_amounts": {"total": num(&total.to_string())},
        "products": lines
            .iter()
            .map(|(sku, amount)| json!({"product_sku": sku, "quantity": 1, "total_amount": num(amount)}))
            .collect::<Vec<_>>(),
        "spend_request": {"amount": num(spend), "restrict_fully_covered": restrict},
    })
}

#[tokio::test]
async fn pooled_awards_are_spent_only_where_and_on_what_their_offer_says() {
    let app = spawn_app().await;
    let harbour = venue(&app, "Harbour Cafe").await;
    let hill = venue(&app, "Hill Cafe").await;
    let offer = app
        .create_offer(json!({
            "name": "Harbour coffee money",
            "award": {"type": "FIXED", "value": 5},
            "destination": {
                "type": "POOL",
                "spend_conditions": {"organisations": [{"id": harbour}], "products": {"skus": ["ESPRESSO"]}},
            },
        }))
        .await;
    assert_eq!(offer["destination"]["type"], "POOL", "{offer}");
    let contact = app.create_contact("C-POOL").await;
    let (contact_id, wallet_id) = (
        contact["id"].as_str().unwrap(),
        contact["wallet"]["id"].as_str().unwrap(),
    );
    let earned = app.purchase(contact_id, "R-1", "10.00", None).await;
    assert_eq!(earned.status, 201, "{}", earned.body);
    assert_eq!(app.wallet(wallet_id).await["total_balance"].to_string(), "5.00");

    // At another venue the pool pays nothing: a fully covered spend is refused, whole.
    let refused = app
        .post(
            "/backoffice/v2/purchases",
            &sale(contact_id, "R-2", &hill, &[("ESPRESSO", "3.00")], "3.00", true),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(
        refused.body["error"], "CRM.EXCEPTIONS.CANNOTSPENDAMOUNTWALLETBALANCENOTENOUGHEXCEPTION",
        "{}",
        refused.body
    );
    assert_eq!(app.wallet(wallet_id).await["total_balance"].to_string(), "5.00");

    // The offer switched off: its lots keep their conditions and stay spendable. At the
    // harbour the pool pays for the espresso only, never the juice.
    app.set_offer_state(&offer, "INACTIVE").await;
    let at_harbour = app
        .post(
            "/backoffice/v2/purchases",
            &sale(
                contact_id,
                "R-3",
                &harbour,
                &[("ESPRESSO", "2.00"), ("JUICE", "6.00")],
                "8.00",
                false,
            ),
        )
        .await;
    assert_eq!(at_harbour.status, 201, "{}", at_harbour.body);
    assert_eq!(
        at_harbour.body["rewards"]["spend"].to_string(),
        "2.00",
        "{}",
        at_harbour.body
    );
    assert_eq!(app.wallet(wallet_id).await["total_balance"].to_string(), "3.00");

    // An estimate at the harbour holds only what the pool may pay for.
    let estimate = app
        .post(
            "/backoffice/v2/purchases/estimates",
            &json!({
                "contact": {"id": contact_id},
                "organisation": {"id": harbour},
                "transaction_amounts": {"total": num("9.00")},
                "products": [
                    {"product_sku": "ESPRESSO", "quantity": 1, "total_amount": num("1.50")},
                    {"product_sku": "CAKE", "quantity": 1, "total_amount": num("7.50")},
                ],
                "spend_request": {"amount": num("9.00"), "restrict_fully_covered": false},
                "hold_funds": true,
            }),
        )
        .await;
    assert_eq!(estimate.status, 201, "{}", estimate.body);
    assert_eq!(
        estimate.body["rewards"]["spend"].to_string(),
        "1.50",
        "{}",
        estimate.body
    );
    assert_eq!(app.wallet(wallet_id).await["total_balance"].to_string(), "1.50");

    // A cancel gives the spend back to the pooled lot, still bound to the harbour.
    let id = at_harbour.body["id"].as_str().unwrap();
    let cancelled = app
        .post(&format!("/backoffice/v2/purchases/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let refused = app
        .post(
            "/backoffice/v2/purchases",
            &sale(contact_id, "R-4", &hill, &[("ESPRESSO", "2.00")], "2.00", true),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    app.assert_balance_equals_journal(wallet_id).await;
}

#[tokio::test]
async fn a_pool_naming_an_organisation_outside_the_network_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let theirs = their_venue(&app, "sk_live_pools_other_business_000001").await;
    let before = app.get("/backoffice/v2/reward_offers").await;
    for organisation in [
        json!({"id": "00000000-0000-4000-8000-000000000001"}),
        json!({"id": theirs.body["id"]}),
        json!({"id": "not-a-uuid"}),
        json!({"id": "venue\u{0}"}),
    ] {
        let reply = app
            .post(
                "/backoffice/v2/reward_offers",
                &json!({
                    "name": "Somewhere else",
                    "award": {"type": "FIXED", "value": 1},
                    "destination": {"type": "POOL", "spend_conditions": {"organisations": [organisation]}},
                }),
            )
            .await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        let parameter = reply.body["parameters"][0].as_str().unwrap();
        assert!(
            parameter.starts_with("destination.spend_conditions.organisations"),
            "{}",
            reply.body
        );
    }
    assert_eq!(app.get("/backoffice/v2/reward_offers").await.body, before.body);
}

#[tokio::test]
async fn a_named_commerce_pool_is_made_once_and_credited_by_offers_and_a_change_applies_to_later_awards() {
    let app = spawn_app().await;
    let harbour = venue(&app, "Harbour Cafe").await;
    let hill = venue(&app, "Hill Cafe").await;
    let made = app
        .post(
            "/backoffice/v2/commerce_pools",
            &json!({
                "name": "Harbour coffee",
                "description": "Coffee at the harbour",
                "spend_conditions": {"organisations": [{"id": harbour}], "products": {"skus": ["ESPRESSO"]}},
            }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let pool_id = made.body["id"].as_str().unwrap().to_string();
    let path = format!("/backoffice/v2/commerce_pools/{pool_id}");
    assert_eq!(app.get(&path).await.body, made.body);
    let listed = app.get("/backoffice/v2/commerce_pools").await;
    assert_eq!(listed.body["content"].as_array().unwrap().len(), 1, "{}", listed.body);

    let offer = app
        .create_offer(json!({
            "name": "Coffee money",
            "award": {"type": "FIXED", "value": 5},
            "destination": {"type": "POOL", "commerce_pool": {"id": pool_id}},
        }))
        .await;
    assert_eq!(offer["destination"]["commerce_pool"]["id"], pool_id.as_str(), "{offer}");
    let contact = app.create_contact("C-NAMED").await;
    let (contact_id, wallet_id) = (
        contact["id"].as_str().unwrap(),
        contact["wallet"]["id"].as_str().unwrap(),
    );
    assert_eq!(app.purchase(contact_id, "R-1", "10.00", None).await.status, 201);
    let refused = app
        .post(
            "/backoffice/v2/purchases",
            &sale(contact_id, "R-2", &hill, &[("ESPRESSO", "3.00")], "3.00", true),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);

    // The pool now also pays for juice: awards from now on carry that, the first keeps its own.
    let changed = app
        .put(&path, &json!({"spend_conditions": {"organisations": [{"id": harbour}], "products": {"skus": ["ESPRESSO", "JUICE"]}}}))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["name"], "Harbour coffee");
    assert_eq!(app.purchase(contact_id, "R-3", "10.00", None).await.status, 201);
    let juice = app
        .post(
            "/backoffice/v2/purchases",
            &sale(contact_id, "R-4", &harbour, &[("JUICE", "8.00")], "8.00", false),
        )
        .await;
    assert_eq!(juice.status, 201, "{}", juice.body);
    assert_eq!(
        juice.body["rewards"]["spend"].to_string(),
        "5.00",
        "only the later award pays for juice: {}",
        juice.body
    );
    let espresso = app
        .post(
            "/backoffice/v2/purchases",
            &sale(contact_id, "R-5", &harbour, &[("ESPRESSO", "4.00")], "4.00", true),
        )
        .await;
    assert_eq!(espresso.status, 201, "{}", espresso.body);
    // 5 + 5 awarded, 5 for juice, 4 for espresso, and earned 5 each.
    assert_eq!(app.wallet(wallet_id).await["total_balance"].to_string(), "11.00");
    app.assert_balance_equals_journal(wallet_id).await;
}

#[tokio::test]
async fn bad_commerce_pools_and_offers_naming_them_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let other_key = "sk_live_pools_other_business_000002";
    let theirs = their_venue(&app, other_key).await;
    let conditions = json!({"products": {"skus": ["ESPRESSO"]}});
    let cases = [
        (json!({"name": "", "spend_conditions": conditions}), "name"),
        (json!({"name": "Bell\u{7}", "spend_conditions": conditions}), "name"),
        (json!({"name": "Empty", "spend_conditions": {}}), "spend_conditions"),
        (
            json!({"name": "Theirs", "spend_conditions": {"organisations": [{"id": theirs.body["id"]}]}}),
            "spend_conditions.organisations",
        ),
        (
            json!({"name": "Bad id", "spend_conditions": {"organisations": [{"id": "x\u{0}"}]}}),
            "spend_conditions.organisations",
        ),
        (
            json!({"name": "Long sku", "spend_conditions": {"products": {"skus": ["S".repeat(101)]}}}),
            "spend_conditions.products.skus",
        ),
    ];
    for (body, parameter) in cases {
        let reply = app.post("/backoffice/v2/commerce_pools", &body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        let named = reply.body["parameters"][0].as_str().unwrap();
        assert!(named.starts_with(parameter), "{body}: {}", reply.body);
    }
    for wrong_type in [
        json!({"name": 5, "spend_conditions": conditions}),
        json!({"name": "Typed", "spend_conditions": "everywhere"}),
        json!({"name": "Typed", "spend_conditions": {"organisations": {"id": "x"}}}),
        json!([]),
    ] {
        let reply = app.post("/backoffice/v2/commerce_pools", &wrong_type).await;
        assert_eq!(reply.status, 400, "{wrong_type}: {}", reply.body);
    }
    let unknown_field = app
        .post(
            "/backoffice/v2/commerce_pools",
            &json!({"name": "Extra", "spend_conditions": conditions, "colour": "red"}),
        )
        .await;
    assert_eq!(unknown_field.status, 400, "{}", unknown_field.body);
    assert_eq!(
        app.get("/backoffice/v2/commerce_pools").await.body["content"],
        json!([])
    );

    let made = app
        .post(
            "/backoffice/v2/commerce_pools",
            &json!({"name": "Coffee", "spend_conditions": conditions}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let pool_id = made.body["id"].as_str().unwrap();
    // Another business does not see it, nor can its offers name it.
    let path = format!("/backoffice/v2/commerce_pools/{pool_id}");
    assert_eq!(app.with_key(other_key, "GET", &path, None).await.status, 404);
    for (destination, parameter, key) in [
        (
            json!({"type": "POOL", "commerce_pool": {"id": "00000000-0000-4000-8000-000000000009"}}),
            "destination.commerce_pool",
            None,
        ),
        (
            json!({"type": "POOL", "commerce_pool": {"id": pool_id}}),
            "destination.commerce_pool",
            Some(other_key),
        ),
        (
            json!({"type": "POOL", "commerce_pool": {"id": "pool\u{0}"}}),
            "destination.commerce_pool",
            None,
        ),
        (
            json!({"type": "POOL", "commerce_pool": {"id": pool_id}, "spend_conditions": conditions}),
            "destination.spend_conditions",
            None,
        ),
        (
            json!({"type": "WALLET", "commerce_pool": {"id": pool_id}}),
            "destination.commerce_pool",
            None,
        ),
    ] {
        let body = json!({"name": "Named", "award": {"type": "FIXED", "value": 1}, "destination": destination});
        let reply = match key {
            Some(key) => {
                app.with_key(key, "POST", "/backoffice/v2/reward_offers", Some(&body))
                    .await
            }
            None => app.post("/backoffice/v2/reward_offers", &body).await,
        };
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        let named = reply.body["parameters"][0].as_str().unwrap();
        assert!(named.starts_with(parameter), "{body}: {}", reply.body);
    }
    let changed = app.put(&path, &json!({"name": "\u{1b}[31m"})).await;
    assert_eq!(changed.status, 400, "{}", changed.body);
    assert_eq!(
        app.get(&path).await.body["name"],
        "Coffee",
        "nothing refused was stored"
    );
    assert_eq!(app.get("/backoffice/v2/commerce_pools/not-an-id").await.status, 404);
}
