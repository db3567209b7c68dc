//! A ticket's detail: the ticket with its ratings, comments, attachments
//! and notifications.
//!
//! Its parts are four queries of one shape. On PostgreSQL, where each
//! statement is a round trip, they are joined to the ticket in one
//! statement; one statement sees one snapshot by itself, so a ticket that
//! notifies no one (most of them) is read without a transaction around it:
//! one round trip instead of six. On SQLite a statement is a function call,
//! and the four simple queries cost less than their union.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use connecticket_domain::model::{
    AttachmentMeta, Comment, ProviderId, Ticket, TicketCategory, TicketDetail, TicketId,
    MAX_DETAIL_COMMENTS,
};
use connecticket_domain::notify::NoticeSummary;

use crate::engine::{Dialect, Executor};
use crate::rows;
use crate::sql::Result;
use crate::value::Row;

/// The ticket, if the provider owns it.
const TICKET: &str = "SELECT * FROM tickets t WHERE t.id = $1 AND t.provider_id = $2";

/// The parts, each by its code and a query of `$1` (the ticket) with the same named
/// columns, each used as its part needs. (Typed `NULL`s where PostgreSQL would
/// otherwise take a bare `NULL` for text: it resolves a `UNION`'s column
/// types pairwise, and a subquery's on its own.)
static PARTS: LazyLock<[(i64, String); 4]> = LazyLock::new(|| {
    [
        (
            RATING,
            format!(
                "SELECT {RATING} AS part, tc.category_id AS part_id,
                    CAST(NULL AS BIGINT) AS part_category, c.name AS part_name,
                    tc.status AS part_text, CAST(NULL AS TEXT) AS part_category_name,
                    CAST(NULL AS BIGINT) AS part_at, CAST(NULL AS BIGINT) AS part_number
             FROM ticket_categories tc JOIN categories c ON c.id = tc.category_id
             WHERE tc.ticket_id = $1"
            ),
        ),
        // The newest comments, at most MAX_DETAIL_COMMENTS of them, so
        // that no ticket's answer grows without bound.
        (
            COMMENT,
            format!(
                "SELECT * FROM (
                 SELECT {COMMENT} AS part, cm.id AS part_id, cm.category_id AS part_category,
                        e.name AS part_name, cm.body AS part_text,
                        c.name AS part_category_name, cm.created_at AS part_at,
                        CAST(NULL AS BIGINT) AS part_number
                 FROM comments cm
                 JOIN employees e ON e.id = cm.employee_id
                 LEFT JOIN categories c ON c.id = cm.category_id
                 WHERE cm.ticket_id = $1 ORDER BY cm.id DESC LIMIT {MAX_DETAIL_COMMENTS}
             ) newest_comments"
            ),
        ),
        (
            COMMENT_COUNT,
            format!(
                "SELECT {COMMENT_COUNT} AS part, NULL AS part_id, NULL AS part_category,
                    NULL AS part_name, NULL AS part_text, NULL AS part_category_name,
                    NULL AS part_at, COUNT(*) AS part_number
             FROM comments WHERE ticket_id = $1"
            ),
        ),
        (
            ATTACHMENT,
            format!(
                "SELECT {ATTACHMENT} AS part, a.id AS part_id, NULL AS part_category,
                    a.file_name AS part_name, a.content_type AS part_text,
                    NULL AS part_category_name, NULL AS part_at, a.file_size AS part_number
             FROM attachments a WHERE a.ticket_id = $1"
            ),
        ),
    ]
});

/// The ticket joined to each of its parts: a row per part, and none at all
/// for another provider's ticket.
static DETAIL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT t.*, p.* FROM tickets t LEFT JOIN ({}) p ON TRUE
         WHERE t.id = $1 AND t.provider_id = $2",
        PARTS
            .iter()
            .map(|(_, sql)| sql.as_str())
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    )
});

const RATING: i64 = 1;
const COMMENT: i64 = 2;
const COMMENT_COUNT: i64 = 3;
const ATTACHMENT: i64 = 4;

/// Whether the detail is read in one statement on this engine.
pub(crate) fn in_one_statement(dialect: Dialect) -> bool {
    matches!(dialect, Dialect::Postgres)
}

/// The detail without its notifications. On an engine that reads it in
/// more than one statement, the caller's read transaction makes them agree.
pub(crate) async fn without_notifications(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
) -> Result<Option<TicketDetail>> {
    let mut parts = Parts::default();
    let ticket_and_provider = [ticket_id.into(), provider.into()];
    if in_one_statement(tx.dialect()) {
        tx.query(&DETAIL, &ticket_and_provider, &mut |row| {
            if parts.ticket.is_none() {
                parts.ticket = Some(rows::ticket(row)?);
            }
            parts.add(row)
        })
        .await?;
    } else {
        tx.query(TICKET, &ticket_and_provider, &mut |row| {
            parts.ticket = Some(rows::ticket(row)?);
            Ok(())
        })
        .await?;
        // Only once the provider's ownership is known: the parts are
        // found by the ticket alone.
        if parts.ticket.is_some() {
            for (part, sql) in PARTS.iter() {
                // Only a ticket with that many comments needs counting.
                if *part == COMMENT_COUNT && parts.comments.len() < MAX_DETAIL_COMMENTS {
                    continue;
                }
                tx.query(sql, &[ticket_id.into()], &mut |row| parts.add(row))
                    .await?;
            }
        }
    }
    Ok(parts.into_detail())
}

/// The whole detail; the caller's read transaction makes its statements
/// agree.
pub(crate) async fn ticket_detail(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket_id: TicketId,
) -> Result<Option<TicketDetail>> {
    let Some(mut detail) = without_notifications(tx, provider, ticket_id).await? else {
        return Ok(None);
    };
    if notifies(&detail.ticket) {
        detail.notifications = super::notifications::of_ticket(tx, provider, ticket_id)
            .await?
            .iter()
            .map(NoticeSummary::from)
            .collect();
    }
    Ok(Some(detail))
}

/// Only a ticket that asked for email or SMS can have notifications.
pub(crate) fn notifies(ticket: &Ticket) -> bool {
    ticket.email == Some(true) || ticket.sms == Some(true)
}

/// The rows of the ticket and its parts, gathered.
#[derive(Default)]
struct Parts {
    ticket: Option<Ticket>,
    categories: BTreeMap<i64, TicketCategory>,
    /// The newest comments, each with its category's name.
    comments: Vec<(Comment, Option<String>)>,
    comments_total: u64,
    attachments: Vec<AttachmentMeta>,
}

impl Parts {
    fn add(&mut self, row: &dyn Row) -> Result<()> {
        match row.get::<Option<i64>>("part")? {
            Some(RATING) => {
                let rating = TicketCategory {
                    category_id: row.get("part_id")?,
                    name: row.get("part_name")?,
                    rating: row.get("part_text")?,
                    comments: Vec::new(),
                };
                self.categories.insert(rating.category_id.get(), rating);
            }
            Some(COMMENT) => {
                let comment = Comment {
                    id: row.get("part_id")?,
                    category_id: row.get("part_category")?,
                    author_name: row.get("part_name")?,
                    body: row.get("part_text")?,
                    created_at: row.get("part_at")?,
                };
                self.comments
                    .push((comment, row.get("part_category_name")?));
            }
            Some(COMMENT_COUNT) => self.comments_total = row.get("part_number")?,
            Some(ATTACHMENT) => self.attachments.push(AttachmentMeta {
                id: row.get("part_id")?,
                file_name: row.get("part_name")?,
                content_type: row.get("part_text")?,
                file_size: row.get("part_number")?,
            }),
            _ => {}
        }
        Ok(())
    }

    fn into_detail(mut self) -> Option<TicketDetail> {
        let ticket = self.ticket?;
        // Each part's rows may come in any order.
        self.comments.sort_by_key(|(comment, _)| comment.id);
        self.attachments.sort_by_key(|attachment| attachment.id);
        let mut categories = self.categories;
        // (Not counted when there were fewer than the most embedded.)
        let embedded = self.comments.len() as u64;
        let comments_omitted = self.comments_total.max(embedded) - embedded;
        let mut general_comments = Vec::new();
        for (comment, category_name) in self.comments {
            match comment.category_id {
                Some(category_id) => categories
                    .entry(category_id.get())
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
        Some(TicketDetail {
            ticket,
            categories: categories.into_values().collect(),
            general_comments,
            attachments: self.attachments,
            comments_omitted,
            notifications: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::DETAIL;

    /// `bench/postgres-ceiling/ticket_detail.sql` measures PostgreSQL on
    /// this statement; a change here that it did not follow would measure
    /// something the server no longer sends.
    #[test]
    fn the_ceiling_benchmark_sends_the_detail_statement() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../bench/postgres-ceiling/ticket_detail.sql"
        );
        let script = std::fs::read_to_string(path).expect("the ceiling's detail script");
        let words = |sql: &str| sql.split_whitespace().collect::<Vec<_>>().join(" ");
        let sent = words(
            &script
                .lines()
                .filter(|line| !line.starts_with("--") && !line.starts_with('\\'))
                .collect::<Vec<_>>()
                .join("\n")
                .replace(":id", "$1")
                .replace("t.provider_id = 1", "t.provider_id = $2"),
        );
        // pgbench reads SQL as written, so the script may break lines and
        // parentheses where the server's text does not.
        let unbroken = |sql: &str| sql.replace("( ", "(").replace(" )", ")");
        assert_eq!(
            unbroken(sent.trim_end_matches(';')),
            unbroken(&words(&DETAIL))
        );
    }
}
