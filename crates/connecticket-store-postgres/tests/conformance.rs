//! The store conformance suite on PostgreSQL (skipped, with a message,
//! when `CONNECTICKET_TEST_POSTGRES_URL` does not answer).

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use connecticket_domain::store::Store;
use connecticket_store::testing::conformance::Fixture;
use connecticket_store::testing::{PostgresTemplate, TestDatabase};
use connecticket_store_postgres::PostgresOptions;

/// A fresh, migrated database; `None` when PostgreSQL is not there.
async fn database() -> Option<TestDatabase> {
    TestDatabase::postgres(PostgresTemplate {
        digest: connecticket_store_postgres::schema_digest(),
        migrate: |url: String| async move { connecticket_store_postgres::migrate(&url).await },
    })
    .await
}

async fn open() -> Option<Fixture> {
    let database = database().await?;
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

#[tokio::test]
async fn a_write_undone_after_it_appended_leaves_its_chain_whole() {
    let Some(database) = database().await else {
        return;
    };
    // One write lane: the failed write and the next run on one chain.
    let options = PostgresOptions {
        write_lanes: 1,
        ..PostgresOptions::default()
    };
    let store = connecticket_store_postgres::open(&database.url, options)
        .await
        .expect("open the PostgreSQL store");
    connecticket_store::testing::conformance::a_write_undone_after_it_appended_leaves_its_chain_whole(&store).await;
}

#[tokio::test]
async fn an_append_onto_a_moved_anchor_writes_nothing() {
    let Some(database) = database().await else {
        return;
    };
    let store = connecticket_store_postgres::open(&database.url, PostgresOptions::default())
        .await
        .expect("open the PostgreSQL store");
    connecticket_store::testing::conformance::an_append_onto_a_moved_anchor_writes_nothing(&store)
        .await;
}

#[tokio::test]
async fn a_failed_job_undoes_only_its_own_writes_in_a_shared_batch() {
    let Some(database) = database().await else {
        return;
    };
    // One write lane: the jobs queue up for the same batch.
    let options = PostgresOptions {
        write_lanes: 1,
        ..PostgresOptions::default()
    };
    let store = connecticket_store_postgres::open(&database.url, options)
        .await
        .expect("open the PostgreSQL store");
    connecticket_store::testing::conformance::a_failed_job_undoes_only_its_own_writes_in_a_shared_batch(&store).await;
}
