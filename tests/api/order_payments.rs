//! How orders are paid: the amount an order leaves due after discounts and wallet funds
//! is charged to the contact's card (a top-up of the wallet under an id the order and the
//! card decide) and the order's purchase spends it with the wallet funds. A declined card
//! orders nothing; an answer lost in a timeout orders nothing until the charge is settled;
//! a second submit neither charges nor orders twice. Offers that discount at once take
//! their part off what the wallet, the card or the hand-over pays.

use crate::helpers::*;
use crate::orders::{account, as_contact, shop};
use crate::topups::{card, DECLINED, FAST_RECONCILER, LATE_SUCCESS, SUCCEEDS};
use crate::transfers::{balance, d, fund, holder, Holder};
use rewards_engine::ManualClock;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn add_card(app: &TestApp, who: &Holder, number: &str) -> String {
    let added = as_contact(
        app,
        who,
        "POST",
        &format!("/self-service/v2/contacts/{}/payment_methods", who.contact_id),
        Some(&card(number)),
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.body);
    added.body["id"].as_str().unwrap().to_string()
}

fn submit(estimate: &Value, method: Option<&str>) -> Value {
    let mut payment = json!({"payment_method_type": "CARD"});
    if let Some(method) = method {
        payment["payment_method_id"] = json!(method);
    }
    json!({"estimation_id": estimate["id"], "payments": [payment, {"payment_method_type": "WALLET"}]})
}

async fn place(app: &TestApp, who: &Holder, body: &Value) -> Reply {
    as_contact(app, who, "POST", "/self-service/v2/orders", Some(body)).await
}

async fn preview_order(app: &TestApp, who: &Holder, body: &Value) -> Reply {
    as_contact(app, who, "POST", "/self-service/v2/estimates/orders", Some(body)).await
}

async fn orders_of(app: &TestApp, who: &Holder) -> Vec<Value> {
    let listed = as_contact(
        app,
        who,
        "GET",
        &format!("/self-service/v2/contacts/{}/orders", who.contact_id),
        None,
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["content"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_order_charges_its_amount_due_to_a_card_once_and_a_declined_card_orders_nothing() {
    let app = spawn_app_with(temp_dir(), ManualClock::new(START_S), &FAST_RECONCILER).await;
    app.percentage_offer(10, None).await;
    let shop = shop(&app).await;
    let terms = app
        .put(
            &format!("/backoffice/v2/organisations/{}/fulfilment", shop.venue),
            &json!({"supply_methods": ["PICK_UP"], "minutes_to_fulfil": 10,
                    "payment_method_types": ["CASH", "WALLET", "CARD"]}),
        )
        .await;
    assert_eq!(terms.status, 200, "{}", terms.body);
    let dee = holder(&app, "dee").await;
    let account_id = account(&app, &dee).await;
    fund(&app, &dee, "F-1", "4").await;
    let good = add_card(&app, &dee, SUCCEEDS).await;
    let declined = add_card(&app, &dee, DECLINED).await;
    let late = add_card(&app, &dee, LATE_SUCCESS).await;
    let preview = |block: bool| {
        json!({"account_id": account_id, "supply_method": "PICK_UP", "delivery_method": "PICKUP_POINT", "payment_method_type": "CARD",
               "fulfilled_by": shop.venue, "use_wallet_funds": true, "block_wallet_funds": block,
               "items": [{"id": shop.latte, "quantity": 3}]})
    };
    // A card-paid order takes its wallet funds with the charge: they are not held.
    let held = preview_order(&app, &dee, &preview(true)).await;
    assert_eq!(held.status, 400, "{}", held.body);
    let estimate = preview_order(&app, &dee, &preview(false)).await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    let invoice = &estimate.body["invoice_estimate"];
    assert_eq!(
        (
            dec(&invoice["total"]),
            dec(&invoice["wallet_funds_amount"]),
            dec(&invoice["amount_due"])
        ),
        (d("10.50"), d("4"), d("6.50"))
    );

    // No card named, another contact's card, a declined card: nothing is ordered or kept.
    let other = holder(&app, "eli").await;
    let elis = add_card(&app, &other, SUCCEEDS).await;
    for (method, status) in [(None, 400), (Some(elis.as_str()), 400), (Some(declined.as_str()), 400)] {
        let reply = place(&app, &dee, &submit(&estimate.body, method)).await;
        assert_eq!(reply.status, status, "{method:?}: {}", reply.body);
    }
    assert!(orders_of(&app, &dee).await.is_empty());
    assert_eq!(balance(&app, &dee.wallet_id).await, d("4"));

    // The answer is lost: nothing is ordered until the reconciler settles the charge, then
    // the submit places the order with what it charged.
    let lost = place(&app, &dee, &submit(&estimate.body, Some(&late))).await;
    assert_eq!(lost.status, 504, "{}", lost.body);
    assert!(orders_of(&app, &dee).await.is_empty());
    app.clock.advance(5);
    let deadline = Instant::now() + Duration::from_secs(10);
    while balance(&app, &dee.wallet_id).await != d("10.50") {
        assert!(Instant::now() < deadline, "the lost charge was never settled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let placed = place(&app, &dee, &submit(&estimate.body, Some(&late))).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    // 4 + 6.50 charged - 10.50 spent + 1.05 awarded.
    assert_eq!(balance(&app, &dee.wallet_id).await, d("1.05"));
    // Submitted again, with the good card even: the same order, charged once.
    let again = place(&app, &dee, &submit(&estimate.body, Some(&good))).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body["id"], placed.body["id"]);
    assert_eq!(balance(&app, &dee.wallet_id).await, d("1.05"));
    let order = as_contact(
        &app,
        &dee,
        "GET",
        &format!("/self-service/v2/orders/{}", placed.body["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(order.status, 200, "{}", order.body);
    assert_eq!(
        (
            order.body["payment_method_type"].as_str(),
            dec(&order.body["wallet_funds"]),
            dec(&order.body["amount_due"]),
            dec(&order.body["amount_to_collect"])
        ),
        (Some("CARD"), d("4"), d("6.50"), d("0"))
    );
    app.assert_balance_equals_journal(&dee.wallet_id).await;
    let top_ups = app
        .journal(&dee.wallet_id)
        .await
        .into_iter()
        .filter(|line| line["transaction_type"] == "TOP_UP")
        .count();
    assert_eq!(top_ups, 1, "charged once");
}

#[tokio::test]
async fn an_instant_discount_offer_takes_its_part_off_what_an_order_leaves_to_pay() {
    let app = spawn_app().await;
    let funding = app.percentage_offer(10, None).await;
    let shop = shop(&app).await;
    let fay = holder(&app, "fay").await;
    let account_id = account(&app, &fay).await;
    fund(&app, &fay, "F-1", "20").await;
    app.set_offer_state(&funding, "INACTIVE").await;
    app.create_offer(json!({"name": "Ten off", "award": {"type": "PERCENTAGE", "value": 10},
                            "destination": {"type": "INSTANT_DISCOUNT"}}))
        .await;
    let preview = |payment: &str, wallet: Option<u32>| {
        let mut body = json!({"account_id": account_id, "supply_method": "PICK_UP", "delivery_method": "PICKUP_POINT",
                              "payment_method_type": payment, "fulfilled_by": shop.venue,
                              "items": [{"id": shop.latte, "quantity": 3}]});
        if let Some(amount) = wallet {
            body["use_wallet_funds"] = json!(true);
            body["wallet_funds_amount"] = json!(amount);
        }
        body
    };
    // A line names the product's price plan, or none; never another's.
    let latte = app.get(&format!("/self-service/v2/products/{}", shop.latte)).await;
    let latte_price = latte.body["pricing"][0]["id"].as_str().unwrap().to_string();
    for (terms, status) in [(latte_price.clone(), 200), (uuid::Uuid::new_v4().to_string(), 400)] {
        let mut body = preview("WALLET", None);
        body["items"][0]["price_terms_id"] = json!(terms);
        let reply = preview_order(&app, &fay, &body).await;
        assert_eq!(reply.status, status, "{}", reply.body);
    }
    // From the wallet: 10.50 less 1.05 off.
    let estimate = preview_order(&app, &fay, &preview("WALLET", None)).await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    let invoice = &estimate.body["invoice_estimate"];
    assert_eq!(
        (
            dec(&invoice["total"]),
            dec(&invoice["discount"]),
            dec(&invoice["wallet_funds_amount"]),
            dec(&invoice["amount_due"])
        ),
        (d("10.50"), d("1.05"), d("9.45"), d("0"))
    );
    let submit = json!({"estimation_id": estimate.body["id"], "payments": [{"payment_method_type": "WALLET"}]});
    let placed = place(&app, &fay, &submit).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(balance(&app, &fay.wallet_id).await, d("10.55"), "20 - 9.45");
    let path = format!("/self-service/v2/orders/{}", placed.body["id"].as_str().unwrap());
    let order = as_contact(&app, &fay, "GET", &path, None).await;
    assert_eq!(
        (
            dec(&order.body["discount"]["amount"]),
            dec(&order.body["wallet_funds"]),
            dec(&order.body["amount_due"])
        ),
        (d("1.05"), d("9.45"), d("0"))
    );
    // Collected on hand-over: 5 from the wallet, 4.45 to collect.
    let estimate = preview_order(&app, &fay, &preview("CASH", Some(5))).await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    let invoice = &estimate.body["invoice_estimate"];
    assert_eq!(
        (
            dec(&invoice["discount"]),
            dec(&invoice["wallet_funds_amount"]),
            dec(&invoice["amount_to_collect"])
        ),
        (d("1.05"), d("5"), d("4.45"))
    );
    // A cancelled order gives the wallet its funds back, and the discount goes with it.
    let cancelled = as_contact(
        &app,
        &fay,
        "PUT",
        &format!("{path}/actions"),
        Some(&json!({"action": "CANCEL"})),
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(balance(&app, &fay.wallet_id).await, d("20"));
    app.assert_balance_equals_journal(&fay.wallet_id).await;
}

#[tokio::test]
async fn a_promotion_pass_presented_with_an_order_unlocks_its_offer_once() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let locked = app.percentage_offer(20, None).await;
    let shop = shop(&app).await;
    let plan = app
        .post(
            "/backoffice/v2/pass_plans",
            &json!({"name": "Spring", "classification": "PROMOTION",
                    "code_format": {"type": "ALPHANUMERIC", "prefix": "PROMO", "length": 10},
                    "promotion_passes": {"reward_offer_id": locked["id"], "pass_code_type": "MULTIPLE", "maximum_usage": 1}}),
        )
        .await;
    assert_eq!(plan.status, 201, "{}", plan.body);
    let (_, code, _) = crate::passes::issue(&app, plan.body["id"].as_str().unwrap()).await;
    let gus = holder(&app, "gus").await;
    let account_id = account(&app, &gus).await;
    fund(&app, &gus, "F-1", "20").await;
    let preview = |pass: Option<&str>| {
        let mut body = json!({"account_id": account_id, "supply_method": "PICK_UP", "delivery_method": "PICKUP_POINT",
                              "payment_method_type": "CASH", "fulfilled_by": shop.venue,
                              "items": [{"id": shop.latte, "quantity": 3}]});
        if let Some(code) = pass {
            body["pass"] = json!({"code": code});
        }
        body
    };
    let estimate = |pass: Option<&str>| {
        let (app, gus, body) = (&app, &gus, preview(pass));
        async move { as_contact(app, gus, "POST", "/self-service/v2/estimates/orders", Some(&body)).await }
    };
    // Without the pass only the open offer: 10% of 10.50; with it, 20% more.
    let plain = estimate(None).await;
    assert_eq!(dec(&plain.body["rewards"]["award"]), d("1.05"), "{}", plain.body);
    let unknown = estimate(Some("PROMO-NOT-A-PASS")).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let unlocked = estimate(Some(&code)).await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    assert_eq!(dec(&unlocked.body["rewards"]["award"]), d("3.15"), "{}", unlocked.body);
    // Submitted twice: one order, the pass used once, the awards as previewed.
    let submit = json!({"estimation_id": unlocked.body["id"], "payments": [{"payment_method_type": "CASH"}]});
    for _ in 0..2 {
        let placed = place(&app, &gus, &submit).await;
        assert_eq!(placed.status, 201, "{}", placed.body);
    }
    assert_eq!(balance(&app, &gus.wallet_id).await, d("23.15"), "20 + 3.15");
    assert_eq!(orders_of(&app, &gus).await.len(), 1);
    // Its one use is spent: a later order cannot present it.
    let spent = estimate(Some(&code)).await;
    assert_eq!(spent.status, 409, "{}", spent.body);
    let gift = json!({"estimation_id": plain.body["id"], "payments": [{"payment_method_type": "CASH"}],
                      "pass": {"recipient": {"name": "Ann", "medium_type": "EMAIL", "medium_value": "ann@example.com"}}});
    let refused = place(&app, &gus, &gift).await;
    assert_eq!(refused.status, 400, "e-gift passes are not sold here: {}", refused.body);
    app.assert_balance_equals_journal(&gus.wallet_id).await;
}

#[tokio::test]
async fn a_held_payment_intent_for_the_amount_due_pays_an_order_once() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let shop = shop(&app).await;
    let terms = app
        .put(
            &format!("/backoffice/v2/organisations/{}/fulfilment", shop.venue),
            &json!({"supply_methods": ["PICK_UP"], "minutes_to_fulfil": 10, "payment_method_types": ["CARD", "CASH"]}),
        )
        .await;
    assert_eq!(terms.status, 200, "{}", terms.body);
    let lea = holder(&app, "lea").await;
    let account_id = account(&app, &lea).await;
    let card = add_card(&app, &lea, SUCCEEDS).await;
    let preview = json!({"account_id": account_id, "supply_method": "PICK_UP", "delivery_method": "PICKUP_POINT",
                         "payment_method_type": "CARD", "fulfilled_by": shop.venue,
                         "items": [{"id": shop.latte, "quantity": 3}]});
    let estimate = preview_order(&app, &lea, &preview).await;
    assert_eq!(estimate.status, 200, "{}", estimate.body);
    let intend = |amount: &str| {
        json!({"amount": serde_json::Number::from_string_unchecked_compat(amount), "currency_code": "EUR",
               "payment_method_id": card, "capture": "ON_HOLD"})
    };
    let intents = format!("/self-service/v2/contacts/{}/intents", lea.contact_id);
    let wrong = as_contact(&app, &lea, "POST", &intents, Some(&intend("9.99"))).await;
    assert_eq!(wrong.status, 200, "{}", wrong.body);
    let right = as_contact(&app, &lea, "POST", &intents, Some(&intend("10.50"))).await;
    assert_eq!(right.status, 200, "{}", right.body);
    let submit = |intent: &Value| json!({"estimation_id": estimate.body["id"], "intent_id": intent["id"], "payments": [{"payment_method_type": "CARD"}]});
    // An intent for another amount, or someone else's, pays nothing.
    let refused = place(&app, &lea, &submit(&wrong.body)).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let other = holder(&app, "max").await;
    let stolen = place(&app, &other, &submit(&right.body)).await;
    assert_eq!(stolen.status, 404, "{}", stolen.body);
    assert!(orders_of(&app, &lea).await.is_empty());
    // The right one is captured, credited and spent by the order: once, however often sent.
    for _ in 0..2 {
        let placed = place(&app, &lea, &submit(&right.body)).await;
        assert_eq!(placed.status, 201, "{}", placed.body);
    }
    assert_eq!(orders_of(&app, &lea).await.len(), 1);
    // 10.50 charged and spent; 1.05 awarded.
    assert_eq!(balance(&app, &lea.wallet_id).await, d("1.05"));
    app.assert_balance_equals_journal(&lea.wallet_id).await;
    // An intent does not pay an order collected on hand-over.
    let mut cash = preview.clone();
    cash["payment_method_type"] = json!("CASH");
    let cash = preview_order(&app, &lea, &cash).await;
    let body = json!({"estimation_id": cash.body["id"], "intent_id": wrong.body["id"], "payments": [{"payment_method_type": "CASH"}]});
    assert_eq!(place(&app, &lea, &body).await.status, 400);
}
