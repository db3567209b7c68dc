//! What an engine's driver reports, classified so that the shared layer can
//! tell a taken unique key from a broken reference, with the driver's error
//! kept as the source.

use connecticket_domain::StoreError;
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlErrorKind {
    /// A unique or primary key is taken.
    UniqueViolation,
    /// A referenced row does not exist.
    ForeignKeyViolation,
    /// A column a query asked for is not in its result.
    NoSuchColumn,
    /// The database cancelled the statement (its time ran out).
    Cancelled,
    /// The connection is gone or the server no longer takes writes (it
    /// shut down, or it is a standby now): nothing more can be done on
    /// this connection, and another server may be the primary.
    Disconnected,
    Other,
}

#[derive(Debug, Error)]
#[error("{kind:?}: {source}")]
pub struct SqlError {
    pub kind: SqlErrorKind,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl SqlError {
    pub fn new(
        kind: SqlErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        SqlError {
            kind,
            source: source.into(),
        }
    }

    pub fn other(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::new(SqlErrorKind::Other, source)
    }

    pub fn into_store(self) -> StoreError {
        if self.kind == SqlErrorKind::Disconnected {
            return StoreError::Unreachable(self.to_string());
        }
        StoreError::Backend {
            context: "the database refused a statement",
            source: Box::new(self),
        }
    }
}

impl From<SqlError> for StoreError {
    fn from(error: SqlError) -> Self {
        error.into_store()
    }
}

/// Whether `error` came from a lost connection, however deep a context
/// wrapped it: such a failure says nothing about the request, and the
/// connection it happened on is of no further use.
pub fn is_disconnected(error: &StoreError) -> bool {
    if matches!(error, StoreError::Unreachable(_)) {
        return true;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<SqlError>()
            .is_some_and(|sql| sql.kind == SqlErrorKind::Disconnected)
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// `error`, as [`StoreError::Unreachable`] when a lost connection caused
/// it, so that callers hear "retry shortly" rather than "failed".
pub fn unreachable_if_disconnected(error: StoreError) -> StoreError {
    if is_disconnected(&error) && !matches!(error, StoreError::Unreachable(_)) {
        StoreError::Unreachable(error.to_string())
    } else {
        error
    }
}
