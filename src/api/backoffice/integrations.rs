//! A business's payment gateway integrations in the back office
//! (`POST/GET /backoffice/v2/integrations`, `GET/PUT /backoffice/v2/integrations/{id}`): which
//! of the server's gateway plugins (`[payments] gateways`) the business takes payments
//! through, and its default — where a payment method that names no gateway goes. With none
//! set up every configured gateway is taken, the first the default; once set up, only the
//! active ones hold new payment methods and charge top-ups, payouts and scheduled top-ups.

use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{PageQuery, Paged, PagedResponse};
use actix_web::{get, post, put, web, HttpResponse};
use rewards_engine::domain::ids::IntegrationId;
use rewards_engine::domain::integration::GatewayIntegration;
use rewards_engine::engine::{IntegrationChange, NewIntegration};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const PAYMENT_GATEWAYS: &str = "PAYMENT_GATEWAYS";

#[derive(Debug, Serialize, ToSchema)]
pub struct GatewayCapabilitiesView {
    /// What the gateway is used for: PAYMENT (top-ups) and PAYOUT.
    pub classifications: Vec<&'static str>,
    /// The payment methods it holds.
    pub payment_methods: Vec<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationView {
    pub id: String,
    /// PAYMENT_GATEWAYS.
    #[serde(rename = "type")]
    pub integration_type: &'static str,
    /// The plugin: TEST or STRIPE.
    pub connector: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub is_default: bool,
    /// ACTIVE or INACTIVE.
    pub state: &'static str,
    pub payment_gateways: GatewayCapabilitiesView,
    pub created_on: i64,
    pub updated_on: i64,
}

fn view(integration: &GatewayIntegration) -> IntegrationView {
    IntegrationView {
        id: integration.id.to_string(),
        integration_type: PAYMENT_GATEWAYS,
        connector: integration.connector.to_ascii_uppercase(),
        name: integration.name.clone(),
        is_default: integration.is_default,
        state: if integration.active { "ACTIVE" } else { "INACTIVE" },
        payment_gateways: GatewayCapabilitiesView {
            classifications: vec!["PAYMENT", "PAYOUT"],
            payment_methods: vec!["CARD", "ACCOUNT_DEBIT", "WALLET"],
        },
        created_on: integration.created_on,
        updated_on: integration.updated_on,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIntegrationBody {
    /// PAYMENT_GATEWAYS (the only type supported), the default.
    #[serde(rename = "type")]
    pub integration_type: Option<String>,
    /// One of `[payments] gateways`, any case: TEST or STRIPE.
    pub connector: Option<String>,
    pub name: Option<String>,
    /// Make it the default (the business's first integration is the default anyway).
    pub is_default: Option<bool>,
}

/// Adds a payment gateway integration to the business (each connector once).
#[utoipa::path(
    tag = "Integrations",
    request_body = CreateIntegrationBody,
    responses(
        (status = 201, body = IntegrationView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[post("/integrations")]
pub async fn create_integration(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<CreateIntegrationBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body
        .integration_type
        .as_deref()
        .is_some_and(|kind| kind != PAYMENT_GATEWAYS)
    {
        return Err(ApiError::invalid(
            "type",
            "only PAYMENT_GATEWAYS integrations are supported",
        ));
    }
    let new = NewIntegration {
        connector: body.connector.ok_or_else(|| ApiError::missing("connector"))?,
        name: body.name,
        is_default: body.is_default.unwrap_or(false),
    };
    let integration = engine.add_payment_integration(auth.tenant, new).await?;
    Ok(HttpResponse::Created().json(view(&integration)))
}

/// The business's payment gateway integrations, oldest first.
#[utoipa::path(
    tag = "Integrations",
    params(PageQuery),
    responses((status = 200, body = PagedResponse<IntegrationView>), (status = 401, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/integrations")]
pub async fn list_integrations(
    auth: BackOffice,
    engine: web::Data<Engine>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let views: Vec<IntegrationView> = engine.payment_integrations(&auth.tenant)?.iter().map(view).collect();
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

fn integration_id(path: &str) -> Result<IntegrationId, ApiError> {
    IntegrationId::parse(path).map_err(|_| ApiError::not_found("integration"))
}

/// One of the business's integrations.
#[utoipa::path(
    tag = "Integrations",
    params(("id" = String, Path)),
    responses((status = 200, body = IntegrationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/integrations/{id}")]
pub async fn get_integration(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = integration_id(&path)?;
    let found = engine
        .payment_integrations(&auth.tenant)?
        .into_iter()
        .find(|integration| integration.id == id)
        .ok_or_else(|| ApiError::not_found("integration"))?;
    Ok(HttpResponse::Ok().json(view(&found)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIntegrationBody {
    pub name: Option<String>,
    /// Make it the default (`false` leaves the business without one: the first active
    /// integration is used).
    pub is_default: Option<bool>,
    /// ACTIVE or INACTIVE: an inactive integration holds no new payment methods and
    /// charges nothing.
    pub state: Option<String>,
}

/// Renames, makes default, deactivates or activates one of the business's integrations.
#[utoipa::path(
    tag = "Integrations",
    params(("id" = String, Path)),
    request_body = UpdateIntegrationBody,
    responses(
        (status = 200, body = IntegrationView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[put("/integrations/{id}")]
pub async fn update_integration(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<UpdateIntegrationBody>,
) -> Result<HttpResponse, ApiError> {
    let id = integration_id(&path)?;
    let body = body.into_inner();
    let active = match body.state.as_deref() {
        None => None,
        Some("ACTIVE") => Some(true),
        Some("INACTIVE") => Some(false),
        Some(_) => return Err(ApiError::invalid("state", "must be ACTIVE or INACTIVE")),
    };
    let change = IntegrationChange {
        name: body.name,
        is_default: body.is_default,
        active,
    };
    let integration = engine.update_payment_integration(auth.tenant, id, change).await?;
    Ok(HttpResponse::Ok().json(view(&integration)))
}
