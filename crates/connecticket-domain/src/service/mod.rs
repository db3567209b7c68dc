//! Use cases, by capability. [`Connecticket`] is the one service every
//! surface holds (the HTTP API, the console, the SMS gateway's callbacks
//! and the operator's command line); each capability adds its use cases to
//! it in a module of its own:
//!
//! - `tickets`: tickets, comments, attachments and status changes;
//! - `residents`: residents as staff find and read them;
//! - `notifications`: who was told, acknowledgments, the gateway;
//! - `console_sessions`: signing in to the console, sessions, accounts;
//! - `administration`: what administrators and operators manage;
//! - `access`: applications' tokens, throttles and request budgets;
//! - `audit`: the skeleton every call runs in, and how it is recorded.
//!
//! Every use case validates its input, then makes one store call per
//! write, and leaves one audit entry.

mod access;
mod administration;
mod audit;
mod connecticket;
mod console_sessions;
mod events;
mod fhir;
mod notifications;
mod published_credentials;
mod readiness;
mod residents;
mod tickets;

pub use crate::console::Invitation;
pub use crate::events::webhooks::ReplayRange;
pub use access::{throttle, ThrottleSettings, IDEMPOTENCY_WINDOW_HOURS};
pub use administration::{
    contact_from_input, escalation_from_input, resident_from_fields, staff_contact_from_input,
    Actors, AdminCall, AdminScope, Administrator, ApplicationRequest, AuditFilter,
    AuditVerification, ContactInput, CreatedApplication, EscalationInput, FhirStanding,
    GrantedDisplay, NewEmployeeRequest, Operator, OperatorCall, PolicyChange, RosterEntry, Scope,
    StaffContactInput, TicketStory, AUDIT_PAGE_LIMIT, QUEUE_PAGE_LIMIT, RESIDENT_FIELDS,
};
pub use audit::{Call, MAX_LISTED_RECORDS};
pub use connecticket::{ApiCredentials, ApiSettings, Connecticket, IssuedToken, ListRequest};
pub use console_sessions::{
    ConsoleCall, DisplayBoard, Lapsed, PairingOffer, SecondFactorEnrolment, SignInAttempt,
    SignedIn, DEVICE_COOKIE_SECS, DRAFT_KEPT_FOR,
};
pub use events::{WebhookRequest, WebhookWithSecret};
pub use fhir::{ClientAuthentication, FhirAccess, TaskPage, TaskRecord};
pub use notifications::{NoticeRequest, SmsReplyOutcome, StaffAcknowledgment, MAX_NOTE_CHARS};
pub use readiness::Readiness;
pub use residents::ResidentPage;
pub use tickets::{Considered, Telling, TellingPerson, TicketCircle};
