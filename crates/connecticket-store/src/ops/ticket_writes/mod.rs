//! The writes about tickets. Each runs inside the caller's write
//! transaction; an error rolls back everything the call wrote. On
//! PostgreSQL each gathers its changes into one statement
//! (`one_statement.rs`); the checks, plans and rows are this file's, for
//! both engines.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::RecordRef;
use connecticket_domain::model::{
    AttachmentId, CategoryId, CommentId, NewAttachment, NewComment, NewTicket, ProviderId,
    ResidentId, Ticket, TicketId,
};
use connecticket_domain::store::StatusUpdate;
use connecticket_domain::transfer::{
    StoredAttachment, StoredComment, StoredRating, StoredStatusChange, StoredTicket,
};
use connecticket_domain::workflow::TicketStatus;
use connecticket_domain::{Entity, StoreError};

use super::idempotency::Done;
use super::notifications::{self, Asked, Change};
use super::require_owned;
use crate::engine::Executor;
use crate::rows;
use crate::sql::{
    execute, fetch_all, fetch_optional, insert, insert_returning_id, insert_rows, Result,
};
use connecticket_domain::events::{EventKind, NewEvent};
use connecticket_domain::notify::{ChannelChoice, EscalationState, NotifyEvent, NotifyRequest};

use super::events;

mod one_statement;

/// The resident and every category it may be rated in, in one statement:
/// on PostgreSQL each statement is a round trip. No row: the resident is
/// not the provider's; one row without a category: the provider has none.
const RESIDENT_AND_CATEGORIES: &str = "SELECT c.id AS category_id FROM residents r
     LEFT JOIN categories c ON c.provider_id = r.provider_id
     WHERE r.id = $1 AND r.provider_id = $2";

pub(crate) async fn create_ticket(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket: NewTicket,
) -> Result<Done> {
    // A ticket imported with its id keeps the generic path, which moves
    // the identity past it.
    if tx.dialect().modifies_in_with() && ticket.id.is_none() {
        return one_statement::create_ticket(tx, provider, ticket).await;
    }
    let rows = fetch_all(
        tx,
        RESIDENT_AND_CATEGORIES,
        &[ticket.resident_id.into(), provider.into()],
        |row| row.get::<Option<i64>>("category_id"),
    )
    .await?;
    check_categories(&rows, &ticket)?;
    let planned = plan_new_ticket(tx, provider, &ticket).await?;
    let stored = stored_ticket(provider, &ticket, planned.told());
    let columns = rows::ticket_columns(&stored);
    let ticket_id = match ticket.id {
        Some(id) => {
            insert(tx, "tickets", columns).await?;
            tx.advance_identity("tickets").await?;
            id
        }
        None => TicketId(insert_returning_id(tx, "tickets", columns.without("id")).await?),
    };
    insert_rows(
        tx,
        "ticket_categories",
        ratings(ticket_id, &ticket)
            .iter()
            .map(rows::rating_columns)
            .collect(),
    )
    .await?;
    for comment in &ticket.comments {
        insert_comment(tx, ticket_id, comment).await?;
    }
    let (opened, change, event) = opening(provider, ticket_id, &ticket);
    let touched = insert_attachments(tx, ticket_id, ticket.attachments, ticket.created_at).await?;
    record_status_change(tx, None, &opened).await?;
    notifications::enqueue(tx, planned, change).await?;
    events::record(tx, event).await?;
    Ok(Done::written(ticket_id.get(), touched))
}

/// `NotFound` unless the resident was found (`categories` holds a row)
/// and every category the ticket names is among its provider's.
fn check_categories(categories: &[Option<i64>], ticket: &NewTicket) -> Result<()> {
    if categories.is_empty() {
        return Err(StoreError::NotFound(Entity::Resident));
    }
    let owned = |category: CategoryId| categories.contains(&Some(category.get()));
    let mut named = ticket
        .ratings
        .iter()
        .map(|rating| rating.category_id)
        .chain(ticket.comments.iter().filter_map(|c| c.category_id));
    if named.any(|category| !owned(category)) {
        return Err(StoreError::NotFound(Entity::Category));
    }
    Ok(())
}

/// Who is told is planned first, so that the ticket's flags say who was
/// told (docs/NOTIFICATIONS.md, "Who is told").
async fn plan_new_ticket(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket: &NewTicket,
) -> Result<notifications::Planned> {
    notifications::plan(
        tx,
        provider,
        ticket.resident_id,
        Asked::NewTicket(ticket.notify_request()),
        ticket.urgency.id,
        ticket.created_at,
    )
    .await
}

/// The new ticket's row (its id, if the database is to give it, 0).
fn stored_ticket(
    provider: ProviderId,
    ticket: &NewTicket,
    told: notifications::Told,
) -> StoredTicket {
    StoredTicket {
        ticket: Ticket {
            id: ticket.id.unwrap_or(TicketId(0)),
            provider_id: provider,
            title: ticket.title.clone(),
            resident_id: ticket.resident_id,
            employee_id: ticket.employee_id,
            urgency_status_id: ticket.urgency.id,
            ticket_status: ticket.ticket_status,
            ticket_type: ticket.ticket_type.clone(),
            state: ticket.state,
            sms: Some(told.sms),
            email: Some(told.email),
            sent_to_family: Some(told.family),
            sent_to_healthcare_pro: Some(told.healthcare_professional),
            sent_to_primary: Some(told.primary_physician),
            start_date: ticket.start_date,
            end_date: ticket.end_date,
            created_at: ticket.created_at,
            updated_at: ticket.created_at,
        },
        application_id: ticket.application_id,
        version: 1,
    }
}

fn ratings(ticket_id: TicketId, ticket: &NewTicket) -> Vec<StoredRating> {
    ticket
        .ratings
        .iter()
        .map(|rating| StoredRating {
            ticket_id,
            category_id: rating.category_id,
            status: rating.rating,
        })
        .collect()
}

/// A new ticket's first status, the change its notifications describe,
/// and its event.
fn opening(
    provider: ProviderId,
    ticket_id: TicketId,
    ticket: &NewTicket,
) -> (StatusUpdate, Change, NewEvent) {
    let opened = StatusUpdate {
        ticket_id,
        status: ticket.ticket_status,
        employee_id: ticket.employee_id,
        application_id: ticket.application_id,
        at: ticket.created_at,
        notify: NotifyRequest::default(),
        expected_version: None,
    };
    let change = Change {
        provider,
        ticket: ticket_id,
        resident: ticket.resident_id,
        event: NotifyEvent::TicketCreated,
        urgency_status_id: ticket.urgency.id,
        ticket_status: ticket.ticket_status.as_str().to_owned(),
        at: ticket.created_at,
    };
    let event = NewEvent::ticket(
        provider,
        EventKind::TicketCreated,
        ticket_id,
        ticket.resident_id,
        ticket.created_at,
    )
    .with_status(ticket.ticket_status.as_str());
    (opened, change, event)
}

async fn insert_comment(
    tx: &mut dyn Executor,
    ticket_id: TicketId,
    comment: &NewComment,
) -> Result<CommentId> {
    let stored = comment_row(ticket_id, CommentId(0), comment);
    let columns = rows::comment_columns(&stored).without("id");
    insert_returning_id(tx, "comments", columns)
        .await
        .map(CommentId)
}

/// A comment's row (its id, if the database is to give it, 0).
fn comment_row(ticket_id: TicketId, id: CommentId, comment: &NewComment) -> StoredComment {
    StoredComment {
        id,
        ticket_id,
        category_id: comment.category_id,
        employee_id: comment.employee_id,
        body: comment.body.clone(),
        created_at: comment.created_at,
    }
}

async fn record_status_change(
    tx: &mut dyn Executor,
    from: Option<TicketStatus>,
    update: &StatusUpdate,
) -> Result<()> {
    let change = status_change_row(from, update);
    insert(tx, "ticket_status_changes", status_change_columns(&change)).await
}

fn status_change_row(from: Option<TicketStatus>, update: &StatusUpdate) -> StoredStatusChange {
    StoredStatusChange {
        id: 0,
        ticket_id: update.ticket_id,
        employee_id: update.employee_id,
        application_id: update.application_id,
        from_status: from,
        to_status: update.status,
        changed_at: update.at,
    }
}

fn status_change_columns(change: &StoredStatusChange) -> crate::sql::Columns<'_> {
    rows::status_change_columns(change).without("id")
}

/// What a change to a ticket needs to know of it.
struct Locked {
    resident_id: ResidentId,
    status: TicketStatus,
    urgency_status_id: i64,
    email: bool,
    sms: bool,
    /// Raised by every change (FHIR's versionId).
    version: i64,
}

impl Locked {
    fn read(row: &dyn crate::value::Row) -> Result<Self> {
        Ok(Locked {
            resident_id: row.get("resident_id")?,
            status: row.get("ticket_status")?,
            urgency_status_id: row.get("urgency_status_id")?,
            email: row.get::<Option<bool>>("email")?.unwrap_or(false),
            sms: row.get::<Option<bool>>("sms")?.unwrap_or(false),
            version: row.get("version")?,
        })
    }
}

/// A ticket of the provider, locked until the transaction ends so that
/// concurrent changes to it (from any instance) happen one after another.
async fn lock_ticket(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
) -> Result<Locked> {
    let sql = format!(
        "SELECT resident_id, ticket_status, urgency_status_id, email, sms, version
         FROM tickets WHERE id = $1 AND provider_id = $2{}",
        tx.dialect().for_update()
    );
    fetch_optional(tx, &sql, &[ticket_id.into(), provider.into()], Locked::read)
        .await?
        .ok_or(StoreError::NotFound(Entity::Ticket))
}

/// Moves `updated_at` forward, never back (`$1` the ticket, `$2` the
/// time; `{}` the dialect's `greatest`).
fn touch_sql(greatest: &str) -> String {
    format!(
        "UPDATE tickets SET updated_at = {greatest}(updated_at, $2), version = version + 1 WHERE id = $1"
    )
}

async fn touch_ticket(tx: &mut dyn Executor, ticket_id: TicketId, at: DateTime<Utc>) -> Result<()> {
    let sql = touch_sql(tx.dialect().greatest());
    execute(tx, &sql, &[ticket_id.into(), at.into()]).await?;
    Ok(())
}

pub(crate) async fn create_comment(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
    comment: NewComment,
) -> Result<Done> {
    if tx.dialect().modifies_in_with() {
        return one_statement::create_comment(tx, provider, ticket_id, comment).await;
    }
    let resident_id = lock_ticket(tx, provider, ticket_id).await?.resident_id;
    if let Some(category_id) = comment.category_id {
        require_owned(
            tx,
            "categories",
            category_id.get(),
            provider,
            Entity::Category,
        )
        .await?;
    }
    let comment_id = insert_comment(tx, ticket_id, &comment).await?;
    touch_ticket(tx, ticket_id, comment.created_at).await?;
    let added = EventKind::TicketCommentAdded;
    let at = comment.created_at;
    events::record(
        tx,
        NewEvent::ticket(provider, added, ticket_id, resident_id, at),
    )
    .await?;
    Ok(Done::written(
        comment_id.get(),
        vec![
            RecordRef::Ticket(ticket_id),
            RecordRef::Resident(resident_id),
        ],
    ))
}

/// Stores a ticket's files; answers the records they became.
async fn insert_attachments(
    tx: &mut dyn Executor,
    ticket_id: TicketId,
    attachments: Vec<NewAttachment>,
    at: DateTime<Utc>,
) -> Result<Vec<RecordRef>> {
    let mut touched = Vec::with_capacity(attachments.len());
    for attachment in attachments {
        let stored = attachment_row(ticket_id, AttachmentId(0), attachment, at);
        let columns = rows::attachment_columns(&stored).without("id");
        let id = insert_returning_id(tx, "attachments", columns).await?;
        touched.push(RecordRef::Attachment(AttachmentId(id)));
    }
    Ok(touched)
}

/// A file's row (its id, if the database is to give it, 0).
fn attachment_row(
    ticket_id: TicketId,
    id: AttachmentId,
    attachment: NewAttachment,
    at: DateTime<Utc>,
) -> StoredAttachment {
    StoredAttachment {
        id,
        ticket_id,
        file_name: attachment.file_name,
        content_type: attachment.content_type,
        file_size: attachment.data.len() as i64,
        data: attachment.data,
        created_at: at,
    }
}

/// Adds files to an existing ticket.
pub(crate) async fn add_attachments(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
    attachments: Vec<NewAttachment>,
    at: DateTime<Utc>,
) -> Result<Done> {
    if tx.dialect().modifies_in_with() {
        return one_statement::add_attachments(tx, provider, ticket_id, attachments, at).await;
    }
    let resident_id = lock_ticket(tx, provider, ticket_id).await?.resident_id;
    let mut touched = insert_attachments(tx, ticket_id, attachments, at).await?;
    touched.push(RecordRef::Resident(resident_id));
    touch_ticket(tx, ticket_id, at).await?;
    let added = EventKind::TicketAttachmentAdded;
    events::record(
        tx,
        NewEvent::ticket(provider, added, ticket_id, resident_id, at),
    )
    .await?;
    Ok(Done::written(ticket_id.get(), touched))
}

/// Moves the ticket to a new status; setting the status it already has
/// changes nothing and records nothing.
pub(crate) async fn update_status(
    tx: &mut dyn Executor,
    provider: ProviderId,
    update: StatusUpdate,
) -> Result<Done> {
    let ticket = lock_ticket(tx, provider, update.ticket_id).await?;
    let done = Done::written(
        update.ticket_id.get(),
        vec![RecordRef::Resident(ticket.resident_id)],
    );
    if update
        .expected_version
        .is_some_and(|expected| expected != ticket.version)
    {
        return Err(StoreError::Stale(Entity::Ticket));
    }
    let current = ticket.status;
    if current == update.status {
        return Ok(done);
    }
    if tx.dialect().modifies_in_with() {
        return one_statement::update_status(tx, provider, update, ticket, done).await;
    }
    let sql = move_status_sql(tx.dialect().greatest());
    let moved = [
        update.ticket_id.into(),
        update.status.into(),
        update.at.into(),
    ];
    execute(tx, &sql, &moved).await?;
    record_status_change(tx, Some(current), &update).await?;
    events::record(tx, status_changed(provider, &update, &ticket)).await?;
    if resolves(&update) {
        super::escalations::end(tx, update.ticket_id, EscalationState::Stopped, update.at).await?;
    }
    let (planned, change) = plan_status_change(tx, provider, &update, &ticket).await?;
    notifications::enqueue(tx, planned, change).await?;
    Ok(done)
}

/// `$1` the ticket, `$2` its new status, `$3` the time.
fn move_status_sql(greatest: &str) -> String {
    format!(
        "UPDATE tickets SET ticket_status = $2, updated_at = {greatest}(updated_at, $3), version = version + 1
         WHERE id = $1"
    )
}

fn status_changed(provider: ProviderId, update: &StatusUpdate, ticket: &Locked) -> NewEvent {
    NewEvent::ticket(
        provider,
        EventKind::TicketStatusChanged,
        update.ticket_id,
        ticket.resident_id,
        update.at,
    )
    .with_status(update.status.as_str())
}

/// A resolution ends the ticket's escalation.
fn resolves(update: &StatusUpdate) -> bool {
    matches!(update.status, TicketStatus::Resolved | TicketStatus::Closed)
}

/// Whom a status change tells, and the change their notifications
/// describe.
async fn plan_status_change(
    tx: &mut dyn Executor,
    provider: ProviderId,
    update: &StatusUpdate,
    ticket: &Locked,
) -> Result<(notifications::Planned, Change)> {
    let used = ChannelChoice::Chosen {
        email: ticket.email,
        sms: ticket.sms,
    };
    let planned = notifications::plan(
        tx,
        provider,
        ticket.resident_id,
        Asked::StatusChange(update.notify, used),
        ticket.urgency_status_id,
        update.at,
    )
    .await?;
    let change = Change {
        provider,
        ticket: update.ticket_id,
        resident: ticket.resident_id,
        event: NotifyEvent::StatusChanged,
        urgency_status_id: ticket.urgency_status_id,
        ticket_status: update.status.as_str().to_owned(),
        at: update.at,
    };
    Ok((planned, change))
}
