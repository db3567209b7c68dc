//! The event log behind the change feed and webhooks. `record` runs inside
//! the write that makes the change; `sequence` later gives committed events
//! their cursors in commit order and queues their webhook deliveries.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::AuditEntry;
use connecticket_domain::events::webhooks::Webhook;
use connecticket_domain::events::{Event, EventKind, EventPage, NewEvent};
use connecticket_domain::model::{EventId, ProviderId};
use connecticket_domain::StoreError;

use super::audit;
use crate::engine::Executor;
use crate::one_statement::OneStatement;
use crate::sql::{
    execute, fetch_all, fetch_one, fetch_optional, insert, placeholders, Columns, Result,
};
use crate::value::{Row, Value};

/// Cursors given per statement: a fixed size (short batches repeat their
/// last pair) keeps PostgreSQL's prepared statements few.
const SEQUENCE_STATEMENT_ROWS: usize = 50;

pub(crate) async fn record(tx: &mut dyn Executor, event: NewEvent) -> Result<()> {
    insert(tx, "events", columns(event)).await
}

/// [`record`], as part of the change's one statement (PostgreSQL).
pub(crate) fn record_within(statement: &mut OneStatement, event: NewEvent) -> Result<()> {
    statement.insert("events", vec![columns(event)])
}

fn columns(event: NewEvent) -> Columns<'static> {
    Columns::new()
        .with("provider_id", event.provider_id)
        .with("kind", event.kind.as_str())
        .with("ticket_id", event.ticket_id)
        .with("resident_id", event.resident_id)
        .with("notification_id", event.notification_id)
        .with("status", event.status)
        .with("occurred_at", event.at)
}

pub(crate) fn event(row: &dyn Row) -> Result<Event> {
    let kind: String = row.get("kind")?;
    Ok(Event {
        id: row.get("id")?,
        cursor: row.get::<Option<i64>>("seq")?.unwrap_or(0),
        provider_id: row.get("provider_id")?,
        kind: EventKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown event kind {kind:?}")))?,
        ticket_id: row.get("ticket_id")?,
        resident_id: row.get("resident_id")?,
        notification_id: row.get("notification_id")?,
        status: row.get("status")?,
        occurred_at: row.get("occurred_at")?,
    })
}

/// Gives up to `limit` committed events without a cursor the next cursors,
/// oldest first, and queues a delivery for every live endpoint of their
/// provider that wants them. The event log's row is locked first, so
/// sequencers (on any instance) take turns and cursors follow commit
/// order; one that finds it locked does nothing this round. Answers how
/// many events it sequenced.
pub(crate) async fn sequence(tx: &mut dyn Executor, limit: u32, now: DateTime<Utc>) -> Result<u64> {
    // Another instance's sequencer at work: its turn, not a wait.
    let lock = tx.dialect().for_update_skip_locked();
    let last: Option<i64> = fetch_optional(
        tx,
        &format!("SELECT last_cursor FROM event_log WHERE id = 1{lock}"),
        &[],
        |row| row.get("last_cursor"),
    )
    .await?;
    let Some(last) = last else {
        return Ok(0);
    };
    let waiting: Vec<(EventId, ProviderId, String)> = fetch_all(
        tx,
        "SELECT id, provider_id, kind FROM events WHERE seq IS NULL ORDER BY id LIMIT $1",
        &[i64::from(limit).into()],
        |row| Ok((row.get("id")?, row.get("provider_id")?, row.get("kind")?)),
    )
    .await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let numbered: Vec<(EventId, i64)> = waiting
        .iter()
        .zip(last + 1..)
        .map(|((id, _, _), cursor)| (*id, cursor))
        .collect();
    for chunk in numbered.chunks(SEQUENCE_STATEMENT_ROWS) {
        let padded = (0..SEQUENCE_STATEMENT_ROWS).map(|i| chunk[i.min(chunk.len() - 1)]);
        let mut args: Vec<Value<'_>> = Vec::with_capacity(SEQUENCE_STATEMENT_ROWS * 2);
        let mut cases = String::new();
        for (i, (id, cursor)) in padded.enumerate() {
            cases.push_str(&format!(" WHEN ${} THEN ${}", 2 * i + 1, 2 * i + 2));
            args.push(id.into());
            args.push(cursor.into());
        }
        let ids: Vec<String> = (0..SEQUENCE_STATEMENT_ROWS)
            .map(|i| format!("${}", 2 * i + 1))
            .collect();
        let sql = format!(
            "UPDATE events SET seq = CASE id{cases} END WHERE id IN ({})",
            ids.join(", ")
        );
        execute(tx, &sql, &args).await?;
    }
    let newest = last + waiting.len() as i64;
    execute(
        tx,
        "UPDATE event_log SET last_cursor = $1 WHERE id = 1",
        &[newest.into()],
    )
    .await?;
    queue_deliveries(tx, &waiting, now).await?;
    Ok(waiting.len() as u64)
}

/// A delivery row for each (endpoint, event) an endpoint wants.
async fn queue_deliveries(
    tx: &mut dyn Executor,
    events: &[(EventId, ProviderId, String)],
    now: DateTime<Utc>,
) -> Result<()> {
    let mut providers: Vec<ProviderId> = events.iter().map(|(_, p, _)| *p).collect();
    providers.sort();
    providers.dedup();
    let args: Vec<Value<'_>> = providers.iter().map(|p| Value::from(*p)).collect();
    let endpoints: Vec<(i64, ProviderId, String)> = fetch_all(
        tx,
        &format!(
            "SELECT w.id, w.provider_id, w.event_types FROM webhook_endpoints w
             JOIN applications a ON a.id = w.application_id AND a.revoked_at IS NULL
             WHERE w.provider_id IN ({}) AND w.deleted_at IS NULL AND w.disabled_at IS NULL",
            placeholders(1, providers.len())
        ),
        &args,
        |row| {
            Ok((
                row.get("id")?,
                row.get("provider_id")?,
                row.get("event_types")?,
            ))
        },
    )
    .await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    for (event, provider, kind) in events {
        let Some(kind) = EventKind::parse(kind) else {
            continue;
        };
        for (endpoint, owner, types) in &endpoints {
            let wanted = Webhook::parse_event_types(types);
            if owner == provider && (wanted.is_empty() || wanted.contains(&kind)) {
                insert_delivery(tx, *endpoint, *event, now).await?;
            }
        }
    }
    Ok(())
}

pub(crate) async fn insert_delivery(
    tx: &mut dyn Executor,
    endpoint: i64,
    event: EventId,
    now: DateTime<Utc>,
) -> Result<()> {
    let columns = Columns::new()
        .with("endpoint_id", endpoint)
        .with("event_id", event)
        .with("state", "pending")
        .with("attempts", 0i64)
        .with("created_at", now);
    insert(tx, "webhook_deliveries", columns).await
}

/// The provider's sequenced events after `after`, oldest first, at most
/// `limit`, with the log's state from the same snapshot.
pub(crate) async fn feed(
    tx: &mut dyn Executor,
    provider: ProviderId,
    after: i64,
    limit: u32,
) -> Result<EventPage> {
    let (last_cursor, pruned_through) = fetch_one(
        tx,
        "SELECT last_cursor, pruned_through FROM event_log WHERE id = 1",
        &[],
        |row| {
            Ok((
                row.get::<i64>("last_cursor")?,
                row.get::<i64>("pruned_through")?,
            ))
        },
    )
    .await?;
    let events = fetch_all(
        tx,
        "SELECT * FROM events WHERE provider_id = $1 AND seq > $2 AND seq <= $3
         ORDER BY seq LIMIT $4",
        &[
            provider.into(),
            after.into(),
            last_cursor.into(),
            i64::from(limit).into(),
        ],
        event,
    )
    .await?;
    Ok(EventPage {
        events,
        last_cursor,
        pruned_through,
    })
}

/// Removes sequenced events that occurred before `before`, with their
/// deliveries, and remembers the highest cursor removed. Appends `audit`
/// naming the count when anything was removed.
pub(crate) async fn prune(
    tx: &mut dyn Executor,
    before: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<u64> {
    let highest: Option<i64> = fetch_one(
        tx,
        "SELECT MAX(seq) AS highest FROM events WHERE seq IS NOT NULL AND occurred_at < $1",
        &[before.into()],
        |row| row.get("highest"),
    )
    .await?;
    let Some(highest) = highest else {
        return Ok(0);
    };
    execute(
        tx,
        "DELETE FROM webhook_deliveries WHERE event_id IN
             (SELECT id FROM events WHERE seq IS NOT NULL AND seq <= $1)",
        &[highest.into()],
    )
    .await?;
    let removed = execute(
        tx,
        "DELETE FROM events WHERE seq IS NOT NULL AND seq <= $1",
        &[highest.into()],
    )
    .await?;
    execute(
        tx,
        "UPDATE event_log SET pruned_through = $1 WHERE id = 1 AND pruned_through < $1",
        &[highest.into()],
    )
    .await?;
    let mut entry = audit_entry;
    entry.records.insert(format!("events:{removed}"));
    audit::append(tx, vec![entry]).await?;
    Ok(removed)
}
