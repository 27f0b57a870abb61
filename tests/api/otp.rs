//! One-time passwords, emailed links and the communications outbox, end to end: messages
//! are read from a webhook receiver (and an SMTP sink) the test runs on loopback.
//! Covered: registration and sign-in by phone and by email with a code, requests by
//! credential with an idempotency key and by an earlier `auth_otp`, brute force (attempts,
//! expiry, rate limits per identity and per address → 429), live and test apart, retries
//! with one arrival per message, a permanent refusal given up, a message surviving a
//! restart, email verification and password reset links.

use crate::helpers::*;
use crate::receiver::{code_in, link_token_in, Receiver, SmtpSink};
use serde_json::{json, Value};
use std::sync::Arc;
use tempfile::TempDir;

pub(crate) async fn spawn_with(receiver: &Receiver, extra: &[(&str, &str)]) -> TestApp {
    let clock = rewards_engine::ManualClock::new(START_S);
    spawn_on(receiver, Arc::new(TempDir::new().unwrap()), clock, extra).await
}

async fn spawn_on(
    receiver: &Receiver,
    dir: Arc<TempDir>,
    clock: rewards_engine::ManualClock,
    extra: &[(&str, &str)],
) -> TestApp {
    let settings = receiver.settings();
    let mut pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.extend_from_slice(extra);
    spawn_app_with(dir, clock, &pairs).await
}

pub(crate) async fn public(app: &TestApp, path: &str, body: &Value) -> Reply {
    app.with_key(PUBLIC_KEY, "POST", path, Some(body)).await
}

pub(crate) fn person(identification: Value) -> Value {
    json!({"first_name": "Olly", "last_name": "Otp", "identification": identification})
}

pub(crate) async fn validate(app: &TestApp, auth_otp: &Value, code: &str) -> Reply {
    public(
        app,
        "/self-service/v2/contacts/validate_otp",
        &json!({"auth_otp": auth_otp, "code": code}),
    )
    .await
}

/// A code that is not `code`.
pub(crate) fn wrong(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[tokio::test]
async fn contacts_register_and_sign_in_with_codes_by_sms_and_email() {
    let receiver = Receiver::start();
    let app = spawn_with(&receiver, &[]).await;
    let mut seen = 0;

    // Phone: register, the code is texted, validating it signs in and verifies the phone.
    let registered = public(
        &app,
        "/self-service/v2/contacts/register",
        &person(json!({"provider": "PHONE", "phone": {"number": "99 123 834", "country_code": "CYP"}})),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    assert_eq!(registered.body["obfuscated_value"], "99***834");
    assert!(registered.body.get("access_token").is_none());
    let sms = receiver.next(&mut seen).await;
    assert_eq!(sms["channel"], "SMS");
    assert_eq!(sms["kind"], "ONE_TIME_PASSWORD");
    assert_eq!(sms["to"], "99123834");
    assert_eq!(sms["country_code"], "CYP");
    let code = code_in(&sms);
    let refused = validate(&app, &registered.body["auth_otp"], &wrong(&code)).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.error_code(), "CRM.EXCEPTIONS.INVALIDOTPEXCEPTION");
    let signed_in = validate(&app, &registered.body["auth_otp"], &code).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(signed_in.body["contact"]["is_verified"], true);
    assert_eq!(signed_in.body["expiration_date"], START_S + 900);
    let contact_id = signed_in.body["contact"]["id"].as_str().unwrap().to_string();
    let token = signed_in.body["access_token"].as_str().unwrap().to_string();
    let own = app
        .call(
            "GET",
            &format!("/self-service/v2/contacts/{contact_id}"),
            &[("authorization", &format!("Bearer {token}"))],
            None,
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.body["phone"]["number"], "99123834");
    assert_eq!(own.body["phone"]["country_code"], "CYP");
    // A code works once.
    let again = validate(&app, &registered.body["auth_otp"], &code).await;
    assert_eq!(again.status, 401);

    // Signing in by phone sends a new code.
    let asked = public(
        &app,
        "/self-service/v2/contacts/authenticate",
        &json!({"provider": "PHONE", "phone": {"number": "99123834", "country_code": "CYP"}}),
    )
    .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert_eq!(asked.body["existing_contact"], true);
    let sms = receiver.next(&mut seen).await;
    let signed_in = validate(&app, &asked.body["auth_otp"], &code_in(&sms)).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(signed_in.body["contact"]["id"], contact_id.as_str());

    // The same phone cannot register twice.
    let twice = public(
        &app,
        "/self-service/v2/contacts/register",
        &person(json!({"provider": "PHONE", "phone": {"number": "99123834", "country_code": "CYP"}})),
    )
    .await;
    assert_eq!(twice.status, 409, "{}", twice.body);

    // Email without a password: the code is emailed.
    let registered = public(
        &app,
        "/self-service/v2/contacts/register",
        &person(json!({"provider": "EMAIL", "email": "Olly@Example.com"})),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    assert_eq!(registered.body["obfuscated_value"], "ol****@example.com");
    let email = receiver.next(&mut seen).await;
    assert_eq!(
        (email["channel"].as_str(), email["to"].as_str()),
        (Some("EMAIL"), Some("olly@example.com"))
    );
    let signed_in = validate(&app, &registered.body["auth_otp"], &code_in(&email)).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let email_contact = signed_in.body["contact"]["id"].clone();
    // Without a password, password sign-in is refused; without one in the body, a code comes.
    let password = public(
        &app,
        "/self-service/v2/contacts/authenticate",
        &json!({"provider": "EMAIL", "username": "olly@example.com", "password": "anything-at-all"}),
    )
    .await;
    assert_eq!(password.status, 401);
    let asked = public(
        &app,
        "/self-service/v2/contacts/authenticate",
        &json!({"provider": "EMAIL", "username": "olly@example.com"}),
    )
    .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let email = receiver.next(&mut seen).await;
    let signed_in = validate(&app, &asked.body["auth_otp"], &code_in(&email)).await;
    assert_eq!(signed_in.body["contact"]["id"], email_contact);

    // POST /contacts/otp by credential, with an idempotency key: a retry gets the same
    // auth_otp and sends nothing more.
    let request = json!({"method": "EMAIL", "credentials": [{"name": "EMAIL", "value": "olly@example.com"}]});
    let first = app
        .call(
            "POST",
            "/self-service/v2/contacts/otp",
            &[("api_key", PUBLIC_KEY), ("Idempotency-Key", "otp-1")],
            Some(&request),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let retry = app
        .call(
            "POST",
            "/self-service/v2/contacts/otp",
            &[("api_key", PUBLIC_KEY), ("Idempotency-Key", "otp-1")],
            Some(&request),
        )
        .await;
    assert_eq!(retry.body, first.body);
    let email = receiver.next(&mut seen).await;
    // "Send it again" by the earlier auth_otp: a new code to the same address.
    let resent = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"credentials": [{"name": "AUTH_OTP", "value": first.body["auth_otp"]}]}),
    )
    .await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    assert_ne!(resent.body["auth_otp"], first.body["auth_otp"]);
    let resent_email = receiver.next(&mut seen).await;
    assert_eq!(resent_email["to"], "olly@example.com");
    let signed_in = validate(&app, &resent.body["auth_otp"], &code_in(&resent_email)).await;
    assert_eq!(signed_in.status, 200);
    let signed_in = validate(&app, &first.body["auth_otp"], &code_in(&email)).await;
    assert_eq!(signed_in.status, 200);
    // By phone credential, the code goes by SMS to that phone.
    let by_phone = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"method": "SMS", "credentials": [{"name": "PHONE", "value": "99123834"}]}),
    )
    .await;
    assert_eq!(by_phone.status, 200, "{}", by_phone.body);
    assert_eq!(receiver.next(&mut seen).await["to"], "99123834");

    // Unknown identities are answered like known ones (and sent nothing); unsupported
    // credentials and malformed input change nothing.
    let unknown = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"credentials": [{"name": "EMAIL", "value": "nobody@example.com"}]}),
    )
    .await;
    assert_eq!(unknown.status, 200, "{}", unknown.body);
    let unsupported = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"credentials": [{"name": "BIRTHDATE", "value": "1990-01-01"}]}),
    )
    .await;
    assert_eq!(unsupported.status, 400);
    let no_key = app
        .call("POST", "/self-service/v2/contacts/otp", &[], Some(&request))
        .await;
    assert_eq!(no_key.status, 401);
    outbox_drained(&app).await;
    assert_eq!(receiver.delivered().len(), seen, "nothing else was sent");
    // Every delivery carried its own message id as the Idempotency-Key.
    let keys: std::collections::HashSet<String> = receiver.attempts().into_iter().map(|(key, _)| key).collect();
    assert_eq!(keys.len(), seen);
    assert!(app.engine.outbox_pending(10).unwrap().is_empty());
}

#[tokio::test]
async fn brute_force_on_codes_is_refused() {
    let receiver = Receiver::start();
    let app = spawn_with(
        &receiver,
        &[
            ("REWARDS__OTP__REQUESTS_PER_IP_MAX", "9"),
            ("REWARDS__OTP__ATTEMPTS_MAX", "3"),
        ],
    )
    .await;
    let mut seen = 0;
    let registered = public(
        &app,
        "/self-service/v2/contacts/register",
        &person(json!({"provider": "EMAIL", "email": "brute@example.com"})),
    )
    .await;
    assert_eq!(registered.status, 201);
    let code = code_in(&receiver.next(&mut seen).await);
    // Three wrong codes use the OTP up; then even the right one is refused.
    for attempt in 0..3 {
        let refused = validate(&app, &registered.body["auth_otp"], &wrong(&code)).await;
        assert_eq!(refused.status, 401, "attempt {attempt}");
    }
    let exhausted = validate(&app, &registered.body["auth_otp"], &code).await;
    assert_eq!(exhausted.status, 401);
    assert!(exhausted.body["message"].as_str().unwrap().contains("too many"));
    // An unknown auth_otp, and another tenant's (a test key), are the same refusal.
    let unknown = validate(&app, &json!(uuid::Uuid::new_v4().to_string()), &code).await;
    assert_eq!(unknown.status, 401);

    // Codes expire: past otp.ttl_s the right code is refused, and costs no attempt.
    let asked = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"credentials": [{"name": "EMAIL", "value": "brute@example.com"}]}),
    )
    .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let code = code_in(&receiver.next(&mut seen).await);
    let test_key = app
        .post("/backoffice/v2/api_keys", &json!({"type": "PUBLIC", "mode": "TEST"}))
        .await;
    let test_key = test_key.body["key"].as_str().unwrap().to_string();
    let cross = app
        .with_key(
            &test_key,
            "POST",
            "/self-service/v2/contacts/validate_otp",
            Some(&json!({"auth_otp": asked.body["auth_otp"], "code": code})),
        )
        .await;
    assert_eq!(cross.status, 401, "a live code is not valid with a test key");
    app.clock.advance(301);
    let expired = validate(&app, &asked.body["auth_otp"], &code).await;
    assert_eq!(expired.status, 401);
    assert!(expired.body["message"].as_str().unwrap().contains("expired"));

    // Requests per identity: registration and one request so far; 5 in the window.
    let request = json!({"credentials": [{"name": "EMAIL", "value": "brute@example.com"}]});
    let ask = || public(&app, "/self-service/v2/contacts/otp", &request);
    for _ in 0..3 {
        assert_eq!(ask().await.status, 200);
    }
    let limited = ask().await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.retry_after.as_deref().unwrap().parse::<u64>().unwrap() >= 1);
    // Per address (9 in the window; 6 used): other identities from here run out too.
    let mut statuses = Vec::new();
    for n in 0..4 {
        let reply = public(
            &app,
            "/self-service/v2/contacts/register",
            &person(json!({"provider": "EMAIL", "email": format!("other{n}@example.com")})),
        )
        .await;
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(statuses, vec![201, 201, 201, 429]);
    let delivered = receiver.wait_for(seen + 3 + 3).await;
    outbox_drained(&app).await;
    assert_eq!(
        receiver.delivered().len(),
        delivered.len(),
        "refused requests sent nothing"
    );
}

#[tokio::test]
async fn deliveries_are_retried_arrive_once_and_survive_a_restart() {
    let receiver = Receiver::start();
    let dir = Arc::new(TempDir::new().unwrap());
    let clock = rewards_engine::ManualClock::new(START_S);
    let patient = [("REWARDS__COMMUNICATIONS__ATTEMPTS_MAX", "1000")];
    let app = spawn_on(&receiver, dir.clone(), clock.clone(), &patient).await;

    // Two failures, then success: one arrival, three attempts under one message id.
    receiver.fail_next(&[503, 500]);
    let registered = public(
        &app,
        "/self-service/v2/contacts/register",
        &person(json!({"provider": "EMAIL", "email": "retry@example.com"})),
    )
    .await;
    assert_eq!(registered.status, 201);
    let delivered = receiver.wait_for(1).await;
    let attempts = receiver.attempts();
    assert_eq!(
        attempts.iter().map(|(_, status)| *status).collect::<Vec<_>>(),
        vec![503, 500, 200]
    );
    assert!(attempts
        .iter()
        .all(|(key, _)| *key == delivered[0]["id"].as_str().unwrap()));
    assert_eq!(delivered[0]["attempt"], 3);

    // A permanent refusal (400) is given up at once: the message leaves the outbox.
    receiver.fail_next(&[400]);
    let asked = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"credentials": [{"name": "EMAIL", "value": "retry@example.com"}]}),
    )
    .await;
    assert_eq!(asked.status, 200);
    for _ in 0..500 {
        if receiver.attempts().len() == 4 && app.engine.outbox_pending(10).unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(receiver.attempts().len(), 4);
    assert!(app.engine.outbox_pending(10).unwrap().is_empty());

    // The receiver is down (every attempt fails) when a code is asked for and the server
    // stops; after the restart the message is delivered, once.
    receiver.fail_next(&[503; 10_000]);
    let asked = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"credentials": [{"name": "EMAIL", "value": "retry@example.com"}]}),
    )
    .await;
    assert_eq!(asked.status, 200);
    for _ in 0..500 {
        if receiver.attempts().len() >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (dir, clock) = app.stop().await;
    let pending_before = receiver.delivered().len();
    assert_eq!(pending_before, 1);
    receiver.recover();
    let app = spawn_on(&receiver, dir, clock, &patient).await;
    let delivered = receiver.wait_for(2).await;
    let code = code_in(&delivered[1]);
    let signed_in = validate(&app, &asked.body["auth_otp"], &code).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    outbox_drained(&app).await;
    assert_eq!(receiver.delivered().len(), 2, "delivered once");
    assert!(app.engine.outbox_pending(10).unwrap().is_empty());
}

#[tokio::test]
async fn email_goes_by_smtp_when_set() {
    let sink = SmtpSink::start().await;
    let port = sink.port.to_string();
    let app = spawn_app_with(
        Arc::new(TempDir::new().unwrap()),
        rewards_engine::ManualClock::new(START_S),
        &[
            ("REWARDS__COMMUNICATIONS__EMAIL_PROVIDER", "smtp"),
            ("REWARDS__COMMUNICATIONS__SMTP_HOST", "127.0.0.1"),
            ("REWARDS__COMMUNICATIONS__SMTP_PORT", &port),
            ("REWARDS__COMMUNICATIONS__SMTP_TLS", "none"),
            ("REWARDS__COMMUNICATIONS__SMTP_FROM", "Rewards <codes@rewards.test>"),
        ],
    )
    .await;
    let registered = public(
        &app,
        "/self-service/v2/contacts/register",
        &person(json!({"provider": "EMAIL", "email": "smtp@example.com"})),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let email = sink.wait_for(1).await.remove(0);
    assert!(email.contains("To: smtp@example.com"), "{email}");
    assert!(email.contains("From: Rewards <codes@rewards.test>"), "{email}");
    assert!(
        email.contains("@rewards.local>"),
        "a Message-ID carries the message id: {email}"
    );
    // The code is in the body (after the headers, whose Message-ID may hold digit runs too).
    let (_, body) = email.split_once("\n\n").expect("headers, a blank line, the body");
    assert!(body.contains("one-time password"), "{body}");
    let code = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .unwrap()
        .to_string();
    let signed_in = validate(&app, &registered.body["auth_otp"], &code).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_email_out_for_a_while() {
    let receiver = Receiver::start();
    let dir = Arc::new(TempDir::new().unwrap());
    let clock = rewards_engine::ManualClock::new(START_S);
    let app = spawn_on(&receiver, dir.clone(), clock.clone(), &[]).await;
    let mut seen = 0;
    for email in ["lock@example.com", "other@example.com"] {
        let registered = public(
            &app,
            "/self-service/v2/contacts/register",
            &person(json!({"provider": "EMAIL", "email": email, "password": "right-password-1"})),
        )
        .await;
        assert_eq!(registered.status, 201, "{}", registered.body);
        receiver.next(&mut seen).await;
    }

    // A right password clears the count: four wrong, one right, four wrong still signs in.
    for _ in 0..2 {
        for _ in 0..4 {
            assert_eq!(
                contact_sign_in(&app, PUBLIC_KEY, "lock@example.com", "wrong-password")
                    .await
                    .status,
                401
            );
        }
        assert_eq!(
            contact_sign_in(&app, PUBLIC_KEY, "lock@example.com", "right-password-1")
                .await
                .status,
            200
        );
    }

    // Five wrong in a row lock the email: the right password is refused too, with 429 and
    // Retry-After; an unknown email locks the same way; another email is untouched.
    for email in ["lock@example.com", "nobody@example.com"] {
        for _ in 0..5 {
            let wrong = contact_sign_in(&app, PUBLIC_KEY, email, "wrong-password").await;
            assert_eq!(wrong.status, 401, "{}", wrong.body);
        }
        let locked = contact_sign_in(&app, PUBLIC_KEY, email, "right-password-1").await;
        assert_eq!(locked.status, 429, "{}", locked.body);
        assert_eq!(locked.error_code(), "CRM.EXCEPTIONS.TOOMANYREQUESTSEXCEPTION");
        assert_eq!(locked.retry_after.as_deref(), Some("900"));
    }
    assert_eq!(
        contact_sign_in(&app, PUBLIC_KEY, "Other@Example.com", "right-password-1")
            .await
            .status,
        200
    );

    // The lockout outlives a restart, and ends when its time is up.
    let app = {
        app.stop().await;
        spawn_on(&receiver, dir.clone(), clock.clone(), &[]).await
    };
    clock.advance(600);
    let locked = contact_sign_in(&app, PUBLIC_KEY, "LOCK@example.com", "right-password-1").await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert_eq!(locked.retry_after.as_deref(), Some("300"));
    clock.advance(300);
    assert_eq!(
        contact_sign_in(&app, PUBLIC_KEY, "lock@example.com", "right-password-1")
            .await
            .status,
        200
    );

    // Guesses sent at once cannot pass the limit between check and count.
    let guesses = (0..12).map(|_| contact_sign_in(&app, PUBLIC_KEY, "other@example.com", "wrong-password"));
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|reply| reply.status.as_u16())
        .collect();
    assert!(
        statuses.iter().all(|status| [401, 429].contains(status)),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|status| **status == 401).count() <= 5,
        "{statuses:?}"
    );
    for _ in 0..5 {
        let _ = contact_sign_in(&app, PUBLIC_KEY, "other@example.com", "wrong-password").await;
    }
    assert_eq!(
        contact_sign_in(&app, PUBLIC_KEY, "other@example.com", "right-password-1")
            .await
            .status,
        429
    );

    // A password reset lifts the lockout: the email's owner signs in at once.
    let forgot = public(
        &app,
        "/self-service/v2/contacts/forgot_password",
        &json!({"username": "other@example.com"}),
    )
    .await;
    assert_eq!(forgot.status, 204);
    let token = link_token_in(&receiver.next(&mut seen).await);
    let changed = app
        .call(
            "POST",
            "/self-service/v2/contacts/change_password",
            &[],
            Some(&json!({"token": token, "password": "new-password-22"})),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    assert_eq!(
        contact_sign_in(&app, PUBLIC_KEY, "other@example.com", "new-password-22")
            .await
            .status,
        200
    );

    // Back-office users lock out alike.
    for _ in 0..5 {
        assert_eq!(
            user_sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, "wrong-password")
                .await
                .status,
            401
        );
    }
    let locked = user_sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    clock.advance(900);
    assert_eq!(
        user_sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, ADMIN_PASSWORD).await.status,
        200
    );
}
