//! The audit trail and the authorize-failure counters.

use rusqlite::{params, Connection, Row};

use crate::readers::{feed, Sink};
use crate::{internal, Result};
use connecticket_domain::audit::{Action, AuditAnchor, AuditEntry, AuditRecord, Outcome};
use connecticket_domain::time::{from_epoch, to_epoch};
use connecticket_domain::StoreError;

pub(crate) fn anchor(conn: &Connection) -> Result<AuditAnchor> {
    conn.prepare_cached(
        "SELECT last_id, last_hash, pruned_through_id, pruned_hash FROM audit_anchor WHERE id = 1",
    )
    .and_then(|mut statement| {
        statement.query_row([], |row| {
            Ok(AuditAnchor {
                last_id: row.get(0)?,
                last_hash: row.get(1)?,
                pruned_through_id: row.get(2)?,
                pruned_hash: row.get(3)?,
            })
        })
    })
    .map_err(internal)
}

/// Chains `entry` after the newest one. Runs inside the writer's
/// transaction, which is the only writer, so the chain cannot fork.
pub(crate) fn append(conn: &Connection, entry: AuditEntry) -> Result<()> {
    let head = anchor(conn)?;
    let record = AuditRecord::chain(entry, head.last_id, &head.last_hash);
    insert(conn, &record)?;
    conn.prepare_cached("UPDATE audit_anchor SET last_id = ?1, last_hash = ?2 WHERE id = 1")
        .and_then(|mut statement| statement.execute(params![record.id, record.hash]))
        .map_err(internal)?;
    Ok(())
}

pub(crate) fn insert(conn: &Connection, record: &AuditRecord) -> Result<()> {
    let records = serde_json::to_string(&record.records)
        .map_err(|e| StoreError::Internal(format!("cannot encode audit records: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO audit_log (id, at, request_id, client_addr, provider_id, application_id,
             employee_id, action, outcome, records, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            record.id,
            to_epoch(record.at),
            record.request_id,
            record.client_addr,
            record.provider_id,
            record.application_id,
            record.employee_id,
            record.action.as_str(),
            record.outcome.as_str(),
            records,
            record.prev_hash,
            record.hash
        ])
    })
    .map_err(internal)?;
    Ok(())
}

fn corrupt(at: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        at,
        rusqlite::types::Type::Text,
        what.to_owned().into(),
    )
}

pub(crate) const COLUMNS: &str = "id, at, request_id, client_addr, provider_id, application_id, \
    employee_id, action, outcome, records, prev_hash, hash";

pub(crate) fn record(row: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    let action: String = row.get(7)?;
    let outcome: String = row.get(8)?;
    let records: String = row.get(9)?;
    Ok(AuditRecord {
        id: row.get(0)?,
        at: from_epoch(row.get(1)?),
        request_id: row.get(2)?,
        client_addr: row.get(3)?,
        provider_id: row.get(4)?,
        application_id: row.get(5)?,
        employee_id: row.get(6)?,
        action: Action::parse(&action).ok_or_else(|| corrupt(7, "unknown audit action"))?,
        outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt(8, "unknown audit outcome"))?,
        records: serde_json::from_str(&records)
            .map_err(|_| corrupt(9, "malformed audit records"))?,
        prev_hash: row.get(10)?,
        hash: row.get(11)?,
    })
}

pub(crate) fn entries(conn: &Connection, sink: Sink<'_, AuditRecord>) -> Result<()> {
    let mut statement = conn
        .prepare(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY id"))
        .map_err(internal)?;
    let rows = statement.query_map([], record).map_err(internal)?;
    feed(rows, sink)
}

/// Removes entries older than `before` and moves the anchor's pruning
/// point to the last one removed.
pub(crate) fn prune(conn: &Connection, before: i64) -> Result<u64> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT id, hash FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log WHERE at < ?1)",
            [before],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map(Some)
        .or_else(|error| match error {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })
        .map_err(internal)?;
    let Some((last_id, last_hash)) = last else {
        return Ok(0);
    };
    let removed = conn
        .execute("DELETE FROM audit_log WHERE id <= ?1", [last_id])
        .map_err(internal)?;
    conn.execute(
        "UPDATE audit_anchor SET pruned_through_id = ?1, pruned_hash = ?2 WHERE id = 1",
        params![last_id, last_hash],
    )
    .map_err(internal)?;
    Ok(removed as u64)
}

pub(crate) fn failures(
    conn: &Connection,
    scopes: &[String],
    window_start: i64,
) -> Result<Vec<u64>> {
    let mut statement = conn
        .prepare_cached("SELECT failures FROM auth_failures WHERE scope = ?1 AND window_start = ?2")
        .map_err(internal)?;
    scopes
        .iter()
        .map(|scope| {
            statement
                .query_row(params![scope, window_start], |row| row.get::<_, i64>(0))
                .or_else(|error| match error {
                    rusqlite::Error::QueryReturnedNoRows => Ok(0),
                    other => Err(other),
                })
                .map(|count| u64::try_from(count).unwrap_or(0))
                .map_err(internal)
        })
        .collect()
}

pub(crate) fn record_failure(
    conn: &Connection,
    scopes: &[String],
    window_start: i64,
) -> Result<()> {
    conn.execute(
        "DELETE FROM auth_failures WHERE window_start < ?1",
        [window_start],
    )
    .map_err(internal)?;
    for scope in scopes {
        conn.prepare_cached(
            "INSERT INTO auth_failures (scope, window_start, failures) VALUES (?1, ?2, 1)
             ON CONFLICT (scope, window_start) DO UPDATE SET failures = failures + 1",
        )
        .and_then(|mut statement| statement.execute(params![scope, window_start]))
        .map_err(internal)?;
    }
    Ok(())
}
