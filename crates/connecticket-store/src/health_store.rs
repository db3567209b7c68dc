//! [`HealthStore`] over any engine: what `/readyz` and `/metrics` ask.

use async_trait::async_trait;
use connecticket_domain::notify::DeliveryState;
use connecticket_domain::store::{HealthStore, NotificationCounts, SchemaStatus, StoreLoad};
use connecticket_domain::StoreError;

use crate::engine::Engine;
use crate::sql::{fetch_all, fetch_one};
use crate::store::SqlStore;

type Result<T> = std::result::Result<T, StoreError>;

#[async_trait]
impl<E: Engine> HealthStore for SqlStore<E> {
    async fn schema_status(&self) -> Result<SchemaStatus> {
        let expected = self.engine.known_schema_version();
        let current = self
            .engine
            .read_statement(|tx| {
                Box::pin(async move {
                    let sql = tx.dialect().schema_version_sql();
                    fetch_one(tx, sql, &[], |row| row.get::<i64>("version")).await
                })
            })
            .await?;
        Ok(SchemaStatus { current, expected })
    }

    fn load(&self) -> StoreLoad {
        self.engine.load()
    }

    async fn notification_counts(&self) -> Result<NotificationCounts> {
        self.engine
            .read(|tx| {
                Box::pin(async move {
                    let by_state = fetch_all(
                        tx,
                        "SELECT state, COUNT(*) AS n FROM notifications GROUP BY state ORDER BY state",
                        &[],
                        |row| Ok((row.get::<DeliveryState>("state")?, row.get::<i64>("n")?)),
                    )
                    .await?;
                    let open_escalations = fetch_one(
                        tx,
                        "SELECT COUNT(*) AS n FROM escalations WHERE state IN ('active', 'exhausted')",
                        &[],
                        |row| row.get::<i64>("n"),
                    )
                    .await?;
                    Ok(NotificationCounts {
                        by_state,
                        open_escalations,
                    })
                })
            })
            .await
    }

    async fn close(&self) {
        self.engine.close().await
    }
}
