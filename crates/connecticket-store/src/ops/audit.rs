//! The hash-chained audit trail.

use connecticket_domain::audit::{AuditAnchor, AuditEntry, AuditRecord};

use crate::engine::{ChunkSender, Executor};
use crate::rows;
use crate::sql::{execute, fetch_all, fetch_one, fetch_optional, insert, Result};
use connecticket_domain::store::STREAM_CHUNK_ROWS;

const ANCHOR: &str =
    "SELECT last_id, last_hash, pruned_through_id, pruned_hash FROM audit_anchor WHERE id = 1";

pub(crate) async fn anchor(tx: &mut dyn Executor) -> Result<AuditAnchor> {
    fetch_one(tx, ANCHOR, &[], rows::audit_anchor).await
}

/// Chains `entries` after the newest one, inside the caller's transaction.
/// Locking the anchor row serialises appends from every writer, so the
/// chain cannot fork.
pub(crate) async fn append(tx: &mut dyn Executor, entries: Vec<AuditEntry>) -> Result<()> {
    let lock = format!("{ANCHOR}{}", tx.dialect().for_update());
    let mut head = fetch_one(tx, &lock, &[], rows::audit_anchor).await?;
    for entry in entries {
        let record = AuditRecord::chain(entry, head.last_id, &head.last_hash);
        insert_record(tx, &record).await?;
        head.last_id = record.id;
        head.last_hash = record.hash;
    }
    execute(
        tx,
        "UPDATE audit_anchor SET last_id = $1, last_hash = $2 WHERE id = 1",
        &[head.last_id.into(), (&head.last_hash).into()],
    )
    .await?;
    Ok(())
}

pub(crate) async fn insert_record(tx: &mut dyn Executor, record: &AuditRecord) -> Result<()> {
    insert(tx, "audit_log", rows::audit_record_columns(record)?).await
}

pub(crate) async fn set_anchor(tx: &mut dyn Executor, anchor: &AuditAnchor) -> Result<()> {
    execute(
        tx,
        "UPDATE audit_anchor SET last_id = $1, last_hash = $2, pruned_through_id = $3,
             pruned_hash = $4 WHERE id = 1",
        &[
            anchor.last_id.into(),
            (&anchor.last_hash).into(),
            anchor.pruned_through_id.into(),
            (&anchor.pruned_hash).into(),
        ],
    )
    .await
    .map(|_| ())
}

/// Streams every entry in id order, in chunks.
pub(crate) async fn entries(tx: &mut dyn Executor, out: &ChunkSender<AuditRecord>) -> Result<()> {
    let mut after = 0;
    loop {
        let chunk = fetch_all(
            tx,
            "SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
            &[after.into(), (STREAM_CHUNK_ROWS as i64).into()],
            rows::audit_record,
        )
        .await?;
        let Some(last) = chunk.last() else {
            return Ok(());
        };
        after = last.id;
        let full = chunk.len() == STREAM_CHUNK_ROWS;
        if !out.send(chunk).await || !full {
            return Ok(());
        }
    }
}

/// Removes entries older than `before` and moves the anchor's pruning
/// point to the last one removed.
pub(crate) async fn prune(tx: &mut dyn Executor, before: i64) -> Result<u64> {
    let lock = format!("{ANCHOR}{}", tx.dialect().for_update());
    let anchor = fetch_one(tx, &lock, &[], rows::audit_anchor).await?;
    let last = fetch_optional(
        tx,
        "SELECT id, hash FROM audit_log
         WHERE id = (SELECT MAX(id) FROM audit_log WHERE at < $1)",
        &[before.into()],
        |row| Ok((row.get::<i64>("id")?, row.get::<String>("hash")?)),
    )
    .await?;
    let Some((last_id, last_hash)) = last else {
        return Ok(0);
    };
    let removed = execute(
        tx,
        "DELETE FROM audit_log WHERE id <= $1",
        &[last_id.into()],
    )
    .await?;
    set_anchor(
        tx,
        &AuditAnchor {
            pruned_through_id: last_id,
            pruned_hash: last_hash,
            ..anchor
        },
    )
    .await?;
    Ok(removed)
}

/// True while the chain has never held an entry.
pub(crate) async fn is_genesis(tx: &mut dyn Executor) -> Result<bool> {
    Ok(anchor(tx).await? == AuditAnchor::genesis())
}
