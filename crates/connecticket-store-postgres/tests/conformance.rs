//! The store conformance suite on PostgreSQL (skipped, with a message,
//! when `CONNECTICKET_TEST_POSTGRES_URL` does not answer).

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use connecticket_domain::store::Store;
use connecticket_store::testing::conformance::Fixture;
use connecticket_store::testing::TestDatabase;
use connecticket_store_postgres::{PostgresOptions, PostgresStore};

mod support;

async fn open() -> Option<Fixture> {
    let database = support::migrated_database().await?;
    let opened = store(database.url.clone()).await;
    Some(Fixture::new(
        opened,
        database,
        Box::new(|url| Box::pin(store(url))),
    ))
}

async fn store(url: String) -> Arc<dyn Store> {
    let store = connecticket_store_postgres::open(&url, PostgresOptions::default())
        .await
        .expect("open the PostgreSQL store");
    Arc::new(store)
}

connecticket_store::conformance_suite!(open);

/// A store with one write lane, for the engine-level cases.
async fn open_one_lane() -> Option<(TestDatabase, PostgresStore)> {
    let database = support::migrated_database().await?;
    let store = support::open_one_lane(&database.url).await;
    Some((database, store))
}

connecticket_store::engine_conformance_suite!(open_one_lane);
