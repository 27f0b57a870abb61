//! Reward schemes in the back office: `POST /backoffice/v2/reward_schemes`,
//! `GET /backoffice/v2/reward_schemes` (paged), `GET` and `PUT /backoffice/v2/reward_schemes/{id}`,
//! and a closed-loop scheme's codes: `POST /backoffice/v2/reward_schemes/{id}/sign_up_codes`.

use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{PageQuery, Paged, Paging};
use actix_web::{get, post, put, web, HttpResponse};
use rewards_engine::domain::ids::SchemeId;
use rewards_engine::domain::scheme::{RewardScheme, SignUpMethod, SignUpOption};
use rewards_engine::engine::{NewScheme, SchemeUpdate};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateSchemeBody {
    pub name: String,
    pub description: Option<String>,
    pub terms_and_conditions: Option<String>,
    /// AUTO_SIGN_UP (every contact belongs unless it signs out), SELF_SIGN_UP (contacts
    /// sign up) or CLOSE_LOOP_SIGN_UP (contacts sign up with a one-time code).
    pub sign_up_option: String,
    /// For CLOSE_LOOP_SIGN_UP: EMAIL_DOMAIN (a code is mailed to an address of one of
    /// `email_domains`) or CODE (the business issues codes).
    pub sign_up_method: Option<String>,
    pub email_domains: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateSchemeBody {
    pub name: Option<String>,
    /// An empty text clears it.
    pub description: Option<String>,
    /// An empty text clears it.
    pub terms_and_conditions: Option<String>,
    /// Fixed when the scheme is made: another value is refused.
    pub sign_up_option: Option<String>,
    /// Fixed when the scheme is made: another value is refused.
    pub sign_up_method: Option<String>,
    /// For an EMAIL_DOMAIN scheme: the domains, replaced whole.
    pub email_domains: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchemeView {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terms_and_conditions: Option<String>,
    pub sign_up_option: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_up_method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_domains: Option<Vec<String>>,
    pub created_date: i64,
    pub updated_date: i64,
}

impl From<RewardScheme> for SchemeView {
    fn from(scheme: RewardScheme) -> Self {
        let email_domains = email_domains(&scheme);
        SchemeView {
            id: scheme.id.to_string(),
            name: scheme.name,
            description: scheme.description,
            terms_and_conditions: scheme.terms_and_conditions,
            sign_up_option: scheme.sign_up_option.code(),
            sign_up_method: scheme.sign_up_method.as_ref().map(SignUpMethod::code),
            email_domains,
            created_date: scheme.created_on,
            updated_date: scheme.updated_on,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchemeList {
    pub paging: Paging,
    pub content: Vec<SchemeView>,
}

pub(crate) fn sign_up_option(text: &str) -> Result<SignUpOption, ApiError> {
    SignUpOption::parse(text).ok_or_else(|| {
        ApiError::invalid(
            "sign_up_option",
            format!("sign_up_option must be AUTO_SIGN_UP, SELF_SIGN_UP or CLOSE_LOOP_SIGN_UP, not {text}"),
        )
    })
}

/// A scheme's email domains, for one that lets contacts in by them.
pub(crate) fn email_domains(scheme: &RewardScheme) -> Option<Vec<String>> {
    match &scheme.sign_up_method {
        Some(SignUpMethod::EmailDomain(domains)) => Some(domains.clone()),
        _ => None,
    }
}

fn sign_up_method(method: Option<String>, domains: Option<Vec<String>>) -> Result<Option<SignUpMethod>, ApiError> {
    match (method.as_deref(), domains) {
        (None, None) => Ok(None),
        (Some("EMAIL_DOMAIN"), domains) => Ok(Some(SignUpMethod::EmailDomain(domains.unwrap_or_default()))),
        (Some("CODE"), None) => Ok(Some(SignUpMethod::Code)),
        (Some("CODE") | None, Some(_)) => Err(ApiError::invalid(
            "email_domains",
            "email_domains go with sign_up_method EMAIL_DOMAIN only",
        )),
        (Some(other), _) => Err(ApiError::invalid(
            "sign_up_method",
            format!("sign_up_method must be EMAIL_DOMAIN or CODE, not {other}"),
        )),
    }
}

pub(crate) fn scheme_id(text: &str) -> Result<SchemeId, ApiError> {
    SchemeId::parse(text).map_err(|_| ApiError::not_found("reward scheme"))
}

/// Make a reward scheme.
#[utoipa::path(
    tag = "Reward schemes",
    request_body = CreateSchemeBody,
    responses((status = 201, body = SchemeView), (status = 400, body = ErrorBody)),
    security(("Secret_API_key" = []), ("authorization" = []))
)]
#[post("/reward_schemes")]
pub async fn create_scheme(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<CreateSchemeBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let new = NewScheme {
        name: body.name,
        description: body.description,
        terms_and_conditions: body.terms_and_conditions,
        sign_up_option: sign_up_option(&body.sign_up_option)?,
        sign_up_method: sign_up_method(body.sign_up_method, body.email_domains)?,
    };
    let scheme = engine.create_scheme(auth.tenant, new).await?;
    Ok(HttpResponse::Created().json(SchemeView::from(scheme)))
}

/// The business's reward schemes, paged; newest first unless `order=ASC`.
#[utoipa::path(
    tag = "Reward schemes",
    params(PageQuery),
    responses((status = 200, body = SchemeList), (status = 400, body = ErrorBody)),
    security(("Secret_API_key" = []), ("authorization" = []))
)]
#[get("/reward_schemes")]
pub async fn list_schemes(auth: BackOffice, engine: web::Data<Engine>, paged: Paged) -> Result<HttpResponse, ApiError> {
    let mut schemes = engine.schemes(&auth.tenant)?;
    if paged.descending {
        schemes.reverse();
    }
    let (schemes, paging) = paged.page_of(schemes);
    Ok(HttpResponse::Ok().json(SchemeList {
        paging,
        content: schemes.into_iter().map(SchemeView::from).collect(),
    }))
}

/// A reward scheme.
#[utoipa::path(
    tag = "Reward schemes",
    params(("id" = String, Path)),
    responses((status = 200, body = SchemeView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []), ("authorization" = []))
)]
#[get("/reward_schemes/{id}")]
pub async fn get_scheme(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scheme = engine.scheme(&auth.tenant, scheme_id(&path)?)?;
    Ok(HttpResponse::Ok().json(SchemeView::from(scheme)))
}

/// Change a reward scheme's name, description or terms.
#[utoipa::path(
    tag = "Reward schemes",
    params(("id" = String, Path)),
    request_body = UpdateSchemeBody,
    responses((status = 200, body = SchemeView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []), ("authorization" = []))
)]
#[put("/reward_schemes/{id}")]
pub async fn update_scheme(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<UpdateSchemeBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let update = SchemeUpdate {
        name: body.name,
        description: body.description,
        terms_and_conditions: body.terms_and_conditions,
        sign_up_option: body.sign_up_option.as_deref().map(sign_up_option).transpose()?,
        sign_up_method: body.sign_up_method,
        email_domains: body.email_domains,
    };
    let scheme = engine.update_scheme(auth.tenant, scheme_id(&path)?, update).await?;
    Ok(HttpResponse::Ok().json(SchemeView::from(scheme)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueCodesBody {
    /// How many codes, 1 to 1,000.
    pub count: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedCodes {
    /// One-time codes, shown only here (only their hashes are kept).
    pub codes: Vec<String>,
}

/// Issue one-time sign-up codes for a CLOSE_LOOP_SIGN_UP scheme with sign_up_method CODE:
/// each lets one contact in, once (our addition: CRM.COM's back office has no public path
/// for it).
#[utoipa::path(
    tag = "Reward schemes",
    params(("id" = String, Path)),
    request_body = IssueCodesBody,
    responses(
        (status = 201, body = IssuedCodes), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The scheme does not let contacts in by issued codes")
    ),
    security(("Secret_API_key" = []), ("authorization" = []))
)]
#[post("/reward_schemes/{id}/sign_up_codes")]
pub async fn issue_codes(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<IssueCodesBody>,
) -> Result<HttpResponse, ApiError> {
    let codes = engine
        .issue_sign_up_codes(auth.tenant, scheme_id(&path)?, body.into_inner().count)
        .await?;
    Ok(HttpResponse::Created().json(IssuedCodes { codes }))
}
