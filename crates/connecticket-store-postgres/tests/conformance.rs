//! The store conformance suite on PostgreSQL (skipped, with a message,
//! when `CONNECTICKET_TEST_POSTGRES_URL` does not answer).

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use connecticket_store::testing::conformance::Fixture;
use connecticket_store::testing::{PostgresTemplate, TestDatabase};
use connecticket_store_postgres::PostgresOptions;

async fn open() -> Option<Fixture> {
    let database = TestDatabase::postgres(PostgresTemplate {
        digest: connecticket_store_postgres::schema_digest(),
        migrate: |url: String| async move { connecticket_store_postgres::migrate(&url).await },
    })
    .await?;
    let store = connecticket_store_postgres::open(&database.url, PostgresOptions::default())
        .await
        .expect("open the PostgreSQL store");
    Some(Fixture::new(Arc::new(store), database))
}

connecticket_store::conformance_suite!(open);
