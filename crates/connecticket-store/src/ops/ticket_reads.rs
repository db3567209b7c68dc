//! The reads about tickets and residents. Every query is scoped by the
//! caller's provider.

use connecticket_domain::model::{
    Attachment, AttachmentId, AttachmentMeta, Category, Page, ProviderId, Resident, StatusChange,
    Ticket, TicketId, TicketQuery,
};

use crate::engine::Executor;
use crate::rows;
use crate::sql::{fetch_all, fetch_optional, Result};
use crate::value::{Row, Value};

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
