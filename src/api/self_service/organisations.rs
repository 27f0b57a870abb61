//! The businesses a contact belongs to: `GET/POST /self-service/v2/contacts/{id}/organisations`
//! (list; sign up to or off a business under the service owner whose registry holds the
//! contact) and `POST /self-service/v2/organisations/{id}/switch` (a token acting there).

use super::contacts::{sign_up_token_view, switch_token_view, IdView, SignUpTokenView, SwitchTokenView};
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{money, IgnoredBody, Money, PageNumberQuery, Paged, Paging};
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::domain::contact::ContactPreferences;
use rewards_engine::domain::ids::OrganisationId;
use rewards_engine::domain::money::with_minor_units;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
pub struct MembershipBody {
    /// SIGNUP or SIGNOFF.
    pub action: String,
    pub organisation_id: String,
    /// SIGNUP only: whether the contact accepts the business's terms (default true).
    pub service_acceptance: Option<bool>,
    pub email_opt_out: Option<bool>,
    pub sms_opt_out: Option<bool>,
    pub referral_code: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OrganisationsQuery {
    /// Whether each organisation comes with the contact's wallet there.
    pub include_wallet: Option<bool>,
    /// Only organisations whose name contains this (case-insensitive).
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipWallet {
    pub wallet_id: String,
    /// Open plus commerce balance.
    pub balance: Money,
    pub currency_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JoinedOrganisationView {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet: Option<MembershipWallet>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JoinedOrganisationsView {
    pub paging: Paging,
    pub content: Vec<JoinedOrganisationView>,
}

fn organisation_id(text: &str) -> Result<OrganisationId, ApiError> {
    OrganisationId::parse(text).map_err(|_| ApiError::not_found("organisation"))
}

/// Sign up to a business under the service owner whose registry holds the contact (200 with
/// a token acting there, as the business's own contact with its own wallet), or sign off
/// one (200; the contact's wallet there stays for when it signs up again).
#[utoipa::path(
    tag = "Self-service contacts",
    params(("id" = String, Path)),
    request_body = MembershipBody,
    responses(
        (status = 200, body = SignUpTokenView, description = "SIGNUP: a token acting in the business"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "Not a business of the contact's registry, or not joined"),
        (status = 409, body = ErrorBody, description = "SIGNOFF of the organisation the contact registered with")
    ),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/organisations")]
pub async fn sign_up_or_off(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<MembershipBody>,
) -> Result<HttpResponse, ApiError> {
    let id = token.own(&path)?;
    let body = body.into_inner();
    let organisation = organisation_id(&body.organisation_id)?;
    match body.action.as_str() {
        "SIGNUP" => {
            let preferences = ContactPreferences {
                email_opt_out: body.email_opt_out.unwrap_or(false),
                sms_opt_out: body.sms_opt_out.unwrap_or(false),
                terms_accepted_on: body.service_acceptance.unwrap_or(true).then(|| engine.now()),
                referral_code: body
                    .referral_code
                    .map(|code| code.trim().to_string())
                    .filter(|code| !code.is_empty()),
                language_code: None,
            };
            let session = engine
                .sign_up_to_organisation(token.tenant, id, organisation, preferences)
                .await?;
            Ok(HttpResponse::Ok().json(sign_up_token_view(session)))
        }
        "SIGNOFF" => {
            engine.sign_off_organisation(token.tenant, id, organisation).await?;
            Ok(HttpResponse::Ok().json(IdView {
                id: organisation.to_string(),
            }))
        }
        other => Err(ApiError::invalid(
            "action",
            format!("action must be SIGNUP or SIGNOFF, not {other}"),
        )),
    }
}

/// The organisations the contact belongs to: the one it registered with, then the
/// businesses it signed up to (optionally with its wallet in each).
#[utoipa::path(
    tag = "Self-service contacts",
    params(("id" = String, Path), OrganisationsQuery, PageNumberQuery),
    responses(
        (status = 200, body = JoinedOrganisationsView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/organisations")]
pub async fn list_organisations(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<OrganisationsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let id = token.own(&path)?;
    let joined = engine
        .contact_organisations(
            &token.tenant,
            id,
            query.name.as_deref(),
            paged.engine_page(),
            query.include_wallet.unwrap_or(false),
        )
        .await?;
    let content = joined
        .entries
        .into_iter()
        .map(|entry| JoinedOrganisationView {
            id: entry.organisation.id.to_string(),
            name: entry.organisation.name,
            wallet: entry.wallet.map(|wallet| MembershipWallet {
                wallet_id: wallet.id.to_string(),
                balance: money(with_minor_units(wallet.spendable, wallet.currency)),
                currency_code: wallet.currency.code().to_string(),
            }),
        })
        .collect();
    Ok(HttpResponse::Ok().json(JoinedOrganisationsView {
        paging: paged.paging(joined.total, joined.more),
        content,
    }))
}

/// A new token acting in an organisation the contact belongs to (its own, or a business it
/// signed up to).
#[utoipa::path(
    tag = "Self-service contacts",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = SwitchTokenView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/organisations/{id}/switch")]
pub async fn switch(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    _body: IgnoredBody,
) -> Result<HttpResponse, ApiError> {
    let session = engine
        .switch_contact_organisation(token.tenant, token.contact, organisation_id(&path)?)
        .await?;
    Ok(HttpResponse::Ok().json(switch_token_view(session)))
}
