//! Emailed links (email verification, password reset, confirming credentials added to a
//! back-office contact) end to end, read from the loopback webhook receiver.

use crate::helpers::outbox_drained;
use crate::otp::{person, public, spawn_with, validate};
use crate::receiver::{code_in, link_token_in, Receiver};
use serde_json::json;

#[tokio::test]
async fn email_verification_and_password_reset_links_work_once() {
    let receiver = Receiver::start();
    let app = spawn_with(&receiver, &[]).await;
    let mut seen = 0;
    let registered = public(
        &app,
        "/self-service/v2/contacts/register",
        &person(json!({"provider": "EMAIL", "email": "link@example.com", "password": "first-password-1"})),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    assert_eq!(registered.body["contact"]["is_verified"], false);
    let verification = receiver.next(&mut seen).await;
    assert_eq!(verification["kind"], "EMAIL_VERIFICATION");
    let body = verification["body"].as_str().unwrap();
    assert!(
        body.contains("http://localhost:8080/self-service/v2/contacts/verify_email?token="),
        "{body}"
    );
    let token = link_token_in(&verification);

    // Asking again sends another link (the identity is not verified yet).
    let again = public(
        &app,
        "/self-service/v2/contacts/request_email_verification",
        &json!({"email_address": "link@example.com"}),
    )
    .await;
    assert_eq!(again.status, 204);
    receiver.next(&mut seen).await;

    // The link (no key: it is opened from the email) verifies the email, once.
    let opened = app
        .call(
            "GET",
            &format!("/self-service/v2/contacts/verify_email?token={token}"),
            &[],
            None,
        )
        .await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    assert_eq!(opened.body["email_address"], "link@example.com");
    let reused = app
        .call(
            "GET",
            &format!("/self-service/v2/contacts/verify_email?token={token}"),
            &[],
            None,
        )
        .await;
    assert_eq!(reused.status, 401);
    let signed_in = public(
        &app,
        "/self-service/v2/contacts/authenticate",
        &json!({"provider": "EMAIL", "username": "link@example.com", "password": "first-password-1"}),
    )
    .await;
    assert_eq!(signed_in.body["contact"]["is_verified"], true);
    // Verified: asking again sends nothing; an unknown address gets the same 204.
    for email in ["link@example.com", "unknown@example.com"] {
        let asked = public(
            &app,
            "/self-service/v2/contacts/request_email_verification",
            &json!({"email_address": email}),
        )
        .await;
        assert_eq!(asked.status, 204);
    }

    // Forgot password: a reset link for a registered email, nothing for an unknown one.
    for email in ["unknown@example.com", "link@example.com"] {
        let forgot = public(
            &app,
            "/self-service/v2/contacts/forgot_password",
            &json!({"username": email}),
        )
        .await;
        assert_eq!(forgot.status, 204);
    }
    let reset = receiver.next(&mut seen).await;
    assert_eq!(reset["kind"], "PASSWORD_RESET");
    assert_eq!(reset["to"], "link@example.com");
    let token = link_token_in(&reset);
    // A verification token is not a reset token, a short password is refused (and the
    // token stays usable), then the reset works once.
    let short = app
        .call(
            "POST",
            "/self-service/v2/contacts/change_password",
            &[],
            Some(&json!({"token": token, "password": "short"})),
        )
        .await;
    assert_eq!(short.status, 400);
    let changed = app
        .call(
            "POST",
            "/self-service/v2/contacts/change_password",
            &[],
            Some(&json!({"token": token, "password": "second-password-2"})),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    // Whoever signed in with the old password is signed out.
    let before_reset = signed_in.body["access_token"].as_str().unwrap();
    let contact_path = format!(
        "/self-service/v2/contacts/{}",
        signed_in.body["contact"]["id"].as_str().unwrap()
    );
    let old_session = app
        .call(
            "GET",
            &contact_path,
            &[("authorization", &format!("Bearer {before_reset}"))],
            None,
        )
        .await;
    assert_eq!(old_session.status, 401, "{}", old_session.body);
    let reused = app
        .call(
            "POST",
            "/self-service/v2/contacts/change_password",
            &[],
            Some(&json!({"token": token, "password": "third-password-3"})),
        )
        .await;
    assert_eq!(reused.status, 401);
    let old = public(
        &app,
        "/self-service/v2/contacts/authenticate",
        &json!({"provider": "EMAIL", "username": "link@example.com", "password": "first-password-1"}),
    )
    .await;
    assert_eq!(old.status, 401);
    let new = public(
        &app,
        "/self-service/v2/contacts/authenticate",
        &json!({"provider": "EMAIL", "username": "link@example.com", "password": "second-password-2"}),
    )
    .await;
    assert_eq!(new.status, 200, "{}", new.body);
    outbox_drained(&app).await;
    assert_eq!(receiver.delivered().len(), seen, "nothing else was sent");
}

#[tokio::test]
async fn back_office_contacts_add_credentials_proven_by_link_or_code() {
    let receiver = Receiver::start();
    let app = spawn_with(&receiver, &[]).await;
    let mut seen = 0;
    let made = app
        .post(
            "/backoffice/v2/contacts",
            &json!({"first_name": "Bo", "last_name": "Back", "email_address": "bo@example.com",
                    "phones": [{"phone_type": "MOBILE", "number": "99555111", "country_code": "CYP", "is_primary": true}]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_string();
    let path = format!("/self-service/v2/contacts/{id}/identities");

    // Details that are not the contact's are the same 404 as an unknown contact.
    for body in [
        json!({"provider": "EMAIL", "email": "someone@example.com", "password": "bo-password-1"}),
        json!({"provider": "PHONE", "email": null, "phone": {"number": "99000000", "country_code": "CYP"}}),
    ] {
        let reply = public(&app, &path, &body).await;
        assert_eq!(reply.status, 404, "{body}: {}", reply.body);
    }
    let unknown = public(
        &app,
        &format!("/self-service/v2/contacts/{}/identities", uuid::Uuid::new_v4()),
        &json!({"provider": "EMAIL", "email": "bo@example.com", "password": "bo-password-1"}),
    )
    .await;
    assert_eq!(unknown.status, 404);

    // Email and password: nothing works until the emailed link is opened.
    let added = public(
        &app,
        &path,
        &json!({"provider": "EMAIL", "email": "BO@example.com", "password": "bo-password-1"}),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(added.body["id"], id.as_str());
    let sign_in = json!({"provider": "EMAIL", "username": "bo@example.com", "password": "bo-password-1"});
    assert_eq!(
        public(&app, "/self-service/v2/contacts/authenticate", &sign_in)
            .await
            .status,
        401
    );
    let link = receiver.next(&mut seen).await;
    assert_eq!(link["to"], "bo@example.com");
    let opened = app
        .call(
            "GET",
            &format!("/self-service/v2/contacts/verify_email?token={}", link_token_in(&link)),
            &[],
            None,
        )
        .await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    let signed_in = public(&app, "/self-service/v2/contacts/authenticate", &sign_in).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(signed_in.body["contact"]["id"], id.as_str());
    assert_eq!(signed_in.body["contact"]["is_verified"], true);
    let again = public(
        &app,
        &path,
        &json!({"provider": "EMAIL", "email": "bo@example.com", "password": "bo-password-2"}),
    )
    .await;
    assert_eq!(again.status, 409);

    // Phone: a code to the contact's phone; validating it creates the identity.
    let added = public(
        &app,
        &path,
        &json!({"provider": "PHONE", "email": null, "phone": {"number": "99 555 111", "country_code": "CYP"}}),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let sms = receiver.next(&mut seen).await;
    assert_eq!(
        (sms["channel"].as_str(), sms["to"].as_str()),
        (Some("SMS"), Some("99555111"))
    );
    let validated = validate(&app, &added.body["auth_otp"], &code_in(&sms)).await;
    assert_eq!(validated.status, 200, "{}", validated.body);
    assert_eq!(validated.body["contact"]["id"], id.as_str());
    let by_phone = public(
        &app,
        "/self-service/v2/contacts/authenticate",
        &json!({"provider": "PHONE", "email": null, "phone": {"number": "99555111", "country_code": "CYP"}}),
    )
    .await;
    assert_eq!(by_phone.status, 200, "{}", by_phone.body);
    let sms = receiver.next(&mut seen).await;
    let validated = validate(&app, &by_phone.body["auth_otp"], &code_in(&sms)).await;
    assert_eq!(validated.body["contact"]["id"], id.as_str());
}
