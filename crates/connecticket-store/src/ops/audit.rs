//! The hash-chained audit trail: one chain per writer. A writer (SQLite's
//! writer thread, each PostgreSQL write lane) creates its chain before its
//! first write and appends only to it, so writers never wait on each other.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::{AuditEntry, AuditRecord, ChainAnchor, ChainLoss, RecordRef};
use connecticket_domain::store::STREAM_CHUNK_ROWS;
use connecticket_domain::StoreError;

use crate::audit_chain::AuditChain;
use crate::engine::{ChunkSender, Executor};
use crate::one_statement::OneStatement;
use crate::rows;
use crate::sql::{
    execute, fetch_all, fetch_one, fetch_optional, insert_returning_id, insert_rows, Result,
    RowGroup,
};
use crate::value::Value;

/// Creates a writer's chain in the caller's transaction; answers its id.
pub(crate) async fn create_chain(
    tx: &mut dyn Executor,
    label: &str,
    at: DateTime<Utc>,
) -> Result<i64> {
    let placeholder = ChainAnchor::new(0, label, at);
    let id = insert_returning_id(
        tx,
        "audit_chains",
        rows::chain_anchor_columns(&placeholder).without("id"),
    )
    .await?;
    // The genesis hash names the chain, so it is set once the id is known.
    let chain = ChainAnchor::new(id, label, at);
    execute(
        tx,
        "UPDATE audit_chains SET last_hash = $2, pruned_hash = $2 WHERE id = $1",
        &[id.into(), (&chain.last_hash).into()],
    )
    .await?;
    Ok(id)
}

async fn locked_chain(tx: &mut dyn Executor, chain_id: i64) -> Result<ChainAnchor> {
    let sql = format!(
        "SELECT * FROM audit_chains WHERE id = $1{}",
        tx.dialect().for_update()
    );
    fetch_optional(tx, &sql, &[chain_id.into()], rows::chain_anchor)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("audit chain {chain_id} is missing")))
}

/// Moves a chain's anchor to its new head, provided that it still stands
/// where its writer left it.
const MOVE_ANCHOR: &str =
    "UPDATE audit_chains SET last_seq = $1, last_hash = $2 WHERE id = $3 AND last_seq = $4";

/// Appends the entry of the write this transaction makes, naming the
/// records it wrote.
pub(crate) async fn record(
    tx: &mut dyn Executor,
    mut entry: AuditEntry,
    touched: impl IntoIterator<Item = RecordRef>,
) -> Result<()> {
    for record in touched {
        entry.touch(record);
    }
    append(tx, vec![entry]).await
}

/// Chains `entries` onto the writer's own chain, inside the caller's
/// transaction. On PostgreSQL the append is one statement, whole by itself,
/// whatever the count: the audit lane runs it without a transaction. Only its
/// writer ever appends to the chain; the head it kept from its last append
/// saves reading the anchor row again, and the anchor's update checks that
/// the chain is still where the writer left it.
pub(crate) async fn append(tx: &mut dyn Executor, entries: Vec<AuditEntry>) -> Result<()> {
    // Nothing to chain: the anchor row is neither locked nor rewritten.
    if entries.is_empty() {
        return Ok(());
    }
    let Chained {
        chain_id,
        head,
        expected_seq,
        records,
    } = chain(tx, entries).await?;
    let rows = records
        .iter()
        .map(|record| Ok(rows::audit_record_columns(record)?.without("id")))
        .collect::<Result<Vec<_>>>()?;
    let anchor: [Value<'_>; 4] = [
        head.last_seq.into(),
        (&head.last_hash).into(),
        chain_id.into(),
        expected_seq.into(),
    ];
    let moved = if tx.dialect().modifies_in_with() {
        // One round trip, one prepared statement, whatever the count: the
        // entries travel as one JSON parameter, the anchor moves in the
        // statement that inserts them, and they are inserted only if it
        // moved.
        let group = RowGroup::of("audit_log", rows)?;
        let sql = format!(
            "WITH moved AS ({MOVE_ANCHOR} RETURNING id) {} RETURNING (SELECT COUNT(*) FROM moved) AS moved",
            group.insert_json_where_sql(
                "audit_log",
                anchor.len() + 1,
                "EXISTS (SELECT 1 FROM moved)"
            )?
        );
        let mut args = anchor.to_vec();
        args.push(group.json("audit_log")?.into());
        let moved = fetch_all(tx, &sql, &args, |row| row.get::<i64>("moved")).await?;
        moved.first().copied().unwrap_or(0)
    } else {
        insert_rows(tx, "audit_log", rows).await?;
        execute(tx, MOVE_ANCHOR, &anchor).await? as i64
    };
    keep_head(
        tx,
        Chained {
            chain_id,
            head,
            expected_seq,
            records: Vec::new(),
        },
        moved,
    )
}

/// Entries chained onto the writer's chain, not yet written.
pub(crate) struct Chained {
    chain_id: i64,
    /// The head once they are written.
    head: ChainAnchor,
    /// Where the chain's anchor must stand for them to follow it.
    expected_seq: i64,
    records: Vec<AuditRecord>,
}

/// Chains `entries` after the writer's head (read from the database if
/// the writer does not know it).
async fn chain(tx: &mut dyn Executor, entries: Vec<AuditEntry>) -> Result<Chained> {
    metrics::counter!("connecticket_audit_entries_total").increment(entries.len() as u64);
    let chain = tx.audit_chain().ok_or_else(|| {
        StoreError::Corrupt("an audit entry was appended outside a write".to_owned())
    })?;
    let chain_id = chain.id();
    let mut head = match chain.take_head() {
        Some(head) => head,
        None => locked_chain(tx, chain_id).await?,
    };
    let expected_seq = head.last_seq;
    let mut records = Vec::with_capacity(entries.len());
    for entry in entries {
        let record = AuditRecord::chain(entry, &head);
        head.advance(&record);
        records.push(record);
    }
    Ok(Chained {
        chain_id,
        head,
        expected_seq,
        records,
    })
}

/// Adds the entry of a write to the one statement that makes the write
/// (PostgreSQL): the anchor's move (counted as `moved`) and the entry's
/// row. Once the statement has run, [`keep_head`] with its `moved` count.
pub(crate) async fn append_within(
    tx: &mut dyn Executor,
    statement: &mut OneStatement,
    entry: AuditEntry,
) -> Result<Chained> {
    let mut chained = chain(tx, vec![entry]).await?;
    let rows = std::mem::take(&mut chained.records)
        .iter()
        .map(|record| {
            Ok(rows::audit_record_columns(record)?
                .without("id")
                .into_owned())
        })
        .collect::<Result<Vec<_>>>()?;
    statement.counted(
        "moved",
        &format!("{MOVE_ANCHOR} RETURNING id"),
        vec![
            chained.head.last_seq.into(),
            Value::from(&chained.head.last_hash).into_owned(),
            chained.chain_id.into(),
            chained.expected_seq.into(),
        ],
    );
    statement.insert("audit_log", rows)?;
    Ok(chained)
}

/// After the anchor's update changed `moved` rows: the writer keeps the
/// new head, or learns that its chain is not where it left it.
pub(crate) fn keep_head(tx: &mut dyn Executor, chained: Chained, moved: i64) -> Result<()> {
    if moved != 1 {
        return Err(StoreError::Corrupt(format!(
            "audit chain {} is not where its writer left it",
            chained.chain_id
        )));
    }
    if let Some(chain) = tx.audit_chain() {
        chain.keep(chained.head);
    }
    Ok(())
}

pub(crate) async fn chain_loss(
    tx: &mut dyn Executor,
    chain: &AuditChain,
) -> Result<Option<ChainLoss>> {
    let (committed_through, committed_hash) = match chain.committed_head() {
        Some((seq, hash)) => (*seq, hash.clone()),
        // Nothing committed yet, but the chain's row must still be there.
        None => (0, String::new()),
    };
    let held_through = fetch_optional(
        tx,
        "SELECT last_seq FROM audit_chains WHERE id = $1",
        &[chain.id().into()],
        |row| row.get::<i64>("last_seq"),
    )
    .await?;
    // Only its writer appends to a chain: held this far or further, the
    // chain is whole.
    if held_through.is_some_and(|held| held >= committed_through) {
        return Ok(None);
    }
    Ok(Some(ChainLoss {
        chain_id: chain.id(),
        held_through,
        committed_through,
        committed_hash,
    }))
}

pub(crate) async fn chains(tx: &mut dyn Executor) -> Result<Vec<ChainAnchor>> {
    fetch_all(
        tx,
        "SELECT * FROM audit_chains ORDER BY id",
        &[],
        rows::chain_anchor,
    )
    .await
}

/// Streams the entries of every chain in the order they were written.
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

/// Streams one chain's entries in chain order, up to `through_seq`.
pub(crate) async fn chain_entries(
    tx: &mut dyn Executor,
    out: &ChunkSender<AuditRecord>,
    chain_id: i64,
    through_seq: i64,
) -> Result<()> {
    let mut after = 0;
    loop {
        let chunk = fetch_all(
            tx,
            "SELECT * FROM audit_log WHERE chain_id = $1 AND seq > $2 AND seq <= $3
             ORDER BY seq LIMIT $4",
            &[
                chain_id.into(),
                after.into(),
                through_seq.into(),
                (STREAM_CHUNK_ROWS as i64).into(),
            ],
            rows::audit_record,
        )
        .await?;
        let Some(last) = chunk.last() else {
            return Ok(());
        };
        after = last.seq;
        let full = chunk.len() == STREAM_CHUNK_ROWS;
        if !out.send(chunk).await || !full {
            return Ok(());
        }
    }
}

/// Removes every chain's entries older than `before` and moves each
/// chain's pruning point to the last one removed; then appends `audit`,
/// naming how many went.
pub(crate) async fn prune(
    tx: &mut dyn Executor,
    before: DateTime<Utc>,
    audit: AuditEntry,
) -> Result<u64> {
    let before = connecticket_domain::time::to_epoch(before);
    let mut removed = 0;
    for chain in chains(tx).await? {
        let chain = locked_chain(tx, chain.chain_id).await?;
        let last = fetch_optional(
            tx,
            "SELECT seq, hash FROM audit_log WHERE chain_id = $1 AND seq =
                 (SELECT MAX(seq) FROM audit_log WHERE chain_id = $1 AND at < $2)",
            &[chain.chain_id.into(), before.into()],
            |row| Ok((row.get::<i64>("seq")?, row.get::<String>("hash")?)),
        )
        .await?;
        let Some((seq, hash)) = last else {
            continue;
        };
        removed += execute(
            tx,
            "DELETE FROM audit_log WHERE chain_id = $1 AND seq <= $2",
            &[chain.chain_id.into(), seq.into()],
        )
        .await?;
        execute(
            tx,
            "UPDATE audit_chains SET pruned_through_seq = $2, pruned_hash = $3 WHERE id = $1",
            &[chain.chain_id.into(), seq.into(), (&hash).into()],
        )
        .await?;
    }
    // A pruning that removed nothing changed nothing: no entry (retention
    // runs every hour on every instance).
    if removed > 0 {
        let mut entry = audit;
        entry.records.insert(format!("pruned:{removed}"));
        append(tx, vec![entry]).await?;
    }
    Ok(removed)
}

/// True while no chain has ever held an entry.
pub(crate) async fn never_written(tx: &mut dyn Executor) -> Result<bool> {
    let written = fetch_one(
        tx,
        "SELECT COUNT(*) AS written FROM audit_chains WHERE last_seq > 0 OR pruned_through_seq > 0",
        &[],
        |row| row.get::<i64>("written"),
    )
    .await?;
    Ok(written == 0)
}
