//! Connecticket on PostgreSQL: for deployments that outgrow one machine,
//! with several stateless `connecticket` instances on one database.
//!
//! Design: every job of the storage layer is one transaction on a pooled
//! connection ([`engine`]); PostgreSQL's row locks and unique constraints,
//! not process-local state, keep concurrent instances correct
//! (`update_status` locks the ticket row; an `Idempotency-Key` is claimed
//! by inserting its row first, so a racing retry on another instance waits
//! for the first and then replays it). The SQL itself lives in
//! `connecticket-store`; this crate runs it.

mod connector;
mod engine;
mod executor;
mod lanes;
mod migrate;
mod read_pool;

use std::sync::Arc;
use std::time::Duration;

use connecticket_domain::StoreError;
use connecticket_store::SqlStore;
use sqlx::postgres::PgPoolOptions;

use crate::connector::Connector;

pub use engine::PgEngine;

/// The `tracing` target under which every statement's text (never its
/// arguments) is emitted at `TRACE`: `RUST_LOG=connecticket::sql=trace`
/// shows what each call sends PostgreSQL.
pub const STATEMENTS: &str = "connecticket::sql";
pub use migrate::{schema_digest, MIGRATIONS};

/// The storage interface on a PostgreSQL database.
pub type PostgresStore = SqlStore<PgEngine>;

#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections this instance keeps at most (at least 3). Several
    /// instances share the server's `max_connections`. The write lanes and
    /// the audit lane hold one each; reads share the rest.
    pub pool_size: u32,
    /// Write lanes: each commits a group of writes at a time on a
    /// connection and audit chain of its own.
    pub write_lanes: usize,
    /// How long a caller waits for a connection, and a connection attempt
    /// for each host: under the request timeout, so that a database that
    /// does not answer is a 503 rather than a hung request.
    pub acquire_timeout: Duration,
    /// A read connection that sat idle longer than this is checked before
    /// it is lent (PgBouncer's `server_check_delay`): that is when the
    /// database may have gone away without anyone noticing.
    pub check_idle_after: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 10,
            write_lanes: 4,
            acquire_timeout: Duration::from_secs(10),
            check_idle_after: Duration::from_secs(1),
        }
    }
}

/// Connects, then applies pending migrations (one instance at a time).
pub async fn open(url: &str, options: PostgresOptions) -> Result<PostgresStore, StoreError> {
    let connector = Arc::new(Connector::parse(url, options.acquire_timeout)?);
    migrate_on(&connector).await?;
    // The write lanes and the audit lane hold one connection each for as
    // long as they run; reads keep at least half of the rest.
    let size = options.pool_size.max(3);
    let lanes = options.write_lanes.clamp(1, ((size - 1) / 2) as usize) as u32;
    let readers = read_pool::ReadPool::new(
        Arc::clone(&connector),
        size - lanes - 1,
        options.acquire_timeout,
        options.check_idle_after,
    );
    let engine = PgEngine {
        lanes: Arc::new(lanes::Lanes::start(connector, lanes as usize)),
        readers: Arc::new(readers),
    };
    Ok(SqlStore::new(engine))
}

/// Applies pending migrations to the database at `url` and disconnects
/// (test templates are made this way).
pub async fn migrate(url: &str) -> Result<(), StoreError> {
    migrate_on(&Connector::parse(
        url,
        PostgresOptions::default().acquire_timeout,
    )?)
    .await
}

/// Migrates on the primary: the connector finds it, and a pool of one
/// connection to it runs the migrator (whose future, on a borrowed
/// connection, would not be `Send`).
async fn migrate_on(connector: &Connector) -> Result<(), StoreError> {
    let found = connector.connect().await?;
    let _ = sqlx::Connection::close(found).await;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(connector.current_options())
        .await
        .map_err(|error| executor::sql_error(error).into_store())?;
    let outcome = migrate::apply(&pool).await;
    pool.close().await;
    outcome
}
