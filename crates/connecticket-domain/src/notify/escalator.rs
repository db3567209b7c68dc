//! Takes escalation levels when their deadlines pass. Every instance runs
//! one; the store takes each due level in one transaction and skips rows
//! another instance holds, so a level is taken exactly once, and a crash
//! before commit leaves it due for whoever looks next.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use crate::audit::{Action, AuditEntry, Outcome, RequestContext};
use crate::clock::SharedClock;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct EscalatorOptions {
    /// How often to look for due escalations.
    pub poll: StdDuration,
    /// Escalations taken per transaction.
    pub batch: u32,
}

impl Default for EscalatorOptions {
    fn default() -> Self {
        EscalatorOptions {
            poll: StdDuration::from_secs(1),
            batch: 32,
        }
    }
}

pub struct Escalator {
    store: Arc<dyn Store>,
    clock: SharedClock,
    options: EscalatorOptions,
}

impl Escalator {
    pub fn new(store: Arc<dyn Store>, clock: SharedClock, options: EscalatorOptions) -> Self {
        Escalator {
            store,
            clock,
            options,
        }
    }

    /// Runs until the returned task is aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut pause = crate::outage::Pause::default();
            loop {
                let round = self.round().await;
                match &round {
                    Ok(_) => pause.succeeded("escalations"),
                    Err(error) => pause.failed("escalations", error),
                }
                // A full batch: more may be due right away.
                if round.is_ok_and(|taken| taken >= self.options.batch as usize) {
                    continue;
                }
                tokio::time::sleep(self.options.poll).await;
            }
        })
    }

    /// Takes every level due now (up to a batch); answers how many.
    pub async fn round(&self) -> crate::error::StoreResult<usize> {
        let now = self.clock.now();
        let audit = AuditEntry::new(
            &RequestContext::escalator(),
            Action::Escalate,
            Outcome::Success,
            now,
        );
        let steps = self
            .store
            .escalate_due(now, self.options.batch, audit)
            .await?;
        for step in &steps {
            metrics::counter!("connecticket_escalation_levels_total", "kind" => step.kind.clone())
                .increment(1);
            tracing::info!(
                ticket = step.ticket_id.get(),
                level = step.level,
                kind = step.kind.as_str(),
                notified = step.notified,
                "escalated"
            );
        }
        Ok(steps.len())
    }
}
