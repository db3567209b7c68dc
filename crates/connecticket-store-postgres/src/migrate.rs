//! Versioned migrations, mirrored version for version with the SQLite
//! backend, applied at start under an advisory lock: when several instances
//! start at once, one migrates and the others wait, then find nothing to do.

use sha2::{Digest, Sha256};
use sqlx::{Connection, PgPool, Row};

use crate::{internal, Result};
use connecticket_domain::StoreError;

pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "audit_and_throttling",
        include_str!("../migrations/0002_audit_and_throttling.sql"),
    ),
];

/// An arbitrary constant naming Connecticket's migration lock.
const MIGRATION_LOCK: i64 = 0x00c0_11ec_71c4_e700;

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

pub(crate) async fn apply(pool: &PgPool) -> Result<()> {
    let mut conn = pool.acquire().await.map_err(internal)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(internal)?;
    let outcome = apply_locked(&mut conn).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(internal);
    outcome.and(unlocked.map(|_| ()))
}

async fn apply_locked(conn: &mut sqlx::PgConnection) -> Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT   NOT NULL,
             checksum   TEXT   NOT NULL,
             applied_at BIGINT NOT NULL
         )",
    )
    .execute(&mut *conn)
    .await
    .map_err(internal)?;
    let newest_known = MIGRATIONS.last().map_or(0, |(version, _, _)| *version);
    let newest_applied: Option<i64> = sqlx::query("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(internal)?;
    if newest_applied.unwrap_or(0) > newest_known {
        return Err(StoreError::Internal(format!(
            "the database is at schema version {}, newer than this binary knows ({newest_known}); upgrade connecticket",
            newest_applied.unwrap_or(0)
        )));
    }
    for (version, name, sql) in MIGRATIONS {
        let applied: Option<String> =
            sqlx::query("SELECT checksum FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *conn)
                .await
                .and_then(|row| row.map(|row| row.try_get(0)).transpose())
                .map_err(internal)?;
        match applied {
            Some(stored) if stored == checksum(sql) => continue,
            Some(_) => {
                return Err(StoreError::Internal(format!(
                    "migration {version} ({name}) was changed after it was applied"
                )))
            }
            None => {}
        }
        let mut tx = conn.begin().await.map_err(internal)?;
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at)
             VALUES ($1, $2, $3, EXTRACT(EPOCH FROM now())::BIGINT)",
        )
        .bind(version)
        .bind(name)
        .bind(checksum(sql))
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(
            migration.version = version,
            migration.name = name,
            "applied migration"
        );
    }
    Ok(())
}
