//! The storage interface, grouped by role. One implementation per database
//! engine lives in `connecticket-store` (with a small engine crate each);
//! the binary picks one from the database URL at start.
//!
//! Rules every implementation keeps, whatever the role:
//! - each method is one transaction: a write is all or nothing, and it is
//!   acknowledged (the future resolves) only after it is durable;
//! - every method on tenant data is scoped by the `ProviderId` it is given;
//!   a record of another provider is `NotFound`, like a missing one;
//! - lists are streamed in chunks, ordered by id, never built whole.
//!
//! Only the domain's use cases hold a store: no surface (HTTP, console,
//! CLI) reaches it directly, so none can skip tenancy or the audit trail.

mod declare;
mod roles;
pub mod types;

pub use roles::{
    AuditStore, AuthStore, ConsoleStore, EscalationStore, EventStore, FhirStore, HealthStore,
    NotificationStore, OperatorStore, TicketStore, TransferStore,
};

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::audit::AuditEntry;
use crate::error::StoreResult;
use crate::model::{ApplicationId, EmployeeId, TicketId};
use crate::workflow::TicketStatus;

/// A list answer: chunks of rows, read lazily while the client receives them.
pub type RowStream<T> = BoxStream<'static, StoreResult<Vec<T>>>;

/// What a store operation answers: one transaction's outcome, once durable.
pub type StoreFuture<'a, T> = futures::future::BoxFuture<'a, StoreResult<T>>;

/// How many rows a backend reads per chunk of a [`RowStream`].
pub const STREAM_CHUNK_ROWS: usize = 500;

/// Everything a backend implements.
pub trait Store:
    AuthStore
    + TicketStore
    + AuditStore
    + OperatorStore
    + TransferStore
    + NotificationStore
    + EscalationStore
    + HealthStore
    + ConsoleStore
    + EventStore
    + FhirStore
{
}

impl<T> Store for T where
    T: AuthStore
        + TicketStore
        + AuditStore
        + OperatorStore
        + TransferStore
        + NotificationStore
        + EscalationStore
        + HealthStore
        + ConsoleStore
        + EventStore
        + FhirStore
{
}

/// A write's `Idempotency-Key`, checked and recorded in the write's own
/// transaction so that two racing retries cannot both write.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    pub application_id: ApplicationId,
    pub key: String,
    /// Which call and which parameters, as the surface that took the
    /// request fingerprinted them.
    pub fingerprint: Vec<u8>,
    pub now: DateTime<Utc>,
    /// Records older than this are forgotten and the key may be reused.
    pub not_before: DateTime<Utc>,
}

/// The result of an idempotent write: done now, or done by an earlier
/// request with the same key (nothing was written this time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written<T> {
    Fresh(T),
    Replayed(T),
}

impl<T> Written<T> {
    pub fn into_inner(self) -> T {
        match self {
            Written::Fresh(value) | Written::Replayed(value) => value,
        }
    }

    pub fn is_replay(&self) -> bool {
        matches!(self, Written::Replayed(_))
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Written<U> {
        match self {
            Written::Fresh(value) => Written::Fresh(f(value)),
            Written::Replayed(value) => Written::Replayed(f(value)),
        }
    }
}

/// What every audited write carries into its transaction besides its data.
#[derive(Debug, Clone)]
pub struct WriteContext {
    pub idempotency: Option<IdempotencyClaim>,
    /// Recorded in the write's transaction, with the records it created and
    /// an outcome of `Success` (or `Replayed`); the store completes both.
    pub audit: AuditEntry,
    /// A write still queued when this passes is withdrawn (never started,
    /// nothing written: `Withdrawn`); once started it runs to its true
    /// outcome, however long that takes.
    pub deadline: Option<std::time::Instant>,
}

/// Whose tokens to revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner {
    Application(ApplicationId),
    Employee(EmployeeId),
}

#[derive(Debug, Clone)]
pub struct StatusUpdate {
    pub ticket_id: TicketId,
    pub status: TicketStatus,
    pub employee_id: EmployeeId,
    pub application_id: Option<ApplicationId>,
    pub at: DateTime<Utc>,
    /// Whom the request asked to tell (docs/NOTIFICATIONS.md).
    pub notify: crate::notify::NotifyRequest,
    /// The ticket's version the change is based on (FHIR's `If-Match`):
    /// `Stale` when it moved on since.
    pub expected_version: Option<i64>,
}

/// One delivery attempt's outcome, as the dispatcher records it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub notification: crate::model::NotificationId,
    pub owner: String,
    pub at: DateTime<Utc>,
    pub result: AttemptResult,
    /// The acknowledgment link's token hash and expiry, for a notification
    /// that carries one (kept from the first attempt on).
    pub ack_link: Option<(Vec<u8>, DateTime<Utc>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttemptResult {
    Delivered {
        external_id: String,
    },
    /// Tried and failed for now; due again at `next_at`.
    Retry {
        reason: String,
        next_at: DateTime<Utc>,
    },
    Failed {
        reason: String,
    },
}

/// Which notifications an operator lists.
#[derive(Debug, Clone, Default)]
pub struct NotificationFilter {
    pub provider: Option<crate::model::ProviderId>,
    pub ticket: Option<TicketId>,
    pub state: Option<crate::notify::DeliveryState>,
    /// The newest this many.
    pub limit: u32,
}

/// The provider that last texted a number, as a reply to it names it.
#[derive(Debug, Clone, PartialEq)]
pub struct SmsCorrespondent {
    pub provider_id: crate::model::ProviderId,
    pub provider_name: String,
    pub callback_phone: Option<String>,
    /// Its notifications to the number still waiting for an answer.
    pub awaiting: u64,
}

/// A notification found by its acknowledgment token or its recipient's
/// number, with what its page and its reply say.
#[derive(Debug, Clone)]
pub struct AckTarget {
    pub notification: crate::notify::Notification,
    pub provider_name: String,
    pub provider_zone: chrono_tz::Tz,
    pub resident_first_name: String,
    pub resident_last_name: Option<String>,
    /// The provider's number to call, when it set one.
    pub callback_phone: Option<String>,
    /// Its number out of hours, when it set another.
    pub after_hours_phone: Option<String>,
}

/// Who acknowledges a notification, and how.
#[derive(Debug, Clone)]
pub enum AckBy {
    /// The holder of the link whose token has this hash.
    Link { token_hash: Vec<u8> },
    /// The sender of an SMS reply: the oldest open notification to it.
    /// `message_sid`, the gateway's id of the reply: a reply is acted on
    /// once, whether replayed or retried by the gateway.
    SmsReply {
        phone: String,
        message_sid: Option<String>,
    },
    /// An employee of the notification's provider.
    Staff {
        provider: crate::model::ProviderId,
        notification: crate::model::NotificationId,
        employee: EmployeeId,
        note: String,
    },
}

/// Which notifications a staff list reads.
#[derive(Debug, Clone)]
pub struct NoticeQuery {
    pub provider: crate::model::ProviderId,
    pub ticket: Option<TicketId>,
    pub filter: Option<crate::notify::NoticeFilter>,
    pub page: crate::model::Page,
}

/// A provider's notifications in a period, with their tickets'
/// escalations: the material of `report notifications`.
#[derive(Debug, Clone, Default)]
pub struct NotificationHistory {
    /// By ticket, then id.
    pub notifications: Vec<crate::notify::Notification>,
    pub escalations: Vec<crate::notify::Escalation>,
    /// By ticket, then level.
    pub steps: Vec<crate::notify::EscalationStep>,
}

/// The database's schema version against the newest this binary knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaStatus {
    pub current: i64,
    pub expected: i64,
}

/// What the store holds and waits for at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreLoad {
    /// Open database connections (PostgreSQL's pool; SQLite's readers and
    /// its writer).
    pub connections: u64,
    /// Of those, idle ones (PostgreSQL only; 0 where unknown).
    pub idle_connections: u64,
    /// Writes and audit entries waiting for the writer (SQLite) or a lane
    /// (PostgreSQL).
    pub queued_writes: u64,
}

/// How many notifications are in each delivery state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationCounts {
    pub by_state: Vec<(crate::notify::DeliveryState, i64)>,
    /// Acknowledgment still awaited.
    pub open_escalations: i64,
}
