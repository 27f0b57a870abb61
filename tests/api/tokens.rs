//! Contact tokens: the app asks for one, the till names the contact with it, the purchase
//! spends what it says once; used, expired, foreign and mismatched tokens change nothing.

use crate::helpers::*;
use futures_util::future::join_all;
use rust_decimal::Decimal;
use serde_json::{json, Value};

async fn new_token(app: &TestApp, token: &str, contact: &str, body: Value) -> Reply {
    with_token(
        app,
        token,
        "POST",
        &format!("/self-service/v2/contacts/{contact}/tokens"),
        Some(&body),
    )
    .await
}

fn till(reference: &str, otp: &str, total: &str) -> Value {
    json!({
        "contact": {"otp": otp},
        "reference_number": reference,
        "transaction_amounts": {"total": serde_json::Number::from_string_unchecked_compat(total)},
    })
}

async fn balance(app: &TestApp, wallet: &str) -> Decimal {
    dec(&app.wallet(wallet).await["total_balance"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_names_the_contact_at_the_till_and_spends_once() {
    let app = spawn_app().await;
    let (contact_id, access) = registered_contact(&app, "tia@example.com", "tia-password-1").await;
    let funding = app
        .create_offer(json!({"name": "Funding", "award": {"type": "FIXED", "value": 50}}))
        .await;
    let funded = app.purchase(&contact_id, "FUND", "1", None).await;
    assert_eq!(funded.status, 201, "{}", funded.body);
    app.set_offer_state(&funding, "INACTIVE").await;
    let wallet = app.get(&format!("/backoffice/v2/contacts/{contact_id}")).await.body["wallet"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(balance(&app, &wallet).await, Decimal::from(50));

    let made = new_token(
        &app,
        &access,
        &contact_id,
        json!({"intent": "SPEND", "spend_amount": 10}),
    )
    .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let code = made.body["token"].as_str().unwrap().to_string();
    let alternative = made.body["alternative_token"].as_str().unwrap().to_string();
    assert_eq!(alternative.len(), 16);
    assert!(alternative.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(made.body["expiration"].as_i64().unwrap(), START_S + 900);
    let listed = with_token(
        &app,
        &access,
        "GET",
        &format!("/self-service/v2/contacts/{contact_id}/tokens"),
        None,
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["content"][0]["token"], code.as_str());

    // The amount must match a spend request the till also sends; nothing changes otherwise.
    let mut mismatched = till("T-0", &code, "30");
    mismatched["spend_request"] = json!({"amount": 11});
    let refused = app.post("/backoffice/v2/purchases", &mismatched).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["parameters"][0], "spend_request.amount");
    assert_eq!(balance(&app, &wallet).await, Decimal::from(50));

    // Twenty tills race with the same token: one purchase spends, the rest are refused.
    let replies = join_all((0..20).map(|n| {
        let (app, code) = (&app, &code);
        async move {
            app.post("/backoffice/v2/purchases", &till(&format!("T-{}", n + 1), code, "30"))
                .await
        }
    }))
    .await;
    let spent: Vec<&Reply> = replies.iter().filter(|reply| reply.status == 201).collect();
    assert_eq!(
        spent.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(spent[0].body["rewards"]["spend"].to_string(), "10.00");
    assert_eq!(spent[0].body["contact"]["id"], contact_id.as_str());
    for reply in replies.iter().filter(|reply| reply.status != 201) {
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.body["parameters"][0], "contact.otp", "{}", reply.body);
    }
    assert_eq!(balance(&app, &wallet).await, Decimal::from(40));
    // The winner's retry is answered as before; the token is gone from the live list.
    let reference = spent[0].body["reference_number"].as_str().unwrap().to_string();
    let retried = app
        .post("/backoffice/v2/purchases", &till(&reference, &code, "30"))
        .await;
    assert_eq!(retried.status, 201, "{}", retried.body);
    assert_eq!(retried.body["id"], spent[0].body["id"]);
    let listed = with_token(
        &app,
        &access,
        "GET",
        &format!("/self-service/v2/contacts/{contact_id}/tokens"),
        None,
    )
    .await;
    assert_eq!(listed.body["content"], json!([]));

    // A token without an amount spends what the wallet holds, up to the total; its
    // alternative serves as well.
    let open = new_token(&app, &access, &contact_id, json!({"intent": "SPEND"})).await;
    let alternative = open.body["alternative_token"].as_str().unwrap();
    let all = app
        .post("/backoffice/v2/purchases", &till("T-ALL", alternative, "25"))
        .await;
    assert_eq!(all.status, 201, "{}", all.body);
    assert_eq!(all.body["rewards"]["spend"].to_string(), "25.00");
    assert_eq!(balance(&app, &wallet).await, Decimal::from(15));

    // Expired, unknown and another tenant's tokens are refused alike.
    let late = new_token(
        &app,
        &access,
        &contact_id,
        json!({"intent": "SPEND", "spend_amount": 1}),
    )
    .await;
    let late = late.body["token"].as_str().unwrap().to_string();
    app.clock.advance(901);
    for (reference, otp) in [("T-LATE", late.as_str()), ("T-NONE", "ZZZZ9999")] {
        let reply = app.post("/backoffice/v2/purchases", &till(reference, otp, "5")).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.body["parameters"][0], "contact.otp");
    }
    assert_eq!(balance(&app, &wallet).await, Decimal::from(15));
}

#[tokio::test]
async fn token_requests_are_checked_and_kept_to_their_contact() {
    let app = spawn_app().await;
    let (contact_id, access) = registered_contact(&app, "uma@example.com", "uma-password-1").await;
    let (other_id, _) = registered_contact(&app, "ugo@example.com", "ugo-password-1").await;
    for (body, field) in [
        (json!({"intent": "GIVE"}), "intent"),
        (json!({"intent": "APPROVE_PURCHASE"}), "purchase.estimate_id"),
        (json!({"intent": "SPEND", "spend_amount": 0}), "spend_amount"),
        (json!({"intent": "SPEND", "spend_amount": -1}), "spend_amount"),
        (json!({"intent": "SPEND", "spend_amount": 0.001}), "spend_amount"),
        (json!({"intent": "SPEND", "community_id": "c"}), "community_id"),
        (json!({"spend_amount": 1}), "intent"),
    ] {
        let reply = new_token(&app, &access, &contact_id, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.body["parameters"][0], field, "{body}: {}", reply.body);
    }
    let foreign = new_token(&app, &access, &other_id, json!({"intent": "SPEND"})).await;
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    let listed = with_token(
        &app,
        &access,
        "GET",
        &format!("/self-service/v2/contacts/{other_id}/tokens"),
        None,
    )
    .await;
    assert_eq!(listed.status, 403, "{}", listed.body);
    // Ten live tokens at most.
    for _ in 0..10 {
        assert_eq!(
            new_token(&app, &access, &contact_id, json!({"intent": "SPEND"}))
                .await
                .status,
            200
        );
    }
    let eleventh = new_token(&app, &access, &contact_id, json!({"intent": "SPEND"})).await;
    assert_eq!(eleventh.status, 409, "{}", eleventh.body);
    // A token of the business's test mode means nothing to its live till.
    let test_key = app
        .post("/backoffice/v2/api_keys", &json!({"type": "SECRET", "mode": "TEST"}))
        .await;
    let test_key = test_key.body["key"].as_str().unwrap().to_string();
    let live = with_token(
        &app,
        &access,
        "GET",
        &format!("/self-service/v2/contacts/{contact_id}/tokens"),
        None,
    )
    .await;
    let code = live.body["content"][0]["token"].as_str().unwrap();
    let reply = app
        .with_key(
            &test_key,
            "POST",
            "/backoffice/v2/purchases",
            Some(&till("X-1", code, "5")),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["parameters"][0], "contact.otp");
}
