//! Service requests in apps: `GET/POST /self-service/v2/contacts/{id}/service_requests`,
//! `GET /self-service/v2/queues`, and the contact's notes
//! (`GET/POST /self-service/v2/service_requests/{id}/notes`). Only the signed-in contact's
//! own requests are found; the back office's notes are never shown to it.

use super::accounts::{CustomField, IdView};
use super::ContactToken;
use crate::api::errors::{ApiError, ErrorBody};
use crate::api::wire::{Paged, PagedResponse};
use actix_web::{get, post, web, HttpResponse};
use rewards_engine::domain::ids::{CategoryId, NoteId, QueueId, ServiceRequestId};
use rewards_engine::domain::service_request::{Level, Note, Queue, RequestState, ServiceRequest};
use rewards_engine::engine::{NewServiceRequest, RequestFilter};
use rewards_engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct StageView {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
    /// Its place in the queue, from 1.
    pub order: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceRequestView {
    pub id: String,
    pub number: String,
    pub description: String,
    pub created_date: i64,
    /// The back office's comments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    pub is_resolved: bool,
    /// The queue's classification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
    pub stage: StageView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<IdView>,
    pub custom_fields: Vec<CustomField>,
    /// Our addition: NEW, IN_PROGRESS or CLOSED.
    pub state: &'static str,
    /// Our addition: the queue it was raised in.
    pub queue: IdView,
}

pub fn request_view(request: &ServiceRequest, queue: Option<&Queue>) -> ServiceRequestView {
    let stage = queue.and_then(|queue| {
        queue
            .stages
            .iter()
            .enumerate()
            .find(|(_, stage)| stage.id == request.stage)
    });
    ServiceRequestView {
        id: request.id.to_string(),
        number: request.number.clone(),
        description: request.description.clone(),
        created_date: request.created_on,
        comments: request.comments.clone(),
        is_resolved: request.is_resolved,
        classification: queue.and_then(|queue| queue.classification.clone()),
        stage: StageView {
            id: request.stage.to_string(),
            name: stage.map(|(_, stage)| stage.name.clone()).unwrap_or_default(),
            colour: stage.and_then(|(_, stage)| stage.colour.clone()),
            order: stage.map_or(0, |(index, _)| i32::try_from(index + 1).unwrap_or(i32::MAX)),
        },
        address: request.address.clone().map(|id| IdView { id }),
        custom_fields: request
            .custom_fields
            .iter()
            .map(|(key, value)| CustomField {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        state: request.state.code(),
        queue: IdView {
            id: request.queue.to_string(),
        },
    }
}

/// The views of `requests`, each with its queue's stage and classification.
pub fn request_views(
    engine: &Engine,
    tenant: &rewards_engine::domain::ids::Tenant,
    requests: &[ServiceRequest],
) -> Result<Vec<ServiceRequestView>, ApiError> {
    let queues = engine.queues(tenant, None)?;
    Ok(requests
        .iter()
        .map(|request| request_view(request, queues.iter().find(|queue| queue.id == request.queue)))
        .collect())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ServiceRequestsQuery {
    pub queue_id: Option<String>,
    /// Requests whose number holds this.
    pub search_value: Option<String>,
    /// NEW, IN_PROGRESS, CLOSED; several, comma-separated.
    pub states: Option<String>,
}

/// The signed-in contact's service requests, newest first.
#[utoipa::path(
    tag = "Service Requests",
    params(("id" = String, Path), ServiceRequestsQuery, crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<ServiceRequestView>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/contacts/{id}/service_requests")]
pub async fn list_service_requests(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    query: web::Query<ServiceRequestsQuery>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let states = query
        .states
        .as_deref()
        .map(|states| {
            states
                .split(',')
                .map(|code| {
                    RequestState::parse(code)
                        .ok_or_else(|| ApiError::invalid("states", "each must be NEW, IN_PROGRESS or CLOSED"))
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .transpose()?
        .unwrap_or_default();
    let filter = RequestFilter {
        queue: query
            .queue_id
            .as_deref()
            .map(|id| QueueId::parse(id).map_err(|_| ApiError::invalid("queue_id", "must be a queue id")))
            .transpose()?,
        states,
        number: query.search_value.clone().filter(|value| !value.trim().is_empty()),
    };
    let mut requests = engine.service_requests(&token.tenant, contact, &filter)?;
    if !paged.descending {
        requests.reverse();
    }
    let (content, paging) = paged.page_of(request_views(&engine, &token.tenant, &requests)?);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddressRef {
    pub id: Option<String>,
    /// Not kept: a request names one of the contact's addresses by id.
    #[schema(value_type = Option<Object>)]
    pub other: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CategoryRef {
    pub id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceRequestBody {
    pub description: Option<String>,
    pub queue_id: Option<String>,
    /// One of the contact's addresses, by id.
    pub address: Option<AddressRef>,
    /// Categories of the queue.
    pub categories: Option<Vec<CategoryRef>>,
    pub custom_fields: Option<Vec<CustomField>>,
}

/// Raises a service request for the signed-in contact in one of the business's queues.
#[utoipa::path(
    tag = "Service Requests",
    params(("id" = String, Path)),
    request_body = CreateServiceRequestBody,
    responses(
        (status = 200, body = IdView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/contacts/{id}/service_requests")]
pub async fn create_service_request(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<CreateServiceRequestBody>,
) -> Result<HttpResponse, ApiError> {
    let contact = token.own(&path)?;
    let body = body.into_inner();
    let new = NewServiceRequest {
        queue: Some(
            body.queue_id
                .as_deref()
                .ok_or_else(|| ApiError::missing("queue_id"))
                .and_then(|id| QueueId::parse(id).map_err(|_| ApiError::invalid("queue_id", "must be a queue id")))?,
        ),
        description: body.description.ok_or_else(|| ApiError::missing("description"))?,
        categories: body
            .categories
            .unwrap_or_default()
            .into_iter()
            .map(|category| {
                CategoryId::parse(&category.id).map_err(|_| ApiError::invalid("categories", "must be category ids"))
            })
            .collect::<Result<Vec<_>, ApiError>>()?,
        address: match body.address {
            Some(AddressRef { other: Some(_), .. }) => {
                return Err(ApiError::invalid(
                    "address.other",
                    "is not kept: name one of the contact's addresses by address.id",
                ))
            }
            address => address.and_then(|address| address.id),
        },
        custom_fields: body
            .custom_fields
            .unwrap_or_default()
            .into_iter()
            .map(|field| (field.key, field.value))
            .collect(),
    };
    let request = engine.create_service_request(token.tenant, contact, new).await?;
    Ok(HttpResponse::Ok().json(IdView {
        id: request.id.to_string(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriorityView {
    pub urgency: &'static str,
    pub impact: &'static str,
    pub priority: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
    pub default_priority: PriorityView,
    pub categories: Vec<CategoryView>,
    /// Our addition: its stages, in order.
    pub stages: Vec<StageView>,
}

pub fn queue_view(queue: &Queue) -> QueueView {
    QueueView {
        id: queue.id.to_string(),
        name: queue.name.clone(),
        classification: queue.classification.clone(),
        default_priority: PriorityView {
            urgency: queue.urgency.code(),
            impact: queue.impact.code(),
            priority: Level::priority(queue.urgency, queue.impact),
        },
        categories: queue
            .categories
            .iter()
            .map(|category| CategoryView {
                id: category.id.to_string(),
                name: category.name.clone(),
                description: category.description.clone(),
            })
            .collect(),
        stages: queue
            .stages
            .iter()
            .enumerate()
            .map(|(index, stage)| StageView {
                id: stage.id.to_string(),
                name: stage.name.clone(),
                colour: stage.colour.clone(),
                order: i32::try_from(index + 1).unwrap_or(i32::MAX),
            })
            .collect(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueuesQuery {
    /// Queues whose name holds this.
    pub name: Option<String>,
    /// As `name`.
    pub search_value: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueuesResponse {
    pub content: Vec<QueueView>,
}

/// The business's service request queues, oldest first.
#[utoipa::path(
    tag = "Service Requests",
    params(QueuesQuery),
    responses((status = 200, body = QueuesResponse), (status = 401, body = ErrorBody)),
    security(("authorization_self_service" = []))
)]
#[get("/queues")]
pub async fn list_queues(
    token: ContactToken,
    engine: web::Data<Engine>,
    query: web::Query<QueuesQuery>,
) -> Result<HttpResponse, ApiError> {
    let search = query.name.as_deref().or(query.search_value.as_deref());
    let queues = engine.queues(&token.tenant, search)?;
    Ok(HttpResponse::Ok().json(QueuesResponse {
        content: queues.iter().map(queue_view).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    pub id: String,
    pub created_on: i64,
    pub updated_on: i64,
    pub pinned: bool,
    pub note: String,
}

pub fn note_view(note: &Note) -> NoteView {
    NoteView {
        id: note.id.to_string(),
        created_on: note.created_on,
        updated_on: note.created_on,
        pinned: false,
        note: note.text.clone(),
    }
}

pub(crate) fn request_id(text: &str) -> Result<ServiceRequestId, ApiError> {
    ServiceRequestId::parse(text).map_err(|_| ApiError::not_found("service request"))
}

/// The signed-in contact's own notes on its request, newest first unless `order=ASC`.
#[utoipa::path(
    tag = "Service Requests",
    params(("id" = String, Path), crate::api::wire::PageQuery),
    responses(
        (status = 200, body = PagedResponse<NoteView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[get("/service_requests/{id}/notes")]
pub async fn list_notes(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    paged: Paged,
) -> Result<HttpResponse, ApiError> {
    let request = engine.service_request(&token.tenant, Some(token.contact), request_id(&path)?)?;
    let mut notes: Vec<NoteView> = request
        .notes
        .iter()
        .filter(|note| note.by_contact)
        .map(note_view)
        .collect();
    if paged.descending {
        notes.reverse();
    }
    let (content, paging) = paged.page_of(notes);
    Ok(HttpResponse::Ok().json(PagedResponse { paging, content }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNoteBody {
    /// The note's id, for retries: the same id is answered with the note first added.
    pub id: Option<String>,
    pub note: Option<String>,
}

pub(crate) fn note_parts(body: CreateNoteBody) -> Result<(Option<NoteId>, String), ApiError> {
    let id = body
        .id
        .as_deref()
        .map(|id| NoteId::parse(id).map_err(|_| ApiError::invalid("id", "must be a UUID")))
        .transpose()?;
    Ok((id, body.note.ok_or_else(|| ApiError::missing("note"))?))
}

/// Adds the signed-in contact's note to its request.
#[utoipa::path(
    tag = "Service Requests",
    params(("id" = String, Path)),
    request_body = CreateNoteBody,
    responses(
        (status = 200, body = IdView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)
    ),
    security(("authorization_self_service" = []))
)]
#[post("/service_requests/{id}/notes")]
pub async fn create_note(
    token: ContactToken,
    engine: web::Data<Engine>,
    path: web::Path<String>,
    body: crate::api::wire::Json<CreateNoteBody>,
) -> Result<HttpResponse, ApiError> {
    let (note_id, text) = note_parts(body.into_inner())?;
    let note = engine
        .add_note(token.tenant, Some(token.contact), request_id(&path)?, note_id, text)
        .await?;
    Ok(HttpResponse::Ok().json(IdView {
        id: note.id.to_string(),
    }))
}
