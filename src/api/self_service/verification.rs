//! One-time passwords and emailed links: `POST /self-service/v2/contacts/otp`,
//! `…/validate_otp`, `…/request_email_verification`, `GET …/verify_email`,
//! `POST …/forgot_password`, `…/change_password`.

use super::contacts::{token_view, ContactTokenView, OtpSentView};
use super::{client_address, AppKey, ContactOrApp};
use crate::api::auth::idempotency_key;
use crate::api::errors::{ApiError, ErrorBody};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use rewards_engine::domain::comms::Channel;
use rewards_engine::domain::ids::ContactId;
use rewards_engine::domain::otp::LinkPurpose;
use rewards_engine::engine::{ContactLookup, RegistrationIdentity};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Credential {
    /// EMAIL, PHONE or AUTH_OTP (an earlier `auth_otp`: the code is sent again, anew).
    pub name: String,
    pub value: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OtpBody {
    /// SMS or EMAIL. Left out: email for an EMAIL credential, SMS for a PHONE one.
    pub method: Option<String>,
    /// How the contact is found; the first credential of a supported kind is used.
    pub credentials: Vec<Credential>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ValidateOtpBody {
    pub code: String,
    pub auth_otp: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailVerificationBody {
    pub email_address: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ForgotPasswordBody {
    /// The contact's email.
    pub username: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordBody {
    /// The token of the password-reset link.
    pub token: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IdentityBody {
    /// EMAIL (with a password: a confirmation link is emailed; without: a code) or PHONE (a
    /// code is texted).
    pub provider: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub phone: Option<super::contacts::PhoneBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityAddedView {
    /// The contact.
    pub id: String,
    /// With a code sent: validate it at `/contacts/validate_otp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_otp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obfuscated_value: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct VerifyEmailQuery {
    pub token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailVerifiedView {
    pub email_address: String,
    pub is_verified: bool,
}

/// Longest code, token or credential value read.
const VALUE_CHARS_MAX: usize = 256;

fn bounded(parameter: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::missing(parameter));
    }
    if value.len() > VALUE_CHARS_MAX {
        return Err(ApiError::invalid(
            parameter,
            format!("{parameter} must be at most {VALUE_CHARS_MAX} characters"),
        ));
    }
    Ok(())
}

/// Send a contact a 6-digit code, by email or SMS, found by its email, phone, or an earlier
/// `auth_otp`. Limited per identity and per client address (429 with Retry-After); with an
/// `Idempotency-Key` a retry gets the first answer and sends nothing more.
#[utoipa::path(
    tag = "Self-service contacts",
    request_body = OtpBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first outcome (one message)")),
    responses((status = 200, body = OtpSentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("Public_API_key" = []))
)]
#[post("/contacts/otp")]
pub async fn request_otp(
    app: AppKey,
    request: HttpRequest,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<OtpBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let channel = match body.method.as_deref() {
        None => None,
        Some("EMAIL") => Some(Channel::Email),
        Some("SMS") => Some(Channel::Sms),
        Some(other) => {
            return Err(ApiError::invalid(
                "method",
                format!("unknown method {other}; use EMAIL or SMS"),
            ))
        }
    };
    let mut lookup = None;
    for credential in &body.credentials {
        bounded("credentials.value", &credential.value)?;
        lookup = match credential.name.as_str() {
            "EMAIL" => Some(ContactLookup::Email(credential.value.clone())),
            "PHONE" => Some(ContactLookup::Phone(credential.value.clone())),
            "AUTH_OTP" => Some(ContactLookup::AuthOtp(
                uuid::Uuid::parse_str(credential.value.trim())
                    .map_err(|_| ApiError::invalid("credentials.value", "an AUTH_OTP credential is an auth_otp id"))?,
            )),
            _ => continue,
        };
        break;
    }
    let lookup = lookup.ok_or_else(|| {
        ApiError::invalid(
            "credentials",
            "credentials must include one of EMAIL, PHONE or AUTH_OTP",
        )
    })?;
    let key = idempotency_key(&request)?;
    let sent = engine
        .request_otp(app.tenant, lookup, channel, client_address(&request), key.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(OtpSentView::new(sent, None)))
}

/// Check a code: the right one, in time and before too many wrong ones, signs the contact
/// in (and verifies the email or phone it went to). Each wrong code uses up an attempt.
#[utoipa::path(
    tag = "Self-service contacts",
    request_body = ValidateOtpBody,
    responses((status = 200, body = ContactTokenView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("Public_API_key" = []))
)]
#[post("/contacts/validate_otp")]
pub async fn validate_otp(
    app: AppKey,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<ValidateOtpBody>,
) -> Result<HttpResponse, ApiError> {
    bounded("code", &body.code)?;
    let auth_otp = uuid::Uuid::parse_str(body.auth_otp.trim())
        .map_err(|_| ApiError::invalid("auth_otp", "auth_otp is the id a code request answered with"))?;
    let session = engine.validate_otp(app.tenant, auth_otp, &body.code).await?;
    Ok(HttpResponse::Ok().json(token_view(session, true)))
}

/// Email a new verification link to a registered, not yet verified email. The answer is
/// 204 whether or not the email is registered.
#[utoipa::path(
    tag = "Self-service contacts",
    request_body = EmailVerificationBody,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("Public_API_key" = []))
)]
#[post("/contacts/request_email_verification")]
pub async fn request_email_verification(
    app: AppKey,
    request: HttpRequest,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<EmailVerificationBody>,
) -> Result<HttpResponse, ApiError> {
    bounded("email_address", &body.email_address)?;
    engine
        .request_link(
            app.tenant,
            &body.email_address,
            LinkPurpose::VerifyEmail,
            client_address(&request),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The verification link: the token alone proves the email (no key; it is opened from the
/// email). Works once, before it expires.
#[utoipa::path(
    tag = "Self-service contacts",
    params(("token" = String, Query, description = "The token of the verification link")),
    responses((status = 200, body = EmailVerifiedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[get("/contacts/verify_email")]
pub async fn verify_email(
    engine: web::Data<Engine>,
    query: web::Query<VerifyEmailQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = query.token.as_deref().unwrap_or("");
    bounded("token", token)?;
    let email = engine.verify_email(token).await?;
    Ok(HttpResponse::Ok().json(EmailVerifiedView {
        email_address: email,
        is_verified: true,
    }))
}

/// Email a password-reset link to a registered email. The answer is 204 whether or not the
/// email is registered.
#[utoipa::path(
    tag = "Self-service contacts",
    request_body = ForgotPasswordBody,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("Public_API_key" = []))
)]
#[post("/contacts/forgot_password")]
pub async fn forgot_password(
    app: AppKey,
    request: HttpRequest,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<ForgotPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    bounded("username", &body.username)?;
    engine
        .request_link(
            app.tenant,
            &body.username,
            LinkPurpose::ResetPassword,
            client_address(&request),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Set a new password with the token of a password-reset link (once, before it expires).
#[utoipa::path(
    tag = "Self-service contacts",
    request_body = ChangePasswordBody,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
#[post("/contacts/change_password")]
pub async fn change_password(
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<ChangePasswordBody>,
) -> Result<HttpResponse, ApiError> {
    bounded("token", &body.token)?;
    engine.change_forgotten_password(&body.token, &body.password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Add sign-in credentials to a contact: the signed-in contact itself (its token), adding
/// an email or phone of its choice; or an app, with its key, for a contact the back office
/// made (its first visit to the app), whose email must be the contact's email address and
/// phone one of its phones (else 404). Nothing works until the person proves the address:
/// with a password, by the emailed confirmation link; otherwise by the code sent
/// (validating it signs the contact in).
#[utoipa::path(
    tag = "Self-service contacts",
    params(("id" = String, Path)),
    request_body = IdentityBody,
    responses((status = 201, body = IdentityAddedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("authorization_self_service" = []), ("Public_API_key" = []))
)]
#[post("/contacts/{id}/identities")]
pub async fn add_identity(
    caller: ContactOrApp,
    request: HttpRequest,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<IdentityBody>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, contact, signed_in) = match caller {
        ContactOrApp::Contact(token) => (token.tenant, token.own(&path)?, true),
        ContactOrApp::App(app) => (
            app.tenant,
            ContactId::parse(&path).map_err(|_| ApiError::not_found("contact"))?,
            false,
        ),
    };
    let body = body.into_inner();
    let identity = match body.provider.as_deref().unwrap_or("EMAIL") {
        "EMAIL" => {
            let email = body.email.ok_or_else(|| ApiError::missing("email"))?;
            bounded("email", &email)?;
            match body.password {
                Some(password) => RegistrationIdentity::EmailPassword { email, password },
                None => RegistrationIdentity::EmailOtp { email },
            }
        }
        "PHONE" => {
            let phone = body.phone.ok_or_else(|| ApiError::missing("phone"))?;
            RegistrationIdentity::PhoneOtp {
                number: phone.number,
                country_code: phone.country_code,
            }
        }
        other => {
            return Err(ApiError::invalid(
                "provider",
                format!("credentials of provider {other} are added by signing in with it; use EMAIL or PHONE"),
            ))
        }
    };
    let sent = engine
        .add_contact_identity(tenant, contact, identity, signed_in, client_address(&request))
        .await?;
    Ok(HttpResponse::Created().json(IdentityAddedView {
        id: contact.to_string(),
        auth_otp: sent.as_ref().map(|sent| sent.auth_otp.to_string()),
        obfuscated_value: sent.map(|sent| sent.obfuscated_value),
    }))
}
