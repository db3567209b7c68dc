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
/// keeps that affordable).
pub(crate) fn open_writer(path: &Path) -> Result<Connection> {
    let connection = Connection::open(path).map_err(internal)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(internal)?;
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(internal)?;
    Ok(connection)
}

pub(crate) fn open_reader(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(path, flags).map_err(internal)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(internal)?;
    connection
        .execute_batch("PRAGMA query_only = ON;")
        .map_err(internal)?;
    Ok(connection)
}
