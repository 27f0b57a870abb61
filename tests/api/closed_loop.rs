//! Closed-loop reward schemes: contacts get in with one-time codes, issued by the business
//! (CODE) or mailed to an address of the scheme's domains (EMAIL_DOMAIN) and verified by
//! link or by sign-up; a code lets one contact in once, however many race for it.

use crate::helpers::*;
use crate::receiver::Receiver;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn scheme(app: &TestApp, body: Value) -> String {
    let made = app.post("/backoffice/v2/reward_schemes", &body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.body["id"].as_str().unwrap().to_string()
}

async fn sign_up(app: &TestApp, token: &str, contact: &str, body: Value) -> Reply {
    with_token(
        app,
        token,
        "POST",
        &format!("/self-service/v2/contacts/{contact}/reward_schemes"),
        Some(&body),
    )
    .await
}

async fn signed(app: &TestApp, token: &str, scheme: &str) -> bool {
    let reply = with_token(app, token, "GET", "/self-service/v2/reward_schemes", None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|seen| seen["id"] == scheme)
        .map(|seen| seen["is_signed"].as_bool().unwrap())
        .expect("the scheme is listed")
}

/// The sign-up code in the last scheme message delivered to `to` (waits up to 10 s).
async fn mailed_code(receiver: &Receiver, to: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let delivered = receiver.delivered();
        let found = delivered
            .iter()
            .rev()
            .find(|message| message["to"] == to && message["kind"] == "SCHEME_SIGN_UP");
        if let Some(message) = found {
            let line = message["body"].as_str().unwrap().lines().next().unwrap();
            return line.rsplit(' ').next().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "no sign-up code reached {to}: {delivered:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn issued_codes_let_one_contact_in_each_once() {
    let app = spawn_app().await;
    let club = scheme(
        &app,
        json!({"name": "Staff", "sign_up_option": "CLOSE_LOOP_SIGN_UP", "sign_up_method": "CODE"}),
    )
    .await;
    let other = scheme(
        &app,
        json!({"name": "Other", "sign_up_option": "CLOSE_LOOP_SIGN_UP", "sign_up_method": "CODE"}),
    )
    .await;
    let issued = app
        .post(
            &format!("/backoffice/v2/reward_schemes/{club}/sign_up_codes"),
            &json!({"count": 3}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let codes: Vec<String> = issued.body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 3);
    let other_codes = app
        .post(
            &format!("/backoffice/v2/reward_schemes/{other}/sign_up_codes"),
            &json!({"count": 1}),
        )
        .await;
    let other_code = other_codes.body["codes"][0].as_str().unwrap().to_string();
    for (body, status) in [
        (json!({"count": 0}), 400),
        (json!({"count": 1001}), 400),
        (json!({"count": -1}), 400),
    ] {
        let reply = app
            .post(&format!("/backoffice/v2/reward_schemes/{club}/sign_up_codes"), &body)
            .await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
    }
    let open = scheme(&app, json!({"name": "Open", "sign_up_option": "SELF_SIGN_UP"})).await;
    let not_closed = app
        .post(
            &format!("/backoffice/v2/reward_schemes/{open}/sign_up_codes"),
            &json!({"count": 1}),
        )
        .await;
    assert_eq!(not_closed.status, 409, "{}", not_closed.body);

    let (ann, ann_token) = registered_contact(&app, "ann@example.com", "ann-password-1").await;
    let (bob, bob_token) = registered_contact(&app, "bob@example.com", "bob-password-1").await;
    // No code, a wrong one, another scheme's: refused, naming sign_up_code; not a member.
    for body in [
        json!({"action": "SIGN_UP", "reward_scheme_id": club}),
        json!({"action": "SIGN_UP", "reward_scheme_id": club, "sign_up_code": "NOPE-NOPE"}),
        json!({"action": "SIGN_UP", "reward_scheme_id": club, "sign_up_code": other_code}),
        json!({"action": "SIGN_UP", "reward_scheme_id": club, "sign_up_code": "x".repeat(65)}),
    ] {
        let reply = sign_up(&app, &ann_token, &ann, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.body["parameters"][0], "sign_up_code", "{}", reply.body);
    }
    assert!(!signed(&app, &ann_token, &club).await);
    // A code as a person types it (lower case, a dash) lets Ann in.
    let typed = format!("{}-{}", &codes[0][..5].to_lowercase(), &codes[0][5..]);
    let joined = sign_up(
        &app,
        &ann_token,
        &ann,
        json!({"action": "SIGN_UP", "reward_scheme_id": club, "sign_up_code": typed}),
    )
    .await;
    assert_eq!(joined.status, 201, "{}", joined.body);
    assert!(signed(&app, &ann_token, &club).await);
    // The same code again: used, for Bob too.
    let reused = sign_up(
        &app,
        &bob_token,
        &bob,
        json!({"action": "SIGN_UP", "reward_scheme_id": club, "sign_up_code": codes[0]}),
    )
    .await;
    assert_eq!(reused.status, 400, "{}", reused.body);
    assert!(
        reused.body["message"].as_str().unwrap().contains("used"),
        "{}",
        reused.body
    );
    // Bob gets in through the verification path with the second code.
    let verified = with_token(
        &app,
        &bob_token,
        "GET",
        &format!("/self-service/v2/contacts/reward_schemes/verification/{}", codes[1]),
        None,
    )
    .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(verified.body["id"], club);
    assert!(signed(&app, &bob_token, &club).await);
    // Ann leaves; coming back takes a new code.
    let left = sign_up(
        &app,
        &ann_token,
        &ann,
        json!({"action": "SIGN_OUT", "reward_scheme_id": club}),
    )
    .await;
    assert_eq!(left.status, 201, "{}", left.body);
    assert!(!signed(&app, &ann_token, &club).await);
    let back = sign_up(
        &app,
        &ann_token,
        &ann,
        json!({"action": "SIGN_UP", "reward_scheme_id": club, "sign_up_code": codes[0]}),
    )
    .await;
    assert_eq!(back.status, 400, "{}", back.body);

    // Twenty contacts race with the last code: exactly one gets in.
    let mut racers = Vec::new();
    for n in 0..20 {
        racers.push(registered_contact(&app, &format!("racer{n}@example.com"), "racer-password-1").await);
    }
    let attempts = racers.iter().map(|(id, token)| {
        let body = json!({"action": "SIGN_UP", "reward_scheme_id": club, "sign_up_code": codes[2]});
        let app = &app;
        async move { sign_up(app, token, id, body).await.status.as_u16() }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|status| **status == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|status| [201u16, 400, 409].contains(status)),
        "{statuses:?}"
    );
    let mut members = 0;
    for (_, token) in &racers {
        members += usize::from(signed(&app, token, &club).await);
    }
    assert_eq!(members, 1);
}

#[tokio::test]
async fn email_domain_schemes_mail_a_code_to_the_contacts_own_address() {
    let receiver = Receiver::start();
    let app = crate::otp::spawn_with(&receiver, &[]).await;
    let club = scheme(
        &app,
        json!({"name": "Partners", "sign_up_option": "CLOSE_LOOP_SIGN_UP", "sign_up_method": "EMAIL_DOMAIN", "email_domains": ["Partner.example"]}),
    )
    .await;
    let (cat, cat_token) = registered_contact(&app, "cat@example.com", "cat-password-1").await;
    let (_dan, dan_token) = registered_contact(&app, "dan@example.com", "dan-password-1").await;
    let listed = with_token(&app, &cat_token, "GET", "/self-service/v2/reward_schemes", None).await;
    let seen = listed.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|seen| seen["id"] == club.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (seen["sign_up_method"].clone(), seen["email_domains"].clone()),
        (json!("EMAIL_DOMAIN"), json!(["partner.example"]))
    );
    // An address outside the domains (or dressed up as one) is refused; nothing is mailed.
    for email in [
        "cat@example.com",
        "cat@partner.example.evil.com",
        "partner.example",
        "cat@sub.partner.example",
    ] {
        let reply = sign_up(
            &app,
            &cat_token,
            &cat,
            json!({"action": "SIGN_UP", "reward_scheme_id": club, "email_address": email}),
        )
        .await;
        assert_eq!(reply.status, 400, "{email}: {}", reply.body);
        assert_eq!(reply.body["parameters"][0], "email_address");
    }
    outbox_drained(&app).await;
    assert!(receiver
        .delivered()
        .iter()
        .all(|message| message["kind"] != "SCHEME_SIGN_UP"));
    let asked = sign_up(
        &app,
        &cat_token,
        &cat,
        json!({"action": "SIGN_UP", "reward_scheme_id": club, "email_address": "Cat@Partner.example"}),
    )
    .await;
    assert_eq!(asked.status, 204, "{}", asked.body);
    assert!(!signed(&app, &cat_token, &club).await, "not before the code comes back");
    let code = mailed_code(&receiver, "cat@partner.example").await;
    // The code is Cat's: Dan cannot use it.
    let path = format!("/self-service/v2/contacts/reward_schemes/verification/{code}");
    let stolen = with_token(&app, &dan_token, "GET", &path, None).await;
    assert_eq!(stolen.status, 400, "{}", stolen.body);
    assert!(!signed(&app, &dan_token, &club).await);
    let verified = with_token(&app, &cat_token, "GET", &path, None).await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert!(signed(&app, &cat_token, &club).await);
    let again = with_token(&app, &cat_token, "GET", &path, None).await;
    assert_eq!(again.status, 400, "once: {}", again.body);
    // A second request's code expires a day later.
    let (eve, eve_token) = registered_contact(&app, "eve@example.com", "eve-password-1").await;
    let asked = sign_up(
        &app,
        &eve_token,
        &eve,
        json!({"action": "SIGN_UP", "reward_scheme_id": club, "email_address": "eve@partner.example"}),
    )
    .await;
    assert_eq!(asked.status, 204, "{}", asked.body);
    let code = mailed_code(&receiver, "eve@partner.example").await;
    app.clock.advance(DAY_S);
    let signed_in = contact_sign_in(&app, PUBLIC_KEY, "eve@example.com", "eve-password-1").await;
    let eve_token = signed_in.body["access_token"].as_str().unwrap().to_string();
    let late = sign_up(
        &app,
        &eve_token,
        &eve,
        json!({"action": "SIGN_UP", "reward_scheme_id": club, "sign_up_code": code}),
    )
    .await;
    assert_eq!(late.status, 400, "{}", late.body);
    assert!(
        late.body["message"].as_str().unwrap().contains("expired"),
        "{}",
        late.body
    );
    // The back office may change the domains, not the method.
    let changed = app
        .put(
            &format!("/backoffice/v2/reward_schemes/{club}"),
            &json!({"email_domains": ["crm.com"]}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["email_domains"], json!(["crm.com"]));
    let fixed = app
        .put(
            &format!("/backoffice/v2/reward_schemes/{club}"),
            &json!({"sign_up_method": "CODE"}),
        )
        .await;
    assert_eq!(fixed.status, 400, "{}", fixed.body);
}
