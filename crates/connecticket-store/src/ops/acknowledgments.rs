//! Acknowledgments (by link, SMS reply or staff), the staff's list of
//! notifications, and the history a report is made of.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::{AuditEntry, RecordRef};
use connecticket_domain::events::{EventKind, NewEvent};
use connecticket_domain::model::{ContactId, ProviderId, ResidentId};
use connecticket_domain::notify::{AckRefusal, AckVia, EscalationState, NoticeFilter};
use connecticket_domain::store::{
    AckBy, AckTarget, NoticeQuery, NotificationHistory, SmsCorrespondent,
};
use connecticket_domain::{Entity, StoreError};

use super::{audit, escalations};
use crate::engine::Executor;
use crate::rows;
use crate::sql::{execute, fetch_all, fetch_one, fetch_optional, Result};
use crate::value::{Row, Value};

/// A notification with what its page says, joined once.
const TARGET: &str = "SELECT n.*, p.name AS provider_name, p.time_zone AS provider_zone,
        r.first_name AS resident_first_name, r.last_name AS resident_last_name,
        np.callback_phone AS callback_phone, np.after_hours_phone AS after_hours_phone
    FROM notifications n
    JOIN providers p ON p.id = n.provider_id
    JOIN residents r ON r.id = n.resident_id
    LEFT JOIN notification_policies np ON np.provider_id = n.provider_id";

/// Its ticket still waits for an answer.
const OPEN_ESCALATION: &str = "EXISTS (SELECT 1 FROM escalations e
    WHERE e.ticket_id = n.ticket_id AND e.state IN ('active', 'exhausted'))";

fn target(row: &dyn Row) -> Result<AckTarget> {
    let zone: String = row.get("provider_zone")?;
    Ok(AckTarget {
        notification: rows::notification(row)?,
        provider_name: row.get("provider_name")?,
        provider_zone: zone.parse().unwrap_or(chrono_tz::UTC),
        resident_first_name: row.get("resident_first_name")?,
        resident_last_name: row.get("resident_last_name")?,
        callback_phone: row.get("callback_phone")?,
        after_hours_phone: row.get("after_hours_phone")?,
    })
}

/// Why a link's notification cannot be acknowledged through it, if so.
fn refusal(found: &Option<AckTarget>, now: DateTime<Utc>) -> Option<AckRefusal> {
    match found {
        None => Some(AckRefusal::Unknown),
        Some(t) if t.notification.acknowledgment.is_some() => t
            .notification
            .acknowledgment
            .as_ref()
            .map(|ack| AckRefusal::Used {
                at: ack.at,
                zone: t.provider_zone,
            }),
        Some(t) if t.notification.ack_expires_at.is_none_or(|at| at <= now) => {
            Some(AckRefusal::Expired)
        }
        Some(_) => None,
    }
}

/// The notification of a link's token, if it may still be acknowledged;
/// `lock` for the change that will.
/// The notification an acknowledgment link points to, for its page.
pub(crate) async fn link_target(
    tx: &mut dyn Executor,
    token_hash: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<std::result::Result<AckTarget, AckRefusal>> {
    ack_target(tx, &token_hash, now, false).await
}

pub(crate) async fn ack_target(
    tx: &mut dyn Executor,
    token_hash: &[u8],
    now: DateTime<Utc>,
    lock: bool,
) -> Result<std::result::Result<AckTarget, AckRefusal>> {
    let lock = if lock {
        tx.dialect().for_update_of("n")
    } else {
        String::new()
    };
    let sql = format!("{TARGET} WHERE n.ack_token_hash = $1{lock}");
    let found = fetch_optional(tx, &sql, &[token_hash.into()], target).await?;
    Ok(checked(found, now))
}

fn checked(
    found: Option<AckTarget>,
    now: DateTime<Utc>,
) -> std::result::Result<AckTarget, AckRefusal> {
    match (refusal(&found, now), found) {
        (None, Some(found)) => Ok(found),
        (Some(refused), _) => Err(refused),
        (None, None) => Err(AckRefusal::Unknown),
    }
}

/// Finds what `by` acknowledges, locked for the change.
async fn find(
    tx: &mut dyn Executor,
    by: &AckBy,
    now: DateTime<Utc>,
) -> Result<std::result::Result<AckTarget, AckRefusal>> {
    let lock = tx.dialect().for_update_of("n");
    match by {
        AckBy::Link { token_hash } => ack_target(tx, token_hash, now, true).await,
        AckBy::SmsReply { phone, .. } => {
            // The oldest notification to this number whose ticket still
            // waits for an answer and whose link has not expired.
            let sql = format!(
                "{TARGET} WHERE n.channel = 'sms' AND n.address = $1 AND n.ack_required
                   AND n.acknowledged_at IS NULL AND n.state = 'delivered'
                   AND n.ack_expires_at > $2 AND {OPEN_ESCALATION}
                 ORDER BY n.id LIMIT 1{lock}"
            );
            let found =
                fetch_optional(tx, &sql, &[phone.as_str().into(), now.into()], target).await?;
            Ok(found.ok_or(AckRefusal::Unknown))
        }
        AckBy::Staff {
            provider,
            notification,
            ..
        } => {
            let sql = format!("{TARGET} WHERE n.id = $1 AND n.provider_id = $2{lock}");
            let found = fetch_optional(
                tx,
                &sql,
                &[(*notification).into(), (*provider).into()],
                target,
            )
            .await?
            .ok_or(StoreError::NotFound(Entity::Notification))?;
            if let Some(ack) = &found.notification.acknowledgment {
                return Ok(Err(AckRefusal::Used {
                    at: ack.at,
                    zone: found.provider_zone,
                }));
            }
            Ok(Ok(found))
        }
    }
}

pub(crate) async fn acknowledge(
    tx: &mut dyn Executor,
    by: AckBy,
    now: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<std::result::Result<AckTarget, AckRefusal>> {
    // A gateway's message is acted on once, whatever comes of it.
    if let AckBy::SmsReply {
        message_sid: Some(sid),
        ..
    } = &by
    {
        if !super::notifications::first_callback(tx, "reply", sid, now).await? {
            return Ok(Err(AckRefusal::Repeated));
        }
    }
    // A refusal changes nothing else and appends nothing: the caller
    // records it.
    let mut found = match find(tx, &by, now).await? {
        Ok(found) => found,
        Err(refused) => return Ok(Err(refused)),
    };
    let mut entry = audit_entry;
    let (via, by_employee, note) = match by {
        AckBy::Link { .. } => (AckVia::Link, None, None),
        AckBy::SmsReply { .. } => (AckVia::Sms, None, None),
        AckBy::Staff { employee, note, .. } => (AckVia::Staff, Some(employee), Some(note)),
    };
    let n = &found.notification;
    execute(
        tx,
        "UPDATE notifications
         SET acknowledged_at = $2, acknowledged_via = $3, acknowledged_by = $4, ack_note = $5
         WHERE id = $1",
        &[
            n.id.into(),
            now.into(),
            Some(via).into(),
            by_employee.into(),
            note.as_deref().into(),
        ],
    )
    .await?;
    escalations::end(tx, n.ticket_id, EscalationState::Acknowledged, now).await?;
    let kind = EventKind::NotificationAcknowledged;
    let event = NewEvent::ticket(n.provider_id, kind, n.ticket_id, n.resident_id, now);
    super::events::record(tx, event.with_notification(n.id)).await?;
    entry.provider_id = Some(n.provider_id);
    entry.touch(RecordRef::Notification(n.id));
    entry.touch(RecordRef::Ticket(n.ticket_id));
    entry.touch(RecordRef::Resident(n.resident_id));
    entry.records.insert(format!("via:{}", via.as_str()));
    metrics::counter!("connecticket_acknowledgments_total", "via" => via.as_str()).increment(1);
    audit::append(tx, vec![entry]).await?;
    found.notification.acknowledgment = Some(connecticket_domain::notify::Acknowledgment {
        at: now,
        via,
        by: by_employee,
        note,
    });
    Ok(Ok(found))
}

pub(crate) async fn notices(
    tx: &mut dyn Executor,
    query: NoticeQuery,
    now: DateTime<Utc>,
) -> Result<Vec<connecticket_domain::notify::Notification>> {
    let query = &query;
    let mut args: Vec<Value<'_>> = vec![query.provider.into()];
    let mut conditions = vec!["n.provider_id = $1".to_owned()];
    if let Some(ticket) = query.ticket {
        args.push(ticket.into());
        conditions.push(format!("n.ticket_id = ${}", args.len()));
    }
    if let Some(after) = query.page.after_id {
        args.push(after.into());
        conditions.push(format!("n.id > ${}", args.len()));
    }
    let waiting = format!("n.ack_required AND n.acknowledged_at IS NULL AND {OPEN_ESCALATION}");
    match query.filter {
        None => {}
        Some(NoticeFilter::State(state)) => {
            args.push(state.into());
            conditions.push(format!("n.state = ${}", args.len()));
        }
        Some(NoticeFilter::Unacknowledged) => conditions.push(waiting),
        Some(NoticeFilter::Overdue) => {
            args.push(now.into());
            conditions.push(format!(
                "{waiting} AND EXISTS (SELECT 1 FROM escalations o WHERE o.ticket_id = n.ticket_id
                   AND (o.level >= 1 OR o.next_at <= ${}))",
                args.len()
            ));
        }
    }
    args.push(i64::from(query.page.per_page).into());
    let limit = args.len();
    args.push(query.page.offset().into());
    let offset = args.len();
    let sql = format!(
        "SELECT n.* FROM notifications n WHERE {} ORDER BY n.id LIMIT ${limit} OFFSET ${offset}",
        conditions.join(" AND ")
    );
    fetch_all(tx, &sql, &args, rows::notification).await
}

pub(crate) async fn history(
    tx: &mut dyn Executor,
    provider: ProviderId,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<NotificationHistory> {
    let range = [provider.into(), since.into(), until.into()];
    let tickets = "SELECT DISTINCT ticket_id FROM notifications
                   WHERE provider_id = $1 AND created_at >= $2 AND created_at < $3";
    let notifications = fetch_all(
        tx,
        "SELECT * FROM notifications
         WHERE provider_id = $1 AND created_at >= $2 AND created_at < $3
         ORDER BY ticket_id, id",
        &range,
        rows::notification,
    )
    .await?;
    let escalations = fetch_all(
        tx,
        &format!(
            "SELECT * FROM escalations WHERE provider_id = $1 AND ticket_id IN ({tickets})
             ORDER BY ticket_id"
        ),
        &range,
        rows::escalation,
    )
    .await?;
    let steps = fetch_all(
        tx,
        &format!(
            "SELECT * FROM escalation_steps WHERE provider_id = $1 AND ticket_id IN ({tickets})
             ORDER BY ticket_id, level, id"
        ),
        &range,
        rows::escalation_step,
    )
    .await?;
    Ok(NotificationHistory {
        notifications,
        escalations,
        steps,
    })
}

/// Notifications to a number that still wait for its answer (as an SMS
/// reply finds them).
const AWAITING_REPLY: &str = "n.channel = 'sms' AND n.address = $1 AND n.ack_required
    AND n.acknowledged_at IS NULL AND n.state = 'delivered' AND n.ack_expires_at > $2";

pub(crate) async fn sms_correspondent(
    tx: &mut dyn Executor,
    phone: String,
    now: DateTime<Utc>,
) -> Result<Option<SmsCorrespondent>> {
    let phone = phone.as_str();
    let newest = fetch_optional(
        tx,
        "SELECT n.provider_id, p.name AS provider_name, np.callback_phone
         FROM notifications n
         JOIN providers p ON p.id = n.provider_id
         LEFT JOIN notification_policies np ON np.provider_id = n.provider_id
         WHERE n.channel = 'sms' AND n.address = $1
         ORDER BY n.id DESC LIMIT 1",
        &[phone.into()],
        |row| {
            Ok((
                row.get::<ProviderId>("provider_id")?,
                row.get::<String>("provider_name")?,
                row.get::<Option<String>>("callback_phone")?,
            ))
        },
    )
    .await?;
    let Some((provider_id, provider_name, callback_phone)) = newest else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT COUNT(*) AS awaiting FROM notifications n
         WHERE {AWAITING_REPLY} AND n.provider_id = $3 AND {OPEN_ESCALATION}"
    );
    let awaiting: i64 = fetch_one(
        tx,
        &sql,
        &[phone.into(), now.into(), provider_id.into()],
        |row| row.get("awaiting"),
    )
    .await?;
    Ok(Some(SmsCorrespondent {
        provider_id,
        provider_name,
        callback_phone,
        awaiting: u64::try_from(awaiting).unwrap_or(0),
    }))
}

pub(crate) async fn set_sms_consent(
    tx: &mut dyn Executor,
    provider: ProviderId,
    phone: String,
    consent: bool,
    audit_entry: AuditEntry,
) -> Result<u64> {
    let phone = phone.as_str();
    let changed = fetch_all(
        tx,
        "UPDATE contacts SET sms_consent = $3 WHERE provider_id = $1 AND phone = $2
         RETURNING id, resident_id",
        &[provider.into(), phone.into(), consent.into()],
        |row| {
            Ok((
                row.get::<ContactId>("id")?,
                row.get::<ResidentId>("resident_id")?,
            ))
        },
    )
    .await?;
    // A contact's consent is part of its resident's record.
    let mut residents: Vec<ResidentId> = changed.iter().map(|(_, resident)| *resident).collect();
    residents.sort();
    residents.dedup();
    for resident in residents {
        let kind = EventKind::ResidentUpdated;
        let event = NewEvent::resident(provider, kind, resident, audit_entry.at);
        super::events::record(tx, event).await?;
    }
    if !consent {
        execute(
            tx,
            "UPDATE notifications SET state = 'cancelled', last_error = $3
             WHERE provider_id = $1 AND channel = 'sms' AND address = $2 AND state = 'pending'",
            &[
                provider.into(),
                phone.into(),
                "cancelled: the recipient replied STOP".into(),
            ],
        )
        .await?;
    }
    audit::record(
        tx,
        audit_entry,
        changed.iter().map(|(id, _)| RecordRef::Contact(*id)),
    )
    .await?;
    Ok(changed.len() as u64)
}
