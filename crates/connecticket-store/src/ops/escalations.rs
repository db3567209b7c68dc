//! Escalation rules, the staff they reach, and each ticket's escalation:
//! started or joined by the ticket writes that queue notifications, ended
//! by an acknowledgment or a resolution, advanced by `escalate_due`.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::{AuditEntry, RecordRef};
use connecticket_domain::model::{
    ContactId, NotificationId, ProviderContact, ProviderId, ResidentId, TicketId,
};
use connecticket_domain::notify::escalation::Step;
use connecticket_domain::notify::{
    new_salt, ChangeFacts, ChannelChoice, DeliveryState, Escalation, EscalationPolicy,
    EscalationRule, EscalationState, EscalationStep, Notification, NotifyEvent, PlannedNotice,
    TicketEscalation,
};
use connecticket_domain::transfer::StoredEscalationRule;
use connecticket_domain::workflow::UrgencyStatus;
use connecticket_domain::{Entity, StoreError};

use super::audit;
use crate::engine::Executor;
use crate::one_statement::OneStatement;
use crate::rows;
use crate::sql::{execute, fetch_all, fetch_optional, insert, insert_returning_id, Result};
use crate::value::Value;

pub(crate) async fn policy(
    tx: &mut dyn Executor,
    provider: ProviderId,
) -> Result<EscalationPolicy> {
    let stored = fetch_all(
        tx,
        "SELECT * FROM escalation_policies WHERE provider_id = $1",
        &[provider.into()],
        rows::escalation_rule,
    )
    .await?;
    let mut policy = EscalationPolicy::defaults();
    for row in stored {
        match row.rule {
            Some(rule) => policy.rules.insert(row.urgency_status_id, rule),
            None => policy.rules.remove(&row.urgency_status_id),
        };
    }
    Ok(policy)
}

pub(crate) async fn set_rule(
    tx: &mut dyn Executor,
    provider: ProviderId,
    urgency_status_id: i64,
    rule: Option<EscalationRule>,
    audit_entry: AuditEntry,
) -> Result<()> {
    execute(
        tx,
        "DELETE FROM escalation_policies WHERE provider_id = $1 AND urgency_status_id = $2",
        &[provider.into(), urgency_status_id.into()],
    )
    .await?;
    let stored = StoredEscalationRule {
        provider_id: provider,
        urgency_status_id,
        rule,
    };
    insert(
        tx,
        "escalation_policies",
        rows::escalation_rule_columns(&stored),
    )
    .await?;
    audit::append(tx, vec![audit_entry]).await
}

pub(crate) async fn create_staff(
    tx: &mut dyn Executor,
    contact: ProviderContact,
    audit_entry: AuditEntry,
) -> Result<ProviderContact> {
    let mut contact = contact;
    let columns = rows::provider_contact_columns(&contact).without("id");
    contact.id = ContactId(insert_returning_id(tx, "provider_contacts", columns).await?);
    let mut entry = audit_entry;
    entry.touch(RecordRef::Contact(contact.id));
    audit::append(tx, vec![entry]).await?;
    Ok(contact)
}

pub(crate) async fn staff(
    tx: &mut dyn Executor,
    provider: ProviderId,
) -> Result<Vec<ProviderContact>> {
    fetch_all(
        tx,
        "SELECT * FROM provider_contacts WHERE provider_id = $1 ORDER BY id",
        &[provider.into()],
        rows::provider_contact,
    )
    .await
}

pub(crate) async fn delete_staff(
    tx: &mut dyn Executor,
    provider: ProviderId,
    contact: ContactId,
    audit_entry: AuditEntry,
) -> Result<()> {
    let removed = execute(
        tx,
        "DELETE FROM provider_contacts WHERE id = $1 AND provider_id = $2",
        &[contact.into(), provider.into()],
    )
    .await?;
    if removed == 0 {
        return Err(StoreError::NotFound(Entity::Contact));
    }
    let mut entry = audit_entry;
    entry.touch(RecordRef::Contact(contact));
    audit::append(tx, vec![entry]).await
}

/// A ticket's escalation and the levels it took, for its page.
pub(crate) async fn of_ticket_with_steps(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket: TicketId,
) -> Result<Option<TicketEscalation>> {
    let escalation = fetch_optional(
        tx,
        "SELECT * FROM escalations WHERE provider_id = $1 AND ticket_id = $2",
        &[provider.into(), ticket.into()],
        rows::escalation,
    )
    .await?;
    let Some(escalation) = escalation else {
        return Ok(None);
    };
    let steps = fetch_all(
        tx,
        "SELECT * FROM escalation_steps WHERE provider_id = $1 AND ticket_id = $2
         ORDER BY level, id",
        &[provider.into(), ticket.into()],
        rows::escalation_step,
    )
    .await?;
    Ok(Some(TicketEscalation { escalation, steps }))
}

async fn of_ticket(tx: &mut dyn Executor, ticket: TicketId) -> Result<Option<Escalation>> {
    let sql = format!(
        "SELECT * FROM escalations WHERE ticket_id = $1{}",
        tx.dialect().for_update()
    );
    fetch_optional(tx, &sql, &[ticket.into()], rows::escalation).await
}

/// A change whose notifications need an answer.
pub(crate) struct Joining {
    pub provider: ProviderId,
    pub ticket: TicketId,
    pub urgency_status_id: i64,
    pub at: DateTime<Utc>,
}

/// Whether the notifications a change queues need an answer, starting the
/// ticket's escalation when they are the first to (or the first since it
/// was stopped). An acknowledged escalation stays acknowledged: later
/// changes of the ticket ask nobody again. With a `statement`, the new
/// escalation's row joins the change's one statement (PostgreSQL).
pub(crate) async fn join(
    tx: &mut dyn Executor,
    statement: Option<&mut OneStatement>,
    joining: Joining,
) -> Result<bool> {
    let Joining {
        provider,
        ticket,
        urgency_status_id,
        at,
    } = joining;
    let policy = policy(tx, provider).await?;
    let Some(rule) = policy.rule(urgency_status_id) else {
        return Ok(false);
    };
    let existing = of_ticket(tx, ticket).await?;
    match existing.map(|e| e.state) {
        Some(EscalationState::Active | EscalationState::Exhausted) => Ok(true),
        Some(EscalationState::Acknowledged) => Ok(false),
        state => {
            let escalation = Escalation {
                ticket_id: ticket,
                provider_id: provider,
                urgency_status_id,
                state: EscalationState::Active,
                level: 0,
                next_at: Some(at + rule.ack_within),
                started_at: at,
                ended_at: None,
            };
            if state.is_some() {
                // A stopped escalation starts again. Its row goes first,
                // in a statement of its own: one statement cannot delete
                // a key and insert it again.
                execute(
                    tx,
                    "DELETE FROM escalations WHERE ticket_id = $1",
                    &[ticket.into()],
                )
                .await?;
            }
            let columns = rows::escalation_columns(&escalation);
            match statement {
                Some(statement) => statement.insert("escalations", vec![columns.into_owned()])?,
                None => insert(tx, "escalations", columns).await?,
            }
            Ok(true)
        }
    }
}

/// Ends an open escalation (acknowledged, or its ticket resolved), and
/// cancels its reminders and escalation messages not yet sent: once
/// someone answered, or the ticket is resolved, nobody is asked again.
/// One already in a transport's hands may still arrive; nothing else does.
pub(crate) async fn end(
    tx: &mut dyn Executor,
    ticket: TicketId,
    state: EscalationState,
    at: DateTime<Utc>,
) -> Result<()> {
    let (end, cancel) = ending(ticket, state, at);
    execute(tx, END_ESCALATION, &end).await?;
    execute(tx, CANCEL_ASKING, &cancel).await?;
    Ok(())
}

/// [`end`], as part of the change's one statement (PostgreSQL).
pub(crate) fn end_within(
    statement: &mut OneStatement,
    ticket: TicketId,
    state: EscalationState,
    at: DateTime<Utc>,
) {
    let (end, cancel) = ending(ticket, state, at);
    statement.change(END_ESCALATION, end);
    statement.change(CANCEL_ASKING, cancel);
}

const END_ESCALATION: &str = "UPDATE escalations SET state = $2, next_at = NULL, ended_at = $3
     WHERE ticket_id = $1 AND state IN ('active', 'exhausted')";

const CANCEL_ASKING: &str = "UPDATE notifications
     SET state = 'cancelled', last_error = $2, lease_owner = NULL, lease_until = NULL
     WHERE ticket_id = $1 AND state = 'pending' AND event IN ('reminder', 'escalated')";

/// The arguments of [`END_ESCALATION`] and [`CANCEL_ASKING`].
fn ending(
    ticket: TicketId,
    state: EscalationState,
    at: DateTime<Utc>,
) -> (Vec<Value<'static>>, Vec<Value<'static>>) {
    let reason = match state {
        EscalationState::Acknowledged => "cancelled: someone acknowledged",
        _ => "cancelled: the ticket was resolved or closed",
    };
    (
        vec![ticket.into(), state.into(), at.into()],
        vec![ticket.into(), reason.into()],
    )
}

/// What an escalation level needs to know of its ticket.
struct TicketFacts {
    resident: ResidentId,
    email: bool,
    sms: bool,
    status: String,
    zone: chrono_tz::Tz,
}

async fn ticket_facts(tx: &mut dyn Executor, ticket: TicketId) -> Result<TicketFacts> {
    fetch_optional(
        tx,
        "SELECT t.resident_id, t.email, t.sms, t.ticket_status, p.time_zone
         FROM tickets t JOIN providers p ON p.id = t.provider_id WHERE t.id = $1",
        &[ticket.into()],
        |row| {
            let zone: String = row.get("time_zone")?;
            Ok(TicketFacts {
                resident: row.get("resident_id")?,
                email: row.get::<Option<bool>>("email")?.unwrap_or(false),
                sms: row.get::<Option<bool>>("sms")?.unwrap_or(false),
                status: row.get("ticket_status")?,
                zone: zone.parse().unwrap_or(chrono_tz::UTC),
            })
        },
    )
    .await?
    .ok_or(StoreError::NotFound(Entity::Ticket))
}

/// Whether any escalation is due: a read, so that an idle escalator
/// opens no write transaction.
pub(crate) async fn any_due(tx: &mut dyn Executor, now: DateTime<Utc>) -> Result<bool> {
    crate::sql::exists(
        tx,
        "SELECT 1 FROM escalations WHERE state = 'active' AND next_at <= $1 LIMIT 1",
        &[now.into()],
    )
    .await
}

/// Takes the next level of every escalation due (up to `limit`).
pub(crate) async fn escalate_due(
    tx: &mut dyn Executor,
    now: DateTime<Utc>,
    limit: u32,
    audit_entry: AuditEntry,
) -> Result<Vec<EscalationStep>> {
    let sql = format!(
        "SELECT * FROM escalations WHERE state = 'active' AND next_at <= $1
         ORDER BY next_at, ticket_id LIMIT $2{}",
        tx.dialect().for_update_skip_locked()
    );
    let due = fetch_all(
        tx,
        &sql,
        &[now.into(), i64::from(limit).into()],
        rows::escalation,
    )
    .await?;
    let mut steps = Vec::with_capacity(due.len());
    let mut entries = Vec::with_capacity(due.len());
    for escalation in due {
        let mut entry = audit_entry.clone();
        let step = advance(tx, &escalation, now, &mut entry).await?;
        entries.push(entry);
        steps.extend(step);
    }
    audit::append(tx, entries).await?;
    Ok(steps)
}

/// Takes one escalation's next level.
async fn advance(
    tx: &mut dyn Executor,
    escalation: &Escalation,
    now: DateTime<Utc>,
    entry: &mut AuditEntry,
) -> Result<Option<EscalationStep>> {
    let ticket = escalation.ticket_id;
    let facts = ticket_facts(tx, ticket).await?;
    entry.provider_id = Some(escalation.provider_id);
    entry.touch(RecordRef::Ticket(ticket));
    entry.touch(RecordRef::Resident(facts.resident));
    let policy = policy(tx, escalation.provider_id).await?;
    let Some(rule) = policy.rule(escalation.urgency_status_id) else {
        // The provider stopped asking for answers at this urgency.
        end(tx, ticket, EscalationState::Stopped, now).await?;
        entry.records.insert("escalation:stopped".to_owned());
        return Ok(None);
    };
    let level = escalation.level + 1;
    let step = Step::of(rule, level);
    let planned = match &step {
        Step::Renotify => first_recipients(tx, escalation).await?,
        Step::Tier(role) => {
            let contacts =
                super::contacts::contacts(tx, escalation.provider_id, Some(facts.resident)).await?;
            let staff = staff(tx, escalation.provider_id).await?;
            let change = ChangeFacts {
                event: NotifyEvent::Escalated,
                // The channels the ticket's creation used; none (nobody was
                // told at first): every channel the tier's people consented
                // to.
                channels: match (facts.email, facts.sms) {
                    (false, false) => ChannelChoice::Consented,
                    (email, sms) => ChannelChoice::Chosen { email, sms },
                },
                urgency: UrgencyStatus::by_id(escalation.urgency_status_id)
                    .unwrap_or(UrgencyStatus::DEFAULT),
                now,
                zone: facts.zone,
            };
            connecticket_domain::notify::plan_tier(role, change, &contacts, &staff)
        }
        Step::Exhausted => Vec::new(),
    };
    let event = match step {
        Step::Renotify => NotifyEvent::Reminder,
        _ => NotifyEvent::Escalated,
    };
    for notice in &planned {
        let notification = escalation_notice(escalation, &facts, notice, event, level, now);
        let columns = rows::notification_columns(&notification).without("id");
        let id = insert_returning_id(tx, "notifications", columns).await?;
        entry.touch(RecordRef::Notification(NotificationId(id)));
    }
    let (state, next_at) = match step {
        Step::Exhausted => (EscalationState::Exhausted, None),
        _ => (EscalationState::Active, Some(now + rule.renotify_after)),
    };
    execute(
        tx,
        "UPDATE escalations SET state = $2, level = $3, next_at = $4 WHERE ticket_id = $1",
        &[ticket.into(), state.into(), level.into(), next_at.into()],
    )
    .await?;
    let mut recorded = EscalationStep {
        id: 0,
        ticket_id: ticket,
        provider_id: escalation.provider_id,
        level,
        kind: step.kind().to_owned(),
        role: match &step {
            Step::Tier(role) => Some(role.as_str().to_owned()),
            _ => None,
        },
        notified: planned.len() as i64,
        at: now,
    };
    let columns = rows::escalation_step_columns(&recorded).without("id");
    recorded.id = insert_returning_id(tx, "escalation_steps", columns).await?;
    entry.records.insert(format!("escalation_level:{level}"));
    let raised = connecticket_domain::events::NewEvent::ticket(
        escalation.provider_id,
        connecticket_domain::events::EventKind::EscalationRaised,
        ticket,
        facts.resident,
        now,
    );
    super::events::record(tx, raised).await?;
    Ok(Some(recorded))
}

/// Whom the escalation's first level told: told once more by a reminder.
async fn first_recipients(
    tx: &mut dyn Executor,
    escalation: &Escalation,
) -> Result<Vec<PlannedNotice>> {
    let first = fetch_all(
        tx,
        "SELECT * FROM notifications
         WHERE ticket_id = $1 AND escalation_level = 0 AND ack_required AND created_at >= $2
         ORDER BY id",
        &[escalation.ticket_id.into(), escalation.started_at.into()],
        rows::notification,
    )
    .await?;
    let mut planned: Vec<PlannedNotice> = Vec::new();
    for n in first {
        let seen = planned
            .iter()
            .any(|p| p.contact_id == n.contact_id && p.role == n.role && p.channel == n.channel);
        if !seen {
            planned.push(PlannedNotice {
                contact_id: n.contact_id,
                role: n.role,
                channel: n.channel,
                address: n.address,
                not_before: n.created_at,
            });
        }
    }
    Ok(planned)
}

fn escalation_notice(
    escalation: &Escalation,
    facts: &TicketFacts,
    notice: &PlannedNotice,
    event: NotifyEvent,
    level: i64,
    now: DateTime<Utc>,
) -> Notification {
    Notification {
        id: NotificationId(0),
        provider_id: escalation.provider_id,
        ticket_id: escalation.ticket_id,
        resident_id: facts.resident,
        contact_id: notice.contact_id,
        role: notice.role.clone(),
        channel: notice.channel,
        address: notice.address.clone(),
        event,
        urgency_status_id: escalation.urgency_status_id,
        ticket_status: facts.status.clone(),
        state: DeliveryState::Pending,
        attempts: 0,
        // Quiet hours never delay an escalation.
        next_attempt_at: now,
        last_error: None,
        external_id: None,
        created_at: now,
        delivered_at: None,
        escalation_level: level,
        ack_required: true,
        ack_salt: Some(new_salt()),
        ack_token_hash: None,
        ack_expires_at: None,
        acknowledgment: None,
    }
}
