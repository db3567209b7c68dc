//! `Idempotency-Key` bookkeeping, inside the write's own transaction.

use rusqlite::{params, Connection, OptionalExtension};

use crate::{internal, Result};
use connecticket_domain::store::{IdempotencyClaim, Written};
use connecticket_domain::time::to_epoch;
use connecticket_domain::StoreError;

/// Expired keys removed per write, so cleanup never stalls the writer.
const PURGE_BATCH: i64 = 100;

/// Runs `write` unless the claim's key was already used: the same request
/// replays the first result, a different one is refused.
pub(crate) fn once(
    conn: &Connection,
    claim: Option<&IdempotencyClaim>,
    write: impl FnOnce() -> Result<i64>,
) -> Result<Written<i64>> {
    let Some(claim) = claim else {
        return write().map(Written::Fresh);
    };
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
    if let Some((fingerprint, result_id, created_at)) = earlier {
        if created_at >= to_epoch(claim.not_before) {
            return if fingerprint == claim.fingerprint {
                Ok(Written::Replayed(result_id))
            } else {
                Err(StoreError::IdempotencyKeyReused)
            };
        }
    }
    let result_id = write()?;
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
    Ok(Written::Fresh(result_id))
}
