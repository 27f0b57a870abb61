//! Sign-in codes that tell no one which accounts exist and go only where a contact proved
//! it receives them: unknown emails and phones answered like known ones (a decoy
//! `auth_otp`), and an email or phone put into a profile signing nothing in until proved.

use crate::helpers::*;
use crate::otp::{person, public, spawn_with, validate, wrong};
use crate::receiver::{code_in, link_token_in, Receiver};
use serde_json::json;

#[tokio::test]
async fn registered_and_unknown_emails_and_phones_are_answered_alike() {
    let receiver = Receiver::start();
    let app = spawn_with(&receiver, &[]).await;
    let mut seen = 0;
    signed_in_by_phone(&app, &receiver, &mut seen, "99555111").await;
    let registered = public(
        &app,
        "/self-service/v2/contacts/register",
        &person(json!({"provider": "EMAIL", "email": "known@example.com"})),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    receiver.next(&mut seen).await;

    let shape = |reply: &Reply| {
        let mut keys: Vec<String> = reply.body.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        (reply.status, keys)
    };
    let mut decoys = Vec::new();
    for (known, unknown) in [
        (
            json!({"credentials": [{"name": "EMAIL", "value": "known@example.com"}]}),
            json!({"credentials": [{"name": "EMAIL", "value": "unknown@example.com"}]}),
        ),
        (
            json!({"method": "SMS", "credentials": [{"name": "PHONE", "value": "99555111"}]}),
            json!({"method": "SMS", "credentials": [{"name": "PHONE", "value": "99555222"}]}),
        ),
    ] {
        let known = public(&app, "/self-service/v2/contacts/otp", &known).await;
        let unknown = public(&app, "/self-service/v2/contacts/otp", &unknown).await;
        assert_eq!(known.status, 200, "{}", known.body);
        assert_eq!(shape(&known), shape(&unknown), "{} / {}", known.body, unknown.body);
        assert!(unknown.body["auth_otp"].as_str().is_some_and(|id| id.len() == 36));
        receiver.next(&mut seen).await;
        decoys.push(unknown.body["auth_otp"].clone());
    }
    for (known, unknown) in [
        (
            json!({"provider": "EMAIL", "username": "known@example.com"}),
            json!({"provider": "EMAIL", "username": "unknown@example.com"}),
        ),
        (
            json!({"provider": "PHONE", "phone": {"number": "99555111", "country_code": "CYP"}}),
            json!({"provider": "PHONE", "phone": {"number": "99555222", "country_code": "CYP"}}),
        ),
    ] {
        let known = public(&app, "/self-service/v2/contacts/authenticate", &known).await;
        let unknown = public(&app, "/self-service/v2/contacts/authenticate", &unknown).await;
        assert_eq!(known.status, 200, "{}", known.body);
        assert_eq!(shape(&known), shape(&unknown), "{} / {}", known.body, unknown.body);
        assert_eq!(unknown.body["existing_contact"], known.body["existing_contact"]);
        assert_eq!(
            unknown.body["obfuscated_value"].as_str().unwrap().len(),
            known.body["obfuscated_value"].as_str().unwrap().len()
        );
        receiver.next(&mut seen).await;
        decoys.push(unknown.body["auth_otp"].clone());
    }
    // A decoy's code is "wrong" like a real one's, and asking again by it answers alike.
    let real = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"credentials": [{"name": "EMAIL", "value": "known@example.com"}]}),
    )
    .await;
    let code = code_in(&receiver.next(&mut seen).await);
    let real_refusal = validate(&app, &real.body["auth_otp"], &wrong(&code)).await;
    for decoy in &decoys {
        let refusal = validate(&app, decoy, &code).await;
        assert_eq!(refusal.status, real_refusal.status);
        assert_eq!(refusal.body, real_refusal.body);
    }
    let again = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"credentials": [{"name": "AUTH_OTP", "value": decoys[0]}]}),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
    outbox_drained(&app).await;
    assert_eq!(receiver.delivered().len(), seen, "nothing went to the unknown ones");
}

/// Registers a contact by phone and signs it in with the texted code.
async fn signed_in_by_phone(app: &TestApp, receiver: &Receiver, seen: &mut usize, number: &str) -> Reply {
    let registered = public(
        app,
        "/self-service/v2/contacts/register",
        &person(json!({"provider": "PHONE", "phone": {"number": number, "country_code": "CYP"}})),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let code = code_in(&receiver.next(seen).await);
    let session = validate(app, &registered.body["auth_otp"], &code).await;
    assert_eq!(session.status, 200, "{}", session.body);
    session
}

#[tokio::test]
async fn a_changed_email_signs_nothing_in_until_it_is_confirmed() {
    let receiver = Receiver::start();
    let app = spawn_with(&receiver, &[]).await;
    let mut seen = 0;
    let session = signed_in_by_phone(&app, &receiver, &mut seen, "99777111").await;
    let token = session.body["access_token"].as_str().unwrap().to_string();
    let id = session.body["contact"]["id"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {token}");

    // Whoever holds the session puts an address of theirs into the profile...
    let changed = app
        .call(
            "PUT",
            &format!("/self-service/v2/contacts/{id}"),
            &[("authorization", &bearer)],
            Some(&json!({"email": "attacker@example.com"})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let confirmation = receiver.next(&mut seen).await;
    assert_eq!(confirmation["to"], "attacker@example.com");
    assert_eq!(confirmation["kind"], "EMAIL_VERIFICATION");
    // ...but no code that signs the contact in goes there until the address is confirmed.
    let by_email = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"method": "EMAIL", "credentials": [{"name": "PHONE", "value": "99777111"}]}),
    )
    .await;
    assert_eq!(by_email.status, 400, "{}", by_email.body);
    let by_address = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"credentials": [{"name": "EMAIL", "value": "attacker@example.com"}]}),
    )
    .await;
    assert_eq!(by_address.status, 200, "answered alike: {}", by_address.body);
    outbox_drained(&app).await;
    assert_eq!(
        receiver.delivered().len(),
        seen,
        "no code went to the unconfirmed address"
    );

    // Opening the link confirms it: now it is a sign-in identity of the contact.
    let opened = app
        .call(
            "GET",
            &format!(
                "/self-service/v2/contacts/verify_email?token={}",
                link_token_in(&confirmation)
            ),
            &[],
            None,
        )
        .await;
    assert_eq!(opened.status, 200, "{}", opened.body);
    let asked = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"credentials": [{"name": "EMAIL", "value": "attacker@example.com"}]}),
    )
    .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let code = code_in(&receiver.next(&mut seen).await);
    let signed_in = validate(&app, &asked.body["auth_otp"], &code).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(signed_in.body["contact"]["id"], id.as_str());

    // A changed phone alike: no code goes by SMS to a number the contact has not proved.
    let new_phone = app
        .call(
            "PUT",
            &format!("/self-service/v2/contacts/{id}"),
            &[("authorization", &bearer)],
            Some(&json!({"phone": {"type": "MOBILE", "number": "99777999", "country_code": "CYP"}})),
        )
        .await;
    assert_eq!(new_phone.status, 200, "{}", new_phone.body);
    let by_sms = public(
        &app,
        "/self-service/v2/contacts/otp",
        &json!({"method": "SMS", "credentials": [{"name": "EMAIL", "value": "attacker@example.com"}]}),
    )
    .await;
    assert_eq!(by_sms.status, 400, "{}", by_sms.body);
    outbox_drained(&app).await;
    assert_eq!(receiver.delivered().len(), seen, "no code went to the unproved phone");
}
