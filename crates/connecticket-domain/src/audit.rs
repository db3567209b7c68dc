//! The audit trail: who saw or changed which records, when, from where, and
//! with what outcome (HIPAA audit controls, 45 CFR 164.312(b)).
//!
//! Entries hold ids, never patient data. Entries form hash chains, one per
//! writer: each entry's hash covers its own fields and the previous entry's
//! hash, so `verify` detects an entry altered, inserted or removed behind
//! the server's back; each chain's anchor records its newest entry (so
//! cutting off the tail is detected too) and where retention last pruned.
//! Several instances append to chains of their own and never wait on each
//! other; the entries' ids and times give the order across chains.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{
    ApplicationId, AttachmentId, CategoryId, CommentId, ContactId, EmployeeId, NotificationId,
    ProviderId, ResidentId, TicketId,
};

/// The hash before the first entry of the chain that releases before
/// per-writer chains wrote (its later anchor keeps it).
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Defines `Action` with its stored names, and `Action::ALL`, from one
/// list: a new action cannot be left out of `ALL` (and so out of the
/// documentation test that compares `ALL` with docs/SECURITY.md).
macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Which call an entry records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum Action {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }
        }
    };
}

actions! {
    Authorize => "authorize",
    /// A FHIR client asked for a token (OAuth client credentials).
    FhirToken => "fhir_token",
    /// A FHIR client read one resource.
    FhirRead => "fhir_read",
    /// A FHIR client searched a resource type.
    FhirSearch => "fhir_search",
    Tickets => "tickets",
    TicketDetail => "ticket_detail",
    AllResidents => "all_residents",
    ProviderCategories => "provider_categories",
    UpdateStatus => "update_status",
    CreateTicket => "create_ticket",
    CreateComment => "create_comment",
    Attachment => "attachment",
    /// An operator created or imported residents.
    CreateResidents => "create_residents",
    /// The dispatcher tried to deliver a notification (records name the
    /// notification, its ticket and resident; never the address or text).
    DeliverNotification => "deliver_notification",
    /// An operator managed a resident's contacts.
    ManageContacts => "manage_contacts",
    /// The API's read of a resident's contacts.
    ResidentContacts => "resident_contacts",
    /// An SMS gateway reported a message's status (signed, or refused).
    SmsStatus => "sms_status",
    /// Someone acknowledged a notification: by its link's form, by SMS
    /// reply, or an employee on the recipient's behalf.
    Acknowledge => "acknowledge",
    /// An acknowledgment link's page was shown (or its token refused).
    AcknowledgmentPage => "acknowledgment_page",
    /// An SMS reply arrived through the gateway (signed, or refused).
    SmsReply => "sms_reply",
    /// An escalation took its next level.
    Escalate => "escalate",
    /// The API's list of notifications.
    Notifications => "notifications",
    /// An operator changed escalation rules or the staff they reach.
    ManageEscalation => "manage_escalation",
    /// Someone signed in to the console (or failed to).
    SignIn => "sign_in",
    /// A console session ended: signed out, idle or too old.
    SignOut => "sign_out",
    /// A console account's password or second factor was set, or its
    /// invitation link was used.
    ConsoleAccount => "console_account",
    /// An administrator managed employees' console accounts.
    ManageEmployees => "manage_employees",
    /// An administrator registered, revoked or rotated an application.
    ManageApplications => "manage_applications",
    /// A console page that shows records (the board, a resident, the
    /// administration pages); the use cases it calls are audited too.
    ConsolePage => "console_page",
    /// An administrator read or exported the audit trail.
    AuditTrail => "audit_trail",
    /// An administrator changed the provider's notification policy: who
    /// is told of what, quiet hours, the callback number, the wording.
    NotifyPolicy => "notify_policy",
    /// Files were added to an existing ticket.
    AttachFiles => "attach_files",
    /// An administrator added or renamed a category.
    ManageCategories => "manage_categories",
    /// An operator created a provider, or a provider's settings changed
    /// (the country its phone numbers are read in).
    ManageProviders => "manage_providers",
    /// An operator listed the providers.
    Providers => "providers",
    /// An administrator listed the employees and their console accounts.
    Employees => "employees",
    /// An administrator listed the applications.
    Applications => "applications",
    /// An administrator read the provider's notification policy,
    /// escalation rules or the staff they reach.
    ProviderSettings => "provider_settings",
    /// An administrator listed the notification queue.
    NotificationQueue => "notification_queue",
    /// An administrator made a notification due again.
    ManageNotifications => "manage_notifications",
    /// An administrator read who was told about each ticket and who
    /// answered.
    NotificationReport => "notification_report",
    /// An operator removed audit entries older than the retention period.
    PruneAudit => "prune_audit",
    /// A writer found its chain's newest entries lost in a database
    /// failover and continued on a new chain.
    AuditChainLost => "audit_chain_lost",
    /// An operator copied the whole database: moved it or backed it up.
    ManageDatabase => "manage_database",
    /// An administrator granted, listed or revoked a board display.
    ManageDisplays => "manage_displays",
    /// A board display paired, or showed the board (or was refused).
    BoardDisplay => "board_display",
    /// A client read the change feed (`GET changes`).
    Changes => "changes",
    /// An application or administrator registered, listed, deleted or
    /// rotated a webhook endpoint, or replayed events to it; or the
    /// server disabled one that kept failing.
    ManageWebhooks => "manage_webhooks",
    /// The server removed events older than the retention period.
    PruneEvents => "prune_events",
}

impl Action {
    pub fn parse(text: &str) -> Option<Action> {
        Self::ALL
            .iter()
            .copied()
            .find(|action| action.as_str() == text)
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// A streamed list began sending: written, and durable, before its
    /// first byte, so that even a crash leaves a record of it.
    Started,
    /// An idempotent retry answered from the first request's result.
    Replayed,
    /// Bad credentials or token.
    Denied,
    /// Throttled.
    RateLimited,
    /// The record does not exist or belongs to another provider.
    NotFound,
    /// Invalid parameters.
    Invalid,
    /// A list the client stopped reading, or that failed part-way.
    Aborted,
    /// The request's deadline passed first; a write was withdrawn unwritten.
    TimedOut,
    Error,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::Success,
        Outcome::Started,
        Outcome::Replayed,
        Outcome::Denied,
        Outcome::RateLimited,
        Outcome::NotFound,
        Outcome::Invalid,
        Outcome::Aborted,
        Outcome::TimedOut,
        Outcome::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Started => "started",
            Outcome::Replayed => "replayed",
            Outcome::Denied => "denied",
            Outcome::RateLimited => "rate_limited",
            Outcome::NotFound => "not_found",
            Outcome::Invalid => "invalid",
            Outcome::Aborted => "aborted",
            Outcome::TimedOut => "timed_out",
            Outcome::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
    }

    /// How a call that failed with `error` ended.
    pub fn of_error(error: &crate::error::DomainError) -> Outcome {
        use crate::error::DomainError;
        match error {
            DomainError::InvalidApiCredentials
            | DomainError::InvalidCredentials
            | DomainError::InvalidClient(_)
            | DomainError::InvalidSignIn
            | DomainError::SignInRequired
            | DomainError::Forbidden(_)
            | DomainError::SecondFactorRequired => Outcome::Denied,
            DomainError::RateLimited { .. } | DomainError::Busy(_) => Outcome::RateLimited,
            DomainError::NotFound(_) => Outcome::NotFound,
            DomainError::Invalid(_)
            | DomainError::IdempotencyKeyReused
            | DomainError::Duplicate { .. }
            | DomainError::Conflict(_)
            | DomainError::CursorExpired(_)
            | DomainError::InvalidScope(_)
            | DomainError::Stale(_)
            | DomainError::NotEmpty => Outcome::Invalid,
            DomainError::DeadlineExceeded => Outcome::TimedOut,
            DomainError::Storage(_)
            | DomainError::DatabaseUnavailable
            | DomainError::WriteOutcomeUnknown => Outcome::Error,
        }
    }
}

/// A record an entry touched, written `kind:id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordRef {
    Ticket(TicketId),
    Resident(ResidentId),
    Category(CategoryId),
    Comment(CommentId),
    Attachment(AttachmentId),
    Application(ApplicationId),
    Contact(ContactId),
    Notification(NotificationId),
    Employee(EmployeeId),
}

impl RecordRef {
    fn parts(&self) -> (&'static str, i64) {
        match self {
            RecordRef::Ticket(id) => ("ticket", id.get()),
            RecordRef::Resident(id) => ("resident", id.get()),
            RecordRef::Category(id) => ("category", id.get()),
            RecordRef::Comment(id) => ("comment", id.get()),
            RecordRef::Attachment(id) => ("attachment", id.get()),
            RecordRef::Application(id) => ("application", id.get()),
            RecordRef::Contact(id) => ("contact", id.get()),
            RecordRef::Notification(id) => ("notification", id.get()),
            RecordRef::Employee(id) => ("employee", id.get()),
        }
    }

    /// `kind:id`, as the audit trail stores it. Written without the
    /// formatting machinery: a list touches two records per row.
    pub fn key(&self) -> String {
        let (kind, id) = self.parts();
        let mut digits = itoa::Buffer::new();
        let id = digits.format(id);
        let mut key = String::with_capacity(kind.len() + 1 + id.len());
        key.push_str(kind);
        key.push(':');
        key.push_str(id);
        key
    }
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// Where a request came from; filled in by the surface that took it.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: String,
    pub client_addr: Option<IpAddr>,
    /// Who asked, where no id names them: an operator at the command line
    /// (`user@host`, and the name a script gave).
    pub actor: Option<String>,
    /// When the surface stops waiting: reads give up, and a write not yet
    /// started is withdrawn (one that started runs to its true outcome).
    pub deadline: Option<std::time::Instant>,
}

impl RequestContext {
    /// An operator at the command line, named `actor`; `request_id`
    /// ties together the entries of one command.
    pub fn operator(request_id: String, actor: String) -> Self {
        RequestContext {
            request_id,
            client_addr: None,
            actor: Some(actor),
            deadline: None,
        }
    }

    /// The escalation loop inside `serve`.
    pub fn escalator() -> Self {
        RequestContext {
            request_id: "escalator".to_owned(),
            client_addr: None,
            actor: None,
            deadline: None,
        }
    }

    /// A background task inside `serve` (`events`, `webhooks`), named in
    /// its entries' request id.
    pub fn background(name: &str) -> Self {
        RequestContext {
            request_id: name.to_owned(),
            client_addr: None,
            actor: None,
            deadline: None,
        }
    }

    /// The notification dispatcher inside `serve`.
    pub fn dispatcher() -> Self {
        RequestContext {
            request_id: "dispatcher".to_owned(),
            client_addr: None,
            actor: None,
            deadline: None,
        }
    }
}

/// Audit entries a writer committed that the database no longer holds: the
/// primary they were committed on was lost before a standby received them
/// (asynchronous replication). Found by the writer when it reconnects,
/// recorded as the first entry of its new chain, reported by `audit
/// verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLoss {
    pub chain_id: i64,
    /// The newest entry of the chain the database holds (`None`: not even
    /// the chain's row survived).
    pub held_through: Option<i64>,
    /// The newest entry the writer had committed, and its hash.
    pub committed_through: i64,
    pub committed_hash: String,
}

impl ChainLoss {
    /// The loss as an entry's record keys.
    pub fn entry(&self, at: DateTime<Utc>) -> AuditEntry {
        let mut entry = AuditEntry::new(
            &RequestContext::background("audit-chain"),
            Action::AuditChainLost,
            Outcome::Error,
            at,
        );
        entry.actor = Some("connecticket failover".to_owned());
        entry.records = TouchedRecords::from([
            format!("chain:{}", self.chain_id),
            match self.held_through {
                Some(seq) => format!("held_through:{seq}"),
                None => "held_through:none".to_owned(),
            },
            format!("committed_through:{}", self.committed_through),
            format!("hash:{}", self.committed_hash),
        ]);
        entry
    }

    /// Reads the loss back from an `audit_chain_lost` entry's records.
    pub fn from_record(record: &AuditRecord) -> Option<Self> {
        if record.action != Action::AuditChainLost {
            return None;
        }
        let value = |key: &str| {
            record
                .records
                .iter()
                .find_map(|item| item.strip_prefix(key)?.strip_prefix(':'))
        };
        Some(ChainLoss {
            chain_id: value("chain")?.parse().ok()?,
            held_through: value("held_through")?.parse().ok(),
            committed_through: value("committed_through")?.parse().ok()?,
            committed_hash: value("hash")?.to_owned(),
        })
    }

    /// How many entries were lost.
    pub fn lost(&self) -> i64 {
        self.committed_through - self.held_through.unwrap_or(0)
    }
}

impl std::fmt::Display for ChainLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first = self.held_through.unwrap_or(0) + 1;
        write!(
            f,
            "chain {}: entries {first}–{} ({} committed before a database failover) were lost with the old primary",
            self.chain_id,
            self.committed_through,
            self.lost()
        )?;
        if self.held_through.is_none() {
            write!(f, ", the chain's anchor with them")?;
        }
        Ok(())
    }
}

/// An entry before the store gives it its place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub request_id: String,
    pub client_addr: Option<String>,
    pub provider_id: Option<ProviderId>,
    pub application_id: Option<ApplicationId>,
    pub employee_id: Option<EmployeeId>,
    /// Who asked, where no id names them (see [`RequestContext::actor`]).
    pub actor: Option<String>,
    pub action: Action,
    pub outcome: Outcome,
    /// Every record touched.
    pub records: TouchedRecords,
}

/// The records an entry touched. References are kept as ids while the call
/// runs (a page of 25 tickets touches fifty records) and written as text,
/// `kind:id`, each once and in byte order, only when the entry is chained.
#[derive(Debug, Clone, Default)]
pub struct TouchedRecords {
    refs: BTreeSet<RecordRef>,
    /// Keys that name no record (`revoked`, `rows:12`, …).
    other: BTreeSet<String>,
}

impl TouchedRecords {
    pub fn touch(&mut self, record: RecordRef) {
        self.refs.insert(record);
    }

    /// A key that is not a record reference.
    pub fn insert(&mut self, key: String) {
        self.other.insert(key);
    }

    pub fn contains(&self, key: &str) -> bool {
        self.other.contains(key) || self.refs.iter().any(|r| r.key() == key)
    }

    /// How many keys the entry holds.
    pub fn len(&self) -> usize {
        self.refs.len() + self.other.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each key once, in byte order, as the trail stores them.
    pub fn into_keys(self) -> Vec<String> {
        let TouchedRecords { refs, other } = self;
        let mut keys: Vec<String> = refs.iter().map(RecordRef::key).chain(other).collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

impl PartialEq for TouchedRecords {
    fn eq(&self, other: &Self) -> bool {
        self.clone().into_keys() == other.clone().into_keys()
    }
}

impl<const N: usize> From<[String; N]> for TouchedRecords {
    fn from(keys: [String; N]) -> Self {
        TouchedRecords {
            refs: BTreeSet::new(),
            other: keys.into_iter().collect(),
        }
    }
}

impl AuditEntry {
    pub fn new(
        context: &RequestContext,
        action: Action,
        outcome: Outcome,
        at: DateTime<Utc>,
    ) -> Self {
        AuditEntry {
            at,
            request_id: context.request_id.clone(),
            client_addr: context.client_addr.map(|addr| addr.to_string()),
            provider_id: None,
            application_id: None,
            employee_id: None,
            actor: context.actor.clone(),
            action,
            outcome,
            records: TouchedRecords::default(),
        }
    }

    pub fn touch(&mut self, record: RecordRef) {
        self.records.touch(record);
    }
}

/// A stored entry: its place in its chain and its hashes. `id` orders all
/// entries of all chains as they were written; `seq` is the entry's place
/// in its own chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub chain_id: i64,
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub request_id: String,
    pub client_addr: Option<String>,
    pub provider_id: Option<i64>,
    pub application_id: Option<i64>,
    pub employee_id: Option<i64>,
    pub actor: Option<String>,
    pub action: Action,
    pub outcome: Outcome,
    pub records: Vec<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The columns of a CSV export, in order.
    pub const CSV_HEADER: [&'static str; 13] = [
        "id",
        "at",
        "request_id",
        "client_addr",
        "provider_id",
        "application_id",
        "employee_id",
        "action",
        "outcome",
        "records",
        "prev_hash",
        "hash",
        // Added last, so that existing readers' columns stay where they were.
        "actor",
    ];

    /// The entry as one CSV row (times in UTC; records space-separated).
    pub fn csv_fields(&self) -> [String; 13] {
        let optional = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
        let safe = |text: &str| crate::text::spreadsheet_cell(text).into_owned();
        [
            self.id.to_string(),
            crate::time::format_timestamp(self.at, chrono_tz::UTC),
            // A client chooses its request id: never a formula.
            safe(&self.request_id),
            safe(&self.client_addr.clone().unwrap_or_default()),
            optional(self.provider_id),
            optional(self.application_id),
            optional(self.employee_id),
            self.action.as_str().to_owned(),
            self.outcome.as_str().to_owned(),
            safe(&self.records.join(" ")),
            self.prev_hash.clone(),
            self.hash.clone(),
            // An operator's script names itself: never a formula either.
            safe(self.actor.as_deref().unwrap_or_default()),
        ]
    }
}

/// The fields a hash covers, in a fixed order. (`id` here is the entry's
/// place in its chain: entries written before chains were per writer keep
/// verifying, as their chain place equals their old id.)
#[derive(Serialize)]
struct Hashed<'a> {
    id: i64,
    at: i64,
    request_id: &'a str,
    client_addr: Option<&'a str>,
    provider_id: Option<i64>,
    application_id: Option<i64>,
    employee_id: Option<i64>,
    action: &'a str,
    outcome: &'a str,
    records: &'a [String],
    /// Left out when unset, so that entries written before actors were
    /// recorded keep verifying.
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<&'a str>,
}

impl AuditRecord {
    /// Places `entry` after the head of `chain`; the store assigns `id`.
    pub fn chain(entry: AuditEntry, chain: &ChainAnchor) -> AuditRecord {
        let mut record = AuditRecord {
            id: 0,
            chain_id: chain.chain_id,
            seq: chain.last_seq + 1,
            at: entry.at,
            request_id: entry.request_id,
            client_addr: entry.client_addr,
            provider_id: entry.provider_id.map(ProviderId::get),
            application_id: entry.application_id.map(ApplicationId::get),
            employee_id: entry.employee_id.map(EmployeeId::get),
            actor: entry.actor,
            action: entry.action,
            outcome: entry.outcome,
            records: entry.records.into_keys(),
            prev_hash: chain.last_hash.clone(),
            hash: String::new(),
        };
        record.hash = record.computed_hash();
        record
    }

    /// What this entry's hash must be, given its fields and `prev_hash`.
    pub fn computed_hash(&self) -> String {
        let hashed = Hashed {
            id: self.seq,
            at: crate::time::to_epoch(self.at),
            request_id: &self.request_id,
            client_addr: self.client_addr.as_deref(),
            provider_id: self.provider_id,
            application_id: self.application_id,
            employee_id: self.employee_id,
            action: self.action.as_str(),
            outcome: self.outcome.as_str(),
            records: &self.records,
            actor: self.actor.as_deref(),
        };
        let mut digest = Sha256::new();
        digest.update(self.prev_hash.as_bytes());
        digest.update(b"\n");
        // Serialising plain fields cannot fail; an empty body would still
        // chain, and verification would then flag the entry.
        digest.update(serde_json::to_vec(&hashed).unwrap_or_default());
        hex::encode(digest.finalize())
    }
}

/// One chain's fixed points: its newest entry, and the last one retention
/// removed. Each writer (each instance's write lane on PostgreSQL) appends
/// to a chain of its own, so no lock is shared across instances; `audit
/// verify` checks every chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainAnchor {
    pub chain_id: i64,
    /// Which writer made the chain (instance and lane), for people.
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub last_seq: i64,
    pub last_hash: String,
    pub pruned_through_seq: i64,
    pub pruned_hash: String,
}

impl ChainAnchor {
    /// A new, empty chain. Its first entry links to a hash of the chain's
    /// identity, so an entry moved from another chain does not fit.
    pub fn new(chain_id: i64, label: impl Into<String>, created_at: DateTime<Utc>) -> Self {
        let label = label.into();
        let genesis = hex::encode(Sha256::digest(
            format!(
                "connecticket audit chain {chain_id} {label} {}",
                created_at.timestamp()
            )
            .as_bytes(),
        ));
        ChainAnchor {
            chain_id,
            label,
            created_at,
            last_seq: 0,
            last_hash: genesis.clone(),
            pruned_through_seq: 0,
            pruned_hash: genesis,
        }
    }

    /// Moves the head past `record`, just chained onto it.
    pub fn advance(&mut self, record: &AuditRecord) {
        self.last_seq = record.seq;
        self.last_hash = record.hash.clone();
    }
}

/// Checks one chain read in `seq` order against its anchor; `Err` names
/// the first entry where it breaks.
#[derive(Debug)]
pub struct ChainCheck {
    chain_id: i64,
    expected_seq: i64,
    expected_prev: String,
    pub checked: u64,
}

impl ChainCheck {
    pub fn new(anchor: &ChainAnchor) -> Self {
        ChainCheck {
            chain_id: anchor.chain_id,
            expected_seq: anchor.pruned_through_seq + 1,
            expected_prev: anchor.pruned_hash.clone(),
            checked: 0,
        }
    }

    pub fn next(&mut self, record: &AuditRecord) -> Result<(), String> {
        let chain = self.chain_id;
        if record.chain_id != chain {
            return Err(format!(
                "entry {} of chain {} was read as part of chain {chain}",
                record.seq, record.chain_id
            ));
        }
        if record.seq != self.expected_seq {
            return Err(format!(
                "chain {chain}: entry {} follows entry {}: entries are missing or were inserted",
                record.seq,
                self.expected_seq - 1
            ));
        }
        if record.prev_hash != self.expected_prev {
            return Err(format!(
                "chain {chain}: entry {} does not chain to the entry before it",
                record.seq
            ));
        }
        if record.computed_hash() != record.hash {
            return Err(format!("chain {chain}: entry {} was altered", record.seq));
        }
        self.expected_seq += 1;
        self.expected_prev = record.hash.clone();
        self.checked += 1;
        Ok(())
    }

    pub fn finish(self, anchor: &ChainAnchor) -> Result<u64, String> {
        if self.expected_seq - 1 != anchor.last_seq || self.expected_prev != anchor.last_hash {
            return Err(format!(
                "chain {}: the chain ends at entry {} but its anchor records entry {}: entries were removed from the end or the anchor was changed",
                anchor.chain_id,
                self.expected_seq - 1,
                anchor.last_seq
            ));
        }
        Ok(self.checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/SECURITY.md lists every audit action an operator may meet in
    /// an export, and nothing else.
    #[test]
    fn security_md_lists_every_audit_action() {
        let security = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/SECURITY.md"
        ));
        let section = security
            .split("### Audit actions")
            .nth(1)
            .and_then(|rest| rest.split("\n#").next())
            .unwrap_or_default();
        let documented: BTreeSet<&str> = section
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|cell| cell.split('`').next())
            .collect();
        let defined: BTreeSet<&str> = Action::ALL.iter().map(|action| action.as_str()).collect();
        assert_eq!(
            documented, defined,
            "docs/SECURITY.md's audit actions differ from the code's"
        );
        for action in Action::ALL {
            assert_eq!(
                serde_json::to_value(action).ok(),
                Some(serde_json::Value::from(action.as_str())),
                "{action:?} is exported under its stored name"
            );
        }
    }

    #[test]
    fn a_chain_loss_reads_back_from_its_entry_and_says_what_was_lost() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let loss = ChainLoss {
            chain_id: 7,
            held_through: Some(811),
            committed_through: 851,
            committed_hash: "ab12".to_owned(),
        };
        let anchor = ChainAnchor::new(9, "lane", at);
        let record = AuditRecord::chain(loss.entry(at), &anchor);
        assert_eq!(record.action, Action::AuditChainLost);
        assert_eq!(ChainLoss::from_record(&record), Some(loss.clone()));
        assert_eq!(
            loss.to_string(),
            "chain 7: entries 812–851 (40 committed before a database failover) were lost with the old primary"
        );
        let whole = ChainLoss {
            held_through: None,
            ..loss
        };
        let record = AuditRecord::chain(whole.entry(at), &anchor);
        assert_eq!(ChainLoss::from_record(&record), Some(whole.clone()));
        assert!(whole.to_string().ends_with("the chain's anchor with them"));
        // Any other entry is no loss.
        let other = AuditRecord::chain(entry(1), &anchor);
        assert_eq!(ChainLoss::from_record(&other), None);
    }

    #[test]
    fn record_keys_are_kind_colon_id() {
        use crate::model::{ResidentId, TicketId};
        assert_eq!(RecordRef::Ticket(TicketId(4711)).key(), "ticket:4711");
        assert_eq!(RecordRef::Resident(ResidentId(-3)).key(), "resident:-3");
        let widest = RecordRef::Ticket(TicketId(i64::MIN));
        assert_eq!(widest.key(), format!("ticket:{}", i64::MIN));
        assert_eq!(widest.to_string(), widest.key());
    }

    #[test]
    fn touched_records_are_written_once_each_in_byte_order() {
        let mut records = TouchedRecords::default();
        for id in [9, 10, 9] {
            records.touch(RecordRef::Ticket(TicketId(id)));
        }
        records.touch(RecordRef::Resident(ResidentId(5)));
        records.insert("revoked".to_owned());
        records.insert("revoked".to_owned());
        assert!(records.contains("ticket:10") && records.contains("revoked"));
        assert!(!records.contains("ticket:11"));
        // As the trail has always stored them (a set of strings): "10"
        // sorts before "9".
        assert_eq!(
            records.into_keys(),
            ["resident:5", "revoked", "ticket:10", "ticket:9"]
        );
    }

    fn entry(n: u8) -> AuditEntry {
        let context = RequestContext {
            request_id: format!("r{n}"),
            ..RequestContext::default()
        };
        AuditEntry::new(
            &context,
            Action::Tickets,
            Outcome::Success,
            crate::time::from_epoch(1_000),
        )
    }

    fn chain_of(count: u8) -> (Vec<AuditRecord>, ChainAnchor) {
        let mut anchor = ChainAnchor::new(7, "test", crate::time::from_epoch(0));
        let mut records = Vec::new();
        for n in 0..count {
            let record = AuditRecord::chain(entry(n), &anchor);
            anchor.advance(&record);
            records.push(record);
        }
        (records, anchor)
    }

    fn verify(records: &[AuditRecord], anchor: &ChainAnchor) -> Result<u64, String> {
        let mut check = ChainCheck::new(anchor);
        for record in records {
            check.next(record)?;
        }
        check.finish(anchor)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (records, anchor) = chain_of(5);
        assert_eq!(verify(&records, &anchor), Ok(5));
    }

    #[test]
    fn alteration_insertion_removal_and_truncation_are_detected() {
        let (records, anchor) = chain_of(5);
        let mut altered = records.clone();
        altered[2].records.push("ticket:1".into());
        assert_eq!(
            verify(&altered, &anchor),
            Err("chain 7: entry 3 was altered".into())
        );
        let mut removed = records.clone();
        removed.remove(2);
        assert!(verify(&removed, &anchor)
            .expect_err("removed")
            .contains("missing"));
        let mut truncated = records.clone();
        truncated.pop();
        assert!(verify(&truncated, &anchor)
            .expect_err("truncated")
            .contains("removed from the end"));
        let mut rehashed = records.clone();
        rehashed[1].outcome = Outcome::Denied;
        rehashed[1].hash = rehashed[1].computed_hash();
        assert_eq!(
            verify(&rehashed, &anchor),
            Err("chain 7: entry 3 does not chain to the entry before it".into())
        );
    }

    #[test]
    fn an_entry_does_not_fit_another_chain() {
        let (records, _) = chain_of(1);
        let other = ChainAnchor::new(8, "other", crate::time::from_epoch(0));
        let mut moved = records[0].clone();
        moved.chain_id = 8;
        let mut check = ChainCheck::new(&other);
        assert!(check
            .next(&moved)
            .expect_err("moved")
            .contains("does not chain"));
    }
}
