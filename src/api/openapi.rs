//! `GET /openapi.json`: the OpenAPI 3 document of every endpoint, generated from the
//! handlers' annotations. Our own additions are tagged "Engine additions".

use super::backoffice::{api_keys, contacts, offers, organisations, purchases, users, wallets};
use super::errors::ErrorBody;
use super::self_service;
use super::wire::{Money, Paging};
use actix_web::{get, HttpResponse};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "Secret_API_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "api_key",
                "A secret API key of the organisation (servers only)",
            ))),
        );
        components.add_security_scheme(
            "Public_API_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "api_key",
                "A public API key (apps): pre-login calls only",
            ))),
        );
        components.add_security_scheme(
            "authorization",
            SecurityScheme::Http(
                utoipa::openapi::security::HttpBuilder::new()
                    .scheme(utoipa::openapi::security::HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A back-office user's access token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "authorization_self_service",
            SecurityScheme::Http(
                utoipa::openapi::security::HttpBuilder::new()
                    .scheme(utoipa::openapi::security::HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A contact's access token (refresh: the refresh token)"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rewards Engine",
        description = "POS and rewards engine following CRM.COM's public API. Amounts are JSON numbers read exactly as decimals; times are epoch seconds; errors are {status, message, error, parameters}."
    ),
    paths(super::health, super::jwks, openapi_json),
    nest((path = "/backoffice/v2", api = BackofficeApi), (path = "/self-service/v2", api = SelfServiceApi)),
    components(schemas(ErrorBody, Money, Paging)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "Engine additions", description = "Endpoints of this engine that CRM.COM does not have"),
        (name = "POS", description = "Purchases posted by tills, with awards and spends"),
    )
)]
pub struct ApiDoc;

/// The back-office family, nested under its scope's prefix.
#[derive(OpenApi)]
#[openapi(paths(
    api_keys::create_api_key,
    api_keys::list_api_keys,
    api_keys::get_api_key,
    api_keys::roll_api_key,
    api_keys::revoke_api_key,
    contacts::create_contact,
    contacts::get_contact,
    offers::create_offer,
    offers::get_offer,
    offers::set_offer_state,
    organisations::create_organisation,
    organisations::update_organisation,
    organisations::delete_organisation,
    organisations::get_organisation,
    organisations::get_network,
    purchases::create_purchase,
    purchases::get_purchase,
    purchases::cancel_purchase,
    purchases::create_purchases_bulk,
    wallets::get_wallet,
    wallets::list_journals,
    users::authenticate,
    users::refresh,
    users::create_user,
    users::get_user,
    users::switch_organisation,
))]
struct BackofficeApi;

/// The self-service family, nested under its scope's prefix.
#[derive(OpenApi)]
#[openapi(paths(
    self_service::contacts::register,
    self_service::contacts::authenticate,
    self_service::contacts::refresh,
    self_service::contacts::get_contact,
    self_service::contacts::update_contact,
    self_service::contacts::unregister_contact,
    self_service::organisations::sign_up_or_off,
    self_service::organisations::list_organisations,
    self_service::organisations::switch,
    self_service::contacts::sign_out,
    self_service::verification::request_otp,
    self_service::verification::validate_otp,
    self_service::verification::request_email_verification,
    self_service::verification::verify_email,
    self_service::verification::forgot_password,
    self_service::verification::change_password,
    self_service::contacts::start_oidc,
    self_service::verification::add_identity,
))]
struct SelfServiceApi;

/// This document (our addition).
#[utoipa::path(tag = "Engine additions", responses((status = 200, description = "OpenAPI 3 JSON")))]
#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
