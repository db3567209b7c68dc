//! Statements on a rusqlite connection, behind the storage layer's
//! driver-neutral interface. Everything here is synchronous: the futures
//! complete in one poll, on the thread that owns the connection.

use std::borrow::Cow;

use async_trait::async_trait;
use connecticket_domain::StoreError;
use connecticket_store::{Dialect, Executor, Row, SqlError, SqlErrorKind, Value, ValueRef};
use rusqlite::types::ValueRef as SqliteValue;
use rusqlite::{ffi, Connection, Statement};

pub(crate) struct SqliteExecutor<'c> {
    conn: &'c mut Connection,
    audit_chain: Option<i64>,
}

impl<'c> SqliteExecutor<'c> {
    /// For reads.
    pub(crate) fn new(conn: &'c mut Connection) -> Self {
        SqliteExecutor {
            conn,
            audit_chain: None,
        }
    }

    /// For the writer, which appends to its own chain.
    pub(crate) fn writer(conn: &'c mut Connection, audit_chain: i64) -> Self {
        SqliteExecutor {
            conn,
            audit_chain: Some(audit_chain),
        }
    }
}

/// Classifies a driver error; constraint failures by their extended code,
/// so a broken reference is never read as a taken key.
pub(crate) fn sql_error(error: rusqlite::Error) -> SqlError {
    let kind = match &error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                SqlErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => SqlErrorKind::ForeignKeyViolation,
            _ => SqlErrorKind::Other,
        },
        rusqlite::Error::InvalidColumnName(_) => SqlErrorKind::NoSuchColumn,
        _ => SqlErrorKind::Other,
    };
    SqlError::new(kind, error)
}

/// `$1` placeholders become SQLite's numbered `?1`, which bind by number
/// (SQLite reads `$1` as a name, numbered in order of appearance).
fn translate(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn bind(statement: &mut Statement<'_>, args: &[Value<'_>]) -> rusqlite::Result<()> {
    for (index, value) in args.iter().enumerate() {
        let at = index + 1;
        match value {
            Value::Int(v) => statement.raw_bind_parameter(at, v)?,
            Value::Text(v) => statement.raw_bind_parameter(at, v.as_deref())?,
            Value::Blob(v) => statement.raw_bind_parameter(at, v.as_deref())?,
            Value::Bool(v) => statement.raw_bind_parameter(at, v.map(i64::from))?,
        }
    }
    Ok(())
}

struct SqliteRow<'r, 's>(&'r rusqlite::Row<'s>);

impl Row for SqliteRow<'_, '_> {
    fn value(&self, column: &str) -> Result<ValueRef<'_>, SqlError> {
        let index = self.0.as_ref().column_index(column).map_err(sql_error)?;
        let value = self.0.get_ref(index).map_err(sql_error)?;
        Ok(match value {
            SqliteValue::Null => ValueRef::Null,
            SqliteValue::Integer(v) => ValueRef::Int(v),
            SqliteValue::Text(bytes) => {
                ValueRef::Text(std::str::from_utf8(bytes).map_err(SqlError::other)?)
            }
            SqliteValue::Blob(bytes) => ValueRef::Blob(bytes),
            SqliteValue::Real(_) => {
                return Err(SqlError::other(format!(
                    "column {column} holds a real number"
                )))
            }
        })
    }
}

#[async_trait]
impl Executor for SqliteExecutor<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn execute(&mut self, sql: &str, args: &[Value<'_>]) -> Result<u64, SqlError> {
        let mut statement = self
            .conn
            .prepare_cached(&translate(sql))
            .map_err(sql_error)?;
        bind(&mut statement, args).map_err(sql_error)?;
        let changed = statement.raw_execute().map_err(sql_error)?;
        Ok(changed as u64)
    }

    async fn query(
        &mut self,
        sql: &str,
        args: &[Value<'_>],
        each: &mut (dyn for<'r> FnMut(&'r (dyn Row + 'r)) -> Result<(), StoreError> + Send),
    ) -> Result<(), StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(&translate(sql))
            .map_err(|e| sql_error(e).into_store())?;
        bind(&mut statement, args).map_err(|e| sql_error(e).into_store())?;
        let mut rows = statement.raw_query();
        while let Some(row) = rows.next().map_err(|e| sql_error(e).into_store())? {
            each(&SqliteRow(row))?;
        }
        Ok(())
    }

    async fn advance_identity(&mut self, _table: &str) -> Result<(), SqlError> {
        // AUTOINCREMENT continues above the largest id ever inserted.
        Ok(())
    }

    fn audit_chain(&self) -> Option<i64> {
        self.audit_chain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_sqlite() {
        assert_eq!(
            translate("SELECT $2, $1 WHERE a = $10"),
            "SELECT ?2, ?1 WHERE a = ?10"
        );
        assert_eq!(translate("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn constraint_failures_are_told_apart() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE p (id INTEGER PRIMARY KEY);
             CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p (id));
             INSERT INTO p VALUES (1);",
        )
        .expect("schema");
        let taken = conn
            .execute("INSERT INTO p VALUES (1)", [])
            .expect_err("taken");
        assert_eq!(sql_error(taken).kind, SqlErrorKind::UniqueViolation);
        let dangling = conn
            .execute("INSERT INTO c VALUES (1, 9)", [])
            .expect_err("dangling");
        assert_eq!(sql_error(dangling).kind, SqlErrorKind::ForeignKeyViolation);
    }
}
