//! Actions on subscriptions' services as apps list them (`GET /subscriptions/actions`,
//! `GET /contacts/{id}/subscriptions/actions`) and change a scheduled one
//! (`PUT /subscriptions/actions/{id}`).

use super::subscriptions::*;
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{Json, Paged, PagedResponse};
use actix_web::{get, put, web, HttpResponse};
use rewards_engine::domain::ids::{ServiceId, SubscriptionActionId, SubscriptionId};
use rewards_engine::domain::subscription::ActionState;
use rewards_engine::engine::ScheduleChange;
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionActionView {
    pub id: String,
    pub state: &'static str,
    pub behaviour_code: &'static str,
    pub business_classification_code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_on: Option<i64>,
    /// Our additions: the service, its subscription, why a rejected action was.
    pub service_id: String,
    pub subscription_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ActionsQuery {
    pub contact_id: Option<String>,
    pub subscription_id: Option<String>,
    pub service_id: Option<String>,
    /// Only the scheduled ones.
    pub is_scheduled: Option<bool>,
}

/// The actions taken on the signed-in contact's services and those scheduled, newest first.
#[utoipa::path(
    tag = "Subscriptions",
    params(ActionsQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<SubscriptionActionView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/subscriptions/actions")]
pub async fn list_actions(
    token: ContactToken,
    engine: web::Data<Engine>,
    query: web::Query<ActionsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    if let Some(contact) = query.contact_id.as_deref() {
        token.own(contact)?;
    }
    let subscription = query
        .subscription_id
        .as_deref()
        .map(|id| {
            SubscriptionId::parse(id).map_err(|_| ApiError::invalid("subscription_id", "must be a subscription id"))
        })
        .transpose()?;
    let service = query
        .service_id
        .as_deref()
        .map(|id| ServiceId::parse(id).map_err(|_| ApiError::invalid("service_id", "must be a service id")))
        .transpose()?;
    let filter = ActionFilter {
        subscription,
        service,
        states: if query.is_scheduled == Some(true) {
            vec![ActionState::Scheduled]
        } else {
            Vec::new()
        },
        codes: Vec::new(),
    };
    let mut views = action_views(&engine, &token, token.contact, &filter)?;
    if !paged.descending {
        views.reverse();
    }
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

/// Which actions to list.
struct ActionFilter {
    subscription: Option<SubscriptionId>,
    service: Option<ServiceId>,
    /// Any of these (all when empty).
    states: Vec<ActionState>,
    /// Behaviour or business classification codes, any of them (all when empty).
    codes: Vec<String>,
}

/// A contact's actions `filter` keeps, newest first.
fn action_views(
    engine: &Engine,
    token: &ContactToken,
    contact: rewards_engine::domain::ids::ContactId,
    filter: &ActionFilter,
) -> Result<Vec<SubscriptionActionView>, ApiError> {
    let mut views: Vec<(i64, SubscriptionActionView)> = Vec::new();
    for found in engine.contact_subscriptions(&token.tenant, contact)? {
        if filter.subscription.is_some_and(|id| id != found.id) {
            continue;
        }
        for action in &found.actions {
            let coded = filter.codes.is_empty()
                || filter
                    .codes
                    .iter()
                    .any(|code| code == action.action.behaviour_code() || code == action.action.classification_code());
            if filter.service.is_some_and(|id| id != action.service)
                || (!filter.states.is_empty() && !filter.states.contains(&action.state))
                || !coded
            {
                continue;
            }
            views.push((
                action.created_on,
                SubscriptionActionView {
                    id: action.id.to_string(),
                    state: action.state.code(),
                    behaviour_code: action.action.behaviour_code(),
                    business_classification_code: action.action.classification_code(),
                    scheduled_on: action.scheduled_on,
                    executed_on: action.executed_on,
                    cancelled_on: action.cancelled_on,
                    rejected_on: action.rejected_on,
                    service_id: action.service.to_string(),
                    subscription_id: found.id.to_string(),
                    reason: action.reason.clone(),
                },
            ));
        }
    }
    views.sort_by_key(|(created, _)| std::cmp::Reverse(*created));
    Ok(views.into_iter().map(|(_, view)| view).collect())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ContactActionsQuery {
    pub subscription_id: Option<String>,
    /// SCHEDULED, EXECUTED, REJECTED, CANCELLED; several, comma-separated.
    pub state: Option<String>,
    /// Behaviour codes (PAUSE_SERVICE, …), comma-separated.
    pub behaviour_code: Option<String>,
    /// Business classification codes (CANCEL_SERVICE, …), comma-separated.
    pub business_classification_code: Option<String>,
}

/// The actions taken on the contact's services and those scheduled, newest first.
#[utoipa::path(
    tag = "Subscriptions",
    params(("id" = String, Path), ContactActionsQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<SubscriptionActionView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/subscriptions/actions")]
pub async fn list_contact_actions(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<ContactActionsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let split = |value: Option<&str>| -> Vec<String> {
        value
            .map(|v| {
                v.split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let states = split(query.state.as_deref())
        .iter()
        .map(|code| {
            ActionState::parse(code)
                .ok_or_else(|| ApiError::invalid("state", "each must be SCHEDULED, EXECUTED, REJECTED or CANCELLED"))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let mut codes = split(query.behaviour_code.as_deref());
    codes.extend(split(query.business_classification_code.as_deref()));
    let filter = ActionFilter {
        subscription: query
            .subscription_id
            .as_deref()
            .map(|id| {
                SubscriptionId::parse(id).map_err(|_| ApiError::invalid("subscription_id", "must be a subscription id"))
            })
            .transpose()?,
        service: None,
        states,
        codes,
    };
    let mut views = action_views(&engine, &token, contact, &filter)?;
    if !paged.descending {
        views.reverse();
    }
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateActionBody {
    /// CANCEL or TERMINATE (the scheduled action is not taken), UPDATE (`scheduled_date`).
    pub action: Option<String>,
    pub scheduled_date: Option<i64>,
    pub category_id: Option<String>,
    pub use_proposed_date: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub period_settings: Option<serde_json::Value>,
}

/// Cancels one of the signed-in contact's scheduled actions, or moves it to another date.
#[utoipa::path(
    tag = "Subscriptions",
    params(("id" = String, Path)),
    request_body = UpdateActionBody,
    responses(
        (status = 200, body = ActionAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[put("/subscriptions/actions/{id}")]
pub async fn update_action(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: Json<UpdateActionBody>,
) -> Result<HttpResponse, ApiError> {
    let id = SubscriptionActionId::parse(&path).map_err(|_| ApiError::not_found("subscription action"))?;
    let change = match body.action.as_deref() {
        None => return Err(ApiError::missing("action")),
        Some("CANCEL") | Some("TERMINATE") => ScheduleChange::Cancel,
        Some("UPDATE") => {
            ScheduleChange::Reschedule(body.scheduled_date.ok_or_else(|| ApiError::missing("scheduled_date"))?)
        }
        Some(_) => return Err(ApiError::invalid("action", "must be CANCEL, UPDATE or TERMINATE")),
    };
    let action = engine
        .change_scheduled_action(token.tenant, token.contact, id, change)
        .await?;
    Ok(HttpResponse::Ok().json(ActionAnswer {
        id: action.id.to_string(),
        proposed_date: action.scheduled_on.filter(|_| action.state == ActionState::Scheduled),
    }))
}
