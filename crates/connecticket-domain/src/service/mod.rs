//! Use cases. `Connecticket` serves every surface that works for a provider
//! (the published API now; the console and others next); `AdminService`
//! serves the operator's subcommands. Both validate input, then make
//! exactly one store call per write.

mod admin;
mod api;
mod audit_admin;
mod audited;
mod console_operator;
mod escalation_admin;
mod notify_admin;
mod refusals;
mod resident_input;
pub mod throttle;
mod tokens;

pub use crate::console::Invitation;
pub use admin::{AdminService, CreatedApplication};
pub use api::{
    ApiCredentials, ApiSettings, Call, Connecticket, ConsoleCall, IssuedToken, ListRequest,
    NoticeRequest, NotifyRules, Readiness, ResidentPage, RosterEntry, SecondFactorEnrolment,
    SignInAttempt, SignedIn, SmsReplyOutcome, StaffAcknowledgment, AUDIT_PAGE_LIMIT,
    DEVICE_COOKIE_SECS, MAX_NOTE_CHARS, QUEUE_PAGE_LIMIT,
};
pub use audit_admin::AuditFilter;
pub use audited::MAX_LISTED_RECORDS;
pub use escalation_admin::{
    escalation_from_input, staff_contact_from_input, EscalationInput, StaffContactInput,
    TicketStory,
};
pub use notify_admin::{contact_from_input, ContactInput};
pub use resident_input::{csv_fields, is_csv_field, resident_from_fields, RESIDENT_FIELDS};
