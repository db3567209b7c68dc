//! The protocol every writer (SQLite's writer thread, each PostgreSQL write
//! lane) follows with the callers whose writes it queues: a caller whose
//! deadline passes withdraws a write that has not started, and nothing is
//! written; once the writer has started it, the caller waits for its true
//! outcome, however long that takes. Whoever moves first wins.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use connecticket_domain::StoreError;
use tokio::sync::oneshot;

const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const WITHDRAWN: u8 = 2;

/// Where one queued write stands, shared by its caller and its writer.
#[derive(Debug, Clone, Default)]
pub struct WriteTurn(Arc<AtomicU8>);

impl WriteTurn {
    pub fn new() -> Self {
        WriteTurn::default()
    }

    /// The writer's move: claims the write for running; false once its
    /// caller withdrew it (its caller has answered already: it never runs).
    pub fn start(&self) -> bool {
        self.0
            .compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The caller's move: withdraws the write if it has not started.
    fn withdraw(&self) -> bool {
        self.0
            .compare_exchange(QUEUED, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// Queues a write (`queue`) and waits for its `answer`. Without a deadline
/// it waits as long as it takes; with one, a write not queued by then is
/// never queued, a write not started by then is withdrawn (both
/// `Withdrawn`), and a write started by then is awaited to its outcome.
/// `gone` says what stopped the writer, if it goes away unanswered.
pub async fn queue_and_wait<T>(
    deadline: Option<Instant>,
    turn: &WriteTurn,
    queue: impl Future<Output = Result<(), StoreError>>,
    mut answer: oneshot::Receiver<Result<T, StoreError>>,
    gone: &str,
) -> Result<T, StoreError> {
    let dropped = |_| StoreError::Unavailable(gone.to_owned());
    let Some(deadline) = deadline else {
        queue.await?;
        return answer.await.map_err(dropped)?;
    };
    let deadline = tokio::time::Instant::from_std(deadline);
    match tokio::time::timeout_at(deadline, queue).await {
        Ok(queued) => queued?,
        // Never queued, never run.
        Err(_) => return Err(StoreError::Withdrawn),
    }
    tokio::select! {
        outcome = &mut answer => outcome.map_err(dropped)?,
        () = tokio::time::sleep_until(deadline) => match turn.withdraw() {
            true => Err(StoreError::Withdrawn),
            // Started already: its outcome is the answer.
            false => answer.await.map_err(dropped)?,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_write_not_started_by_its_deadline_is_withdrawn_and_never_runs() {
        let turn = WriteTurn::new();
        let (_reply, answer) = oneshot::channel::<Result<u8, StoreError>>();
        let deadline = Instant::now() + Duration::from_millis(20);
        let outcome = queue_and_wait(Some(deadline), &turn, async { Ok(()) }, answer, "gone").await;
        assert!(matches!(outcome, Err(StoreError::Withdrawn)), "{outcome:?}");
        assert!(!turn.start(), "the writer must not run a withdrawn write");
    }

    #[tokio::test]
    async fn a_write_started_before_its_deadline_is_awaited_to_its_outcome() {
        let turn = WriteTurn::new();
        let (reply, answer) = oneshot::channel();
        let writer = turn.clone();
        tokio::spawn(async move {
            assert!(writer.start());
            tokio::time::sleep(Duration::from_millis(60)).await;
            let _ = reply.send(Ok(7_u8));
        });
        let deadline = Instant::now() + Duration::from_millis(20);
        let outcome = queue_and_wait(Some(deadline), &turn, async { Ok(()) }, answer, "gone").await;
        assert_eq!(outcome.ok(), Some(7));
    }

    #[tokio::test]
    async fn a_writer_that_goes_away_unanswered_is_reported() {
        let turn = WriteTurn::new();
        let (reply, answer) = oneshot::channel::<Result<u8, StoreError>>();
        drop(reply);
        let outcome =
            queue_and_wait(None, &turn, async { Ok(()) }, answer, "the writer stopped").await;
        assert!(
            matches!(&outcome, Err(StoreError::Unavailable(why)) if why == "the writer stopped"),
            "{outcome:?}"
        );
    }
}
