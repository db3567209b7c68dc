use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};

use super::{
    ApplicationId, AttachmentId, CategoryId, CommentId, EmployeeId, Page, ProviderId, ResidentId,
    TicketId,
};
use crate::workflow::{CategoryRating, TicketStatus, UrgencyStatus};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Ticket {
    pub id: TicketId,
    pub provider_id: ProviderId,
    pub title: String,
    pub resident_id: ResidentId,
    pub employee_id: EmployeeId,
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

/// One category rated by a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating {
    pub category_id: CategoryId,
    pub rating: CategoryRating,
}

/// A ticket as the store writes it: validated, with its ratings, comments
/// and attachments, all stored in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    /// Fixed only by the demo seed and data moves.
    pub id: Option<TicketId>,
    pub title: String,
    pub resident_id: ResidentId,
    pub employee_id: EmployeeId,
    pub application_id: Option<ApplicationId>,
    pub urgency: UrgencyStatus,
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
    /// At most one per category, ordered by category id.
    pub ratings: Vec<Rating>,
    pub comments: Vec<NewComment>,
    pub attachments: Vec<NewAttachment>,
    pub created_at: DateTime<Utc>,
}

impl NewTicket {
    /// Whom the ticket's request asked to tell (docs/NOTIFICATIONS.md).
    pub fn notify_request(&self) -> crate::notify::NotifyRequest {
        crate::notify::NotifyRequest {
            family: self.sent_to_family,
            primary_physician: self.sent_to_primary,
            healthcare_professional: self.sent_to_healthcare_pro,
            email: self.email,
            sms: self.sms,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewComment {
    pub category_id: Option<CategoryId>,
    pub employee_id: EmployeeId,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAttachment {
    pub file_name: String,
    pub content_type: String,
    pub data: Bytes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: CommentId,
    pub category_id: Option<CategoryId>,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentMeta {
    pub id: AttachmentId,
    pub file_name: String,
    pub content_type: String,
    pub file_size: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub meta: AttachmentMeta,
    /// The ticket it belongs to, and that ticket's resident (for the audit).
    pub ticket_id: TicketId,
    pub resident_id: ResidentId,
    pub data: Bytes,
}

/// A category that a ticket rated or commented on.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketCategory {
    pub category_id: CategoryId,
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
    /// Older comments left out: a detail embeds at most
    /// `MAX_DETAIL_COMMENTS`, the newest.
    pub comments_omitted: u64,
    /// Who was told of the ticket, through which channel, and how it went
    /// (never an address).
    pub notifications: Vec<crate::notify::NoticeSummary>,
}

/// The most comments a ticket's detail embeds (the newest ones), so that no
/// ticket's answer grows without bound.
pub const MAX_DETAIL_COMMENTS: usize = 500;

/// One entry of a ticket's workflow history.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub ticket_id: TicketId,
    pub employee_id: EmployeeId,
    pub application_id: Option<ApplicationId>,
    pub from_status: Option<TicketStatus>,
    pub to_status: TicketStatus,
    pub changed_at: DateTime<Utc>,
}

/// Filters and paging for the ticket list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketQuery {
    pub ticket_status: Option<TicketStatus>,
    pub resident_id: Option<ResidentId>,
    pub updated_since: Option<DateTime<Utc>>,
    pub page: Option<Page>,
}
