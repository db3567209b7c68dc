//! The API's reads. Every query is scoped by the caller's provider.

use std::collections::BTreeMap;

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use crate::rows::{self, RESIDENT_COLUMNS, TICKET_COLUMNS};
use crate::stream::{self, Bind};
use crate::{internal, Result};
use connecticket_domain::model::{
    Attachment, AttachmentMeta, Category, Comment, Page, ProviderId, Resident, StatusChange,
    Ticket, TicketCategory, TicketDetail, TicketQuery,
};
use connecticket_domain::store::RowStream;
use connecticket_domain::time::{from_epoch, to_epoch};

fn page_clause(page: Option<Page>, id_column: &str, sql: &mut String, binds: &mut Vec<Bind>) {
    if let Some(after_id) = page.and_then(|p| p.after_id) {
        binds.push(Bind::Int(after_id));
        sql.push_str(&format!(" AND {id_column} > ${}", binds.len()));
    }
    sql.push_str(&format!(" ORDER BY {id_column}"));
    if let Some(page) = page {
        binds.push(Bind::Int(i64::from(page.per_page)));
        binds.push(Bind::Int(page.offset()));
        sql.push_str(&format!(
            " LIMIT ${} OFFSET ${}",
            binds.len() - 1,
            binds.len()
        ));
    }
}

pub(crate) fn tickets(pool: PgPool, provider: ProviderId, query: TicketQuery) -> RowStream<Ticket> {
    let mut sql = format!("SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.provider_id = $1");
    let mut binds = vec![Bind::Int(provider.0)];
    if let Some(status) = query.ticket_status {
        binds.push(Bind::Text(status.as_str().to_owned()));
        sql.push_str(&format!(" AND t.ticket_status = ${}", binds.len()));
    }
    if let Some(resident_id) = query.resident_id {
        binds.push(Bind::Int(resident_id));
        sql.push_str(&format!(" AND t.resident_id = ${}", binds.len()));
    }
    if let Some(since) = query.updated_since {
        binds.push(Bind::Int(to_epoch(since)));
        sql.push_str(&format!(" AND t.updated_at >= ${}", binds.len()));
    }
    page_clause(query.page, "t.id", &mut sql, &mut binds);
    stream::rows(pool, sql, binds, rows::ticket)
}

pub(crate) fn residents(
    pool: PgPool,
    provider: ProviderId,
    page: Option<Page>,
) -> RowStream<Resident> {
    let mut sql = format!("SELECT {RESIDENT_COLUMNS} FROM residents WHERE provider_id = $1");
    let mut binds = vec![Bind::Int(provider.0)];
    page_clause(page, "id", &mut sql, &mut binds);
    stream::rows(pool, sql, binds, rows::resident)
}

pub(crate) async fn categories(pool: &PgPool, provider: ProviderId) -> Result<Vec<Category>> {
    let rows = sqlx::query("SELECT id, name FROM categories WHERE provider_id = $1 ORDER BY id")
        .bind(provider.0)
        .fetch_all(pool)
        .await
        .map_err(internal)?;
    rows.iter()
        .map(|row| {
            Ok(Category {
                id: row.try_get(0)?,
                provider_id: provider,
                name: row.try_get(1)?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(internal)
}

/// The ticket and its parts, read in one repeatable-read transaction so
/// that the parts agree with each other.
pub(crate) async fn ticket_detail(
    pool: &PgPool,
    provider: ProviderId,
    ticket_id: i64,
) -> Result<Option<TicketDetail>> {
    let mut tx = pool.begin().await.map_err(internal)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    let detail = read_detail(&mut tx, provider, ticket_id).await;
    tx.commit().await.map_err(internal)?;
    detail
}

fn comment(row: &PgRow) -> std::result::Result<(Comment, Option<String>), sqlx::Error> {
    Ok((
        Comment {
            id: row.try_get(0)?,
            category_id: row.try_get(1)?,
            author_name: row.try_get(2)?,
            body: row.try_get(3)?,
            created_at: from_epoch(row.try_get(4)?),
        },
        row.try_get(5)?,
    ))
}

async fn read_detail(
    conn: &mut PgConnection,
    provider: ProviderId,
    ticket_id: i64,
) -> Result<Option<TicketDetail>> {
    let ticket = sqlx::query(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = $1 AND t.provider_id = $2"
    ))
    .bind(ticket_id)
    .bind(provider.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(internal)?;
    let Some(ticket) = ticket else {
        return Ok(None);
    };
    let ticket = rows::ticket(&ticket).map_err(internal)?;
    let mut categories: BTreeMap<i64, TicketCategory> = BTreeMap::new();
    let ratings = sqlx::query(
        "SELECT tc.category_id, c.name, tc.status FROM ticket_categories tc
         JOIN categories c ON c.id = tc.category_id WHERE tc.ticket_id = $1",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    for row in &ratings {
        let rating = TicketCategory {
            category_id: row.try_get(0).map_err(internal)?,
            name: row.try_get(1).map_err(internal)?,
            rating: rows::rating(row, 2).map_err(internal)?,
            comments: Vec::new(),
        };
        categories.insert(rating.category_id, rating);
    }
    let comments = sqlx::query(
        "SELECT cm.id, cm.category_id, e.name, cm.body, cm.created_at, c.name
         FROM comments cm
         JOIN employees e ON e.id = cm.employee_id
         LEFT JOIN categories c ON c.id = cm.category_id
         WHERE cm.ticket_id = $1 ORDER BY cm.id",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?;
    let mut general_comments = Vec::new();
    for row in &comments {
        let (comment, category_name) = comment(row).map_err(internal)?;
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
    let attachments = sqlx::query(
        "SELECT id, file_name, content_type, file_size FROM attachments
         WHERE ticket_id = $1 ORDER BY id",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(internal)?
    .iter()
    .map(attachment_meta)
    .collect::<std::result::Result<_, sqlx::Error>>()
    .map_err(internal)?;
    Ok(Some(TicketDetail {
        ticket,
        categories: categories.into_values().collect(),
        general_comments,
        attachments,
    }))
}

fn attachment_meta(row: &PgRow) -> std::result::Result<AttachmentMeta, sqlx::Error> {
    Ok(AttachmentMeta {
        id: row.try_get(0)?,
        file_name: row.try_get(1)?,
        content_type: row.try_get(2)?,
        file_size: row.try_get(3)?,
    })
}

pub(crate) async fn attachment(
    pool: &PgPool,
    provider: ProviderId,
    attachment_id: i64,
) -> Result<Option<Attachment>> {
    let row = sqlx::query(
        "SELECT a.id, a.file_name, a.content_type, a.file_size, a.data, t.id, t.resident_id
         FROM attachments a JOIN tickets t ON t.id = a.ticket_id
         WHERE a.id = $1 AND t.provider_id = $2",
    )
    .bind(attachment_id)
    .bind(provider.0)
    .fetch_optional(pool)
    .await
    .map_err(internal)?;
    row.map(|row| {
        Ok(Attachment {
            meta: attachment_meta(&row)?,
            data: row.try_get::<Vec<u8>, _>(4)?.into(),
            ticket_id: row.try_get(5)?,
            resident_id: row.try_get(6)?,
        })
    })
    .transpose()
    .map_err(internal)
}

pub(crate) async fn status_history(
    pool: &PgPool,
    provider: ProviderId,
    ticket_id: i64,
) -> Result<Vec<StatusChange>> {
    let rows = sqlx::query(
        "SELECT h.ticket_id, h.employee_id, h.application_id, h.from_status, h.to_status, h.changed_at
         FROM ticket_status_changes h JOIN tickets t ON t.id = h.ticket_id
         WHERE h.ticket_id = $1 AND t.provider_id = $2 ORDER BY h.id",
    )
    .bind(ticket_id)
    .bind(provider.0)
    .fetch_all(pool)
    .await
    .map_err(internal)?;
    rows.iter()
        .map(|row| {
            Ok(StatusChange {
                ticket_id: row.try_get(0)?,
                employee_id: row.try_get(1)?,
                application_id: row.try_get(2)?,
                from_status: rows::optional_status(row, 3)?,
                to_status: rows::status(row, 4)?,
                changed_at: from_epoch(row.try_get(5)?),
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()
        .map_err(internal)
}
