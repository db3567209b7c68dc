//! `/readyz`: whether this instance can serve, and how its transports do.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::notify::{Channel, TransportHealth, TransportState};
use crate::service::Connecticket;
use crate::store::SchemaStatus;

/// The answer of a readiness check.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    /// The schema, once the database answered; why not otherwise.
    pub database: Result<SchemaStatus, String>,
    pub transports: BTreeMap<Channel, TransportState>,
}

impl Readiness {
    /// Ready: the database answers and its migrations are current. A
    /// failing transport does not take the instance out of service (the
    /// outbox keeps its messages); it is reported.
    pub fn is_ready(&self) -> bool {
        matches!(&self.database, Ok(status) if status.current == status.expected)
    }
}

impl Connecticket {
    /// Reports what the transports do (shared with the dispatcher).
    pub fn with_transport_health(mut self, health: Arc<TransportHealth>) -> Self {
        self.transports = Some(health);
        self
    }

    pub async fn readiness(&self) -> Readiness {
        let database = self
            .store
            .schema_status()
            .await
            .map_err(|error| error.to_string());
        let transports = self
            .transports
            .as_ref()
            .map(|health| health.snapshot())
            .unwrap_or_default();
        Readiness {
            database,
            transports,
        }
    }
}
