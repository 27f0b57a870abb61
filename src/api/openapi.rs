//! `GET /openapi.json`: the OpenAPI 3 document of every endpoint, generated from the
//! handlers' annotations. Our own additions are tagged "Engine additions".

use super::backoffice::{
    accounts, api_keys, commerce_pools, contacts, integrations, offers, orders, organisations, passes, products,
    purchases, schemes, service_requests, users, wallets,
};
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

/// The answers every operation of a kind can give, added where an operation's own
/// annotation leaves them out, so the document lists every status the server sends: 401
/// and 403 for secured operations; 400, 413 and 415 for those with a body; 400 for those
/// with query parameters; 404 for those with path parameters; 409 for those that take an
/// `Idempotency-Key`; 429, 500 and 503 for every
/// operation that reaches the engine (a busy actor or rate limit, a command the engine
/// could not apply, a shutdown). All with CRM.COM's error body.
struct StandardResponses;

impl StandardResponses {
    fn add(operation: &mut utoipa::openapi::path::Operation, engine: bool) {
        use utoipa::openapi::path::ParameterIn;
        let secured = operation
            .security
            .as_ref()
            .is_some_and(|requirements| !requirements.is_empty());
        let parameters = operation.parameters.as_deref().unwrap_or_default();
        let in_path = parameters
            .iter()
            .any(|parameter| parameter.parameter_in == ParameterIn::Path);
        let in_query = parameters
            .iter()
            .any(|parameter| parameter.parameter_in == ParameterIn::Query);
        let body = operation.request_body.is_some();
        let idempotent = parameters.iter().any(|parameter| {
            parameter.parameter_in == ParameterIn::Header && parameter.name.eq_ignore_ascii_case("Idempotency-Key")
        });
        let mut wanted: Vec<(&str, &str)> = Vec::new();
        if body || in_query || in_path {
            wanted.push(("400", "Bad input: a missing or invalid field, named in `parameters`"));
        }
        if secured {
            wanted.push(("401", "No valid API key or token"));
            wanted.push(("403", "The key or token may not do this"));
        }
        if in_path {
            wanted.push(("404", "Not found, or not reachable by this caller"));
        }
        if idempotent {
            wanted.push((
                "409",
                "The Idempotency-Key was used with another request, or its first request is still running",
            ));
        }
        if body {
            wanted.push(("413", "The body is larger than the limit"));
            wanted.push(("415", "The body is not JSON in UTF-8"));
        }
        if engine {
            wanted.push(("429", "Busy or rate-limited: retry after Retry-After seconds"));
            wanted.push(("500", "The engine could not apply the request; nothing changed"));
            wanted.push((
                "503",
                "Shutting down, or storage unavailable: retry after Retry-After seconds",
            ));
        }
        for (status, description) in wanted {
            operation
                .responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| {
                    utoipa::openapi::ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            utoipa::openapi::ContentBuilder::new()
                                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build()
                        .into()
                });
        }
    }
}

impl Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let engine = path.starts_with("/backoffice/") || path.starts_with("/self-service/");
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                Self::add(operation, engine);
            }
        }
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
    modifiers(&SecuritySchemes, &StandardResponses),
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
    offers::list_offers,
    offers::get_offer,
    offers::update_offer,
    offers::set_offer_state,
    commerce_pools::create_pool,
    commerce_pools::list_pools,
    commerce_pools::get_pool,
    commerce_pools::update_pool,
    passes::create_plan,
    passes::list_plans,
    passes::get_plan,
    passes::update_plan,
    passes::issue_pass,
    passes::find_passes,
    passes::redeem_pass,
    passes::update_pass,
    schemes::create_scheme,
    schemes::list_schemes,
    schemes::get_scheme,
    schemes::update_scheme,
    schemes::issue_codes,
    organisations::create_organisation,
    organisations::update_organisation,
    organisations::delete_organisation,
    organisations::get_organisation,
    organisations::get_network,
    organisations::set_address,
    purchases::create_purchase,
    purchases::get_purchase,
    purchases::cancel_purchase,
    purchases::returns::create_return,
    purchases::estimates::create_estimate,
    purchases::estimates::get_estimate,
    purchases::create_purchases_bulk,
    wallets::get_wallet,
    wallets::set_spend_settings,
    accounts::list_accounts,
    accounts::get_account,
    accounts::update_account,
    accounts::post_journal,
    accounts::list_journals,
    products::create_class,
    products::list_classes,
    products::create_product,
    products::list_products,
    products::get_product,
    products::update_product,
    products::set_allowances,
    products::get_allowances,
    orders::set_fulfilment,
    orders::get_fulfilment,
    orders::get_order,
    orders::order_actions,
    integrations::create_integration,
    integrations::list_integrations,
    integrations::get_integration,
    integrations::update_integration,
    service_requests::create_queue,
    service_requests::list_queues,
    service_requests::list_service_requests,
    service_requests::get_service_request,
    service_requests::update_service_request,
    service_requests::create_note,
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
    self_service::transfers::create_transfer,
    self_service::transfers::create_transfers_in_bulk,
    self_service::schemes::list_schemes,
    self_service::wallets::wallet_exists,
    self_service::wallets::get_wallet,
    self_service::wallets::get_wallet_code,
    self_service::wallet_journals::list_journals,
    self_service::wallet_journals::commerce_balances,
    self_service::wallet_transactions::list_transactions,
    self_service::wallet_transactions::summarised_totals,
    self_service::wallet_limits::get_limits,
    self_service::wallet_limits::update_limits,
    self_service::intents::create_intent,
    self_service::locations::list_locations,
    self_service::locations::get_organisation,
    self_service::locations::get_network,
    self_service::recommendations::product_recommendation,
    self_service::recommendations::order_recommendation,
    self_service::recommendations::service_recommendation,
    self_service::products::search_products,
    self_service::products::list_brands,
    self_service::products::list_categories,
    self_service::products::list_types,
    self_service::products::get_product,
    self_service::products::list_components,
    self_service::products::list_variants,
    self_service::order_estimates::order_fulfillment,
    self_service::order_estimates::estimate_order,
    self_service::orders::submit_order,
    self_service::orders::get_order,
    self_service::orders::order_actions,
    self_service::orders::list_orders,
    self_service::subscriptions::add_services,
    self_service::subscriptions::list_services,
    self_service::subscriptions::list_subscriptions,
    self_service::subscriptions::update_service,
    self_service::subscriptions::update_subscription,
    self_service::contact_addresses::list_addresses,
    self_service::contact_addresses::add_address,
    self_service::contact_addresses::update_address,
    self_service::contact_addresses::remove_address,
    self_service::subscription_estimates::estimate_billing,
    self_service::subscription_estimates::estimate_service_delivery,
    self_service::subscription_actions::list_actions,
    self_service::subscription_actions::list_contact_actions,
    self_service::subscription_actions::update_action,
    self_service::usage::authorise_usage,
    self_service::usage::list_usage_records,
    self_service::wallet_topups::get_top_up_settings,
    self_service::wallet_topups::update_wallet,
    self_service::accounts::list_accounts,
    self_service::accounts::create_account,
    self_service::accounts::get_account,
    self_service::accounts::update_account,
    self_service::accounts::list_account_journals,
    self_service::accounts::get_journal,
    self_service::service_requests::list_service_requests,
    self_service::service_requests::create_service_request,
    self_service::service_requests::list_queues,
    self_service::service_requests::list_notes,
    self_service::service_requests::create_note,
    self_service::communities::list_people,
    self_service::communities::add_person,
    self_service::communities::get_person,
    self_service::communities::update_person,
    self_service::communities::remove_person,
    self_service::communities::answer_invitation,
    self_service::communities::list_communities,
    self_service::communities::leave_community,
    self_service::communities::list_relations,
    self_service::payment_methods::list_payment_methods,
    self_service::payment_methods::create_payment_method,
    self_service::payment_methods::update_payment_method,
    self_service::payment_methods::delete_payment_method,
    self_service::topups::create_top_up,
    self_service::topups::create_payout,
    self_service::passes::list_pass_plans,
    self_service::passes::redeem_pass,
    self_service::schemes::sign_up_or_out,
    self_service::schemes::contact_rewards,
    self_service::schemes::verify_sign_up,
    self_service::offers::list_offers,
    self_service::offers::get_offer,
    self_service::purchases::list_purchases,
    self_service::purchases::get_purchase,
    self_service::purchases::purchase_rewards,
    self_service::purchases::reclaim,
    self_service::tokens::create_token,
    self_service::tokens::list_tokens,
))]
struct SelfServiceApi;

/// This document (our addition).
#[utoipa::path(tag = "Engine additions", responses((status = 200, description = "OpenAPI 3 JSON")))]
#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    static DOCUMENT: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    HttpResponse::Ok().json(DOCUMENT.get_or_init(ApiDoc::openapi))
}
