//! The writes about tickets. Each runs inside the caller's write
//! transaction; an error rolls back everything the call wrote.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::RecordRef;
use connecticket_domain::model::{
    AttachmentId, CommentId, NewComment, NewTicket, ProviderId, ResidentId, Ticket, TicketId,
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
use connecticket_domain::notify::{ChannelChoice, NotifyEvent, NotifyRequest};

use super::events;

pub(crate) async fn create_ticket(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket: NewTicket,
) -> Result<Done> {
    // The resident and every category it may be rated in, in one
    // statement: on PostgreSQL each statement is a round trip. No row: the
    // resident is not the provider's; one row without a category: the
    // provider has none.
    let rows = fetch_all(
        tx,
        "SELECT c.id AS category_id FROM residents r
         LEFT JOIN categories c ON c.provider_id = r.provider_id
         WHERE r.id = $1 AND r.provider_id = $2",
        &[ticket.resident_id.into(), provider.into()],
        |row| row.get::<Option<i64>>("category_id"),
    )
    .await?;
    if rows.is_empty() {
        return Err(StoreError::NotFound(Entity::Resident));
    }
    let owned: Vec<i64> = rows.into_iter().flatten().collect();
    let mut named = ticket
        .ratings
        .iter()
        .map(|rating| rating.category_id)
        .chain(ticket.comments.iter().filter_map(|c| c.category_id));
    if named.any(|category| !owned.contains(&category.get())) {
        return Err(StoreError::NotFound(Entity::Category));
    }
    // Who is told is planned first, so that the ticket's flags say who
    // was told (docs/NOTIFICATIONS.md, "Who is told").
    let asked = ticket.notify_request();
    let planned = notifications::plan(
        tx,
        provider,
        ticket.resident_id,
        Asked::NewTicket(asked),
        ticket.urgency.id,
        ticket.created_at,
    )
    .await?;
    let told = planned.told();
    let stored = StoredTicket {
        ticket: Ticket {
            id: ticket.id.unwrap_or(TicketId(0)),
            provider_id: provider,
            title: ticket.title,
            resident_id: ticket.resident_id,
            employee_id: ticket.employee_id,
            urgency_status_id: ticket.urgency.id,
            ticket_status: ticket.ticket_status,
            ticket_type: ticket.ticket_type,
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
    };
    let columns = rows::ticket_columns(&stored);
    let ticket_id = match ticket.id {
        Some(id) => {
            insert(tx, "tickets", columns).await?;
            tx.advance_identity("tickets").await?;
            id
        }
        None => TicketId(insert_returning_id(tx, "tickets", columns.without("id")).await?),
    };
    let ratings: Vec<StoredRating> = ticket
        .ratings
        .iter()
        .map(|rating| StoredRating {
            ticket_id,
            category_id: rating.category_id,
            status: rating.rating,
        })
        .collect();
    insert_rows(
        tx,
        "ticket_categories",
        ratings.iter().map(rows::rating_columns).collect(),
    )
    .await?;
    for comment in &ticket.comments {
        insert_comment(tx, ticket_id, comment).await?;
    }
    let touched = insert_attachments(tx, ticket_id, ticket.attachments, ticket.created_at).await?;
    let opened = StatusUpdate {
        ticket_id,
        status: ticket.ticket_status,
        employee_id: ticket.employee_id,
        application_id: ticket.application_id,
        at: ticket.created_at,
        notify: NotifyRequest::default(),
        expected_version: None,
    };
    record_status_change(tx, None, &opened).await?;
    notifications::enqueue(
        tx,
        planned,
        Change {
            provider,
            ticket: ticket_id,
            resident: ticket.resident_id,
            event: NotifyEvent::TicketCreated,
            urgency_status_id: ticket.urgency.id,
            ticket_status: ticket.ticket_status.as_str().to_owned(),
            at: ticket.created_at,
        },
    )
    .await?;
    events::record(
        tx,
        NewEvent::ticket(
            provider,
            EventKind::TicketCreated,
            ticket_id,
            ticket.resident_id,
            ticket.created_at,
        )
        .with_status(ticket.ticket_status.as_str()),
    )
    .await?;
    Ok(Done {
        id: ticket_id.get(),
        touched,
    })
}

async fn insert_comment(
    tx: &mut dyn Executor,
    ticket_id: TicketId,
    comment: &NewComment,
) -> Result<CommentId> {
    let stored = StoredComment {
        id: CommentId(0),
        ticket_id,
        category_id: comment.category_id,
        employee_id: comment.employee_id,
        body: comment.body.clone(),
        created_at: comment.created_at,
    };
    let columns = rows::comment_columns(&stored).without("id");
    insert_returning_id(tx, "comments", columns)
        .await
        .map(CommentId)
}

async fn record_status_change(
    tx: &mut dyn Executor,
    from: Option<TicketStatus>,
    update: &StatusUpdate,
) -> Result<()> {
    let change = StoredStatusChange {
        id: 0,
        ticket_id: update.ticket_id,
        employee_id: update.employee_id,
        application_id: update.application_id,
        from_status: from,
        to_status: update.status,
        changed_at: update.at,
    };
    let columns = rows::status_change_columns(&change).without("id");
    insert(tx, "ticket_status_changes", columns).await
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
    fetch_optional(tx, &sql, &[ticket_id.into(), provider.into()], |row| {
        Ok(Locked {
            resident_id: row.get("resident_id")?,
            status: row.get("ticket_status")?,
            urgency_status_id: row.get("urgency_status_id")?,
            email: row.get::<Option<bool>>("email")?.unwrap_or(false),
            sms: row.get::<Option<bool>>("sms")?.unwrap_or(false),
            version: row.get("version")?,
        })
    })
    .await?
    .ok_or(StoreError::NotFound(Entity::Ticket))
}

/// Moves `updated_at` forward, never back.
async fn touch_ticket(tx: &mut dyn Executor, ticket_id: TicketId, at: DateTime<Utc>) -> Result<()> {
    let sql = format!(
        "UPDATE tickets SET updated_at = {}(updated_at, $2), version = version + 1 WHERE id = $1",
        tx.dialect().greatest()
    );
    execute(tx, &sql, &[ticket_id.into(), at.into()]).await?;
    Ok(())
}

pub(crate) async fn create_comment(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
    comment: NewComment,
) -> Result<Done> {
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
    Ok(Done {
        id: comment_id.get(),
        touched: vec![
            RecordRef::Ticket(ticket_id),
            RecordRef::Resident(resident_id),
        ],
    })
}

/// Stores a ticket's files; answers the records they became.
async fn insert_attachments(
    tx: &mut dyn Executor,
    ticket_id: TicketId,
    attachments: Vec<connecticket_domain::model::NewAttachment>,
    at: DateTime<Utc>,
) -> Result<Vec<RecordRef>> {
    let mut touched = Vec::with_capacity(attachments.len());
    for attachment in attachments {
        let stored = StoredAttachment {
            id: AttachmentId(0),
            ticket_id,
            file_name: attachment.file_name,
            content_type: attachment.content_type,
            file_size: attachment.data.len() as i64,
            data: attachment.data,
            created_at: at,
        };
        let columns = rows::attachment_columns(&stored).without("id");
        let id = insert_returning_id(tx, "attachments", columns).await?;
        touched.push(RecordRef::Attachment(AttachmentId(id)));
    }
    Ok(touched)
}

/// Adds files to an existing ticket.
pub(crate) async fn add_attachments(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
    attachments: Vec<connecticket_domain::model::NewAttachment>,
    at: DateTime<Utc>,
) -> Result<Done> {
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
    Ok(Done {
        id: ticket_id.get(),
        touched,
    })
}

/// Moves the ticket to a new status; setting the status it already has
/// changes nothing and records nothing.
pub(crate) async fn update_status(
    tx: &mut dyn Executor,
    provider: ProviderId,
    update: StatusUpdate,
) -> Result<Done> {
    let ticket = lock_ticket(tx, provider, update.ticket_id).await?;
    let done = Done {
        id: update.ticket_id.get(),
        touched: vec![RecordRef::Resident(ticket.resident_id)],
    };
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
    let sql = format!(
        "UPDATE tickets SET ticket_status = $2, updated_at = {}(updated_at, $3), version = version + 1
         WHERE id = $1",
        tx.dialect().greatest()
    );
    execute(
        tx,
        &sql,
        &[
            update.ticket_id.into(),
            update.status.into(),
            update.at.into(),
        ],
    )
    .await?;
    record_status_change(tx, Some(current), &update).await?;
    events::record(
        tx,
        NewEvent::ticket(
            provider,
            EventKind::TicketStatusChanged,
            update.ticket_id,
            ticket.resident_id,
            update.at,
        )
        .with_status(update.status.as_str()),
    )
    .await?;
    if matches!(update.status, TicketStatus::Resolved | TicketStatus::Closed) {
        super::escalations::end(
            tx,
            update.ticket_id,
            connecticket_domain::notify::EscalationState::Stopped,
            update.at,
        )
        .await?;
    }
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
    notifications::enqueue(
        tx,
        planned,
        Change {
            provider,
            ticket: update.ticket_id,
            resident: ticket.resident_id,
            event: NotifyEvent::StatusChanged,
            urgency_status_id: ticket.urgency_status_id,
            ticket_status: update.status.as_str().to_owned(),
            at: update.at,
        },
    )
    .await?;
    Ok(done)
}
