//! Export and import of every record, for data moves between backends.

use rusqlite::{params, Connection, Row};
use tokio::sync::mpsc;

use crate::audit;
use crate::readers::{feed, Sink};
use crate::rows::{self, iso_date, RESIDENT_COLUMNS, TICKET_COLUMNS};
use crate::{internal, Result};
use connecticket_domain::audit::AuditAnchor;
use connecticket_domain::model::{Employee, ProviderId};
use connecticket_domain::time::{from_epoch, to_epoch};
use connecticket_domain::transfer::{
    target_not_empty, Record, StoredApplication, StoredAttachment, StoredCategory, StoredComment,
    StoredIdempotencyKey, StoredRating, StoredStatusChange, StoredTicket, StoredToken, Table,
};
use connecticket_domain::workflow::CategoryRating;
use connecticket_domain::StoreError;

fn opt_time(row: &Row<'_>, at: usize) -> rusqlite::Result<Option<chrono::DateTime<chrono::Utc>>> {
    Ok(row.get::<_, Option<i64>>(at)?.map(from_epoch))
}

fn select(table: Table) -> String {
    match table {
        Table::Providers => "SELECT p.id, p.name, p.time_zone, p.created_at FROM providers p ORDER BY p.id".to_owned(),
        Table::Employees => "SELECT id, provider_id, name, email, created_at FROM employees ORDER BY id".to_owned(),
        Table::Applications => "SELECT id, provider_id, employee_id, name, api_key, secret_hash, created_at, revoked_at FROM applications ORDER BY id".to_owned(),
        Table::AccessTokens => "SELECT id, application_id, token_hash, created_at, expires_at, revoked_at FROM access_tokens ORDER BY id".to_owned(),
        Table::Residents => format!("SELECT {RESIDENT_COLUMNS} FROM residents ORDER BY id"),
        Table::Categories => "SELECT id, provider_id, name, created_at FROM categories ORDER BY id".to_owned(),
        Table::Tickets => format!("SELECT {TICKET_COLUMNS}, t.application_id FROM tickets t ORDER BY t.id"),
        Table::TicketCategories => "SELECT ticket_id, category_id, status FROM ticket_categories ORDER BY ticket_id, category_id".to_owned(),
        Table::Comments => "SELECT id, ticket_id, category_id, employee_id, body, created_at FROM comments ORDER BY id".to_owned(),
        Table::Attachments => "SELECT id, ticket_id, file_name, content_type, file_size, data, created_at FROM attachments ORDER BY id".to_owned(),
        Table::TicketStatusChanges => "SELECT id, ticket_id, employee_id, application_id, from_status, to_status, changed_at FROM ticket_status_changes ORDER BY id".to_owned(),
        Table::IdempotencyKeys => "SELECT application_id, idempotency_key, fingerprint, result_id, created_at FROM idempotency_keys ORDER BY application_id, idempotency_key".to_owned(),
        Table::AuditLog => format!("SELECT {} FROM audit_log ORDER BY id", audit::COLUMNS),
        Table::AuditAnchor => "SELECT last_id, last_hash, pruned_through_id, pruned_hash FROM audit_anchor".to_owned(),
    }
}

fn record(table: Table, row: &Row<'_>) -> rusqlite::Result<Record> {
    Ok(match table {
        Table::Providers => Record::Provider(rows::provider(row, 0)?),
        Table::Employees => Record::Employee(Employee {
            id: row.get(0)?,
            provider_id: ProviderId(row.get(1)?),
            name: row.get(2)?,
            email: row.get(3)?,
            created_at: from_epoch(row.get(4)?),
        }),
        Table::Applications => Record::Application(StoredApplication {
            id: row.get(0)?,
            provider_id: ProviderId(row.get(1)?),
            employee_id: row.get(2)?,
            name: row.get(3)?,
            api_key: row.get(4)?,
            secret_hash: row.get(5)?,
            created_at: from_epoch(row.get(6)?),
            revoked_at: opt_time(row, 7)?,
        }),
        Table::AccessTokens => Record::AccessToken(StoredToken {
            id: row.get(0)?,
            application_id: row.get(1)?,
            token_hash: row.get(2)?,
            created_at: from_epoch(row.get(3)?),
            expires_at: from_epoch(row.get(4)?),
            revoked_at: opt_time(row, 5)?,
        }),
        Table::Residents => Record::Resident(Box::new(rows::resident(row)?)),
        Table::Categories => Record::Category(StoredCategory {
            id: row.get(0)?,
            provider_id: ProviderId(row.get(1)?),
            name: row.get(2)?,
            created_at: from_epoch(row.get(3)?),
        }),
        Table::Tickets => Record::Ticket(Box::new(StoredTicket {
            ticket: rows::ticket(row)?,
            application_id: row.get(18)?,
        })),
        Table::TicketCategories => Record::TicketCategory(StoredRating {
            ticket_id: row.get(0)?,
            category_id: row.get(1)?,
            status: rows::rating(row, 2)?.unwrap_or(CategoryRating::NoIssue),
        }),
        Table::Comments => Record::Comment(StoredComment {
            id: row.get(0)?,
            ticket_id: row.get(1)?,
            category_id: row.get(2)?,
            employee_id: row.get(3)?,
            body: row.get(4)?,
            created_at: from_epoch(row.get(5)?),
        }),
        Table::Attachments => Record::Attachment(StoredAttachment {
            id: row.get(0)?,
            ticket_id: row.get(1)?,
            file_name: row.get(2)?,
            content_type: row.get(3)?,
            file_size: row.get(4)?,
            data: row.get::<_, Vec<u8>>(5)?.into(),
            created_at: from_epoch(row.get(6)?),
        }),
        Table::TicketStatusChanges => Record::StatusChange(StoredStatusChange {
            id: row.get(0)?,
            ticket_id: row.get(1)?,
            employee_id: row.get(2)?,
            application_id: row.get(3)?,
            from_status: rows::optional_status(row, 4)?,
            to_status: rows::status(row, 5)?,
            changed_at: from_epoch(row.get(6)?),
        }),
        Table::IdempotencyKeys => Record::IdempotencyKey(StoredIdempotencyKey {
            application_id: row.get(0)?,
            key: row.get(1)?,
            fingerprint: row.get(2)?,
            result_id: row.get(3)?,
            created_at: from_epoch(row.get(4)?),
        }),
        Table::AuditLog => Record::AuditEntry(Box::new(audit::record(row)?)),
        Table::AuditAnchor => Record::AuditAnchor(AuditAnchor {
            last_id: row.get(0)?,
            last_hash: row.get(1)?,
            pruned_through_id: row.get(2)?,
            pruned_hash: row.get(3)?,
        }),
    })
}

/// Streams every table from one read transaction (one snapshot).
pub(crate) fn export(conn: &Connection, sink: Sink<'_, Record>) -> Result<()> {
    conn.execute_batch("BEGIN").map_err(internal)?;
    let outcome = (|| {
        for table in Table::ALL {
            let mut statement = conn.prepare(&select(table)).map_err(internal)?;
            let rows = statement
                .query_map([], |row| record(table, row))
                .map_err(internal)?;
            feed(rows, sink)?;
        }
        Ok(())
    })();
    conn.execute_batch("COMMIT").map_err(internal)?;
    outcome
}

/// Empty: no rows, and an audit anchor still at the start of the chain.
fn is_empty(conn: &Connection) -> Result<bool> {
    if audit::anchor(conn)? != AuditAnchor::genesis() {
        return Ok(false);
    }
    for table in Table::ALL.into_iter().filter(|t| *t != Table::AuditAnchor) {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", table.name());
        let any: bool = conn
            .query_row(&sql, [], |row| row.get(0))
            .map_err(internal)?;
        if any {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Runs inside one writer job: everything is written, or nothing.
pub(crate) fn import(
    conn: &Connection,
    records: &mut mpsc::Receiver<Result<Vec<Record>>>,
) -> Result<u64> {
    if !is_empty(conn)? {
        return Err(target_not_empty());
    }
    let mut written = 0;
    while let Some(chunk) = records.blocking_recv() {
        for record in chunk? {
            insert(conn, &record)?;
            written += 1;
        }
    }
    Ok(written)
}

fn insert(conn: &Connection, record: &Record) -> Result<()> {
    let result = match record {
        Record::Provider(p) => conn.execute(
            "INSERT INTO providers (id, name, time_zone, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![p.id.0, p.name, p.time_zone, to_epoch(p.created_at)],
        ),
        Record::Employee(e) => conn.execute(
            "INSERT INTO employees (id, provider_id, name, email, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![e.id, e.provider_id.0, e.name, e.email, to_epoch(e.created_at)],
        ),
        Record::Application(a) => conn.execute(
            "INSERT INTO applications (id, provider_id, employee_id, name, api_key, secret_hash, created_at, revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![a.id, a.provider_id.0, a.employee_id, a.name, a.api_key, a.secret_hash,
                    to_epoch(a.created_at), a.revoked_at.map(to_epoch)],
        ),
        Record::AccessToken(t) => conn.execute(
            "INSERT INTO access_tokens (id, application_id, token_hash, created_at, expires_at, revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![t.id, t.application_id, t.token_hash, to_epoch(t.created_at),
                    to_epoch(t.expires_at), t.revoked_at.map(to_epoch)],
        ),
        Record::Resident(r) => conn.execute(
            &format!("INSERT INTO residents ({RESIDENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
                 ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25,
                 ?26, ?27, ?28, ?29, ?30, ?31)"),
            params![r.id, r.provider_id.0, r.first_name, r.last_name, iso_date(r.dob), r.email,
                    r.phone_number, r.fax_number, r.home_address1, r.home_address2, r.home_city,
                    r.home_state, r.home_zip, r.location, r.state, r.in_home_care, r.demo,
                    r.resident_type_id, r.caretracker_id, r.customer_number, r.account_number,
                    r.photo_file_name, r.photo_content_type, r.photo_file_size, r.creator_id,
                    r.updater_id, r.review_updates, r.last_status_update.map(to_epoch),
                    r.next_status_update.map(to_epoch), to_epoch(r.created_at), to_epoch(r.updated_at)],
        ),
        Record::Category(c) => conn.execute(
            "INSERT INTO categories (id, provider_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![c.id, c.provider_id.0, c.name, to_epoch(c.created_at)],
        ),
        Record::Ticket(stored) => conn.execute(
            "INSERT INTO tickets (id, provider_id, title, resident_id, employee_id, urgency_status_id,
                 ticket_status, ticket_type, state, sms, email, sent_to_family, sent_to_healthcare_pro,
                 sent_to_primary, start_date, end_date, created_at, updated_at, application_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            params![stored.ticket.id, stored.ticket.provider_id.0, stored.ticket.title, stored.ticket.resident_id, stored.ticket.employee_id, stored.ticket.urgency_status_id,
                    stored.ticket.ticket_status.as_str(), stored.ticket.ticket_type, stored.ticket.state, stored.ticket.sms, stored.ticket.email, stored.ticket.sent_to_family,
                    stored.ticket.sent_to_healthcare_pro, stored.ticket.sent_to_primary, iso_date(stored.ticket.start_date),
                    iso_date(stored.ticket.end_date), to_epoch(stored.ticket.created_at), to_epoch(stored.ticket.updated_at), stored.application_id],
        ),
        Record::TicketCategory(r) => conn.execute(
            "INSERT INTO ticket_categories (ticket_id, category_id, status) VALUES (?1, ?2, ?3)",
            params![r.ticket_id, r.category_id, r.status.as_str()],
        ),
        Record::Comment(c) => conn.execute(
            "INSERT INTO comments (id, ticket_id, category_id, employee_id, body, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![c.id, c.ticket_id, c.category_id, c.employee_id, c.body, to_epoch(c.created_at)],
        ),
        Record::Attachment(a) => conn.execute(
            "INSERT INTO attachments (id, ticket_id, file_name, content_type, file_size, data, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![a.id, a.ticket_id, a.file_name, a.content_type, a.file_size, a.data.as_ref(),
                    to_epoch(a.created_at)],
        ),
        Record::StatusChange(h) => conn.execute(
            "INSERT INTO ticket_status_changes (id, ticket_id, employee_id, application_id, from_status, to_status, changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![h.id, h.ticket_id, h.employee_id, h.application_id,
                    h.from_status.map(|s| s.as_str()), h.to_status.as_str(), to_epoch(h.changed_at)],
        ),
        Record::IdempotencyKey(k) => conn.execute(
            "INSERT INTO idempotency_keys (application_id, idempotency_key, fingerprint, result_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![k.application_id, k.key, k.fingerprint, k.result_id, to_epoch(k.created_at)],
        ),
        Record::AuditEntry(entry) => return audit::insert(conn, entry),
        Record::AuditAnchor(a) => conn.execute(
            "UPDATE audit_anchor SET last_id = ?1, last_hash = ?2, pruned_through_id = ?3, pruned_hash = ?4
             WHERE id = 1",
            params![a.last_id, a.last_hash, a.pruned_through_id, a.pruned_hash],
        ),
    };
    result.map(|_| ()).map_err(|error| {
        StoreError::Internal(format!(
            "cannot import a {} row: {error}",
            record.table().name()
        ))
    })
}
