//! `Idempotency-Key` bookkeeping and the write's audit entry, inside the
//! write's own transaction.

use rusqlite::{params, Connection, OptionalExtension};

use crate::{audit, internal, Result};
use connecticket_domain::audit::{Outcome, RecordRef};
use connecticket_domain::store::{IdempotencyClaim, WriteContext, Written};
use connecticket_domain::time::to_epoch;
use connecticket_domain::StoreError;

/// Expired keys removed per write, so cleanup never stalls the writer.
const PURGE_BATCH: i64 = 100;

/// What a write did: the id it answers with, and the records it touched.
pub(crate) struct Done {
    pub id: i64,
    pub touched: Vec<RecordRef>,
}

/// Runs `write` unless the claim's key was already used (the same request
/// replays the first result, a different one is refused), then records the
/// audit entry: all in the caller's transaction.
pub(crate) fn once(
    conn: &Connection,
    context: WriteContext,
    created: fn(i64) -> RecordRef,
    write: impl FnOnce() -> Result<Done>,
) -> Result<Written<i64>> {
    let WriteContext {
        idempotency,
        mut audit,
    } = context;
    let (written, touched) = match replay(conn, idempotency.as_ref())? {
        Some(result_id) => (Written::Replayed(result_id), Vec::new()),
        None => {
            let done = write()?;
            if let Some(claim) = &idempotency {
                remember(conn, claim, done.id)?;
            }
            (Written::Fresh(done.id), done.touched)
        }
    };
    let id = written.into_inner();
    audit.touch(created(id));
    for record in touched {
        audit.touch(record);
    }
    audit.outcome = match written {
        Written::Fresh(_) => Outcome::Success,
        Written::Replayed(_) => Outcome::Replayed,
    };
    audit::append(conn, audit)?;
    Ok(written)
}

fn replay(conn: &Connection, claim: Option<&IdempotencyClaim>) -> Result<Option<i64>> {
    let Some(claim) = claim else { return Ok(None) };
    let earlier: Option<(Vec<u8>, i64, i64)> = conn
        .prepare_cached(
            "SELECT fingerprint, result_id, created_at FROM idempotency_keys
             WHERE application_id = ?1 AND idempotency_key = ?2",
        )
        .and_then(|mut statement| {
            statement
                .query_row(params![claim.application_id, claim.key], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()
        })
        .map_err(internal)?;
    match earlier {
        Some((fingerprint, result_id, created_at)) if created_at >= to_epoch(claim.not_before) => {
            if fingerprint == claim.fingerprint {
                Ok(Some(result_id))
            } else {
                Err(StoreError::IdempotencyKeyReused)
            }
        }
        _ => Ok(None),
    }
}

fn remember(conn: &Connection, claim: &IdempotencyClaim, result_id: i64) -> Result<()> {
    conn.execute(
        "DELETE FROM idempotency_keys WHERE rowid IN
             (SELECT rowid FROM idempotency_keys WHERE created_at < ?1 LIMIT ?2)",
        params![to_epoch(claim.not_before), PURGE_BATCH],
    )
    .map_err(internal)?;
    conn.execute(
        "INSERT OR REPLACE INTO idempotency_keys
             (application_id, idempotency_key, fingerprint, result_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            claim.application_id,
            claim.key,
            claim.fingerprint,
            result_id,
            to_epoch(claim.now)
        ],
    )
    .map_err(internal)?;
    Ok(())
}
