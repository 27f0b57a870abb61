//! Commerce pools in the back office: `POST /backoffice/v2/commerce_pools`,
//! `GET /backoffice/v2/commerce_pools` (paged), `GET` and `PUT /backoffice/v2/commerce_pools/{id}`.
//! A pool names spend conditions once; offers credit it with
//! `destination: {type: POOL, commerce_pool: {id}}`.

use super::offers::wire::{filter, id_refs, organisation_ids, products_body, SpendConditionsBody};
use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{PageQuery, Paged, Paging};
use actix_web::{get, post, put, web, HttpResponse};
use rewards_engine::domain::commerce_pool::CommercePool;
use rewards_engine::domain::ids::CommercePoolId;
use rewards_engine::domain::offer::SpendConditions;
use rewards_engine::engine::{CommercePoolUpdate, NewCommercePool};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePoolBody {
    pub name: String,
    pub description: Option<String>,
    /// Where (organisations, and what is below them) and on what (products) its money may
    /// be spent; at least one of the two.
    pub spend_conditions: SpendConditionsBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePoolBody {
    pub name: Option<String>,
    /// An empty text clears it.
    pub description: Option<String>,
    /// Replaced whole; lots already awarded keep the conditions they were made under.
    pub spend_conditions: Option<SpendConditionsBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PoolView {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub spend_conditions: SpendConditionsBody,
    pub created_date: i64,
    pub updated_date: i64,
}

impl From<CommercePool> for PoolView {
    fn from(pool: CommercePool) -> Self {
        PoolView {
            id: pool.id.to_string(),
            name: pool.name,
            description: pool.description,
            spend_conditions: SpendConditionsBody {
                organisations: id_refs(&pool.conditions.organisations),
                products: products_body(&pool.conditions.products),
            },
            created_date: pool.created_on,
            updated_date: pool.updated_on,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PoolList {
    pub paging: Paging,
    pub content: Vec<PoolView>,
}

fn conditions(body: SpendConditionsBody) -> Result<SpendConditions, ApiError> {
    Ok(SpendConditions {
        organisations: organisation_ids("spend_conditions.organisations", &body.organisations)?,
        products: filter(body.products),
    })
}

fn pool_id(text: &str) -> Result<CommercePoolId, ApiError> {
    CommercePoolId::parse(text).map_err(|_| ApiError::not_found("commerce pool"))
}

/// Make a commerce pool.
#[utoipa::path(
    tag = "Commerce pools",
    request_body = CreatePoolBody,
    responses((status = 201, body = PoolView), (status = 400, body = ErrorBody)),
    security(("Secret_API_key" = []), ("authorization" = []))
)]
#[post("/commerce_pools")]
pub async fn create_pool(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<CreatePoolBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let new = NewCommercePool {
        name: body.name,
        description: body.description,
        conditions: conditions(body.spend_conditions)?,
    };
    let pool = engine.create_commerce_pool(auth.tenant, new).await?;
    Ok(HttpResponse::Created().json(PoolView::from(pool)))
}

/// The business's commerce pools, paged; newest first unless `order=ASC`.
#[utoipa::path(
    tag = "Commerce pools",
    params(PageQuery),
    responses((status = 200, body = PoolList), (status = 400, body = ErrorBody)),
    security(("Secret_API_key" = []), ("authorization" = []))
)]
#[get("/commerce_pools")]
pub async fn list_pools(auth: BackOffice, engine: web::Data<Engine>, paged: Paged) -> Result<HttpResponse, ApiError> {
    let mut pools = engine.commerce_pools(&auth.tenant)?;
    if paged.descending {
        pools.reverse();
    }
    let (pools, paging) = paged.page_of(pools);
    Ok(HttpResponse::Ok().json(PoolList {
        paging,
        content: pools.into_iter().map(PoolView::from).collect(),
    }))
}

/// A commerce pool.
#[utoipa::path(
    tag = "Commerce pools",
    params(("id" = String, Path)),
    responses((status = 200, body = PoolView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []), ("authorization" = []))
)]
#[get("/commerce_pools/{id}")]
pub async fn get_pool(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let pool = engine.commerce_pool(&auth.tenant, pool_id(&path)?)?;
    Ok(HttpResponse::Ok().json(PoolView::from(pool)))
}

/// Change a commerce pool's name, description or spend conditions (for awards from now on).
#[utoipa::path(
    tag = "Commerce pools",
    params(("id" = String, Path)),
    request_body = UpdatePoolBody,
    responses((status = 200, body = PoolView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []), ("authorization" = []))
)]
#[put("/commerce_pools/{id}")]
pub async fn update_pool(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<UpdatePoolBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let update = CommercePoolUpdate {
        name: body.name,
        description: body.description,
        conditions: body.spend_conditions.map(conditions).transpose()?,
    };
    let pool = engine
        .update_commerce_pool(auth.tenant, pool_id(&path)?, update)
        .await?;
    Ok(HttpResponse::Ok().json(PoolView::from(pool)))
}
