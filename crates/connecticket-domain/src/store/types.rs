//! Every type the storage roles' signatures name, in one place: the roles
//! are declared with these in scope, and `connecticket-store` implements
//! them with the same in scope.

pub use chrono::{DateTime, Utc};

pub use super::{
    AckBy, AckTarget, Attempt, NoticeQuery, NotificationCounts, NotificationFilter,
    NotificationHistory, RowStream, SchemaStatus, SmsCorrespondent, StatusUpdate, StoreLoad,
    TokenOwner, WriteContext, Written,
};
pub use crate::audit::{AuditEntry, AuditRecord, ChainAnchor};
pub use crate::auth::{ApplicationCredentials, NewAccessToken, TokenRecord};
pub use crate::console::display::{BoardDisplay, DisplayId, NewDisplay};
pub use crate::console::{
    AccountHolder, Board, BoardFilter, ConsoleAccount, NewSession, SessionId, SessionRecord,
};
pub use crate::events::webhooks::{
    NewWebhook, ReplayRange, Webhook, WebhookAttempt, WebhookBatch, WebhookRecorded,
};
pub use crate::events::EventPage;
pub use crate::fhir::{
    AssertionClaim, ContactSearch, DocumentRecord, DocumentSearch, FhirAccess, FhirTokenRecord,
    NotificationSearch, PatientSearch, SearchPage, TaskSearch, Versioned, Window,
};
pub use crate::model::WebhookId;
pub use crate::model::{
    AccessTokenId, Application, ApplicationId, Attachment, AttachmentId, Category, CategoryId,
    CommentId, Contact, ContactId, Employee, EmployeeId, NewApplication, NewAttachment,
    NewCategory, NewComment, NewContact, NewEmployee, NewProvider, NewResident, NewTicket,
    NotificationId, Page, Provider, ProviderContact, ProviderId, Resident, ResidentId,
    StatusChange, Ticket, TicketDetail, TicketId, TicketQuery,
};
pub use crate::notify::{
    AckLinkRecord, AckRefusal, Channel, Claimed, EscalationPolicy, EscalationRule, EscalationStep,
    Notification, NotifyPolicy, ReportedStatus, TicketEscalation,
};
pub use crate::transfer::Record;
