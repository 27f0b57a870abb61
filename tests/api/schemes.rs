//! Reward schemes: made, listed, read and changed in the back office; contacts see each
//! with whether they belong, sign up to SELF_SIGN_UP schemes and out of (and back into)
//! AUTO_SIGN_UP ones, durably; bad input refused naming the field.

use crate::helpers::*;
use serde_json::json;

/// (name, is_signed) of each scheme the contact sees, sorted.
async fn seen(app: &TestApp, token: &str, query: &str) -> Vec<(String, bool)> {
    let reply = with_token(
        app,
        token,
        "GET",
        &format!("/self-service/v2/reward_schemes{query}"),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut seen: Vec<(String, bool)> = reply.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|scheme| {
            (
                scheme["name"].as_str().unwrap().to_string(),
                scheme["is_signed"].as_bool().unwrap(),
            )
        })
        .collect();
    seen.sort();
    seen
}

fn pair(name: &str, signed: bool) -> (String, bool) {
    (name.to_string(), signed)
}

#[tokio::test]
async fn the_back_office_makes_and_changes_schemes_and_refuses_bad_ones_by_name() {
    let app = spawn_app().await;
    let made = app
        .post(
            "/backoffice/v2/reward_schemes",
            &json!({"name": " Coffee Club ", "terms_and_conditions": "Be nice", "sign_up_option": "SELF_SIGN_UP"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["name"], "Coffee Club");
    assert_eq!(made.body["sign_up_option"], "SELF_SIGN_UP");
    let id = made.body["id"].as_str().unwrap().to_string();
    // A second later, so the two are ordered by when they were made.
    app.clock.advance(1);
    let auto = app
        .post(
            "/backoffice/v2/reward_schemes",
            &json!({"name": "Everyone", "sign_up_option": "AUTO_SIGN_UP"}),
        )
        .await;
    assert_eq!(auto.status, 201, "{}", auto.body);

    for (body, parameter) in [
        (
            json!({"name": "Closed", "sign_up_option": "CLOSE_LOOP_SIGN_UP"}),
            "sign_up_method",
        ),
        (
            json!({"name": "Closed", "sign_up_option": "CLOSE_LOOP_SIGN_UP", "sign_up_method": "EMAIL_DOMAIN"}),
            "email_domains",
        ),
        (
            json!({"name": "Closed", "sign_up_option": "CLOSE_LOOP_SIGN_UP", "sign_up_method": "EMAIL_DOMAIN", "email_domains": ["not a domain"]}),
            "email_domains",
        ),
        (
            json!({"name": "Closed", "sign_up_option": "CLOSE_LOOP_SIGN_UP", "sign_up_method": "CODE", "email_domains": ["crm.com"]}),
            "email_domains",
        ),
        (
            json!({"name": "Closed", "sign_up_option": "CLOSE_LOOP_SIGN_UP", "sign_up_method": "GUESS"}),
            "sign_up_method",
        ),
        (
            json!({"name": "Open", "sign_up_option": "SELF_SIGN_UP", "sign_up_method": "CODE"}),
            "sign_up_method",
        ),
        (json!({"name": "Odd", "sign_up_option": "SOMETIMES"}), "sign_up_option"),
        (json!({"name": " ", "sign_up_option": "SELF_SIGN_UP"}), "name"),
        (
            json!({"name": "x".repeat(201), "sign_up_option": "SELF_SIGN_UP"}),
            "name",
        ),
        (json!({"name": "Bell\u{7}", "sign_up_option": "SELF_SIGN_UP"}), "name"),
        (json!({"name": "Typed", "sign_up_option": 3}), "sign_up_option"),
        (json!({"name": ["a"], "sign_up_option": "SELF_SIGN_UP"}), "name"),
    ] {
        let reply = app.post("/backoffice/v2/reward_schemes", &body).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.body["parameters"][0], parameter, "{body}: {}", reply.body);
    }

    let listed = app
        .get("/backoffice/v2/reward_schemes?order=ASC&include_total=true")
        .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(
        listed.body["paging"]["total"], 2,
        "only the two good ones: {}",
        listed.body
    );
    assert_eq!(listed.body["content"][0]["id"], id.as_str());
    let first = app.get("/backoffice/v2/reward_schemes?size=1").await;
    assert_eq!(first.body["paging"]["has_more"], true, "{}", first.body);
    assert_eq!(first.body["content"][0]["name"], "Everyone", "newest first by default");

    let path = format!("/backoffice/v2/reward_schemes/{id}");
    let changed = app
        .put(&path, &json!({"name": "Coffee Club Gold", "terms_and_conditions": ""}))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["name"], "Coffee Club Gold");
    assert!(
        changed.body.get("terms_and_conditions").is_none(),
        "cleared: {}",
        changed.body
    );
    let refused = app.put(&path, &json!({"sign_up_option": "AUTO_SIGN_UP"})).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["parameters"][0], "sign_up_option");
    let read = app.get(&path).await;
    assert_eq!(read.body["name"], "Coffee Club Gold");
    assert_eq!(
        read.body["sign_up_option"], "SELF_SIGN_UP",
        "the refused change changed nothing"
    );
    let unknown = app
        .get(&format!("/backoffice/v2/reward_schemes/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    // A test-mode key sees none of the live schemes.
    let test_key = app
        .post("/backoffice/v2/api_keys", &json!({"type": "SECRET", "mode": "TEST"}))
        .await;
    let test_key = test_key.body["key"].as_str().unwrap().to_string();
    let reply = app.with_key(&test_key, "GET", &path, None).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
}

#[tokio::test]
async fn contacts_sign_up_to_and_out_of_schemes_and_it_lasts() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (name, option) in [("Club", "SELF_SIGN_UP"), ("Everyone", "AUTO_SIGN_UP")] {
        let made = app
            .post(
                "/backoffice/v2/reward_schemes",
                &json!({"name": name, "sign_up_option": option}),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        ids.push(made.body["id"].as_str().unwrap().to_string());
    }
    let (club, everyone) = (ids[0].clone(), ids[1].clone());
    let (id, token) = registered_contact(&app, "sam@example.com", "sam-password-1").await;
    let (other_id, other_token) = registered_contact(&app, "sue@example.com", "sam-password-1").await;
    assert_eq!(
        seen(&app, &token, "").await,
        [pair("Club", false), pair("Everyone", true)]
    );
    assert_eq!(seen(&app, &token, "?is_signed=true").await, [pair("Everyone", true)]);
    assert_eq!(seen(&app, &token, "?name=clu").await, [pair("Club", false)]);

    let path = format!("/self-service/v2/contacts/{id}/reward_schemes");
    let act = |action: &str, scheme: &str| json!({"action": action, "reward_scheme_id": scheme});
    for body in [act("SIGN_UP", &club), act("SIGN_UP", &club), act("SIGN_OUT", &everyone)] {
        let reply = with_token(&app, &token, "POST", &path, Some(&body)).await;
        assert_eq!(reply.status, 201, "{body}: {}", reply.body);
        assert_eq!(reply.body["id"], body["reward_scheme_id"]);
    }
    assert_eq!(
        seen(&app, &token, "").await,
        [pair("Club", true), pair("Everyone", false)]
    );
    // The other contact is untouched.
    assert_eq!(
        seen(&app, &other_token, "").await,
        [pair("Club", false), pair("Everyone", true)]
    );

    // Refused, and nothing changes.
    let other_path = format!("/self-service/v2/contacts/{other_id}/reward_schemes");
    let reply = with_token(&app, &token, "POST", &other_path, Some(&act("SIGN_UP", &club))).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    let reply = with_token(&app, &token, "POST", &path, Some(&act("JOIN", &club))).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["parameters"][0], "action");
    let unknown = uuid::Uuid::new_v4().to_string();
    let reply = with_token(&app, &token, "POST", &path, Some(&act("SIGN_UP", &unknown))).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    // A scheme of another tenant (the business's test mode) is not found either.
    let test_key = app
        .post("/backoffice/v2/api_keys", &json!({"type": "SECRET", "mode": "TEST"}))
        .await;
    let test_key = test_key.body["key"].as_str().unwrap().to_string();
    let foreign = app
        .with_key(
            &test_key,
            "POST",
            "/backoffice/v2/reward_schemes",
            Some(&json!({"name": "Test club", "sign_up_option": "SELF_SIGN_UP"})),
        )
        .await;
    assert_eq!(foreign.status, 201, "{}", foreign.body);
    let foreign = foreign.body["id"].as_str().unwrap().to_string();
    let reply = with_token(&app, &token, "POST", &path, Some(&act("SIGN_UP", &foreign))).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    let reply = app
        .with_key(SECRET_KEY, "GET", "/self-service/v2/reward_schemes", None)
        .await;
    assert_eq!(reply.status, 401, "a contact's token is needed: {}", reply.body);

    // Durable, and back into the automatic scheme.
    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    let again = contact_sign_in(&app, PUBLIC_KEY, "sam@example.com", "sam-password-1").await;
    let token = again.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        seen(&app, &token, "").await,
        [pair("Club", true), pair("Everyone", false)]
    );
    let reply = with_token(&app, &token, "POST", &path, Some(&act("SIGN_UP", &everyone))).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(
        seen(&app, &token, "").await,
        [pair("Club", true), pair("Everyone", true)]
    );

    // The contact's reward details name both, with when it joined.
    let rewards = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/contacts/{id}/rewards"),
        None,
    )
    .await;
    assert_eq!(rewards.status, 200, "{}", rewards.body);
    let mut names: Vec<&str> = rewards.body["reward_schemes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|scheme| scheme["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Club", "Everyone"]);
    assert!(rewards.body["sign_up_date"].as_i64().is_some(), "{}", rewards.body);
    let theirs = with_token(
        &app,
        &token,
        "GET",
        &format!("/self-service/v2/contacts/{other_id}/rewards"),
        None,
    )
    .await;
    assert_eq!(theirs.status, 403, "{}", theirs.body);
}
