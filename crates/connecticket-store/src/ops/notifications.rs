//! The outbox. `enqueue` runs inside the ticket write that causes it, so
//! a notification exists exactly when its change committed; the rest is
//! the dispatcher's: claims under a lease, attempts, gateway reports.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::{AuditEntry, RecordRef};
use connecticket_domain::model::ContactRole;
use connecticket_domain::model::{NotificationId, ProviderId, ResidentId, TicketId};
use connecticket_domain::notify::{
    new_salt, notifies_by_default, sent_field, AckLinkRecord, ChangeFacts, Channel, ChannelChoice,
    Claimed, DeliveryState, Notification, NotifyEvent, NotifyRequest, PlannedNotice,
    ReportedStatus,
};
use connecticket_domain::store::{Attempt, AttemptResult, NotificationFilter};
use connecticket_domain::workflow::{TicketStatus, UrgencyStatus};
use connecticket_domain::{Entity, StoreError};

use super::{audit, events, require_owned};
use crate::engine::Executor;
use crate::one_statement::OneStatement;
use crate::rows;
use crate::sql::{execute, fetch_all, fetch_one, fetch_optional, insert, placeholders, Result};
use crate::value::Value;
use connecticket_domain::events::{EventKind, NewEvent};

/// Whom a change asks to tell, before the policy is read.
pub(crate) enum Asked {
    /// A new ticket, with the flags its request carried.
    NewTicket(NotifyRequest),
    /// A status change, with the flags its request carried and the
    /// channels the ticket's creation used.
    StatusChange(NotifyRequest, ChannelChoice),
}

/// The notifications a change will record, planned before the change is
/// written (a new ticket's flags are set to what was planned).
pub(crate) struct Planned {
    notices: Vec<PlannedNotice>,
    zone: chrono_tz::Tz,
}

/// Who was told, as a ticket's flags say it.
pub(crate) struct Told {
    pub family: bool,
    pub primary_physician: bool,
    pub healthcare_professional: bool,
    pub email: bool,
    pub sms: bool,
}

impl Planned {
    pub(crate) fn told(&self) -> Told {
        let any = |wanted: &dyn Fn(&PlannedNotice) -> bool| self.notices.iter().any(wanted);
        let role = |role: ContactRole| move |n: &PlannedNotice| n.role == role.into();
        Told {
            family: any(&role(ContactRole::Family)),
            primary_physician: any(&role(ContactRole::PrimaryPhysician)),
            healthcare_professional: any(&role(ContactRole::HealthcareProfessional)),
            email: any(&|n| n.channel == Channel::Email),
            sms: any(&|n| n.channel == Channel::Sms),
        }
    }
}

/// Plans whom a change tells (docs/NOTIFICATIONS.md, "Who is told"): the
/// roles and channels asked for or the policy's, each contact on the
/// channels it consented to. Reads nothing when no channel is asked for.
pub(crate) async fn plan(
    tx: &mut dyn Executor,
    provider: ProviderId,
    resident: ResidentId,
    asked: Asked,
    urgency_status_id: i64,
    at: DateTime<Utc>,
) -> Result<Planned> {
    let urgency = UrgencyStatus::by_id(urgency_status_id).unwrap_or(UrgencyStatus::DEFAULT);
    let channels = match &asked {
        Asked::NewTicket(request) => request.new_ticket_channels(urgency),
        Asked::StatusChange(request, used) => request.channels().unwrap_or(*used),
    };
    if channels.is_none() {
        return Ok(Planned {
            notices: Vec::new(),
            zone: chrono_tz::UTC,
        });
    }
    let zone: String = fetch_one(
        tx,
        "SELECT time_zone FROM providers WHERE id = $1",
        &[provider.into()],
        |row| row.get("time_zone"),
    )
    .await?;
    let zone = zone.parse().unwrap_or(chrono_tz::UTC);
    let policy = super::contacts::notify_policy(tx, provider).await?;
    let (event, recipients) = match asked {
        Asked::NewTicket(request) => (
            NotifyEvent::TicketCreated,
            request.for_new_ticket(&policy.on_created, urgency),
        ),
        Asked::StatusChange(request, used) => (
            NotifyEvent::StatusChanged,
            request.for_status_change(&policy.on_status_change, used),
        ),
    };
    if recipients.nobody() {
        return Ok(Planned {
            notices: Vec::new(),
            zone,
        });
    }
    let contacts = super::contacts::contacts(tx, provider, Some(resident)).await?;
    let facts = ChangeFacts {
        event,
        channels: recipients.channels,
        urgency,
        now: at,
        zone,
    };
    Ok(Planned {
        notices: policy.plan(facts, &recipients.roles, &contacts),
        zone,
    })
}

/// The ticket change that records planned notifications.
pub(crate) struct Change {
    pub provider: ProviderId,
    pub ticket: TicketId,
    pub resident: ResidentId,
    pub event: NotifyEvent,
    pub urgency_status_id: i64,
    pub ticket_status: String,
    pub at: DateTime<Utc>,
}

/// Records the notifications planned for a change, in the change's
/// transaction, so a notification exists exactly when its change
/// committed. An urgent change that tells nobody still joins (or starts)
/// the ticket's escalation: its staff tiers are told when nobody answers.
pub(crate) async fn enqueue(tx: &mut dyn Executor, planned: Planned, change: Change) -> Result<()> {
    let Some(ack_required) = join_escalation(tx, None, &planned, &change).await? else {
        return Ok(());
    };
    for notification in notifications(planned, &change, ack_required) {
        let columns = rows::notification_columns(&notification).without("id");
        insert(tx, "notifications", columns).await?;
    }
    Ok(())
}

/// [`enqueue`], as part of the change's one statement (PostgreSQL).
pub(crate) async fn enqueue_within(
    tx: &mut dyn Executor,
    statement: &mut OneStatement,
    planned: Planned,
    change: Change,
) -> Result<()> {
    let Some(ack_required) = join_escalation(tx, Some(statement), &planned, &change).await? else {
        return Ok(());
    };
    let rows = notifications(planned, &change, ack_required)
        .iter()
        .map(|notification| {
            rows::notification_columns(notification)
                .without("id")
                .into_owned()
        })
        .collect();
    statement.insert("notifications", rows)
}

/// Whether the change's notifications need an answer (joining or starting
/// the ticket's escalation if so); `None` when the change records none.
async fn join_escalation(
    tx: &mut dyn Executor,
    statement: Option<&mut OneStatement>,
    planned: &Planned,
    change: &Change,
) -> Result<Option<bool>> {
    // A resolution asks nobody to answer (and has ended the escalation).
    let resolving = matches!(
        TicketStatus::parse(&change.ticket_status),
        Some(TicketStatus::Resolved | TicketStatus::Closed)
    );
    let urgent = UrgencyStatus::by_id(change.urgency_status_id).is_some_and(notifies_by_default);
    if planned.notices.is_empty() && (resolving || !urgent) {
        return Ok(None);
    }
    if resolving {
        return Ok(Some(false));
    }
    let joining = super::escalations::Joining {
        provider: change.provider,
        ticket: change.ticket,
        urgency_status_id: change.urgency_status_id,
        at: change.at,
    };
    super::escalations::join(tx, statement, joining)
        .await
        .map(Some)
}

/// The rows of the notifications planned for a change.
fn notifications(planned: Planned, change: &Change, ack_required: bool) -> Vec<Notification> {
    let zone = planned.zone;
    planned
        .notices
        .into_iter()
        .map(|planned_notice| {
            // Held for the family's quiet hours: the queue, the ticket and
            // the API say until when, in the provider's time.
            let held = (planned_notice.not_before > change.at).then(|| {
                format!(
                    "held for quiet hours until {}",
                    planned_notice
                        .not_before
                        .with_timezone(&zone)
                        .format("%H:%M")
                )
            });
            Notification {
                id: NotificationId(0),
                provider_id: change.provider,
                ticket_id: change.ticket,
                resident_id: change.resident,
                contact_id: planned_notice.contact_id,
                role: planned_notice.role,
                channel: planned_notice.channel,
                address: planned_notice.address,
                event: change.event,
                urgency_status_id: change.urgency_status_id,
                ticket_status: change.ticket_status.clone(),
                state: DeliveryState::Pending,
                attempts: 0,
                next_attempt_at: planned_notice.not_before,
                last_error: held,
                external_id: None,
                created_at: change.at,
                delivered_at: None,
                escalation_level: 0,
                ack_required,
                ack_salt: ack_required.then(new_salt),
                ack_token_hash: None,
                ack_expires_at: None,
                acknowledgment: None,
            }
        })
        .collect()
}

/// Leases due notifications to `owner`.
pub(crate) async fn claim(
    tx: &mut dyn Executor,
    channels: Vec<Channel>,
    owner: String,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Claimed>> {
    let (channels, owner) = (channels.as_slice(), owner.as_str());
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    let mut args: Vec<Value<'_>> = vec![now.into(), i64::from(limit).into()];
    args.extend(channels.iter().map(|c| Value::from(*c)));
    // The most urgent first (Exception, High, …); within an urgency, the
    // providers take turns (each one's oldest, then each one's next), so
    // that one provider's burst never queues another's news behind it.
    let sql = format!(
        "SELECT id FROM (
            SELECT id, urgency_status_id, next_attempt_at,
                   ROW_NUMBER() OVER (PARTITION BY provider_id, urgency_status_id
                       ORDER BY next_attempt_at, id) AS turn
            FROM notifications
            WHERE state = 'pending' AND next_attempt_at <= $1
              AND (lease_until IS NULL OR lease_until <= $1)
              AND channel IN ({})
         ) due
         ORDER BY urgency_status_id DESC, turn, next_attempt_at, id LIMIT $2",
        placeholders(3, channels.len()),
    );
    let mut ids: Vec<i64> = fetch_all(tx, &sql, &args, |row| row.get("id")).await?;
    let lock = tx.dialect().for_update_skip_locked();
    if !ids.is_empty() && !lock.is_empty() {
        // Another instance may be claiming the same ones: lock what is
        // still free, skipping what it holds, in the order chosen above.
        let mut args: Vec<Value<'_>> = vec![now.into()];
        args.extend(ids.iter().map(|id| Value::from(*id)));
        let sql = format!(
            "SELECT id FROM notifications
             WHERE id IN ({}) AND state = 'pending'
               AND (lease_until IS NULL OR lease_until <= $1){lock}",
            placeholders(2, ids.len())
        );
        let locked: Vec<i64> = fetch_all(tx, &sql, &args, |row| row.get("id")).await?;
        ids.retain(|id| locked.contains(id));
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let id_list = placeholders(3, ids.len());
    let mut args: Vec<Value<'_>> = vec![owner.into(), lease_until.into()];
    args.extend(ids.iter().map(|id| Value::from(*id)));
    execute(
        tx,
        &format!(
            "UPDATE notifications SET lease_owner = $1, lease_until = $2 WHERE id IN ({id_list})"
        ),
        &args,
    )
    .await?;
    let args: Vec<Value<'_>> = ids.iter().map(|id| Value::from(*id)).collect();
    let sql = format!(
        "SELECT n.*, p.name AS provider_name, p.time_zone AS provider_zone,
                r.first_name AS resident_first_name, r.last_name AS resident_last_name,
                pol.callback_phone AS callback_phone,
                pol.after_hours_phone AS after_hours_phone, pol.sms_template AS sms_template,
                pol.email_subject_template AS email_subject_template,
                pol.email_body_template AS email_body_template
         FROM notifications n
         JOIN providers p ON p.id = n.provider_id
         JOIN residents r ON r.id = n.resident_id
         LEFT JOIN notification_policies pol ON pol.provider_id = n.provider_id
         WHERE n.id IN ({})",
        placeholders(1, ids.len())
    );
    let mut claimed = fetch_all(tx, &sql, &args, |row| {
        let zone: String = row.get("provider_zone")?;
        Ok(Claimed {
            notification: rows::notification(row)?,
            provider_name: row.get("provider_name")?,
            resident_first_name: row.get("resident_first_name")?,
            resident_last_name: row.get("resident_last_name")?,
            callback_phone: row.get("callback_phone")?,
            after_hours_phone: row.get("after_hours_phone")?,
            provider_zone: zone.parse().unwrap_or(chrono_tz::UTC),
            templates: connecticket_domain::notify::templates::Templates {
                sms: row.get("sms_template")?,
                email_subject: row.get("email_subject_template")?,
                email_body: row.get("email_body_template")?,
            },
            ack_link: None,
        })
    })
    .await?;
    claimed.sort_by_key(|item| ids.iter().position(|id| *id == item.notification.id.get()));
    Ok(claimed)
}

pub(crate) async fn publish_ack_links(
    tx: &mut dyn Executor,
    owner: String,
    links: Vec<AckLinkRecord>,
) -> Result<()> {
    for link in links {
        // The first expiry stands: a retry never extends a link.
        execute(
            tx,
            "UPDATE notifications SET ack_token_hash = $2,
                 ack_expires_at = COALESCE(ack_expires_at, $3)
             WHERE id = $1 AND lease_owner = $4 AND state = 'pending'",
            &[
                link.notification.into(),
                (&link.token_hash).into(),
                link.expires_at.into(),
                (&owner).into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Records an attempt if `attempt.owner` still holds the lease; the audit
/// entry is appended either way (the attempt happened).
pub(crate) async fn record_attempt(
    tx: &mut dyn Executor,
    attempt: Attempt,
    audit_entry: AuditEntry,
) -> Result<bool> {
    let sql = format!(
        "SELECT provider_id, ticket_id, resident_id, role FROM notifications
         WHERE id = $1 AND lease_owner = $2 AND state = 'pending'{}",
        tx.dialect().for_update()
    );
    let held = fetch_optional(
        tx,
        &sql,
        &[attempt.notification.into(), (&attempt.owner).into()],
        |row| {
            Ok((
                row.get::<ProviderId>("provider_id")?,
                row.get::<TicketId>("ticket_id")?,
                row.get::<ResidentId>("resident_id")?,
                row.get::<connecticket_domain::model::RecipientRole>("role")?,
            ))
        },
    )
    .await?;
    audit::append(tx, vec![audit_entry]).await?;
    let Some((provider, ticket, resident, role)) = held else {
        return Ok(false);
    };
    let told = |kind| {
        NewEvent::ticket(provider, kind, ticket, resident, attempt.at)
            .with_notification(attempt.notification)
    };
    let id: Value<'_> = attempt.notification.into();
    if let Some((token_hash, expires_at)) = &attempt.ack_link {
        // The first attempt's expiry stands: a retry never extends a link.
        execute(
            tx,
            "UPDATE notifications SET ack_token_hash = $2,
                 ack_expires_at = COALESCE(ack_expires_at, $3)
             WHERE id = $1",
            &[id.clone(), token_hash.into(), (*expires_at).into()],
        )
        .await?;
    }
    match &attempt.result {
        AttemptResult::Delivered { external_id } => {
            execute(
                tx,
                "UPDATE notifications
                 SET state = 'delivered', attempts = attempts + 1, external_id = $2,
                     delivered_at = $3, last_error = NULL, lease_owner = NULL, lease_until = NULL
                 WHERE id = $1",
                &[id, external_id.into(), attempt.at.into()],
            )
            .await?;
            if let Some(field) = sent_field(&role) {
                let sql = format!(
                    "UPDATE tickets SET {field} = $2, updated_at = {}(updated_at, $3), version = version + 1
                     WHERE id = $1",
                    tx.dialect().greatest()
                );
                execute(tx, &sql, &[ticket.into(), true.into(), attempt.at.into()]).await?;
            }
            events::record(tx, told(EventKind::NotificationDelivered)).await?;
        }
        AttemptResult::Retry { reason, next_at } => {
            execute(
                tx,
                "UPDATE notifications
                 SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3,
                     lease_owner = NULL, lease_until = NULL
                 WHERE id = $1",
                &[id, reason.into(), (*next_at).into()],
            )
            .await?;
        }
        AttemptResult::Failed { reason } => {
            execute(
                tx,
                "UPDATE notifications
                 SET state = 'failed', attempts = attempts + 1, last_error = $2,
                     lease_owner = NULL, lease_until = NULL
                 WHERE id = $1",
                &[id, reason.into()],
            )
            .await?;
            events::record(tx, told(EventKind::NotificationFailed)).await?;
        }
    }
    Ok(true)
}

pub(crate) async fn release_claims(tx: &mut dyn Executor, owner: String) -> Result<u64> {
    let owner = owner.as_str();
    execute(
        tx,
        "UPDATE notifications SET lease_owner = NULL, lease_until = NULL
         WHERE lease_owner = $1 AND state = 'pending'",
        &[owner.into()],
    )
    .await
}

pub(crate) async fn hold(tx: &mut dyn Executor, channel: Channel, reason: String) -> Result<u64> {
    let reason = reason.as_str();
    execute(
        tx,
        "UPDATE notifications SET last_error = $2
         WHERE state = 'pending' AND channel = $1 AND (last_error IS NULL OR last_error <> $2)",
        &[channel.into(), reason.into()],
    )
    .await
}

pub(crate) async fn list(
    tx: &mut dyn Executor,
    filter: NotificationFilter,
) -> Result<Vec<Notification>> {
    let filter = &filter;
    let mut conditions = Vec::new();
    let mut args: Vec<Value<'_>> = Vec::new();
    if let Some(provider) = filter.provider {
        args.push(provider.into());
        conditions.push(format!("provider_id = ${}", args.len()));
    }
    if let Some(ticket) = filter.ticket {
        args.push(ticket.into());
        conditions.push(format!("ticket_id = ${}", args.len()));
    }
    if let Some(state) = filter.state {
        args.push(state.into());
        conditions.push(format!("state = ${}", args.len()));
    }
    args.push(i64::from(filter.limit.max(1)).into());
    let limit = args.len();
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!("SELECT * FROM notifications {filter} ORDER BY id DESC LIMIT ${limit}");
    fetch_all(tx, &sql, &args, rows::notification).await
}

/// A ticket's notifications, oldest first (the ticket's provider checked
/// by the caller's query).
pub(crate) async fn of_ticket(
    tx: &mut dyn Executor,
    provider: ProviderId,
    ticket: TicketId,
) -> Result<Vec<Notification>> {
    fetch_all(
        tx,
        "SELECT * FROM notifications WHERE ticket_id = $1 AND provider_id = $2 ORDER BY id",
        &[ticket.into(), provider.into()],
        rows::notification,
    )
    .await
}

pub(crate) async fn retry(
    tx: &mut dyn Executor,
    id: NotificationId,
    provider: Option<ProviderId>,
    now: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<Notification> {
    if let Some(provider) = provider {
        require_owned(
            tx,
            "notifications",
            id.get(),
            provider,
            Entity::Notification,
        )
        .await?;
    }
    execute(
        tx,
        "UPDATE notifications
         SET state = 'pending', attempts = 0, next_attempt_at = $2, last_error = NULL,
             lease_owner = NULL, lease_until = NULL
         WHERE id = $1 AND state IN ('pending', 'failed')",
        &[id.into(), now.into()],
    )
    .await?;
    let notification = fetch_optional(
        tx,
        "SELECT * FROM notifications WHERE id = $1",
        &[id.into()],
        rows::notification,
    )
    .await?
    .ok_or(StoreError::NotFound(Entity::Notification))?;
    let mut entry = audit_entry;
    entry.provider_id = Some(notification.provider_id);
    entry.touch(RecordRef::Notification(notification.id));
    entry.touch(RecordRef::Ticket(notification.ticket_id));
    super::audit::append(tx, vec![entry]).await?;
    Ok(notification)
}

/// A gateway's report about the SMS it accepted as `external_id`.
/// Notes a gateway callback (`kind`, the gateway's MessageSid) as handled;
/// false when it was already: a replay or the gateway's own retry, which
/// must change nothing. Callbacks older than a week (longer than any
/// gateway retries) are forgotten.
pub(crate) async fn first_callback(
    tx: &mut dyn Executor,
    kind: &str,
    message_sid: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    execute(
        tx,
        "DELETE FROM gateway_callbacks WHERE received_at < $1",
        &[(now - chrono::Duration::days(7)).into()],
    )
    .await?;
    let inserted = execute(
        tx,
        "INSERT INTO gateway_callbacks (kind, message_sid, received_at) VALUES ($1, $2, $3)
         ON CONFLICT (kind, message_sid) DO NOTHING",
        &[kind.into(), message_sid.into(), now.into()],
    )
    .await?;
    Ok(inserted == 1)
}

/// Applies a gateway's status report, once per (status, message), and
/// only forward: a message reported delivered stays delivered, whatever
/// report comes after.
pub(crate) async fn gateway_status(
    tx: &mut dyn Executor,
    external_id: String,
    reported: ReportedStatus,
    at: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<()> {
    let (external_id, reported) = (external_id.as_str(), &reported);
    let mut entry = audit_entry;
    let found = fetch_optional(
        tx,
        "SELECT id, provider_id, ticket_id, resident_id FROM notifications
         WHERE channel = 'sms' AND external_id = $1",
        &[external_id.into()],
        |row| {
            Ok((
                row.get::<NotificationId>("id")?,
                row.get::<ProviderId>("provider_id")?,
                row.get::<TicketId>("ticket_id")?,
                row.get::<ResidentId>("resident_id")?,
            ))
        },
    )
    .await?;
    let Some((id, provider, ticket, resident)) = found else {
        entry.outcome = connecticket_domain::audit::Outcome::NotFound;
        return audit::append(tx, vec![entry]).await;
    };
    entry.provider_id = Some(provider);
    entry.touch(RecordRef::Notification(id));
    entry.touch(RecordRef::Ticket(ticket));
    entry.touch(RecordRef::Resident(resident));
    let kind = match reported {
        ReportedStatus::Delivered => "status:delivered",
        ReportedStatus::Undelivered(_) => "status:undelivered",
        ReportedStatus::InTransit => "status:in_transit",
    };
    if !first_callback(tx, kind, external_id, at).await? {
        entry.outcome = connecticket_domain::audit::Outcome::Replayed;
        return audit::append(tx, vec![entry]).await;
    }
    match reported {
        ReportedStatus::Delivered => {
            execute(
                tx,
                "UPDATE notifications SET delivered_at = COALESCE(delivered_at, $2) WHERE id = $1",
                &[id.into(), at.into()],
            )
            .await?;
        }
        ReportedStatus::Undelivered(reason) => {
            // Never after the handset's delivery was reported.
            let failed = execute(
                tx,
                "UPDATE notifications SET state = 'failed', last_error = $2,
                     lease_owner = NULL, lease_until = NULL
                 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM gateway_callbacks
                     WHERE kind = 'status:delivered' AND message_sid = $3)",
                &[id.into(), reason.into(), external_id.into()],
            )
            .await?;
            if failed > 0 {
                let kind = EventKind::NotificationFailed;
                let event = NewEvent::ticket(provider, kind, ticket, resident, at);
                events::record(tx, event.with_notification(id)).await?;
            }
        }
        ReportedStatus::InTransit => {}
    }
    audit::append(tx, vec![entry]).await
}
