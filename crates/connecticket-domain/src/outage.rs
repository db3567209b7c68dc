//! Background work through a database failover: the loops (dispatcher,
//! escalator, webhook deliverer, event sequencer) pause while the database
//! cannot be reached and resume by themselves, saying so once each way
//! rather than at every poll; and a record of work already done outside
//! (a message sent) is kept until it can be written.

use std::future::Future;
use std::time::Duration;

use crate::error::{StoreError, StoreResult};

/// Between tries while the database is failing over: doubling from the
/// first to the last.
const FIRST_PAUSE: Duration = Duration::from_millis(200);
const LAST_PAUSE: Duration = Duration::from_secs(2);

/// Whether a loop is paused for an outage, to log its start and end once.
#[derive(Debug, Default)]
pub struct Pause {
    paused: bool,
}

impl Pause {
    /// A round of `work` failed with `error`.
    pub fn failed(&mut self, work: &'static str, error: &StoreError) {
        if !error.is_outage() {
            tracing::warn!(%error, work, "a background round failed");
        } else if !self.paused {
            self.paused = true;
            metrics::gauge!("connecticket_background_paused", "work" => work).set(1.0);
            tracing::warn!(%error, work, "the database is unavailable: paused until it is back");
        }
    }

    /// A round of `work` succeeded.
    pub fn succeeded(&mut self, work: &'static str) {
        if self.paused {
            self.paused = false;
            metrics::gauge!("connecticket_background_paused", "work" => work).set(0.0);
            tracing::info!(work, "the database is back: resumed");
        }
    }
}

/// Runs `write` until it succeeds, fails for another reason than an
/// outage, or the next try would start after `until` (when the lease it
/// works under ends, say). For records of something that already happened
/// outside the database, which a lost record would make happen twice.
pub async fn write_through_outage<T, F, Fut>(
    until: tokio::time::Instant,
    mut write: F,
) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut pause = FIRST_PAUSE;
    loop {
        match write().await {
            Err(error) if error.is_outage() && tokio::time::Instant::now() + pause < until => {
                tracing::warn!(%error, "the database is unavailable; keeping a record to write once it is back");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LAST_PAUSE);
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn a_record_is_written_once_the_outage_ends() {
        let tries = AtomicUsize::new(0);
        let until = tokio::time::Instant::now() + Duration::from_secs(60);
        let written = write_through_outage(until, || async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0..=3 => Err(StoreError::Unreachable("failing over".to_owned())),
                4 => Err(StoreError::OutcomeUnknown),
                n => Ok(n),
            }
        })
        .await;
        assert_eq!(written.ok(), Some(5));
    }

    #[tokio::test(start_paused = true)]
    async fn other_failures_and_the_end_of_the_lease_stop_the_tries() {
        let until = tokio::time::Instant::now() + Duration::from_secs(1);
        let tries = AtomicUsize::new(0);
        let given_up: StoreResult<()> = write_through_outage(until, || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(StoreError::Unreachable("still down".to_owned()))
        })
        .await;
        assert!(matches!(given_up, Err(StoreError::Unreachable(_))));
        // 200 + 400 ms fit before the lease ends; 800 more would not.
        assert_eq!(tries.load(Ordering::SeqCst), 3);
        let corrupt: StoreResult<()> = write_through_outage(until, || async {
            Err(StoreError::Corrupt("bad row".to_owned()))
        })
        .await;
        assert!(matches!(corrupt, Err(StoreError::Corrupt(_))));
    }
}
