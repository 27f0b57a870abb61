//! The back-office API family (`/backoffice/v2`): server-to-server calls with a secret key,
//! and back-office users with their tokens.

pub mod accounts;
pub mod api_keys;
pub mod commerce_pools;
pub mod contacts;
pub mod integrations;
pub mod offers;
pub mod orders;
pub mod organisations;
pub mod passes;
pub mod products;
pub mod purchases;
pub mod schemes;
pub mod service_requests;
pub mod users;
pub mod wallets;

use actix_web::web;

pub fn scope(bulk_body_bytes_max: usize) -> actix_web::Scope {
    web::scope("/backoffice/v2")
        .service(
            // Before `/purchases/{id}` so "bulk" is never taken for an id; its own body limit.
            web::resource("/purchases/bulk")
                .app_data(crate::api::wire::BodyLimit(bulk_body_bytes_max))
                .route(web::post().to(purchases::create_purchases_bulk)),
        )
        .service(api_keys::create_api_key)
        .service(api_keys::list_api_keys)
        .service(api_keys::get_api_key)
        .service(api_keys::roll_api_key)
        .service(api_keys::revoke_api_key)
        .service(users::authenticate)
        .service(users::refresh)
        .service(users::create_user)
        .service(users::get_user)
        .service(users::switch_organisation)
        .service(contacts::create_contact)
        .service(contacts::get_contact)
        .service(accounts::list_accounts)
        .service(accounts::get_account)
        .service(accounts::update_account)
        .service(accounts::post_journal)
        .service(accounts::list_journals)
        .service(organisations::set_address)
        .service(products::create_class)
        .service(products::list_classes)
        .service(products::create_product)
        .service(products::list_products)
        .service(products::get_product)
        .service(products::update_product)
        .service(products::set_allowances)
        .service(products::get_allowances)
        .service(orders::set_fulfilment)
        .service(orders::get_fulfilment)
        .service(orders::get_order)
        .service(orders::order_actions)
        .service(integrations::create_integration)
        .service(integrations::list_integrations)
        .service(integrations::get_integration)
        .service(integrations::update_integration)
        .service(service_requests::create_queue)
        .service(service_requests::list_queues)
        .service(service_requests::list_service_requests)
        .service(service_requests::get_service_request)
        .service(service_requests::update_service_request)
        .service(service_requests::create_note)
        .service(offers::create_offer)
        .service(organisations::create_organisation)
        .service(organisations::update_organisation)
        .service(organisations::delete_organisation)
        .service(organisations::get_network)
        .service(organisations::get_organisation)
        .service(offers::list_offers)
        .service(offers::get_offer)
        .service(offers::update_offer)
        .service(offers::set_offer_state)
        .service(commerce_pools::create_pool)
        .service(commerce_pools::list_pools)
        .service(commerce_pools::get_pool)
        .service(commerce_pools::update_pool)
        .service(passes::create_plan)
        .service(passes::list_plans)
        .service(passes::get_plan)
        .service(passes::update_plan)
        .service(passes::redeem_pass)
        .service(passes::issue_pass)
        .service(passes::find_passes)
        .service(passes::update_pass)
        .service(schemes::create_scheme)
        .service(schemes::list_schemes)
        .service(schemes::get_scheme)
        .service(schemes::update_scheme)
        .service(schemes::issue_codes)
        .service(purchases::create_return)
        .service(purchases::create_estimate)
        .service(purchases::get_estimate)
        .service(purchases::create_purchase)
        .service(purchases::get_purchase)
        .service(purchases::cancel_purchase)
        .service(wallets::get_wallet)
        .service(wallets::set_spend_settings)
        .service(wallets::list_journals)
}
