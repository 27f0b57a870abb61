//! Back-office users and their tokens: sign-in, roles, switching into organisations below,
//! refresh rotation with reuse detection, signing-key rotation and the JWKS; and the attacks
//! (`alg: none`, a foreign signature, a tampered or expired token, live against test), each
//! refused with nothing changed.

use crate::helpers::user_sign_in as sign_in;
use crate::helpers::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rewards_engine::Clock;
use serde_json::{json, Value};

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn as_user(app: &TestApp, token: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    app.call(method, path, &[("authorization", &bearer(token))], body).await
}

fn token(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["access_token"].as_str().unwrap().to_string()
}

fn parts(token: &str) -> (Value, Value, String) {
    let mut pieces = token.split('.');
    let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(pieces.next().unwrap()).unwrap()).unwrap();
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(pieces.next().unwrap()).unwrap()).unwrap();
    (header, claims, pieces.next().unwrap().to_string())
}

#[tokio::test]
async fn users_sign_in_act_by_role_and_switch_into_organisations_below() {
    let app = spawn_app().await;
    let jwks = app.call("GET", "/.well-known/jwks.json", &[], None).await;
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 1);

    // The bootstrap admin signs in with the app's public key.
    let admin = sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin_token = token(&admin);
    assert_eq!(admin.body["mode"], "LIVE");
    assert_eq!(admin.body["user"]["organisations"][0]["role"], "ADMIN");
    assert_eq!(admin.body["expiration_date"], START_S + 900);
    let business_id = admin.body["organisation_id"].as_str().unwrap().to_string();

    // The token verifies against the published key, independently of the server.
    let (header, claims, _) = parts(&admin_token);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], jwks.body["keys"][0]["kid"]);
    let key = jsonwebtoken::DecodingKey::from_ed_components(jwks.body["keys"][0]["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.validate_exp = false;
    let decoded = jsonwebtoken::decode::<Value>(&admin_token, &key, &validation).unwrap();
    assert_eq!(decoded.claims["org"], business_id);
    assert_eq!(claims["typ"], "user");

    // Wrong password and unknown user: the same 401.
    for (email, password) in [
        (ADMIN_EMAIL, "wrong-password-000"),
        ("nobody@suite.example", ADMIN_PASSWORD),
    ] {
        let reply = sign_in(&app, PUBLIC_KEY, email, password).await;
        assert_eq!(reply.status, 401, "{}", reply.body);
        assert_eq!(reply.error_code(), "CRM.EXCEPTIONS.INVALIDLOGINEXCEPTION");
    }

    // The admin's token works the back office like the secret key.
    let merchant = as_user(
        &app,
        &admin_token,
        "POST",
        "/backoffice/v2/organisations",
        Some(&json!({"name": "Shop", "type": "MERCHANT"})),
    )
    .await;
    assert_eq!(merchant.status, 201, "{}", merchant.body);
    let merchant_id = merchant.body["id"].as_str().unwrap().to_string();
    let contact = as_user(
        &app,
        &admin_token,
        "POST",
        "/backoffice/v2/contacts",
        Some(&json!({"first_name": "Una", "last_name": "User", "code": "U-1"})),
    )
    .await;
    assert_eq!(contact.status, 201, "{}", contact.body);

    // A member of the merchant: bad input first, then the real one, then a duplicate.
    for (body, parameter) in [
        (
            json!({"email": "not-an-email", "password": "long-enough-pass"}),
            "email",
        ),
        (json!({"email": "mia@shop.example", "password": "short"}), "password"),
        (
            json!({"email": "mia@shop.example", "password": "long-enough-pass", "role": "OWNER"}),
            "role",
        ),
    ] {
        let reply = as_user(&app, &admin_token, "POST", "/backoffice/v2/users", Some(&body)).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.body["parameters"][0], parameter);
    }
    let member_body = json!({"email": "Mia@Shop.example", "password": "long-enough-pass", "first_name": "Mia", "organisation_id": merchant_id});
    let member = as_user(&app, &admin_token, "POST", "/backoffice/v2/users", Some(&member_body)).await;
    assert_eq!(member.status, 201, "{}", member.body);
    assert_eq!(member.body["email"], "mia@shop.example");
    assert_eq!(member.body["organisations"][0]["role"], "MEMBER");
    let duplicate = app.post("/backoffice/v2/users", &member_body).await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.body);
    let member_id = member.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        as_user(
            &app,
            &admin_token,
            "GET",
            &format!("/backoffice/v2/users/{member_id}"),
            None
        )
        .await
        .status,
        200
    );

    // The member acts in the merchant only, and may not manage keys, users or switch up.
    let member_token = token(&sign_in(&app, PUBLIC_KEY, "mia@shop.example", "long-enough-pass").await);
    let own = as_user(
        &app,
        &member_token,
        "GET",
        &format!("/backoffice/v2/organisations/{merchant_id}"),
        None,
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.body);
    let up = as_user(
        &app,
        &member_token,
        "GET",
        &format!("/backoffice/v2/organisations/{business_id}"),
        None,
    )
    .await;
    assert_eq!(up.status, 404, "{}", up.body);
    let key = as_user(
        &app,
        &member_token,
        "POST",
        "/backoffice/v2/api_keys",
        Some(&json!({"type": "SECRET"})),
    )
    .await;
    assert_eq!(key.status, 403, "{}", key.body);
    let user = as_user(
        &app,
        &member_token,
        "POST",
        "/backoffice/v2/users",
        Some(&json!({"email": "x@shop.example", "password": "long-enough-pass"})),
    )
    .await;
    assert_eq!(user.status, 403, "{}", user.body);
    let switch_up = as_user(
        &app,
        &member_token,
        "POST",
        &format!("/backoffice/v2/organisations/switch/{business_id}"),
        None,
    )
    .await;
    assert_eq!(switch_up.status, 403, "{}", switch_up.body);
    let admin_user = app.engine.authenticate_api_key(SECRET_KEY).unwrap();
    assert_eq!(admin_user.organisation.to_string(), business_id);
    let see_admin = as_user(
        &app,
        &member_token,
        "GET",
        "/backoffice/v2/users/00000000-0000-0000-0000-000000000000",
        None,
    )
    .await;
    assert_eq!(see_admin.status, 404);

    // The admin switches into the merchant: the new token acts there, still as an admin.
    let switched = as_user(
        &app,
        &admin_token,
        "POST",
        &format!("/backoffice/v2/organisations/switch/{merchant_id}"),
        None,
    )
    .await;
    let switched_token = token(&switched);
    assert_eq!(switched.body["organisation_id"], merchant_id);
    let (_, claims, _) = parts(&switched_token);
    assert_eq!(claims["org"], merchant_id);
    assert_eq!(claims["role"], "ADMIN");
    let up = as_user(
        &app,
        &switched_token,
        "GET",
        &format!("/backoffice/v2/organisations/{business_id}"),
        None,
    )
    .await;
    assert_eq!(up.status, 404);
    // A secret key is no user: it cannot switch.
    let by_key = app
        .with_key(
            SECRET_KEY,
            "POST",
            &format!("/backoffice/v2/organisations/switch/{merchant_id}"),
            None,
        )
        .await;
    assert_eq!(by_key.status, 403, "{}", by_key.body);

    // Tokens are checked against the engine's clock: 900 s later the access token is over.
    app.clock.advance(900);
    let late = as_user(
        &app,
        &admin_token,
        "GET",
        &format!("/backoffice/v2/organisations/{business_id}"),
        None,
    )
    .await;
    assert_eq!(late.status, 401, "{}", late.body);
    assert_eq!(late.error_code(), "CRM.EXCEPTIONS.INVALIDTOKENEXCEPTION");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_session() {
    let app = spawn_app().await;
    let first = sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let first_refresh = first.body["refresh_token"].as_str().unwrap().to_string();
    let refresh = |token: String| {
        let app = &app;
        async move {
            app.call(
                "POST",
                "/backoffice/v2/users/refresh",
                &[],
                Some(&json!({"refresh_token": token})),
            )
            .await
        }
    };
    app.clock.advance(60);
    let second = refresh(first_refresh.clone()).await;
    let second_access = token(&second);
    let second_refresh = second.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(second.body["expiration_date"], START_S + 60 + 900);
    let path = "/backoffice/v2/api_keys";
    assert_eq!(as_user(&app, &second_access, "GET", path, None).await.status, 200);

    // The refresh token may also come as the bearer token.
    let third = app
        .call(
            "POST",
            "/backoffice/v2/users/refresh",
            &[("authorization", &bearer(&second_refresh))],
            None,
        )
        .await;
    let third_access = token(&third);
    let third_refresh = third.body["refresh_token"].as_str().unwrap().to_string();

    // Someone replays the first (spent) refresh token: refused, and the whole session ends.
    let replay = refresh(first_refresh).await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert!(replay.body["message"].as_str().unwrap().contains("already used"));
    assert_eq!(refresh(third_refresh).await.status, 401);
    for access in [&second_access, &third_access] {
        assert_eq!(as_user(&app, access, "GET", path, None).await.status, 401);
    }
    assert_eq!(refresh("rt_made_up".into()).await.status, 401);

    // A new sign-in is a new session, unaffected; it survives a restart, refresh included.
    let fresh = sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let fresh_access = token(&fresh);
    let fresh_refresh = fresh.body["refresh_token"].as_str().unwrap().to_string();
    let (dir, clock) = app.stop().await;
    let app = spawn_app_with(dir, clock, &[]).await;
    assert_eq!(as_user(&app, &fresh_access, "GET", path, None).await.status, 200);
    let after = app
        .call(
            "POST",
            "/backoffice/v2/users/refresh",
            &[],
            Some(&json!({"refresh_token": fresh_refresh})),
        )
        .await;
    assert_eq!(after.status, 200, "{}", after.body);
}

#[tokio::test]
async fn forged_expired_and_cross_mode_tokens_are_refused() {
    let app = spawn_app().await;
    let signed_in = sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let good = token(&signed_in);
    let business_id = signed_in.body["organisation_id"].as_str().unwrap().to_string();
    let path = format!("/backoffice/v2/organisations/{business_id}");
    assert_eq!(as_user(&app, &good, "GET", &path, None).await.status, 200);
    let (header, claims, signature) = parts(&good);

    // alg: none, with and without the original signature.
    let mut none_header = header.clone();
    none_header["alg"] = json!("none");
    let none = format!("{}.{}.", encode_part(&none_header), encode_part(&claims));
    let none_signed = format!("{}.{}.{signature}", encode_part(&none_header), encode_part(&claims));
    // HS256 with the public key as the secret (the classic key-confusion attack).
    let mut hs_header = header.clone();
    hs_header["alg"] = json!("HS256");
    let jwks = app.call("GET", "/.well-known/jwks.json", &[], None).await;
    let x = jwks.body["keys"][0]["x"].as_str().unwrap();
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = header["kid"].as_str().map(str::to_string);
    let confused = jsonwebtoken::encode(&hs, &claims, &jsonwebtoken::EncodingKey::from_secret(x.as_bytes())).unwrap();
    // Signed by a key of our own under the server's kid.
    let mut foreign_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    foreign_header.kid = header["kid"].as_str().map(str::to_string);
    let pkcs8 = ed25519_pkcs8([42u8; 32]);
    let foreign = jsonwebtoken::encode(
        &foreign_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(&pkcs8),
    )
    .unwrap();
    // The real signature over a changed payload (acting in another organisation, or longer).
    let mut tampered_claims = claims.clone();
    tampered_claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 86_400);
    let tampered = format!("{}.{}.{signature}", encode_part(&header), encode_part(&tampered_claims));

    for (name, forged) in [
        ("alg none", none),
        ("alg none with signature", none_signed),
        ("HS256 key confusion", confused),
        ("foreign key", foreign),
        ("tampered payload", tampered),
        ("garbage", "not.a.token".to_string()),
    ] {
        let reply = as_user(&app, &forged, "GET", &path, None).await;
        assert_eq!(reply.status, 401, "{name}: {}", reply.body);
        let create = as_user(
            &app,
            &forged,
            "POST",
            "/backoffice/v2/organisations",
            Some(&json!({"name": format!("by {name}"), "type": "MERCHANT"})),
        )
        .await;
        assert_eq!(create.status, 401, "{name}: {}", create.body);
    }
    let network = app
        .get(&format!("/backoffice/v2/organisations/{business_id}/network"))
        .await;
    assert_eq!(
        network.body["content"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );
    let not_bearer = app
        .call("GET", &path, &[("authorization", &format!("Basic {good}"))], None)
        .await;
    assert_eq!(not_bearer.status, 401);

    // Live and test never meet: a test key signs in to test mode; a live token with a test
    // key is refused.
    let test_key = app
        .post("/backoffice/v2/api_keys", &json!({"type": "PUBLIC", "mode": "TEST"}))
        .await;
    let test_key = test_key.body["key"].as_str().unwrap().to_string();
    let test_session = sign_in(&app, &test_key, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(test_session.body["mode"], "TEST");
    let live_contact = app.create_contact("LIVE-C").await;
    let test_token = token(&test_session);
    let contact_path = format!("/backoffice/v2/contacts/{}", live_contact["id"].as_str().unwrap());
    assert_eq!(as_user(&app, &test_token, "GET", &contact_path, None).await.status, 404);
    let mixed = app
        .call(
            "GET",
            &path,
            &[("authorization", &bearer(&good)), ("api_key", &test_key)],
            None,
        )
        .await;
    assert_eq!(mixed.status, 403, "{}", mixed.body);

    // Rotating the signing key: tokens already out keep working until they expire; new
    // ones carry the new kid; the old key leaves the JWKS once retired, and a token it
    // signed is refused from then on even if it claims a later expiry (retirement), while
    // a token of the new key is refused once its own lifetime is over (expiry).
    let (old_header, old_claims, _) = parts(&good);
    let old_kid = old_header["kid"].as_str().unwrap().to_string();
    let old_seed = app
        .engine
        .store()
        .signing_keys()
        .unwrap()
        .into_iter()
        .find(|key| key.kid == old_kid)
        .expect("the old key is stored")
        .seed;
    // A token the old key signs with a day to run: only retirement can refuse it.
    let mut long_claims = old_claims.clone();
    long_claims["exp"] = json!(old_claims["exp"].as_i64().unwrap() + 86_400);
    let mut old_key_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    old_key_header.kid = Some(old_kid.clone());
    let long_lived = jsonwebtoken::encode(
        &old_key_header,
        &long_claims,
        &jsonwebtoken::EncodingKey::from_ed_der(&ed25519_pkcs8(old_seed)),
    )
    .unwrap();
    assert_eq!(as_user(&app, &long_lived, "GET", &path, None).await.status, 200);
    let new_kid = app.engine.rotate_signing_key().await.unwrap();
    assert_eq!(as_user(&app, &good, "GET", &path, None).await.status, 200);
    let jwks = app.call("GET", "/.well-known/jwks.json", &[], None).await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 2);
    let newer = token(&sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, ADMIN_PASSWORD).await);
    assert_eq!(parts(&newer).0["kid"], new_kid);
    // Just before the old key retires: it still verifies.
    app.clock.advance(899);
    assert_eq!(as_user(&app, &long_lived, "GET", &path, None).await.status, 200);
    app.clock.advance(1);
    let jwks = app.call("GET", "/.well-known/jwks.json", &[], None).await;
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks.body["keys"][0]["kid"], new_kid);
    let refused = as_user(&app, &long_lived, "GET", &path, None).await;
    assert_eq!(refused.status, 401, "the old key retired: {}", refused.body);
    assert!(
        app.clock.now_s() < long_claims["exp"].as_i64().unwrap(),
        "refused by retirement, not expiry"
    );
    assert_eq!(as_user(&app, &good, "GET", &path, None).await.status, 401);
    // The new key stays active; a token it signs lives until its own `exp`, then expires.
    let fresh = token(&sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, ADMIN_PASSWORD).await);
    let fresh_exp = parts(&fresh).1["exp"].as_i64().unwrap();
    app.clock.advance(fresh_exp - app.clock.now_s() - 1);
    assert_eq!(as_user(&app, &fresh, "GET", &path, None).await.status, 200);
    app.clock.advance(1);
    let expired = as_user(&app, &fresh, "GET", &path, None).await;
    assert_eq!(expired.status, 401, "expired: {}", expired.body);
    let jwks = app.call("GET", "/.well-known/jwks.json", &[], None).await;
    assert_eq!(
        jwks.body["keys"][0]["kid"], new_kid,
        "while its key is still the active one"
    );
}

#[tokio::test]
async fn the_first_start_generates_the_admin_password_when_none_is_set() {
    let app = spawn_app_with(
        temp_dir(),
        rewards_engine::ManualClock::new(START_S),
        &[("REWARDS__BOOTSTRAP__ADMIN_PASSWORD", "")],
    )
    .await;
    let written: Value =
        serde_json::from_slice(&std::fs::read(app.data_dir.path().join("bootstrap.json")).unwrap()).unwrap();
    let password = written["admin_password"].as_str().unwrap();
    assert_eq!(password.len(), 24);
    assert_ne!(password, ADMIN_PASSWORD);
    assert_eq!(sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, password).await.status, 200);
    assert_eq!(sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, ADMIN_PASSWORD).await.status, 401);
}

/// CRM.COM's back-office clients send the user's token bare (`authorization: <jwt>`) with
/// the secret key. The token decides who calls; the key bounds it: same mode, and the
/// token's organisation in the key's network.
#[tokio::test]
async fn a_bare_token_works_with_the_key_and_the_key_bounds_the_token() {
    let app = spawn_app().await;
    let admin = token(&sign_in(&app, PUBLIC_KEY, ADMIN_EMAIL, ADMIN_PASSWORD).await);
    let organisations = "/backoffice/v2/organisations";
    let list = |headers: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (*name, value.as_str())).collect();
            app.call("GET", "/backoffice/v2/api_keys", &headers, None).await
        }
    };
    // Bare, as CRM.COM's clients send it, with and without the key; and with Bearer.
    for headers in [
        vec![("authorization", admin.clone()), ("api_key", SECRET_KEY.to_string())],
        vec![("authorization", admin.clone())],
        vec![("authorization", bearer(&admin)), ("api_key", SECRET_KEY.to_string())],
    ] {
        let reply = list(headers.clone()).await;
        assert_eq!(reply.status, 200, "{headers:?}: {}", reply.body);
    }
    // A scheme other than Bearer is refused.
    let reply = list(vec![("authorization", format!("Basic {admin}"))]).await;
    assert_eq!(reply.status, 401, "{}", reply.body);

    // The token decides: a MEMBER's token with the admin's secret key acts as a MEMBER.
    let member = app
        .post(
            "/backoffice/v2/users",
            &json!({"email": "member@suite.example", "password": "member-password-1", "role": "MEMBER"}),
        )
        .await;
    assert_eq!(member.status, 201, "{}", member.body);
    let member = token(&sign_in(&app, PUBLIC_KEY, "member@suite.example", "member-password-1").await);
    let made = app
        .call(
            "POST",
            organisations,
            &[("authorization", member.as_str()), ("api_key", SECRET_KEY)],
            Some(&json!({"name": "Shop", "type": "MERCHANT"})),
        )
        .await;
    assert_eq!(
        made.status, 403,
        "the member's role decides, not the key's: {}",
        made.body
    );

    // Another business's key does not carry this business's token.
    let other = app
        .engine
        .create_root_organisation(
            "Elsewhere",
            rewards_engine::domain::organisation::OrganisationType::Business,
            None,
        )
        .await
        .unwrap();
    let other_key = app
        .engine
        .create_api_key(
            &rewards_engine::domain::access::Caller::key(other.id, rewards_engine::domain::ids::Mode::Live),
            rewards_engine::engine::NewApiKey {
                organisation: None,
                kind: rewards_engine::domain::organisation::ApiKeyKind::Secret,
                mode: rewards_engine::domain::ids::Mode::Live,
                name: "elsewhere".into(),
            },
        )
        .await
        .unwrap()
        .key
        .unwrap();
    let reply = list(vec![("authorization", admin.clone()), ("api_key", other_key.clone())]).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    // A test key does not carry a live token.
    let test_key = app
        .call(
            "POST",
            "/backoffice/v2/api_keys",
            &[("api_key", SECRET_KEY)],
            Some(&json!({"type": "SECRET", "mode": "TEST"})),
        )
        .await;
    assert_eq!(test_key.status, 201, "{}", test_key.body);
    let test_key = test_key.body["key"].as_str().unwrap().to_string();
    let reply = list(vec![("authorization", admin), ("api_key", test_key)]).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
}
