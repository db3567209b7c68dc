//! The store conformance suite on SQLite.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use connecticket_domain::store::Store;
use connecticket_store::testing::conformance::Fixture;
use connecticket_store::testing::TestDatabase;
use connecticket_store_sqlite::SqliteOptions;

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

#[tokio::test]
async fn a_write_undone_after_it_appended_leaves_its_chain_whole() {
    let database = TestDatabase::sqlite();
    let path = database.url.trim_start_matches("sqlite://").to_owned();
    let store = connecticket_store_sqlite::open(&path, SqliteOptions::default())
        .await
        .expect("open the SQLite store");
    connecticket_store::testing::conformance::a_write_undone_after_it_appended_leaves_its_chain_whole(&store).await;
}

#[tokio::test]
async fn an_append_onto_a_moved_anchor_writes_nothing() {
    let database = TestDatabase::sqlite();
    let path = database.url.trim_start_matches("sqlite://").to_owned();
    let store = connecticket_store_sqlite::open(&path, SqliteOptions::default())
        .await
        .expect("open the SQLite store");
    connecticket_store::testing::conformance::an_append_onto_a_moved_anchor_writes_nothing(&store)
        .await;
}

#[tokio::test]
async fn a_failed_job_undoes_only_its_own_writes_in_a_shared_batch() {
    let database = TestDatabase::sqlite();
    let path = database.url.trim_start_matches("sqlite://").to_owned();
    let store = connecticket_store_sqlite::open(&path, SqliteOptions::default())
        .await
        .expect("open the SQLite store");
    connecticket_store::testing::conformance::a_failed_job_undoes_only_its_own_writes_in_a_shared_batch(&store).await;
}
