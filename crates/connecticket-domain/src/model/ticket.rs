use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};

use super::ProviderId;
use crate::workflow::{CategoryRating, TicketStatus};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Ticket {
    pub id: i64,
    pub provider_id: ProviderId,
    pub title: String,
    pub resident_id: i64,
    pub employee_id: i64,
    pub urgency_status_id: i64,
    pub ticket_status: TicketStatus,
    pub ticket_type: Option<String>,
    pub state: bool,
    pub sms: Option<bool>,
    pub email: Option<bool>,
    pub sent_to_family: Option<bool>,
    pub sent_to_healthcare_pro: Option<bool>,
    pub sent_to_primary: Option<bool>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A validated `create_ticket` request.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    pub id: Option<i64>,
    pub title: String,
    pub resident_id: i64,
    pub employee_id: i64,
    pub application_id: Option<i64>,
    pub urgency_status_id: i64,
    pub ticket_status: TicketStatus,
    pub ticket_type: Option<String>,
    pub state: bool,
    pub sms: Option<bool>,
    pub email: Option<bool>,
    pub sent_to_family: Option<bool>,
    pub sent_to_healthcare_pro: Option<bool>,
    pub sent_to_primary: Option<bool>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// `(category id, rating)`, at most one per category.
    pub ratings: Vec<(i64, CategoryRating)>,
    pub comments: Vec<NewComment>,
    pub attachments: Vec<NewAttachment>,
    pub created_at: DateTime<Utc>,
}

impl NewTicket {
    /// A `New` ticket of normal urgency with nothing else set: the start
    /// for operator-made tickets (demo seed) and for tests.
    pub fn draft(
        title: impl Into<String>,
        resident_id: i64,
        employee_id: i64,
        created_at: DateTime<Utc>,
    ) -> Self {
        NewTicket {
            id: None,
            title: title.into(),
            resident_id,
            employee_id,
            application_id: None,
            urgency_status_id: crate::workflow::UrgencyStatus::DEFAULT.id,
            ticket_status: TicketStatus::New,
            ticket_type: None,
            state: false,
            sms: None,
            email: None,
            sent_to_family: None,
            sent_to_healthcare_pro: None,
            sent_to_primary: None,
            start_date: None,
            end_date: None,
            ratings: Vec::new(),
            comments: Vec::new(),
            attachments: Vec::new(),
            created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewComment {
    pub category_id: Option<i64>,
    pub employee_id: i64,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAttachment {
    pub file_name: String,
    pub content_type: String,
    pub data: Bytes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: i64,
    pub category_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentMeta {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub file_size: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub meta: AttachmentMeta,
    /// The ticket it belongs to, and that ticket's resident (for the audit).
    pub ticket_id: i64,
    pub resident_id: i64,
    pub data: Bytes,
}

/// A category that a ticket rated or commented on.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketCategory {
    pub category_id: i64,
    pub name: String,
    pub rating: Option<CategoryRating>,
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TicketDetail {
    pub ticket: Ticket,
    pub categories: Vec<TicketCategory>,
    pub general_comments: Vec<Comment>,
    pub attachments: Vec<AttachmentMeta>,
}

/// One entry of a ticket's workflow history.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub ticket_id: i64,
    pub employee_id: i64,
    pub application_id: Option<i64>,
    pub from_status: Option<TicketStatus>,
    pub to_status: TicketStatus,
    pub changed_at: DateTime<Utc>,
}

/// Filters and paging for `tickets`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketQuery {
    pub ticket_status: Option<TicketStatus>,
    pub resident_id: Option<i64>,
    pub updated_since: Option<DateTime<Utc>>,
    pub page: Option<super::Page>,
}
