//! The domain's error type, and the storage error that backends return.

use thiserror::Error;

/// A kind of record that a lookup can fail to find.
///
/// A record of another provider is reported exactly like a missing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Ticket,
    Resident,
    Category,
    Attachment,
    Provider,
    Employee,
    Application,
}

impl Entity {
    pub fn name(self) -> &'static str {
        match self {
            Entity::Ticket => "Ticket",
            Entity::Resident => "Resident",
            Entity::Category => "Category",
            Entity::Attachment => "Attachment",
            Entity::Provider => "Provider",
            Entity::Employee => "Employee",
            Entity::Application => "Application",
        }
    }
}

/// What a storage backend reports. Backends convert their driver errors into
/// `Internal` (the message is for the log only, never for a client).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{} not found", .0.name())]
    NotFound(Entity),
    #[error("the idempotency key was already used with different parameters")]
    IdempotencyKeyReused,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("storage failure: {0}")]
    Internal(String),
}

/// Every way a use case can fail. The HTTP layer maps each variant to a
/// status and message exactly once.
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
    /// A parameter is missing or malformed; the message names it.
    #[error("{0}")]
    InvalidParameter(String),
    /// An upload or body exceeds a configured limit.
    #[error("{0}")]
    TooLarge(String),
    #[error("Idempotency-Key was already used with different parameters")]
    IdempotencyKeyReused,
    /// Throttled; the client may retry after this many seconds.
    #[error("Too many requests; retry in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// An operator command that conflicts with existing data.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Storage(StoreError),
}

impl DomainError {
    pub fn invalid(message: impl Into<String>) -> Self {
        DomainError::InvalidParameter(message.into())
    }
}

impl From<StoreError> for DomainError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(entity) => DomainError::NotFound(entity),
            StoreError::IdempotencyKeyReused => DomainError::IdempotencyKeyReused,
            StoreError::Conflict(message) => DomainError::Conflict(message),
            other => DomainError::Storage(other),
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
pub type StoreResult<T> = Result<T, StoreError>;
