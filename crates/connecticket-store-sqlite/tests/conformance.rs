//! The store conformance suite on SQLite.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use connecticket_domain::store::Store;
use connecticket_store::testing::conformance::Fixture;
use connecticket_store::testing::TestDatabase;
use connecticket_store_sqlite::{SqliteOptions, SqliteStore};

async fn store(url: String) -> Arc<dyn Store> {
    let path = url.trim_start_matches("sqlite://").to_owned();
    let store = connecticket_store_sqlite::open(&path, SqliteOptions::default())
        .await
        .expect("open the SQLite store");
    Arc::new(store)
}

async fn open() -> Option<Fixture> {
    let database = TestDatabase::sqlite();
    let opened = store(database.url.clone()).await;
    Some(Fixture::new(
        opened,
        database,
        Box::new(|url| Box::pin(store(url))),
    ))
}

connecticket_store::conformance_suite!(open);

/// The store itself, for the engine-level cases.
async fn open_engine() -> Option<(TestDatabase, SqliteStore)> {
    let database = TestDatabase::sqlite();
    let path = database.url.trim_start_matches("sqlite://").to_owned();
    let store = connecticket_store_sqlite::open(&path, SqliteOptions::default())
        .await
        .expect("open the SQLite store");
    Some((database, store))
}

connecticket_store::engine_conformance_suite!(open_engine);
