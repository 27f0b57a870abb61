//! `POST /self-service/v2/contacts/register`, `…/authenticate`, `…/refresh`,
//! `GET|PUT /self-service/v2/contacts/{id}`, `POST /self-service/v2/contacts/{id}/sign_out`.

use super::{client_address, AppKey, ContactToken};
use crate::api::auth::bearer;
use crate::api::errors::{ApiError, ErrorBody};
use crate::identity::IdentityProviders;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use rewards_engine::domain::contact::{Contact, ContactPreferences, Phone, PhoneType, ProfileUpdate};
use rewards_engine::domain::ids::Tenant;
use rewards_engine::engine::{
    ContactLookup, ContactSession, ExternalIdentity, ExternalSignIn, OtpSent, Registered, Registration,
    RegistrationIdentity, SessionKind,
};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Identification {
    /// EMAIL (with a password, or without one: a code is emailed) or PHONE (a code is
    /// texted). FACEBOOK and OIDC_OAUTH come with their flows.
    pub provider: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub phone: Option<PhoneBody>,
    /// FACEBOOK: the user access token. OIDC_OAUTH (or GOOGLE): the ID token.
    pub token: Option<String>,
    /// OIDC_OAUTH: the authorization code, instead of an ID token (exchanged here).
    pub code: Option<String>,
    /// OIDC_OAUTH: the `state` of the sign-in started at `/contacts/oidc/{type}`.
    pub state: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterBody {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub identification: Identification,
    #[serde(rename = "accept_terms_&_conditions")]
    pub accept_terms: Option<bool>,
    pub email_opt_out: Option<bool>,
    pub sms_opt_out: Option<bool>,
    pub referral_code: Option<String>,
    pub language_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AuthenticateBody {
    /// EMAIL (`username`, and `password`; without a password a code is emailed) or PHONE
    /// (`phone`; a code is texted).
    pub provider: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub phone: Option<PhoneBody>,
    /// FACEBOOK: the user access token. OIDC_OAUTH (or GOOGLE): the ID token.
    pub token: Option<String>,
    /// OIDC_OAUTH: the authorization code, instead of an ID token (exchanged here).
    pub code: Option<String>,
    /// OIDC_OAUTH: the `state` of the sign-in started at `/contacts/oidc/{type}`.
    pub state: Option<String>,
}

/// A code is on its way: validate it with `auth_otp` at `/contacts/validate_otp`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OtpSentView {
    pub auth_otp: String,
    /// Where the code went, masked (`jo****@example.com`, `99***834`).
    pub obfuscated_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_contact: Option<bool>,
}

impl OtpSentView {
    pub fn new(sent: OtpSent, existing_contact: Option<bool>) -> Self {
        OtpSentView {
            auth_otp: sent.auth_otp.to_string(),
            obfuscated_value: sent.obfuscated_value,
            existing_contact,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenContact {
    pub id: String,
    #[serde(rename = "type")]
    pub contact_type: &'static str,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_verified: bool,
    pub company_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOrganisation {
    pub id: String,
    #[serde(rename = "type")]
    pub organisation_type: &'static str,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactTokenView {
    pub access_token: String,
    pub refresh_token: String,
    pub expiration_date: i64,
    pub contact: TokenContact,
    pub organisations: Vec<TokenOrganisation>,
    pub communities: Vec<serde_json::Value>,
    pub existing_contact: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfilePhoneView {
    pub number: String,
    pub country_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletRef {
    pub id: String,
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    pub id: String,
    pub code: Option<String>,
    #[serde(rename = "type")]
    pub contact_type: &'static str,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<ProfilePhoneView>,
    pub email_opt_out: bool,
    pub sms_opt_out: bool,
    pub referral_code: Option<String>,
    pub language_code: Option<String>,
    pub wallet: WalletRef,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PhoneBody {
    pub number: String,
    pub country_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateContactBody {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The contact's email for communications (not its sign-in identity).
    pub email: Option<String>,
    pub phone: Option<PhoneBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdView {
    pub id: String,
}

pub(super) fn token_view(session: ContactSession, existing_contact: bool) -> ContactTokenView {
    ContactTokenView {
        access_token: session.tokens.access_token,
        refresh_token: session.tokens.refresh_token,
        expiration_date: session.tokens.expires_on,
        contact: TokenContact {
            id: session.contact.id.to_string(),
            contact_type: "PERSON",
            first_name: session.contact.first_name,
            last_name: session.contact.last_name,
            is_verified: session.verified,
            company_name: None,
        },
        organisations: session
            .organisations
            .into_iter()
            .map(|organisation| TokenOrganisation {
                id: organisation.id.to_string(),
                organisation_type: organisation.organisation_type.code(),
                name: organisation.name,
            })
            .collect(),
        communities: Vec::new(),
        existing_contact,
    }
}

fn contact_view(contact: Contact, preferences: ContactPreferences) -> ProfileView {
    let phone = contact
        .phones
        .iter()
        .find(|phone| phone.is_primary)
        .or(contact.phones.first())
        .map(|phone| ProfilePhoneView {
            number: phone.number.clone(),
            country_code: phone.country_code.clone(),
        });
    ProfileView {
        id: contact.id.to_string(),
        code: contact.code.map(|code| code.as_str().to_string()),
        contact_type: "PERSON",
        first_name: contact.first_name,
        last_name: contact.last_name,
        email: contact.email_address,
        phone,
        email_opt_out: preferences.email_opt_out,
        sms_opt_out: preferences.sms_opt_out,
        referral_code: preferences.referral_code,
        language_code: preferences.language_code,
        wallet: WalletRef {
            id: contact.wallet_id.to_string(),
            code: contact.wallet_code.as_str().to_string(),
        },
    }
}

/// APPLE and MAC_ADDRESS are refused by name until they are built; anything else is not a
/// provider.
fn unsupported_provider(parameter: &str, provider: &str) -> ApiError {
    match provider {
        "APPLE" | "MAC_ADDRESS" => ApiError::invalid(
            parameter,
            format!("provider {provider} is not available; use EMAIL, PHONE, FACEBOOK or OIDC_OAUTH"),
        ),
        other => ApiError::invalid(
            parameter,
            format!("unknown provider {other}; use EMAIL, PHONE, FACEBOOK or OIDC_OAUTH"),
        ),
    }
}

/// The token (or code) of an outside provider, checked with that provider.
async fn external_identity(
    providers: &IdentityProviders,
    engine: &Engine,
    tenant: Tenant,
    provider: &str,
    token: Option<String>,
    code: Option<String>,
    state: Option<String>,
) -> Result<ExternalIdentity, ApiError> {
    for (parameter, value) in [("token", &token), ("code", &code), ("state", &state)] {
        if value.as_ref().is_some_and(|value| value.len() > 8192) {
            return Err(ApiError::invalid(parameter, format!("{parameter} is too long")));
        }
    }
    if provider == "FACEBOOK" {
        let token = token.ok_or_else(|| ApiError::missing("token"))?;
        return providers.facebook.verify(&token, engine.now()).await;
    }
    let state = state.ok_or_else(|| ApiError::missing("state"))?;
    providers
        .oidc
        .verify(&state, tenant, token.as_deref(), code.as_deref(), engine.now())
        .await
}

/// Register a person: EMAIL with a password signs in at once (and emails a verification
/// link); EMAIL without a password, or PHONE, sends a code to validate at
/// `/contacts/validate_otp`.
#[utoipa::path(
    tag = "Self-service contacts",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Signed in (password) or a code sent (OTP)", body = ContactTokenView),
        (status = 201, description = "A code was sent", body = OtpSentView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)
    ),
    security(("Public_API_key" = []))
)]
#[post("/contacts/register")]
pub async fn register(
    app: AppKey,
    request: HttpRequest,
    engine: web::Data<Engine>,
    providers: web::Data<IdentityProviders>,
    body: crate::api::wire::Json<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let required = |parameter: &str, value: Option<String>| value.ok_or_else(|| ApiError::missing(parameter));
    let preferences = ContactPreferences {
        email_opt_out: body.email_opt_out.unwrap_or(false),
        sms_opt_out: body.sms_opt_out.unwrap_or(false),
        terms_accepted_on: body.accept_terms.unwrap_or(false).then(|| engine.now()),
        referral_code: body.referral_code.filter(|code| !code.trim().is_empty()),
        language_code: body.language_code,
    };
    if preferences.referral_code.as_ref().is_some_and(|code| code.len() > 64) {
        return Err(ApiError::invalid(
            "referral_code",
            "referral_code must be at most 64 characters",
        ));
    }
    let identification = body.identification;
    let identity = match identification.provider.as_deref().unwrap_or("EMAIL") {
        "EMAIL" => {
            let email = required("identification.email", identification.email)?;
            match identification.password {
                Some(password) => RegistrationIdentity::EmailPassword { email, password },
                None => RegistrationIdentity::EmailOtp { email },
            }
        }
        "PHONE" => {
            let phone = identification
                .phone
                .ok_or_else(|| ApiError::missing("identification.phone"))?;
            RegistrationIdentity::PhoneOtp {
                number: phone.number,
                country_code: phone.country_code,
            }
        }
        provider @ ("FACEBOOK" | "OIDC_OAUTH" | "GOOGLE") => {
            let identity = external_identity(
                &providers,
                &engine,
                app.tenant,
                provider,
                identification.token,
                identification.code,
                identification.state,
            )
            .await?;
            let identity = ExternalIdentity {
                first_name: body.first_name.or(identity.first_name),
                last_name: body.last_name.or(identity.last_name),
                ..identity
            };
            let (session, _) = engine
                .sign_in_external(app.tenant, identity, ExternalSignIn::Register, preferences)
                .await?;
            return Ok(HttpResponse::Created().json(token_view(session, false)));
        }
        other => return Err(unsupported_provider("identification.provider", other)),
    };
    let registration = Registration {
        first_name: required("first_name", body.first_name)?,
        last_name: required("last_name", body.last_name)?,
        identity,
        preferences,
    };
    let address = client_address(&request);
    Ok(
        match engine.register_contact(app.tenant, registration, address).await? {
            Registered::SignedIn(session) => HttpResponse::Created().json(token_view(*session, false)),
            Registered::OtpSent(sent) => HttpResponse::Created().json(OtpSentView::new(sent, Some(false))),
        },
    )
}

/// Sign a contact in: EMAIL with `username` and `password`; EMAIL with `username` alone, or
/// PHONE with `phone`, sends a code instead (answer: `auth_otp`, `obfuscated_value`).
#[utoipa::path(
    tag = "Self-service contacts",
    request_body = AuthenticateBody,
    responses(
        (status = 200, description = "Signed in", body = ContactTokenView),
        (status = 200, description = "A code was sent", body = OtpSentView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)
    ),
    security(("Public_API_key" = []))
)]
#[post("/contacts/authenticate")]
pub async fn authenticate(
    app: AppKey,
    request: HttpRequest,
    engine: web::Data<Engine>,
    providers: web::Data<IdentityProviders>,
    body: crate::api::wire::Json<AuthenticateBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let lookup = match body.provider.as_str() {
        "EMAIL" => {
            let username = body.username.ok_or_else(|| ApiError::missing("username"))?;
            if let Some(password) = body.password {
                let session = engine.authenticate_contact(app.tenant, &username, &password).await?;
                return Ok(HttpResponse::Ok().json(token_view(session, true)));
            }
            ContactLookup::Email(username)
        }
        "PHONE" => ContactLookup::Phone(body.phone.ok_or_else(|| ApiError::missing("phone"))?.number),
        provider @ ("FACEBOOK" | "OIDC_OAUTH" | "GOOGLE") => {
            let identity = external_identity(
                &providers, &engine, app.tenant, provider, body.token, body.code, body.state,
            )
            .await?;
            let (session, existing) = engine
                .sign_in_external(
                    app.tenant,
                    identity,
                    ExternalSignIn::SignIn,
                    ContactPreferences::default(),
                )
                .await?;
            return Ok(HttpResponse::Ok().json(token_view(session, existing)));
        }
        other => return Err(unsupported_provider("provider", other)),
    };
    let sent = engine
        .request_otp(app.tenant, lookup, None, client_address(&request), None)
        .await?;
    Ok(HttpResponse::Ok().json(OtpSentView::new(sent, Some(true))))
}

/// New tokens for the refresh token sent as the Bearer token; it is spent (a second use
/// ends the session).
#[utoipa::path(
    tag = "Self-service contacts",
    responses((status = 200, body = ContactTokenView), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/refresh")]
pub async fn refresh(request: HttpRequest, engine: web::Data<Engine>) -> Result<HttpResponse, ApiError> {
    let token = bearer(&request)?.ok_or_else(|| {
        ApiError::from(rewards_engine::EngineError::InvalidToken(
            "send the refresh token as the Bearer token",
        ))
    })?;
    let tokens = engine.refresh_session(token, SessionKind::Contact).await?;
    let session = engine.contact_session_of(tokens)?;
    Ok(HttpResponse::Ok().json(token_view(session, true)))
}

/// The signed-in contact's profile.
#[utoipa::path(
    tag = "Self-service contacts",
    params(("id" = String, Path)),
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}")]
pub async fn get_contact(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = token.own(&path)?;
    let (contact, preferences) = engine.own_contact(&token.tenant, id)?;
    Ok(HttpResponse::Ok().json(contact_view(contact, preferences)))
}

/// Change the signed-in contact's profile; fields left out stay as they are.
#[utoipa::path(
    tag = "Self-service contacts",
    params(("id" = String, Path)),
    request_body = UpdateContactBody,
    responses((status = 200, body = IdView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[put("/contacts/{id}")]
pub async fn update_contact(
    request: HttpRequest,
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<UpdateContactBody>,
) -> Result<HttpResponse, ApiError> {
    let id = token.own(&path)?;
    let body = body.into_inner();
    let update = ProfileUpdate {
        first_name: body.first_name,
        last_name: body.last_name,
        email_address: body.email,
        phones: body.phone.map(|phone| {
            vec![Phone {
                phone_type: PhoneType::Mobile,
                country_code: phone.country_code,
                number: phone.number,
                is_primary: true,
            }]
        }),
    };
    let contact = engine
        .update_contact(token.tenant, id, update, super::client_address(&request))
        .await?;
    Ok(HttpResponse::Ok().json(IdView {
        id: contact.id.to_string(),
    }))
}

/// Unregister the signed-in contact from the business: its profile, codes and sign-in
/// identities are removed and all its sessions end; the email or phone may register again.
/// The wallet must be settled first (no balance, no shortfall: 409 otherwise, and nothing
/// changes); its journal and purchases stay in the business's books.
#[utoipa::path(
    tag = "Self-service contacts",
    params(("id" = String, Path)),
    responses(
        (status = 200), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The wallet holds money or a shortfall")
    ),
    security(("authorization_self_service" = []))
)]
#[delete("/contacts/{id}")]
pub async fn unregister_contact(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = token.own(&path)?;
    engine.unregister_contact(token.tenant, id).await?;
    Ok(HttpResponse::Ok().finish())
}

/// End the session the token belongs to: its access and refresh tokens stop working.
#[utoipa::path(
    tag = "Self-service contacts",
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/sign_out")]
pub async fn sign_out(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    token.own(&path)?;
    engine.end_session(token.session).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
pub struct OidcQuery {
    pub redirect_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OidcStartView {
    /// Where to send the person: the provider's sign-in page.
    pub authorization_url: String,
    /// The sign-in's state (also in the URL): send it back with the ID token or code.
    pub state: String,
}

/// Start an OpenID Connect sign-in with the provider named `type` (a setting): the
/// provider's authorization URL, with a fresh state and nonce. Finish it at
/// `/contacts/authenticate` (or `register`) with provider OIDC_OAUTH, the `state`, and the
/// ID token or authorization code.
#[utoipa::path(
    tag = "Self-service contacts",
    params(("type" = String, Path), ("redirect_url" = String, Query)),
    responses((status = 200, body = OidcStartView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("Public_API_key" = []))
)]
#[get("/contacts/oidc/{type}")]
pub async fn start_oidc(
    app: AppKey,
    providers: web::Data<IdentityProviders>,
    path: web::Path<String>,
    query: web::Query<OidcQuery>,
) -> Result<HttpResponse, ApiError> {
    let redirect_url = query
        .redirect_url
        .as_deref()
        .ok_or_else(|| ApiError::missing("redirect_url"))?;
    if redirect_url.len() > 2048 {
        return Err(ApiError::invalid("redirect_url", "redirect_url is too long"));
    }
    let (authorization_url, state) = providers
        .oidc
        .authorization_url(&path, app.tenant, redirect_url)
        .await?;
    Ok(HttpResponse::Ok().json(OidcStartView {
        authorization_url,
        state,
    }))
}
