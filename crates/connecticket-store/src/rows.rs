//! Every table's columns, defined once: how a row reads into a record (by
//! column name) and how a record writes into a row. Adding a column is one
//! change here plus one migration per engine.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::{AuditRecord, ChainAnchor};
use connecticket_domain::model::{
    Application, Category, Contact, ContactRole, Employee, Provider, Resident, Ticket,
};
use connecticket_domain::model::{ProviderContact, RecipientRole};
use connecticket_domain::notify::templates::Templates;
use connecticket_domain::notify::{
    Acknowledgment, Escalation, EscalationRule, EscalationStep, Notification, NotifyPolicy,
    QuietHours,
};
use connecticket_domain::transfer::{
    StoredApplication, StoredAttachment, StoredCategory, StoredComment, StoredEscalationRule,
    StoredIdempotencyKey, StoredNotifyPolicy, StoredRating, StoredStatusChange, StoredTicket,
    StoredToken,
};
use connecticket_domain::StoreError;

use crate::sql::{Columns, Result};
use crate::value::Row;
use connecticket_domain::console::ConsoleAccount;

pub(crate) fn provider(row: &dyn Row) -> Result<Provider> {
    Ok(Provider {
        id: row.get("id")?,
        name: row.get("name")?,
        time_zone: row.get("time_zone")?,
        country: row.get("country")?,
        created_at: row.get("created_at")?,
    })
}

pub(crate) fn provider_columns(p: &Provider) -> Columns<'_> {
    Columns::new()
        .with("id", p.id)
        .with("name", &p.name)
        .with("time_zone", &p.time_zone)
        .with("country", &p.country)
        .with("created_at", p.created_at)
}

pub(crate) fn employee(row: &dyn Row) -> Result<Employee> {
    Ok(Employee {
        id: row.get("id")?,
        provider_id: row.get("provider_id")?,
        name: row.get("name")?,
        email: row.get("email")?,
        created_at: row.get("created_at")?,
    })
}

pub(crate) fn employee_columns(e: &Employee) -> Columns<'_> {
    Columns::new()
        .with("id", e.id)
        .with("provider_id", e.provider_id)
        .with("name", &e.name)
        .with("email", &e.email)
        .with("created_at", e.created_at)
}

pub(crate) fn stored_application(row: &dyn Row) -> Result<StoredApplication> {
    Ok(StoredApplication {
        id: row.get("id")?,
        provider_id: row.get("provider_id")?,
        employee_id: row.get("employee_id")?,
        name: row.get("name")?,
        api_key: row.get("api_key")?,
        secret_hash: row.get("secret_hash")?,
        created_at: row.get("created_at")?,
        revoked_at: row.get("revoked_at")?,
    })
}

pub(crate) fn application(row: &dyn Row) -> Result<Application> {
    let stored = stored_application(row)?;
    Ok(Application {
        id: stored.id,
        provider_id: stored.provider_id,
        employee_id: stored.employee_id,
        name: stored.name,
        api_key: stored.api_key,
        created_at: stored.created_at,
        revoked_at: stored.revoked_at,
    })
}

pub(crate) fn application_columns(a: &StoredApplication) -> Columns<'_> {
    Columns::new()
        .with("id", a.id)
        .with("provider_id", a.provider_id)
        .with("employee_id", a.employee_id)
        .with("name", &a.name)
        .with("api_key", &a.api_key)
        .with("secret_hash", &a.secret_hash)
        .with("created_at", a.created_at)
        .with("revoked_at", a.revoked_at)
}

pub(crate) fn token(row: &dyn Row) -> Result<StoredToken> {
    Ok(StoredToken {
        id: row.get("id")?,
        application_id: row.get("application_id")?,
        token_hash: row.get("token_hash")?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        revoked_at: row.get("revoked_at")?,
    })
}

pub(crate) fn token_columns(t: &StoredToken) -> Columns<'_> {
    Columns::new()
        .with("id", t.id)
        .with("application_id", t.application_id)
        .with("token_hash", &t.token_hash)
        .with("created_at", t.created_at)
        .with("expires_at", t.expires_at)
        .with("revoked_at", t.revoked_at)
}

pub(crate) fn resident(row: &dyn Row) -> Result<Resident> {
    Ok(Resident {
        id: row.get("id")?,
        provider_id: row.get("provider_id")?,
        first_name: row.get("first_name")?,
        last_name: row.get("last_name")?,
        dob: row.get("dob")?,
        email: row.get("email")?,
        phone_number: row.get("phone_number")?,
        fax_number: row.get("fax_number")?,
        home_address1: row.get("home_address1")?,
        home_address2: row.get("home_address2")?,
        home_city: row.get("home_city")?,
        home_state: row.get("home_state")?,
        home_zip: row.get("home_zip")?,
        location: row.get("location")?,
        state: row.get("state")?,
        in_home_care: row.get("in_home_care")?,
        demo: row.get("demo")?,
        resident_type_id: row.get("resident_type_id")?,
        caretracker_id: row.get("caretracker_id")?,
        customer_number: row.get("customer_number")?,
        account_number: row.get("account_number")?,
        photo_file_name: row.get("photo_file_name")?,
        photo_content_type: row.get("photo_content_type")?,
        photo_file_size: row.get("photo_file_size")?,
        creator_id: row.get("creator_id")?,
        updater_id: row.get("updater_id")?,
        review_updates: row.get("review_updates")?,
        last_status_update: row.get("last_status_update")?,
        next_status_update: row.get("next_status_update")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub(crate) fn resident_columns(r: &Resident) -> Columns<'_> {
    Columns::new()
        .with("id", r.id)
        .with("provider_id", r.provider_id)
        .with("first_name", &r.first_name)
        .with("last_name", &r.last_name)
        .with("dob", r.dob)
        .with("email", &r.email)
        .with("phone_number", &r.phone_number)
        .with("fax_number", &r.fax_number)
        .with("home_address1", &r.home_address1)
        .with("home_address2", &r.home_address2)
        .with("home_city", &r.home_city)
        .with("home_state", &r.home_state)
        .with("home_zip", &r.home_zip)
        .with("location", &r.location)
        .with("state", &r.state)
        .with("in_home_care", r.in_home_care)
        .with("demo", r.demo)
        .with("resident_type_id", r.resident_type_id)
        .with("caretracker_id", &r.caretracker_id)
        .with("customer_number", &r.customer_number)
        .with("account_number", &r.account_number)
        .with("photo_file_name", &r.photo_file_name)
        .with("photo_content_type", &r.photo_content_type)
        .with("photo_file_size", r.photo_file_size)
        .with("creator_id", r.creator_id)
        .with("updater_id", r.updater_id)
        .with("review_updates", &r.review_updates)
        .with("last_status_update", r.last_status_update)
        .with("next_status_update", r.next_status_update)
        .with("created_at", r.created_at)
        .with("updated_at", r.updated_at)
}

pub(crate) fn stored_category(row: &dyn Row) -> Result<StoredCategory> {
    Ok(StoredCategory {
        id: row.get("id")?,
        provider_id: row.get("provider_id")?,
        name: row.get("name")?,
        created_at: row.get("created_at")?,
    })
}

pub(crate) fn category(row: &dyn Row) -> Result<Category> {
    Ok(Category {
        id: row.get("id")?,
        provider_id: row.get("provider_id")?,
        name: row.get("name")?,
    })
}

pub(crate) fn category_columns(c: &StoredCategory) -> Columns<'_> {
    Columns::new()
        .with("id", c.id)
        .with("provider_id", c.provider_id)
        .with("name", &c.name)
        .with("created_at", c.created_at)
}

/// Reads the columns in the table's order: the SQLite row finds each next
/// column at once instead of searching for it.
pub(crate) fn ticket(row: &dyn Row) -> Result<Ticket> {
    Ok(Ticket {
        id: row.get("id")?,
        provider_id: row.get("provider_id")?,
        resident_id: row.get("resident_id")?,
        employee_id: row.get("employee_id")?,
        title: row.get("title")?,
        urgency_status_id: row.get("urgency_status_id")?,
        ticket_status: row.get("ticket_status")?,
        ticket_type: row.get("ticket_type")?,
        state: row.get("state")?,
        sms: row.get("sms")?,
        email: row.get("email")?,
        sent_to_family: row.get("sent_to_family")?,
        sent_to_healthcare_pro: row.get("sent_to_healthcare_pro")?,
        sent_to_primary: row.get("sent_to_primary")?,
        start_date: row.get("start_date")?,
        end_date: row.get("end_date")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub(crate) fn stored_ticket(row: &dyn Row) -> Result<StoredTicket> {
    Ok(StoredTicket {
        ticket: ticket(row)?,
        application_id: row.get("application_id")?,
        version: row.get("version")?,
    })
}

pub(crate) fn ticket_columns(stored: &StoredTicket) -> Columns<'_> {
    let t = &stored.ticket;
    Columns::new()
        .with("id", t.id)
        .with("provider_id", t.provider_id)
        .with("resident_id", t.resident_id)
        .with("employee_id", t.employee_id)
        .with("application_id", stored.application_id)
        .with("title", &t.title)
        .with("urgency_status_id", t.urgency_status_id)
        .with("ticket_status", t.ticket_status)
        .with("ticket_type", &t.ticket_type)
        .with("state", t.state)
        .with("sms", t.sms)
        .with("email", t.email)
        .with("sent_to_family", t.sent_to_family)
        .with("sent_to_healthcare_pro", t.sent_to_healthcare_pro)
        .with("sent_to_primary", t.sent_to_primary)
        .with("start_date", t.start_date)
        .with("end_date", t.end_date)
        .with("created_at", t.created_at)
        .with("updated_at", t.updated_at)
        .with("version", stored.version)
}

pub(crate) fn rating(row: &dyn Row) -> Result<StoredRating> {
    Ok(StoredRating {
        ticket_id: row.get("ticket_id")?,
        category_id: row.get("category_id")?,
        status: row.get("status")?,
    })
}

pub(crate) fn rating_columns(r: &StoredRating) -> Columns<'_> {
    Columns::new()
        .with("ticket_id", r.ticket_id)
        .with("category_id", r.category_id)
        .with("status", r.status)
}

pub(crate) fn comment(row: &dyn Row) -> Result<StoredComment> {
    Ok(StoredComment {
        id: row.get("id")?,
        ticket_id: row.get("ticket_id")?,
        category_id: row.get("category_id")?,
        employee_id: row.get("employee_id")?,
        body: row.get("body")?,
        created_at: row.get("created_at")?,
    })
}

pub(crate) fn comment_columns(c: &StoredComment) -> Columns<'_> {
    Columns::new()
        .with("id", c.id)
        .with("ticket_id", c.ticket_id)
        .with("category_id", c.category_id)
        .with("employee_id", c.employee_id)
        .with("body", &c.body)
        .with("created_at", c.created_at)
}

pub(crate) fn attachment(row: &dyn Row) -> Result<StoredAttachment> {
    Ok(StoredAttachment {
        id: row.get("id")?,
        ticket_id: row.get("ticket_id")?,
        file_name: row.get("file_name")?,
        content_type: row.get("content_type")?,
        file_size: row.get("file_size")?,
        data: row.get("data")?,
        created_at: row.get("created_at")?,
    })
}

pub(crate) fn attachment_columns(a: &StoredAttachment) -> Columns<'_> {
    Columns::new()
        .with("id", a.id)
        .with("ticket_id", a.ticket_id)
        .with("file_name", &a.file_name)
        .with("content_type", &a.content_type)
        .with("file_size", a.file_size)
        .with("data", &a.data)
        .with("created_at", a.created_at)
}

pub(crate) fn status_change(row: &dyn Row) -> Result<StoredStatusChange> {
    Ok(StoredStatusChange {
        id: row.get("id")?,
        ticket_id: row.get("ticket_id")?,
        employee_id: row.get("employee_id")?,
        application_id: row.get("application_id")?,
        from_status: row.get("from_status")?,
        to_status: row.get("to_status")?,
        changed_at: row.get("changed_at")?,
    })
}

pub(crate) fn status_change_columns(h: &StoredStatusChange) -> Columns<'_> {
    Columns::new()
        .with("id", h.id)
        .with("ticket_id", h.ticket_id)
        .with("employee_id", h.employee_id)
        .with("application_id", h.application_id)
        .with("from_status", h.from_status)
        .with("to_status", h.to_status)
        .with("changed_at", h.changed_at)
}

pub(crate) fn idempotency_key(row: &dyn Row) -> Result<StoredIdempotencyKey> {
    Ok(StoredIdempotencyKey {
        application_id: row.get("application_id")?,
        key: row.get("idempotency_key")?,
        fingerprint: row.get("fingerprint")?,
        result_id: row.get("result_id")?,
        created_at: row.get("created_at")?,
    })
}

pub(crate) fn idempotency_key_columns(k: &StoredIdempotencyKey) -> Columns<'_> {
    Columns::new()
        .with("application_id", k.application_id)
        .with("idempotency_key", &k.key)
        .with("fingerprint", &k.fingerprint)
        .with("result_id", k.result_id)
        .with("created_at", k.created_at)
}

pub(crate) fn audit_record(row: &dyn Row) -> Result<AuditRecord> {
    let records: String = row.get("records")?;
    Ok(AuditRecord {
        id: row.get("id")?,
        chain_id: row.get("chain_id")?,
        seq: row.get("seq")?,
        at: row.get("at")?,
        request_id: row.get("request_id")?,
        client_addr: row.get("client_addr")?,
        provider_id: row.get("provider_id")?,
        application_id: row.get("application_id")?,
        employee_id: row.get("employee_id")?,
        actor: row.get("actor")?,
        action: row.get("action")?,
        outcome: row.get("outcome")?,
        records: serde_json::from_str(&records)
            .map_err(|_| StoreError::Corrupt("malformed audit records".to_owned()))?,
        prev_hash: row.get("prev_hash")?,
        hash: row.get("hash")?,
    })
}

pub(crate) fn audit_record_columns(r: &AuditRecord) -> Result<Columns<'_>> {
    let records = serde_json::to_string(&r.records)
        .map_err(|error| StoreError::backend("encoding an audit entry's records", error))?;
    Ok(Columns::new()
        .with("id", r.id)
        .with("chain_id", r.chain_id)
        .with("seq", r.seq)
        .with("at", r.at)
        .with("request_id", &r.request_id)
        .with("client_addr", &r.client_addr)
        .with("provider_id", r.provider_id)
        .with("application_id", r.application_id)
        .with("employee_id", r.employee_id)
        .with("actor", &r.actor)
        .with("action", r.action.as_str())
        .with("outcome", r.outcome.as_str())
        .with("records", records)
        .with("prev_hash", &r.prev_hash)
        .with("hash", &r.hash))
}

pub(crate) fn chain_anchor(row: &dyn Row) -> Result<ChainAnchor> {
    Ok(ChainAnchor {
        chain_id: row.get("id")?,
        label: row.get("label")?,
        created_at: row.get("created_at")?,
        last_seq: row.get("last_seq")?,
        last_hash: row.get("last_hash")?,
        pruned_through_seq: row.get("pruned_through_seq")?,
        pruned_hash: row.get("pruned_hash")?,
    })
}

pub(crate) fn chain_anchor_columns(c: &ChainAnchor) -> Columns<'_> {
    Columns::new()
        .with("id", c.chain_id)
        .with("label", &c.label)
        .with("created_at", c.created_at)
        .with("last_seq", c.last_seq)
        .with("last_hash", &c.last_hash)
        .with("pruned_through_seq", c.pruned_through_seq)
        .with("pruned_hash", &c.pruned_hash)
}

pub(crate) fn contact(row: &dyn Row) -> Result<Contact> {
    Ok(Contact {
        id: row.get("id")?,
        provider_id: row.get("provider_id")?,
        resident_id: row.get("resident_id")?,
        role: row.get("role")?,
        name: row.get("name")?,
        email: row.get("email")?,
        phone: row.get("phone")?,
        email_consent: row.get("email_consent")?,
        sms_consent: row.get("sms_consent")?,
        created_at: row.get("created_at")?,
    })
}

pub(crate) fn contact_columns(c: &Contact) -> Columns<'_> {
    Columns::new()
        .with("id", c.id)
        .with("provider_id", c.provider_id)
        .with("resident_id", c.resident_id)
        .with("role", c.role)
        .with("name", &c.name)
        .with("email", &c.email)
        .with("phone", &c.phone)
        .with("email_consent", c.email_consent)
        .with("sms_consent", c.sms_consent)
        .with("created_at", c.created_at)
}

pub(crate) fn notification(row: &dyn Row) -> Result<Notification> {
    Ok(Notification {
        id: row.get("id")?,
        provider_id: row.get("provider_id")?,
        ticket_id: row.get("ticket_id")?,
        resident_id: row.get("resident_id")?,
        contact_id: row.get("contact_id")?,
        role: row.get("role")?,
        channel: row.get("channel")?,
        address: row.get("address")?,
        event: row.get("event")?,
        urgency_status_id: row.get("urgency_status_id")?,
        ticket_status: row.get("ticket_status")?,
        state: row.get("state")?,
        attempts: row.get("attempts")?,
        next_attempt_at: row.get("next_attempt_at")?,
        last_error: row.get("last_error")?,
        external_id: row.get("external_id")?,
        created_at: row.get("created_at")?,
        delivered_at: row.get("delivered_at")?,
        escalation_level: row.get("escalation_level")?,
        ack_required: row.get("ack_required")?,
        ack_salt: row.get("ack_salt")?,
        ack_token_hash: row.get("ack_token_hash")?,
        ack_expires_at: row.get("ack_expires_at")?,
        acknowledgment: match row.get::<Option<DateTime<Utc>>>("acknowledged_at")? {
            Some(at) => Some(Acknowledgment {
                at,
                via: row.get("acknowledged_via")?,
                by: row.get("acknowledged_by")?,
                note: row.get("ack_note")?,
            }),
            None => None,
        },
    })
}

/// A notification's columns; a lease is never copied (`lease_*` stay
/// empty on insert).
pub(crate) fn notification_columns(n: &Notification) -> Columns<'_> {
    let ack = n.acknowledgment.as_ref();
    Columns::new()
        .with("id", n.id)
        .with("provider_id", n.provider_id)
        .with("ticket_id", n.ticket_id)
        .with("resident_id", n.resident_id)
        .with("contact_id", n.contact_id)
        .with("role", &n.role)
        .with("channel", n.channel)
        .with("address", &n.address)
        .with("event", n.event)
        .with("urgency_status_id", n.urgency_status_id)
        .with("ticket_status", &n.ticket_status)
        .with("state", n.state)
        .with("attempts", n.attempts)
        .with("next_attempt_at", n.next_attempt_at)
        .with("last_error", &n.last_error)
        .with("external_id", &n.external_id)
        .with("created_at", n.created_at)
        .with("delivered_at", n.delivered_at)
        .with("escalation_level", n.escalation_level)
        .with("ack_required", n.ack_required)
        .with("ack_salt", n.ack_salt.as_deref())
        .with("ack_token_hash", n.ack_token_hash.as_deref())
        .with("ack_expires_at", n.ack_expires_at)
        .with("acknowledged_at", ack.map(|a| a.at))
        .with("acknowledged_via", ack.map(|a| a.via))
        .with("acknowledged_by", ack.and_then(|a| a.by))
        .with("ack_note", ack.and_then(|a| a.note.as_deref()))
}

pub(crate) fn provider_contact(row: &dyn Row) -> Result<ProviderContact> {
    Ok(ProviderContact {
        id: row.get("id")?,
        provider_id: row.get("provider_id")?,
        role: row.get("role")?,
        name: row.get("name")?,
        email: row.get("email")?,
        phone: row.get("phone")?,
        created_at: row.get("created_at")?,
    })
}

pub(crate) fn provider_contact_columns(c: &ProviderContact) -> Columns<'_> {
    Columns::new()
        .with("id", c.id)
        .with("provider_id", c.provider_id)
        .with("role", c.role.as_str())
        .with("name", &c.name)
        .with("email", &c.email)
        .with("phone", &c.phone)
        .with("created_at", c.created_at)
}

pub(crate) fn escalation(row: &dyn Row) -> Result<Escalation> {
    Ok(Escalation {
        ticket_id: row.get("ticket_id")?,
        provider_id: row.get("provider_id")?,
        urgency_status_id: row.get("urgency_status_id")?,
        state: row.get("state")?,
        level: row.get("level")?,
        next_at: row.get("next_at")?,
        started_at: row.get("started_at")?,
        ended_at: row.get("ended_at")?,
    })
}

pub(crate) fn escalation_columns(e: &Escalation) -> Columns<'_> {
    Columns::new()
        .with("ticket_id", e.ticket_id)
        .with("provider_id", e.provider_id)
        .with("urgency_status_id", e.urgency_status_id)
        .with("state", e.state)
        .with("level", e.level)
        .with("next_at", e.next_at)
        .with("started_at", e.started_at)
        .with("ended_at", e.ended_at)
}

pub(crate) fn escalation_step(row: &dyn Row) -> Result<EscalationStep> {
    Ok(EscalationStep {
        id: row.get("id")?,
        ticket_id: row.get("ticket_id")?,
        provider_id: row.get("provider_id")?,
        level: row.get("level")?,
        kind: row.get("kind")?,
        role: row.get("role")?,
        notified: row.get("notified")?,
        at: row.get("at")?,
    })
}

pub(crate) fn escalation_step_columns(s: &EscalationStep) -> Columns<'_> {
    Columns::new()
        .with("id", s.id)
        .with("ticket_id", s.ticket_id)
        .with("provider_id", s.provider_id)
        .with("level", s.level)
        .with("kind", s.kind.as_str())
        .with("role", s.role.as_deref())
        .with("notified", s.notified)
        .with("at", s.at)
}

/// One stored escalation rule: `(provider, urgency, rule or none)`.
pub(crate) fn escalation_rule(row: &dyn Row) -> Result<StoredEscalationRule> {
    let within: Option<i64> = row.get("ack_within_secs")?;
    let renotify: Option<i64> = row.get("renotify_after_secs")?;
    let tiers: String = row.get("tiers")?;
    let rule = match within {
        Some(within) => Some(EscalationRule {
            ack_within: chrono::Duration::seconds(within),
            renotify_after: chrono::Duration::seconds(renotify.unwrap_or(within)),
            tiers: tiers
                .split(',')
                .filter(|t| !t.is_empty())
                .map(|t| {
                    RecipientRole::parse(t).ok_or_else(|| {
                        StoreError::Corrupt(format!("unknown escalation role {t:?}"))
                    })
                })
                .collect::<Result<_>>()?,
        }),
        None => None,
    };
    Ok(StoredEscalationRule {
        provider_id: row.get("provider_id")?,
        urgency_status_id: row.get("urgency_status_id")?,
        rule,
    })
}

pub(crate) fn escalation_rule_columns(r: &StoredEscalationRule) -> Columns<'_> {
    let tiers = r.rule.as_ref().map_or(String::new(), |rule| {
        rule.tiers
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(",")
    });
    Columns::new()
        .with("provider_id", r.provider_id)
        .with("urgency_status_id", r.urgency_status_id)
        .with(
            "ack_within_secs",
            r.rule.as_ref().map(|x| x.ack_within.num_seconds()),
        )
        .with(
            "renotify_after_secs",
            r.rule.as_ref().map(|x| x.renotify_after.num_seconds()),
        )
        .with("tiers", tiers)
}

pub(crate) fn roles_text(roles: &[ContactRole]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn parse_roles(text: &str) -> Result<Vec<ContactRole>> {
    text.split(',')
        .filter(|r| !r.is_empty())
        .map(|r| {
            ContactRole::parse(r)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown contact role {r:?}")))
        })
        .collect()
}

pub(crate) fn notify_policy(row: &dyn Row) -> Result<NotifyPolicy> {
    let stored = stored_notify_policy(row)?;
    let quiet = stored.quiet_hours;
    Ok(NotifyPolicy {
        on_created: parse_roles(&stored.on_created)?,
        on_status_change: parse_roles(&stored.on_status_change)?,
        quiet_hours: QuietHours::parse(&quiet)
            .ok_or_else(|| StoreError::Corrupt(format!("bad quiet hours {quiet:?}")))?,
        callback_phone: stored.callback_phone,
        after_hours_phone: stored.after_hours_phone,
        templates: Templates {
            sms: stored.sms_template,
            email_subject: stored.email_subject_template,
            email_body: stored.email_body_template,
        },
    })
}

pub(crate) fn stored_notify_policy(row: &dyn Row) -> Result<StoredNotifyPolicy> {
    Ok(StoredNotifyPolicy {
        provider_id: row.get("provider_id")?,
        on_created: row.get("on_created")?,
        on_status_change: row.get("on_status_change")?,
        quiet_hours: row.get("quiet_hours")?,
        callback_phone: row.get("callback_phone")?,
        after_hours_phone: row.get("after_hours_phone")?,
        sms_template: row.get("sms_template")?,
        email_subject_template: row.get("email_subject_template")?,
        email_body_template: row.get("email_body_template")?,
    })
}

pub(crate) fn stored_notify_policy_columns(p: &StoredNotifyPolicy) -> Columns<'_> {
    Columns::new()
        .with("provider_id", p.provider_id)
        .with("on_created", &p.on_created)
        .with("on_status_change", &p.on_status_change)
        .with("quiet_hours", &p.quiet_hours)
        .with("callback_phone", &p.callback_phone)
        .with("after_hours_phone", &p.after_hours_phone)
        .with("sms_template", &p.sms_template)
        .with("email_subject_template", &p.email_subject_template)
        .with("email_body_template", &p.email_body_template)
}

pub(crate) fn console_account(row: &dyn Row) -> Result<ConsoleAccount> {
    Ok(ConsoleAccount {
        employee_id: row.get("employee_id")?,
        provider_id: row.get("provider_id")?,
        email: row.get("email")?,
        role: row.get("role")?,
        password_hash: row.get("password_hash")?,
        totp_secret: row.get("totp_secret")?,
        invite_hash: row.get("invite_hash")?,
        invite_expires_at: row.get("invite_expires_at")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

pub(crate) fn console_account_columns(a: &ConsoleAccount) -> Columns<'_> {
    Columns::new()
        .with("employee_id", a.employee_id)
        .with("provider_id", a.provider_id)
        .with("email", &a.email)
        .with("role", a.role)
        .with("password_hash", &a.password_hash)
        .with("totp_secret", a.totp_secret.as_deref())
        .with("invite_hash", a.invite_hash.as_deref())
        .with("invite_expires_at", a.invite_expires_at)
        .with("created_at", a.created_at)
        .with("updated_at", a.updated_at)
}
