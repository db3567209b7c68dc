//! The API's writes, each inside the caller's transaction.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};

use crate::idempotency::Done;
use crate::rows::{advance_identity, iso_date};
use crate::{internal, Result};
use connecticket_domain::audit::RecordRef;
use connecticket_domain::model::{NewComment, NewTicket, ProviderId};
use connecticket_domain::store::StatusUpdate;
use connecticket_domain::time::to_epoch;
use connecticket_domain::workflow::TicketStatus;
use connecticket_domain::{Entity, StoreError};

async fn exists(conn: &mut PgConnection, sql: &str, id: i64, provider: ProviderId) -> Result<bool> {
    sqlx::query(sql)
        .bind(id)
        .bind(provider.0)
        .fetch_optional(conn)
        .await
        .map(|row| row.is_some())
        .map_err(internal)
}

async fn require_category(
    conn: &mut PgConnection,
    provider: ProviderId,
    category_id: i64,
) -> Result<()> {
    let sql = "SELECT 1 FROM categories WHERE id = $1 AND provider_id = $2";
    if exists(conn, sql, category_id, provider).await? {
        Ok(())
    } else {
        Err(StoreError::NotFound(Entity::Category))
    }
}

async fn insert_comment(
    conn: &mut PgConnection,
    ticket_id: i64,
    comment: &NewComment,
    at: DateTime<Utc>,
) -> Result<i64> {
    sqlx::query(
        "INSERT INTO comments (ticket_id, category_id, employee_id, body, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(ticket_id)
    .bind(comment.category_id)
    .bind(comment.employee_id)
    .bind(&comment.body)
    .bind(to_epoch(at))
    .fetch_one(conn)
    .await
    .and_then(|row| row.try_get(0))
    .map_err(internal)
}

async fn record_status_change(
    conn: &mut PgConnection,
    ticket_id: i64,
    from: Option<TicketStatus>,
    update: &StatusUpdate,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ticket_status_changes
             (ticket_id, employee_id, application_id, from_status, to_status, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(ticket_id)
    .bind(update.employee_id)
    .bind(update.application_id)
    .bind(from.map(TicketStatus::as_str))
    .bind(update.status.as_str())
    .bind(to_epoch(update.at))
    .execute(conn)
    .await
    .map_err(internal)?;
    Ok(())
}

pub(crate) async fn create_ticket(
    conn: &mut PgConnection,
    provider: ProviderId,
    ticket: &NewTicket,
) -> Result<Done> {
    let resident_sql = "SELECT 1 FROM residents WHERE id = $1 AND provider_id = $2";
    if !exists(conn, resident_sql, ticket.resident_id, provider).await? {
        return Err(StoreError::NotFound(Entity::Resident));
    }
    let category_ids = ticket
        .ratings
        .iter()
        .map(|(id, _)| *id)
        .chain(ticket.comments.iter().filter_map(|c| c.category_id));
    for category_id in category_ids {
        require_category(conn, provider, category_id).await?;
    }
    let created = to_epoch(ticket.created_at);
    let ticket_id: i64 = sqlx::query(
        "INSERT INTO tickets (id, provider_id, resident_id, employee_id, application_id, title,
             urgency_status_id, ticket_status, ticket_type, state, sms, email, sent_to_family,
             sent_to_healthcare_pro, sent_to_primary, start_date, end_date, created_at, updated_at)
         VALUES (COALESCE($1, nextval(pg_get_serial_sequence('tickets', 'id'))), $2, $3, $4, $5,
             $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)
         RETURNING id",
    )
    .bind(ticket.id)
    .bind(provider.0)
    .bind(ticket.resident_id)
    .bind(ticket.employee_id)
    .bind(ticket.application_id)
    .bind(&ticket.title)
    .bind(ticket.urgency_status_id)
    .bind(ticket.ticket_status.as_str())
    .bind(&ticket.ticket_type)
    .bind(ticket.state)
    .bind(ticket.sms)
    .bind(ticket.email)
    .bind(ticket.sent_to_family)
    .bind(ticket.sent_to_healthcare_pro)
    .bind(ticket.sent_to_primary)
    .bind(iso_date(ticket.start_date))
    .bind(iso_date(ticket.end_date))
    .bind(created)
    .fetch_one(&mut *conn)
    .await
    .and_then(|row| row.try_get(0))
    .map_err(internal)?;
    if ticket.id.is_some() {
        advance_identity(conn, "tickets").await.map_err(internal)?;
    }
    for (category_id, rating) in &ticket.ratings {
        sqlx::query(
            "INSERT INTO ticket_categories (ticket_id, category_id, status) VALUES ($1, $2, $3)",
        )
        .bind(ticket_id)
        .bind(category_id)
        .bind(rating.as_str())
        .execute(&mut *conn)
        .await
        .map_err(internal)?;
    }
    for comment in &ticket.comments {
        insert_comment(conn, ticket_id, comment, ticket.created_at).await?;
    }
    let mut touched = Vec::new();
    for attachment in &ticket.attachments {
        let attachment_id: i64 = sqlx::query(
            "INSERT INTO attachments (ticket_id, file_name, content_type, file_size, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(ticket_id)
        .bind(&attachment.file_name)
        .bind(&attachment.content_type)
        .bind(attachment.data.len() as i64)
        .bind(attachment.data.as_ref())
        .bind(created)
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(internal)?;
        touched.push(RecordRef::Attachment(attachment_id));
    }
    let opened = StatusUpdate {
        ticket_id,
        status: ticket.ticket_status,
        employee_id: ticket.employee_id,
        application_id: ticket.application_id,
        at: ticket.created_at,
    };
    record_status_change(conn, ticket_id, None, &opened).await?;
    Ok(Done {
        id: ticket_id,
        touched,
    })
}

pub(crate) async fn create_comment(
    conn: &mut PgConnection,
    provider: ProviderId,
    ticket_id: i64,
    comment: &NewComment,
    at: DateTime<Utc>,
) -> Result<Done> {
    // Locking the ticket orders this with concurrent status changes, so
    // updated_at only ever moves forward.
    let locked = sqlx::query(
        "SELECT resident_id FROM tickets WHERE id = $1 AND provider_id = $2 FOR UPDATE",
    )
    .bind(ticket_id)
    .bind(provider.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(internal)?;
    let Some(locked) = locked else {
        return Err(StoreError::NotFound(Entity::Ticket));
    };
    let resident_id: i64 = locked.try_get(0).map_err(internal)?;
    if let Some(category_id) = comment.category_id {
        require_category(conn, provider, category_id).await?;
    }
    let comment_id = insert_comment(conn, ticket_id, comment, at).await?;
    sqlx::query("UPDATE tickets SET updated_at = GREATEST(updated_at, $2) WHERE id = $1")
        .bind(ticket_id)
        .bind(to_epoch(at))
        .execute(&mut *conn)
        .await
        .map_err(internal)?;
    Ok(Done {
        id: comment_id,
        touched: vec![
            RecordRef::Ticket(ticket_id),
            RecordRef::Resident(resident_id),
        ],
    })
}

/// Moves the ticket to a new status; the row lock serialises concurrent
/// changes from any instance, so each history entry's `from` is exact.
pub(crate) async fn update_status(
    conn: &mut PgConnection,
    provider: ProviderId,
    update: &StatusUpdate,
) -> Result<Done> {
    let current = sqlx::query(
        "SELECT ticket_status, resident_id FROM tickets WHERE id = $1 AND provider_id = $2 FOR UPDATE",
    )
    .bind(update.ticket_id)
    .bind(provider.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(internal)?;
    let Some(current) = current else {
        return Err(StoreError::NotFound(Entity::Ticket));
    };
    let done = Done {
        id: update.ticket_id,
        touched: vec![RecordRef::Resident(current.try_get(1).map_err(internal)?)],
    };
    let current: String = current.try_get(0).map_err(internal)?;
    let current = TicketStatus::parse(&current);
    if current == Some(update.status) {
        return Ok(done);
    }
    sqlx::query(
        "UPDATE tickets SET ticket_status = $2, updated_at = GREATEST(updated_at, $3) WHERE id = $1",
    )
    .bind(update.ticket_id)
    .bind(update.status.as_str())
    .bind(to_epoch(update.at))
    .execute(&mut *conn)
    .await
    .map_err(internal)?;
    record_status_change(conn, update.ticket_id, current, update).await?;
    Ok(done)
}
