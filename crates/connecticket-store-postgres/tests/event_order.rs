//! An event's id is its cursor, and PostgreSQL's writers commit out of id
//! order: the sequencer must never publish past an id whose writer is
//! still open, or a client following the feed would step over that event
//! for good once it commits.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use chrono::Utc;
use connecticket_domain::model::ProviderId;
use connecticket_domain::store::EventStore;
use connecticket_store::testing::TestDatabase;
use connecticket_store_postgres::PostgresStore;
use sqlx::{Connection, PgConnection, Row};

mod support;

const PROVIDER: i64 = 1;

/// A store on a fresh database with one provider, and a connection of the
/// test's own to it.
async fn provider_store() -> Option<(TestDatabase, PostgresStore, PgConnection)> {
    let database = support::migrated_database().await?;
    let store = connecticket_store_postgres::open(&database.url, Default::default())
        .await
        .expect("open");
    let mut conn = PgConnection::connect(&database.url).await.expect("connect");
    sqlx::query(
        "INSERT INTO providers (id, name, time_zone, created_at) VALUES ($1, 'Care', 'UTC', 0)",
    )
    .bind(PROVIDER)
    .execute(&mut conn)
    .await
    .expect("provider");
    Some((database, store, conn))
}

async fn write_event(conn: &mut PgConnection) -> i64 {
    sqlx::query(
        "INSERT INTO events (provider_id, kind, ticket_id, status, occurred_at)
         VALUES ($1, 'ticket.created', 1, 'New', 0) RETURNING id",
    )
    .bind(PROVIDER)
    .fetch_one(conn)
    .await
    .expect("event")
    .get(0)
}

/// Follows the feed from `after` as a client would: every event once.
async fn follow(store: &dyn EventStore, after: &mut i64, seen: &mut Vec<i64>) {
    let page = store
        .event_feed(ProviderId(PROVIDER), *after, 100)
        .await
        .expect("feed");
    seen.extend(page.events.iter().map(|event| event.cursor));
    *after = page.last_cursor.max(*after);
}

#[tokio::test]
async fn a_client_following_the_feed_sees_an_event_whose_write_committed_after_a_later_one() {
    let Some((database, store, mut setup)) = provider_store().await else {
        return;
    };

    // The slow write takes the lower id and stays open; a quicker one
    // takes the next and commits.
    let mut slow = PgConnection::connect(&database.url).await.expect("connect");
    sqlx::query("BEGIN")
        .execute(&mut slow)
        .await
        .expect("begin");
    let early = write_event(&mut slow).await;
    let late = write_event(&mut setup).await;
    assert!(early < late);

    let (mut after, mut seen) = (0, Vec::new());
    let published = store
        .sequence_events(100, Utc::now())
        .await
        .expect("sequence");
    assert_eq!(published, 0, "nothing is published past an open write");
    follow(&store, &mut after, &mut seen).await;
    assert!(seen.is_empty(), "{seen:?}");

    sqlx::query("COMMIT")
        .execute(&mut slow)
        .await
        .expect("commit");
    let published = store
        .sequence_events(100, Utc::now())
        .await
        .expect("sequence");
    assert_eq!(published, 2);
    follow(&store, &mut after, &mut seen).await;
    assert_eq!(seen, [early, late], "both, in cursor order");
}

#[tokio::test]
async fn a_write_that_rolls_back_leaves_a_gap_the_feed_steps_over() {
    let Some((_database, store, mut conn)) = provider_store().await else {
        return;
    };
    sqlx::query("BEGIN")
        .execute(&mut conn)
        .await
        .expect("begin");
    let undone = write_event(&mut conn).await;
    sqlx::query("ROLLBACK")
        .execute(&mut conn)
        .await
        .expect("rollback");
    let kept = write_event(&mut conn).await;
    assert_eq!(
        store
            .sequence_events(100, Utc::now())
            .await
            .expect("sequence"),
        1
    );
    let (mut after, mut seen) = (0, Vec::new());
    follow(&store, &mut after, &mut seen).await;
    assert_eq!(seen, [kept]);
    assert!(undone < kept && after == kept);
}

#[tokio::test]
async fn an_event_id_is_taken_after_its_writer_has_a_transaction_id() {
    let Some(database) = support::migrated_database().await else {
        return;
    };
    let mut conn = PgConnection::connect(&database.url).await.expect("connect");
    let default: String = sqlx::query(
        "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef
         WHERE adrelid = 'events'::regclass
           AND adnum = (SELECT attnum FROM pg_attribute
                        WHERE attrelid = 'events'::regclass AND attname = 'id')",
    )
    .fetch_one(&mut conn)
    .await
    .expect("default")
    .get(0);
    assert_eq!(default, "next_event_id()");
    sqlx::query("BEGIN")
        .execute(&mut conn)
        .await
        .expect("begin");
    let before = assigned_transaction_id(&mut conn).await;
    assert_eq!(before, None, "a fresh transaction has none");
    sqlx::query("SELECT next_event_id()")
        .execute(&mut conn)
        .await
        .expect("id");
    let after = assigned_transaction_id(&mut conn).await;
    assert!(
        after.is_some(),
        "taking an id gave the writer its transaction id"
    );
}

async fn assigned_transaction_id(conn: &mut PgConnection) -> Option<i64> {
    sqlx::query("SELECT CAST(CAST(pg_current_xact_id_if_assigned() AS TEXT) AS BIGINT)")
        .fetch_one(conn)
        .await
        .expect("transaction id")
        .get(0)
}
