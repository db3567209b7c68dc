//! What the PostgreSQL engine's tests share.

// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use connecticket_store::testing::{PostgresTemplate, TestDatabase};
use connecticket_store_postgres::{PostgresOptions, PostgresStore};

/// A store on `url` (migrated on opening) with one write lane, so that
/// writes queued together share one batch.
pub async fn open_one_lane(url: &str) -> PostgresStore {
    let options = PostgresOptions {
        write_lanes: 1,
        ..PostgresOptions::default()
    };
    connecticket_store_postgres::open(url, options)
        .await
        .unwrap_or_else(|error| panic!("open the PostgreSQL store with one write lane: {error}"))
}

/// A fresh database cloned from the migrated template; `None` when
/// PostgreSQL is not there.
pub async fn migrated_database() -> Option<TestDatabase> {
    TestDatabase::postgres(PostgresTemplate {
        digest: connecticket_store_postgres::schema_digest(),
        migrate: |url: String| async move { connecticket_store_postgres::migrate(&url).await },
    })
    .await
}
