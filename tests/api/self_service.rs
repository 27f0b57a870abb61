//! Contacts registering and signing in from an app: email and password registration (one
//! atomic commit with the wallet and the identity), sign-in, profile read and update,
//! refresh rotation and sign-out; and every contact-scoped route refusing another contact's
//! token, a user's token, a public key alone and forged tokens, with nothing changed.

use crate::helpers::contact_sign_in as sign_in;
use crate::helpers::*;
use serde_json::{json, Value};

async fn register(app: &TestApp, key: &str, email: &str, password: &str) -> Reply {
    app.with_key(
        key,
        "POST",
        "/self-service/v2/contacts/register",
        Some(&json!({
            "first_name": "Ria",
            "last_name": "Reg",
            "identification": {"provider": "EMAIL", "email": email, "password": password},
            "accept_terms_&_conditions": true,
            "sms_opt_out": true,
            "referral_code": "FRIEND-1",
        })),
    )
    .await
}

async fn as_contact(app: &TestApp, token: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    app.call(
        method,
        path,
        &[("authorization", &format!("Bearer {token}")), ("api_key", PUBLIC_KEY)],
        body,
    )
    .await
}

fn access(reply: &Reply) -> String {
    reply.body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_contact_registers_signs_in_reads_and_updates_itself() {
    let app = spawn_app().await;
    let registered = register(&app, PUBLIC_KEY, "Ria@Example.com", "ria-password-1").await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let contact_id = registered.body["contact"]["id"].as_str().unwrap().to_string();
    assert_eq!(registered.body["contact"]["first_name"], "Ria");
    assert_eq!(registered.body["organisations"][0]["type"], "BUSINESS");
    assert_eq!(registered.body["expiration_date"], START_S + 900);
    let token = access(&registered);

    // The back office sees the same contact, with its wallet.
    let seen = app.get(&format!("/backoffice/v2/contacts/{contact_id}")).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["email_address"], "ria@example.com");

    // The same email again in the same business: refused, nothing made.
    let again = register(&app, PUBLIC_KEY, "ria@example.COM", "other-password-1").await;
    assert_eq!(again.status, 409, "{}", again.body);
    for (body, parameter) in [
        (
            json!({"first_name": "A", "last_name": "B", "identification": {"email": "x@example.com", "password": "short"}}),
            "identification.password",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "identification": {"email": "not-mail", "password": "long-enough-1"}}),
            "identification.email",
        ),
        (
            json!({"last_name": "B", "identification": {"email": "y@example.com", "password": "long-enough-1"}}),
            "first_name",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "identification": {"provider": "APPLE", "token": "t"}}),
            "identification.provider",
        ),
    ] {
        let reply = app
            .with_key(PUBLIC_KEY, "POST", "/self-service/v2/contacts/register", Some(&body))
            .await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.body["parameters"][0], parameter, "{}", reply.body);
    }
    assert_eq!(sign_in(&app, PUBLIC_KEY, "x@example.com", "short").await.status, 401);

    // Sign in; wrong password and unknown email are the same 401.
    let signed_in = sign_in(&app, PUBLIC_KEY, "RIA@example.com", "ria-password-1").await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(signed_in.body["contact"]["id"], contact_id);
    for (email, password) in [
        ("ria@example.com", "ria-password-2"),
        ("nobody@example.com", "ria-password-1"),
    ] {
        let reply = sign_in(&app, PUBLIC_KEY, email, password).await;
        assert_eq!(reply.status, 401, "{}", reply.body);
        assert_eq!(reply.error_code(), "CRM.EXCEPTIONS.INVALIDLOGINEXCEPTION");
    }

    // Read and update itself.
    let path = format!("/self-service/v2/contacts/{contact_id}");
    let own = as_contact(&app, &token, "GET", &path, None).await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.body["sms_opt_out"], true);
    assert_eq!(own.body["referral_code"], "FRIEND-1");
    assert_eq!(own.body["wallet"]["id"], seen.body["wallet"]["id"]);
    let updated = as_contact(
        &app,
        &token,
        "PUT",
        &path,
        Some(
            &json!({"last_name": "Renamed", "phone": {"type": "MOBILE", "number": "99123456", "country_code": "CYP"}}),
        ),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let bad = as_contact(&app, &token, "PUT", &path, Some(&json!({"email": "nope"}))).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let own = as_contact(&app, &token, "GET", &path, None).await;
    assert_eq!(own.body["last_name"], "Renamed");
    assert_eq!(own.body["first_name"], "Ria");
    assert_eq!(
        own.body["email"], "ria@example.com",
        "the refused update changed nothing"
    );
    assert_eq!(own.body["phone"]["number"], "99123456");

    // Durable: after a restart the contact signs in and its profile is as left.
    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    let back = sign_in(&app, PUBLIC_KEY, "ria@example.com", "ria-password-1").await;
    assert_eq!(back.status, 200, "{}", back.body);
    let own = as_contact(&app, &access(&back), "GET", &path, None).await;
    assert_eq!(own.body["last_name"], "Renamed");
}

#[tokio::test]
async fn contact_routes_reach_only_the_tokens_own_contact() {
    let app = spawn_app().await;
    let ann = register(&app, PUBLIC_KEY, "ann@example.com", "ann-password-1").await;
    let bob = register(&app, PUBLIC_KEY, "bob@example.com", "bob-password-1").await;
    let ann_token = access(&ann);
    let ann_id = ann.body["contact"]["id"].as_str().unwrap().to_string();
    let bob_id = bob.body["contact"]["id"].as_str().unwrap().to_string();
    let admin = app
        .with_key(
            PUBLIC_KEY,
            "POST",
            "/backoffice/v2/users/authenticate",
            Some(&json!({"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
        )
        .await;
    let user_token = access(&admin);

    let routes = |id: &str| {
        vec![
            ("GET", format!("/self-service/v2/contacts/{id}"), None),
            (
                "PUT",
                format!("/self-service/v2/contacts/{id}"),
                Some(json!({"last_name": "Hacked"})),
            ),
            ("POST", format!("/self-service/v2/contacts/{id}/sign_out"), None),
            ("DELETE", format!("/self-service/v2/contacts/{id}"), None),
        ]
    };
    // Ann's token on Bob's routes: 403, and Bob is untouched.
    for (method, path, body) in routes(&bob_id) {
        let reply = as_contact(&app, &ann_token, method, &path, body.as_ref()).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.body);
    }
    // A public key alone, a user's token, a secret key: not a contact's token (the secret
    // key may unregister a contact, as the contract allows: below).
    for (method, path, body) in routes(&ann_id) {
        let reply = app.with_key(PUBLIC_KEY, method, &path, body.as_ref()).await;
        assert_eq!(reply.status, 401, "public key {method} {path}: {}", reply.body);
        if method != "DELETE" {
            let reply = app.with_key(SECRET_KEY, method, &path, body.as_ref()).await;
            assert_eq!(reply.status, 401, "secret key {method} {path}: {}", reply.body);
        }
        let reply = as_contact(&app, &user_token, method, &path, body.as_ref()).await;
        assert_eq!(reply.status, 403, "user token {method} {path}: {}", reply.body);
    }
    // A contact's token reaches no back-office call.
    let back_office = as_contact(
        &app,
        &ann_token,
        "GET",
        &format!("/backoffice/v2/contacts/{ann_id}"),
        None,
    )
    .await;
    assert_eq!(back_office.status, 403, "{}", back_office.body);
    let bob_seen = app.get(&format!("/backoffice/v2/contacts/{bob_id}")).await;
    assert_eq!(bob_seen.body["last_name"], "Reg");

    // The business's server unregisters a contact with its secret key; a test key of the
    // business does not reach its live contacts.
    let bob_path = format!("/self-service/v2/contacts/{bob_id}");
    let test_secret = app
        .post("/backoffice/v2/api_keys", &json!({"type": "SECRET", "mode": "TEST"}))
        .await;
    let test_secret = test_secret.body["key"].as_str().unwrap().to_string();
    let reply = app.with_key(&test_secret, "DELETE", &bob_path, None).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    let reply = app.with_key(SECRET_KEY, "DELETE", &bob_path, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let gone = app.get(&format!("/backoffice/v2/contacts/{bob_id}")).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert_eq!(
        as_contact(&app, &access(&bob), "GET", &bob_path, None).await.status,
        401,
        "the unregistered contact's sessions end"
    );

    // A token of a test-mode app does not reach live contacts, nor the other way round.
    let test_key = app
        .post("/backoffice/v2/api_keys", &json!({"type": "PUBLIC", "mode": "TEST"}))
        .await;
    let test_key = test_key.body["key"].as_str().unwrap().to_string();
    assert_eq!(
        sign_in(&app, &test_key, "ann@example.com", "ann-password-1")
            .await
            .status,
        401
    );
    let test_ann = register(&app, &test_key, "ann@example.com", "ann-test-password").await;
    assert_eq!(
        test_ann.status, 201,
        "the test tenant has its own identities: {}",
        test_ann.body
    );
    assert_ne!(test_ann.body["contact"]["id"], ann.body["contact"]["id"]);

    // Refresh rotates; a reused refresh token ends the session; sign-out ends another.
    let refresh = |token: String| {
        let app = &app;
        async move {
            app.call(
                "POST",
                "/self-service/v2/contacts/refresh",
                &[("authorization", &format!("Bearer {token}"))],
                None,
            )
            .await
        }
    };
    let first_refresh = ann.body["refresh_token"].as_str().unwrap().to_string();
    let rotated = refresh(first_refresh.clone()).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_eq!(rotated.body["contact"]["id"], ann_id);
    let rotated_access = access(&rotated);
    let own = format!("/self-service/v2/contacts/{ann_id}");
    assert_eq!(as_contact(&app, &rotated_access, "GET", &own, None).await.status, 200);
    assert_eq!(refresh(first_refresh).await.status, 401);
    assert_eq!(as_contact(&app, &rotated_access, "GET", &own, None).await.status, 401);
    let user_refresh = admin.body["refresh_token"].as_str().unwrap().to_string();
    let wrong_kind = refresh(user_refresh).await;
    assert_eq!(
        wrong_kind.status, 401,
        "a user's refresh token is no contact's: {}",
        wrong_kind.body
    );

    let session = sign_in(&app, PUBLIC_KEY, "ann@example.com", "ann-password-1").await;
    let session_token = access(&session);
    let session_refresh = session.body["refresh_token"].as_str().unwrap().to_string();
    let out = as_contact(&app, &session_token, "POST", &format!("{own}/sign_out"), None).await;
    assert_eq!(out.status, 204, "{}", out.body);
    assert_eq!(as_contact(&app, &session_token, "GET", &own, None).await.status, 401);
    assert_eq!(refresh(session_refresh).await.status, 401);
}

/// Unregistering: refused while the wallet holds money or a shortfall (nothing changes);
/// once settled, the contact, its identities and every session go at once, purchases can no
/// longer name it, its books stay, and the email registers again as a new contact.
#[tokio::test]
async fn a_contact_unregisters_once_its_wallet_is_settled() {
    let app = spawn_app().await;
    let offer = app.percentage_offer(10, None).await;
    let registered = register(&app, PUBLIC_KEY, "leaver@example.com", "leaver-password-1").await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let contact_id = registered.body["contact"]["id"].as_str().unwrap().to_string();
    let token = access(&registered);
    let other_session = sign_in(&app, PUBLIC_KEY, "leaver@example.com", "leaver-password-1").await;
    let own = format!("/self-service/v2/contacts/{contact_id}");
    let contact = app.get(&format!("/backoffice/v2/contacts/{contact_id}")).await;
    let wallet_id = contact.body["wallet"]["id"].as_str().unwrap().to_string();
    let wallet_code = contact.body["wallet"]["code"].as_str().unwrap().to_string();

    let earned = app.purchase(&contact_id, "L-1", "100.00", None).await;
    assert_eq!(earned.status, 201, "{}", earned.body);
    let refused = as_contact(&app, &token, "DELETE", &own, None).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.error_code(), "CRM.EXCEPTIONS.INVALIDSTATEEXCEPTION");
    assert_eq!(as_contact(&app, &token, "GET", &own, None).await.status, 200);
    app.set_offer_state(&offer, "INACTIVE").await;
    let still = app.purchase(&contact_id, "L-2", "10.00", Some(("10.00", false))).await;
    assert_eq!(still.status, 201, "the contact still buys and spends: {}", still.body);
    assert_eq!(
        dec(&app.wallet(&wallet_id).await["balances"][0]["total"]),
        rust_decimal::Decimal::ZERO
    );

    let gone = as_contact(&app, &token, "DELETE", &own, None).await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert_eq!(as_contact(&app, &token, "GET", &own, None).await.status, 401);
    assert_eq!(
        as_contact(&app, &access(&other_session), "GET", &own, None)
            .await
            .status,
        401,
        "every session ended"
    );
    let refresh = app
        .call(
            "POST",
            "/self-service/v2/contacts/refresh",
            &[(
                "authorization",
                &format!("Bearer {}", other_session.body["refresh_token"].as_str().unwrap()),
            )],
            None,
        )
        .await;
    assert_eq!(refresh.status, 401);
    assert_eq!(
        sign_in(&app, PUBLIC_KEY, "leaver@example.com", "leaver-password-1")
            .await
            .status,
        401
    );
    assert_eq!(
        app.get(&format!("/backoffice/v2/contacts/{contact_id}")).await.status,
        404
    );
    assert_eq!(app.purchase(&contact_id, "L-3", "5.00", None).await.status, 404);
    let by_wallet_code = app
        .post(
            "/backoffice/v2/purchases",
            &json!({"contact": {"wallet_code": wallet_code}, "reference_number": "L-4", "transaction_amounts": {"total": 5}}),
        )
        .await;
    assert_eq!(by_wallet_code.status, 404, "{}", by_wallet_code.body);
    // The books stay: the wallet's journal and the purchases.
    let journal = app.journal(&wallet_id).await;
    assert_eq!(journal.len(), 2, "the award and the spend");
    assert_eq!(
        app.get(&format!(
            "/backoffice/v2/purchases/{}",
            earned.body["id"].as_str().unwrap()
        ))
        .await
        .status,
        200
    );

    // The email registers again, as a new contact; all of it survives a restart.
    let again = register(&app, PUBLIC_KEY, "leaver@example.com", "leaver-password-2").await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_ne!(again.body["contact"]["id"], contact_id.as_str());
    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    assert_eq!(
        app.get(&format!("/backoffice/v2/contacts/{contact_id}")).await.status,
        404
    );
    assert_eq!(app.purchase(&contact_id, "L-5", "5.00", None).await.status, 404);
    let signed_in = sign_in(&app, PUBLIC_KEY, "leaver@example.com", "leaver-password-2").await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    assert_eq!(signed_in.body["contact"]["id"], again.body["contact"]["id"]);
}

/// A service owner's registry: its contact signs up to businesses under it (each keeps its
/// own contact and wallet for it), lists them with wallets, switches into one, signs off
/// (sessions there end, the wallet stays) and signs up again to the same wallet; businesses
/// of other networks and other contacts' routes are refused.
#[tokio::test]
async fn a_registry_contact_signs_up_to_and_off_businesses_of_its_service_owner() {
    use rewards_engine::domain::access::Caller;
    use rewards_engine::domain::ids::Mode;
    use rewards_engine::domain::organisation::{ApiKeyKind, OrganisationType};
    use rewards_engine::engine::NewApiKey;

    let app = spawn_app().await;
    let owner = app
        .engine
        .create_root_organisation("Coffee Guild", OrganisationType::ServiceOwner, None)
        .await
        .unwrap();
    let issue = |kind| {
        let engine = app.engine.clone();
        async move {
            let new = NewApiKey {
                organisation: None,
                kind,
                mode: Mode::Live,
                name: "guild".into(),
            };
            engine
                .create_api_key(&Caller::key(owner.id, Mode::Live), new)
                .await
                .unwrap()
                .key
                .expect("a new key is shown once")
        }
    };
    let owner_public = issue(ApiKeyKind::Public).await;
    let owner_secret = issue(ApiKeyKind::Secret).await;
    let mut businesses = Vec::new();
    for name in ["Brew Coffee", "Bean There"] {
        let created = app
            .with_key(
                &owner_secret,
                "POST",
                "/backoffice/v2/organisations",
                Some(&json!({"name": name, "type": "BUSINESS"})),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        businesses.push(created.body["id"].as_str().unwrap().to_string());
    }
    let brew = &businesses[0];

    let registered = register(&app, &owner_public, "guild@example.com", "guild-password-1").await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    assert_eq!(registered.body["organisations"][0]["type"], "SERVICE_OWNER");
    let contact_id = registered.body["contact"]["id"].as_str().unwrap().to_string();
    let token = access(&registered);
    let memberships = format!("/self-service/v2/contacts/{contact_id}/organisations");
    let sign_up = json!({"action": "SIGNUP", "organisation_id": brew, "email_opt_out": true});

    // Signing up gives a token acting in the business, as its own contact there.
    let joined = as_contact(&app, &token, "POST", &memberships, Some(&sign_up)).await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    assert_eq!(joined.body["organisations"][0]["id"], brew.as_str());
    let member_id = joined.body["contact"]["id"].as_str().unwrap().to_string();
    assert_ne!(member_id, contact_id);
    assert_eq!(joined.body["contact"]["first_name"], "Ria");
    // The contract names this expiry `exp` and types it as a date string.
    assert_eq!(joined.body["exp"], "2027-01-15T08:15:00Z", "{}", joined.body);
    assert!(joined.body.get("expiration_date").is_none(), "{}", joined.body);
    let again = as_contact(&app, &token, "POST", &memberships, Some(&sign_up)).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.body["contact"]["id"],
        member_id.as_str(),
        "signing up twice joins once"
    );

    // The business sees its contact; its purchases award into the member's wallet.
    let brew_key = app
        .with_key(
            &owner_secret,
            "POST",
            "/backoffice/v2/api_keys",
            Some(&json!({"type": "SECRET", "organisation_id": brew})),
        )
        .await;
    let brew_key = brew_key.body["key"].as_str().unwrap().to_string();
    let offer = app
        .with_key(
            &brew_key,
            "POST",
            "/backoffice/v2/reward_offers",
            Some(&json!({"name": "Ten", "award": {"type": "PERCENTAGE", "value": 10}})),
        )
        .await;
    assert_eq!(offer.status, 201, "{}", offer.body);
    let sale = app
        .with_key(
            &brew_key,
            "POST",
            "/backoffice/v2/purchases",
            Some(
                &json!({"contact": {"id": member_id}, "reference_number": "G-1", "transaction_amounts": {"total": 50}}),
            ),
        )
        .await;
    assert_eq!(sale.status, 201, "{}", sale.body);

    let listed = as_contact(&app, &token, "GET", &format!("{memberships}?include_wallet=true"), None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let content = listed.body["content"].as_array().unwrap();
    assert_eq!(content.len(), 2, "{}", listed.body);
    assert_eq!(content[0]["name"], "Coffee Guild");
    assert_eq!(content[1]["name"], "Brew Coffee");
    assert_eq!(
        dec(&content[1]["wallet"]["balance"]),
        rust_decimal::Decimal::new(500, 2)
    );
    let filtered = as_contact(&app, &token, "GET", &format!("{memberships}?name=brew"), None).await;
    assert_eq!(filtered.body["content"].as_array().unwrap().len(), 1);
    assert!(filtered.body["content"][0].get("wallet").is_none());

    // Switching gives a token acting in a business the contact joined, and nowhere else.
    let switched = as_contact(
        &app,
        &token,
        "POST",
        &format!("/self-service/v2/organisations/{brew}/switch"),
        None,
    )
    .await;
    assert_eq!(switched.status, 200, "{}", switched.body);
    assert_eq!(switched.body["contact"]["id"], member_id.as_str());
    // Here the contract types `expiration_date` as a date string, not epoch seconds.
    assert_eq!(
        switched.body["expiration_date"], "2027-01-15T08:15:00Z",
        "{}",
        switched.body
    );
    let member_token = access(&switched);
    let member_path = format!("/self-service/v2/contacts/{member_id}");
    assert_eq!(
        as_contact(&app, &member_token, "GET", &member_path, None).await.status,
        200
    );
    let not_joined = format!("/self-service/v2/organisations/{}/switch", businesses[1]);
    assert_eq!(as_contact(&app, &token, "POST", &not_joined, None).await.status, 404);

    // Refusals change nothing: another network's business, an organisation that is not a
    // business, an unknown action, the registry itself, another contact's route.
    let bootstrap_business = app
        .engine
        .business_of(app.engine.authenticate_api_key(SECRET_KEY).unwrap().organisation)
        .unwrap();
    for (body, status) in [
        (
            json!({"action": "SIGNUP", "organisation_id": bootstrap_business.to_string()}),
            404,
        ),
        (json!({"action": "SIGNUP", "organisation_id": "not-an-id"}), 404),
        (json!({"action": "JOIN", "organisation_id": brew}), 400),
        (json!({"action": "SIGNOFF", "organisation_id": businesses[1]}), 404),
        (
            json!({"action": "SIGNOFF", "organisation_id": owner.id.to_string()}),
            409,
        ),
    ] {
        let refused = as_contact(&app, &token, "POST", &memberships, Some(&body)).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.body);
    }
    let other = register(&app, &owner_public, "other@example.com", "other-password-1").await;
    let theirs = format!(
        "/self-service/v2/contacts/{}/organisations",
        other.body["contact"]["id"].as_str().unwrap()
    );
    assert_eq!(as_contact(&app, &token, "GET", &theirs, None).await.status, 403);
    assert_eq!(
        as_contact(&app, &token, "POST", &theirs, Some(&sign_up)).await.status,
        403
    );
    let unregister = as_contact(
        &app,
        &token,
        "DELETE",
        &format!("/self-service/v2/contacts/{contact_id}"),
        None,
    )
    .await;
    assert_eq!(unregister.status, 409, "still a member: {}", unregister.body);

    // Signing off ends the sessions there and keeps the wallet; signing up again resumes it.
    let sign_off = json!({"action": "SIGNOFF", "organisation_id": brew});
    let left = as_contact(&app, &token, "POST", &memberships, Some(&sign_off)).await;
    assert_eq!(left.status, 200, "{}", left.body);
    assert_eq!(
        as_contact(&app, &member_token, "GET", &member_path, None).await.status,
        401
    );
    let listed = as_contact(&app, &token, "GET", &memberships, None).await;
    assert_eq!(listed.body["content"].as_array().unwrap().len(), 1);
    assert_eq!(
        as_contact(&app, &token, "POST", &memberships, Some(&sign_off))
            .await
            .status,
        404
    );
    let back = as_contact(&app, &token, "POST", &memberships, Some(&sign_up)).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["contact"]["id"], member_id.as_str());

    // A member that unregisters itself in a business leaves the list; signing up again
    // makes a new one.
    let bean_up = json!({"action": "SIGNUP", "organisation_id": businesses[1]});
    let bean = as_contact(&app, &token, "POST", &memberships, Some(&bean_up)).await;
    assert_eq!(bean.status, 200, "{}", bean.body);
    let bean_member = bean.body["contact"]["id"].as_str().unwrap().to_string();
    let left_itself = as_contact(
        &app,
        &access(&bean),
        "DELETE",
        &format!("/self-service/v2/contacts/{bean_member}"),
        None,
    )
    .await;
    assert_eq!(left_itself.status, 200, "{}", left_itself.body);
    let listed = as_contact(&app, &token, "GET", &memberships, None).await;
    assert_eq!(listed.body["content"].as_array().unwrap().len(), 2, "{}", listed.body);
    let anew = as_contact(&app, &token, "POST", &memberships, Some(&bean_up)).await;
    assert_eq!(anew.status, 200, "{}", anew.body);
    assert_ne!(anew.body["contact"]["id"], bean_member.as_str());

    // All of it survives a restart.
    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    let signed_in = sign_in(&app, &owner_public, "guild@example.com", "guild-password-1").await;
    // Signing in lists the organisations joined: the registry, then the businesses.
    let organisations = signed_in.body["organisations"].as_array().unwrap();
    assert_eq!(organisations.len(), 3, "{}", signed_in.body);
    assert_eq!(organisations[0]["id"], owner.id.to_string());
    assert!(organisations
        .iter()
        .any(|organisation| organisation["id"] == brew.as_str() && organisation["type"] == "BUSINESS"));
    let listed = as_contact(
        &app,
        &access(&signed_in),
        "GET",
        &format!("{memberships}?include_wallet=true"),
        None,
    )
    .await;
    // The joined businesses follow the registry in business-id order, so find Brew by id.
    let brew_listed = listed.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|joined| joined["id"] == brew.as_str())
        .unwrap_or_else(|| panic!("{}", listed.body));
    assert_eq!(
        dec(&brew_listed["wallet"]["balance"]),
        rust_decimal::Decimal::new(500, 2)
    );
}
