//! Board displays: granted with a pairing code, paired for a device token,
//! revoked by an administrator.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::AuditEntry;
use connecticket_domain::console::display::{BoardDisplay, DisplayId, NewDisplay};
use connecticket_domain::model::ProviderId;
use connecticket_domain::{Entity, StoreError};

use super::audit;
use crate::engine::Executor;
use crate::sql::{execute, fetch_all, fetch_optional, insert_returning_id, Columns, Result};
use crate::value::Row;

fn display(row: &dyn Row) -> Result<BoardDisplay> {
    Ok(BoardDisplay {
        id: DisplayId(row.get("id")?),
        provider_id: row.get("provider_id")?,
        name: row.get("name")?,
        granted_by: row.get("granted_by")?,
        granted_at: row.get("granted_at")?,
        pairing_expires_at: row.get("code_expires_at")?,
        paired_at: row.get("paired_at")?,
        last_seen_at: row.get("last_seen_at")?,
        revoked_at: row.get("revoked_at")?,
    })
}

/// Names the display in its entry: `display:ID`.
fn naming(mut entry: AuditEntry, id: DisplayId) -> AuditEntry {
    entry.records.insert(format!("display:{id}"));
    entry
}

pub(crate) async fn create(
    tx: &mut dyn Executor,
    new: NewDisplay,
    audit_entry: AuditEntry,
) -> Result<BoardDisplay> {
    let columns = Columns::new()
        .with("provider_id", new.provider_id)
        .with("name", new.name.as_str())
        .with("granted_by", new.granted_by)
        .with("granted_at", new.at)
        .with("code_hash", &new.code_hash)
        .with("code_expires_at", new.pairing_expires_at);
    let id = DisplayId(insert_returning_id(tx, "board_displays", columns).await?);
    audit::record(tx, naming(audit_entry, id), []).await?;
    Ok(BoardDisplay {
        id,
        provider_id: new.provider_id,
        name: new.name,
        granted_by: new.granted_by,
        granted_at: new.at,
        pairing_expires_at: Some(new.pairing_expires_at),
        paired_at: None,
        last_seen_at: None,
        revoked_at: None,
    })
}

pub(crate) async fn list(tx: &mut dyn Executor, provider: ProviderId) -> Result<Vec<BoardDisplay>> {
    fetch_all(
        tx,
        "SELECT * FROM board_displays WHERE provider_id = $1 ORDER BY id",
        &[provider.into()],
        display,
    )
    .await
}

pub(crate) async fn by_pairing_code(
    tx: &mut dyn Executor,
    code_hash: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<Option<BoardDisplay>> {
    fetch_optional(
        tx,
        "SELECT * FROM board_displays WHERE code_hash = $1 AND code_expires_at > $2
             AND paired_at IS NULL AND revoked_at IS NULL",
        &[(&code_hash).into(), now.into()],
        display,
    )
    .await
}

/// The code is spent in the same statement that checks it, so two screens
/// racing with one link pair one display, not two.
pub(crate) async fn pair(
    tx: &mut dyn Executor,
    id: DisplayId,
    code_hash: Vec<u8>,
    token_hash: Vec<u8>,
    at: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<bool> {
    let paired = execute(
        tx,
        "UPDATE board_displays
            SET token_hash = $3, code_hash = NULL, code_expires_at = NULL,
                paired_at = $4, last_seen_at = $4
          WHERE id = $1 AND code_hash = $2 AND code_expires_at > $4
            AND paired_at IS NULL AND revoked_at IS NULL",
        &[
            id.0.into(),
            (&code_hash).into(),
            (&token_hash).into(),
            at.into(),
        ],
    )
    .await?;
    if paired == 1 {
        audit::record(tx, naming(audit_entry, id), []).await?;
    }
    Ok(paired == 1)
}

pub(crate) async fn by_token(
    tx: &mut dyn Executor,
    token_hash: Vec<u8>,
) -> Result<Option<BoardDisplay>> {
    fetch_optional(
        tx,
        "SELECT * FROM board_displays WHERE token_hash = $1",
        &[(&token_hash).into()],
        display,
    )
    .await
}

/// Notes that the screen asked; written at most once a minute, since a
/// board refreshes itself every 30 seconds.
pub(crate) async fn touch(tx: &mut dyn Executor, id: DisplayId, at: DateTime<Utc>) -> Result<()> {
    execute(
        tx,
        "UPDATE board_displays SET last_seen_at = $2
          WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at <= $3)",
        &[
            id.0.into(),
            at.into(),
            (at - chrono::Duration::minutes(1)).into(),
        ],
    )
    .await
    .map(|_| ())
}

pub(crate) async fn revoke(
    tx: &mut dyn Executor,
    provider: ProviderId,
    id: DisplayId,
    at: DateTime<Utc>,
    audit_entry: AuditEntry,
) -> Result<BoardDisplay> {
    let revoked = execute(
        tx,
        "UPDATE board_displays
            SET revoked_at = COALESCE(revoked_at, $3), code_hash = NULL
          WHERE id = $1 AND provider_id = $2",
        &[id.0.into(), provider.into(), at.into()],
    )
    .await?;
    if revoked == 0 {
        return Err(StoreError::NotFound(Entity::Display));
    }
    audit::record(tx, naming(audit_entry, id), []).await?;
    fetch_optional(
        tx,
        "SELECT * FROM board_displays WHERE id = $1",
        &[id.0.into()],
        display,
    )
    .await?
    .ok_or(StoreError::NotFound(Entity::Display))
}
