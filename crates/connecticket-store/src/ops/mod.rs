//! The store's operations, written once for both engines. Each function
//! runs inside the transaction its caller (an [`Engine`](crate::Engine)
//! job) opened.

pub(crate) mod acknowledgments;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod console;
pub(crate) mod contacts;
pub(crate) mod displays;
pub(crate) mod escalations;
pub(crate) mod events;
pub(crate) mod fhir;
pub(crate) mod health;
pub(crate) mod idempotency;
pub(crate) mod notifications;
pub(crate) mod operators;
pub(crate) mod ticket_detail;
pub(crate) mod ticket_reads;
pub(crate) mod ticket_writes;
pub(crate) mod transfer;
pub(crate) mod webhooks;

use connecticket_domain::model::ProviderId;
use connecticket_domain::{Entity, StoreError};

use crate::engine::Executor;
use crate::sql::{exists, Result};

/// `NotFound(entity)` unless `table` holds the id for the provider.
pub(crate) async fn require_owned(
    tx: &mut dyn Executor,
    table: &str,
    id: i64,
    provider: ProviderId,
    entity: Entity,
) -> Result<()> {
    let sql = format!("SELECT 1 FROM {table} WHERE id = $1 AND provider_id = $2");
    if exists(tx, &sql, &[id.into(), provider.into()]).await? {
        Ok(())
    } else {
        Err(StoreError::NotFound(entity))
    }
}
