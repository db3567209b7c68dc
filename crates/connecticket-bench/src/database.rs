//! Fresh databases for the benchmark, filled with the dataset.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use connecticket::database::{self, StoreOptions};
use connecticket_domain::auth::SecretHasher;
use sqlx::Connection;

use crate::dataset::{self, Shape};
use crate::process::BENCH_HASH_KEY;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Creates an empty database named `name` (replacing one left from an
/// earlier run) and answers its URL.
pub async fn create(
    backend: Backend,
    name: &str,
    work_dir: &Path,
    postgres: &str,
) -> anyhow::Result<String> {
    match backend {
        Backend::Sqlite => {
            let path = work_dir.join(format!("{name}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            Ok(format!("sqlite://{}", path.display()))
        }
        Backend::Postgres => {
            let mut admin = sqlx::PgConnection::connect(postgres)
                .await
                .with_context(|| format!("cannot connect to {postgres}"))?;
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
            sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await?;
            Ok(with_database(postgres, name))
        }
    }
}

/// `postgres://…/old?options` with the database replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// Migrates the database at `url` and imports a dataset of `shape`.
pub async fn fill(url: &str, shape: Shape) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = database::open(url, StoreOptions::default()).await?;
    let hasher = SecretHasher::new(BENCH_HASH_KEY);
    let records = dataset::import(store, &hasher, shape).await?;
    println!(
        "# dataset: {} tickets, {} residents, {} attachments ({records} records) imported in {:.1} s",
        shape.tickets,
        shape.residents,
        shape.attachments,
        started.elapsed().as_secs_f64()
    );
    if url.starts_with("postgres") {
        settle_postgres(url).await?;
    }
    Ok(())
}

/// What an operator does after a bulk load (PostgreSQL's "Populating a
/// Database"): statistics for the planner, the visibility map and hint
/// bits set, the load's dirty pages written. Otherwise autovacuum and a
/// checkpoint would run under the first calls measured.
async fn settle_postgres(url: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut conn = sqlx::PgConnection::connect(url).await?;
    // Each on its own: VACUUM refuses to run in a transaction block, which
    // a simple query of several statements is.
    sqlx::raw_sql("VACUUM (ANALYZE)").execute(&mut conn).await?;
    if let Err(error) = sqlx::raw_sql("CHECKPOINT").execute(&mut conn).await {
        println!("# no checkpoint after the load (it needs pg_checkpoint): {error}");
    }
    println!(
        "# vacuumed and analyzed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "b"),
            "postgres://postgres@127.0.0.1:5432/b"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "b"),
            "postgres://u@h/b?sslmode=disable"
        );
    }
}
