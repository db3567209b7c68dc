//! Export and import of every record, for data moves between engines and
//! for the demo seed.

use connecticket_domain::store::{RowStream, STREAM_CHUNK_ROWS};
use connecticket_domain::transfer::{Record, StoredConsoleSetting, Table};
use connecticket_domain::StoreError;
use futures::StreamExt;

use super::audit;
use crate::engine::{ChunkSender, Executor};
use crate::rows;
use crate::sql::{exists, fetch_all, insert, Columns, Result};
use crate::value::{Row, Value};

/// How a table is read in primary-key order, chunk after chunk.
struct Keyset {
    /// The primary key's columns, in order, each with whether it is text
    /// (compared byte by byte on both engines).
    key: &'static [(&'static str, bool)],
    read: fn(&dyn Row) -> Result<Record>,
    /// The key of a record, to continue after it.
    key_of: fn(&Record) -> Vec<Value<'static>>,
    /// Which rows are data (`TRUE`: all of them).
    only: &'static str,
}

fn id_of(record: &Record) -> Vec<Value<'static>> {
    let id = match record {
        Record::Provider(r) => r.id.get(),
        Record::Employee(r) => r.id.get(),
        Record::Application(r) => r.id.get(),
        Record::AccessToken(r) => r.id.get(),
        Record::Resident(r) => r.id.get(),
        Record::Category(r) => r.id.get(),
        Record::Ticket(r) => r.ticket.id.get(),
        Record::Comment(r) => r.id.get(),
        Record::Attachment(r) => r.id.get(),
        Record::StatusChange(r) => r.id,
        Record::AuditEntry(r) => r.id,
        Record::AuditChain(r) => r.chain_id,
        Record::Contact(r) => r.id.get(),
        Record::Notification(r) => r.id.get(),
        Record::NotifyPolicy(r) => r.provider_id.get(),
        Record::ProviderContact(r) => r.id.get(),
        Record::ConsoleAccount(r) => r.employee_id.get(),
        Record::ConsoleSetting(r) => r.provider_id.get(),
        Record::Escalation(r) => r.ticket_id.get(),
        Record::EscalationStep(r) => r.id,
        Record::EscalationRule(r) => {
            return vec![r.provider_id.into(), r.urgency_status_id.into()];
        }
        Record::TicketCategory(_) | Record::IdempotencyKey(_) => 0,
    };
    vec![id.into()]
}

fn by_id(read: fn(&dyn Row) -> Result<Record>) -> Keyset {
    Keyset {
        key: &[("id", false)],
        read,
        key_of: id_of,
        only: "TRUE",
    }
}

fn keyset(table: Table) -> Keyset {
    match table {
        Table::Providers => by_id(|row| rows::provider(row).map(Record::Provider)),
        Table::Employees => by_id(|row| rows::employee(row).map(Record::Employee)),
        Table::Applications => by_id(|row| rows::stored_application(row).map(Record::Application)),
        Table::AccessTokens => by_id(|row| rows::token(row).map(Record::AccessToken)),
        Table::Residents => by_id(|row| rows::resident(row).map(|r| Record::Resident(Box::new(r)))),
        Table::Categories => by_id(|row| rows::stored_category(row).map(Record::Category)),
        Table::Tickets => {
            by_id(|row| rows::stored_ticket(row).map(|t| Record::Ticket(Box::new(t))))
        }
        Table::Comments => by_id(|row| rows::comment(row).map(Record::Comment)),
        Table::Attachments => by_id(|row| rows::attachment(row).map(Record::Attachment)),
        Table::TicketStatusChanges => {
            by_id(|row| rows::status_change(row).map(Record::StatusChange))
        }
        Table::Contacts => by_id(|row| rows::contact(row).map(Record::Contact)),
        Table::Notifications => {
            by_id(|row| rows::notification(row).map(|n| Record::Notification(Box::new(n))))
        }
        Table::NotificationPolicies => Keyset {
            key: &[("provider_id", false)],
            read: |row| rows::stored_notify_policy(row).map(Record::NotifyPolicy),
            key_of: id_of,
            only: "TRUE",
        },
        Table::EscalationPolicies => Keyset {
            key: &[("provider_id", false), ("urgency_status_id", false)],
            read: |row| rows::escalation_rule(row).map(Record::EscalationRule),
            key_of: id_of,
            only: "TRUE",
        },
        Table::ProviderContacts => {
            by_id(|row| rows::provider_contact(row).map(Record::ProviderContact))
        }
        Table::ConsoleAccounts => Keyset {
            key: &[("employee_id", false)],
            read: |row| rows::console_account(row).map(Record::ConsoleAccount),
            key_of: id_of,
            only: "TRUE",
        },
        Table::ConsoleSettings => Keyset {
            key: &[("provider_id", false)],
            read: |row| {
                Ok(Record::ConsoleSetting(StoredConsoleSetting {
                    provider_id: row.get("provider_id")?,
                    require_totp: row.get("require_totp")?,
                }))
            },
            key_of: id_of,
            only: "TRUE",
        },
        Table::Escalations => Keyset {
            key: &[("ticket_id", false)],
            read: |row| rows::escalation(row).map(Record::Escalation),
            key_of: id_of,
            only: "TRUE",
        },
        Table::EscalationSteps => {
            by_id(|row| rows::escalation_step(row).map(Record::EscalationStep))
        }
        Table::AuditLog => {
            by_id(|row| rows::audit_record(row).map(|r| Record::AuditEntry(Box::new(r))))
        }
        Table::TicketCategories => Keyset {
            key: &[("ticket_id", false), ("category_id", false)],
            read: |row| rows::rating(row).map(Record::TicketCategory),
            key_of: |record| match record {
                Record::TicketCategory(r) => vec![r.ticket_id.into(), r.category_id.into()],
                _ => Vec::new(),
            },
            only: "TRUE",
        },
        Table::IdempotencyKeys => Keyset {
            key: &[("application_id", false), ("idempotency_key", true)],
            read: |row| rows::idempotency_key(row).map(Record::IdempotencyKey),
            key_of: |record| match record {
                Record::IdempotencyKey(k) => vec![k.application_id.into(), k.key.clone().into()],
                _ => Vec::new(),
            },
            only: "TRUE",
        },
        // A chain that never held an entry carries nothing: every writer
        // makes one before its first write, so it is no data to move.
        Table::AuditChains => Keyset {
            only: "last_seq > 0 OR pruned_through_seq > 0",
            ..by_id(|row| rows::chain_anchor(row).map(Record::AuditChain))
        },
    }
}

/// Streams every table, in `Table::ALL` order and by primary key within a
/// table, from the caller's read transaction (one snapshot).
pub(crate) async fn export(tx: &mut dyn Executor, out: &ChunkSender<Record>) -> Result<()> {
    for table in Table::ALL {
        if !export_table(tx, out, table).await? {
            return Ok(());
        }
    }
    Ok(())
}

/// False once the reader has gone away.
async fn export_table(
    tx: &mut dyn Executor,
    out: &ChunkSender<Record>,
    table: Table,
) -> Result<bool> {
    let keyset = keyset(table);
    let text = tx.dialect().bytewise();
    let order: Vec<String> = keyset
        .key
        .iter()
        .map(|(column, is_text)| {
            if *is_text {
                format!("{column}{text}")
            } else {
                (*column).to_owned()
            }
        })
        .collect();
    let order = order.join(", ");
    let only = keyset.only;
    let first = format!(
        "SELECT * FROM {} WHERE {only} ORDER BY {order} LIMIT {STREAM_CHUNK_ROWS}",
        table.name()
    );
    let next = format!(
        "SELECT * FROM {} WHERE ({only}) AND ({order}) > ({}) ORDER BY {order} LIMIT {STREAM_CHUNK_ROWS}",
        table.name(),
        crate::sql::placeholders(1, keyset.key.len())
    );
    let mut after: Option<Vec<Value<'static>>> = None;
    loop {
        let chunk = match &after {
            None => fetch_all(tx, &first, &[], keyset.read).await?,
            Some(key) => fetch_all(tx, &next, key, keyset.read).await?,
        };
        let Some(last) = chunk.last() else {
            return Ok(true);
        };
        after = Some((keyset.key_of)(last));
        let full = chunk.len() == STREAM_CHUNK_ROWS;
        if !out.send(chunk).await {
            return Ok(false);
        }
        if !full {
            return Ok(true);
        }
    }
}

/// Empty: no rows, and no audit chain that ever held an entry (a writer's
/// new chain may exist already).
pub(crate) async fn is_empty(tx: &mut dyn Executor) -> Result<bool> {
    if !audit::never_written(tx).await? {
        return Ok(false);
    }
    for table in Table::ALL.into_iter().filter(|t| *t != Table::AuditChains) {
        let sql = format!("SELECT 1 FROM {} LIMIT 1", table.name());
        if exists(tx, &sql, &[]).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Writes every record into an empty database, ids kept, in the caller's
/// write transaction.
pub(crate) async fn import(tx: &mut dyn Executor, mut records: RowStream<Record>) -> Result<u64> {
    if let Some(lock) = tx.dialect().import_lock() {
        crate::sql::execute(tx, lock, &[]).await?;
    }
    if !is_empty(tx).await? {
        return Err(StoreError::NotEmpty);
    }
    let mut written = 0;
    while let Some(chunk) = records.next().await {
        for record in chunk? {
            insert_record(tx, &record).await?;
            written += 1;
        }
    }
    for table in Table::ALL {
        if keyset(table).key == [("id", false)] {
            tx.advance_identity(table.name()).await?;
        }
    }
    Ok(written)
}

async fn insert_record(tx: &mut dyn Executor, record: &Record) -> Result<()> {
    let table = record.table().name();
    let columns: Columns<'_> = match record {
        Record::Provider(r) => rows::provider_columns(r),
        Record::Employee(r) => rows::employee_columns(r),
        Record::Application(r) => rows::application_columns(r),
        Record::AccessToken(r) => rows::token_columns(r),
        Record::Resident(r) => rows::resident_columns(r),
        Record::Category(r) => rows::category_columns(r),
        Record::Ticket(r) => rows::ticket_columns(r),
        Record::TicketCategory(r) => rows::rating_columns(r),
        Record::Comment(r) => rows::comment_columns(r),
        Record::Attachment(r) => rows::attachment_columns(r),
        Record::StatusChange(r) => rows::status_change_columns(r),
        Record::IdempotencyKey(r) => rows::idempotency_key_columns(r),
        Record::Contact(r) => rows::contact_columns(r),
        Record::NotifyPolicy(r) => rows::stored_notify_policy_columns(r),
        Record::Notification(r) => rows::notification_columns(r),
        Record::EscalationRule(r) => rows::escalation_rule_columns(r),
        Record::ProviderContact(r) => rows::provider_contact_columns(r),
        Record::ConsoleAccount(r) => rows::console_account_columns(r),
        Record::ConsoleSetting(r) => Columns::new()
            .with("provider_id", r.provider_id)
            .with("require_totp", r.require_totp),
        Record::Escalation(r) => rows::escalation_columns(r),
        Record::EscalationStep(r) => rows::escalation_step_columns(r),
        Record::AuditEntry(r) => rows::audit_record_columns(r)?,
        Record::AuditChain(chain) => return import_chain(tx, chain).await,
    };
    insert(tx, table, columns).await
}

/// An imported chain keeps its id. The target's own writers may already
/// have made (empty: the target is empty) chains, one perhaps with the same
/// id: the imported chain takes its place, and the writer that made it
/// simply continues the imported chain.
async fn import_chain(
    tx: &mut dyn Executor,
    chain: &connecticket_domain::audit::ChainAnchor,
) -> Result<()> {
    crate::sql::execute(
        tx,
        "INSERT INTO audit_chains (id, label, created_at, last_seq, last_hash, pruned_through_seq, pruned_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET label = excluded.label, created_at = excluded.created_at,
             last_seq = excluded.last_seq, last_hash = excluded.last_hash,
             pruned_through_seq = excluded.pruned_through_seq, pruned_hash = excluded.pruned_hash",
        &[
            chain.chain_id.into(),
            (&chain.label).into(),
            chain.created_at.into(),
            chain.last_seq.into(),
            (&chain.last_hash).into(),
            chain.pruned_through_seq.into(),
            (&chain.pruned_hash).into(),
        ],
    )
    .await
    .map(|_| ())
}
