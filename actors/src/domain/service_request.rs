//! Service requests: a contact asks the business for something (a repair, a question, a
//! complaint) in one of the business's queues; the back office moves it through the queue's
//! stages and its states; both sides add notes (a contact sees only its own).
//!
//! States and the moves between them are a table (`TRANSITIONS`): NEW → IN_PROGRESS →
//! CLOSED, NEW → CLOSED, and a closed request may be reopened (→ IN_PROGRESS).

use super::ids::{CategoryId, ContactId, NoteId, QueueId, ServiceRequestId, StageId, Tenant};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestState {
    New,
    InProgress,
    Closed,
}

impl RequestState {
    pub const ALL: [RequestState; 3] = [RequestState::New, RequestState::InProgress, RequestState::Closed];

    pub fn code(self) -> &'static str {
        match self {
            RequestState::New => "NEW",
            RequestState::InProgress => "IN_PROGRESS",
            RequestState::Closed => "CLOSED",
        }
    }

    pub fn parse(code: &str) -> Option<RequestState> {
        RequestState::ALL
            .into_iter()
            .find(|state| state.code().eq_ignore_ascii_case(code.trim()))
    }
}

/// Every allowed move (from, to); anything else is refused.
pub const TRANSITIONS: [(RequestState, RequestState); 4] = [
    (RequestState::New, RequestState::InProgress),
    (RequestState::New, RequestState::Closed),
    (RequestState::InProgress, RequestState::Closed),
    (RequestState::Closed, RequestState::InProgress),
];

pub fn allowed(from: RequestState, to: RequestState) -> bool {
    from == to || TRANSITIONS.contains(&(from, to))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    High,
    Medium,
    Low,
}

impl Level {
    pub fn code(self) -> &'static str {
        match self {
            Level::High => "HIGH",
            Level::Medium => "MEDIUM",
            Level::Low => "LOW",
        }
    }

    pub fn parse(code: &str) -> Option<Level> {
        [Level::High, Level::Medium, Level::Low]
            .into_iter()
            .find(|level| level.code().eq_ignore_ascii_case(code.trim()))
    }

    /// CRM.COM's priority from urgency and impact: both high is URGENT, one high is HIGH,
    /// neither high but one medium is MEDIUM, else LOW.
    pub fn priority(urgency: Level, impact: Level) -> &'static str {
        match (urgency, impact) {
            (Level::High, Level::High) => "URGENT",
            (Level::High, _) | (_, Level::High) => "HIGH",
            (Level::Medium, _) | (_, Level::Medium) => "MEDIUM",
            _ => "LOW",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub id: StageId,
    pub name: String,
    /// A colour to show it in (e.g. "#2E7D32").
    pub colour: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    pub id: QueueId,
    pub tenant: Tenant,
    pub name: String,
    pub classification: Option<String>,
    pub urgency: Level,
    pub impact: Level,
    pub categories: Vec<Category>,
    /// In order: a new request starts in the first.
    pub stages: Vec<Stage>,
    pub created_on: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: NoteId,
    pub text: String,
    /// The contact's own note (`true`), or the back office's (which the contact never sees).
    pub by_contact: bool,
    pub created_on: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRequest {
    pub id: ServiceRequestId,
    pub tenant: Tenant,
    pub contact: ContactId,
    /// Shown to people: "S" and 8 digits.
    pub number: String,
    pub queue: QueueId,
    pub description: String,
    pub categories: Vec<CategoryId>,
    pub address: Option<String>,
    pub custom_fields: Vec<(String, String)>,
    pub state: RequestState,
    pub stage: StageId,
    pub is_resolved: bool,
    /// The back office's comments, shown to the contact.
    pub comments: Option<String>,
    pub notes: Vec<Note>,
    pub created_on: i64,
    pub updated_on: i64,
}

impl ServiceRequest {
    /// Notes one request holds.
    pub const NOTES_MAX: usize = 200;

    pub fn number_for(id: ServiceRequestId) -> String {
        format!("S{:08}", id.0.as_u128() % 100_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_table_allows_its_moves_and_nothing_else() {
        use RequestState::*;
        for from in RequestState::ALL {
            for to in RequestState::ALL {
                let expected = from == to
                    || matches!(
                        (from, to),
                        (New, InProgress) | (New, Closed) | (InProgress, Closed) | (Closed, InProgress)
                    );
                assert_eq!(allowed(from, to), expected, "{from:?} → {to:?}");
            }
        }
        assert!(!allowed(Closed, New) && !allowed(InProgress, New));
    }

    #[test]
    fn priority_follows_urgency_and_impact() {
        assert_eq!(Level::priority(Level::High, Level::High), "URGENT");
        assert_eq!(Level::priority(Level::Low, Level::High), "HIGH");
        assert_eq!(Level::priority(Level::Medium, Level::Low), "MEDIUM");
        assert_eq!(Level::priority(Level::Low, Level::Low), "LOW");
        assert_eq!(RequestState::parse("in_progress"), Some(RequestState::InProgress));
    }
}
