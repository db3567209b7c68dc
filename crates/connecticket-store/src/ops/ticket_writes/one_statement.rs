//! The ticket writes on PostgreSQL, where every statement is a round trip:
//! what a write must know is read first (one statement, which also takes
//! the new rows' ids from their sequences, so that the audit entry can
//! name them), then every change it makes is sent as one statement
//! ([`OneStatement`]), which the idempotency key's result and the audit
//! entry join (`idempotency::once`). The checks, plans and rows are the
//! generic path's, so both engines answer alike.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::RecordRef;
use connecticket_domain::events::{EventKind, NewEvent};
use connecticket_domain::model::{
    AttachmentId, CommentId, NewAttachment, NewComment, NewTicket, ProviderId, TicketId,
};
use connecticket_domain::notify::EscalationState;
use connecticket_domain::store::StatusUpdate;
use connecticket_domain::{Entity, StoreError};

use super::{
    attachment_row, check_categories, comment_row, move_status_sql, opening, plan_new_ticket,
    plan_status_change, ratings, resolves, status_change_columns, status_change_row,
    status_changed, stored_ticket, touch_sql, Locked,
};
use crate::engine::Executor;
use crate::one_statement::OneStatement;
use crate::ops::idempotency::Done;
use crate::ops::{escalations, events, notifications};
use crate::rows;
use crate::sql::{fetch_all, fetch_optional, Columns, Result};
use crate::value::Row;

/// The resident, its provider's categories (one row each, or one without
/// a category), and the ids of the new ticket and its `$3` files, taken
/// only if the resident is the provider's. `nextval` is volatile, so
/// PostgreSQL runs the `ids` part once, not once per category.
const RESIDENT_CATEGORIES_AND_IDS: &str = "WITH resident AS (
         SELECT provider_id FROM residents WHERE id = $1 AND provider_id = $2),
     ids AS (
         SELECT nextval('tickets_id_seq') AS ticket_id,
                (SELECT string_agg(CAST(nextval('attachments_id_seq') AS TEXT), ',')
                 FROM generate_series(1, $3)) AS attachment_ids
         FROM resident)
     SELECT ids.ticket_id, ids.attachment_ids, c.id AS category_id
     FROM ids CROSS JOIN resident
     LEFT JOIN categories c ON c.provider_id = resident.provider_id";

pub(super) async fn create_ticket(
    tx: &mut dyn Executor,
    provider: ProviderId,
    mut ticket: NewTicket,
) -> Result<Done> {
    let files = ticket.attachments.len() as i64;
    let found = fetch_all(
        tx,
        RESIDENT_CATEGORIES_AND_IDS,
        &[ticket.resident_id.into(), provider.into(), files.into()],
        |row| {
            Ok((
                row.get::<i64>("ticket_id")?,
                row.get::<Option<String>>("attachment_ids")?,
                row.get::<Option<i64>>("category_id")?,
            ))
        },
    )
    .await?;
    let categories: Vec<Option<i64>> = found.iter().map(|(_, _, category)| *category).collect();
    check_categories(&categories, &ticket)?;
    let Some((ticket_id, attachment_ids, _)) = found.into_iter().next() else {
        return Err(StoreError::NotFound(Entity::Resident));
    };
    let ticket_id = TicketId(ticket_id);
    let planned = plan_new_ticket(tx, provider, &ticket).await?;
    let mut stored = stored_ticket(provider, &ticket, planned.told());
    stored.ticket.id = ticket_id;

    let mut statement = OneStatement::new();
    statement.insert("tickets", vec![rows::ticket_columns(&stored).into_owned()])?;
    let rated = ratings(ticket_id, &ticket);
    statement.insert(
        "ticket_categories",
        owned(rated.iter().map(rows::rating_columns)),
    )?;
    let comments: Vec<_> = ticket
        .comments
        .iter()
        .map(|comment| comment_row(ticket_id, CommentId(0), comment))
        .collect();
    statement.insert(
        "comments",
        owned(
            comments
                .iter()
                .map(|c| rows::comment_columns(c).without("id")),
        ),
    )?;
    let (opened, change, event) = opening(provider, ticket_id, &ticket);
    let attachments = std::mem::take(&mut ticket.attachments);
    let touched = insert_attachments(
        &mut statement,
        ticket_id,
        attachments,
        attachment_ids,
        ticket.created_at,
    )?;
    let opened = status_change_row(None, &opened);
    statement.insert(
        "ticket_status_changes",
        vec![status_change_columns(&opened).into_owned()],
    )?;
    notifications::enqueue_within(tx, &mut statement, planned, change).await?;
    events::record_within(&mut statement, event)?;
    Ok(Done {
        id: ticket_id.get(),
        touched,
        statement: Some(statement),
    })
}

fn owned<'a>(columns: impl Iterator<Item = Columns<'a>>) -> Vec<Columns<'static>> {
    columns.map(Columns::into_owned).collect()
}

/// Adds the files' rows under the ids read for them (`ids`, comma
/// separated); answers the records they became.
fn insert_attachments(
    statement: &mut OneStatement,
    ticket_id: TicketId,
    attachments: Vec<NewAttachment>,
    ids: Option<String>,
    at: DateTime<Utc>,
) -> Result<Vec<RecordRef>> {
    let ids = ids
        .unwrap_or_default()
        .split(',')
        .filter(|id| !id.is_empty())
        .map(|id| id.parse::<i64>().map(AttachmentId))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| StoreError::Corrupt("an attachment id that is not a number".to_owned()))?;
    if ids.len() != attachments.len() {
        return Err(StoreError::Corrupt(format!(
            "{} attachment ids read for {} files",
            ids.len(),
            attachments.len()
        )));
    }
    let stored: Vec<_> = attachments
        .into_iter()
        .zip(&ids)
        .map(|(attachment, id)| attachment_row(ticket_id, *id, attachment, at))
        .collect();
    statement.insert(
        "attachments",
        owned(stored.iter().map(rows::attachment_columns)),
    )?;
    Ok(ids.into_iter().map(RecordRef::Attachment).collect())
}

/// The ticket, locked as `lock_ticket` locks it, with the ids its new
/// comment (`$3`: 1 if there is one) or files (`$4`) will have, and
/// whether the comment's category (`$5`) is the provider's.
const LOCK_WITH_IDS: &str = "SELECT t.resident_id, t.ticket_status, t.urgency_status_id,
         t.email, t.sms, t.version,
         CASE WHEN $3 > 0 THEN nextval('comments_id_seq') END AS comment_id,
         (SELECT string_agg(CAST(nextval('attachments_id_seq') AS TEXT), ',')
          FROM generate_series(1, $4)) AS attachment_ids,
         EXISTS (SELECT 1 FROM categories WHERE id = $5 AND provider_id = $2) AS category_owned
     FROM tickets t WHERE t.id = $1 AND t.provider_id = $2 FOR NO KEY UPDATE OF t";

struct LockedWithIds {
    ticket: Locked,
    comment_id: Option<i64>,
    attachment_ids: Option<String>,
    category_owned: bool,
}

async fn lock_with_ids(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
    comment: Option<&NewComment>,
    files: usize,
) -> Result<LockedWithIds> {
    let category = comment.and_then(|c| c.category_id);
    let read = |row: &dyn Row| {
        Ok(LockedWithIds {
            ticket: Locked::read(row)?,
            comment_id: row.get("comment_id")?,
            attachment_ids: row.get("attachment_ids")?,
            category_owned: row.get("category_owned")?,
        })
    };
    let args = [
        ticket_id.into(),
        provider.into(),
        i64::from(comment.is_some()).into(),
        (files as i64).into(),
        category.into(),
    ];
    fetch_optional(tx, LOCK_WITH_IDS, &args, read)
        .await?
        .ok_or(StoreError::NotFound(Entity::Ticket))
}

fn touch(statement: &mut OneStatement, ticket_id: TicketId, at: DateTime<Utc>) {
    statement.change(&touch_sql("GREATEST"), vec![ticket_id.into(), at.into()]);
}

pub(super) async fn create_comment(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
    comment: NewComment,
) -> Result<Done> {
    let locked = lock_with_ids(tx, provider, ticket_id, Some(&comment), 0).await?;
    if comment.category_id.is_some() && !locked.category_owned {
        return Err(StoreError::NotFound(Entity::Category));
    }
    let comment_id = locked
        .comment_id
        .map(CommentId)
        .ok_or_else(|| StoreError::Corrupt("no id was taken for a comment".to_owned()))?;
    let resident_id = locked.ticket.resident_id;
    let mut statement = OneStatement::new();
    let stored = comment_row(ticket_id, comment_id, &comment);
    statement.insert(
        "comments",
        vec![rows::comment_columns(&stored).into_owned()],
    )?;
    touch(&mut statement, ticket_id, comment.created_at);
    let added = EventKind::TicketCommentAdded;
    let event = NewEvent::ticket(provider, added, ticket_id, resident_id, comment.created_at);
    events::record_within(&mut statement, event)?;
    Ok(Done {
        id: comment_id.get(),
        touched: vec![
            RecordRef::Ticket(ticket_id),
            RecordRef::Resident(resident_id),
        ],
        statement: Some(statement),
    })
}

pub(super) async fn add_attachments(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
    attachments: Vec<NewAttachment>,
    at: DateTime<Utc>,
) -> Result<Done> {
    let locked = lock_with_ids(tx, provider, ticket_id, None, attachments.len()).await?;
    let resident_id = locked.ticket.resident_id;
    let mut statement = OneStatement::new();
    let mut touched = insert_attachments(
        &mut statement,
        ticket_id,
        attachments,
        locked.attachment_ids,
        at,
    )?;
    touched.push(RecordRef::Resident(resident_id));
    touch(&mut statement, ticket_id, at);
    let added = EventKind::TicketAttachmentAdded;
    events::record_within(
        &mut statement,
        NewEvent::ticket(provider, added, ticket_id, resident_id, at),
    )?;
    Ok(Done {
        id: ticket_id.get(),
        touched,
        statement: Some(statement),
    })
}

/// A status change after the generic path locked and checked the ticket
/// (`done` is its answer).
pub(super) async fn update_status(
    tx: &mut dyn Executor,
    provider: ProviderId,
    update: StatusUpdate,
    ticket: Locked,
    done: Done,
) -> Result<Done> {
    let mut statement = OneStatement::new();
    statement.change(
        &move_status_sql("GREATEST"),
        vec![
            update.ticket_id.into(),
            update.status.into(),
            update.at.into(),
        ],
    );
    let changed = status_change_row(Some(ticket.status), &update);
    statement.insert(
        "ticket_status_changes",
        vec![status_change_columns(&changed).into_owned()],
    )?;
    events::record_within(&mut statement, status_changed(provider, &update, &ticket))?;
    if resolves(&update) {
        escalations::end_within(
            &mut statement,
            update.ticket_id,
            EscalationState::Stopped,
            update.at,
        );
    }
    let (planned, change) = plan_status_change(tx, provider, &update, &ticket).await?;
    notifications::enqueue_within(tx, &mut statement, planned, change).await?;
    Ok(Done {
        statement: Some(statement),
        ..done
    })
}
