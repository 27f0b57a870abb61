//! The self-service API family (`/self-service/v2`): apps and portals acting for a contact.
//! Pre-login calls take the app's `api_key` (public or secret), which decides the business
//! and the mode; contact-scoped calls take the contact's access token, which reaches that
//! contact's data only.

pub mod accounts;
pub mod communities;
pub mod contact_addresses;
pub mod contacts;
pub mod intents;
pub mod locations;
pub mod offers;
pub mod order_estimates;
pub mod orders;
pub mod organisations;
pub mod passes;
pub mod payment_methods;
pub mod products;
pub mod purchases;
pub mod recommendations;
pub mod schemes;
pub mod service_requests;
pub mod subscription_actions;
pub mod subscription_estimates;
pub mod subscriptions;
pub mod tokens;
pub mod topups;
pub mod transfers;
pub mod usage;
pub mod verification;
pub mod wallet_journals;
pub mod wallet_limits;
pub mod wallet_topups;
pub mod wallet_transactions;
pub mod wallets;

use crate::api::auth::{access_token, api_key, engine, parse_mode};
use crate::api::errors::{codes, ApiError};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use rewards_engine::domain::ids::{ContactId, OrganisationId, Tenant};
use rewards_engine::domain::organisation::ApiKeyKind;
use rewards_engine::EngineError;
use std::future::{ready, Ready};
use std::net::IpAddr;

pub fn scope() -> actix_web::Scope {
    web::scope("/self-service/v2")
        .service(contacts::register)
        .service(contacts::authenticate)
        .service(contacts::refresh)
        .service(verification::request_otp)
        .service(verification::validate_otp)
        .service(verification::request_email_verification)
        .service(verification::verify_email)
        .service(verification::forgot_password)
        .service(verification::change_password)
        .service(contacts::start_oidc)
        .service(verification::add_identity)
        .service(contacts::get_contact)
        .service(wallets::wallet_exists)
        .service(wallets::get_wallet)
        .service(wallets::get_wallet_code)
        .service(wallet_journals::list_journals)
        .service(wallet_journals::commerce_balances)
        .service(wallet_transactions::list_transactions)
        .service(wallet_transactions::summarised_totals)
        .service(wallet_limits::get_limits)
        .service(wallet_limits::update_limits)
        .service(intents::create_intent)
        .service(locations::list_locations)
        .service(locations::get_organisation)
        .service(locations::get_network)
        .service(recommendations::product_recommendation)
        .service(recommendations::order_recommendation)
        .service(recommendations::service_recommendation)
        .service(products::search_products)
        .service(products::list_brands)
        .service(products::list_categories)
        .service(products::list_types)
        .service(products::get_product)
        .service(products::list_components)
        .service(products::list_variants)
        .service(order_estimates::order_fulfillment)
        .service(order_estimates::estimate_order)
        .service(orders::submit_order)
        .service(orders::get_order)
        .service(orders::order_actions)
        .service(orders::list_orders)
        .service(subscriptions::add_services)
        .service(subscriptions::list_services)
        .service(subscriptions::list_subscriptions)
        .service(subscriptions::update_service)
        .service(subscriptions::update_subscription)
        .service(contact_addresses::list_addresses)
        .service(contact_addresses::add_address)
        .service(contact_addresses::update_address)
        .service(contact_addresses::remove_address)
        .service(subscription_estimates::estimate_billing)
        .service(subscription_estimates::estimate_service_delivery)
        .service(subscription_actions::list_actions)
        .service(subscription_actions::list_contact_actions)
        .service(subscription_actions::update_action)
        .service(usage::authorise_usage)
        .service(usage::list_usage_records)
        .service(wallet_topups::get_top_up_settings)
        .service(wallet_topups::update_wallet)
        .service(accounts::list_accounts)
        .service(accounts::create_account)
        .service(accounts::get_account)
        .service(accounts::update_account)
        .service(accounts::list_account_journals)
        .service(accounts::get_journal)
        .service(service_requests::list_service_requests)
        .service(service_requests::create_service_request)
        .service(service_requests::list_queues)
        .service(service_requests::list_notes)
        .service(service_requests::create_note)
        .service(communities::list_people)
        .service(communities::add_person)
        .service(communities::get_person)
        .service(communities::update_person)
        .service(communities::remove_person)
        .service(communities::answer_invitation)
        .service(communities::list_communities)
        .service(communities::leave_community)
        .service(communities::list_relations)
        .service(payment_methods::list_payment_methods)
        .service(payment_methods::create_payment_method)
        .service(payment_methods::update_payment_method)
        .service(payment_methods::delete_payment_method)
        .service(topups::create_top_up)
        .service(topups::create_payout)
        .service(passes::list_pass_plans)
        .service(passes::redeem_pass)
        .service(contacts::update_contact)
        .service(contacts::unregister_contact)
        .service(organisations::sign_up_or_off)
        .service(organisations::list_organisations)
        .service(organisations::switch)
        .service(contacts::sign_out)
        .service(transfers::create_transfers_in_bulk)
        .service(transfers::create_transfer)
        .service(tokens::create_token)
        .service(tokens::list_tokens)
        .service(purchases::reclaim)
        .service(purchases::list_purchases)
        .service(purchases::purchase_rewards)
        .service(purchases::get_purchase)
        .service(offers::list_offers)
        .service(offers::get_offer)
        .service(schemes::verify_sign_up)
        .service(schemes::contact_rewards)
        .service(schemes::list_schemes)
        .service(schemes::sign_up_or_out)
}

/// Where the per-address limits of code requests take the client's address from: the TCP
/// peer, or a header a trusted proxy sets (`http.client_address_header`).
#[derive(Debug, Clone)]
pub struct ClientAddressSource {
    pub header: Option<actix_web::http::header::HeaderName>,
}

/// The client's address: the last address in the configured header, else the TCP peer.
pub fn client_address(request: &HttpRequest) -> Option<IpAddr> {
    let header = request
        .app_data::<web::Data<ClientAddressSource>>()
        .and_then(|source| source.header.clone());
    if let Some(name) = header {
        let forwarded = request
            .headers()
            .get(&name)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    request.peer_addr().map(|peer| peer.ip())
}

/// A pre-login call: the tenant the app's key belongs to.
#[derive(Debug, Clone, Copy)]
pub struct AppKey {
    pub tenant: Tenant,
}

impl FromRequest for AppKey {
    type Error = ApiError;
    type Future = Ready<Result<AppKey, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready((|| {
            let record = api_key(request)?;
            let tenant = Tenant {
                organisation: engine(request)?.business_of(record.organisation)?,
                mode: record.mode,
            };
            Ok(AppKey { tenant })
        })())
    }
}

/// A contact's call: its access token, verified; it reaches this contact only.
#[derive(Debug, Clone, Copy)]
pub struct ContactToken {
    pub tenant: Tenant,
    pub contact: ContactId,
    pub session: uuid::Uuid,
}

impl ContactToken {
    /// The contact the path names must be the token's own; anyone else's is refused without
    /// looking it up (so nothing is learnt about other contacts).
    pub fn own(&self, path_id: &str) -> Result<ContactId, ApiError> {
        match ContactId::parse(path_id) {
            Ok(id) if id == self.contact => Ok(id),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                codes::FORBIDDEN,
                "a contact's token reaches that contact's own data only",
            )),
        }
    }
}

fn contact_token(request: &HttpRequest) -> Result<ContactToken, ApiError> {
    let token = access_token(request)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::INVALID_TOKEN,
            "this call needs the contact's access token (Authorization: Bearer <token>)",
        )
    })?;
    let claims = &token.claims;
    if claims.typ != "contact" {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            "this call needs a contact's token",
        ));
    }
    let malformed = || ApiError::from(EngineError::InvalidToken("malformed claims"));
    Ok(ContactToken {
        tenant: Tenant {
            organisation: OrganisationId::parse(&claims.org).map_err(|_| malformed())?,
            mode: parse_mode(&claims.mode).ok_or_else(malformed)?,
        },
        contact: ContactId::parse(&claims.sub).map_err(|_| malformed())?,
        session: token.session.id,
    })
}

impl FromRequest for ContactToken {
    type Error = ApiError;
    type Future = Ready<Result<ContactToken, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(contact_token(request))
    }
}

/// A call on one contact that the contract lets either the contact make (its token) or
/// the business's server (its secret API key): a token, when one is sent, decides.
#[derive(Debug, Clone, Copy)]
pub enum ContactOrServer {
    Contact(ContactToken),
    Server { tenant: Tenant },
}

impl ContactOrServer {
    /// The business the call is for.
    pub fn tenant(&self) -> Tenant {
        match self {
            ContactOrServer::Contact(token) => token.tenant,
            ContactOrServer::Server { tenant } => *tenant,
        }
    }

    /// The contact the path names: the token's own, or any contact of the key's business.
    pub fn contact(&self, path_id: &str) -> Result<(Tenant, ContactId), ApiError> {
        match self {
            ContactOrServer::Contact(token) => Ok((token.tenant, token.own(path_id)?)),
            ContactOrServer::Server { tenant } => Ok((
                *tenant,
                ContactId::parse(path_id).map_err(|_| ApiError::not_found("contact"))?,
            )),
        }
    }
}

impl FromRequest for ContactOrServer {
    type Error = ApiError;
    type Future = Ready<Result<ContactOrServer, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready((|| {
            if request.headers().contains_key("authorization") {
                return contact_token(request).map(ContactOrServer::Contact);
            }
            let record = api_key(request)?;
            if record.kind != ApiKeyKind::Secret {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    codes::INVALID_TOKEN,
                    "this call needs the contact's access token (Authorization: Bearer <token>) or the business's secret API key",
                ));
            }
            Ok(ContactOrServer::Server {
                tenant: Tenant {
                    organisation: engine(request)?.business_of(record.organisation)?,
                    mode: record.mode,
                },
            })
        })())
    }
}

/// A call the signed-in contact makes with its token, or an app makes for a contact before
/// it has signed in (with the app's key): a token, when one is sent, decides.
#[derive(Debug, Clone, Copy)]
pub enum ContactOrApp {
    Contact(ContactToken),
    App(AppKey),
}

impl FromRequest for ContactOrApp {
    type Error = ApiError;
    type Future = Ready<Result<ContactOrApp, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if request.headers().contains_key("authorization") {
            return ready(contact_token(request).map(ContactOrApp::Contact));
        }
        let app = AppKey::from_request(request, payload).into_inner();
        ready(app.map(ContactOrApp::App))
    }
}
