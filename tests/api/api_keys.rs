//! API keys: created for an organisation of the network and shown once, listed masked,
//! rolled with an overlap the caller chooses, revoked at once; a merchant's key acts for its
//! business's contacts but reaches only its own part of the network; test keys never meet
//! live data; every refusal changes nothing; all of it survives a restart.

use crate::helpers::*;
use serde_json::{json, Value};

fn id(body: &Value) -> String {
    body["id"].as_str().unwrap().to_string()
}

async fn create_key(app: &TestApp, key: &str, body: Value) -> Reply {
    app.with_key(key, "POST", "/backoffice/v2/api_keys", Some(&body)).await
}

async fn list_keys(app: &TestApp, key: &str, organisation: &str) -> Vec<Value> {
    let reply = app
        .with_key(
            key,
            "GET",
            &format!("/backoffice/v2/api_keys?organisation_id={organisation}&order=ASC&size=100"),
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // A list like every CRM.COM list: {paging, content}.
    assert_eq!(reply.body["paging"]["page"], 1, "{}", reply.body);
    assert_eq!(reply.body["paging"]["has_more"], false, "{}", reply.body);
    reply.body["content"].as_array().unwrap().clone()
}

#[tokio::test]
async fn keys_are_created_listed_masked_rolled_and_revoked() {
    let app = spawn_app().await;
    let merchant = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Merchant A", "type": "MERCHANT"}),
        )
        .await;
    assert_eq!(merchant.status, 201, "{}", merchant.body);
    let merchant_id = id(&merchant.body);
    let business_id = merchant.body["parent"]["id"].as_str().unwrap().to_string();
    let other = app
        .post(
            "/backoffice/v2/organisations",
            &json!({"name": "Merchant B", "type": "MERCHANT"}),
        )
        .await;
    let other_id = id(&other.body);

    // A secret key for the merchant: shown once, in full.
    let created = create_key(
        &app,
        SECRET_KEY,
        json!({"type": "SECRET", "name": "till server", "organisation_id": merchant_id}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let merchant_key = created.body["key"].as_str().unwrap().to_string();
    assert!(merchant_key.starts_with("sk_live_"), "{merchant_key}");
    assert_eq!(created.body["type"], "SECRET");
    assert_eq!(created.body["mode"], "LIVE");
    assert_eq!(created.body["state"], "ACTIVE");
    assert_eq!(created.body["organisation"]["name"], "Merchant A");
    let merchant_key_id = id(&created.body);

    // Listed and read back masked: the key itself never again.
    let listed = list_keys(&app, SECRET_KEY, &merchant_id).await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].get("key").is_none(), "{}", listed[0]);
    let masked = listed[0]["masked_key"].as_str().unwrap();
    assert!(masked.starts_with("sk_live_") && masked.ends_with(&merchant_key[merchant_key.len() - 4..]));
    assert!(!masked.contains(&merchant_key[8..40]));
    let one = app
        .with_key(
            &merchant_key,
            "GET",
            &format!("/backoffice/v2/api_keys/{merchant_key_id}"),
            None,
        )
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert!(one.body.get("key").is_none());

    // The merchant's key acts for the business's contacts and purchases ...
    let contact = app
        .with_key(
            &merchant_key,
            "POST",
            "/backoffice/v2/contacts",
            Some(&json!({"first_name": "Mo", "last_name": "Ray", "code": "MO-1"})),
        )
        .await;
    assert_eq!(contact.status, 201, "{}", contact.body);
    let contact_id = id(&contact.body);
    let seen_by_business = app.get(&format!("/backoffice/v2/contacts/{contact_id}")).await;
    assert_eq!(seen_by_business.status, 200, "{}", seen_by_business.body);
    let purchase = app
        .with_key(
            &merchant_key,
            "POST",
            "/backoffice/v2/purchases",
            Some(&json!({"contact": {"id": contact_id}, "reference_number": "M-1", "transaction_amounts": {"total": 10}})),
        )
        .await;
    assert_eq!(purchase.status, 201, "{}", purchase.body);

    // ... but reaches only its own part of the network.
    for path in [
        format!("/backoffice/v2/organisations/{business_id}"),
        format!("/backoffice/v2/organisations/{other_id}"),
        format!("/backoffice/v2/api_keys?organisation_id={business_id}"),
        format!("/backoffice/v2/api_keys?organisation_id={other_id}"),
    ] {
        let reply = app.with_key(&merchant_key, "GET", &path, None).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
    }
    let business_keys = list_keys(&app, SECRET_KEY, &business_id).await;
    let business_key_id = business_keys
        .iter()
        .find(|key| key["type"] == "SECRET")
        .map(id)
        .unwrap();
    for path in [
        format!("/backoffice/v2/api_keys/{business_key_id}"),
        format!("/backoffice/v2/api_keys/{business_key_id}/revoke"),
    ] {
        let method = if path.ends_with("revoke") { "POST" } else { "GET" };
        let reply = app.with_key(&merchant_key, method, &path, None).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
    }
    let upward = create_key(
        &app,
        &merchant_key,
        json!({"type": "SECRET", "organisation_id": business_id}),
    )
    .await;
    assert_eq!(upward.status, 404, "{}", upward.body);

    // Bad input gets 400 and makes no key.
    for (body, parameter) in [
        (json!({"type": "MASTER"}), "type"),
        (json!({"type": "SECRET", "mode": "STAGING"}), "mode"),
        (json!({"type": "SECRET", "name": "n".repeat(101)}), "name"),
    ] {
        let reply = create_key(&app, SECRET_KEY, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.body["parameters"][0], parameter, "{}", reply.body);
    }
    assert_eq!(list_keys(&app, SECRET_KEY, &business_id).await.len(), 2);

    // A public key reaches no back-office call.
    let public = app.with_key(PUBLIC_KEY, "GET", "/backoffice/v2/api_keys", None).await;
    assert_eq!(public.status, 403, "{}", public.body);

    // Roll: the new key works at once; the old one until the chosen date, then never.
    app.clock.advance(1);
    let roll_path = format!("/backoffice/v2/api_keys/{merchant_key_id}/roll");
    for expiry in [START_S - 1, START_S + 31 * DAY_S] {
        let reply = app
            .with_key(
                SECRET_KEY,
                "POST",
                &roll_path,
                Some(&json!({"expiration_date": expiry})),
            )
            .await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.body["parameters"][0], "expiration_date");
    }
    let rolled = app
        .with_key(
            SECRET_KEY,
            "POST",
            &roll_path,
            Some(&json!({"expiration_date": START_S + 100})),
        )
        .await;
    assert_eq!(rolled.status, 201, "{}", rolled.body);
    let new_key = rolled.body["key"].as_str().unwrap().to_string();
    let new_key_id = id(&rolled.body);
    let again = app
        .with_key(
            SECRET_KEY,
            "POST",
            &roll_path,
            Some(&json!({"expiration_date": START_S + 100})),
        )
        .await;
    assert_eq!(again.status, 400, "a key is rolled once: {}", again.body);
    let merchant_path = format!("/backoffice/v2/organisations/{merchant_id}");
    for key in [&merchant_key, &new_key] {
        assert_eq!(app.with_key(key, "GET", &merchant_path, None).await.status, 200);
    }
    app.clock.advance(100);
    let expired = app.with_key(&merchant_key, "GET", &merchant_path, None).await;
    assert_eq!(expired.status, 401, "{}", expired.body);
    assert!(expired.body["message"].as_str().unwrap().contains("expired"));
    assert_eq!(app.with_key(&new_key, "GET", &merchant_path, None).await.status, 200);
    let listed = list_keys(&app, SECRET_KEY, &merchant_id).await;
    let states: Vec<(&str, &str)> = listed
        .iter()
        .map(|key| (key["state"].as_str().unwrap(), key["rolled_to"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(states, vec![("EXPIRED", new_key_id.as_str()), ("ACTIVE", "")]);

    // Revoke: refused at once, and revoking again changes nothing.
    let revoke_path = format!("/backoffice/v2/api_keys/{new_key_id}/revoke");
    let revoked = app.with_key(SECRET_KEY, "POST", &revoke_path, None).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.body["state"], "REVOKED");
    let refused = app.with_key(&new_key, "GET", &merchant_path, None).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    let twice = app.with_key(SECRET_KEY, "POST", &revoke_path, None).await;
    assert_eq!(twice.body["revoked_date"], revoked.body["revoked_date"]);
    let roll_revoked = app
        .with_key(
            SECRET_KEY,
            "POST",
            &format!("/backoffice/v2/api_keys/{new_key_id}/roll"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(roll_revoked.status, 400, "{}", roll_revoked.body);

    // Everything above is durable.
    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    assert_eq!(app.with_key(&new_key, "GET", &merchant_path, None).await.status, 401);
    assert_eq!(
        app.with_key(&merchant_key, "GET", &merchant_path, None).await.status,
        401
    );
    let listed = list_keys(&app, SECRET_KEY, &merchant_id).await;
    let states: Vec<&str> = listed.iter().map(|key| key["state"].as_str().unwrap()).collect();
    assert_eq!(states, vec!["EXPIRED", "REVOKED"]);
}

#[tokio::test]
async fn test_keys_never_meet_live_data_and_other_businesses_are_unreachable() {
    let app = spawn_app().await;
    let live_contact = app.create_contact("LIVE-1").await;
    let live_contact_id = id(&live_contact);
    let test = create_key(&app, SECRET_KEY, json!({"type": "SECRET", "mode": "TEST"})).await;
    assert_eq!(test.status, 201, "{}", test.body);
    let test_key = test.body["key"].as_str().unwrap().to_string();
    assert!(test_key.starts_with("sk_test_"));

    // Live data is not there for the test key, and test data not for the live key.
    let reply = app
        .with_key(
            &test_key,
            "GET",
            &format!("/backoffice/v2/contacts/{live_contact_id}"),
            None,
        )
        .await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    let test_contact = app
        .with_key(
            &test_key,
            "POST",
            "/backoffice/v2/contacts",
            Some(&json!({"first_name": "Tess", "last_name": "T", "code": "LIVE-1"})),
        )
        .await;
    assert_eq!(
        test_contact.status, 201,
        "the same code is free in test mode: {}",
        test_contact.body
    );
    let test_contact_id = id(&test_contact.body);
    assert_eq!(
        app.get(&format!("/backoffice/v2/contacts/{test_contact_id}"))
            .await
            .status,
        404
    );
    let purchase = app
        .with_key(
            &test_key,
            "POST",
            "/backoffice/v2/purchases",
            Some(&json!({"contact": {"id": live_contact_id}, "reference_number": "T-1", "transaction_amounts": {"total": 5}})),
        )
        .await;
    assert_eq!(purchase.status, 404, "{}", purchase.body);

    // A test key makes test keys only and sees only test keys.
    let live_from_test = create_key(&app, &test_key, json!({"type": "SECRET", "mode": "LIVE"})).await;
    assert_eq!(live_from_test.status, 403, "{}", live_from_test.body);
    let business_id = app
        .engine
        .business_of(app.engine.authenticate_api_key(SECRET_KEY).unwrap().organisation)
        .unwrap();
    let seen = list_keys(&app, &test_key, &business_id.to_string()).await;
    assert!(seen.iter().all(|key| key["mode"] == "TEST"), "{seen:?}");
    assert_eq!(list_keys(&app, SECRET_KEY, &business_id.to_string()).await.len(), 3);

    // A second business with its own key sees nothing of the first.
    let other_key = "sk_live_second_business_key_000001";
    another_business(&app, other_key, "Second business").await;
    for path in [
        format!("/backoffice/v2/contacts/{live_contact_id}"),
        format!("/backoffice/v2/organisations/{business_id}"),
        format!("/backoffice/v2/api_keys?organisation_id={business_id}"),
    ] {
        let reply = app.with_key(other_key, "GET", &path, None).await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
    }
    let same_code = app
        .with_key(
            other_key,
            "POST",
            "/backoffice/v2/contacts",
            Some(&json!({"first_name": "Lee", "last_name": "O", "code": "LIVE-1"})),
        )
        .await;
    assert_eq!(same_code.status, 201, "codes are per business: {}", same_code.body);
}
