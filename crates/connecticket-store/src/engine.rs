//! What an engine crate provides: statements run on a connection inside a
//! transaction ([`Executor`]), and transactions run where the engine wants
//! them ([`Engine`]): SQLite's single writer thread and read pool,
//! PostgreSQL's connection pool.

use std::future::Future;
use std::time::Instant;

use async_trait::async_trait;
use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::audit_chain::AuditChain;
use crate::error::SqlError;
use crate::value::{Row, Value};
use connecticket_domain::store::{RowStream, StoreLoad};
use connecticket_domain::StoreError;

/// The few places where the engines' SQL truly differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Whether a `WITH` clause may hold an `UPDATE` (PostgreSQL's
    /// data-modifying CTEs), so that two changes cost one statement.
    pub fn modifies_in_with(self) -> bool {
        matches!(self, Dialect::Postgres)
    }

    /// The larger of two values (`MAX` is an aggregate in PostgreSQL).
    pub fn greatest(self) -> &'static str {
        match self {
            Dialect::Sqlite => "MAX",
            Dialect::Postgres => "GREATEST",
        }
    }

    /// Compares text byte by byte, as SQLite does, so that both engines
    /// order the same keys the same way (PostgreSQL would use the
    /// database's locale).
    pub fn bytewise(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        }
    }

    /// The applied schema version, as column `version`.
    pub fn schema_version_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations",
            Dialect::Postgres => {
                "SELECT COALESCE(MAX(version), 0) AS version FROM _sqlx_migrations WHERE success"
            }
        }
    }

    /// Makes racing imports (two demo servers starting together) take
    /// turns, so that the second finds the first's data. SQLite's write
    /// transaction holds the database's one write lock already.
    pub fn import_lock(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SELECT pg_advisory_xact_lock(54371289)"),
        }
    }

    /// Locks the selected rows until the transaction ends, against other
    /// changes but not against inserts that merely reference them (we
    /// never change a key): a lock stronger than that would make a write
    /// that locks a row deadlock with a batch that inserted a row pointing
    /// to it. SQLite has one writer at a time, so its write transactions
    /// hold every lock already.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR NO KEY UPDATE",
        }
    }

    /// The same lock on one table's rows of a join (`alias`), leaving the
    /// joined rows unlocked.
    pub fn for_update_of(self, alias: &str) -> String {
        match self {
            Dialect::Sqlite => String::new(),
            Dialect::Postgres => format!(" FOR NO KEY UPDATE OF {alias}"),
        }
    }

    /// The same lock, passing over rows another transaction holds.
    pub fn for_update_skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR NO KEY UPDATE SKIP LOCKED",
        }
    }
}

/// A connection inside a transaction. SQL is written once, with `$1`-style
/// placeholders; an engine translates them if it must.
#[async_trait]
pub trait Executor: Send {
    fn dialect(&self) -> Dialect;

    /// Runs a statement; returns how many rows it changed.
    async fn execute(&mut self, sql: &str, args: &[Value<'_>]) -> Result<u64, SqlError>;

    /// Runs a query, handing each row to `each` in order.
    async fn query(
        &mut self,
        sql: &str,
        args: &[Value<'_>],
        each: &mut (dyn for<'r> FnMut(&'r (dyn Row + 'r)) -> Result<(), StoreError> + Send),
    ) -> Result<(), StoreError>;

    /// After rows were inserted with explicit ids, makes generated ids
    /// continue above them (SQLite's AUTOINCREMENT does so by itself).
    async fn advance_identity(&mut self, table: &str) -> Result<(), SqlError>;

    /// The audit chain of the writer running this transaction; `None` in a
    /// read.
    fn audit_chain(&mut self) -> Option<&mut AuditChain>;
}

/// A unit of work in one transaction.
pub trait Job<T>:
    for<'t> FnOnce(&'t mut dyn Executor) -> BoxFuture<'t, Result<T, StoreError>> + Send + 'static
{
}

impl<T, F> Job<T> for F where
    F: for<'t> FnOnce(&'t mut dyn Executor) -> BoxFuture<'t, Result<T, StoreError>>
        + Send
        + 'static
{
}

/// Where a streaming job sends its chunks.
pub struct ChunkSender<T> {
    sender: mpsc::Sender<Result<Vec<T>, StoreError>>,
}

impl<T: Send> ChunkSender<T> {
    /// Waits until the reader takes the chunk; false once it has gone away.
    pub async fn send(&self, chunk: Vec<T>) -> bool {
        self.sender.send(Ok(chunk)).await.is_ok()
    }

    pub async fn fail(&self, error: StoreError) {
        let _ = self.sender.send(Err(error)).await;
    }
}

/// A unit of work in one read transaction that streams chunks of rows.
pub trait StreamJob<T>:
    for<'t> FnOnce(
        &'t mut dyn Executor,
        &'t ChunkSender<T>,
    ) -> BoxFuture<'t, Result<(), StoreError>>
    + Send
    + 'static
{
}

impl<T, F> StreamJob<T> for F where
    F: for<'t> FnOnce(
            &'t mut dyn Executor,
            &'t ChunkSender<T>,
        ) -> BoxFuture<'t, Result<(), StoreError>>
        + Send
        + 'static
{
}

/// A channel for a stream's chunks, and the stream its reader sees.
pub fn chunk_channel<T: Send + 'static>() -> (ChunkSender<T>, RowStream<T>) {
    let (sender, receiver) = mpsc::channel(2);
    (
        ChunkSender { sender },
        Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver)),
    )
}

/// Runs transactions. Each method's job is one transaction: committed when
/// the job succeeds, rolled back when it fails.
pub trait Engine: Send + Sync + 'static {
    fn dialect(&self) -> Dialect;

    /// A write transaction; resolves once it is durable (or failed). If
    /// `deadline` passes before the job starts, it is withdrawn: never run,
    /// `StoreError::Withdrawn`. A job that started runs to its outcome.
    fn write_by<T: Send + 'static>(
        &self,
        deadline: Option<Instant>,
        job: impl Job<T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send;

    /// A write transaction without a deadline.
    fn write<T: Send + 'static>(
        &self,
        job: impl Job<T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        self.write_by(None, job)
    }

    /// Appends an audit entry that belongs to no write of its own (see
    /// `audit_queue`); resolves once it is durable.
    fn append_audit(
        &self,
        entry: connecticket_domain::audit::AuditEntry,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A read-only transaction: one consistent snapshot.
    fn read<T: Send + 'static>(
        &self,
        job: impl Job<T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send;

    /// A read of exactly one statement, which sees one snapshot by itself:
    /// an engine may run it without opening a transaction around it (on
    /// PostgreSQL that saves two round trips of the three).
    fn read_statement<T: Send + 'static>(
        &self,
        job: impl Job<T>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        self.read(job)
    }

    /// A read-only transaction whose rows are streamed in chunks as the
    /// reader takes them.
    fn read_stream<T: Send + 'static>(&self, job: impl StreamJob<T>) -> RowStream<T>;

    /// The newest schema version this engine's migrations know.
    fn known_schema_version(&self) -> i64;

    /// Connections and queued writes right now.
    fn load(&self) -> StoreLoad;

    /// Closes the engine's connections (PostgreSQL ends its sessions
    /// cleanly); an engine without a pool has nothing to do.
    fn close(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
}
