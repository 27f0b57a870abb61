//! Passes in apps: `GET /self-service/v2/pass_plans` (the business's active plans) and
//! `POST /self-service/v2/passes/redeem` (the signed-in contact redeems a pass into its own
//! wallet, once; wrong codes and PINs are counted per contact: 429 past the allowance).

use super::ContactToken;
use crate::api::backoffice::passes::{plan_view, redeem_code, PlanView, RedeemBody, RedeemedView};
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{Paged, PagedResponse};
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::domain::ids::WalletId;
use rewards_engine::domain::pass::PlanState;
use rewards_engine::Engine;

/// The business's active pass plans, oldest first.
#[utoipa::path(
    tag = "Passes",
    params(crate::api::wire::PageQuery),
    responses((status = 200, body = PagedResponse<PlanView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/pass_plans")]
pub async fn list_pass_plans(
    token: ContactToken,
    engine: web::Data<Engine>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let plans = engine
        .pass_plans(&token.tenant)?
        .iter()
        .filter(|plan| plan.state == PlanState::Active)
        .map(|plan| plan_view(&engine, plan))
        .collect::<Result<Vec<PlanView>, ApiError>>()?;
    let (content, paging) = paged.page_of(plans);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

/// Redeems a pass into the signed-in contact's own wallet, once: its value is credited
/// (open or commerce money, as its plan says) through the outbox.
#[utoipa::path(
    tag = "Passes",
    request_body = RedeemBody,
    responses(
        (status = 200, body = RedeemedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 429, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/passes/redeem")]
pub async fn redeem_pass(
    token: ContactToken,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<RedeemBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    // The contract requires the code here; the back office also takes its `code_hash`.
    if body.code.is_none() {
        return Err(ApiError::missing("code"));
    }
    let code = redeem_code(&body)?;
    if let Some(contact) = &body.contact_id {
        token.own(contact)?;
    }
    if let Some(wallet) = &body.wallet_id {
        let wallet = WalletId::parse(wallet).map_err(|_| ApiError::not_found("wallet"))?;
        engine.check_own_wallet(token.tenant, token.contact, wallet)?;
    }
    let organisation = body
        .organisation
        .as_ref()
        .ok_or_else(|| ApiError::missing("organisation"))?;
    let place = crate::api::backoffice::passes::redeem_place(Some(organisation))?;
    let caller = format!("contact:{}", token.contact);
    let pass = engine
        .redeem_pass(token.tenant, &caller, code, body.pin, token.contact, place)
        .await?;
    Ok(HttpResponse::Ok().json(RedeemedView {
        id: pass.id.to_string(),
        contact: None,
    }))
}
