//! Service requests in the back office: queues (`POST/GET /backoffice/v2/queues`), a
//! contact's requests, one request with every note (`GET /backoffice/v2/service_requests/{id}`),
//! moving it (`PUT`: state, stage, resolved, comments) and the back office's own notes.

use crate::api::auth::BackOffice;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::self_service::accounts::IdView;
use crate::api::self_service::service_requests::{
    note_parts, note_view, queue_view, request_id, request_view, request_views, CreateNoteBody, NoteView, QueueView,
    ServiceRequestView,
};
use crate::api::wire::{PageQuery, Paged, PagedResponse};
use actix_web::{get, post, put, web, HttpResponse};
use rewards_engine::domain::ids::{ContactId, StageId};
use rewards_engine::domain::service_request::{Level, RequestState};
use rewards_engine::engine::{NewQueue, RequestFilter, ServiceRequestUpdate};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityBody {
    /// HIGH, MEDIUM or LOW.
    pub urgency: Option<String>,
    pub impact: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedBody {
    pub name: String,
    pub description: Option<String>,
    pub colour: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateQueueBody {
    pub name: Option<String>,
    pub classification: Option<String>,
    pub default_priority: Option<PriorityBody>,
    /// Categories: `name`, `description`.
    pub categories: Option<Vec<NamedBody>>,
    /// Stages in order: `name`, `colour`. None: NEW, IN PROGRESS, DONE.
    pub stages: Option<Vec<NamedBody>>,
}

fn level(parameter: &str, code: Option<&str>) -> Result<Option<Level>, ApiError> {
    code.map(|code| Level::parse(code).ok_or_else(|| ApiError::invalid(parameter, "must be HIGH, MEDIUM or LOW")))
        .transpose()
}

/// Sets up a service request queue (its name unique in the business).
#[utoipa::path(
    tag = "Service Requests",
    request_body = CreateQueueBody,
    responses((status = 201, body = QueueView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/queues")]
pub async fn create_queue(
    auth: BackOffice,
    engine: web::Data<Engine>,
    body: crate::api::wire::Json<CreateQueueBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let priority = body.default_priority;
    let new = NewQueue {
        name: body.name.ok_or_else(|| ApiError::missing("name"))?,
        classification: body.classification,
        urgency: level(
            "default_priority.urgency",
            priority.as_ref().and_then(|p| p.urgency.as_deref()),
        )?,
        impact: level(
            "default_priority.impact",
            priority.as_ref().and_then(|p| p.impact.as_deref()),
        )?,
        categories: body
            .categories
            .unwrap_or_default()
            .into_iter()
            .map(|category| (category.name, category.description))
            .collect(),
        stages: body
            .stages
            .unwrap_or_default()
            .into_iter()
            .map(|stage| (stage.name, stage.colour))
            .collect(),
    };
    let queue = engine.create_queue(auth.tenant, new).await?;
    Ok(HttpResponse::Created().json(queue_view(&queue)))
}

/// The business's queues, oldest first.
#[utoipa::path(
    tag = "Service Requests",
    params(PageQuery),
    responses((status = 200, body = PagedResponse<QueueView>)),
    security(("Secret_API_key" = []))
)]
#[get("/queues")]
pub async fn list_queues(auth: BackOffice, engine: web::Data<Engine>, paged: Paged) -> Result<HttpResponse, ApiError> {
    let views: Vec<QueueView> = engine.queues(&auth.tenant, None)?.iter().map(queue_view).collect();
    let (content, paging) = paged.page_of(views);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

/// A contact's service requests, newest first.
#[utoipa::path(
    tag = "Service Requests",
    params(("id" = String, Path), PageQuery),
    responses((status = 200, body = PagedResponse<ServiceRequestView>), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/contacts/{id}/service_requests")]
pub async fn list_service_requests(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let contact = ContactId::parse(&path).map_err(|_| ApiError::not_found("contact"))?;
    let mut requests = engine.service_requests(&auth.tenant, contact, &RequestFilter::default())?;
    if !paged.descending {
        requests.reverse();
    }
    let (content, paging) = paged.page_of(request_views(&engine, &auth.tenant, &requests)?);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BackofficeRequestView {
    #[serde(flatten)]
    pub request: ServiceRequestView,
    pub contact: IdView,
    /// Every note, the back office's too, oldest first.
    pub notes: Vec<BackofficeNoteView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BackofficeNoteView {
    #[serde(flatten)]
    pub note: NoteView,
    /// CONTACT or BACKOFFICE.
    pub author: &'static str,
}

fn backoffice_view(
    engine: &Engine,
    auth: &BackOffice,
    request: &rewards_engine::domain::service_request::ServiceRequest,
) -> Result<BackofficeRequestView, ApiError> {
    let queue = engine.queue(&auth.tenant, request.queue)?;
    Ok(BackofficeRequestView {
        request: request_view(request, Some(&queue)),
        contact: IdView {
            id: request.contact.to_string(),
        },
        notes: request
            .notes
            .iter()
            .map(|note| BackofficeNoteView {
                note: note_view(note),
                author: if note.by_contact { "CONTACT" } else { "BACKOFFICE" },
            })
            .collect(),
    })
}

/// A service request with every note.
#[utoipa::path(
    tag = "Service Requests",
    params(("id" = String, Path)),
    responses((status = 200, body = BackofficeRequestView), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[get("/service_requests/{id}")]
pub async fn get_service_request(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let request = engine.service_request(&auth.tenant, None, request_id(&path)?)?;
    Ok(HttpResponse::Ok().json(backoffice_view(&engine, &auth, &request)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceRequestBody {
    /// NEW, IN_PROGRESS or CLOSED, as the state table allows.
    pub state: Option<String>,
    /// A stage of the request's queue.
    pub stage_id: Option<String>,
    pub is_resolved: Option<bool>,
    /// Shown to the contact.
    pub comments: Option<String>,
}

/// Moves a service request: a state the table allows, a stage of its queue, resolved or
/// not, comments. All or nothing.
#[utoipa::path(
    tag = "Service Requests",
    params(("id" = String, Path)),
    request_body = UpdateServiceRequestBody,
    responses(
        (status = 200, body = BackofficeRequestView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ),
    security(("Secret_API_key" = []))
)]
#[put("/service_requests/{id}")]
pub async fn update_service_request(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<UpdateServiceRequestBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let update = ServiceRequestUpdate {
        state: body
            .state
            .as_deref()
            .map(|code| {
                RequestState::parse(code)
                    .ok_or_else(|| ApiError::invalid("state", "must be NEW, IN_PROGRESS or CLOSED"))
            })
            .transpose()?,
        stage: body
            .stage_id
            .as_deref()
            .map(|id| StageId::parse(id).map_err(|_| ApiError::invalid("stage_id", "must be a stage id")))
            .transpose()?,
        is_resolved: body.is_resolved,
        comments: body.comments,
    };
    let request = engine
        .update_service_request(auth.tenant, request_id(&path)?, update)
        .await?;
    Ok(HttpResponse::Ok().json(backoffice_view(&engine, &auth, &request)?))
}

/// Adds the back office's note to a request (the contact never sees it).
#[utoipa::path(
    tag = "Service Requests",
    params(("id" = String, Path)),
    request_body = CreateNoteBody,
    responses((status = 201, body = IdView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("Secret_API_key" = []))
)]
#[post("/service_requests/{id}/notes")]
pub async fn create_note(
    auth: BackOffice,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<CreateNoteBody>,
) -> Result<HttpResponse, ApiError> {
    let (note_id, text) = note_parts(body.into_inner())?;
    let note = engine
        .add_note(auth.tenant, None, request_id(&path)?, note_id, text)
        .await?;
    Ok(HttpResponse::Created().json(IdView {
        id: note.id.to_string(),
    }))
}
