//! Service requests: the back office sets up queues (categories and stages); a contact
//! raises requests in them and adds notes; the back office moves each through its queue's
//! stages and the state table, comments, and adds notes of its own the contact never sees.
//! Each request is changed under a claim on it (read, check, write, durable), so two
//! changes to one request never interleave.

use super::error::short_text;
use super::{claim_key, invalid, Engine, EngineError};
use crate::domain::ids::{CategoryId, ContactId, NoteId, QueueId, ServiceRequestId, StageId, Tenant};
use crate::domain::service_request::{allowed, Category, Level, Note, Queue, RequestState, ServiceRequest, Stage};
use crate::storage::WriteSet;

/// Longest name, classification, colour, address id, custom field.
const NAME_MAX: usize = 200;
/// Longest description, note or comment.
const TEXT_MAX: usize = 4_000;
/// Most categories or stages in a queue; queues in a business; custom fields on a request.
const LIST_MAX: usize = 50;
/// Requests one contact may have raised.
const REQUESTS_PER_CONTACT_MAX: usize = 1_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewQueue {
    pub name: String,
    pub classification: Option<String>,
    pub urgency: Option<Level>,
    pub impact: Option<Level>,
    /// (name, description)
    pub categories: Vec<(String, Option<String>)>,
    /// (name, colour), in order; none given: NEW, IN PROGRESS, DONE.
    pub stages: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewServiceRequest {
    pub queue: Option<QueueId>,
    pub description: String,
    pub categories: Vec<CategoryId>,
    pub address: Option<String>,
    pub custom_fields: Vec<(String, String)>,
}

/// The back office's change to a request (`None` leaves a field). All or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceRequestUpdate {
    pub state: Option<RequestState>,
    pub stage: Option<StageId>,
    pub is_resolved: Option<bool>,
    pub comments: Option<String>,
}

/// Which of a contact's requests to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFilter {
    pub queue: Option<QueueId>,
    /// Any of these (all when empty).
    pub states: Vec<RequestState>,
    /// The request's number contains this (any case).
    pub number: Option<String>,
}

fn name(parameter: &'static str, value: String) -> Result<String, EngineError> {
    short_text(parameter, &value, NAME_MAX)
}

fn optional(parameter: &'static str, value: Option<String>) -> Result<Option<String>, EngineError> {
    value.map(|value| name(parameter, value)).transpose()
}

fn text(parameter: &'static str, value: String) -> Result<String, EngineError> {
    let value = value.trim().to_string();
    if value.is_empty()
        || value.chars().count() > TEXT_MAX
        || value.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(invalid(
            parameter,
            format!("must be 1 to {TEXT_MAX} characters, no control characters but new lines"),
        ));
    }
    Ok(value)
}

impl Engine {
    /// Sets up a queue: its name unique in the business (any case), categories, stages.
    pub async fn create_queue(&self, tenant: Tenant, new: NewQueue) -> Result<Queue, EngineError> {
        self.check_open()?;
        let queue_name = name("name", new.name)?;
        if new.categories.len() > LIST_MAX || new.stages.len() > LIST_MAX {
            return Err(invalid(
                "stages",
                format!("at most {LIST_MAX} categories and {LIST_MAX} stages"),
            ));
        }
        let categories = new
            .categories
            .into_iter()
            .map(|(category, description)| {
                Ok(Category {
                    id: CategoryId::random(),
                    name: name("categories.name", category)?,
                    description: description.map(|d| text("categories.description", d)).transpose()?,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        let mut stages = new
            .stages
            .into_iter()
            .map(|(stage, colour)| {
                Ok(Stage {
                    id: StageId::random(),
                    name: name("stages.name", stage)?,
                    colour: optional("stages.colour", colour)?,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        if stages.is_empty() {
            stages = ["NEW", "IN PROGRESS", "DONE"]
                .into_iter()
                .map(|stage| Stage {
                    id: StageId::random(),
                    name: stage.into(),
                    colour: None,
                })
                .collect();
        }
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'4', &tenant, b"queues"), rand::random())
            .map_err(|_| EngineError::Busy("queues"))?;
        let existing = self.inner.store.queues(&tenant)?;
        if existing.len() >= LIST_MAX {
            return Err(EngineError::Conflict(format!(
                "a business has at most {LIST_MAX} queues"
            )));
        }
        if existing
            .iter()
            .any(|queue| queue.name.eq_ignore_ascii_case(&queue_name))
        {
            return Err(EngineError::AlreadyExists("queue name"));
        }
        let queue = Queue {
            id: QueueId::random(),
            tenant,
            name: queue_name,
            classification: optional("classification", new.classification)?,
            urgency: new.urgency.unwrap_or(Level::Medium),
            impact: new.impact.unwrap_or(Level::Medium),
            categories,
            stages,
            created_on: self.now(),
        };
        let mut writes = WriteSet::default();
        writes.queue(&queue);
        self.commit_durable(writes).await?;
        Ok(queue)
    }

    /// The business's queues, oldest first; `search` keeps those whose name holds it.
    pub fn queues(&self, tenant: &Tenant, search: Option<&str>) -> Result<Vec<Queue>, EngineError> {
        let mut queues = self.inner.store.queues(tenant)?;
        if let Some(search) = search.map(str::to_lowercase) {
            queues.retain(|queue| queue.name.to_lowercase().contains(&search));
        }
        queues.sort_by_key(|queue| queue.created_on);
        Ok(queues)
    }

    pub fn queue(&self, tenant: &Tenant, id: QueueId) -> Result<Queue, EngineError> {
        self.inner
            .store
            .queue(tenant, id)?
            .ok_or(EngineError::NotFound("queue"))
    }

    /// Raises a request for `contact` in a queue, at the queue's first stage.
    pub async fn create_service_request(
        &self,
        tenant: Tenant,
        contact: ContactId,
        new: NewServiceRequest,
    ) -> Result<ServiceRequest, EngineError> {
        self.check_open()?;
        self.contact_route(&tenant, &super::ContactRef::Id(contact))?;
        let queue_id = new.queue.ok_or_else(|| invalid("queue_id", "is required"))?;
        let queue = self
            .inner
            .store
            .queue(&tenant, queue_id)?
            .ok_or_else(|| invalid("queue_id", "names no queue of this business"))?;
        let description = text("description", new.description)?;
        if new.categories.len() > LIST_MAX || new.custom_fields.len() > LIST_MAX {
            return Err(invalid(
                "categories",
                format!("at most {LIST_MAX} categories and custom fields"),
            ));
        }
        if let Some(unknown) = new
            .categories
            .iter()
            .find(|id| !queue.categories.iter().any(|category| category.id == **id))
        {
            return Err(invalid(
                "categories",
                format!("category {unknown} is not one of the queue's"),
            ));
        }
        let custom_fields = new
            .custom_fields
            .into_iter()
            .map(|(key, value)| Ok((name("custom_fields.key", key)?, name("custom_fields.value", value)?)))
            .collect::<Result<Vec<_>, EngineError>>()?;
        let stage = queue
            .stages
            .first()
            .ok_or(EngineError::Internal("queue without stages"))?
            .id;
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'3', &tenant, contact.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("contact's service requests"))?;
        if self.inner.store.contact_service_requests(&tenant, contact)?.len() >= REQUESTS_PER_CONTACT_MAX {
            return Err(EngineError::Conflict(format!(
                "a contact has at most {REQUESTS_PER_CONTACT_MAX} service requests"
            )));
        }
        let id = ServiceRequestId::random();
        let now = self.now();
        let request = ServiceRequest {
            id,
            tenant,
            contact,
            number: ServiceRequest::number_for(id),
            queue: queue.id,
            description,
            categories: new.categories,
            address: optional("address.id", new.address)?,
            custom_fields,
            state: RequestState::New,
            stage,
            is_resolved: false,
            comments: None,
            notes: Vec::new(),
            created_on: now,
            updated_on: now,
        };
        let mut writes = WriteSet::default();
        writes.service_request(&request);
        writes.contact_service_request(&request);
        self.commit_durable(writes).await?;
        Ok(request)
    }

    /// A contact's requests, newest first, as `filter` chooses.
    pub fn service_requests(
        &self,
        tenant: &Tenant,
        contact: ContactId,
        filter: &RequestFilter,
    ) -> Result<Vec<ServiceRequest>, EngineError> {
        let number = filter.number.as_ref().map(|number| number.to_ascii_uppercase());
        let mut requests = Vec::new();
        for id in self
            .inner
            .store
            .contact_service_requests(tenant, contact)?
            .into_iter()
            .rev()
        {
            let Some(request) = self.inner.store.service_request(tenant, id)? else {
                continue;
            };
            let chosen = filter.queue.is_none_or(|queue| queue == request.queue)
                && (filter.states.is_empty() || filter.states.contains(&request.state))
                && number
                    .as_ref()
                    .is_none_or(|number| request.number.contains(number.as_str()));
            if chosen {
                requests.push(request);
            }
        }
        Ok(requests)
    }

    /// A request; `owner`, when given, must have raised it (else it is not found).
    pub fn service_request(
        &self,
        tenant: &Tenant,
        owner: Option<ContactId>,
        id: ServiceRequestId,
    ) -> Result<ServiceRequest, EngineError> {
        self.inner
            .store
            .service_request(tenant, id)?
            .filter(|request| owner.is_none_or(|owner| owner == request.contact))
            .ok_or(EngineError::NotFound("service request"))
    }

    /// The back office moves a request: a state the table allows, a stage of its queue,
    /// resolved or not, comments. All or nothing.
    pub async fn update_service_request(
        &self,
        tenant: Tenant,
        id: ServiceRequestId,
        update: ServiceRequestUpdate,
    ) -> Result<ServiceRequest, EngineError> {
        self.check_open()?;
        let comments = update.comments.map(|c| text("comments", c)).transpose()?;
        self.change_request(tenant, None, id, |request, queue| {
            if let Some(state) = update.state {
                if !allowed(request.state, state) {
                    return Err(EngineError::Conflict(format!(
                        "a {} request cannot become {}",
                        request.state.code(),
                        state.code()
                    )));
                }
                request.state = state;
            }
            if let Some(stage) = update.stage {
                if !queue.stages.iter().any(|known| known.id == stage) {
                    return Err(invalid("stage_id", "is not a stage of the request's queue"));
                }
                request.stage = stage;
            }
            if let Some(resolved) = update.is_resolved {
                request.is_resolved = resolved;
            }
            if let Some(comments) = &comments {
                request.comments = Some(comments.clone());
            }
            Ok(())
        })
        .await
    }

    /// Adds a note to a request: the contact's own (`owner`) or the back office's. A note
    /// id given again is answered with the note first added.
    pub async fn add_note(
        &self,
        tenant: Tenant,
        owner: Option<ContactId>,
        id: ServiceRequestId,
        note_id: Option<NoteId>,
        note: String,
    ) -> Result<Note, EngineError> {
        self.check_open()?;
        let note_text = text("note", note)?;
        let note_id = note_id.unwrap_or_else(NoteId::random);
        let now = self.now();
        let mut added = None;
        self.change_request(tenant, owner, id, |request, _| {
            if let Some(earlier) = request.notes.iter().find(|note| note.id == note_id) {
                if earlier.text != note_text || earlier.by_contact != owner.is_some() {
                    return Err(EngineError::Conflict(format!(
                        "note {note_id} was added with other text"
                    )));
                }
                added = Some(earlier.clone());
                return Ok(());
            }
            if request.notes.len() >= ServiceRequest::NOTES_MAX {
                return Err(EngineError::Conflict(format!(
                    "a request holds at most {} notes",
                    ServiceRequest::NOTES_MAX
                )));
            }
            let note = Note {
                id: note_id,
                text: note_text.clone(),
                by_contact: owner.is_some(),
                created_on: now,
            };
            request.notes.push(note.clone());
            added = Some(note);
            Ok(())
        })
        .await?;
        added.ok_or(EngineError::Internal("note"))
    }

    /// Reads a request under its claim, lets `change` alter it (or refuse), and writes it.
    async fn change_request(
        &self,
        tenant: Tenant,
        owner: Option<ContactId>,
        id: ServiceRequestId,
        change: impl FnOnce(&mut ServiceRequest, &Queue) -> Result<(), EngineError>,
    ) -> Result<ServiceRequest, EngineError> {
        let _claim = self
            .inner
            .claims
            .claim(claim_key(b'2', &tenant, id.as_bytes()), rand::random())
            .map_err(|_| EngineError::Busy("service request"))?;
        let before = self.service_request(&tenant, owner, id)?;
        let queue = self.queue(&tenant, before.queue)?;
        let mut request = before.clone();
        change(&mut request, &queue)?;
        if request == before {
            return Ok(request);
        }
        request.updated_on = self.now();
        let mut writes = WriteSet::default();
        writes.service_request(&request);
        self.commit_durable(writes).await?;
        Ok(request)
    }
}
