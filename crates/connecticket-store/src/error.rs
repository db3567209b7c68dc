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
