//! Opening connections with the settings durability and concurrency need.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use connecticket_domain::StoreError;

use crate::executor::sql_error;

type Result<T> = std::result::Result<T, StoreError>;

fn internal(error: rusqlite::Error) -> StoreError {
    sql_error(error).into_store()
}

/// How long a connection waits for another process's lock (an admin command
/// running beside the server) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The writer: creates the file, switches it to WAL and makes every commit
/// durable before it is acknowledged (`synchronous = FULL`; group commit
/// keeps that affordable). Each job runs in a savepoint, whose undo
/// journal SQLite would otherwise write to a temporary file: in memory it
/// saves a quarter of the writer's time, and a commit's durability never
/// depended on it.
pub(crate) fn open_writer(path: &Path) -> Result<Connection> {
    let connection = Connection::open(path).map_err(internal)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(internal)?;
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(internal)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

/// Prepared statements kept per connection: more than the store has, so
/// none is ever prepared twice.
const STATEMENT_CACHE: usize = 256;

/// Readers keep a larger page cache of their own than SQLite's default.
const READER_PRAGMAS: &str = "PRAGMA query_only = ON;
     PRAGMA cache_size = -16384;";

pub(crate) fn open_reader(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(path, flags).map_err(internal)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(internal)?;
    connection.execute_batch(READER_PRAGMAS).map_err(internal)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

/// How long opening waits out another process opening the same file.
const OPEN_PATIENCE: Duration = Duration::from_secs(10);

/// Runs `open` again while SQLite answers "database is locked". Two
/// processes opening a new file at once (two demo servers started
/// together) race to switch it to WAL, and SQLite refuses that switch at
/// once instead of waiting on its busy handler.
pub(crate) fn retrying_while_busy<T>(mut open: impl FnMut() -> Result<T>) -> Result<T> {
    let started = std::time::Instant::now();
    loop {
        match open() {
            Err(error) if is_busy(&error) && started.elapsed() < OPEN_PATIENCE => {
                std::thread::sleep(Duration::from_millis(20));
            }
            outcome => return outcome,
        }
    }
}

fn is_busy(error: &StoreError) -> bool {
    let StoreError::Backend { source, .. } = error else {
        return false;
    };
    let Some(sql) = source.downcast_ref::<connecticket_store::SqlError>() else {
        return false;
    };
    matches!(
        sql.source.downcast_ref::<rusqlite::Error>(),
        Some(rusqlite::Error::SqliteFailure(failure, _))
            if failure.code == rusqlite::ErrorCode::DatabaseBusy
                || failure.code == rusqlite::ErrorCode::DatabaseLocked
    )
}
