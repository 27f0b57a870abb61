//! What an independently written CRM.COM client hit, each fixed and held here: every field
//! of `PUT /self-service/v2/contacts/{id}` saved and read back or refused by name, and
//! credentials added by the signed-in contact with its own token. (Bare back-office tokens
//! are in `users.rs`, the secret key unregistering a contact in `self_service.rs`, the
//! token expiry fields in the registry test, lists' paging in `organisations.rs` and
//! `api_keys.rs`, OIDC's default redirect in `identity_providers.rs`; every self-service
//! response is checked against the contract by `contract.rs`.)

use crate::helpers::*;
use crate::otp::validate;
use crate::receiver::{code_in, Receiver};
use serde_json::json;

#[tokio::test]
async fn every_field_of_a_contact_update_is_saved_and_read_back_or_refused_by_name() {
    let app = spawn_app().await;
    let (id, token) = registered_contact(&app, "cleo@example.com", "cleo-password-1").await;
    let path = format!("/self-service/v2/contacts/{id}");
    let update = json!({
        "id": id,
        "first_name": "Cleo",
        "middle_name": "Patrick",
        "last_name": "Smith",
        "language_code": "ENG",
        "email": "cleo.smith@example.com",
        "phone": {"type": "MOBILE", "number": "99123456", "country_code": "CYP"},
        "demographics": {
            "gender": "FEMALE",
            "date_of_birth": {"day": 29, "month": 2, "year": 1948},
            "name_day": {"day": 6, "month": 8}
        },
        "sms_opt_out": true,
        "email_opt_out": true,
        "custom_fields": [{"key": "member_no", "value": "0001-345"}]
    });
    let reply = with_token(&app, &token, "PUT", &path, Some(&update)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let read = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    for field in [
        "middle_name",
        "last_name",
        "language_code",
        "email",
        "sms_opt_out",
        "email_opt_out",
        "custom_fields",
    ] {
        assert_eq!(read.body[field], update[field], "{field}: {}", read.body);
    }
    assert_eq!(read.body["demographics"], update["demographics"], "{}", read.body);
    assert_eq!(read.body["phone"]["number"], "99123456");

    // Absent fields stay; an empty text clears; opt-outs turn back.
    let reply = with_token(
        &app,
        &token,
        "PUT",
        &path,
        Some(&json!({"middle_name": "", "email_opt_out": false})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let read = with_token(&app, &token, "GET", &path, None).await;
    assert!(read.body.get("middle_name").is_none(), "{}", read.body);
    assert_eq!(read.body["email_opt_out"], false);
    assert_eq!(read.body["sms_opt_out"], true);
    assert_eq!(read.body["language_code"], "ENG");
    assert_eq!(read.body["demographics"]["gender"], "FEMALE");

    // Refused, naming the field, and nothing changes.
    for (body, parameter) in [
        (json!({"company_name": "Smith & Sons"}), "company_name"),
        (
            json!({"company_profile": {"registration_number": "1"}}),
            "company_profile",
        ),
        (json!({"id": uuid::Uuid::new_v4().to_string()}), "id"),
        (json!({"demographics": {"gender": "ROBOT"}}), "demographics.gender"),
        (
            json!({"demographics": {"date_of_birth": {"day": 29, "month": 2, "year": 1949}}}),
            "demographics.date_of_birth",
        ),
        (
            json!({"demographics": {"name_day": {"day": 31, "month": 4}}}),
            "demographics.name_day",
        ),
        (json!({"language_code": "english"}), "language_code"),
        (
            json!({"custom_fields": [{"key": "", "value": "x"}]}),
            "custom_fields.key",
        ),
        (
            json!({"custom_fields": [{"key": "k", "value": "x".repeat(1001)}]}),
            "custom_fields.value",
        ),
        (json!({"middle_name": "x".repeat(101)}), "middle_name"),
        (
            json!({"phone": {"type": "FAX", "number": "99123456", "country_code": "CYP"}}),
            "phone.type",
        ),
    ] {
        let reply = with_token(&app, &token, "PUT", &path, Some(&body)).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.body["parameters"][0], parameter, "{body}: {}", reply.body);
    }
    let after = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(after.body, read.body, "refused updates changed nothing");

    // Durable: the details survive a restart.
    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    let again = contact_sign_in(&app, PUBLIC_KEY, "cleo@example.com", "cleo-password-1").await;
    let token = again.body["access_token"].as_str().unwrap().to_string();
    let read = with_token(&app, &token, "GET", &path, None).await;
    assert_eq!(read.body["custom_fields"], update["custom_fields"], "{}", read.body);
    assert_eq!(
        read.body["demographics"],
        json!({"gender": "FEMALE", "date_of_birth": {"day": 29, "month": 2, "year": 1948}, "name_day": {"day": 6, "month": 8}})
    );
}

#[tokio::test]
async fn a_signed_in_contact_adds_a_new_phone_with_its_own_token_and_no_key() {
    let receiver = Receiver::start();
    let settings = receiver.settings();
    let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(temp_dir(), rewards_engine::ManualClock::new(START_S), &pairs).await;
    let mut seen = 0;
    let (id, token) = registered_contact(&app, "phoebe@example.com", "cleo-password-1").await;
    let path = format!("/self-service/v2/contacts/{id}/identities");
    // A phone the profile does not hold: the contact itself may add it.
    let body = json!({"provider": "PHONE", "email": null, "phone": {"number": "99888777", "country_code": "CYP"}});
    let added = with_token(&app, &token, "POST", &path, Some(&body)).await;
    assert_eq!(added.status, 201, "{}", added.body);
    // The code proves the phone; validating it signs the contact in. (Registering mailed a
    // verification link first.)
    let sms = loop {
        let message = receiver.next(&mut seen).await;
        if message["channel"] == "SMS" {
            break message;
        }
    };
    assert_eq!(
        (sms["to"].as_str(), sms["country_code"].as_str()),
        (Some("99888777"), Some("CYP"))
    );
    let validated = validate(&app, &added.body["auth_otp"], &code_in(&sms)).await;
    assert_eq!(validated.status, 200, "{}", validated.body);
    assert_eq!(validated.body["contact"]["id"], id.as_str());
    // From now on the contact signs in by that phone.
    let asked = app
        .with_key(
            PUBLIC_KEY,
            "POST",
            "/self-service/v2/contacts/authenticate",
            Some(&json!({"provider": "PHONE", "phone": {"number": "99888777", "country_code": "CYP"}})),
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let sms = receiver.next(&mut seen).await;
    let signed_in = validate(&app, &asked.body["auth_otp"], &code_in(&sms)).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(signed_in.body["contact"]["id"], id.as_str());

    // Another contact's token does not reach this contact; no token and no key is 401.
    let (_, other) = registered_contact(&app, "otto@example.com", "cleo-password-1").await;
    let reply = with_token(&app, &other, "POST", &path, Some(&body)).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    let reply = app.call("POST", &path, &[], Some(&body)).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
}
