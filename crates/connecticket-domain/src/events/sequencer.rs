//! Publishes settled events to the feed and removes those past retention.
//! Every instance runs one; the store makes them take turns, so running
//! several changes nothing but who does the work.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use crate::audit::{Action, AuditEntry, Outcome, RequestContext};
use crate::clock::SharedClock;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct SequencerOptions {
    /// How often to look for new events when the last look found none:
    /// an event reaches the feed and the webhook queue within about this.
    pub poll: StdDuration,
    /// Events published per transaction.
    pub batch: u32,
    /// Events older than this are removed (None: kept forever).
    pub retention: Option<chrono::Duration>,
    /// How often retention runs.
    pub prune_every: StdDuration,
}

impl Default for SequencerOptions {
    fn default() -> Self {
        SequencerOptions {
            poll: StdDuration::from_millis(100),
            batch: 1000,
            retention: Some(chrono::Duration::days(i64::from(
                super::DEFAULT_EVENT_RETENTION_DAYS,
            ))),
            prune_every: StdDuration::from_secs(3600),
        }
    }
}

pub struct Sequencer {
    store: Arc<dyn Store>,
    clock: SharedClock,
    options: SequencerOptions,
}

impl Sequencer {
    pub fn new(store: Arc<dyn Store>, clock: SharedClock, options: SequencerOptions) -> Self {
        Sequencer {
            store,
            clock,
            options,
        }
    }

    /// Runs until the returned task is aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut last_prune: Option<std::time::Instant> = None;
            let mut pause = crate::outage::Pause::default();
            loop {
                if last_prune.is_none_or(|at| at.elapsed() >= self.options.prune_every) {
                    last_prune = Some(std::time::Instant::now());
                    match self.prune().await {
                        Ok(0) => {}
                        Ok(removed) => tracing::info!(removed, "pruned the event log"),
                        Err(error) => tracing::warn!(%error, "could not prune the event log"),
                    }
                }
                let round = self.round().await;
                match &round {
                    Ok(_) => pause.succeeded("events"),
                    Err(error) => pause.failed("events", error),
                }
                // A full batch: more may be waiting right away.
                if round.is_ok_and(|done| done >= u64::from(self.options.batch)) {
                    continue;
                }
                tokio::time::sleep(self.options.poll).await;
            }
        })
    }

    /// Publishes what is settled (up to a batch); answers how many.
    pub async fn round(&self) -> crate::error::StoreResult<u64> {
        let done = self
            .store
            .sequence_events(self.options.batch, self.clock.now())
            .await?;
        metrics::counter!("connecticket_events_total").increment(done);
        Ok(done)
    }

    /// Removes events past retention; answers how many.
    pub async fn prune(&self) -> crate::error::StoreResult<u64> {
        let Some(retention) = self.options.retention else {
            return Ok(0);
        };
        let now = self.clock.now();
        let audit = AuditEntry::new(
            &RequestContext::background("event-retention"),
            Action::PruneEvents,
            Outcome::Success,
            now,
        );
        self.store.prune_events(now - retention, audit).await
    }
}
