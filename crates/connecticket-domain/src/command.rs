//! What a surface asks a use case to do, in domain types. The HTTP layer
//! parses the published API's parameters (with their legacy spellings) into
//! these; the console builds them from its forms. Use cases validate them
//! the same way whoever asks.

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::NaiveDate;

use crate::model::{CategoryId, ResidentId, TicketId};
use crate::workflow::{CategoryRating, TicketStatus, UrgencyStatus};

/// Raise a ticket about a resident.
#[derive(Debug, Clone, PartialEq)]
pub struct RaiseTicket {
    pub title: String,
    pub resident_id: ResidentId,
    pub urgency: UrgencyStatus,
    pub status: TicketStatus,
    pub ticket_type: Option<String>,
    pub state: bool,
    pub sms: Option<bool>,
    pub email: Option<bool>,
    pub sent_to_family: Option<bool>,
    pub sent_to_healthcare_pro: Option<bool>,
    pub sent_to_primary: Option<bool>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub ratings: BTreeMap<CategoryId, CategoryRating>,
    /// At most one comment per category.
    pub category_comments: BTreeMap<CategoryId, String>,
    pub general_comment: Option<String>,
    pub attachments: Vec<Upload>,
}

impl RaiseTicket {
    /// Whom the request asked to tell (docs/NOTIFICATIONS.md).
    pub fn notify_request(&self) -> crate::notify::NotifyRequest {
        crate::notify::NotifyRequest {
            family: self.sent_to_family,
            primary_physician: self.sent_to_primary,
            healthcare_professional: self.sent_to_healthcare_pro,
            email: self.email,
            sms: self.sms,
        }
    }

    /// A `New` ticket of normal urgency with nothing else set.
    pub fn new(title: impl Into<String>, resident_id: ResidentId) -> Self {
        RaiseTicket {
            title: title.into(),
            resident_id,
            urgency: UrgencyStatus::DEFAULT,
            status: TicketStatus::New,
            ticket_type: None,
            state: false,
            sms: None,
            email: None,
            sent_to_family: None,
            sent_to_healthcare_pro: None,
            sent_to_primary: None,
            start_date: None,
            end_date: None,
            ratings: BTreeMap::new(),
            category_comments: BTreeMap::new(),
            general_comment: None,
            attachments: Vec::new(),
        }
    }
}

/// A file as a client sent it; blank names and types get defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub file_name: String,
    pub content_type: String,
    pub data: Bytes,
}

/// Comment on a ticket, generally or on one of its categories.
#[derive(Debug, Clone, PartialEq)]
pub struct AddComment {
    pub ticket_id: TicketId,
    pub category_id: Option<CategoryId>,
    pub body: String,
}

/// Move a ticket through its workflow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeStatus {
    pub ticket_id: TicketId,
    pub status: TicketStatus,
    /// Whom to tell; nothing named: the policy (docs/NOTIFICATIONS.md).
    pub notify: crate::notify::NotifyRequest,
    /// The ticket's version the change is based on, when the client said
    /// (FHIR's `If-Match`).
    pub expected_version: Option<i64>,
}

/// A client's `Idempotency-Key` and the fingerprint of what it sent, taken
/// by the surface that received the request (only it knows what the
/// request said).
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRequest {
    pub key: String,
    pub fingerprint: Vec<u8>,
}
