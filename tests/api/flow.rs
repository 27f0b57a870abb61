//! The POS flow end to end over HTTP: offers, contacts, purchases with awards and spends,
//! retries, cancels, expiry, and bad input that changes nothing.

use crate::helpers::*;
use serde_json::{json, Value};

fn amount(value: &serde_json::Value) -> String {
    value.to_string()
}

#[tokio::test]
async fn a_purchase_earns_the_offer_award_and_a_retry_returns_the_first_outcome() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("C-1").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    assert_eq!(contact["wallet"]["code"].as_str().unwrap().len(), 16);

    let first = app.purchase(contact_id, "R-1", "120.50", None).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["state"], "POSTED");
    assert_eq!(amount(&first.body["rewards"]["award"]), "12.05");
    assert_eq!(amount(&first.body["balances"][0]["total"]), "12.05");
    assert_eq!(amount(&first.body["balances"][0]["commerce"]), "12.05");

    let retry = app.purchase(contact_id, "R-1", "120.50", None).await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body, first.body, "a retry returns the first outcome");

    let conflicting = app.purchase(contact_id, "R-1", "99.00", None).await;
    assert_eq!(conflicting.status, 409);
    assert_eq!(
        conflicting.error_code(),
        "CRM.EXCEPTIONS.REFERENCENUMBERALREADYUSEDEXCEPTION"
    );

    let wallet = app.wallet(wallet_id).await;
    assert_eq!(amount(&wallet["total_balance"]), "12.05");
    let journal = app.journal(wallet_id).await;
    assert_eq!(journal.len(), 1, "one award, however many retries: {journal:?}");
    assert_eq!(journal[0]["transaction_type"], "AWARD");
    assert_eq!(journal[0]["purchase"]["id"], first.body["id"]);
    app.assert_balance_equals_journal(wallet_id).await;

    let fetched = app
        .get(&format!(
            "/backoffice/v2/purchases/{}",
            first.body["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body["reference_number"], "R-1");
    assert_eq!(fetched.body["state"], "POSTED");
    assert_eq!(amount(&fetched.body["rewards"]["award"]), "12.05");
}

#[tokio::test]
async fn contacts_can_be_named_by_code_or_wallet_code_at_the_till() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("CIF-77").await;
    let by_code = app.get("/backoffice/v2/contacts/CIF-77").await;
    assert_eq!(by_code.status, 200);
    assert_eq!(by_code.body["id"], contact["id"]);

    let wallet_code = contact["wallet"]["code"].as_str().unwrap();
    let reply = app
        .post(
            "/backoffice/v2/purchases",
            &json!({"contact": {"wallet_code": wallet_code}, "reference_number": "W-1", "transaction_amounts": {"total": 10}}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["contact"]["id"], contact["id"]);
    let reply = app
        .post(
            "/backoffice/v2/purchases",
            &json!({"contact": {"code": "CIF-77"}, "reference_number": "W-2", "transaction_amounts": {"total": 10}}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(amount(&reply.body["balances"][0]["total"]), "2.00");

    let duplicate = app
        .post("/backoffice/v2/contacts", &json!({"first_name": "B", "code": "CIF-77"}))
        .await;
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.error_code(), "CRM.EXCEPTIONS.ALREADYEXISTSEXCEPTION");
}

#[tokio::test]
async fn a_spend_request_is_covered_in_part_unless_full_coverage_is_required() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("C-2").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    app.purchase(contact_id, "R-1", "50.00", None).await; // +5.00

    let refused = app.purchase(contact_id, "R-2", "20.00", Some(("8.00", true))).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.error_code(),
        "CRM.EXCEPTIONS.CANNOTSPENDAMOUNTWALLETBALANCENOTENOUGHEXCEPTION"
    );
    assert_eq!(
        amount(&app.wallet(wallet_id).await["total_balance"]),
        "5.00",
        "a refused purchase records nothing"
    );
    let missing = app.get(&format!("/backoffice/v2/purchases/{}", uuid_for("R-2"))).await;
    assert_eq!(missing.status, 404);

    let partial = app.purchase(contact_id, "R-2", "20.00", Some(("8.00", false))).await;
    assert_eq!(partial.status, 201, "{}", partial.body);
    assert_eq!(amount(&partial.body["rewards"]["spend"]), "5.00");
    assert_eq!(amount(&partial.body["rewards"]["award"]), "2.00");
    assert_eq!(amount(&partial.body["balances"][0]["total"]), "2.00");

    let covered = app.purchase(contact_id, "R-3", "20.00", Some(("2.00", true))).await;
    assert_eq!(covered.status, 201, "{}", covered.body);
    assert_eq!(amount(&covered.body["rewards"]["spend"]), "2.00");
    app.assert_balance_equals_journal(wallet_id).await;
}

/// Purchase ids are opaque to clients; this only builds an id that surely does not exist.
fn uuid_for(_reference: &str) -> String {
    "00000000-0000-4000-8000-000000000000".to_string()
}

#[tokio::test]
async fn an_award_lot_expires_after_its_expiry_days() {
    let app = spawn_app().await;
    app.percentage_offer(10, Some(30)).await;
    let contact = app.create_contact("C-3").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    let posted = app.purchase(contact_id, "R-1", "100.00", None).await;
    assert_eq!(posted.status, 201);
    let journal = app.journal(wallet_id).await;
    assert_eq!(journal[0]["expiration_date"].as_i64().unwrap(), START_S + 30 * DAY_S);

    app.clock.advance(30 * DAY_S - 1);
    assert_eq!(amount(&app.wallet(wallet_id).await["total_balance"]), "10.00");
    app.clock.advance(1);
    let wallet = app.wallet(wallet_id).await;
    assert_eq!(amount(&wallet["total_balance"]), "0.00");
    let journal = app.journal(wallet_id).await;
    assert_eq!(journal.last().unwrap()["transaction_type"], "EXPIRATION");
    assert_eq!(amount(&journal.last().unwrap()["amount"]), "10.00");

    let spend = app.purchase(contact_id, "R-2", "5.00", Some(("1.00", true))).await;
    assert_eq!(spend.status, 400, "expired value cannot be spent");
    app.assert_balance_equals_journal(wallet_id).await;
}

#[tokio::test]
async fn cancelling_a_partly_spent_award_reverses_what_remains_and_records_a_shortfall() {
    let app = spawn_app().await;
    let offer = app.percentage_offer(10, None).await;
    let contact = app.create_contact("C-4").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    let award = app.purchase(contact_id, "R-1", "100.00", None).await; // +10.00
    let award_id = award.body["id"].as_str().unwrap().to_string();
    app.set_offer_state(&offer, "INACTIVE").await;
    let spend = app.purchase(contact_id, "R-2", "6.00", Some(("6.00", true))).await; // -6.00
    assert_eq!(spend.status, 201, "{}", spend.body);
    assert_eq!(
        amount(&spend.body["rewards"]["award"]),
        "0.00",
        "an inactive offer awards nothing"
    );

    let cancelled = app
        .post(&format!("/backoffice/v2/purchases/{award_id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["state"], "CANCELLED");
    assert!(
        cancelled.keeps_alive,
        "the till's connection stays open after a cancel with a body"
    );
    let wallet = app.wallet(wallet_id).await;
    assert_eq!(amount(&wallet["total_balance"]), "0.00");
    assert_eq!(amount(&wallet["shortfall"]), "6.00");

    let again = app
        .post(&format!("/backoffice/v2/purchases/{award_id}/cancel"), &json!({}))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(
        amount(&app.wallet(wallet_id).await["shortfall"]),
        "6.00",
        "a second cancel changes nothing"
    );

    // Cancelling the spend gives its 6.00 back, which settles the shortfall exactly.
    let spend_id = spend.body["id"].as_str().unwrap();
    let undone = app
        .post(&format!("/backoffice/v2/purchases/{spend_id}/cancel"), &json!({}))
        .await;
    assert_eq!(undone.status, 200);
    let wallet = app.wallet(wallet_id).await;
    assert_eq!(
        (amount(&wallet["total_balance"]), amount(&wallet["shortfall"])),
        ("0.00".into(), "0.00".into())
    );
    app.assert_balance_equals_journal(wallet_id).await;
    let fetched = app.get(&format!("/backoffice/v2/purchases/{award_id}")).await;
    assert_eq!(fetched.body["state"], "CANCELLED");
}

#[tokio::test]
async fn a_shortfall_is_settled_first_from_later_awards() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("C-5").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    let award = app.purchase(contact_id, "R-1", "100.00", None).await; // +10
    app.purchase(contact_id, "R-2", "10.00", Some(("10.00", true))).await; // -10, +1
    let award_id = award.body["id"].as_str().unwrap();
    app.post(&format!("/backoffice/v2/purchases/{award_id}/cancel"), &json!({}))
        .await;
    // The reversal takes what remains of the award (nothing); the 1.00 awarded by R-2 is not
    // part of it, so it stays, and the spent 10.00 is the shortfall.
    let wallet = app.wallet(wallet_id).await;
    assert_eq!(
        (amount(&wallet["total_balance"]), amount(&wallet["shortfall"])),
        ("1.00".into(), "10.00".into())
    );
    let later = app.purchase(contact_id, "R-3", "120.00", None).await; // +12, settles 10
    assert_eq!(amount(&later.body["balances"][0]["total"]), "3.00");
    assert_eq!(amount(&later.body["balances"][0]["shortfall"]), "0.00");
    let journal = app.journal(wallet_id).await;
    assert_eq!(journal.last().unwrap()["transaction_type"], "SHORTFALL_SETTLEMENT");
    app.assert_balance_equals_journal(wallet_id).await;
}

#[tokio::test]
async fn offers_follow_their_availability_and_life_cycle() {
    let app = spawn_app().await;
    let window = app
        .create_offer(
            json!({"name": "Launch week", "availability": {"from": START_S, "to": START_S + 7 * DAY_S},
            "award": {"type": "FIXED", "value": 2.50}}),
        )
        .await;
    assert_eq!(window["state"], "ACTIVE");
    let offer_id = window["id"].as_str().unwrap();
    let fetched = app.get(&format!("/backoffice/v2/reward_offers/{offer_id}")).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(amount(&fetched.body["award"]["value"]), "2.5");
    let contact = app.create_contact("C-6").await;
    let contact_id = contact["id"].as_str().unwrap();
    let inside = app.purchase(contact_id, "R-1", "1.00", None).await;
    assert_eq!(amount(&inside.body["rewards"]["award"]), "2.50");
    app.clock.advance(8 * DAY_S);
    let late = app.purchase(contact_id, "R-2", "1.00", None).await;
    assert_eq!(late.status, 201, "{}", late.body);
    assert_eq!(amount(&late.body["rewards"]["award"]), "0.00");
    // A till back-dating a purchase into the window gets the offer as of that date.
    let back_dated = app
        .post(
            "/backoffice/v2/purchases",
            &json!({"contact": {"id": contact_id}, "reference_number": "R-2b",
            "transaction_amounts": {"total": 1}, "date": START_S + 2 * DAY_S}),
        )
        .await;
    assert_eq!(back_dated.status, 201, "{}", back_dated.body);
    assert_eq!(amount(&back_dated.body["rewards"]["award"]), "2.50");
    app.clock.advance(-8 * DAY_S);
    let off = app
        .put(
            &format!("/backoffice/v2/reward_offers/{offer_id}/life_cycle_state"),
            &json!({"state": "INACTIVE"}),
        )
        .await;
    assert_eq!(off.status, 200);
    assert_eq!(off.body["state"], "INACTIVE");
    let after = app.purchase(contact_id, "R-3", "1.00", None).await;
    assert_eq!(amount(&after.body["rewards"]["award"]), "0.00");
    let bad = app
        .put(
            &format!("/backoffice/v2/reward_offers/{offer_id}/life_cycle_state"),
            &json!({"state": "PAUSED"}),
        )
        .await;
    assert_eq!(bad.status, 400);
    for body in [
        json!({"name": "x", "award": {"type": "PERCENTAGE", "value": 101}}),
        json!({"name": "x", "award": {"type": "FIXED", "value": 0}}),
        json!({"name": "x", "award": {"type": "BONUS", "value": 1}}),
        json!({"name": "", "award": {"type": "FIXED", "value": 1}}),
        json!({"name": "x", "availability": {"from": 10, "to": 5}, "award": {"type": "FIXED", "value": 1}}),
    ] {
        let reply = app.post("/backoffice/v2/reward_offers", &body).await;
        assert_eq!(reply.status, 400, "{body} -> {}", reply.body);
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("C-7").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    app.purchase(contact_id, "R-0", "10.00", None).await;
    let purchases = "/backoffice/v2/purchases";
    let base = |total: serde_json::Value| json!({"contact": {"id": contact_id}, "reference_number": "R-X", "transaction_amounts": {"total": total}});

    let cases: Vec<(serde_json::Value, u16, &str)> = vec![
        (base(json!(-1)), 400, "transaction_amounts.total"),
        (base(json!("12.00")), 400, ""),
        (base(json!(1.005)), 400, "transaction_amounts.total"),
        (
            json!({"contact": {"id": "6d1b4c3e-0000-4000-8000-000000000001"}, "reference_number": "R-X", "transaction_amounts": {"total": 1}}),
            404,
            "",
        ),
        (
            json!({"contact": {"code": "nobody"}, "reference_number": "R-X", "transaction_amounts": {"total": 1}}),
            404,
            "",
        ),
        (
            json!({"contact": {"id": contact_id}, "transaction_amounts": {"total": 1}}),
            400,
            "reference_number",
        ),
        (
            json!({"contact": {"id": contact_id}, "reference_number": "R-X"}),
            400,
            "transaction_amounts",
        ),
        (
            json!({"contact": {"id": contact_id, "code": "C-7"}, "reference_number": "R-X", "transaction_amounts": {"total": 1}}),
            400,
            "contact",
        ),
        (
            json!({"contact": {"id": contact_id}, "reference_number": "R-X", "currency_code": "USD", "transaction_amounts": {"total": 1}}),
            400,
            "currency_code",
        ),
        (
            json!({"contact": {"id": contact_id}, "reference_number": "R-X", "currency_code": "XYZ", "transaction_amounts": {"total": 1}}),
            400,
            "currency_code",
        ),
        (
            json!({"contact": {"id": contact_id}, "reference_number": "R-X", "transaction_amounts": {"total": 5}, "spend_request": {"amount": 6}}),
            400,
            "spend_request.amount",
        ),
        (
            json!({"contact": {"id": contact_id}, "reference_number": "R-X", "transaction_amounts": {"total": 5, "net": 4, "tax": 2}}),
            400,
            "transaction_amounts",
        ),
        (
            json!({"contact": {"id": contact_id}, "reference_number": "R-X", "transaction_amounts": {"total": 5}, "products": [{"product_sku": "A", "quantity": 0}]}),
            400,
            "products",
        ),
    ];
    for (body, status, parameter) in cases {
        let reply = app.post(purchases, &body).await;
        assert_eq!(reply.status.as_u16(), status, "{body} -> {}", reply.body);
        assert_eq!(
            reply.body["status"].as_u64(),
            Some(u64::from(status)),
            "CRM error body: {}",
            reply.body
        );
        assert!(reply.body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(reply.error_code().starts_with("CRM.EXCEPTIONS."), "{}", reply.body);
        if !parameter.is_empty() {
            assert_eq!(reply.body["parameters"][0], parameter, "{}", reply.body);
        }
    }

    let malformed = app
        .post_raw(
            purchases,
            Some(SECRET_KEY),
            "application/json",
            b"{\"contact\": ".to_vec(),
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert!(malformed.body["message"].as_str().unwrap().contains("invalid JSON"));
    let oversized = vec![b' '; 70_000];
    let too_big = app
        .post_raw(purchases, Some(SECRET_KEY), "application/json", oversized)
        .await;
    assert_eq!(too_big.status, 413);
    assert_eq!(too_big.error_code(), "CRM.EXCEPTIONS.PAYLOADTOOLARGEEXCEPTION");
    let cancel_too_big = app
        .post_raw(
            "/backoffice/v2/purchases/6f1c1a52-6a43-4c1e-9a55-0d7c2f9f0b11/cancel",
            Some(SECRET_KEY),
            "application/json",
            vec![b' '; 70_000],
        )
        .await;
    assert_eq!(cancel_too_big.status, 413, "{}", cancel_too_big.body);
    assert_eq!(cancel_too_big.error_code(), "CRM.EXCEPTIONS.PAYLOADTOOLARGEEXCEPTION");
    let unknown_cancel = app
        .post(
            "/backoffice/v2/purchases/6f1c1a52-6a43-4c1e-9a55-0d7c2f9f0b11/cancel",
            &json!({}),
        )
        .await;
    assert_eq!(unknown_cancel.status, 404);
    assert!(
        unknown_cancel.keeps_alive,
        "a till's connection stays open after a refused cancel that had a body"
    );
    let body = serde_json::to_vec(&base(json!(1))).unwrap();
    let no_key = app.post_raw(purchases, None, "application/json", body.clone()).await;
    assert_eq!(no_key.status, 401);
    let wrong_key = app
        .post_raw(
            purchases,
            Some("sk_wrong_key_000000000000"),
            "application/json",
            body.clone(),
        )
        .await;
    assert_eq!(wrong_key.status, 401);
    let public_key = app
        .post_raw(purchases, Some(PUBLIC_KEY), "application/json", body)
        .await;
    assert_eq!(public_key.status, 403);

    assert_eq!(
        amount(&app.wallet(wallet_id).await["total_balance"]),
        "1.00",
        "nothing changed"
    );
    assert_eq!(app.journal(wallet_id).await.len(), 1);
    let unknown_route = app.get("/backoffice/v2/nothing").await;
    assert_eq!(unknown_route.status, 404);
    let unknown_wallet = app
        .get("/backoffice/v2/wallets/6d1b4c3e-0000-4000-8000-000000000001")
        .await;
    assert_eq!(unknown_wallet.status, 404);
}

#[tokio::test]
async fn creates_with_an_idempotency_key_return_the_first_outcome() {
    let app = spawn_app().await;
    let send = |body: serde_json::Value, key: &'static str| {
        let request = app
            .client
            .post(app.url("/backoffice/v2/contacts"))
            .header("api_key", SECRET_KEY)
            .header("Idempotency-Key", key)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, first) = send(json!({"first_name": "Idem", "code": "ID-1"}), "key-1").await;
    assert_eq!(status, 201);
    let (status, again) = send(json!({"first_name": "Idem", "code": "ID-1"}), "key-1").await;
    assert_eq!(status, 201);
    assert_eq!(first["id"], again["id"]);
    let (status, conflict) = send(json!({"first_name": "Other"}), "key-1").await;
    assert_eq!(status, 409, "{conflict}");
}

#[tokio::test]
async fn journals_page_like_crm_com() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("C-8").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    for n in 1..=5 {
        app.purchase(contact_id, &format!("R-{n}"), &format!("{n}0.00"), None)
            .await;
    }
    let page = app
        .get(&format!(
            "/backoffice/v2/wallets/{wallet_id}/journals?size=2&page=1&include_total=true"
        ))
        .await;
    assert_eq!(page.body["paging"]["total"], 5);
    assert_eq!(page.body["paging"]["has_more"], true);
    assert_eq!(
        amount(&page.body["content"][0]["amount"]),
        "5.00",
        "newest first by default"
    );
    let last = app
        .get(&format!("/backoffice/v2/wallets/{wallet_id}/journals?size=2&page=3"))
        .await;
    assert_eq!(last.body["content"].as_array().unwrap().len(), 1);
    assert_eq!(last.body["paging"]["has_more"], false);
    assert_eq!(last.body["paging"]["total"], serde_json::Value::Null);
    // One event with three lines (two lots spent, one award): pages cut through it and
    // still add up to the whole journal, in both orders.
    app.purchase(contact_id, "R-6", "60.00", Some(("2.50", false))).await;
    for order in ["ASC", "DESC"] {
        let ids = |body: &Value| -> Vec<Value> {
            body["content"]
                .as_array()
                .unwrap()
                .iter()
                .map(|line| line["id"].clone())
                .collect()
        };
        let whole = app
            .get(&format!(
                "/backoffice/v2/wallets/{wallet_id}/journals?order={order}&size=100"
            ))
            .await;
        assert_eq!(whole.body["content"].as_array().unwrap().len(), 8, "{}", whole.body);
        let mut paged = Vec::new();
        for number in 1..=3 {
            let page = app
                .get(&format!(
                    "/backoffice/v2/wallets/{wallet_id}/journals?order={order}&size=3&page={number}"
                ))
                .await;
            paged.extend(ids(&page.body));
        }
        assert_eq!(paged, ids(&whole.body), "{order}");
    }
    let too_big = app
        .get(&format!("/backoffice/v2/wallets/{wallet_id}/journals?size=1000"))
        .await;
    assert_eq!(too_big.status, 400);
    let bad_order = app
        .get(&format!("/backoffice/v2/wallets/{wallet_id}/journals?order=UP"))
        .await;
    assert_eq!(bad_order.status, 400);
}

#[tokio::test]
async fn health_and_the_openapi_document_are_served() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let document: serde_json::Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/health",
        "/openapi.json",
        "/backoffice/v2/contacts",
        "/backoffice/v2/contacts/{id}",
        "/backoffice/v2/reward_offers",
        "/backoffice/v2/reward_offers/{id}",
        "/backoffice/v2/reward_offers/{id}/life_cycle_state",
        "/backoffice/v2/purchases",
        "/backoffice/v2/purchases/{id}",
        "/backoffice/v2/purchases/{id}/cancel",
        "/backoffice/v2/purchases/bulk",
        "/backoffice/v2/wallets/{id}",
        "/backoffice/v2/wallets/{id}/journals",
    ] {
        assert!(paths.contains_key(path), "{path} missing from /openapi.json");
    }
    assert_eq!(document["components"]["schemas"]["Money"]["type"], "number");
    // Every secured operation documents 401; every one with a body 415; the self-service
    // profile is documented with the fields it has.
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let secured = operation["security"].as_array().is_some_and(|list| !list.is_empty());
            if secured {
                assert!(responses.contains_key("401"), "{method} {path} lists no 401");
            }
            if operation.get("requestBody").is_some() {
                assert!(responses.contains_key("415"), "{method} {path} lists no 415");
                assert!(responses.contains_key("400"), "{method} {path} lists no 400");
            }
        }
    }
    let profile = &paths["/self-service/v2/contacts/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"]["$ref"];
    let name = profile.as_str().unwrap().rsplit('/').next().unwrap();
    let properties = document["components"]["schemas"][name]["properties"]
        .as_object()
        .unwrap();
    for field in ["type", "email", "phone", "wallet"] {
        assert!(properties.contains_key(field), "{name} lacks {field}");
    }
    assert!(
        document["paths"].get("/metrics").is_none(),
        "metrics are not on this listener"
    );
}
