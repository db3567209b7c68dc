//! The connections for reads are lent without a ping: these tests show
//! what that must not cost. A connection the database dropped while it sat
//! idle is found out before a read is given it, and the pool never opens
//! more connections than it was allowed.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use connecticket_domain::model::{ProviderId, TicketId};
use connecticket_domain::store::TicketStore;
use connecticket_store::testing::TestDatabase;
use connecticket_store_postgres::PostgresOptions;
use sqlx::{Connection, PgConnection, Row};

/// Backends connected to the test database, besides `admin` itself.
async fn backends(admin: &mut PgConnection) -> i64 {
    sqlx::query(
        "SELECT count(*) AS backends FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_one(admin)
    .await
    .expect("pg_stat_activity")
    .get("backends")
}

#[tokio::test]
async fn a_read_after_the_database_dropped_its_idle_connection_succeeds() {
    let Some(database) = TestDatabase::postgres_unmigrated().await else {
        return;
    };
    // Every idle connection is checked before it is lent, so that no test
    // has to wait out the delay to see the check happen.
    let options = PostgresOptions {
        check_idle_after: Duration::ZERO,
        ..PostgresOptions::default()
    };
    let store = connecticket_store_postgres::open(&database.url, options)
        .await
        .expect("open");
    // A read leaves its connection idle in the pool.
    let before = store
        .ticket_detail(ProviderId(1), TicketId(1))
        .await
        .expect("first read");
    assert!(before.is_none());

    // The database goes away under it (as in a restart) ...
    let mut admin = PgConnection::connect(&database.url).await.expect("connect");
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .await
    .expect("terminate");
    admin.close().await.expect("disconnect");
    connecticket_store::testing::eventually("the backends to end", || async {
        let mut admin = PgConnection::connect(&database.url).await.expect("connect");
        (backends(&mut admin).await == 0).then_some(())
    })
    .await;
    // ... and the next read is not handed the dead one.
    for _ in 0..3 {
        let after = store
            .categories(ProviderId(1))
            .await
            .expect("a read after the restart");
        assert!(after.is_empty());
    }
}

#[tokio::test]
async fn concurrent_reads_never_open_more_connections_than_allowed() {
    let Some(database) = TestDatabase::postgres_unmigrated().await else {
        return;
    };
    // Five connections: one write lane, the audit lane, three for reads.
    let options = PostgresOptions {
        pool_size: 5,
        write_lanes: 1,
        ..PostgresOptions::default()
    };
    let store = Arc::new(
        connecticket_store_postgres::open(&database.url, options)
            .await
            .expect("open"),
    );
    let mut reads = Vec::new();
    for n in 0..64 {
        let store = Arc::clone(&store);
        reads.push(tokio::spawn(async move {
            if n % 2 == 0 {
                store
                    .ticket_detail(ProviderId(1), TicketId(n))
                    .await
                    .map(|_| ())
            } else {
                store.categories(ProviderId(1)).await.map(|_| ())
            }
        }));
    }
    let mut admin = PgConnection::connect(&database.url).await.expect("connect");
    let mut most = 0;
    for read in reads {
        most = most.max(backends(&mut admin).await);
        read.await.expect("task").expect("read");
    }
    most = most.max(backends(&mut admin).await);
    // The lanes connect only when they first write; the pool that serves
    // them keeps the migration's connection.
    assert!(
        most >= 2,
        "the reads ran on connections of their own: {most}"
    );
    assert!(most <= 5, "at most the pool's size, saw {most}");
}
