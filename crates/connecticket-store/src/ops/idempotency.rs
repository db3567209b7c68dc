//! `Idempotency-Key` bookkeeping and a write's audit entry, inside the
//! write's own transaction.
//!
//! The key's row is inserted before the write. A concurrent request with
//! the same key blocks on that row until the first transaction ends (on
//! PostgreSQL; SQLite has one writer at a time anyway): if it committed,
//! the second replays its result; if it rolled back, the second proceeds as
//! the first.

use connecticket_domain::audit::{Outcome, RecordRef};
use connecticket_domain::store::{IdempotencyClaim, WriteContext, Written};
use connecticket_domain::StoreError;
use futures::future::BoxFuture;

use crate::engine::Executor;
use crate::one_statement::OneStatement;
use crate::ops::audit;
use crate::sql::{execute, fetch_one, fetch_optional, Result};
use crate::value::Value;

/// Expired keys removed per write, so cleanup never stalls a writer.
const PURGE_BATCH: i64 = 100;

/// What a write did: the id it answers with, and the records it touched.
pub(crate) struct Done {
    pub id: i64,
    pub touched: Vec<RecordRef>,
    /// The write's changes, still to be sent (PostgreSQL gathers a write
    /// into one statement, which the key's result and the audit entry
    /// join); `None` once they are written.
    pub statement: Option<OneStatement>,
}

impl Done {
    /// A write whose changes are written.
    pub(crate) fn written(id: i64, touched: Vec<RecordRef>) -> Self {
        Done {
            id,
            touched,
            statement: None,
        }
    }
}

/// Runs `write` unless the claim's key was already used (the same request
/// replays the first result, a different one is refused), then records the
/// audit entry: all in the caller's transaction.
pub(crate) async fn once(
    tx: &mut dyn Executor,
    context: WriteContext,
    created: fn(i64) -> RecordRef,
    write: impl for<'x> FnOnce(&'x mut dyn Executor) -> BoxFuture<'x, Result<Done>> + Send,
) -> Result<Written<i64>> {
    let WriteContext {
        idempotency,
        mut audit,
        ..
    } = context;
    let (written, touched, statement) = match claim(tx, idempotency.as_ref()).await? {
        Some(result_id) => (Written::Replayed(result_id), Vec::new(), None),
        None => {
            let done = write(tx).await?;
            (Written::Fresh(done.id), done.touched, done.statement)
        }
    };
    audit.touch(created(written.into_inner()));
    for record in touched {
        audit.touch(record);
    }
    audit.outcome = if written.is_replay() {
        Outcome::Replayed
    } else {
        Outcome::Success
    };
    let claimed = idempotency.as_ref().filter(|_| !written.is_replay());
    match statement {
        Some(mut statement) => {
            if let Some(claim) = claimed {
                remember_within(&mut statement, claim, written.into_inner());
            }
            let chained = audit::append_within(tx, &mut statement, audit).await?;
            let moved = statement.run(tx).await?;
            audit::keep_head(tx, chained, moved.first().copied().unwrap_or(0))?;
        }
        None => {
            if let Some(claim) = claimed {
                remember(tx, claim, written.into_inner()).await?;
            }
            audit::append(tx, vec![audit]).await?;
        }
    }
    Ok(written)
}

/// Claims the key; `Some(result id)` means the request was already done.
async fn claim(tx: &mut dyn Executor, claim: Option<&IdempotencyClaim>) -> Result<Option<i64>> {
    let Some(claim) = claim else { return Ok(None) };
    let taken = fetch_optional(
        tx,
        "INSERT INTO idempotency_keys
             (application_id, idempotency_key, fingerprint, result_id, created_at)
         VALUES ($1, $2, $3, 0, $4)
         ON CONFLICT (application_id, idempotency_key) DO UPDATE
             SET fingerprint = excluded.fingerprint, result_id = 0,
                 created_at = excluded.created_at
             WHERE idempotency_keys.created_at < $5
         RETURNING 1 AS claimed",
        &[
            claim.application_id.into(),
            (&claim.key).into(),
            (&claim.fingerprint).into(),
            claim.now.into(),
            claim.not_before.into(),
        ],
        |_| Ok(()),
    )
    .await?;
    if taken.is_some() {
        return Ok(None);
    }
    let (fingerprint, result_id) = fetch_one(
        tx,
        "SELECT fingerprint, result_id FROM idempotency_keys
         WHERE application_id = $1 AND idempotency_key = $2",
        &[claim.application_id.into(), (&claim.key).into()],
        |row| {
            Ok((
                row.get::<Vec<u8>>("fingerprint")?,
                row.get::<i64>("result_id")?,
            ))
        },
    )
    .await?;
    if fingerprint == claim.fingerprint {
        Ok(Some(result_id))
    } else {
        Err(StoreError::IdempotencyKeyReused)
    }
}

const REMEMBER: &str = "UPDATE idempotency_keys SET result_id = $3
     WHERE application_id = $1 AND idempotency_key = $2";

/// Expired keys, a few at a time; `{lock}` is the dialect's
/// `for_update_skip_locked`.
fn purge_sql(lock: &str) -> String {
    format!(
        "DELETE FROM idempotency_keys WHERE (application_id, idempotency_key) IN
             (SELECT application_id, idempotency_key FROM idempotency_keys
              WHERE created_at < $1 LIMIT $2{lock})"
    )
}

/// Stores the result under the claimed key, and forgets a few expired keys.
async fn remember(tx: &mut dyn Executor, claim: &IdempotencyClaim, result_id: i64) -> Result<()> {
    let key = [
        claim.application_id.into(),
        (&claim.key).into(),
        result_id.into(),
    ];
    execute(tx, REMEMBER, &key).await?;
    let purge = purge_sql(tx.dialect().for_update_skip_locked());
    execute(tx, &purge, &[claim.not_before.into(), PURGE_BATCH.into()]).await?;
    Ok(())
}

/// [`remember`], as part of the write's one statement (PostgreSQL). The
/// key's row was claimed by an earlier statement, so the update finds it;
/// the purge never takes it (it is not expired).
fn remember_within(statement: &mut OneStatement, claim: &IdempotencyClaim, result_id: i64) {
    let key = vec![
        claim.application_id.into(),
        Value::from(claim.key.clone()),
        result_id.into(),
    ];
    statement.change(REMEMBER, key);
    let purge = purge_sql(crate::engine::Dialect::Postgres.for_update_skip_locked());
    statement.change(&purge, vec![claim.not_before.into(), PURGE_BATCH.into()]);
}
