//! Back-office users: `POST /backoffice/v2/users/authenticate` (email and password, with the
//! app's API key, which decides live or test), `POST /backoffice/v2/users/refresh`,
//! `POST /backoffice/v2/users` and `GET /backoffice/v2/users/{id}` (admins), and
//! `POST /backoffice/v2/organisations/switch/{id}` (a token acting in an organisation below).

use crate::api::auth::{api_key, bearer, BackOffice};
use crate::api::errors::{ApiError, ErrorBody};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use rewards_engine::domain::access::{Role, User};
use rewards_engine::domain::ids::{OrganisationId, UserId};
use rewards_engine::domain::organisation::Organisation;
use rewards_engine::engine::{NewUser, UserSession};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct AuthenticateBody {
    /// EMAIL (the only provider for users).
    pub provider: Option<String>,
    /// The user's email address.
    pub username: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    /// The refresh token; or send it as `Authorization: Bearer <refresh token>`.
    pub refresh_token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserBody {
    pub email: String,
    pub password: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// By default the caller's organisation; else one under it.
    pub organisation_id: Option<String>,
    /// ADMIN or MEMBER (default).
    pub role: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserOrganisationView {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub organisation_type: &'static str,
    pub role: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub organisations: Vec<UserOrganisationView>,
    pub created_date: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserTokenView {
    pub access_token: String,
    pub refresh_token: String,
    /// When the access token expires (epoch seconds).
    pub expiration_date: i64,
    /// LIVE or TEST.
    pub mode: &'static str,
    /// The organisation the token acts in.
    pub organisation_id: String,
    pub lockout_date: Option<i64>,
    pub password_expired: bool,
    pub user: UserView,
}

fn user_view(user: &User, organisations: &[(Organisation, Role)]) -> UserView {
    let organisations = organisations
        .iter()
        .map(|(organisation, role)| UserOrganisationView {
            id: organisation.id.to_string(),
            name: organisation.name.clone(),
            organisation_type: organisation.organisation_type.code(),
            role: role.code(),
        })
        .collect();
    UserView {
        id: user.id.to_string(),
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        organisations,
        created_date: user.created_on,
    }
}

fn token_view(session: UserSession) -> UserTokenView {
    UserTokenView {
        expiration_date: session.tokens.expires_on,
        mode: session.tokens.session.mode.code(),
        organisation_id: session.tokens.session.organisation.to_string(),
        access_token: session.tokens.access_token,
        refresh_token: session.tokens.refresh_token,
        lockout_date: None,
        password_expired: false,
        user: user_view(&session.user, &session.organisations),
    }
}

/// Sign a user in with email and password.
#[utoipa::path(
    tag = "Users",
    request_body = AuthenticateBody,
    responses((status = 200, body = UserTokenView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("Public_API_key" = []), ("Secret_API_key" = []))
)]
#[post("/users/authenticate")]
pub async fn authenticate(
    request: HttpRequest,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<AuthenticateBody>,
) -> Result<HttpResponse, ApiError> {
    let key = api_key(&request)?;
    let body = body.into_inner();
    if let Some(provider) = body.provider.as_deref() {
        if provider != "EMAIL" {
            return Err(ApiError::invalid("provider", "users sign in with provider EMAIL"));
        }
    }
    let session = engine
        .authenticate_user(&body.username, &body.password, key.mode)
        .await?;
    Ok(HttpResponse::Ok().json(token_view(session)))
}

/// New tokens for a refresh token, which is spent (a second use revokes the session).
#[utoipa::path(
    tag = "Users",
    request_body = RefreshBody,
    responses((status = 200, body = UserTokenView), (status = 401, body = ErrorBody)),
)]
#[post("/users/refresh")]
pub async fn refresh(
    request: HttpRequest,
    engine: web::Data<Engine>,
    body: Option<crate::api::wire::Json<RefreshBody>>,
) -> Result<HttpResponse, ApiError> {
    let from_body = body.and_then(|body| body.into_inner().refresh_token);
    let token = match (from_body, bearer(&request)?) {
        (Some(token), _) => token,
        (None, Some(token)) => token.to_string(),
        (None, None) => return Err(ApiError::missing("refresh_token")),
    };
    let session = engine.refresh_user_session(&token).await?;
    Ok(HttpResponse::Ok().json(token_view(session)))
}

/// Add a user to the caller's organisation or one below it (admins).
#[utoipa::path(
    tag = "Users",
    request_body = CreateUserBody,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("Secret_API_key" = []), ("authorization" = []))
)]
#[post("/users")]
pub async fn create_user(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<CreateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let role = match body.role.as_deref() {
        None => Role::Member,
        Some(text) => Role::parse(text).ok_or_else(|| ApiError::invalid("role", "role must be ADMIN or MEMBER"))?,
    };
    let organisation = body
        .organisation_id
        .as_deref()
        .map(|text| OrganisationId::parse(text).map_err(|_| ApiError::not_found("organisation")))
        .transpose()?;
    let new = NewUser {
        email: body.email,
        password: body.password,
        first_name: body.first_name,
        last_name: body.last_name,
        organisation,
        role,
    };
    let details = engine.create_user(&auth.caller, new).await?;
    Ok(HttpResponse::Created().json(user_view(&details.user, &details.organisations)))
}

/// A user of the caller's organisation or one below it.
#[utoipa::path(
    tag = "Users",
    params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []), ("authorization" = []))
)]
#[get("/users/{id}")]
pub async fn get_user(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = UserId::parse(&path).map_err(|_| ApiError::not_found("user"))?;
    let details = engine.user_for(&auth.caller, id)?;
    Ok(HttpResponse::Ok().json(user_view(&details.user, &details.organisations)))
}

/// Tokens acting in another organisation: one the user belongs to, or one below it.
#[utoipa::path(
    tag = "Users",
    params(("id" = String, Path)),
    responses((status = 200, body = UserTokenView), (status = 403, body = ErrorBody)),
    security(("authorization" = []))
)]
#[post("/organisations/switch/{id}")]
pub async fn switch_organisation(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let target = OrganisationId::parse(&path).map_err(|_| ApiError::not_found("organisation"))?;
    let session = engine.switch_organisation(&auth.caller, target).await?;
    Ok(HttpResponse::Ok().json(token_view(session)))
}
