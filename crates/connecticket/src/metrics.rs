//! `/metrics`: the process's counters and histograms (recorded where
//! things happen, through the `metrics` facade), and gauges sampled from
//! the store at scrape time. Labels are route templates, methods,
//! statuses, channels and outcomes: never a token, an id or an address.

use std::sync::{Arc, OnceLock};

use connecticket_domain::store::Store;
use connecticket_http::MetricsSource;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Request latencies, from half a millisecond to ten seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Calls served by one write batch, from one alone to a full batch.
const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder, installed on first use (a process has one;
/// several in-process test servers share it).
fn handle() -> Option<PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".to_owned()),
                    &LATENCY_BUCKETS,
                )
                .ok()?
                .set_buckets_for_metric(
                    Matcher::Full("connecticket_db_batch_calls".to_owned()),
                    &BATCH_BUCKETS,
                )
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics are off: no recorder could be installed");
                    None
                }
            }
        })
        .clone()
}

pub struct ServerMetrics {
    store: Arc<dyn Store>,
    handle: PrometheusHandle,
}

impl ServerMetrics {
    pub fn install(store: Arc<dyn Store>) -> Option<Arc<Self>> {
        handle().map(|handle| Arc::new(ServerMetrics { store, handle }))
    }
}

#[async_trait::async_trait]
impl MetricsSource for ServerMetrics {
    async fn render(&self) -> String {
        let load = self.store.load();
        let busy = load.connections.saturating_sub(load.idle_connections);
        metrics::gauge!("connecticket_db_connections", "state" => "busy").set(busy as f64);
        metrics::gauge!("connecticket_db_connections", "state" => "idle")
            .set(load.idle_connections as f64);
        metrics::gauge!("connecticket_db_queued_writes").set(load.queued_writes as f64);
        match self.store.notification_counts().await {
            Ok(counts) => {
                for state in connecticket_domain::notify::DeliveryState::ALL {
                    let n = counts
                        .by_state
                        .iter()
                        .find(|(s, _)| *s == state)
                        .map_or(0, |(_, n)| *n);
                    metrics::gauge!("connecticket_notifications", "state" => state.as_str())
                        .set(n as f64);
                }
                metrics::gauge!("connecticket_escalations_open")
                    .set(counts.open_escalations as f64);
            }
            Err(error) => tracing::warn!(%error, "could not count notifications for /metrics"),
        }
        self.handle.render()
    }
}
