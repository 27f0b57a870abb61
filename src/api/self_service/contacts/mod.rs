//! `POST /self-service/v2/contacts/register`, `…/authenticate`, `…/refresh`,
//! `GET|PUT /self-service/v2/contacts/{id}`, `POST /self-service/v2/contacts/{id}/sign_out`.

mod wire;
pub use wire::*;

use super::{client_address, AppKey, ContactOrServer, ContactToken};
use crate::api::auth::bearer;
use crate::api::errors::{ApiError, ErrorBody};
use crate::identity::IdentityProviders;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use rewards_engine::domain::contact::ContactPreferences;
use rewards_engine::domain::ids::Tenant;
use rewards_engine::engine::{
    ContactLookup, ExternalIdentity, ExternalSignIn, Registered, Registration, RegistrationIdentity,
};
use rewards_engine::Engine;

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
    let session = engine.refresh_contact_session(token).await?;
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
    let profile = engine.own_contact(&token.tenant, id)?;
    Ok(HttpResponse::Ok().json(contact_view(profile)))
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
    let update = body.into_inner().into_update(id)?;
    let contact = engine
        .update_contact(token.tenant, id, update, super::client_address(&request))
        .await?;
    Ok(HttpResponse::Ok().json(IdView {
        id: contact.id.to_string(),
    }))
}

/// Unregister a contact from the business (the contact itself, with its token, or the
/// business's server, with its secret key): its profile, codes and sign-in
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
    security(("authorization_self_service" = []), ("Secret_API_key" = []))
)]
#[delete("/contacts/{id}")]
pub async fn unregister_contact(
    caller: ContactOrServer,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = caller.contact(&path)?;
    engine.unregister_contact(tenant, id).await?;
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

/// Start an OpenID Connect sign-in with the provider named `type` (a setting): the
/// provider's authorization URL, with a fresh state and nonce. Finish it at
/// `/contacts/authenticate` (or `register`) with provider OIDC_OAUTH, the `state`, and the
/// ID token or authorization code.
#[utoipa::path(
    tag = "Self-service contacts",
    params(("type" = String, Path), ("redirect_url" = Option<String>, Query, description = "Where the provider sends the person back; default: the provider's oidc.providers.*.redirect_url setting")),
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
    let redirect_url = query.redirect_url.as_deref();
    if redirect_url.is_some_and(|url| url.len() > 2048) {
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
