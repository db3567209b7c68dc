//! `Idempotency-Key` bookkeeping inside the write's transaction.
//!
//! The key's row is inserted before the write. A concurrent request with the
//! same key (on this instance or another) blocks on that row until the first
//! transaction ends: if it committed, the second replays its result; if it
//! rolled back, the second proceeds as the first.

use sqlx::{PgConnection, Row};

use crate::{internal, Result};
use connecticket_domain::store::{IdempotencyClaim, Written};
use connecticket_domain::time::to_epoch;
use connecticket_domain::StoreError;

const PURGE_BATCH: i64 = 100;

/// Claims the key; `Some` means the request was already done (replay).
pub(crate) async fn claim(
    tx: &mut PgConnection,
    claim: Option<&IdempotencyClaim>,
) -> Result<Option<Written<i64>>> {
    let Some(claim) = claim else { return Ok(None) };
    let taken = sqlx::query(
        "INSERT INTO idempotency_keys (application_id, idempotency_key, fingerprint, result_id, created_at)
         VALUES ($1, $2, $3, 0, $4)
         ON CONFLICT (application_id, idempotency_key) DO UPDATE
             SET fingerprint = EXCLUDED.fingerprint, result_id = 0, created_at = EXCLUDED.created_at
             WHERE idempotency_keys.created_at < $5
         RETURNING 1",
    )
    .bind(claim.application_id)
    .bind(&claim.key)
    .bind(&claim.fingerprint)
    .bind(to_epoch(claim.now))
    .bind(to_epoch(claim.not_before))
    .fetch_optional(&mut *tx)
    .await
    .map_err(internal)?;
    if taken.is_some() {
        return Ok(None);
    }
    let earlier = sqlx::query(
        "SELECT fingerprint, result_id FROM idempotency_keys
         WHERE application_id = $1 AND idempotency_key = $2",
    )
    .bind(claim.application_id)
    .bind(&claim.key)
    .fetch_one(&mut *tx)
    .await
    .map_err(internal)?;
    let fingerprint: Vec<u8> = earlier.try_get(0).map_err(internal)?;
    if fingerprint == claim.fingerprint {
        Ok(Some(Written::Replayed(
            earlier.try_get(1).map_err(internal)?,
        )))
    } else {
        Err(StoreError::IdempotencyKeyReused)
    }
}

/// Stores the result under the claimed key, and forgets a few expired keys.
pub(crate) async fn record(
    tx: &mut PgConnection,
    claim: Option<&IdempotencyClaim>,
    result_id: i64,
) -> Result<()> {
    let Some(claim) = claim else { return Ok(()) };
    sqlx::query(
        "UPDATE idempotency_keys SET result_id = $3 WHERE application_id = $1 AND idempotency_key = $2",
    )
    .bind(claim.application_id)
    .bind(&claim.key)
    .bind(result_id)
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE ctid IN
             (SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(to_epoch(claim.not_before))
    .bind(PURGE_BATCH)
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    Ok(())
}
