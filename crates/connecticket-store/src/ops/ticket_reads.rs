//! The reads about tickets and residents. Every query is scoped by the
//! caller's provider.

use std::collections::BTreeMap;

use connecticket_domain::model::{
    Attachment, AttachmentId, AttachmentMeta, Category, Comment, Page, ProviderId, Resident,
    StatusChange, Ticket, TicketCategory, TicketDetail, TicketId, TicketQuery, MAX_DETAIL_COMMENTS,
};

use crate::engine::Executor;
use crate::rows;
use crate::sql::{fetch_all, fetch_one, fetch_optional, Result};
use crate::value::{Row, Value};
use connecticket_domain::notify::NoticeSummary;

/// A list's filters as SQL and arguments; `$1` is always the provider.
struct Filter<'a> {
    sql: String,
    args: Vec<Value<'a>>,
}

impl<'a> Filter<'a> {
    fn provider(provider: ProviderId) -> Self {
        Filter {
            sql: "provider_id = $1".to_owned(),
            args: vec![provider.into()],
        }
    }

    fn and(&mut self, condition: &str, value: Value<'a>) {
        self.args.push(value);
        self.sql
            .push_str(&format!(" AND {condition} ${}", self.args.len()));
    }
}

/// One chunk of `table`'s rows matching `filter`, ordered by id: the
/// page's window when paged, otherwise the next `limit` rows after `after`.
async fn chunk<T: Send>(
    tx: &mut dyn Executor,
    table: &str,
    mut filter: Filter<'_>,
    window: Window,
    map: fn(&dyn Row) -> Result<T>,
) -> Result<Vec<T>> {
    let (sql, args) = match window {
        Window::Page(page) => {
            if let Some(after_id) = page.after_id {
                filter.and("id >", after_id.into());
            }
            let n = filter.args.len();
            let sql = format!(
                "SELECT * FROM {table} WHERE {} ORDER BY id LIMIT ${} OFFSET ${}",
                filter.sql,
                n + 1,
                n + 2
            );
            let mut args = filter.args;
            args.push(i64::from(page.per_page).into());
            args.push(page.offset().into());
            (sql, args)
        }
        Window::After { after, limit } => {
            filter.and("id >", after.into());
            let n = filter.args.len();
            let sql = format!(
                "SELECT * FROM {table} WHERE {} ORDER BY id LIMIT ${}",
                filter.sql,
                n + 1
            );
            let mut args = filter.args;
            args.push(limit.into());
            (sql, args)
        }
    };
    fetch_all(tx, &sql, &args, map).await
}

/// Which rows of a list one read takes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Window {
    /// A client's page.
    Page(Page),
    /// A keyset chunk of a whole list: rows after `after`.
    After { after: i64, limit: i64 },
}

pub(crate) async fn tickets(
    tx: &mut dyn Executor,
    provider: ProviderId,
    query: &TicketQuery,
    window: Window,
) -> Result<Vec<Ticket>> {
    let mut filter = Filter::provider(provider);
    if let Some(status) = query.ticket_status {
        filter.and("ticket_status =", status.into());
    }
    if let Some(resident_id) = query.resident_id {
        filter.and("resident_id =", resident_id.into());
    }
    if let Some(since) = query.updated_since {
        filter.and("updated_at >=", since.into());
    }
    chunk(tx, "tickets", filter, window, rows::ticket).await
}

pub(crate) async fn residents(
    tx: &mut dyn Executor,
    provider: ProviderId,
    window: Window,
) -> Result<Vec<Resident>> {
    chunk(
        tx,
        "residents",
        Filter::provider(provider),
        window,
        rows::resident,
    )
    .await
}

pub(crate) async fn categories(
    tx: &mut dyn Executor,
    provider: ProviderId,
) -> Result<Vec<Category>> {
    fetch_all(
        tx,
        "SELECT id, provider_id, name FROM categories WHERE provider_id = $1 ORDER BY id",
        &[provider.into()],
        rows::category,
    )
    .await
}

/// The ticket with its ratings, comments and attachments; the caller's
/// read transaction makes the parts agree with each other.
pub(crate) async fn ticket_detail(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
) -> Result<Option<TicketDetail>> {
    let ticket = fetch_optional(
        tx,
        "SELECT * FROM tickets WHERE id = $1 AND provider_id = $2",
        &[ticket_id.into(), provider.into()],
        rows::ticket,
    )
    .await?;
    let Some(ticket) = ticket else {
        return Ok(None);
    };
    let mut categories: BTreeMap<_, TicketCategory> = BTreeMap::new();
    let ratings = fetch_all(
        tx,
        "SELECT tc.category_id, c.name, tc.status FROM ticket_categories tc
         JOIN categories c ON c.id = tc.category_id
         WHERE tc.ticket_id = $1",
        &[ticket_id.into()],
        |row| {
            Ok(TicketCategory {
                category_id: row.get("category_id")?,
                name: row.get("name")?,
                rating: row.get("status")?,
                comments: Vec::new(),
            })
        },
    )
    .await?;
    for rating in ratings {
        categories.insert(rating.category_id, rating);
    }
    // The newest comments, at most MAX_DETAIL_COMMENTS of them, so that no
    // ticket's answer grows without bound. Only a ticket with that many
    // needs counting. (A window count in the same query saves PostgreSQL
    // a round trip but costs SQLite more than the query itself.)
    let mut comments = fetch_all(
        tx,
        "SELECT cm.id, cm.category_id, e.name AS author_name, cm.body, cm.created_at,
                c.name AS category_name
         FROM comments cm
         JOIN employees e ON e.id = cm.employee_id
         LEFT JOIN categories c ON c.id = cm.category_id
         WHERE cm.ticket_id = $1 ORDER BY cm.id DESC LIMIT $2",
        &[ticket_id.into(), (MAX_DETAIL_COMMENTS as i64).into()],
        |row| {
            let comment = Comment {
                id: row.get("id")?,
                category_id: row.get("category_id")?,
                author_name: row.get("author_name")?,
                body: row.get("body")?,
                created_at: row.get("created_at")?,
            };
            Ok((comment, row.get::<Option<String>>("category_name")?))
        },
    )
    .await?;
    let total: u64 = if comments.len() < MAX_DETAIL_COMMENTS {
        comments.len() as u64
    } else {
        fetch_one(
            tx,
            "SELECT COUNT(*) AS total FROM comments WHERE ticket_id = $1",
            &[ticket_id.into()],
            |row| row.get("total"),
        )
        .await?
    };
    comments.reverse();
    let comments_omitted = total.saturating_sub(comments.len() as u64);
    let mut general_comments = Vec::new();
    for (comment, category_name) in comments {
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
    let attachments = fetch_all(
        tx,
        "SELECT id, file_name, content_type, file_size FROM attachments
         WHERE ticket_id = $1 ORDER BY id",
        &[ticket_id.into()],
        attachment_meta,
    )
    .await?;
    // Only a ticket that asked for email or SMS can have notifications.
    let notifies = ticket.email == Some(true) || ticket.sms == Some(true);
    let notifications = if notifies {
        super::notifications::of_ticket(tx, provider, ticket_id)
            .await?
            .iter()
            .map(NoticeSummary::from)
            .collect()
    } else {
        Vec::new()
    };
    Ok(Some(TicketDetail {
        ticket,
        categories: categories.into_values().collect(),
        general_comments,
        attachments,
        comments_omitted,
        notifications,
    }))
}

fn attachment_meta(row: &dyn Row) -> Result<AttachmentMeta> {
    Ok(AttachmentMeta {
        id: row.get("id")?,
        file_name: row.get("file_name")?,
        content_type: row.get("content_type")?,
        file_size: row.get("file_size")?,
    })
}

pub(crate) async fn attachment(
    tx: &mut dyn Executor,
    provider: ProviderId,
    attachment_id: AttachmentId,
) -> Result<Option<Attachment>> {
    fetch_optional(
        tx,
        "SELECT a.id, a.file_name, a.content_type, a.file_size, a.data, t.id AS ticket_id,
                t.resident_id
         FROM attachments a JOIN tickets t ON t.id = a.ticket_id
         WHERE a.id = $1 AND t.provider_id = $2",
        &[attachment_id.into(), provider.into()],
        |row| {
            Ok(Attachment {
                meta: attachment_meta(row)?,
                data: row.get("data")?,
                ticket_id: row.get("ticket_id")?,
                resident_id: row.get("resident_id")?,
            })
        },
    )
    .await
}

pub(crate) async fn status_history(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
) -> Result<Vec<StatusChange>> {
    fetch_all(
        tx,
        "SELECT h.* FROM ticket_status_changes h JOIN tickets t ON t.id = h.ticket_id
         WHERE h.ticket_id = $1 AND t.provider_id = $2 ORDER BY h.id",
        &[ticket_id.into(), provider.into()],
        |row| {
            let stored = rows::status_change(row)?;
            Ok(StatusChange {
                ticket_id: stored.ticket_id,
                employee_id: stored.employee_id,
                application_id: stored.application_id,
                from_status: stored.from_status,
                to_status: stored.to_status,
                changed_at: stored.changed_at,
            })
        },
    )
    .await
}
