//! Versioned migrations, embedded in the binary and applied at start.
//!
//! History is append-only: a migration once released is never edited (its
//! checksum is checked), and a database migrated by a newer binary is refused
//! rather than misread.

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::executor::sql_error;
use connecticket_domain::StoreError;

type Result<T> = std::result::Result<T, StoreError>;

fn internal(error: rusqlite::Error) -> StoreError {
    sql_error(error).into_store()
}

/// `(version, name, sql)`, in order. Mirrored by the PostgreSQL backend's
/// migrations, version for version.
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

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

pub(crate) fn apply(connection: &mut Connection) -> Result<()> {
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 name       TEXT    NOT NULL,
                 checksum   TEXT    NOT NULL,
                 applied_at INTEGER NOT NULL
             );",
        )
        .map_err(internal)?;
    let newest_known = MIGRATIONS.last().map_or(0, |(version, _, _)| *version);
    let newest_applied: Option<i64> = connection
        .query_row("SELECT MAX(version) FROM schema_migrations", [], |row| {
            row.get(0)
        })
        .map_err(internal)?;
    if newest_applied.unwrap_or(0) > newest_known {
        return Err(StoreError::Corrupt(format!(
            "the database is at schema version {}, newer than this binary knows ({newest_known}); upgrade connecticket",
            newest_applied.unwrap_or(0)
        )));
    }
    for (version, name, sql) in MIGRATIONS {
        let transaction = connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(internal)?;
        let applied: Option<String> = transaction
            .query_row(
                "SELECT checksum FROM schema_migrations WHERE version = ?1",
                [version],
                |row| row.get(0),
            )
            .optional()
            .map_err(internal)?;
        match applied {
            Some(stored) if stored == checksum(sql) => continue,
            Some(_) => {
                return Err(StoreError::Corrupt(format!(
                    "migration {version} ({name}) was changed after it was applied"
                )))
            }
            None => {}
        }
        transaction.execute_batch(sql).map_err(internal)?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at)
                 VALUES (?1, ?2, ?3, strftime('%s', 'now'))",
                params![version, name, checksum(sql)],
            )
            .map_err(internal)?;
        transaction.commit().map_err(internal)?;
        tracing::info!(
            migration.version = version,
            migration.name = name,
            "applied migration"
        );
    }
    Ok(())
}
