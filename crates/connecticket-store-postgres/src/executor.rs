//! Statements on a PostgreSQL connection, behind the storage layer's
//! driver-neutral interface.

use async_trait::async_trait;
use connecticket_domain::StoreError;
use connecticket_store::{
    AuditChain, Dialect, Executor, Row, SqlError, SqlErrorKind, Value, ValueRef,
};
use futures::TryStreamExt;
use sqlx::error::ErrorKind;
use sqlx::postgres::{PgArguments, PgRow, PgValueRef};
use sqlx::query::Query;
use sqlx::{Decode, PgConnection, Postgres, TypeInfo, ValueRef as _};

pub(crate) struct PgExecutor<'c> {
    conn: &'c mut PgConnection,
    audit_chain: Option<&'c mut AuditChain>,
}

impl<'c> PgExecutor<'c> {
    /// For reads.
    pub(crate) fn new(conn: &'c mut PgConnection) -> Self {
        PgExecutor {
            conn,
            audit_chain: None,
        }
    }

    /// For a write lane, which appends to its own chain.
    pub(crate) fn writer(conn: &'c mut PgConnection, audit_chain: &'c mut AuditChain) -> Self {
        PgExecutor {
            conn,
            audit_chain: Some(audit_chain),
        }
    }
}

/// Classifies a driver error by the database's error class, so a broken
/// reference is never read as a taken key.
pub(crate) fn sql_error(error: sqlx::Error) -> SqlError {
    let kind = match &error {
        sqlx::Error::Database(database) => match database.kind() {
            ErrorKind::UniqueViolation => SqlErrorKind::UniqueViolation,
            ErrorKind::ForeignKeyViolation => SqlErrorKind::ForeignKeyViolation,
            // query_canceled: statement_timeout ran out.
            _ if database.code().as_deref() == Some("57014") => SqlErrorKind::Cancelled,
            _ if database.code().as_deref().is_some_and(is_lost_server) => {
                SqlErrorKind::Disconnected
            }
            _ => SqlErrorKind::Other,
        },
        sqlx::Error::ColumnNotFound(_) => SqlErrorKind::NoSuchColumn,
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => SqlErrorKind::Disconnected,
        _ => SqlErrorKind::Other,
    };
    SqlError::new(kind, error)
}

/// SQLSTATEs that say the server is going or gone, or is not the primary
/// any more, rather than anything about the statement: class 08
/// (connection exception), 57P01–57P03 (admin or crash shutdown, cannot
/// connect now), 25006 (a write on a read-only server: a standby, or a
/// primary demoted under us) and 53300 (too many connections).
fn is_lost_server(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "25006" | "53300")
}

/// Each statement's text (never its arguments, which hold patient data)
/// at `TRACE` under [`STATEMENTS`](crate::STATEMENTS): what a write sends
/// PostgreSQL, and how many round trips it costs, without a server log.
pub(crate) fn trace_statement(sql: &str) {
    tracing::trace!(target: crate::STATEMENTS, "{sql}");
}

fn bind<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    args: &'q [Value<'_>],
) -> Query<'q, Postgres, PgArguments> {
    for value in args {
        query = match value {
            Value::Int(v) => query.bind(*v),
            Value::Text(v) => query.bind(v.as_deref()),
            Value::Blob(v) => query.bind(v.as_deref()),
            Value::Bool(v) => query.bind(*v),
        };
    }
    query
}

/// A row, its columns read by name. Callers read them in the statement's
/// order, so the column after the last one read is tried first: one
/// comparison, where sqlx's lookup hashes the name.
struct PgRowRef<'r> {
    row: &'r PgRow,
    next: std::cell::Cell<usize>,
}

impl PgRowRef<'_> {
    fn index(&self, column: &str) -> Result<usize, SqlError> {
        let guess = self.next.get();
        let index = match sqlx::Row::columns(self.row).get(guess) {
            Some(found) if sqlx::Column::name(found) == column => guess,
            _ => sqlx::ColumnIndex::index(&column, self.row).map_err(sql_error)?,
        };
        self.next.set(index + 1);
        Ok(index)
    }
}

/// The column types the storage layer reads, told apart before decoding
/// (the type's name is borrowed from the value that decoding consumes).
enum Kind {
    Int8,
    Int4,
    Int2,
    Text,
    Blob,
    Bool,
}

fn decode<'r, T: Decode<'r, Postgres>>(value: PgValueRef<'r>) -> Result<T, SqlError> {
    T::decode(value).map_err(SqlError::other)
}

impl Row for PgRowRef<'_> {
    fn value(&self, column: &str) -> Result<ValueRef<'_>, SqlError> {
        let value = sqlx::Row::try_get_raw(self.row, self.index(column)?).map_err(sql_error)?;
        if value.is_null() {
            return Ok(ValueRef::Null);
        }
        let kind = match value.type_info().name() {
            "INT8" => Kind::Int8,
            "INT4" => Kind::Int4,
            "INT2" => Kind::Int2,
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => Kind::Text,
            "BYTEA" => Kind::Blob,
            "BOOL" => Kind::Bool,
            other => {
                return Err(SqlError::other(format!(
                    "column {column} has type {other}, which the storage layer does not read"
                )))
            }
        };
        Ok(match kind {
            Kind::Int8 => ValueRef::Int(decode::<i64>(value)?),
            Kind::Int4 => ValueRef::Int(i64::from(decode::<i32>(value)?)),
            Kind::Int2 => ValueRef::Int(i64::from(decode::<i16>(value)?)),
            Kind::Text => ValueRef::Text(decode::<&str>(value)?),
            Kind::Blob => ValueRef::Blob(decode::<&[u8]>(value)?),
            Kind::Bool => ValueRef::Bool(decode::<bool>(value)?),
        })
    }
}

#[async_trait]
impl Executor for PgExecutor<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn execute(&mut self, sql: &str, args: &[Value<'_>]) -> Result<u64, SqlError> {
        trace_statement(sql);
        let done = bind(sqlx::query(sql), args)
            .execute(&mut *self.conn)
            .await
            .map_err(sql_error)?;
        Ok(done.rows_affected())
    }

    async fn query(
        &mut self,
        sql: &str,
        args: &[Value<'_>],
        each: &mut (dyn for<'r> FnMut(&'r (dyn Row + 'r)) -> Result<(), StoreError> + Send),
    ) -> Result<(), StoreError> {
        trace_statement(sql);
        let mut rows = bind(sqlx::query(sql), args).fetch(&mut *self.conn);
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(|e| sql_error(e).into_store())?
        {
            each(&PgRowRef {
                row: &row,
                next: std::cell::Cell::new(0),
            })?;
        }
        Ok(())
    }

    async fn advance_identity(&mut self, table: &str) -> Result<(), SqlError> {
        // Only ever called with the name of one of our own tables. The
        // sequence only moves forward: another instance may have taken ids
        // that are not committed yet (sequences are not transactional), and
        // moving back below them would hand the same id out twice.
        let sql = format!(
            "SELECT setval(seq, GREATEST(COALESCE((SELECT MAX(id) FROM {table}), 0), \
                                         COALESCE(pg_sequence_last_value(seq::regclass), 0), 1), true) \
             FROM (SELECT pg_get_serial_sequence('{table}', 'id') AS seq) AS identity"
        );
        sqlx::query(&sql)
            .execute(&mut *self.conn)
            .await
            .map(|_| ())
            .map_err(sql_error)
    }

    fn audit_chain(&mut self) -> Option<&mut AuditChain> {
        self.audit_chain.as_deref_mut()
    }
}
