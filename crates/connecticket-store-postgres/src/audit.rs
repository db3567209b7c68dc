//! The audit trail and the authorize-failure counters.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::{mpsc, oneshot};

use crate::stream;
use crate::{internal, Result};
use connecticket_domain::audit::{Action, AuditAnchor, AuditEntry, AuditRecord, Outcome};
use connecticket_domain::store::RowStream;
use connecticket_domain::time::{from_epoch, to_epoch};
use connecticket_domain::StoreError;

fn anchor_row(row: &PgRow) -> std::result::Result<AuditAnchor, sqlx::Error> {
    Ok(AuditAnchor {
        last_id: row.try_get(0)?,
        last_hash: row.try_get(1)?,
        pruned_through_id: row.try_get(2)?,
        pruned_hash: row.try_get(3)?,
    })
}

const ANCHOR: &str =
    "SELECT last_id, last_hash, pruned_through_id, pruned_hash FROM audit_anchor WHERE id = 1";

pub(crate) async fn anchor(conn: &mut PgConnection) -> Result<AuditAnchor> {
    let row = sqlx::query(ANCHOR)
        .fetch_one(conn)
        .await
        .map_err(internal)?;
    anchor_row(&row).map_err(internal)
}

/// Chains `entry` after the newest one, inside the caller's transaction.
/// Locking the anchor row serialises appends from every instance, so the
/// chain cannot fork.
pub(crate) async fn append(conn: &mut PgConnection, entry: AuditEntry) -> Result<()> {
    let row = sqlx::query(&format!("{ANCHOR} FOR UPDATE"))
        .fetch_one(&mut *conn)
        .await
        .map_err(internal)?;
    let head = anchor_row(&row).map_err(internal)?;
    let record = AuditRecord::chain(entry, head.last_id, &head.last_hash);
    insert(conn, &record).await?;
    sqlx::query("UPDATE audit_anchor SET last_id = $1, last_hash = $2 WHERE id = 1")
        .bind(record.id)
        .bind(&record.hash)
        .execute(conn)
        .await
        .map_err(internal)?;
    Ok(())
}

/// Appends entries that belong to no write of their own (reads, refusals)
/// in batches: one task per instance takes every entry waiting, chains them
/// under one anchor lock in one transaction, and answers each caller only
/// after the commit. Under load this turns one lock and one fsync per call
/// into one per batch.
pub(crate) struct Appender {
    queue: mpsc::Sender<(AuditEntry, oneshot::Sender<Result<()>>)>,
}

/// The most entries chained in one transaction.
const MAX_BATCH: usize = 256;

impl Appender {
    pub(crate) fn start(pool: PgPool) -> Self {
        let (queue, mut waiting) = mpsc::channel::<(AuditEntry, oneshot::Sender<Result<()>>)>(4096);
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match waiting.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (entries, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let outcome = append_batch(&pool, entries).await;
                for reply in replies {
                    let _ = reply.send(match &outcome {
                        Ok(()) => Ok(()),
                        Err(error) => Err(StoreError::Internal(error.to_string())),
                    });
                }
            }
        });
        Appender { queue }
    }

    pub(crate) async fn append(&self, entry: AuditEntry) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((entry, reply))
            .await
            .map_err(|_| StoreError::Internal("the audit appender has stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| StoreError::Internal("the audit appender dropped an entry".to_owned()))?
    }
}

async fn append_batch(pool: &PgPool, entries: Vec<AuditEntry>) -> Result<()> {
    let mut tx = pool.begin().await.map_err(internal)?;
    for entry in entries {
        append(&mut tx, entry).await?;
    }
    tx.commit().await.map_err(internal)
}

pub(crate) async fn insert(conn: &mut PgConnection, record: &AuditRecord) -> Result<()> {
    let records = serde_json::to_string(&record.records)
        .map_err(|e| StoreError::Internal(format!("cannot encode audit records: {e}")))?;
    sqlx::query(
        "INSERT INTO audit_log (id, at, request_id, client_addr, provider_id, application_id,
             employee_id, action, outcome, records, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(record.id)
    .bind(to_epoch(record.at))
    .bind(&record.request_id)
    .bind(&record.client_addr)
    .bind(record.provider_id)
    .bind(record.application_id)
    .bind(record.employee_id)
    .bind(record.action.as_str())
    .bind(record.outcome.as_str())
    .bind(records)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(conn)
    .await
    .map_err(internal)?;
    Ok(())
}

pub(crate) const COLUMNS: &str = "id, at, request_id, client_addr, provider_id, application_id, \
    employee_id, action, outcome, records, prev_hash, hash";

fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(what.to_owned().into())
}

pub(crate) fn record(row: &PgRow) -> std::result::Result<AuditRecord, sqlx::Error> {
    let action: String = row.try_get(7)?;
    let outcome: String = row.try_get(8)?;
    let records: String = row.try_get(9)?;
    Ok(AuditRecord {
        id: row.try_get(0)?,
        at: from_epoch(row.try_get(1)?),
        request_id: row.try_get(2)?,
        client_addr: row.try_get(3)?,
        provider_id: row.try_get(4)?,
        application_id: row.try_get(5)?,
        employee_id: row.try_get(6)?,
        action: Action::parse(&action).ok_or_else(|| corrupt("unknown audit action"))?,
        outcome: Outcome::parse(&outcome).ok_or_else(|| corrupt("unknown audit outcome"))?,
        records: serde_json::from_str(&records).map_err(|_| corrupt("malformed audit records"))?,
        prev_hash: row.try_get(10)?,
        hash: row.try_get(11)?,
    })
}

pub(crate) fn entries(pool: PgPool) -> RowStream<AuditRecord> {
    stream::rows(
        pool,
        format!("SELECT {COLUMNS} FROM audit_log ORDER BY id"),
        Vec::new(),
        record,
    )
}

pub(crate) async fn prune(pool: &PgPool, before: i64) -> Result<u64> {
    let mut tx = pool.begin().await.map_err(internal)?;
    sqlx::query(&format!("{ANCHOR} FOR UPDATE"))
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    let last = sqlx::query(
        "SELECT id, hash FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log WHERE at < $1)",
    )
    .bind(before)
    .fetch_optional(&mut *tx)
    .await
    .map_err(internal)?;
    let Some(last) = last else { return Ok(0) };
    let last_id: i64 = last.try_get(0).map_err(internal)?;
    let last_hash: String = last.try_get(1).map_err(internal)?;
    let removed = sqlx::query("DELETE FROM audit_log WHERE id <= $1")
        .bind(last_id)
        .execute(&mut *tx)
        .await
        .map_err(internal)?
        .rows_affected();
    sqlx::query("UPDATE audit_anchor SET pruned_through_id = $1, pruned_hash = $2 WHERE id = 1")
        .bind(last_id)
        .bind(last_hash)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok(removed)
}

pub(crate) async fn failures(
    pool: &PgPool,
    scopes: &[String],
    window_start: i64,
) -> Result<Vec<u64>> {
    let mut counts = Vec::with_capacity(scopes.len());
    for scope in scopes {
        let count: Option<i64> = sqlx::query(
            "SELECT failures FROM auth_failures WHERE scope = $1 AND window_start = $2",
        )
        .bind(scope)
        .bind(window_start)
        .fetch_optional(pool)
        .await
        .and_then(|row| row.map(|row| row.try_get(0)).transpose())
        .map_err(internal)?;
        counts.push(u64::try_from(count.unwrap_or(0)).unwrap_or(0));
    }
    Ok(counts)
}

pub(crate) async fn record_failure(
    pool: &PgPool,
    scopes: &[String],
    window_start: i64,
) -> Result<()> {
    let mut tx = pool.begin().await.map_err(internal)?;
    sqlx::query("DELETE FROM auth_failures WHERE window_start < $1")
        .bind(window_start)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    for scope in scopes {
        sqlx::query(
            "INSERT INTO auth_failures (scope, window_start, failures) VALUES ($1, $2, 1)
             ON CONFLICT (scope, window_start) DO UPDATE SET failures = auth_failures.failures + 1",
        )
        .bind(scope)
        .bind(window_start)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    }
    tx.commit().await.map_err(internal)
}
