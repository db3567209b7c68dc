//! Moving a whole database from one backend to another, and proving that
//! nothing was lost or altered.
//!
//! A backend exports every record of every table (hashes, tokens and
//! attachment bytes included) in a fixed order, and imports such a stream
//! into an empty database in one transaction. The checksums are computed
//! here, from the records, identically for every backend: if source and
//! target export the same records, they hold the same data.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::audit::{AuditRecord, ChainAnchor};
use crate::error::{DomainResult, StoreError};
use crate::model::Contact;
use crate::model::ProviderContact;
use crate::model::{
    AccessTokenId, ApplicationId, AttachmentId, CategoryId, CommentId, Employee, EmployeeId,
    Provider, ProviderId, Resident, Ticket, TicketId,
};
use crate::notify::{Escalation, EscalationRule, EscalationStep, Notification};
use crate::store::Store;
use crate::workflow::{CategoryRating, TicketStatus};

/// Every table, in the order that satisfies foreign keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Providers,
    Employees,
    Applications,
    AccessTokens,
    Residents,
    Categories,
    Contacts,
    NotificationPolicies,
    EscalationPolicies,
    ProviderContacts,
    ConsoleAccounts,
    ConsoleSettings,
    Tickets,
    TicketCategories,
    Comments,
    Attachments,
    TicketStatusChanges,
    Notifications,
    Escalations,
    EscalationSteps,
    IdempotencyKeys,
    AuditChains,
    AuditLog,
}

impl Table {
    pub const ALL: [Table; 23] = [
        Table::Providers,
        Table::Employees,
        Table::Applications,
        Table::AccessTokens,
        Table::Residents,
        Table::Categories,
        Table::Contacts,
        Table::NotificationPolicies,
        Table::EscalationPolicies,
        Table::ProviderContacts,
        Table::ConsoleAccounts,
        Table::ConsoleSettings,
        Table::Tickets,
        Table::TicketCategories,
        Table::Comments,
        Table::Attachments,
        Table::TicketStatusChanges,
        Table::Notifications,
        Table::Escalations,
        Table::EscalationSteps,
        Table::IdempotencyKeys,
        Table::AuditChains,
        Table::AuditLog,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Providers => "providers",
            Table::Employees => "employees",
            Table::Applications => "applications",
            Table::AccessTokens => "access_tokens",
            Table::Residents => "residents",
            Table::Categories => "categories",
            Table::Contacts => "contacts",
            Table::NotificationPolicies => "notification_policies",
            Table::Notifications => "notifications",
            Table::EscalationPolicies => "escalation_policies",
            Table::ProviderContacts => "provider_contacts",
            Table::ConsoleAccounts => "console_accounts",
            Table::ConsoleSettings => "console_settings",
            Table::Escalations => "escalations",
            Table::EscalationSteps => "escalation_steps",
            Table::Tickets => "tickets",
            Table::TicketCategories => "ticket_categories",
            Table::Comments => "comments",
            Table::Attachments => "attachments",
            Table::TicketStatusChanges => "ticket_status_changes",
            Table::IdempotencyKeys => "idempotency_keys",
            Table::AuditChains => "audit_chains",
            Table::AuditLog => "audit_log",
        }
    }
}

fn hex<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex::encode(bytes))
}

pub(crate) fn hex_option<S: Serializer>(
    bytes: &Option<Vec<u8>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match bytes {
        Some(bytes) => hex(bytes, serializer),
        None => serializer.serialize_none(),
    }
}

fn hex_bytes<S: Serializer>(bytes: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
    hex(bytes, serializer)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredApplication {
    pub id: ApplicationId,
    pub provider_id: ProviderId,
    pub employee_id: EmployeeId,
    pub name: String,
    pub api_key: String,
    #[serde(serialize_with = "hex")]
    pub secret_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredToken {
    pub id: AccessTokenId,
    pub application_id: ApplicationId,
    #[serde(serialize_with = "hex")]
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredCategory {
    pub id: CategoryId,
    pub provider_id: ProviderId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredTicket {
    pub ticket: Ticket,
    pub application_id: Option<ApplicationId>,
    /// Raised by every change (FHIR's `meta.versionId`); 1 when created.
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRating {
    pub ticket_id: TicketId,
    pub category_id: CategoryId,
    pub status: CategoryRating,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredComment {
    pub id: CommentId,
    pub ticket_id: TicketId,
    pub category_id: Option<CategoryId>,
    pub employee_id: EmployeeId,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredAttachment {
    pub id: AttachmentId,
    pub ticket_id: TicketId,
    pub file_name: String,
    pub content_type: String,
    pub file_size: i64,
    #[serde(serialize_with = "hex_bytes")]
    pub data: Bytes,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredStatusChange {
    pub id: i64,
    pub ticket_id: TicketId,
    pub employee_id: EmployeeId,
    pub application_id: Option<ApplicationId>,
    pub from_status: Option<TicketStatus>,
    pub to_status: TicketStatus,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredIdempotencyKey {
    pub application_id: ApplicationId,
    pub key: String,
    #[serde(serialize_with = "hex")]
    pub fingerprint: Vec<u8>,
    pub result_id: i64,
    pub created_at: DateTime<Utc>,
}

/// A provider's notification policy as stored (roles comma-separated,
/// quiet hours as `21:00-08:00`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredNotifyPolicy {
    pub provider_id: ProviderId,
    pub on_created: String,
    pub on_status_change: String,
    pub quiet_hours: String,
    pub callback_phone: Option<String>,
    #[serde(default)]
    pub after_hours_phone: Option<String>,
    pub sms_template: Option<String>,
    pub email_subject_template: Option<String>,
    pub email_body_template: Option<String>,
}

/// A provider's rule for one urgency; `None`: no acknowledgment needed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEscalationRule {
    pub provider_id: ProviderId,
    pub urgency_status_id: i64,
    pub rule: Option<EscalationRule>,
}

/// A provider's console rules as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredConsoleSetting {
    pub provider_id: ProviderId,
    pub require_totp: bool,
}

/// One row of one table, every column included.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Record {
    Provider(Provider),
    Employee(Employee),
    Application(StoredApplication),
    AccessToken(StoredToken),
    Resident(Box<Resident>),
    Category(StoredCategory),
    Ticket(Box<StoredTicket>),
    TicketCategory(StoredRating),
    Comment(StoredComment),
    Attachment(StoredAttachment),
    StatusChange(StoredStatusChange),
    IdempotencyKey(StoredIdempotencyKey),
    Contact(Contact),
    NotifyPolicy(StoredNotifyPolicy),
    Notification(Box<Notification>),
    EscalationRule(StoredEscalationRule),
    ProviderContact(ProviderContact),
    ConsoleAccount(crate::console::ConsoleAccount),
    ConsoleSetting(StoredConsoleSetting),
    Escalation(Escalation),
    EscalationStep(EscalationStep),
    AuditChain(ChainAnchor),
    AuditEntry(Box<AuditRecord>),
}

impl Record {
    pub fn table(&self) -> Table {
        match self {
            Record::Provider(_) => Table::Providers,
            Record::Employee(_) => Table::Employees,
            Record::Application(_) => Table::Applications,
            Record::AccessToken(_) => Table::AccessTokens,
            Record::Resident(_) => Table::Residents,
            Record::Category(_) => Table::Categories,
            Record::Ticket(_) => Table::Tickets,
            Record::TicketCategory(_) => Table::TicketCategories,
            Record::Comment(_) => Table::Comments,
            Record::Attachment(_) => Table::Attachments,
            Record::StatusChange(_) => Table::TicketStatusChanges,
            Record::IdempotencyKey(_) => Table::IdempotencyKeys,
            Record::Contact(_) => Table::Contacts,
            Record::NotifyPolicy(_) => Table::NotificationPolicies,
            Record::Notification(_) => Table::Notifications,
            Record::EscalationRule(_) => Table::EscalationPolicies,
            Record::ProviderContact(_) => Table::ProviderContacts,
            Record::ConsoleAccount(_) => Table::ConsoleAccounts,
            Record::ConsoleSetting(_) => Table::ConsoleSettings,
            Record::Escalation(_) => Table::Escalations,
            Record::EscalationStep(_) => Table::EscalationSteps,
            Record::AuditChain(_) => Table::AuditChains,
            Record::AuditEntry(_) => Table::AuditLog,
        }
    }
}

/// Row count and SHA-256 over the rows of one table, in export order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSummary {
    pub table: Table,
    pub rows: u64,
    pub checksum: String,
}

/// Summarises every table of a store from its export.
pub async fn summarize(store: &dyn Store) -> DomainResult<Vec<TableSummary>> {
    let mut digests: Vec<(Table, u64, Sha256)> = Table::ALL
        .iter()
        .map(|table| (*table, 0, Sha256::new()))
        .collect();
    let mut records = store.export();
    while let Some(chunk) = records.try_next().await? {
        for record in chunk {
            let canonical = serde_json::to_vec(&record).map_err(|error| {
                StoreError::backend("encoding a record for its checksum", error)
            })?;
            let slot = &mut digests[record.table() as usize];
            slot.1 += 1;
            slot.2.update((canonical.len() as u64).to_be_bytes());
            slot.2.update(&canonical);
        }
    }
    Ok(digests
        .into_iter()
        .map(|(table, rows, digest)| TableSummary {
            table,
            rows,
            checksum: hex::encode(digest.finalize()),
        })
        .collect())
}

/// The outcome of a verified move.
#[derive(Debug, Clone)]
pub struct MoveReport {
    pub records: u64,
    pub tables: Vec<TableSummary>,
    /// Tables that differ after the copy; empty when the move verified.
    pub differing: Vec<Table>,
}

/// Copies everything from `source` into the empty `target` in one
/// transaction, then verifies both hold the same records. The target is
/// left untouched if it is not empty or the copy fails.
/// `copied` hears of every chunk of records on its way (for a progress
/// display).
pub async fn move_all(
    source: &dyn Store,
    target: &dyn Store,
    copied: std::sync::Arc<dyn Fn(u64) + Send + Sync>,
) -> DomainResult<MoveReport> {
    let records = source.export().inspect(move |chunk| {
        if let Ok(chunk) = chunk {
            copied(chunk.len() as u64);
        }
    });
    let records = target.import(Box::pin(records)).await?;
    let expected = summarize(source).await?;
    let found = summarize(target).await?;
    let differing = differences(&expected, &found);
    Ok(MoveReport {
        records,
        tables: found,
        differing,
    })
}

/// The tables whose rows or checksums differ between two summaries.
pub fn differences(ours: &[TableSummary], theirs: &[TableSummary]) -> Vec<Table> {
    ours.iter()
        .zip(theirs)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.table)
        .collect()
}
