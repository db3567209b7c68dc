//! Identity sequences after an import: they only ever move forward, so an
//! id another instance has taken (not yet committed) is never handed out
//! again.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use connecticket_domain::store::{AuthStore, TransferStore};
use connecticket_store::testing::TestDatabase;
use sqlx::{Connection, PgConnection, Row};

mod support;

async fn next_chain_id(conn: &mut PgConnection) -> i64 {
    sqlx::query("SELECT nextval(pg_get_serial_sequence('audit_chains', 'id')) AS id")
        .fetch_one(conn)
        .await
        .expect("nextval")
        .get("id")
}

#[tokio::test]
async fn an_import_never_moves_a_sequence_below_an_id_another_instance_took() {
    let Some(database) = TestDatabase::postgres_unmigrated().await else {
        return;
    };
    let store = support::open_one_lane(&database.url).await;
    // A first write: the lane makes its audit chain (the table's largest id).
    store
        .claim_auth_attempt(vec!["first-write".to_owned()], 0)
        .await
        .expect("write");
    // Another instance takes the next chain id and has not committed yet.
    let mut other = PgConnection::connect(&database.url).await.expect("connect");
    let taken = next_chain_id(&mut other).await;
    // An import (here of nothing) advances every identity past its rows.
    store
        .import(Box::pin(futures::stream::empty()))
        .await
        .expect("import");
    let next = next_chain_id(&mut other).await;
    assert!(
        next > taken,
        "id {taken} would be handed out again (next is {next})"
    );
}
