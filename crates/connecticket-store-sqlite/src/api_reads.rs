//! The API's reads. Every query is scoped by the caller's provider.

use std::collections::BTreeMap;

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::readers::{feed, Sink};
use crate::rows::{self, RESIDENT_COLUMNS, TICKET_COLUMNS};
use crate::{internal, Result};
use connecticket_domain::model::{
    Attachment, AttachmentMeta, Category, Comment, Page, ProviderId, Resident, StatusChange,
    Ticket, TicketCategory, TicketDetail, TicketQuery,
};
use connecticket_domain::time::{from_epoch, to_epoch};

/// Appends keyset and offset paging to a query ordered by `id_column`.
fn page_clause(page: Option<Page>, id_column: &str, sql: &mut String, values: &mut Vec<Value>) {
    if let Some(after_id) = page.and_then(|p| p.after_id) {
        values.push(Value::Integer(after_id));
        sql.push_str(&format!(" AND {id_column} > ?{}", values.len()));
    }
    sql.push_str(&format!(" ORDER BY {id_column}"));
    if let Some(page) = page {
        values.push(Value::Integer(i64::from(page.per_page)));
        values.push(Value::Integer(page.offset()));
        sql.push_str(&format!(
            " LIMIT ?{} OFFSET ?{}",
            values.len() - 1,
            values.len()
        ));
    }
}

pub(crate) fn tickets(
    conn: &Connection,
    provider: ProviderId,
    query: &TicketQuery,
    sink: Sink<'_, Ticket>,
) -> Result<()> {
    let mut sql = format!("SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.provider_id = ?1");
    let mut values = vec![Value::Integer(provider.0)];
    if let Some(status) = query.ticket_status {
        values.push(Value::Text(status.as_str().to_owned()));
        sql.push_str(&format!(" AND t.ticket_status = ?{}", values.len()));
    }
    if let Some(resident_id) = query.resident_id {
        values.push(Value::Integer(resident_id));
        sql.push_str(&format!(" AND t.resident_id = ?{}", values.len()));
    }
    if let Some(since) = query.updated_since {
        values.push(Value::Integer(to_epoch(since)));
        sql.push_str(&format!(" AND t.updated_at >= ?{}", values.len()));
    }
    page_clause(query.page, "t.id", &mut sql, &mut values);
    let mut statement = conn.prepare_cached(&sql).map_err(internal)?;
    let rows = statement
        .query_map(params_from_iter(values), rows::ticket)
        .map_err(internal)?;
    feed(rows, sink)
}

pub(crate) fn residents(
    conn: &Connection,
    provider: ProviderId,
    page: Option<Page>,
    sink: Sink<'_, Resident>,
) -> Result<()> {
    let mut sql = format!("SELECT {RESIDENT_COLUMNS} FROM residents WHERE provider_id = ?1");
    let mut values = vec![Value::Integer(provider.0)];
    page_clause(page, "id", &mut sql, &mut values);
    let mut statement = conn.prepare_cached(&sql).map_err(internal)?;
    let rows = statement
        .query_map(params_from_iter(values), rows::resident)
        .map_err(internal)?;
    feed(rows, sink)
}

pub(crate) fn categories(conn: &Connection, provider: ProviderId) -> Result<Vec<Category>> {
    let mut statement = conn
        .prepare_cached("SELECT id, name FROM categories WHERE provider_id = ?1 ORDER BY id")
        .map_err(internal)?;
    let rows = statement
        .query_map([provider.0], |row| {
            Ok(Category {
                id: row.get(0)?,
                provider_id: provider,
                name: row.get(1)?,
            })
        })
        .map_err(internal)?;
    rows.collect::<rusqlite::Result<_>>().map_err(internal)
}

fn ticket(conn: &Connection, provider: ProviderId, ticket_id: i64) -> Result<Option<Ticket>> {
    conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = ?1 AND t.provider_id = ?2"
    ))
    .and_then(|mut statement| {
        statement
            .query_row(params![ticket_id, provider.0], rows::ticket)
            .optional()
    })
    .map_err(internal)
}

/// The ticket with its ratings, comments and attachments, read in one
/// transaction so that the parts agree with each other.
pub(crate) fn ticket_detail(
    conn: &Connection,
    provider: ProviderId,
    ticket_id: i64,
) -> Result<Option<TicketDetail>> {
    conn.execute_batch("BEGIN").map_err(internal)?;
    let detail = read_detail(conn, provider, ticket_id);
    conn.execute_batch("COMMIT").map_err(internal)?;
    detail
}

fn read_detail(
    conn: &Connection,
    provider: ProviderId,
    ticket_id: i64,
) -> Result<Option<TicketDetail>> {
    let Some(ticket) = ticket(conn, provider, ticket_id)? else {
        return Ok(None);
    };
    let mut categories: BTreeMap<i64, TicketCategory> = BTreeMap::new();
    let mut statement = conn
        .prepare_cached(
            "SELECT tc.category_id, c.name, tc.status FROM ticket_categories tc
             JOIN categories c ON c.id = tc.category_id
             WHERE tc.ticket_id = ?1",
        )
        .map_err(internal)?;
    let ratings = statement
        .query_map([ticket_id], |row| {
            Ok(TicketCategory {
                category_id: row.get(0)?,
                name: row.get(1)?,
                rating: rows::rating(row, 2)?,
                comments: Vec::new(),
            })
        })
        .map_err(internal)?;
    for rating in ratings {
        let rating = rating.map_err(internal)?;
        categories.insert(rating.category_id, rating);
    }
    let mut statement = conn
        .prepare_cached(
            "SELECT cm.id, cm.category_id, e.name, cm.body, cm.created_at, c.name
             FROM comments cm
             JOIN employees e ON e.id = cm.employee_id
             LEFT JOIN categories c ON c.id = cm.category_id
             WHERE cm.ticket_id = ?1 ORDER BY cm.id",
        )
        .map_err(internal)?;
    let comments = statement
        .query_map([ticket_id], |row| {
            let comment = Comment {
                id: row.get(0)?,
                category_id: row.get(1)?,
                author_name: row.get(2)?,
                body: row.get(3)?,
                created_at: from_epoch(row.get(4)?),
            };
            Ok((comment, row.get::<_, Option<String>>(5)?))
        })
        .map_err(internal)?;
    let mut general_comments = Vec::new();
    for entry in comments {
        let (comment, category_name) = entry.map_err(internal)?;
        match comment.category_id {
            Some(category_id) => categories
                .entry(category_id)
                .or_insert_with(|| TicketCategory {
                    category_id,
                    name: category_name.unwrap_or_default(),
                    rating: None,
                    comments: Vec::new(),
                })
                .comments
                .push(comment),
            None => general_comments.push(comment),
        }
    }
    let mut statement = conn
        .prepare_cached(
            "SELECT id, file_name, content_type, file_size FROM attachments
             WHERE ticket_id = ?1 ORDER BY id",
        )
        .map_err(internal)?;
    let attachments = statement
        .query_map([ticket_id], attachment_meta)
        .map_err(internal)?
        .collect::<rusqlite::Result<_>>()
        .map_err(internal)?;
    Ok(Some(TicketDetail {
        ticket,
        categories: categories.into_values().collect(),
        general_comments,
        attachments,
    }))
}

fn attachment_meta(row: &rusqlite::Row<'_>) -> rusqlite::Result<AttachmentMeta> {
    Ok(AttachmentMeta {
        id: row.get(0)?,
        file_name: row.get(1)?,
        content_type: row.get(2)?,
        file_size: row.get(3)?,
    })
}

pub(crate) fn attachment(
    conn: &Connection,
    provider: ProviderId,
    attachment_id: i64,
) -> Result<Option<Attachment>> {
    conn.prepare_cached(
        "SELECT a.id, a.file_name, a.content_type, a.file_size, a.data, t.id, t.resident_id
         FROM attachments a JOIN tickets t ON t.id = a.ticket_id
         WHERE a.id = ?1 AND t.provider_id = ?2",
    )
    .and_then(|mut statement| {
        statement
            .query_row(params![attachment_id, provider.0], |row| {
                Ok(Attachment {
                    meta: attachment_meta(row)?,
                    data: row.get::<_, Vec<u8>>(4)?.into(),
                    ticket_id: row.get(5)?,
                    resident_id: row.get(6)?,
                })
            })
            .optional()
    })
    .map_err(internal)
}

pub(crate) fn status_history(
    conn: &Connection,
    provider: ProviderId,
    ticket_id: i64,
) -> Result<Vec<StatusChange>> {
    let mut statement = conn
        .prepare_cached(
            "SELECT h.ticket_id, h.employee_id, h.application_id, h.from_status, h.to_status,
                    h.changed_at
             FROM ticket_status_changes h JOIN tickets t ON t.id = h.ticket_id
             WHERE h.ticket_id = ?1 AND t.provider_id = ?2 ORDER BY h.id",
        )
        .map_err(internal)?;
    let rows = statement
        .query_map(params![ticket_id, provider.0], |row| {
            Ok(StatusChange {
                ticket_id: row.get(0)?,
                employee_id: row.get(1)?,
                application_id: row.get(2)?,
                from_status: rows::optional_status(row, 3)?,
                to_status: rows::status(row, 4)?,
                changed_at: from_epoch(row.get(5)?),
            })
        })
        .map_err(internal)?;
    rows.collect::<rusqlite::Result<_>>().map_err(internal)
}
