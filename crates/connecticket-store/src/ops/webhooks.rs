//! Webhook endpoints and their delivery queue. An endpoint is leased as a
//! whole, so its deliveries go one at a time and in order, and a slow
//! receiver holds only its own queue.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::AuditEntry;
use connecticket_domain::events::webhooks::{
    NewWebhook, ReplayRange, Webhook, WebhookAttempt, WebhookBatch, WebhookOutcome,
    WebhookRecorded, GIVE_UP_AFTER,
};
use connecticket_domain::model::{ApplicationId, EventId, ProviderId, WebhookId};
use connecticket_domain::{Entity, StoreError};

use super::audit;
use super::events::{event, insert_delivery};
use crate::engine::Executor;
use crate::sql::{
    execute, fetch_all, fetch_optional, insert_returning_id, placeholders, Columns, Result,
};
use crate::value::{Row, Value};

/// An endpoint with what waits for it.
const SELECT_WEBHOOK: &str = "SELECT w.*,
        (SELECT COUNT(*) FROM webhook_deliveries d
         WHERE d.endpoint_id = w.id AND d.state = 'pending') AS pending,
        (SELECT MIN(e.occurred_at) FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
         WHERE d.endpoint_id = w.id AND d.state = 'pending') AS oldest_pending_at
     FROM webhook_endpoints w";

fn webhook(row: &dyn Row) -> Result<Webhook> {
    let previous_salt: Option<Vec<u8>> = row.get("previous_salt")?;
    let previous_until: Option<DateTime<Utc>> = row.get("previous_until")?;
    Ok(Webhook {
        id: row.get("id")?,
        provider_id: row.get("provider_id")?,
        application_id: row.get("application_id")?,
        url: row.get("url")?,
        event_types: Webhook::parse_event_types(&row.get::<String>("event_types")?),
        secret_salt: row.get("secret_salt")?,
        previous_salt: previous_salt.zip(previous_until),
        created_at: row.get("created_at")?,
        failing_since: row.get("failing_since")?,
        last_error: row.get("last_error")?,
        next_attempt_at: row.get("next_attempt_at")?,
        disabled_at: row.get("disabled_at")?,
        pending: row.get::<i64>("pending")?.max(0) as u64,
        oldest_pending_at: row.get("oldest_pending_at")?,
    })
}

fn naming(mut entry: AuditEntry, id: WebhookId) -> AuditEntry {
    entry.records.insert(format!("webhook:{id}"));
    entry
}

async fn one(tx: &mut dyn Executor, provider: ProviderId, id: WebhookId) -> Result<Webhook> {
    fetch_optional(
        tx,
        &format!(
            "{SELECT_WEBHOOK} WHERE w.id = $1 AND w.provider_id = $2 AND w.deleted_at IS NULL"
        ),
        &[id.into(), provider.into()],
        webhook,
    )
    .await?
    .ok_or(StoreError::NotFound(Entity::Webhook))
}

pub(crate) async fn create(
    tx: &mut dyn Executor,
    new: NewWebhook,
    audit_entry: AuditEntry,
) -> Result<Webhook> {
    let columns = Columns::new()
        .with("provider_id", new.provider_id)
        .with("application_id", new.application_id)
        .with("url", new.url.as_str())
        .with("event_types", Webhook::event_types_text(&new.event_types))
        .with("secret_salt", &new.secret_salt)
        .with("created_at", new.at)
        .with("next_attempt_at", new.at);
    let id = WebhookId(insert_returning_id(tx, "webhook_endpoints", columns).await?);
    audit::record(tx, naming(audit_entry, id), []).await?;
    one(tx, new.provider_id, id).await
}

/// The provider's live endpoints (of one application when given), by id.
pub(crate) async fn list(
    tx: &mut dyn Executor,
    provider: ProviderId,
    application: Option<ApplicationId>,
) -> Result<Vec<Webhook>> {
    fetch_all(
        tx,
        &format!(
            "{SELECT_WEBHOOK} WHERE w.provider_id = $1 AND w.deleted_at IS NULL
               AND ($2 IS NULL OR w.application_id = $2) ORDER BY w.id"
        ),
        &[provider.into(), application.into()],
        webhook,
    )
    .await
}

/// Removes an endpoint and what still waits for it.
pub(crate) async fn delete(
    tx: &mut dyn Executor,
    provider: ProviderId,
    application: Option<ApplicationId>,
    id: WebhookId,
    at: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<()> {
    let found = one(tx, provider, id).await?;
    if application.is_some_and(|app| app != found.application_id) {
        return Err(StoreError::NotFound(Entity::Webhook));
    }
    execute(
        tx,
        "UPDATE webhook_endpoints SET deleted_at = $2, lease_owner = NULL, lease_until = NULL
         WHERE id = $1",
        &[id.into(), at.into()],
    )
    .await?;
    execute(
        tx,
        "DELETE FROM webhook_deliveries WHERE endpoint_id = $1 AND state = 'pending'",
        &[id.into()],
    )
    .await?;
    audit::record(tx, naming(audit_entry, id), []).await
}

/// A new secret; the previous one keeps signing until `previous_until`.
pub(crate) async fn rotate(
    tx: &mut dyn Executor,
    provider: ProviderId,
    application: Option<ApplicationId>,
    id: WebhookId,
    salt: Vec<u8>,
    previous_until: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<Webhook> {
    let found = one(tx, provider, id).await?;
    if application.is_some_and(|app| app != found.application_id) {
        return Err(StoreError::NotFound(Entity::Webhook));
    }
    execute(
        tx,
        "UPDATE webhook_endpoints
         SET previous_salt = secret_salt, previous_until = $2, secret_salt = $3
         WHERE id = $1",
        &[id.into(), previous_until.into(), (&salt).into()],
    )
    .await?;
    audit::record(tx, naming(audit_entry, id), []).await?;
    one(tx, provider, id).await
}

/// Queues again the provider's events with cursors in `[from, through]`
/// that the endpoint wants (delivered ones too), re-enabling it; answers
/// how many.
pub(crate) async fn replay(
    tx: &mut dyn Executor,
    provider: ProviderId,
    application: Option<ApplicationId>,
    id: WebhookId,
    range: ReplayRange,
    now: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<u64> {
    let found = one(tx, provider, id).await?;
    if application.is_some_and(|app| app != found.application_id) {
        return Err(StoreError::NotFound(Entity::Webhook));
    }
    let (within, args): (&str, Vec<Value<'_>>) = match range {
        ReplayRange::Cursors { from, through } => (
            "e.id >= $3 AND e.id <= $4 AND e.id <= (SELECT last_cursor FROM event_log WHERE id = 1)",
            vec![provider.into(), id.into(), from.into(), through.into()],
        ),
        ReplayRange::Since(since) => (
            "e.id <= (SELECT last_cursor FROM event_log WHERE id = 1) AND e.occurred_at >= $3",
            vec![provider.into(), id.into(), since.into()],
        ),
    };
    let events: Vec<(EventId, String, Option<String>)> = fetch_all(
        tx,
        &format!(
            "SELECT e.id, e.kind, d.state FROM events e
             LEFT JOIN webhook_deliveries d ON d.event_id = e.id AND d.endpoint_id = $2
             WHERE e.provider_id = $1 AND {within} ORDER BY e.id"
        ),
        &args,
        |row| Ok((row.get("id")?, row.get("kind")?, row.get("state")?)),
    )
    .await?;
    let mut queued = 0u64;
    for (event_id, kind, state) in events {
        let wanted = connecticket_domain::events::EventKind::parse(&kind)
            .is_some_and(|kind| found.wants(kind));
        if !wanted {
            continue;
        }
        match state.as_deref() {
            None => insert_delivery(tx, id.get(), event_id, now).await?,
            Some("pending") => {}
            Some(_) => {
                execute(
                    tx,
                    "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, last_error = NULL
                     WHERE endpoint_id = $1 AND event_id = $2",
                    &[id.into(), event_id.into()],
                )
                .await?;
            }
        }
        queued += 1;
    }
    execute(
        tx,
        "UPDATE webhook_endpoints
         SET disabled_at = NULL, failing_since = NULL, last_error = NULL, next_attempt_at = $2
         WHERE id = $1",
        &[id.into(), now.into()],
    )
    .await?;
    let mut entry = naming(audit_entry, id);
    entry.records.insert(format!("events:{queued}"));
    audit::append(tx, vec![entry]).await?;
    Ok(queued)
}

/// Leases up to `limit` endpoints that have deliveries due, each with its
/// next `per_endpoint` pending deliveries in order. An endpoint another
/// dispatcher holds is skipped.
pub(crate) async fn claim(
    tx: &mut dyn Executor,
    owner: String,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
    per_endpoint: u32,
) -> Result<Vec<WebhookBatch>> {
    // A revoked application's endpoints are sent nothing more.
    let due = "w.deleted_at IS NULL AND w.disabled_at IS NULL AND w.next_attempt_at <= $1
               AND (w.lease_until IS NULL OR w.lease_until <= $1)
               AND w.application_id IN (SELECT id FROM applications WHERE revoked_at IS NULL)";
    let mut ids: Vec<WebhookId> = fetch_all(
        tx,
        &format!(
            "SELECT w.id FROM webhook_endpoints w WHERE {due}
               AND EXISTS (SELECT 1 FROM webhook_deliveries d
                           WHERE d.endpoint_id = w.id AND d.state = 'pending')
             ORDER BY w.next_attempt_at, w.id LIMIT $2"
        ),
        &[now.into(), i64::from(limit).into()],
        |row| row.get("id"),
    )
    .await?;
    let lock = tx.dialect().for_update_skip_locked();
    if !ids.is_empty() && !lock.is_empty() {
        let mut args: Vec<Value<'_>> = vec![now.into()];
        args.extend(ids.iter().map(|id| Value::from(*id)));
        let sql = format!(
            "SELECT w.id FROM webhook_endpoints w WHERE w.id IN ({}) AND {due}{lock}",
            placeholders(2, ids.len())
        );
        let locked: Vec<WebhookId> = fetch_all(tx, &sql, &args, |row| row.get("id")).await?;
        ids.retain(|id| locked.contains(id));
    }
    let mut batches = Vec::with_capacity(ids.len());
    for id in ids {
        execute(
            tx,
            "UPDATE webhook_endpoints SET lease_owner = $2, lease_until = $3 WHERE id = $1",
            &[id.into(), owner.as_str().into(), lease_until.into()],
        )
        .await?;
        let endpoint = fetch_optional(
            tx,
            &format!("{SELECT_WEBHOOK} WHERE w.id = $1"),
            &[id.into()],
            webhook,
        )
        .await?
        .ok_or(StoreError::NotFound(Entity::Webhook))?;
        let deliveries = fetch_all(
            tx,
            "SELECT d.id AS delivery_id, d.attempts AS delivery_attempts, e.*
             FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
             WHERE d.endpoint_id = $1 AND d.state = 'pending'
             ORDER BY e.id, d.id LIMIT $2",
            &[id.into(), i64::from(per_endpoint).into()],
            |row| {
                Ok((
                    row.get::<i64>("delivery_id")?,
                    row.get::<i64>("delivery_attempts")?,
                    event(row)?,
                ))
            },
        )
        .await?;
        batches.push(WebhookBatch {
            webhook: endpoint,
            deliveries,
        });
    }
    Ok(batches)
}

/// Records one delivery attempt if `owner` still holds the endpoint. A
/// failure schedules the endpoint's next attempt; one that has failed for
/// [`GIVE_UP_AFTER`] disables it with `disable_audit`.
pub(crate) async fn record_attempt(
    tx: &mut dyn Executor,
    attempt: WebhookAttempt,
    disable_audit: AuditEntry,
) -> Result<WebhookRecorded> {
    let lock = tx.dialect().for_update();
    let held: Option<Option<DateTime<Utc>>> = fetch_optional(
        tx,
        &format!(
            "SELECT failing_since FROM webhook_endpoints
             WHERE id = $1 AND lease_owner = $2 AND deleted_at IS NULL{lock}"
        ),
        &[attempt.endpoint.into(), attempt.owner.as_str().into()],
        |row| row.get("failing_since"),
    )
    .await?;
    let Some(failing_since) = held else {
        return Ok(WebhookRecorded::LeaseLost);
    };
    let at: Value<'_> = attempt.at.into();
    match attempt.outcome {
        WebhookOutcome::Delivered => {
            execute(
                tx,
                "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1,
                     delivered_at = $2, last_error = NULL
                 WHERE id = $1",
                &[attempt.delivery.into(), at.clone()],
            )
            .await?;
            execute(
                tx,
                "UPDATE webhook_endpoints SET failing_since = NULL, last_error = NULL
                 WHERE id = $1",
                &[attempt.endpoint.into()],
            )
            .await?;
            Ok(WebhookRecorded::Recorded)
        }
        WebhookOutcome::Failed { reason, retry_at } => {
            execute(
                tx,
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $2
                 WHERE id = $1",
                &[attempt.delivery.into(), reason.as_str().into()],
            )
            .await?;
            let since = failing_since.unwrap_or(attempt.at);
            let give_up = attempt.at - since >= GIVE_UP_AFTER;
            execute(
                tx,
                "UPDATE webhook_endpoints
                 SET failing_since = $2, last_error = $3, next_attempt_at = $4,
                     disabled_at = $5, lease_owner = NULL, lease_until = NULL
                 WHERE id = $1",
                &[
                    attempt.endpoint.into(),
                    since.into(),
                    reason.as_str().into(),
                    retry_at.into(),
                    give_up.then_some(attempt.at).into(),
                ],
            )
            .await?;
            if give_up {
                let mut entry = naming(disable_audit, attempt.endpoint);
                entry.records.insert("disabled".to_owned());
                audit::append(tx, vec![entry]).await?;
                return Ok(WebhookRecorded::Disabled);
            }
            Ok(WebhookRecorded::Recorded)
        }
    }
}

/// Gives back an endpoint `owner` holds, due again at `next_at`.
pub(crate) async fn release(
    tx: &mut dyn Executor,
    endpoint: WebhookId,
    owner: String,
) -> Result<()> {
    execute(
        tx,
        "UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL
         WHERE id = $1 AND lease_owner = $2",
        &[endpoint.into(), owner.as_str().into()],
    )
    .await?;
    Ok(())
}

pub(crate) async fn release_all(tx: &mut dyn Executor, owner: String) -> Result<u64> {
    execute(
        tx,
        "UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL
         WHERE lease_owner = $1",
        &[owner.as_str().into()],
    )
    .await
}

/// Deliveries waiting per live endpoint and the oldest one's age, for
/// `/metrics`.
pub(crate) async fn queue(tx: &mut dyn Executor) -> Result<Vec<Webhook>> {
    fetch_all(
        tx,
        &format!("{SELECT_WEBHOOK} WHERE w.deleted_at IS NULL ORDER BY w.id"),
        &[],
        webhook,
    )
    .await
}
