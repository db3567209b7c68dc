//! Connecticket's embedded default: the storage layer on one SQLite file.
//!
//! Design: SQLite allows one writer at a time, so all writes go through a
//! single writer thread fed by a queue ([`writer`]). It takes whatever jobs
//! are waiting, runs each in its own savepoint inside one transaction and
//! acknowledges them only after that transaction commits: concurrent writes
//! share one fsync (group commit) and a failed job rolls back alone. Reads
//! run on a small pool of read-only connections ([`readers`]). The SQL
//! itself lives in `connecticket-store`; this crate runs it.

mod connection;
mod engine;
mod executor;
mod migrate;
mod readers;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use connecticket_domain::StoreError;
use connecticket_store::SqlStore;

pub use engine::SqliteEngine;
pub use migrate::MIGRATIONS;

/// The storage interface on a SQLite file.
pub type SqliteStore = SqlStore<SqliteEngine>;

/// Settings for opening a SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Read connections kept open (reads beyond this wait their turn).
    pub read_connections: usize,
    /// How long a commit may wait for more entries once calls are seen to
    /// arrive together (as PostgreSQL's `commit_delay`): fewer, larger
    /// commits, each one fsync. Zero commits at once.
    pub commit_delay: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            read_connections: 8,
            commit_delay: Duration::from_micros(200),
        }
    }
}

/// Opens (creating if needed) the database file, applies pending
/// migrations and starts the writer thread.
pub async fn open(
    path: impl AsRef<Path>,
    options: SqliteOptions,
) -> Result<SqliteStore, StoreError> {
    let path = path.as_ref().to_path_buf();
    let writer_path = path.clone();
    let connection = tokio::task::spawn_blocking(move || {
        connection::retrying_while_busy(|| {
            let mut connection = connection::open_writer(&writer_path)?;
            migrate::apply(&mut connection)?;
            Ok(connection)
        })
    })
    .await
    .map_err(|e| StoreError::backend("opening the SQLite database", e))??;
    let readers = Arc::new(readers::Readers::new(path, options.read_connections));
    let engine = SqliteEngine {
        writer: Arc::new(writer::Writer::start(connection, options.commit_delay)?),
        readers,
    };
    Ok(SqlStore::new(engine))
}

/// Writes a consistent copy of the database at `source` to `destination`
/// while a server keeps serving (`VACUUM INTO` reads one snapshot). The
/// destination must not exist.
pub async fn backup(source: &Path, destination: &Path) -> Result<(), BackupError> {
    if destination.exists() {
        return Err(BackupError::DestinationExists(
            destination.display().to_string(),
        ));
    }
    let source = source.to_path_buf();
    let destination = destination.to_string_lossy().into_owned();
    tokio::task::spawn_blocking(move || {
        let connection = connection::open_writer(&source)?;
        connection
            .execute("VACUUM INTO ?1", [destination])
            .map_err(|e| executor::sql_error(e).into_store())?;
        Ok(())
    })
    .await
    .map_err(|e| BackupError::Store(StoreError::backend("the backup task failed", e)))?
    .map_err(BackupError::Store)
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; choose a new file")]
    DestinationExists(String),
    #[error(transparent)]
    Store(StoreError),
}
