//! The domain's error type, and the storage error that backends return.
//!
//! Each variant means one thing. The HTTP layer maps each to a status and
//! the contract's message exactly once; an invalid input names the field
//! by its domain name ([`Field`]) and the surface spells it as its clients
//! do.

use std::fmt;

use thiserror::Error;

use crate::model::CategoryId;

/// A kind of record that a lookup can fail to find.
///
/// A record of another provider is reported exactly like a missing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Ticket,
    Resident,
    Category,
    Attachment,
    Comment,
    Provider,
    Employee,
    Application,
    Contact,
    Notification,
    /// A board display (a wall screen paired with the board).
    Display,
    /// An application's webhook endpoint.
    Webhook,
}

impl Entity {
    pub fn name(self) -> &'static str {
        match self {
            Entity::Ticket => "Ticket",
            Entity::Resident => "Resident",
            Entity::Category => "Category",
            Entity::Attachment => "Attachment",
            Entity::Comment => "Comment",
            Entity::Provider => "Provider",
            Entity::Employee => "Employee",
            Entity::Application => "Application",
            Entity::Contact => "Contact",
            Entity::Notification => "Notification",
            Entity::Display => "Display",
            Entity::Webhook => "Webhook",
        }
    }
}

/// An input field a use case validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    ResidentId,
    TicketType,
    StartDate,
    EndDate,
    GeneralComment,
    /// The comment that comes with a category's rating.
    CategoryComment(CategoryId),
    /// Ratings and category comments, counted together.
    Categories,
    Comment,
    Attachments,
    AttachmentFileName,
    AttachmentContentType,
    IdempotencyKey,
    PerPage,
    Name,
    TimeZone,
    /// The country phone numbers are read in.
    Country,
    /// A board display's pairing code.
    PairingCode,
    ApiKey,
    Email,
    Phone,
    Contact,
    QuietHours,
    Template,
    /// A gateway's delivery report.
    DeliveryReport,
    NotificationId,
    /// A staff acknowledgment's note.
    Note,
    /// A list's `state=` filter.
    State,
    /// A recipient or staff role.
    Role,
    /// An escalation rule's deadlines and tiers.
    Escalation,
    Urgency,
    /// A console account's password.
    Password,
    /// A second factor's one-time code.
    Code,
    /// The code of the second factor already set up, to replace it.
    CurrentCode,
    /// The provider an administration call is for.
    Provider,
    /// The employee an application acts as.
    Employee,
    /// The name an operator's script gives itself.
    Actor,
    /// How long a notification may wait for an answer.
    AckWithin,
    /// An escalation tier (a role told in turn).
    Tier,
    /// How long until an unanswered notification is sent again.
    RenotifyAfter,
    /// A webhook endpoint's address.
    Url,
    /// The event types a webhook endpoint is sent.
    EventTypes,
    /// The change feed's `after`.
    Cursor,
    /// How many events a page of the change feed holds.
    Limit,
    /// The public keys (a JWK Set) an application signs FHIR client
    /// assertions with.
    Jwks,
}

impl Field {
    /// How the domain, the CLI and the logs call the field.
    pub fn name(self) -> String {
        match self {
            Field::Title => "title".to_owned(),
            Field::ResidentId => "resident_id".to_owned(),
            Field::TicketType => "ticket_type".to_owned(),
            Field::StartDate => "start_date".to_owned(),
            Field::EndDate => "end_date".to_owned(),
            Field::GeneralComment => "general comment".to_owned(),
            Field::CategoryComment(id) => format!("comment on category {id}"),
            Field::Categories => "categories".to_owned(),
            Field::Comment => "comment".to_owned(),
            Field::Attachments => "attachments".to_owned(),
            Field::AttachmentFileName => "attachment file name".to_owned(),
            Field::AttachmentContentType => "attachment content type".to_owned(),
            Field::IdempotencyKey => "Idempotency-Key".to_owned(),
            Field::PerPage => "per_page".to_owned(),
            Field::Name => "name".to_owned(),
            Field::TimeZone => "time zone".to_owned(),
            Field::Country => "country".to_owned(),
            Field::PairingCode => "pairing code".to_owned(),
            Field::ApiKey => "api_key".to_owned(),
            Field::Email => "email".to_owned(),
            Field::Phone => "phone".to_owned(),
            Field::Contact => "contact".to_owned(),
            Field::QuietHours => "quiet hours".to_owned(),
            Field::Template => "template".to_owned(),
            Field::DeliveryReport => "delivery report".to_owned(),
            Field::NotificationId => "notification_id".to_owned(),
            Field::Note => "note".to_owned(),
            Field::State => "state".to_owned(),
            Field::Role => "role".to_owned(),
            Field::Escalation => "escalation".to_owned(),
            Field::Urgency => "urgency".to_owned(),
            Field::Password => "password".to_owned(),
            Field::Code => "code".to_owned(),
            Field::CurrentCode => "current code".to_owned(),
            Field::Provider => "provider".to_owned(),
            Field::Employee => "employee".to_owned(),
            Field::Actor => "actor".to_owned(),
            Field::AckWithin => "acknowledge within".to_owned(),
            Field::Tier => "tier".to_owned(),
            Field::RenotifyAfter => "renotify after".to_owned(),
            Field::Url => "url".to_owned(),
            Field::EventTypes => "event_types".to_owned(),
            Field::Cursor => "after".to_owned(),
            Field::Limit => "limit".to_owned(),
            Field::Jwks => "jwks".to_owned(),
        }
    }
}

/// What is wrong with a field; rendered after the field's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Required,
    TooLong {
        max_chars: usize,
    },
    TooMany {
        max: usize,
    },
    AtMost {
        max: u64,
    },
    /// Any other rule, said in words ("must not be before start_date").
    Rule(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Required => f.write_str("required"),
            Problem::TooLong { max_chars } => write!(f, "must be at most {max_chars} characters"),
            Problem::TooMany { max } => write!(f, "must be at most {max} per request"),
            Problem::AtMost { max } => write!(f, "must be at most {max}"),
            Problem::Rule(rule) => f.write_str(rule),
        }
    }
}

/// A field that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    pub field: Field,
    pub problem: Problem,
}

impl InvalidField {
    pub fn new(field: Field, problem: Problem) -> Self {
        InvalidField { field, problem }
    }
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field.name(), self.problem)
    }
}

/// What a storage backend reports. Driver errors keep their source for the
/// log; their text never reaches a client.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{} not found", .0.name())]
    NotFound(Entity),
    /// A unique key (an id, an api_key) is taken.
    #[error("{} with this {key} already exists", with_article(&.entity.name().to_lowercase()))]
    Duplicate { entity: Entity, key: &'static str },
    #[error("the idempotency key was already used with different parameters")]
    IdempotencyKeyReused,
    /// An import or demo seed met a database that already holds data.
    #[error("the target database is not empty")]
    NotEmpty,
    /// A write whose deadline passed before it started; nothing was
    /// written.
    #[error("the write was withdrawn before it started: its deadline passed")]
    Withdrawn,
    /// Stored data that cannot be what this program wrote.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    #[error("{context}")]
    Backend {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The backend's machinery (writer thread, pool) is gone.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The record changed since the version the write was based on.
    #[error("the {} changed since the version given", .0.name().to_lowercase())]
    Stale(Entity),
    /// The database cannot be reached, or the server reached is not one
    /// that takes writes (a standby during a failover). Nothing was
    /// written; the same call may succeed shortly.
    #[error("the database is unreachable: {0}")]
    Unreachable(String),
    /// The connection was lost after the commit was sent: the write may
    /// or may not have been saved. Never reported as a failure, since it
    /// may have succeeded; a retry with the same `Idempotency-Key` tells.
    #[error("the connection to the database was lost while the write was committing")]
    OutcomeUnknown,
}

impl StoreError {
    /// The database could not be reached, or a commit's answer was lost:
    /// a failover or restart under way, which ends by itself.
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            StoreError::Unreachable(_) | StoreError::OutcomeUnknown
        )
    }

    pub fn backend(
        context: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StoreError::Backend {
            context,
            source: source.into(),
        }
    }
}

/// Every way a use case can fail.
#[derive(Debug, Error)]
pub enum DomainError {
    /// `authorize` with a wrong or unknown api_key/api_secret.
    #[error("Invalid API key or API secret")]
    InvalidApiCredentials,
    /// Any later call whose token or credentials do not check out.
    #[error("Invalid Credentials")]
    InvalidCredentials,
    #[error("Invalid {} ID", .0.name())]
    NotFound(Entity),
    #[error("{0}")]
    Invalid(InvalidField),
    #[error("Idempotency-Key was already used with different parameters")]
    IdempotencyKeyReused,
    /// Throttled; the client may retry after this many seconds.
    #[error("Too many requests; retry in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// An operator's record whose unique key is taken.
    #[error("{} with this {key} already exists", with_article(&.entity.name().to_lowercase()))]
    Duplicate { entity: Entity, key: &'static str },
    /// Demo data or a data move aimed at a database that holds other data.
    #[error("the target database is not empty")]
    NotEmpty,
    /// The request's deadline passed: a read gave up, or a write was
    /// withdrawn before it started. Nothing was written.
    #[error("the request took longer than the server allows; nothing was written")]
    DeadlineExceeded,
    /// The console's sign-in: a wrong address, password or code (which
    /// one is never said).
    #[error("Wrong email, password or code")]
    InvalidSignIn,
    /// A console request without a working session.
    #[error("Please sign in")]
    SignInRequired,
    /// The caller is who they say, but their role does not allow this (or
    /// a console form came without its session's CSRF token).
    #[error("{0}")]
    Forbidden(&'static str),
    /// A FHIR client's signed assertion was refused (OAuth's
    /// `invalid_client`): 401, the message says which check failed.
    #[error("{0}")]
    InvalidClient(String),
    /// A FHIR client asked for scopes that grant nothing this server
    /// offers, or that it cannot read (OAuth's `invalid_scope`): 400.
    #[error("{0}")]
    InvalidScope(String),
    /// The record is not in a state that allows this (a notification
    /// acknowledged already): 409, since the request itself is sound.
    #[error("{0}")]
    Conflict(String),
    /// Too much of one kind of work is under way (password hashing, say):
    /// refused at once rather than queued; retry shortly.
    #[error("{0}")]
    Busy(&'static str),
    /// The change feed was asked for events after a cursor it no longer
    /// holds (removed by retention) or never gave (another database):
    /// the client must read its data afresh and start the feed again.
    #[error("{0}")]
    CursorExpired(&'static str),
    /// A write based on a version of the record that is no longer its
    /// current one (`If-Match`): 412, nothing was written.
    #[error("the {} changed since the version given; read it again", .0.name().to_lowercase())]
    Stale(Entity),
    /// The provider requires a second factor the account has not set up.
    #[error("Your provider requires a second factor: set one up first")]
    SecondFactorRequired,
    /// The database is unreachable or switching primaries; nothing was
    /// written: 503 with `Retry-After`.
    #[error("The database is unavailable; nothing was written. Retry shortly")]
    DatabaseUnavailable,
    /// A write whose commit outcome is unknown (see
    /// [`StoreError::OutcomeUnknown`]): 503, never reported as failed.
    #[error("The database connection was lost while this write was being committed, so it may have been saved. Retry with the same Idempotency-Key to receive its result")]
    WriteOutcomeUnknown,
    #[error("storage failure")]
    Storage(#[source] StoreError),
}

impl DomainError {
    pub fn invalid(field: Field, problem: Problem) -> Self {
        DomainError::Invalid(InvalidField::new(field, problem))
    }
}

impl From<StoreError> for DomainError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(entity) => DomainError::NotFound(entity),
            StoreError::IdempotencyKeyReused => DomainError::IdempotencyKeyReused,
            StoreError::Duplicate { entity, key } => DomainError::Duplicate { entity, key },
            StoreError::NotEmpty => DomainError::NotEmpty,
            StoreError::Withdrawn => DomainError::DeadlineExceeded,
            StoreError::Stale(entity) => DomainError::Stale(entity),
            StoreError::Unreachable(_) => DomainError::DatabaseUnavailable,
            StoreError::OutcomeUnknown => DomainError::WriteOutcomeUnknown,
            other => DomainError::Storage(other),
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
pub type StoreResult<T> = Result<T, StoreError>;

/// "a category", "an employee".
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_reads_with_its_article() {
        let employee = DomainError::Duplicate {
            entity: Entity::Employee,
            key: "email",
        };
        assert_eq!(
            employee.to_string(),
            "an employee with this email already exists"
        );
        let category = DomainError::Duplicate {
            entity: Entity::Category,
            key: "name",
        };
        assert_eq!(
            category.to_string(),
            "a category with this name already exists"
        );
    }

    #[test]
    fn invalid_fields_read_as_a_sentence() {
        let error = DomainError::invalid(Field::Title, Problem::TooLong { max_chars: 255 });
        assert_eq!(error.to_string(), "title must be at most 255 characters");
        let error = DomainError::invalid(Field::CategoryComment(CategoryId(19)), Problem::Required);
        assert_eq!(error.to_string(), "comment on category 19 required");
    }

    #[test]
    fn a_backend_error_keeps_its_source() {
        let error = StoreError::backend("reading a ticket", std::io::Error::other("disk on fire"));
        let source = std::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk on fire"));
        assert_eq!(error.to_string(), "reading a ticket");
    }
}
