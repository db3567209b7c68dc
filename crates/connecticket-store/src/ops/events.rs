//! The event log behind the change feed and webhooks. `record` runs inside
//! the write that makes the change; an event's id is its cursor. The
//! sequencer later publishes how far the ids are settled (every event at
//! or below the mark has committed or never will) and queues the
//! deliveries of the events it publishes.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::AuditEntry;
use connecticket_domain::events::webhooks::Webhook;
use connecticket_domain::events::{Event, EventKind, EventPage, NewEvent};
use connecticket_domain::model::{EventId, ProviderId};
use connecticket_domain::StoreError;

use super::audit;
use crate::engine::{Dialect, Executor};
use crate::one_statement::OneStatement;
use crate::sql::{
    execute, fetch_all, fetch_one, fetch_optional, insert, placeholders, Columns, Result,
};
use crate::value::{Row, Value};

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
    let id: EventId = row.get("id")?;
    Ok(Event {
        id,
        cursor: id.get(),
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

/// Where the sequencer stands before it publishes: the newest event id
/// handed out, and on PostgreSQL the fence that tells when every writer
/// holding an id at or below it has ended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    pub(crate) published: i64,
    pub(crate) newest: i64,
    /// A transaction id taken after `newest` was read. A writer takes its
    /// transaction id before its event's id (`next_event_id()`), so every
    /// writer holding an id at or below `newest` has an older one.
    pub(crate) fence: Option<i64>,
}

/// Reads the mark (a read transaction). On SQLite, whose one writer
/// commits in id order, every id a reader sees is settled already.
pub(crate) async fn mark(tx: &mut dyn Executor) -> Result<Mark> {
    let published = fetch_one(
        tx,
        "SELECT last_cursor FROM event_log WHERE id = 1",
        &[],
        |row| row.get::<i64>("last_cursor"),
    )
    .await?;
    let newest_sql = match tx.dialect() {
        Dialect::Sqlite => "SELECT COALESCE(MAX(id), 0) AS newest FROM events",
        Dialect::Postgres => {
            "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS newest
             FROM events_id_seq"
        }
    };
    let newest = fetch_one(tx, newest_sql, &[], |row| row.get::<i64>("newest")).await?;
    let fence = match tx.dialect() {
        _ if newest <= published => None,
        Dialect::Sqlite => None,
        // A statement of its own, after the one that read `newest`.
        Dialect::Postgres => Some(
            fetch_one(
                tx,
                "SELECT CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT) AS fence",
                &[],
                |row| row.get::<i64>("fence"),
            )
            .await?,
        ),
    };
    Ok(Mark {
        published,
        newest,
        fence,
    })
}

/// Whether every transaction of this database older than `fence` has
/// ended (PostgreSQL). Transactions of other databases on the server are
/// not waited for: they write no events here.
pub(crate) async fn settled(tx: &mut dyn Executor, fence: i64) -> Result<bool> {
    fetch_one(
        tx,
        "SELECT NOT EXISTS (
             SELECT 1 FROM pg_stat_activity
             WHERE datname = current_database() AND backend_xid IS NOT NULL
               AND age(backend_xid) > age(CAST(CAST(CAST($1 AS TEXT) AS xid8) AS xid))
         ) AS settled",
        &[fence.into()],
        |row| row.get::<bool>("settled"),
    )
    .await
}

/// Publishes the events above the last published cursor up to `through`
/// (a settled mark), at most `limit` of them, and queues a delivery for
/// every live endpoint of their provider that wants them. The event log's
/// row is locked first, so sequencers (on any instance) take turns and
/// the published cursor only grows; one that finds it locked does
/// nothing this round. Answers how many events it published.
pub(crate) async fn sequence(
    tx: &mut dyn Executor,
    through: i64,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<u64> {
    // Another instance's sequencer at work: its turn, not a wait.
    let lock = tx.dialect().for_update_skip_locked();
    let last: Option<i64> = fetch_optional(
        tx,
        &format!("SELECT last_cursor FROM event_log WHERE id = 1{lock}"),
        &[],
        |row| row.get("last_cursor"),
    )
    .await?;
    // A batch of none would publish events without queueing them.
    let Some(last) = last.filter(|last| *last < through && limit > 0) else {
        return Ok(0);
    };
    let waiting: Vec<(EventId, ProviderId, String)> = fetch_all(
        tx,
        "SELECT id, provider_id, kind FROM events WHERE id > $1 AND id <= $2
         ORDER BY id LIMIT $3",
        &[last.into(), through.into(), i64::from(limit).into()],
        |row| Ok((row.get("id")?, row.get("provider_id")?, row.get("kind")?)),
    )
    .await?;
    // A full batch publishes through its last event; the rest next time.
    let published = match waiting.last() {
        Some((id, _, _)) if waiting.len() as u64 == u64::from(limit) => id.get(),
        _ => through,
    };
    execute(
        tx,
        "UPDATE event_log SET last_cursor = $1 WHERE id = 1",
        &[published.into()],
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

/// The provider's published events after `after`, oldest first, at most
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
        "SELECT * FROM events WHERE provider_id = $1 AND id > $2 AND id <= $3
         ORDER BY id LIMIT $4",
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

/// Removes published events that occurred before `before`, with their
/// deliveries, and remembers the highest cursor removed. Appends `audit`
/// naming the count when anything was removed.
pub(crate) async fn prune(
    tx: &mut dyn Executor,
    before: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<u64> {
    let highest: Option<i64> = fetch_one(
        tx,
        "SELECT MAX(id) AS highest FROM events
         WHERE id <= (SELECT last_cursor FROM event_log WHERE id = 1) AND occurred_at < $1",
        &[before.into()],
        |row| row.get("highest"),
    )
    .await?;
    let Some(highest) = highest else {
        return Ok(0);
    };
    execute(
        tx,
        "DELETE FROM webhook_deliveries WHERE event_id <= $1",
        &[highest.into()],
    )
    .await?;
    let removed = execute(tx, "DELETE FROM events WHERE id <= $1", &[highest.into()]).await?;
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
