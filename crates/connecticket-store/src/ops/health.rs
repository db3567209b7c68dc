//! What `/readyz` and `/metrics` ask of the data.

use connecticket_domain::notify::DeliveryState;
use connecticket_domain::store::NotificationCounts;

use crate::engine::Executor;
use crate::sql::{fetch_all, fetch_one, Result};

/// Notifications by delivery state, and escalations still open.
pub(crate) async fn notification_counts(tx: &mut dyn Executor) -> Result<NotificationCounts> {
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
}
