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

mod engine;
mod executor;
mod lanes;
mod migrate;

use std::time::Duration;

use connecticket_domain::StoreError;
use connecticket_store::SqlStore;
use sqlx::postgres::PgPoolOptions;

pub use engine::PgEngine;
pub use migrate::{schema_digest, MIGRATIONS};

/// The storage interface on a PostgreSQL database.
pub type PostgresStore = SqlStore<PgEngine>;

#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections this instance keeps at most. Several instances share the
    /// server's `max_connections`. The write lanes hold one each; reads
    /// share the rest.
    pub pool_size: u32,
    /// Write lanes: each commits a group of writes at a time on a
    /// connection and audit chain of its own.
    pub write_lanes: usize,
    pub acquire_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 10,
            write_lanes: 4,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// Connects, then applies pending migrations (one instance at a time).
pub async fn open(url: &str, options: PostgresOptions) -> Result<PostgresStore, StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(options.pool_size.max(1))
        .acquire_timeout(options.acquire_timeout)
        .connect(url)
        .await
        .map_err(|error| {
            StoreError::backend("connecting to PostgreSQL", executor::sql_error(error))
        })?;
    migrate::apply(&pool).await?;
    // Reads keep at least half of the pool.
    let lanes = options
        .write_lanes
        .clamp(1, (options.pool_size.max(2) / 2) as usize);
    let engine = PgEngine {
        lanes: std::sync::Arc::new(lanes::Lanes::start(pool.clone(), lanes)),
        pool,
    };
    Ok(SqlStore::new(engine))
}

/// Applies pending migrations to the database at `url` and disconnects
/// (test templates are made this way).
pub async fn migrate(url: &str) -> Result<(), StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .map_err(|error| {
            StoreError::backend("connecting to PostgreSQL", executor::sql_error(error))
        })?;
    let outcome = migrate::apply(&pool).await;
    pool.close().await;
    outcome
}
