//! Migrations through sqlx's migrator, and the adoption of databases that
//! an older connecticket migrated with its own `schema_migrations` table.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use connecticket_store::testing::{old_data, TestDatabase};
use connecticket_store_postgres::{PostgresOptions, MIGRATIONS};
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, Row};

/// Migrates `url` the way connecticket did before sqlx's migrator: every
/// migration applied, each recorded with its SHA-256 in `schema_migrations`.
async fn migrate_the_old_way(url: &str, tamper_with: Option<i64>) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL,
             checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut conn)
    .await
    .expect("old table");
    for (version, name, sql) in MIGRATIONS {
        sqlx::raw_sql(sql).execute(&mut conn).await.expect("apply");
        let mut checksum = hex::encode(Sha256::digest(sql.as_bytes()));
        if tamper_with == Some(*version) {
            checksum = "0".repeat(64);
        }
        sqlx::query("INSERT INTO schema_migrations VALUES ($1, $2, $3, 0)")
            .bind(version)
            .bind(name)
            .bind(checksum)
            .execute(&mut conn)
            .await
            .expect("record");
    }
    sqlx::query(
        "INSERT INTO providers (id, name, time_zone, created_at) VALUES (7, 'Kept', 'UTC', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("data");
}

#[tokio::test]
async fn a_database_migrated_by_the_old_migrator_is_adopted() {
    let Some(database) = TestDatabase::postgres_unmigrated().await else {
        return;
    };
    migrate_the_old_way(&database.url, None).await;
    connecticket_store_postgres::open(&database.url, PostgresOptions::default())
        .await
        .expect("the old database opens");
    // And again: adoption happens once.
    let store = connecticket_store_postgres::open(&database.url, PostgresOptions::default())
        .await
        .expect("opens again");
    let mut conn = PgConnection::connect(&database.url).await.expect("connect");
    let versions: Vec<i64> =
        sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .expect("sqlx's record")
            .iter()
            .map(|row| row.get(0))
            .collect();
    let known: Vec<i64> = MIGRATIONS.iter().map(|(v, _, _)| *v).collect();
    assert_eq!(versions, known);
    let legacy: bool = sqlx::query("SELECT to_regclass('legacy_schema_migrations') IS NOT NULL")
        .fetch_one(&mut conn)
        .await
        .expect("legacy")
        .get(0);
    assert!(legacy, "the old record is kept, renamed");
    use connecticket_domain::store::OperatorStore;
    let kept = store
        .provider(connecticket_domain::model::ProviderId(7))
        .await
        .expect("read");
    assert_eq!(kept.map(|p| p.name).as_deref(), Some("Kept"));
}

#[tokio::test]
async fn an_old_record_that_does_not_match_the_migrations_is_refused() {
    let Some(database) = TestDatabase::postgres_unmigrated().await else {
        return;
    };
    migrate_the_old_way(&database.url, Some(1)).await;
    let refused =
        connecticket_store_postgres::open(&database.url, PostgresOptions::default()).await;
    let message = refused.expect_err("refused").to_string();
    assert!(message.contains("migration 1 was changed"), "{message}");
}

#[tokio::test]
async fn a_fresh_database_is_migrated_and_recorded_by_sqlx() {
    let Some(database) = TestDatabase::postgres_unmigrated().await else {
        return;
    };
    connecticket_store_postgres::open(&database.url, PostgresOptions::default())
        .await
        .expect("migrates");
    let mut conn = PgConnection::connect(&database.url).await.expect("connect");
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .expect("count")
        .get(0);
    assert_eq!(count, MIGRATIONS.len() as i64);
    let old: bool = sqlx::query("SELECT to_regclass('schema_migrations') IS NULL")
        .fetch_one(&mut conn)
        .await
        .expect("old table")
        .get(0);
    assert!(old, "no old-style record on a new database");
}

#[tokio::test]
async fn events_keep_the_cursors_clients_have_seen_when_ids_become_cursors() {
    let Some(database) = TestDatabase::postgres_unmigrated().await else {
        return;
    };
    let mut conn = PgConnection::connect(&database.url).await.expect("connect");
    let (last, earlier) = MIGRATIONS.split_last().expect("migrations");
    assert_eq!(last.1, "event_cursors");
    for (_, _, sql) in earlier {
        sqlx::raw_sql(sql).execute(&mut conn).await.expect("apply");
    }
    // Deliveries without endpoints: what is checked is where they point.
    sqlx::raw_sql("SET session_replication_role = replica")
        .execute(&mut conn)
        .await
        .expect("checks off");
    sqlx::raw_sql(old_data::EVENTS_BEFORE_CURSOR_IDS)
        .execute(&mut conn)
        .await
        .expect("old events");
    sqlx::raw_sql(last.2)
        .execute(&mut conn)
        .await
        .expect("migrate");

    let events: Vec<(i64, i64)> = sqlx::query("SELECT id, ticket_id FROM events ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .expect("events")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(events, old_data::EVENTS_WITH_CURSOR_IDS);
    let deliveries: Vec<(i64, i64, String)> = sqlx::query(
        "SELECT endpoint_id, event_id, state FROM webhook_deliveries ORDER BY endpoint_id, event_id",
    )
    .fetch_all(&mut conn)
    .await
    .expect("deliveries")
    .iter()
    .map(|row| (row.get(0), row.get(1), row.get(2)))
    .collect();
    let expected: Vec<(i64, i64, String)> = old_data::DELIVERIES_WITH_CURSOR_IDS
        .iter()
        .map(|(endpoint, event, state)| (*endpoint, *event, (*state).to_owned()))
        .collect();
    assert_eq!(deliveries, expected);
    let published: i64 = sqlx::query("SELECT last_cursor FROM event_log")
        .fetch_one(&mut conn)
        .await
        .expect("log")
        .get(0);
    assert_eq!(
        published, 3,
        "the waiting two are the sequencer's to publish"
    );
    let next: i64 = sqlx::query(
        "INSERT INTO events (provider_id, kind, occurred_at) VALUES (7, 'ticket.created', 0)
         RETURNING id",
    )
    .fetch_one(&mut conn)
    .await
    .expect("new event")
    .get(0);
    assert_eq!(next, 6, "new ids continue above every cursor");
}
