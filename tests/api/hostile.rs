//! Hostile input, from the probe of issue 15: amounts past their bound, sums that would
//! overflow, a panic inside a wallet's actor, purchase dates outside their window, paging
//! that wraps, keys that revoke themselves, control characters and other charsets. Each
//! answer is a clear error in CRM.COM's body, and nothing changes.

use crate::helpers::*;
use rewards_engine::actors::failpoints::{self, Failpoint};
use serde_json::{json, Value};

/// A JSON body from text, for numbers `json!` cannot write (past u64, exponents).
fn raw(text: &str) -> Value {
    serde_json::from_str(text).expect("test JSON parses")
}

fn parameters(reply: &Reply) -> Vec<String> {
    reply.body["parameters"]
        .as_array()
        .map(|list| list.iter().filter_map(|p| p.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn amounts_past_their_bound_are_refused_naming_the_field_and_change_nothing() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("HOSTILE-1").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    assert_eq!(app.purchase(contact_id, "OK-1", "10.00", None).await.status, 201);

    let id = contact_id;
    for (body, field) in [
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-1", "transaction_amounts": {{"total": 1e28}}}}"#
            ),
            "transaction_amounts.total",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-2", "transaction_amounts": {{"net": 79228162514264337593543950335, "tax": 1, "total": 10}}}}"#
            ),
            "transaction_amounts.net",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-3", "transaction_amounts": {{"total": 7922816251426433759354395033}}}}"#
            ),
            "transaction_amounts.total",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-4", "transaction_amounts": {{"total": 1000000000000.01}}}}"#
            ),
            "transaction_amounts.total",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-5", "transaction_amounts": {{"total": 10}}, "spend_request": {{"amount": 1e13}}}}"#
            ),
            "spend_request.amount",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-6", "transaction_amounts": {{"total": 10, "discount": 1e15}}}}"#
            ),
            "transaction_amounts.discount",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-7", "transaction_amounts": {{"total": 10}}, "products": [{{"product_sku": "A", "net_amount": 1e20}}]}}"#
            ),
            "products.net_amount",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-8", "transaction_amounts": {{"total": 10}}, "products": [{{"product_sku": "A", "quantity": 1e12}}]}}"#
            ),
            "products",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-12", "transaction_amounts": {{"net": 11, "total": 10}}}}"#
            ),
            "transaction_amounts",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-13", "transaction_amounts": {{"total": 10}}, "products": [{{"product_sku": "A", "product_brand": "\u0007"}}]}}"#
            ),
            "products[0].product_brand",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-14", "transaction_amounts": {{"total": 10}}, "products": [{{"product_sku": "A", "product_family": " "}}]}}"#
            ),
            "products",
        ),
        // Past what a decimal holds, or of the wrong type: the body does not read, and the
        // error still names the field it failed at.
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-9", "transaction_amounts": {{"total": 1e30}}}}"#
            ),
            "transaction_amounts.total",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-10", "transaction_amounts": {{"total": "ten"}}}}"#
            ),
            "transaction_amounts.total",
        ),
        (
            format!(
                r#"{{"contact": {{"id": "{id}"}}, "reference_number": "H-11", "transaction_amounts": {{"total": 10}}, "products": [{{"product_sku": 5}}]}}"#
            ),
            "products[0].product_sku",
        ),
    ] {
        let reply = app.post("/backoffice/v2/purchases", &raw(&body)).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert!(
            parameters(&reply).contains(&field.to_string()),
            "{body}: {}",
            reply.body
        );
        assert!(reply.keeps_alive, "the connection survives");
    }
    // At the bound itself the purchase is an ordinary one.
    let at_bound = app.purchase(contact_id, "OK-2", "1000000000000", None).await;
    assert_eq!(at_bound.status, 201, "{}", at_bound.body);
    assert_eq!(dec(&at_bound.body["rewards"]["award"]), "100000000000".parse().unwrap());
    let balance = app.assert_balance_equals_journal(wallet_id).await;
    assert_eq!(balance, "100000000001.00".parse().unwrap());

    // A fixed award past the bound is refused at the offer.
    let offer = app
        .post(
            "/backoffice/v2/reward_offers",
            &raw(r#"{"name": "Too generous", "award": {"type": "FIXED", "value": 1e13}}"#),
        )
        .await;
    assert_eq!(offer.status, 400, "{}", offer.body);
    assert_eq!(parameters(&offer), ["award.value"]);

    // In a bulk request an overflowing item is refused alone; the others are applied.
    let bulk = app
        .post(
            "/backoffice/v2/purchases/bulk",
            &raw(&format!(
                r#"{{"purchases": [
                {{"contact": {{"id": "{id}"}}, "reference_number": "B-0", "transaction_amounts": {{"total": 20}}}},
                {{"contact": {{"id": "{id}"}}, "reference_number": "B-1", "transaction_amounts": {{"total": 1e28}}}},
                {{"contact": {{"id": "{id}"}}, "reference_number": "B-2", "transaction_amounts": {{"total": 30}}}}]}}"#
            )),
        )
        .await;
    assert_eq!(bulk.status, 200, "{}", bulk.body);
    let statuses: Vec<u64> = bulk.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 400, 201]);
    let balance = app.assert_balance_equals_journal(wallet_id).await;
    assert_eq!(balance, "100000000006.00".parse().unwrap());
}

#[tokio::test]
async fn a_wallet_at_its_balance_bound_refuses_more_awards_and_keeps_working() {
    // In Swiss francs: the process-wide awarded-amount counter of EUR, which another test
    // reads, stays small enough for a float to count it by the cent.
    let app = spawn_app_with(
        temp_dir(),
        rewards_engine::ManualClock::new(START_S),
        &[("REWARDS__ORGANISATION__DEFAULT_CURRENCY", "CHF")],
    )
    .await;
    // Every purchase awards the largest amount a request may bring (10^12, the default
    // amount_max), so a thousand of them fill a wallet to its default bound (10^15).
    app.create_offer(json!({"name": "Jackpot", "award": {"type": "FIXED", "value": 1_000_000_000_000u64}}))
        .await;
    let contact = app.create_contact("HOSTILE-FULL").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    let purchases: Vec<Value> = (0..1000)
        .map(|n| json!({"contact": {"id": contact_id}, "reference_number": format!("FULL-{n}"), "transaction_amounts": {"total": 1}}))
        .collect();
    let bulk = app
        .post("/backoffice/v2/purchases/bulk", &json!({ "purchases": purchases }))
        .await;
    assert_eq!(bulk.status, 200, "{}", bulk.body);
    assert!(bulk.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|result| result["status"] == 201));
    let full = app.wallet(wallet_id).await;
    assert_eq!(dec(&full["total_balance"]), "1000000000000000".parse().unwrap());

    // The next award would pass the bound: refused with a stable code, nothing changes.
    let refused = app.purchase(contact_id, "FULL-1000", "1", None).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.error_code(), "CRM.EXCEPTIONS.WALLETBALANCELIMITEXCEPTION");
    assert_eq!(app.wallet(wallet_id).await["total_balance"], full["total_balance"]);
    // The wallet keeps working: a spend that makes room is posted with its award, and a
    // cancel reverses exactly.
    let spend = app
        .purchase(contact_id, "FULL-SPEND", "1000000000000", Some(("1000000000000", true)))
        .await;
    assert_eq!(spend.status, 201, "{}", spend.body);
    let retried = app.purchase(contact_id, "FULL-1000", "1", None).await;
    assert_eq!(retried.status, 409, "still full: {}", retried.body);
    let cancel = app
        .post(
            &format!("/backoffice/v2/purchases/{}/cancel", spend.body["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    let balance = app.assert_balance_equals_journal(wallet_id).await;
    assert_eq!(balance, "1000000000000000".parse().unwrap());
}

#[tokio::test]
async fn a_panic_inside_a_wallet_actor_fails_the_command_and_the_wallet_works_after() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("HOSTILE-PANIC").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    assert_eq!(app.purchase(contact_id, "P-1", "10.00", None).await.status, 201);

    let wallet = rewards_engine::domain::ids::WalletId::parse(wallet_id).unwrap();
    failpoints::arm(Failpoint::InWalletPurchase, wallet.0);
    let failed = app.purchase(contact_id, "P-2", "50.00", None).await;
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert_eq!(failed.error_code(), "CRM.EXCEPTIONS.INTERNALSERVERERROREXCEPTION");
    assert!(failed.keeps_alive);
    // Nothing of it was kept: the award it made in memory is gone.
    assert_eq!(
        dec(&app.wallet(wallet_id).await["total_balance"]),
        "1.00".parse().unwrap()
    );
    // The next command works, and the failed one can be sent again.
    assert_eq!(app.purchase(contact_id, "P-3", "20.00", None).await.status, 201);
    let again = app.purchase(contact_id, "P-2", "50.00", None).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(
        app.assert_balance_equals_journal(wallet_id).await,
        "8.00".parse().unwrap()
    );

    // And after a restart the wallet is what was acknowledged.
    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    assert_eq!(
        app.assert_balance_equals_journal(wallet_id).await,
        "8.00".parse().unwrap()
    );
}

#[tokio::test]
async fn purchase_dates_must_fall_in_their_window_and_offers_are_matched_on_them() {
    let app = spawn_app().await;
    let year = 365 * DAY_S;
    app.create_offer(
        json!({"name": "Last year", "availability": {"from": START_S - year - 10 * DAY_S, "to": START_S - year},
        "award": {"type": "FIXED", "value": 5}}),
    )
    .await;
    app.create_offer(
        json!({"name": "Next year", "availability": {"from": START_S + year, "to": START_S + year + 10 * DAY_S},
        "award": {"type": "FIXED", "value": 7}}),
    )
    .await;
    app.create_offer(
        json!({"name": "This week", "availability": {"from": START_S - 3 * DAY_S, "to": START_S + 3 * DAY_S},
        "award": {"type": "FIXED", "value": 1}}),
    )
    .await;
    let contact = app.create_contact("HOSTILE-DATE").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    let dated = |reference: &str, date: Value| {
        json!({"contact": {"id": contact_id}, "reference_number": reference,
            "transaction_amounts": {"total": 10}, "date": date})
    };
    for (reference, date) in [
        ("D-1", json!(START_S - year - 5 * DAY_S)),
        ("D-2", json!(START_S + year + 5 * DAY_S)),
        ("D-3", json!(0)),
        ("D-4", json!(i64::MAX)),
        ("D-5", json!(START_S - 31 * DAY_S)),
        ("D-6", json!(START_S + 301)),
    ] {
        let reply = app.post("/backoffice/v2/purchases", &dated(reference, date)).await;
        assert_eq!(reply.status, 400, "{reference}: {}", reply.body);
        assert_eq!(parameters(&reply), ["date"], "{reference}");
    }
    assert_eq!(app.assert_balance_equals_journal(wallet_id).await, "0".parse().unwrap());
    // Inside the window: a purchase made two days ago gets this week's offer.
    let back_dated = app
        .post("/backoffice/v2/purchases", &dated("D-7", json!(START_S - 2 * DAY_S)))
        .await;
    assert_eq!(back_dated.status, 201, "{}", back_dated.body);
    assert_eq!(back_dated.body["date"], START_S - 2 * DAY_S);
    assert_eq!(dec(&back_dated.body["rewards"]["award"]), "1".parse().unwrap());
    // A till whose clock runs a little ahead is accepted, matched as of now.
    let ahead = app
        .post("/backoffice/v2/purchases", &dated("D-8", json!(START_S + 299)))
        .await;
    assert_eq!(ahead.status, 201, "{}", ahead.body);
    assert_eq!(dec(&ahead.body["rewards"]["award"]), "1".parse().unwrap());
}

#[tokio::test]
async fn pages_must_be_sized_and_numbered_within_bounds() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("HOSTILE-PAGE").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    for n in 0..3 {
        assert_eq!(
            app.purchase(contact_id, &format!("PG-{n}"), "10", None).await.status,
            201
        );
    }
    let journals = format!("/backoffice/v2/wallets/{wallet_id}/journals");
    for (query, parameter) in [
        ("size=0", "size"),
        ("size=101", "size"),
        ("page=0", "page"),
        ("page=9223372036854775809&size=2", "page"),
        ("page=18446744073709551616", ""),
        ("size=-1", ""),
        ("order=SIDEWAYS", "order"),
    ] {
        let reply = app.get(&format!("{journals}?{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
        if !parameter.is_empty() {
            assert_eq!(parameters(&reply), [parameter], "{query}");
        }
    }
    let last = app.get(&format!("{journals}?size=2&page=2")).await;
    assert_eq!(last.status, 200);
    assert_eq!(last.body["content"].as_array().unwrap().len(), 1);
    assert_eq!(last.body["paging"]["has_more"], false);
    let beyond = app.get(&format!("{journals}?size=2&page=4611686018427387903")).await;
    assert_eq!(beyond.status, 200, "{}", beyond.body);
    assert_eq!(beyond.body["content"].as_array().unwrap().len(), 0);
    assert_eq!(beyond.body["paging"]["has_more"], false);

    // The same rules on a contact's list of organisations.
    let registered = app
        .with_key(
            PUBLIC_KEY,
            "POST",
            "/self-service/v2/contacts/register",
            Some(&json!({"first_name": "Page", "last_name": "Er", "identification": {"provider": "EMAIL", "email": "pager@example.com", "password": "a long enough password"}})),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let token = registered.body["access_token"].as_str().unwrap().to_string();
    let me = registered.body["contact"]["id"].as_str().unwrap().to_string();
    let list = |query: &str| {
        let path = format!("/self-service/v2/contacts/{me}/organisations?{query}");
        let bearer = format!("Bearer {token}");
        let app = &app;
        async move {
            app.call(
                "GET",
                &path,
                &[("authorization", &bearer), ("api_key", PUBLIC_KEY)],
                None,
            )
            .await
        }
    };
    let wrapped = list("page=9223372036854775809&size=2").await;
    assert_eq!(wrapped.status, 400, "{}", wrapped.body);
    assert_eq!(parameters(&wrapped), ["page"]);
    assert_eq!(list("size=0").await.status, 400);
    let first = list("page=1&size=2").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["content"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_business_last_active_secret_key_cannot_revoke_itself() {
    let app = spawn_app().await;
    let keys = app.get("/backoffice/v2/api_keys").await;
    assert_eq!(keys.status, 200, "{}", keys.body);
    let own = keys.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["type"] == "SECRET" && key["mode"] == "LIVE")
        .expect("the bootstrap secret key")
        .clone();
    let revoke = format!("/backoffice/v2/api_keys/{}/revoke", own["id"].as_str().unwrap());
    let refused = app.post(&revoke, &json!({})).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body["message"]
        .as_str()
        .unwrap()
        .contains("create another secret key first"));
    assert_eq!(app.get("/backoffice/v2/api_keys").await.status, 200, "still works");
    // With another active secret key, it may go.
    let another = app
        .post("/backoffice/v2/api_keys", &json!({"type": "SECRET", "mode": "LIVE"}))
        .await;
    assert_eq!(another.status, 201, "{}", another.body);
    let revoked = app.post(&revoke, &json!({})).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let new_key = another.body["key"].as_str().unwrap();
    let listed = app.with_key(new_key, "GET", "/backoffice/v2/api_keys", None).await;
    assert_eq!(listed.status, 200);
}

#[tokio::test]
async fn control_characters_and_other_charsets_are_refused_in_every_body() {
    let app = spawn_app().await;
    for (path, body, field) in [
        (
            "/backoffice/v2/contacts",
            json!({"first_name": "Ann\u{0}", "last_name": "Lee"}),
            "first_name",
        ),
        (
            "/backoffice/v2/contacts",
            json!({"first_name": "Ann", "last_name": "\u{1b}[2J\u{1b}[H"}),
            "last_name",
        ),
        (
            "/backoffice/v2/reward_offers",
            json!({"name": "Tab\there", "award": {"type": "FIXED", "value": 1}}),
            "name",
        ),
        (
            "/backoffice/v2/organisations",
            json!({"name": "Kiosk\u{85}", "type": "MERCHANT"}),
            "name",
        ),
        (
            "/backoffice/v2/purchases",
            json!({"contact": {"code": "X\u{7f}"}, "reference_number": "R", "transaction_amounts": {"total": 1}}),
            "contact.code",
        ),
    ] {
        let reply = app.post(path, &body).await;
        assert_eq!(reply.status, 400, "{path} {body}: {}", reply.body);
        assert_eq!(parameters(&reply), [field], "{path}");
    }
    let self_service = app
        .with_key(
            PUBLIC_KEY,
            "POST",
            "/self-service/v2/contacts/register",
            Some(&json!({"first_name": "Eve\r\nBcc: all@example.com", "last_name": "Vil", "identification": {"provider": "EMAIL", "email": "eve@example.com", "password": "a long enough password"}})),
        )
        .await;
    assert_eq!(self_service.status, 400, "{}", self_service.body);
    assert_eq!(parameters(&self_service), ["first_name"]);
    // Nothing was made.
    let made = app
        .with_key(
            PUBLIC_KEY,
            "POST",
            "/self-service/v2/contacts/register",
            Some(&json!({"first_name": "Eve", "last_name": "Vil", "identification": {"provider": "EMAIL", "email": "eve@example.com", "password": "a long enough password"}})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);

    // A body declared in another charset is not read as UTF-8 by luck.
    let body = br#"{"first_name": "Ann", "last_name": "Lee"}"#.to_vec();
    for content_type in [
        "application/json; charset=utf-16",
        "application/json; charset=iso-8859-1",
        "text/plain",
    ] {
        let reply = app
            .post_raw("/backoffice/v2/contacts", Some(SECRET_KEY), content_type, body.clone())
            .await;
        assert_eq!(reply.status, 415, "{content_type}: {}", reply.body);
        assert_eq!(reply.error_code(), "CRM.EXCEPTIONS.UNSUPPORTEDMEDIATYPEEXCEPTION");
    }
    for content_type in ["application/json; charset=UTF-8", "application/json"] {
        let reply = app
            .post_raw("/backoffice/v2/contacts", Some(SECRET_KEY), content_type, body.clone())
            .await;
        assert_eq!(reply.status, 201, "{content_type}: {}", reply.body);
    }
    // Escaped text that is not a control character is fine.
    let quoted = app
        .post(
            "/backoffice/v2/contacts",
            &raw(r#"{"first_name": "O\u0027Brien \\n \"Ann\"", "last_name": "Lee\u00e9"}"#),
        )
        .await;
    assert_eq!(quoted.status, 201, "{}", quoted.body);
    assert_eq!(quoted.body["first_name"], "O'Brien \\n \"Ann\"");
}

#[tokio::test]
async fn a_panic_in_a_request_handler_is_answered_with_500_and_the_server_goes_on() {
    let app = spawn_app().await;
    app.percentage_offer(10, None).await;
    let contact = app.create_contact("HOSTILE-HANDLER").await;
    let contact_id = contact["id"].as_str().unwrap();
    let wallet_id = contact["wallet"]["id"].as_str().unwrap();
    let wallet = rewards_engine::domain::ids::WalletId::parse(wallet_id).unwrap();
    failpoints::arm(Failpoint::BeforeWalletPurchase, wallet.0);
    let failed = app.purchase(contact_id, "HP-1", "10.00", None).await;
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert_eq!(failed.error_code(), "CRM.EXCEPTIONS.INTERNALSERVERERROREXCEPTION");
    let again = app.purchase(contact_id, "HP-1", "10.00", None).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(
        app.assert_balance_equals_journal(wallet_id).await,
        "1.00".parse().unwrap()
    );
}

#[tokio::test]
async fn a_panic_inside_a_contact_actor_fails_the_change_and_the_contact_works_after() {
    let app = spawn_app().await;
    let registered = app
        .with_key(
            PUBLIC_KEY,
            "POST",
            "/self-service/v2/contacts/register",
            Some(&json!({"first_name": "Pat", "last_name": "Nic", "identification": {"provider": "EMAIL", "email": "pat@example.com", "password": "a long enough password"}})),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let id = registered.body["contact"]["id"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {}", registered.body["access_token"].as_str().unwrap());
    let profile = format!("/self-service/v2/contacts/{id}");
    let headers = [("authorization", bearer.as_str())];
    failpoints::arm(Failpoint::InContactChange, uuid::Uuid::parse_str(&id).unwrap());
    let failed = app
        .call("PUT", &profile, &headers, Some(&json!({"last_name": "Half"})))
        .await;
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert_eq!(failed.error_code(), "CRM.EXCEPTIONS.INTERNALSERVERERROREXCEPTION");
    // The change that was in memory when it panicked is gone (the next change, of another
    // field, does not carry it along); the next one works.
    let read = app.call("GET", &profile, &headers, None).await;
    assert_eq!(read.body["last_name"], "Nic", "{}", read.body);
    let changed = app
        .call("PUT", &profile, &headers, Some(&json!({"first_name": "Whole"})))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let read = app.call("GET", &profile, &headers, None).await;
    assert_eq!(read.body["first_name"], "Whole");
    assert_eq!(read.body["last_name"], "Nic", "{}", read.body);
}
