//! Reward schemes for a contact: `GET /self-service/v2/reward_schemes` (with whether the
//! contact belongs) and `POST /self-service/v2/contacts/{id}/reward_schemes` (sign up or
//! out).

use super::contacts::IdView;
use super::ContactToken;
use crate::api::backoffice::schemes::{email_domains, scheme_id};
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{Paged, Paging};
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::engine::{SignUpOutcome, SignUpProof};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
pub struct SchemesQuery {
    /// Only the schemes the contact belongs to (true) or does not (false).
    pub is_signed: Option<bool>,
    /// Only schemes whose name holds this (any case).
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactSchemeView {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// AUTO_SIGN_UP, SELF_SIGN_UP or CLOSE_LOOP_SIGN_UP.
    pub sign_up_option: &'static str,
    /// For CLOSE_LOOP_SIGN_UP: EMAIL_DOMAIN or CODE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_up_method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_domains: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terms_and_conditions: Option<String>,
    /// Whether the contact belongs to it.
    pub is_signed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactSchemeList {
    pub paging: Paging,
    pub content: Vec<ContactSchemeView>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SchemeActionBody {
    /// SIGN_UP or SIGN_OUT (SIGNUP and SIGNOUT, as the contract's own examples write them,
    /// are taken too).
    pub action: String,
    pub reward_scheme_id: String,
    /// Signing up to a closed-loop scheme by email domain: the address to mail a code to.
    pub email_address: Option<String>,
    /// Signing up to a closed-loop scheme: the code (mailed, or handed out by the business).
    pub sign_up_code: Option<String>,
}

/// The business's reward schemes, each with whether the signed-in contact belongs to it.
#[utoipa::path(
    tag = "Self-service reward schemes",
    params(SchemesQuery),
    responses((status = 200, body = ContactSchemeList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/reward_schemes")]
pub async fn list_schemes(
    token: ContactToken,
    engine: web::Data<Engine>,
    query: web::Query<SchemesQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let schemes = engine.contact_schemes(&token.tenant, token.contact, query.name.as_deref(), query.is_signed)?;
    let (schemes, paging) = paged.page_of(schemes);
    let content = schemes
        .into_iter()
        .map(|seen| ContactSchemeView {
            email_domains: email_domains(&seen.scheme),
            id: seen.scheme.id.to_string(),
            name: seen.scheme.name,
            description: seen.scheme.description,
            sign_up_option: seen.scheme.sign_up_option.code(),
            sign_up_method: seen.scheme.sign_up_method.as_ref().map(|method| method.code()),
            terms_and_conditions: seen.scheme.terms_and_conditions,
            is_signed: seen.is_signed,
        })
        .collect();
    Ok(HttpResponse::Ok().json(ContactSchemeList { paging, content }))
}

/// Sign the contact up to a reward scheme, or out of it. Doing what is done already
/// changes nothing; the answer is the scheme's id either way. A closed-loop scheme takes a
/// `sign_up_code`; one by email domain also takes an `email_address`, to which a code is
/// mailed (204: sign up with it here, or through the verification link).
#[utoipa::path(
    tag = "Self-service reward schemes",
    params(("id" = String, Path)),
    request_body = SchemeActionBody,
    responses(
        (status = 201, body = IdView), (status = 204, description = "A sign-up code was mailed to email_address"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/reward_schemes")]
pub async fn sign_up_or_out(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<SchemeActionBody>,
) -> Result<HttpResponse, ApiError> {
    let id = token.own(&path)?;
    let body = body.into_inner();
    let join = match body.action.as_str() {
        "SIGN_UP" | "SIGNUP" => true,
        "SIGN_OUT" | "SIGNOUT" => false,
        other => {
            return Err(ApiError::invalid(
                "action",
                format!("action must be SIGN_UP or SIGN_OUT, not {other}"),
            ))
        }
    };
    let scheme = scheme_id(&body.reward_scheme_id)?;
    let proof = match (body.sign_up_code, body.email_address) {
        (Some(code), _) => Some(SignUpProof::Code(code)),
        (None, Some(email)) => Some(SignUpProof::Email(email)),
        (None, None) => None,
    };
    match engine.sign_scheme(token.tenant, id, scheme, join, proof).await? {
        SignUpOutcome::Signed => Ok(HttpResponse::Created().json(IdView { id: scheme.to_string() })),
        SignUpOutcome::CodeSent => Ok(HttpResponse::NoContent().finish()),
    }
}

/// Verify a closed-loop sign-up: the code mailed to the contact (or handed out by the
/// business) signs the signed-in contact up to the scheme it is for, once.
#[utoipa::path(
    tag = "Self-service reward schemes",
    params(("sign_up_code" = String, Path)),
    responses(
        (status = 200, body = IdView, description = "Signed up; the scheme's id"),
        (status = 400, body = ErrorBody, description = "An unknown, used or expired code, or another contact's"),
        (status = 401, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/reward_schemes/verification/{sign_up_code}")]
pub async fn verify_sign_up(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scheme = engine
        .sign_up_with_code(token.tenant, token.contact, None, &path)
        .await?;
    Ok(HttpResponse::Ok().json(IdView { id: scheme.to_string() }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedSchemeView {
    pub id: String,
    pub name: String,
    pub signed_up_on: i64,
    /// AUTO_SIGN_UP or SELF_SIGN_UP.
    pub sign_up_option: &'static str,
}

/// A contact's reward details: the schemes it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactRewardsView {
    pub id: String,
    pub reward_schemes: Vec<SignedSchemeView>,
    /// When the contact first belonged to a scheme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_up_date: Option<i64>,
    /// Whether the contact's spending is blocked (`status`), since `date`.
    pub spend_blocked: crate::api::backoffice::wallets::SpendBlockedView,
}

/// The contact's reward details: the schemes it belongs to and since when, and whether its
/// spending is blocked. (Reward tiers are not kept yet, so they are not shown.)
#[utoipa::path(
    tag = "Self-service reward schemes",
    params(("id" = String, Path)),
    responses((status = 200, body = ContactRewardsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/rewards")]
pub async fn contact_rewards(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = token.own(&path)?;
    let memberships = engine.contact_memberships(&token.tenant, id)?;
    let spend = engine.contact_wallet(token.tenant, id).await?.spend;
    Ok(HttpResponse::Ok().json(ContactRewardsView {
        spend_blocked: crate::api::backoffice::wallets::SpendBlockedView {
            status: spend.blocked,
            date: spend.blocked_on,
        },
        id: id.to_string(),
        sign_up_date: memberships.iter().map(|(_, since)| *since).min(),
        reward_schemes: memberships
            .into_iter()
            .map(|(scheme, since)| SignedSchemeView {
                id: scheme.id.to_string(),
                name: scheme.name,
                signed_up_on: since,
                sign_up_option: scheme.sign_up_option.code(),
            })
            .collect(),
    }))
}
