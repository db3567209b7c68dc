//! The API's writes. Each runs inside the writer's transaction; an error
//! rolls back everything the call wrote.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::idempotency::Done;
use crate::rows::iso_date;
use crate::{internal, Result};
use connecticket_domain::audit::RecordRef;
use connecticket_domain::model::{NewComment, NewTicket, ProviderId};
use connecticket_domain::store::StatusUpdate;
use connecticket_domain::time::to_epoch;
use connecticket_domain::workflow::TicketStatus;
use connecticket_domain::{Entity, StoreError};

fn exists(conn: &Connection, sql: &str, id: i64, provider: ProviderId) -> Result<bool> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.exists(params![id, provider.0]))
        .map_err(internal)
}

fn require_category(conn: &Connection, provider: ProviderId, category_id: i64) -> Result<()> {
    let sql = "SELECT 1 FROM categories WHERE id = ?1 AND provider_id = ?2";
    if exists(conn, sql, category_id, provider)? {
        Ok(())
    } else {
        Err(StoreError::NotFound(Entity::Category))
    }
}

fn insert_comment(
    conn: &Connection,
    ticket_id: i64,
    comment: &NewComment,
    at: DateTime<Utc>,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO comments (ticket_id, category_id, employee_id, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            ticket_id,
            comment.category_id,
            comment.employee_id,
            comment.body,
            to_epoch(at)
        ])
    })
    .map_err(internal)?;
    Ok(conn.last_insert_rowid())
}

fn record_status_change(
    conn: &Connection,
    ticket_id: i64,
    from: Option<TicketStatus>,
    update: &StatusUpdate,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO ticket_status_changes
             (ticket_id, employee_id, application_id, from_status, to_status, changed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            ticket_id,
            update.employee_id,
            update.application_id,
            from.map(TicketStatus::as_str),
            update.status.as_str(),
            to_epoch(update.at)
        ])
    })
    .map_err(internal)?;
    Ok(())
}

pub(crate) fn create_ticket(
    conn: &Connection,
    provider: ProviderId,
    ticket: &NewTicket,
) -> Result<Done> {
    let resident_sql = "SELECT 1 FROM residents WHERE id = ?1 AND provider_id = ?2";
    if !exists(conn, resident_sql, ticket.resident_id, provider)? {
        return Err(StoreError::NotFound(Entity::Resident));
    }
    let category_ids = ticket
        .ratings
        .iter()
        .map(|(id, _)| *id)
        .chain(ticket.comments.iter().filter_map(|c| c.category_id));
    for category_id in category_ids {
        require_category(conn, provider, category_id)?;
    }
    let created = to_epoch(ticket.created_at);
    conn.prepare_cached(
        "INSERT INTO tickets (id, provider_id, resident_id, employee_id, application_id, title,
             urgency_status_id, ticket_status, ticket_type, state, sms, email, sent_to_family,
             sent_to_healthcare_pro, sent_to_primary, start_date, end_date, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?18)",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            ticket.id,
            provider.0,
            ticket.resident_id,
            ticket.employee_id,
            ticket.application_id,
            ticket.title,
            ticket.urgency_status_id,
            ticket.ticket_status.as_str(),
            ticket.ticket_type,
            ticket.state,
            ticket.sms,
            ticket.email,
            ticket.sent_to_family,
            ticket.sent_to_healthcare_pro,
            ticket.sent_to_primary,
            iso_date(ticket.start_date),
            iso_date(ticket.end_date),
            created,
        ])
    })
    .map_err(internal)?;
    let ticket_id = conn.last_insert_rowid();
    for (category_id, rating) in &ticket.ratings {
        conn.prepare_cached(
            "INSERT INTO ticket_categories (ticket_id, category_id, status) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut statement| {
            statement.execute(params![ticket_id, category_id, rating.as_str()])
        })
        .map_err(internal)?;
    }
    for comment in &ticket.comments {
        insert_comment(conn, ticket_id, comment, ticket.created_at)?;
    }
    let mut touched = Vec::new();
    for attachment in &ticket.attachments {
        conn.prepare_cached(
            "INSERT INTO attachments (ticket_id, file_name, content_type, file_size, data, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                ticket_id,
                attachment.file_name,
                attachment.content_type,
                attachment.data.len() as i64,
                attachment.data.as_ref(),
                created
            ])
        })
        .map_err(internal)?;
        touched.push(RecordRef::Attachment(conn.last_insert_rowid()));
    }
    let opened = StatusUpdate {
        ticket_id,
        status: ticket.ticket_status,
        employee_id: ticket.employee_id,
        application_id: ticket.application_id,
        at: ticket.created_at,
    };
    record_status_change(conn, ticket_id, None, &opened)?;
    Ok(Done {
        id: ticket_id,
        touched,
    })
}

fn touch_ticket(conn: &Connection, ticket_id: i64, at: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached("UPDATE tickets SET updated_at = MAX(updated_at, ?2) WHERE id = ?1")
        .and_then(|mut statement| statement.execute(params![ticket_id, to_epoch(at)]))
        .map_err(internal)?;
    Ok(())
}

pub(crate) fn create_comment(
    conn: &Connection,
    provider: ProviderId,
    ticket_id: i64,
    comment: &NewComment,
    at: DateTime<Utc>,
) -> Result<Done> {
    let resident_id = ticket_resident(conn, provider, ticket_id)?;
    if let Some(category_id) = comment.category_id {
        require_category(conn, provider, category_id)?;
    }
    let comment_id = insert_comment(conn, ticket_id, comment, at)?;
    touch_ticket(conn, ticket_id, at)?;
    Ok(Done {
        id: comment_id,
        touched: vec![
            RecordRef::Ticket(ticket_id),
            RecordRef::Resident(resident_id),
        ],
    })
}

/// The resident of one of the provider's tickets.
fn ticket_resident(conn: &Connection, provider: ProviderId, ticket_id: i64) -> Result<i64> {
    conn.prepare_cached("SELECT resident_id FROM tickets WHERE id = ?1 AND provider_id = ?2")
        .and_then(|mut statement| {
            statement
                .query_row(params![ticket_id, provider.0], |row| row.get(0))
                .optional()
        })
        .map_err(internal)?
        .ok_or(StoreError::NotFound(Entity::Ticket))
}

/// Moves the ticket to a new status; setting the status it already has
/// changes nothing and records nothing.
pub(crate) fn update_status(
    conn: &Connection,
    provider: ProviderId,
    update: &StatusUpdate,
) -> Result<Done> {
    let current: Option<(String, i64)> = conn
        .prepare_cached(
            "SELECT ticket_status, resident_id FROM tickets WHERE id = ?1 AND provider_id = ?2",
        )
        .and_then(|mut statement| {
            statement
                .query_row(params![update.ticket_id, provider.0], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()
        })
        .map_err(internal)?;
    let Some((current, resident_id)) = current else {
        return Err(StoreError::NotFound(Entity::Ticket));
    };
    let done = Done {
        id: update.ticket_id,
        touched: vec![RecordRef::Resident(resident_id)],
    };
    let current = TicketStatus::parse(&current);
    if current == Some(update.status) {
        return Ok(done);
    }
    conn.prepare_cached(
        "UPDATE tickets SET ticket_status = ?2, updated_at = MAX(updated_at, ?3) WHERE id = ?1",
    )
    .and_then(|mut statement| {
        statement.execute(params![
            update.ticket_id,
            update.status.as_str(),
            to_epoch(update.at)
        ])
    })
    .map_err(internal)?;
    record_status_change(conn, update.ticket_id, current, update)?;
    Ok(done)
}
