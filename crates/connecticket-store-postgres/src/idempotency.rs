//! `Idempotency-Key` bookkeeping inside the write's transaction.
//!
//! The key's row is inserted before the write. A concurrent request with the
//! same key (on this instance or another) blocks on that row until the first
//! transaction ends: if it committed, the second replays its result; if it
//! rolled back, the second proceeds as the first.

use sqlx::{PgConnection, PgPool, Row};

use connecticket_domain::audit::{Outcome, RecordRef};
use connecticket_domain::store::{WriteContext, Written};

use crate::{internal, Result};
use connecticket_domain::store::IdempotencyClaim;
use connecticket_domain::time::to_epoch;
use connecticket_domain::StoreError;

const PURGE_BATCH: i64 = 100;

/// Claims the key; `Some(result id)` means the request was already done.
pub(crate) async fn claim(
    tx: &mut PgConnection,
    claim: Option<&IdempotencyClaim>,
) -> Result<Option<i64>> {
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
        Ok(Some(earlier.try_get(1).map_err(internal)?))
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

/// What a write did: the id it answers with, and the records it touched.
pub(crate) struct Done {
    pub id: i64,
    pub touched: Vec<RecordRef>,
}

/// One API write in one transaction: the `Idempotency-Key` claim, the
/// write itself (unless replayed), and its audit entry.
pub(crate) async fn write_once(
    pool: &PgPool,
    context: WriteContext,
    created: fn(i64) -> RecordRef,
    write: impl AsyncFnOnce(&mut PgConnection) -> Result<Done>,
) -> Result<Written<i64>> {
    let WriteContext {
        idempotency,
        mut audit,
    } = context;
    let mut tx = pool.begin().await.map_err(internal)?;
    let (written, touched) = match self::claim(&mut tx, idempotency.as_ref()).await? {
        Some(result_id) => (Written::Replayed(result_id), Vec::new()),
        None => {
            let done = write(&mut tx).await?;
            record(&mut tx, idempotency.as_ref(), done.id).await?;
            (Written::Fresh(done.id), done.touched)
        }
    };
    audit.touch(created(written.into_inner()));
    for record in touched {
        audit.touch(record);
    }
    audit.outcome = match written {
        Written::Fresh(_) => Outcome::Success,
        Written::Replayed(_) => Outcome::Replayed,
    };
    crate::audit::append(&mut tx, audit).await?;
    tx.commit().await.map_err(internal)?;
    Ok(written)
}
