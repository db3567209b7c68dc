//! The storage operations that are more than one statement function run
//! in one kind of transaction: keyset-paged lists, a ticket's detail read
//! the cheap way when it can be, idempotent ticket writes with their
//! deadlines, the audit queue, escalation's quick look before its write,
//! the event sequencer's mark before its write, and the engine's own
//! state. Each is named in the domain's role declarations as `custom`,
//! and called from there.

use std::sync::Arc;
use std::time::{Duration, Instant};

use connecticket_domain::audit::{AuditEntry, RecordRef};
use connecticket_domain::model::{
    CommentId, NewAttachment, NewComment, NewTicket, Page, ProviderId, Resident, Ticket,
    TicketDetail, TicketId, TicketQuery,
};
use connecticket_domain::notify::EscalationStep;
use connecticket_domain::store::{
    RowStream, SchemaStatus, StatusUpdate, StoreLoad, WriteContext, Written, STREAM_CHUNK_ROWS,
};
use connecticket_domain::StoreError;

use chrono::{DateTime, Utc};

use crate::engine::Engine;
use crate::ops::idempotency::once;
use crate::ops::ticket_reads::Window;
use crate::ops::{escalations, events, ticket_detail, ticket_reads, ticket_writes};
use crate::sql::fetch_one;
use crate::store::SqlStore;

type Result<T> = std::result::Result<T, StoreError>;

/// A list read one short query at a time: a client's page in one read,
/// a whole list in keyset chunks (`id > last`), each chunk a read of its
/// own. No connection or snapshot is held between chunks, however slowly
/// the client reads, so writers, checkpoints and vacuum go on meanwhile;
/// every row is sent at most once, in id order.
fn keyset_list<E, T, J>(
    engine: Arc<E>,
    page: Option<Page>,
    id_of: fn(&T) -> i64,
    read: impl Fn(Window) -> J + Send + Sync + 'static,
) -> RowStream<T>
where
    E: Engine,
    T: Send + 'static,
    J: crate::engine::Job<Vec<T>>,
{
    let first = match page {
        Some(page) => Window::Page(page),
        None => Window::After {
            after: 0,
            limit: STREAM_CHUNK_ROWS as i64,
        },
    };
    Box::pin(futures::stream::unfold(Some(first), move |window| {
        let engine = Arc::clone(&engine);
        let job = window.map(&read);
        async move {
            let window = window?;
            let rows = match engine.read_statement(job?).await {
                Ok(rows) => rows,
                Err(error) => return Some((Err(error), None)),
            };
            let next = match (window, rows.last()) {
                (Window::After { limit, .. }, Some(last)) if rows.len() as i64 == limit => {
                    Some(Window::After {
                        after: id_of(last),
                        limit,
                    })
                }
                _ => None,
            };
            if rows.is_empty() && matches!(window, Window::After { after, .. } if after > 0) {
                return None;
            }
            Some((Ok(rows), next))
        }
    }))
}

pub(crate) fn tickets<E: Engine>(
    store: &SqlStore<E>,
    provider: ProviderId,
    query: TicketQuery,
) -> RowStream<Ticket> {
    let query = Arc::new(query);
    keyset_list(
        store.shared_engine(),
        query.page,
        |ticket: &Ticket| ticket.id.get(),
        move |window| {
            let query = Arc::clone(&query);
            move |tx| {
                Box::pin(async move { ticket_reads::tickets(tx, provider, &query, window).await })
            }
        },
    )
}

pub(crate) fn residents<E: Engine>(
    store: &SqlStore<E>,
    provider: ProviderId,
    page: Option<Page>,
) -> RowStream<Resident> {
    keyset_list(
        store.shared_engine(),
        page,
        |resident: &Resident| resident.id.get(),
        move |window| move |tx| Box::pin(ticket_reads::residents(tx, provider, window)),
    )
}

pub(crate) async fn ticket_detail<E: Engine>(
    store: &SqlStore<E>,
    provider: ProviderId,
    ticket: TicketId,
) -> Result<Option<TicketDetail>> {
    let engine = store.engine();
    if !ticket_detail::in_one_statement(engine.dialect()) {
        return engine
            .read(move |tx| Box::pin(ticket_detail::ticket_detail(tx, provider, ticket)))
            .await;
    }
    // Most tickets notify no one, and their detail is one statement. One
    // that notifies is read again in a transaction, so that its
    // notifications agree with the rest.
    let detail = engine
        .read_statement(move |tx| {
            Box::pin(ticket_detail::without_notifications(tx, provider, ticket))
        })
        .await?;
    match detail {
        Some(detail) if ticket_detail::notifies(&detail.ticket) => {
            engine
                .read(move |tx| Box::pin(ticket_detail::ticket_detail(tx, provider, ticket)))
                .await
        }
        other => Ok(other),
    }
}

pub(crate) async fn create_ticket<E: Engine>(
    store: &SqlStore<E>,
    provider: ProviderId,
    ticket: NewTicket,
    context: WriteContext,
) -> Result<Written<TicketId>> {
    let created = |id| RecordRef::Ticket(TicketId(id));
    store
        .engine()
        .write_by(context.deadline, move |tx| {
            Box::pin(once(tx, context, created, move |tx| {
                Box::pin(ticket_writes::create_ticket(tx, provider, ticket))
            }))
        })
        .await
        .map(|written| written.map(TicketId))
}

pub(crate) async fn create_comment<E: Engine>(
    store: &SqlStore<E>,
    provider: ProviderId,
    ticket: TicketId,
    comment: NewComment,
    context: WriteContext,
) -> Result<Written<CommentId>> {
    let created = |id| RecordRef::Comment(CommentId(id));
    store
        .engine()
        .write_by(context.deadline, move |tx| {
            Box::pin(once(tx, context, created, move |tx| {
                Box::pin(ticket_writes::create_comment(tx, provider, ticket, comment))
            }))
        })
        .await
        .map(|written| written.map(CommentId))
}

pub(crate) async fn add_attachments<E: Engine>(
    store: &SqlStore<E>,
    provider: ProviderId,
    ticket: TicketId,
    attachments: Vec<NewAttachment>,
    at: DateTime<Utc>,
    context: WriteContext,
) -> Result<Written<TicketId>> {
    let created = |id| RecordRef::Ticket(TicketId(id));
    store
        .engine()
        .write_by(context.deadline, move |tx| {
            Box::pin(once(tx, context, created, move |tx| {
                Box::pin(ticket_writes::add_attachments(
                    tx,
                    provider,
                    ticket,
                    attachments,
                    at,
                ))
            }))
        })
        .await
        .map(|written| written.map(TicketId))
}

pub(crate) async fn update_status<E: Engine>(
    store: &SqlStore<E>,
    provider: ProviderId,
    update: StatusUpdate,
    context: WriteContext,
) -> Result<Written<TicketId>> {
    let created = |id| RecordRef::Ticket(TicketId(id));
    store
        .engine()
        .write_by(context.deadline, move |tx| {
            Box::pin(once(tx, context, created, move |tx| {
                Box::pin(ticket_writes::update_status(tx, provider, update))
            }))
        })
        .await
        .map(|written| written.map(TicketId))
}

pub(crate) async fn append_audit<E: Engine>(store: &SqlStore<E>, entry: AuditEntry) -> Result<()> {
    store.engine().append_audit(entry).await
}

pub(crate) async fn escalate_due<E: Engine>(
    store: &SqlStore<E>,
    now: DateTime<Utc>,
    limit: u32,
    audit: AuditEntry,
) -> Result<Vec<EscalationStep>> {
    // Most looks find nothing due; they cost one indexed read.
    let engine = store.engine();
    let due = engine
        .read(move |tx| Box::pin(escalations::any_due(tx, now)))
        .await?;
    if !due {
        return Ok(Vec::new());
    }
    engine
        .write(move |tx| Box::pin(escalations::escalate_due(tx, now, limit, audit)))
        .await
}

/// How long the sequencer waits for the writers older than its mark to
/// end before it gives up the round (the next one takes a fresh mark).
/// Only a write transaction open this long holds the feed back.
const SETTLE_PATIENCE: Duration = Duration::from_secs(2);

/// Reads the mark, waits until every event at or below it is settled,
/// then publishes. The wait holds no connection and no lock: a look at
/// the running transactions every few milliseconds.
pub(crate) async fn sequence_events<E: Engine>(
    store: &SqlStore<E>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<u64> {
    let engine = store.engine();
    let mark = engine.read(|tx| Box::pin(events::mark(tx))).await?;
    if mark.newest <= mark.published {
        return Ok(0);
    }
    if let Some(fence) = mark.fence {
        if !settle(engine, fence).await? {
            tracing::debug!("a write older than the event mark is still open");
            return Ok(0);
        }
    }
    let through = mark.newest;
    engine
        .write(move |tx| Box::pin(events::sequence(tx, through, limit, now)))
        .await
}

async fn settle<E: Engine>(engine: &E, fence: i64) -> Result<bool> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        let settled = engine
            .read_statement(move |tx| Box::pin(events::settled(tx, fence)))
            .await?;
        if settled {
            return Ok(true);
        }
        if started.elapsed() >= SETTLE_PATIENCE {
            return Ok(false);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

pub(crate) async fn schema_status<E: Engine>(store: &SqlStore<E>) -> Result<SchemaStatus> {
    let engine = store.engine();
    let expected = engine.known_schema_version();
    let current = engine
        .read_statement(|tx| {
            Box::pin(async move {
                let sql = tx.dialect().schema_version_sql();
                fetch_one(tx, sql, &[], |row| row.get::<i64>("version")).await
            })
        })
        .await?;
    Ok(SchemaStatus { current, expected })
}

pub(crate) fn load<E: Engine>(store: &SqlStore<E>) -> StoreLoad {
    store.engine().load()
}

pub(crate) fn close<E: Engine>(store: &SqlStore<E>) -> futures::future::BoxFuture<'_, ()> {
    Box::pin(store.engine().close())
}
