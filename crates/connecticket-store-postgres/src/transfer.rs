//! Export and import of every record, for data moves between backends.

use futures::StreamExt;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::audit;
use crate::rows::{self, advance_identity, iso_date, RESIDENT_COLUMNS, TICKET_COLUMNS};
use crate::stream::{forward, Sender};
use crate::{internal, Result};
use connecticket_domain::audit::AuditAnchor;
use connecticket_domain::model::{Employee, ProviderId};
use connecticket_domain::store::RowStream;
use connecticket_domain::time::{from_epoch, to_epoch};
use connecticket_domain::transfer::{
    target_not_empty, Record, StoredApplication, StoredAttachment, StoredCategory, StoredComment,
    StoredIdempotencyKey, StoredRating, StoredStatusChange, StoredTicket, StoredToken, Table,
};
use connecticket_domain::workflow::CategoryRating;
use connecticket_domain::StoreError;

type RowResult<T> = std::result::Result<T, sqlx::Error>;

fn opt_time(row: &PgRow, at: usize) -> RowResult<Option<chrono::DateTime<chrono::Utc>>> {
    Ok(row.try_get::<Option<i64>, _>(at)?.map(from_epoch))
}

fn provider(row: &PgRow) -> RowResult<Record> {
    Ok(Record::Provider(rows::provider(row, 0)?))
}
fn employee(row: &PgRow) -> RowResult<Record> {
    Ok(Record::Employee(Employee {
        id: row.try_get(0)?,
        provider_id: ProviderId(row.try_get(1)?),
        name: row.try_get(2)?,
        email: row.try_get(3)?,
        created_at: from_epoch(row.try_get(4)?),
    }))
}
fn application(row: &PgRow) -> RowResult<Record> {
    Ok(Record::Application(StoredApplication {
        id: row.try_get(0)?,
        provider_id: ProviderId(row.try_get(1)?),
        employee_id: row.try_get(2)?,
        name: row.try_get(3)?,
        api_key: row.try_get(4)?,
        secret_hash: row.try_get(5)?,
        created_at: from_epoch(row.try_get(6)?),
        revoked_at: opt_time(row, 7)?,
    }))
}
fn token(row: &PgRow) -> RowResult<Record> {
    Ok(Record::AccessToken(StoredToken {
        id: row.try_get(0)?,
        application_id: row.try_get(1)?,
        token_hash: row.try_get(2)?,
        created_at: from_epoch(row.try_get(3)?),
        expires_at: from_epoch(row.try_get(4)?),
        revoked_at: opt_time(row, 5)?,
    }))
}
fn resident(row: &PgRow) -> RowResult<Record> {
    Ok(Record::Resident(Box::new(rows::resident(row)?)))
}
fn category(row: &PgRow) -> RowResult<Record> {
    Ok(Record::Category(StoredCategory {
        id: row.try_get(0)?,
        provider_id: ProviderId(row.try_get(1)?),
        name: row.try_get(2)?,
        created_at: from_epoch(row.try_get(3)?),
    }))
}
fn ticket(row: &PgRow) -> RowResult<Record> {
    Ok(Record::Ticket(Box::new(StoredTicket {
        ticket: rows::ticket(row)?,
        application_id: row.try_get(18)?,
    })))
}
fn rating(row: &PgRow) -> RowResult<Record> {
    Ok(Record::TicketCategory(StoredRating {
        ticket_id: row.try_get(0)?,
        category_id: row.try_get(1)?,
        status: rows::rating(row, 2)?.unwrap_or(CategoryRating::NoIssue),
    }))
}
fn comment(row: &PgRow) -> RowResult<Record> {
    Ok(Record::Comment(StoredComment {
        id: row.try_get(0)?,
        ticket_id: row.try_get(1)?,
        category_id: row.try_get(2)?,
        employee_id: row.try_get(3)?,
        body: row.try_get(4)?,
        created_at: from_epoch(row.try_get(5)?),
    }))
}
fn attachment(row: &PgRow) -> RowResult<Record> {
    Ok(Record::Attachment(StoredAttachment {
        id: row.try_get(0)?,
        ticket_id: row.try_get(1)?,
        file_name: row.try_get(2)?,
        content_type: row.try_get(3)?,
        file_size: row.try_get(4)?,
        data: row.try_get::<Vec<u8>, _>(5)?.into(),
        created_at: from_epoch(row.try_get(6)?),
    }))
}
fn status_change(row: &PgRow) -> RowResult<Record> {
    Ok(Record::StatusChange(StoredStatusChange {
        id: row.try_get(0)?,
        ticket_id: row.try_get(1)?,
        employee_id: row.try_get(2)?,
        application_id: row.try_get(3)?,
        from_status: rows::optional_status(row, 4)?,
        to_status: rows::status(row, 5)?,
        changed_at: from_epoch(row.try_get(6)?),
    }))
}
fn idempotency_key(row: &PgRow) -> RowResult<Record> {
    Ok(Record::IdempotencyKey(StoredIdempotencyKey {
        application_id: row.try_get(0)?,
        key: row.try_get(1)?,
        fingerprint: row.try_get(2)?,
        result_id: row.try_get(3)?,
        created_at: from_epoch(row.try_get(4)?),
    }))
}

fn audit_entry(row: &PgRow) -> RowResult<Record> {
    Ok(Record::AuditEntry(Box::new(audit::record(row)?)))
}
fn audit_anchor(row: &PgRow) -> RowResult<Record> {
    Ok(Record::AuditAnchor(AuditAnchor {
        last_id: row.try_get(0)?,
        last_hash: row.try_get(1)?,
        pruned_through_id: row.try_get(2)?,
        pruned_hash: row.try_get(3)?,
    }))
}

type Mapper = fn(&PgRow) -> RowResult<Record>;

fn select(table: Table) -> (String, Mapper) {
    match table {
        Table::Providers => ("SELECT p.id, p.name, p.time_zone, p.created_at FROM providers p ORDER BY p.id".to_owned(), provider),
        Table::Employees => ("SELECT id, provider_id, name, email, created_at FROM employees ORDER BY id".to_owned(), employee),
        Table::Applications => ("SELECT id, provider_id, employee_id, name, api_key, secret_hash, created_at, revoked_at FROM applications ORDER BY id".to_owned(), application),
        Table::AccessTokens => ("SELECT id, application_id, token_hash, created_at, expires_at, revoked_at FROM access_tokens ORDER BY id".to_owned(), token),
        Table::Residents => (format!("SELECT {RESIDENT_COLUMNS} FROM residents ORDER BY id"), resident),
        Table::Categories => ("SELECT id, provider_id, name, created_at FROM categories ORDER BY id".to_owned(), category),
        Table::Tickets => (format!("SELECT {TICKET_COLUMNS}, t.application_id FROM tickets t ORDER BY t.id"), ticket),
        Table::TicketCategories => ("SELECT ticket_id, category_id, status FROM ticket_categories ORDER BY ticket_id, category_id".to_owned(), rating),
        Table::Comments => ("SELECT id, ticket_id, category_id, employee_id, body, created_at FROM comments ORDER BY id".to_owned(), comment),
        Table::Attachments => ("SELECT id, ticket_id, file_name, content_type, file_size, data, created_at FROM attachments ORDER BY id".to_owned(), attachment),
        Table::TicketStatusChanges => ("SELECT id, ticket_id, employee_id, application_id, from_status, to_status, changed_at FROM ticket_status_changes ORDER BY id".to_owned(), status_change),
        // COLLATE "C" orders text by bytes, as SQLite does.
        Table::IdempotencyKeys => ("SELECT application_id, idempotency_key, fingerprint, result_id, created_at FROM idempotency_keys ORDER BY application_id, idempotency_key COLLATE \"C\"".to_owned(), idempotency_key),
        Table::AuditLog => (format!("SELECT {} FROM audit_log ORDER BY id", audit::COLUMNS), audit_entry),
        Table::AuditAnchor => ("SELECT last_id, last_hash, pruned_through_id, pruned_hash FROM audit_anchor".to_owned(), audit_anchor),
    }
}

async fn export_all(pool: &PgPool, sender: &Sender<Record>) -> Result<()> {
    let mut tx = pool.begin().await.map_err(internal)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    for table in Table::ALL {
        let (sql, map) = select(table);
        if !forward(sqlx::query(&sql).fetch(&mut *tx), map, sender).await? {
            break;
        }
    }
    tx.commit().await.map_err(internal)
}

/// Streams every table from one repeatable-read snapshot.
pub(crate) fn export(pool: PgPool) -> RowStream<Record> {
    let (sender, receiver) = mpsc::channel(2);
    tokio::spawn(async move {
        if let Err(error) = export_all(&pool, &sender).await {
            let _ = sender.send(Err(error)).await;
        }
    });
    Box::pin(ReceiverStream::new(receiver))
}

/// Empty: no rows, and an audit anchor still at the start of the chain.
async fn is_empty(conn: &mut PgConnection) -> Result<bool> {
    if audit::anchor(conn).await? != AuditAnchor::genesis() {
        return Ok(false);
    }
    for table in Table::ALL.into_iter().filter(|t| *t != Table::AuditAnchor) {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", table.name());
        let any: bool = sqlx::query(&sql)
            .fetch_one(&mut *conn)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(internal)?;
        if any {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Everything in one transaction; the target's tables are locked first so
/// that nothing else writes into it meanwhile.
pub(crate) async fn import(pool: &PgPool, mut records: RowStream<Record>) -> Result<u64> {
    let mut tx = pool.begin().await.map_err(internal)?;
    let tables: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
    sqlx::query(&format!(
        "LOCK TABLE {} IN EXCLUSIVE MODE",
        tables.join(", ")
    ))
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    if !is_empty(&mut tx).await? {
        return Err(target_not_empty());
    }
    let mut written = 0;
    while let Some(chunk) = records.next().await {
        for record in chunk? {
            insert(&mut tx, &record).await.map_err(|error| {
                StoreError::Internal(format!(
                    "cannot import a {} row: {error}",
                    record.table().name()
                ))
            })?;
            written += 1;
        }
    }
    for table in Table::ALL {
        let identity = !matches!(
            table,
            Table::TicketCategories | Table::IdempotencyKeys | Table::AuditLog | Table::AuditAnchor
        );
        if identity {
            advance_identity(&mut tx, table.name())
                .await
                .map_err(internal)?;
        }
    }
    tx.commit().await.map_err(internal)?;
    Ok(written)
}

async fn insert(conn: &mut PgConnection, record: &Record) -> RowResult<()> {
    let query = match record {
        Record::Provider(p) => sqlx::query("INSERT INTO providers (id, name, time_zone, created_at) VALUES ($1, $2, $3, $4)")
            .bind(p.id.0).bind(&p.name).bind(&p.time_zone).bind(to_epoch(p.created_at)),
        Record::Employee(e) => sqlx::query("INSERT INTO employees (id, provider_id, name, email, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(e.id).bind(e.provider_id.0).bind(&e.name).bind(&e.email).bind(to_epoch(e.created_at)),
        Record::Application(a) => sqlx::query(
            "INSERT INTO applications (id, provider_id, employee_id, name, api_key, secret_hash, created_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(a.id).bind(a.provider_id.0).bind(a.employee_id).bind(&a.name).bind(&a.api_key)
            .bind(&a.secret_hash).bind(to_epoch(a.created_at)).bind(a.revoked_at.map(to_epoch)),
        Record::AccessToken(t) => sqlx::query(
            "INSERT INTO access_tokens (id, application_id, token_hash, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(t.id).bind(t.application_id).bind(&t.token_hash).bind(to_epoch(t.created_at))
            .bind(to_epoch(t.expires_at)).bind(t.revoked_at.map(to_epoch)),
        Record::Resident(r) => sqlx::query(&RESIDENT_INSERT)
            .bind(r.id).bind(r.provider_id.0).bind(&r.first_name).bind(&r.last_name).bind(iso_date(r.dob))
            .bind(&r.email).bind(&r.phone_number).bind(&r.fax_number).bind(&r.home_address1)
            .bind(&r.home_address2).bind(&r.home_city).bind(&r.home_state).bind(&r.home_zip)
            .bind(&r.location).bind(&r.state).bind(r.in_home_care).bind(r.demo).bind(r.resident_type_id)
            .bind(&r.caretracker_id).bind(&r.customer_number).bind(&r.account_number)
            .bind(&r.photo_file_name).bind(&r.photo_content_type).bind(r.photo_file_size)
            .bind(r.creator_id).bind(r.updater_id).bind(&r.review_updates)
            .bind(r.last_status_update.map(to_epoch)).bind(r.next_status_update.map(to_epoch))
            .bind(to_epoch(r.created_at)).bind(to_epoch(r.updated_at)),
        Record::Category(c) => sqlx::query("INSERT INTO categories (id, provider_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(c.id).bind(c.provider_id.0).bind(&c.name).bind(to_epoch(c.created_at)),
        Record::Ticket(stored) => sqlx::query(
            "INSERT INTO tickets (id, provider_id, title, resident_id, employee_id, urgency_status_id,
                 ticket_status, ticket_type, state, sms, email, sent_to_family, sent_to_healthcare_pro,
                 sent_to_primary, start_date, end_date, created_at, updated_at, application_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)")
            .bind(stored.ticket.id).bind(stored.ticket.provider_id.0).bind(&stored.ticket.title).bind(stored.ticket.resident_id).bind(stored.ticket.employee_id)
            .bind(stored.ticket.urgency_status_id).bind(stored.ticket.ticket_status.as_str()).bind(&stored.ticket.ticket_type).bind(stored.ticket.state)
            .bind(stored.ticket.sms).bind(stored.ticket.email).bind(stored.ticket.sent_to_family).bind(stored.ticket.sent_to_healthcare_pro)
            .bind(stored.ticket.sent_to_primary).bind(iso_date(stored.ticket.start_date)).bind(iso_date(stored.ticket.end_date))
            .bind(to_epoch(stored.ticket.created_at)).bind(to_epoch(stored.ticket.updated_at)).bind(stored.application_id),
        Record::TicketCategory(r) => sqlx::query("INSERT INTO ticket_categories (ticket_id, category_id, status) VALUES ($1, $2, $3)")
            .bind(r.ticket_id).bind(r.category_id).bind(r.status.as_str()),
        Record::Comment(c) => sqlx::query(
            "INSERT INTO comments (id, ticket_id, category_id, employee_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(c.id).bind(c.ticket_id).bind(c.category_id).bind(c.employee_id).bind(&c.body).bind(to_epoch(c.created_at)),
        Record::Attachment(a) => sqlx::query(
            "INSERT INTO attachments (id, ticket_id, file_name, content_type, file_size, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(a.id).bind(a.ticket_id).bind(&a.file_name).bind(&a.content_type).bind(a.file_size)
            .bind(a.data.as_ref()).bind(to_epoch(a.created_at)),
        Record::StatusChange(h) => sqlx::query(
            "INSERT INTO ticket_status_changes (id, ticket_id, employee_id, application_id, from_status, to_status, changed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(h.id).bind(h.ticket_id).bind(h.employee_id).bind(h.application_id)
            .bind(h.from_status.map(|s| s.as_str())).bind(h.to_status.as_str()).bind(to_epoch(h.changed_at)),
        Record::IdempotencyKey(k) => sqlx::query(
            "INSERT INTO idempotency_keys (application_id, idempotency_key, fingerprint, result_id, created_at)
             VALUES ($1, $2, $3, $4, $5)")
            .bind(k.application_id).bind(&k.key).bind(&k.fingerprint).bind(k.result_id).bind(to_epoch(k.created_at)),
        Record::AuditEntry(entry) => {
            return audit::insert(conn, entry)
                .await
                .map_err(|error| sqlx::Error::Protocol(error.to_string()));
        }
        Record::AuditAnchor(a) => sqlx::query(
            "UPDATE audit_anchor SET last_id = $1, last_hash = $2, pruned_through_id = $3, pruned_hash = $4 WHERE id = 1")
            .bind(a.last_id).bind(&a.last_hash).bind(a.pruned_through_id).bind(&a.pruned_hash),
    };
    query.execute(conn).await.map(|_| ())
}

static RESIDENT_INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO residents ({RESIDENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28,
         $29, $30, $31)"
    )
});
