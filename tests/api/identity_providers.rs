//! Contacts signing in with OpenID Connect and Facebook, against a provider the test runs
//! on loopback: its own Ed25519 key behind discovery and JWKS, a token endpoint for codes,
//! and Facebook's token inspection and profile endpoints. Every forged, misdirected,
//! expired or replayed token is refused with 401 and changes nothing.

use crate::helpers::*;
use actix_web::{web, App, HttpResponse, HttpServer};
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const CLIENT_ID: &str = "rewards-app";
const CLIENT_SECRET: &str = "client-secret-1";
const KID: &str = "provider-key-1";
const SEED: [u8; 32] = [7; 32];

/// Makes a token for a sign-in's nonce.
type Forge<'a> = Box<dyn Fn(&str) -> String + 'a>;

struct Provider {
    base: String,
    /// Authorization code → the ID token the token endpoint gives for it.
    codes: Arc<Mutex<HashMap<String, String>>>,
}

#[derive(serde::Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    client_id: String,
    client_secret: String,
}

fn provider_app(
    base: String,
    codes: Arc<Mutex<HashMap<String, String>>>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(SigningKey::from_bytes(&SEED).verifying_key().to_bytes());
    let discovery = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
    });
    let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": KID, "alg": "EdDSA", "use": "sig"}]});
    App::new()
        .route(
            "/.well-known/openid-configuration",
            web::get().to(move || {
                let discovery = discovery.clone();
                async move { HttpResponse::Ok().json(discovery) }
            }),
        )
        .route(
            "/jwks",
            web::get().to(move || {
                let jwks = jwks.clone();
                async move { HttpResponse::Ok().json(jwks) }
            }),
        )
        .route(
            "/token",
            web::post().to(move |form: web::Form<TokenForm>| {
                let codes = codes.clone();
                async move {
                    let token = codes.lock().unwrap().remove(&form.code);
                    match token {
                        Some(id_token)
                            if form.grant_type == "authorization_code"
                                && form.client_id == CLIENT_ID
                                && form.client_secret == CLIENT_SECRET =>
                        {
                            HttpResponse::Ok()
                                .json(json!({"id_token": id_token, "access_token": "at", "token_type": "Bearer"}))
                        }
                        _ => HttpResponse::BadRequest().json(json!({"error": "invalid_grant"})),
                    }
                }
            }),
        )
        .route("/debug_token", web::get().to(debug_token))
        .route("/me", web::get().to(me))
}

/// Facebook's token inspection, for app `fb-app` (secret `fb-secret`).
async fn debug_token(query: web::Query<HashMap<String, String>>) -> HttpResponse {
    if query.get("access_token").map(String::as_str) != Some("fb-app|fb-secret") {
        return HttpResponse::BadRequest().json(json!({"error": {"message": "bad app token"}}));
    }
    let data = match query.get("input_token").map(String::as_str) {
        Some("fb-good") => {
            json!({"app_id": "fb-app", "is_valid": true, "user_id": "1001", "expires_at": START_S + 3600})
        }
        Some("fb-other-app") => json!({"app_id": "someone-else", "is_valid": true, "user_id": "1001", "expires_at": 0}),
        Some("fb-expired") => {
            json!({"app_id": "fb-app", "is_valid": true, "user_id": "1001", "expires_at": START_S - 1})
        }
        Some("fb-someone-elses-profile") => {
            json!({"app_id": "fb-app", "is_valid": true, "user_id": "1002", "expires_at": 0})
        }
        _ => json!({"is_valid": false}),
    };
    HttpResponse::Ok().json(json!({ "data": data }))
}

async fn me(query: web::Query<HashMap<String, String>>) -> HttpResponse {
    match query.get("access_token").map(String::as_str) {
        Some("fb-good" | "fb-someone-elses-profile") => HttpResponse::Ok()
            .json(json!({"id": "1001", "first_name": "Fay", "last_name": "Book", "email": "fay@example.com"})),
        _ => HttpResponse::BadRequest().finish(),
    }
}

impl Provider {
    fn start() -> Provider {
        let codes = Arc::new(Mutex::new(HashMap::new()));
        let shared = codes.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let served = base.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new(move || provider_app(served.clone(), shared.clone()))
                    .workers(1)
                    .listen(listener)
                    .unwrap()
                    .run()
                    .await
                    .unwrap();
            })
        });
        Provider { base, codes }
    }

    fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("REWARDS__OIDC__PROVIDERS__LOCAL__ISSUER", self.base.clone()),
            ("REWARDS__OIDC__PROVIDERS__LOCAL__CLIENT_ID", CLIENT_ID.into()),
            ("REWARDS__OIDC__PROVIDERS__LOCAL__CLIENT_SECRET", CLIENT_SECRET.into()),
            ("REWARDS__FACEBOOK__APP_ID", "fb-app".into()),
            ("REWARDS__FACEBOOK__APP_SECRET", "fb-secret".into()),
            ("REWARDS__FACEBOOK__GRAPH_URL", self.base.clone()),
        ]
    }

    /// An ID token signed with `seed` under the provider's kid.
    fn id_token(&self, claims: &Value, seed: [u8; 32]) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(KID.into());
        jsonwebtoken::encode(
            &header,
            claims,
            &jsonwebtoken::EncodingKey::from_ed_der(&ed25519_pkcs8(seed)),
        )
        .unwrap()
    }

    fn claims(&self, sub: &str, nonce: &str) -> Value {
        json!({
            "iss": self.base, "sub": sub, "aud": CLIENT_ID, "iat": START_S, "exp": START_S + 600,
            "nonce": nonce, "email": format!("{sub}@example.com"), "email_verified": true,
            "given_name": "Ida", "family_name": "Token",
        })
    }
}

async fn spawn_with_provider(provider: &Provider) -> TestApp {
    let settings = provider.settings();
    let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_app_with(
        Arc::new(tempfile::TempDir::new().unwrap()),
        rewards_engine::ManualClock::new(START_S),
        &pairs,
    )
    .await
}

/// Starts a sign-in: (state, nonce) from the authorization URL.
async fn start(app: &TestApp, key: &str) -> (String, String) {
    let started = app
        .with_key(
            key,
            "GET",
            "/self-service/v2/contacts/oidc/local?redirect_url=https://app.example/callback",
            None,
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let url = reqwest::Url::parse(started.body["authorization_url"].as_str().unwrap()).unwrap();
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["redirect_uri"], "https://app.example/callback");
    assert_eq!(query["state"], started.body["state"].as_str().unwrap());
    (query["state"].clone(), query["nonce"].clone())
}

async fn authenticate(app: &TestApp, key: &str, body: Value) -> Reply {
    app.with_key(key, "POST", "/self-service/v2/contacts/authenticate", Some(&body))
        .await
}

#[tokio::test]
async fn contacts_sign_in_with_openid_connect_by_code_and_by_id_token() {
    let provider = Provider::start();
    let app = spawn_with_provider(&provider).await;

    // By code: the server exchanges it with the client secret, checks the ID token and
    // signs the person up on first sign-in.
    let (state, nonce) = start(&app, PUBLIC_KEY).await;
    let token = provider.id_token(&provider.claims("ida", &nonce), SEED);
    provider.codes.lock().unwrap().insert("code-1".into(), token);
    let first = authenticate(
        &app,
        PUBLIC_KEY,
        json!({"provider": "OIDC_OAUTH", "code": "code-1", "state": state}),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["existing_contact"], false);
    assert_eq!(first.body["contact"]["first_name"], "Ida");
    assert_eq!(first.body["contact"]["is_verified"], true);
    let contact_id = first.body["contact"]["id"].clone();
    let access = first.body["access_token"].as_str().unwrap().to_string();
    let own = app
        .call(
            "GET",
            &format!("/self-service/v2/contacts/{}", contact_id.as_str().unwrap()),
            &[("authorization", &format!("Bearer {access}"))],
            None,
        )
        .await;
    assert_eq!(own.body["email"], "ida@example.com");
    // The state is spent.
    let replay = authenticate(
        &app,
        PUBLIC_KEY,
        json!({"provider": "OIDC_OAUTH", "code": "code-1", "state": state}),
    )
    .await;
    assert_eq!(replay.status, 401);

    // By ID token: the same person is the same contact.
    let (state, nonce) = start(&app, PUBLIC_KEY).await;
    let token = provider.id_token(&provider.claims("ida", &nonce), SEED);
    let again = authenticate(
        &app,
        PUBLIC_KEY,
        json!({"provider": "OIDC_OAUTH", "token": token, "state": state}),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["existing_contact"], true);
    assert_eq!(again.body["contact"]["id"], contact_id);
    // Registering a known subject is a conflict.
    let (state, nonce) = start(&app, PUBLIC_KEY).await;
    let token = provider.id_token(&provider.claims("ida", &nonce), SEED);
    let twice = app
        .with_key(
            PUBLIC_KEY,
            "POST",
            "/self-service/v2/contacts/register",
            Some(&json!({"identification": {"provider": "OIDC_OAUTH", "token": token, "state": state}})),
        )
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);

    // Forgeries and misdirected tokens, each with a fresh state: all 401.
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = provider.claims("mallory", "");
        change(&mut claims);
        claims
    };
    let cases: Vec<(&str, Forge)> = vec![
        (
            "wrong audience",
            Box::new(|nonce| {
                provider.id_token(
                    &with(&|c| {
                        c["aud"] = json!("another-client");
                        c["nonce"] = json!(nonce);
                    }),
                    SEED,
                )
            }),
        ),
        (
            "wrong issuer",
            Box::new(|nonce| {
                provider.id_token(
                    &with(&|c| {
                        c["iss"] = json!("https://evil.example");
                        c["nonce"] = json!(nonce);
                    }),
                    SEED,
                )
            }),
        ),
        (
            "expired",
            Box::new(|nonce| {
                provider.id_token(
                    &with(&|c| {
                        c["exp"] = json!(START_S - 1);
                        c["nonce"] = json!(nonce);
                    }),
                    SEED,
                )
            }),
        ),
        (
            "another sign-in's nonce",
            Box::new(|_| provider.id_token(&with(&|c| c["nonce"] = json!("not-the-nonce")), SEED)),
        ),
        (
            "no nonce",
            Box::new(|_| {
                provider.id_token(
                    &with(&|c| {
                        c.as_object_mut().unwrap().remove("nonce");
                    }),
                    SEED,
                )
            }),
        ),
        (
            "another key under the provider's kid",
            Box::new(|nonce| provider.id_token(&with(&|c| c["nonce"] = json!(nonce)), [9; 32])),
        ),
        (
            "alg none",
            Box::new(|nonce| {
                let claims = with(&|c| c["nonce"] = json!(nonce));
                format!(
                    "{}.{}.",
                    encode_part(&json!({"alg": "none", "kid": KID})),
                    encode_part(&claims)
                )
            }),
        ),
        (
            "HS256 with the public key",
            Box::new(|nonce| {
                let claims = with(&|c| c["nonce"] = json!(nonce));
                let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
                header.kid = Some(KID.into());
                let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(SigningKey::from_bytes(&SEED).verifying_key().to_bytes());
                jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(x.as_bytes())).unwrap()
            }),
        ),
    ];
    for (name, forge) in cases {
        let (state, nonce) = start(&app, PUBLIC_KEY).await;
        let reply = authenticate(
            &app,
            PUBLIC_KEY,
            json!({"provider": "OIDC_OAUTH", "token": forge(&nonce), "state": state}),
        )
        .await;
        assert_eq!(reply.status, 401, "{name}: {}", reply.body);
    }
    // A refused code, an unknown state, a state started with another tenant's key.
    let (state, _) = start(&app, PUBLIC_KEY).await;
    let refused = authenticate(
        &app,
        PUBLIC_KEY,
        json!({"provider": "OIDC_OAUTH", "code": "no-such-code", "state": state}),
    )
    .await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    let unknown = authenticate(
        &app,
        PUBLIC_KEY,
        json!({"provider": "OIDC_OAUTH", "token": "x.y.z", "state": "made-up"}),
    )
    .await;
    assert_eq!(unknown.status, 401);
    let test_key = app
        .post("/backoffice/v2/api_keys", &json!({"type": "PUBLIC", "mode": "TEST"}))
        .await;
    let test_key = test_key.body["key"].as_str().unwrap().to_string();
    let (state, nonce) = start(&app, PUBLIC_KEY).await;
    let token = provider.id_token(&provider.claims("ida", &nonce), SEED);
    let crossed = authenticate(
        &app,
        &test_key,
        json!({"provider": "OIDC_OAUTH", "token": token, "state": state}),
    )
    .await;
    assert_eq!(crossed.status, 401, "a live sign-in is not finished with a test key");
    let unknown_provider = app
        .with_key(
            PUBLIC_KEY,
            "GET",
            "/self-service/v2/contacts/oidc/nowhere?redirect_url=https://a.example",
            None,
        )
        .await;
    assert_eq!(unknown_provider.status, 404);
    // Nobody but Ida was signed up.
    let (state, nonce) = start(&app, PUBLIC_KEY).await;
    let token = provider.id_token(&provider.claims("mallory", &nonce), SEED);
    let mallory = authenticate(
        &app,
        PUBLIC_KEY,
        json!({"provider": "OIDC_OAUTH", "token": token, "state": state}),
    )
    .await;
    assert_eq!(mallory.body["existing_contact"], false, "no forgery created mallory");
}

#[tokio::test]
async fn contacts_sign_in_with_facebook_tokens_checked_by_inspection() {
    let provider = Provider::start();
    let app = spawn_with_provider(&provider).await;
    let first = authenticate(&app, PUBLIC_KEY, json!({"provider": "FACEBOOK", "token": "fb-good"})).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["existing_contact"], false);
    assert_eq!(first.body["contact"]["first_name"], "Fay");
    let again = authenticate(&app, PUBLIC_KEY, json!({"provider": "FACEBOOK", "token": "fb-good"})).await;
    assert_eq!(again.body["existing_contact"], true);
    assert_eq!(again.body["contact"]["id"], first.body["contact"]["id"]);
    let registered = app
        .with_key(
            PUBLIC_KEY,
            "POST",
            "/self-service/v2/contacts/register",
            Some(&json!({"identification": {"provider": "FACEBOOK", "token": "fb-good"}})),
        )
        .await;
    assert_eq!(registered.status, 409);
    for token in ["fb-other-app", "fb-expired", "fb-someone-elses-profile", "fb-garbage"] {
        let reply = authenticate(&app, PUBLIC_KEY, json!({"provider": "FACEBOOK", "token": token})).await;
        assert_eq!(reply.status, 401, "{token}: {}", reply.body);
    }
    let missing = authenticate(&app, PUBLIC_KEY, json!({"provider": "FACEBOOK"})).await;
    assert_eq!(missing.status, 400);
    // Without Facebook settings the provider is refused by name.
    let plain = spawn_app().await;
    let refused = authenticate(&plain, PUBLIC_KEY, json!({"provider": "FACEBOOK", "token": "fb-good"})).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
}

/// The contract makes `redirect_url` optional: without it the provider's setting is used,
/// and with neither the call is refused naming it.
#[tokio::test]
async fn an_oidc_sign_in_without_a_redirect_url_goes_back_to_the_providers_setting() {
    let provider = Provider::start();
    let app = spawn_with_provider(&provider).await;
    let path = "/self-service/v2/contacts/oidc/local";
    let refused = app.with_key(PUBLIC_KEY, "GET", path, None).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["parameters"][0], "redirect_url", "{}", refused.body);
    app.stop().await;

    let mut settings = provider.settings();
    settings.push((
        "REWARDS__OIDC__PROVIDERS__LOCAL__REDIRECT_URL",
        "https://app.example/default".into(),
    ));
    let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(
        Arc::new(tempfile::TempDir::new().unwrap()),
        rewards_engine::ManualClock::new(START_S),
        &pairs,
    )
    .await;
    let started = app.with_key(PUBLIC_KEY, "GET", path, None).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let url = reqwest::Url::parse(started.body["authorization_url"].as_str().unwrap()).unwrap();
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["redirect_uri"], "https://app.example/default");
    // The app's own still wins.
    let (_, _) = start(&app, PUBLIC_KEY).await;
}
