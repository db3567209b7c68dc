//! Versioned migrations, mirrored version for version with the SQLite
//! engine, run by sqlx's migrator: checksummed, each in a transaction, and
//! under an advisory lock, so that of several instances starting at once
//! one migrates and the others wait, then find nothing to do.
//!
//! Databases created before the switch to sqlx's migrator recorded their
//! migrations in `schema_migrations` (SHA-256 checksums). On first start
//! they are adopted: each recorded migration is checked against the
//! embedded one and entered in sqlx's table, and the old table is renamed
//! `legacy_schema_migrations`.

use std::borrow::Cow;

use sha2::{Digest, Sha256};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{PgConnection, PgPool, Row};

use connecticket_domain::StoreError;

use crate::executor::sql_error;

/// `(version, name, sql)`, in order.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "audit_and_throttling",
        include_str!("../migrations/0002_audit_and_throttling.sql"),
    ),
    (
        3,
        "audit_chains",
        include_str!("../migrations/0003_audit_chains.sql"),
    ),
    (
        4,
        "notifications",
        include_str!("../migrations/0004_notifications.sql"),
    ),
    (
        5,
        "notification_templates",
        include_str!("../migrations/0005_notification_templates.sql"),
    ),
    (
        6,
        "acknowledgments",
        include_str!("../migrations/0006_acknowledgments.sql"),
    ),
    (7, "console", include_str!("../migrations/0007_console.sql")),
    (
        8,
        "abuse_resistance",
        include_str!("../migrations/0008_abuse_resistance.sql"),
    ),
    (
        9,
        "one_administration",
        include_str!("../migrations/0009_one_administration.sql"),
    ),
    (
        10,
        "night_console",
        include_str!("../migrations/0010_night_console.sql"),
    ),
    (11, "events", include_str!("../migrations/0011_events.sql")),
    (12, "fhir", include_str!("../migrations/0012_fhir.sql")),
    (
        13,
        "event_cursors",
        include_str!("../migrations/0013_event_cursors.sql"),
    ),
];

/// Names the lock held while adopting a database from the old migrator.
const ADOPTION_LOCK: i64 = 0x00c0_11ec_71c4_e700;

fn migrator() -> Migrator {
    let migrations: Vec<Migration> = MIGRATIONS
        .iter()
        .map(|(version, name, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*name),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

/// A digest of every migration, naming a schema version (test templates
/// are keyed by it).
pub fn schema_digest() -> String {
    let mut digest = Sha256::new();
    for (version, name, sql) in MIGRATIONS {
        digest.update(format!("{version}:{name}:").as_bytes());
        digest.update(sql.as_bytes());
    }
    hex::encode(&digest.finalize()[..8])
}

fn failed(context: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |error| StoreError::backend(context, sql_error(error))
}

pub(crate) async fn apply(pool: &PgPool) -> Result<(), StoreError> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(failed("connecting to migrate"))?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(ADOPTION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(failed("locking to migrate"))?;
    let adopted = adopt_legacy(&mut conn).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(ADOPTION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(failed("unlocking after migrating"));
    adopted?;
    unlocked?;
    drop(conn);
    // Run on the pool (sqlx takes its own advisory lock): borrowing a
    // connection here would make the future not Send.
    migrator().run(pool).await.map_err(|error| match error {
        sqlx::migrate::MigrateError::VersionMissing(version) => StoreError::Corrupt(format!(
            "the database is at schema version {version}, which this binary does not know; upgrade connecticket"
        )),
        sqlx::migrate::MigrateError::VersionMismatch(version) => StoreError::Corrupt(format!(
            "migration {version} was changed after it was applied"
        )),
        other => StoreError::backend("migrating the database", other),
    })
}

fn sha256_hex(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Enters the migrations the old migrator recorded into sqlx's table.
async fn adopt_legacy(conn: &mut PgConnection) -> Result<(), StoreError> {
    let legacy: bool = sqlx::query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(failed("looking for an older migration record"))?;
    if !legacy {
        return Ok(());
    }
    let recorded = sqlx::query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *conn)
        .await
        .map_err(failed("reading the older migration record"))?;
    let mut tx = sqlx::Connection::begin(&mut *conn)
        .await
        .map_err(failed("adopting the older migration record"))?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
             version BIGINT PRIMARY KEY,
             description TEXT NOT NULL,
             installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
             success BOOLEAN NOT NULL,
             checksum BYTEA NOT NULL,
             execution_time BIGINT NOT NULL
         )",
    )
    .execute(&mut *tx)
    .await
    .map_err(failed("creating sqlx's migration table"))?;
    let migrator = migrator();
    for row in recorded {
        let version: i64 = row.try_get(0).map_err(failed("reading a migration"))?;
        let checksum: String = row.try_get(1).map_err(failed("reading a migration"))?;
        let Some((_, _, sql)) = MIGRATIONS.iter().find(|(v, _, _)| *v == version) else {
            return Err(StoreError::Corrupt(format!(
                "the database is at schema version {version}, which this binary does not know; upgrade connecticket"
            )));
        };
        if sha256_hex(sql) != checksum {
            return Err(StoreError::Corrupt(format!(
                "migration {version} was changed after it was applied"
            )));
        }
        let Some(migration) = migrator.iter().find(|m| m.version == version) else {
            continue;
        };
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES ($1, $2, TRUE, $3, 0) ON CONFLICT (version) DO NOTHING",
        )
        .bind(version)
        .bind(migration.description.as_ref())
        .bind(migration.checksum.as_ref())
        .execute(&mut *tx)
        .await
        .map_err(failed("recording an adopted migration"))?;
    }
    sqlx::query("ALTER TABLE schema_migrations RENAME TO legacy_schema_migrations")
        .execute(&mut *tx)
        .await
        .map_err(failed("retiring the older migration record"))?;
    tx.commit()
        .await
        .map_err(failed("adopting the older migration record"))?;
    tracing::info!("adopted the migration record of an older connecticket");
    Ok(())
}
