//! Statements on a rusqlite connection, behind the storage layer's
//! driver-neutral interface. Everything here is synchronous: the futures
//! complete in one poll, on the thread that owns the connection.

use async_trait::async_trait;
use connecticket_domain::StoreError;
use connecticket_store::{
    AuditChain, Dialect, Executor, Row, SqlError, SqlErrorKind, Value, ValueRef,
};
use rusqlite::types::ValueRef as SqliteValue;
use rusqlite::{ffi, Connection, Statement};

pub(crate) struct SqliteExecutor<'c> {
    conn: &'c mut Connection,
    audit_chain: Option<&'c mut AuditChain>,
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
    pub(crate) fn writer(conn: &'c mut Connection, audit_chain: &'c mut AuditChain) -> Self {
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

/// Runs a statement without arguments (`BEGIN`, `COMMIT`, a savepoint)
/// from the statement cache, rather than parsing it anew each time.
pub(crate) fn run_cached(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.raw_execute().map(|_| ())
}

/// Binds `args` to the statement's `$1`, `$2`… placeholders. SQLite reads
/// `$1` as a parameter *named* "$1" and numbers parameters in order of
/// first appearance, so each is bound by its name, not its position.
fn bind(statement: &mut Statement<'_>, args: &[Value<'_>]) -> rusqlite::Result<()> {
    for (index, value) in args.iter().enumerate() {
        // Most statements have few parameters; a many-row insert more.
        let spelled;
        let name = match PLACEHOLDERS.get(index) {
            Some(name) => *name,
            None => {
                spelled = format!("${}", index + 1);
                spelled.as_str()
            }
        };
        let Some(at) = statement.parameter_index(name)? else {
            return Err(rusqlite::Error::InvalidParameterName(name.to_owned()));
        };
        match value {
            Value::Int(v) => statement.raw_bind_parameter(at, v)?,
            Value::Text(v) => statement.raw_bind_parameter(at, v.as_deref())?,
            Value::Blob(v) => statement.raw_bind_parameter(at, v.as_deref())?,
            Value::Bool(v) => statement.raw_bind_parameter(at, v.map(i64::from))?,
        }
    }
    Ok(())
}

/// The placeholder names most statements use, in order.
const PLACEHOLDERS: [&str; 32] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15",
    "$16", "$17", "$18", "$19", "$20", "$21", "$22", "$23", "$24", "$25", "$26", "$27", "$28",
    "$29", "$30", "$31", "$32",
];

/// A row, with its statement's column names read once per query (SQLite
/// would otherwise be asked for every name on every lookup).
struct SqliteRow<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    names: &'r [String],
    /// Where the last lookup matched: callers read columns in order.
    next: std::cell::Cell<usize>,
}

impl SqliteRow<'_, '_> {
    fn index(&self, column: &str) -> Result<usize, SqlError> {
        let guess = self.next.get();
        let index = if self.names.get(guess).is_some_and(|name| name == column) {
            guess
        } else {
            self.names
                .iter()
                .position(|name| name == column)
                .ok_or_else(|| sql_error(rusqlite::Error::InvalidColumnName(column.to_owned())))?
        };
        self.next.set(index + 1);
        Ok(index)
    }
}

impl Row for SqliteRow<'_, '_> {
    fn value(&self, column: &str) -> Result<ValueRef<'_>, SqlError> {
        let index = self.index(column)?;
        let value = self.row.get_ref(index).map_err(sql_error)?;
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
        let mut statement = self.conn.prepare_cached(sql).map_err(sql_error)?;
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
            .prepare_cached(sql)
            .map_err(|e| sql_error(e).into_store())?;
        bind(&mut statement, args).map_err(|e| sql_error(e).into_store())?;
        let names: Vec<String> = statement
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut rows = statement.raw_query();
        while let Some(row) = rows.next().map_err(|e| sql_error(e).into_store())? {
            each(&SqliteRow {
                row,
                names: &names,
                next: std::cell::Cell::new(0),
            })?;
        }
        Ok(())
    }

    async fn advance_identity(&mut self, _table: &str) -> Result<(), SqlError> {
        // AUTOINCREMENT continues above the largest id ever inserted.
        Ok(())
    }

    fn audit_chain(&mut self) -> Option<&mut AuditChain> {
        self.audit_chain.as_deref_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_bind_by_number_whatever_their_order() {
        let mut conn = Connection::open_in_memory().expect("open");
        let mut executor = SqliteExecutor::new(&mut conn);
        let mut seen = Vec::new();
        futures::executor::block_on(executor.query(
            "SELECT $2 AS b, $1 AS a, $2 AS again",
            &[Value::Int(Some(1)), Value::Int(Some(2))],
            &mut |row| {
                for column in ["b", "a", "again"] {
                    if let Ok(ValueRef::Int(v)) = row.value(column) {
                        seen.push(v);
                    }
                }
                Ok(())
            },
        ))
        .expect("query");
        assert_eq!(seen, vec![2, 1, 2]);
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
