//! Audit entries that belong to no write of their own (reads, refusals) are
//! appended in batches: one task per store takes every entry waiting, chains
//! them in one write transaction, and answers each caller only after that
//! commit. Under load, one commit (and one fsync) serves many calls.

use std::sync::Arc;

use connecticket_domain::audit::AuditEntry;
use connecticket_domain::StoreError;
use tokio::sync::{mpsc, oneshot};

use crate::engine::Engine;
use crate::ops;

/// The most entries chained in one transaction.
const MAX_BATCH: usize = 256;
/// Entries waiting beyond this make callers wait for room.
const QUEUE_DEPTH: usize = 4096;

type Waiting = (AuditEntry, oneshot::Sender<Result<(), StoreError>>);

pub(crate) struct Appender {
    queue: mpsc::Sender<Waiting>,
}

impl Appender {
    pub(crate) fn start<E: Engine>(engine: Arc<E>) -> Self {
        let (queue, mut waiting) = mpsc::channel::<Waiting>(QUEUE_DEPTH);
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match waiting.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (entries, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let outcome = engine
                    .write(move |tx| Box::pin(ops::audit::append(tx, entries)))
                    .await;
                if let Err(error) = &outcome {
                    tracing::error!(%error, "could not append a batch of audit entries");
                }
                for reply in replies {
                    let _ = reply.send(match &outcome {
                        Ok(()) => Ok(()),
                        Err(error) => Err(StoreError::Unavailable(format!(
                            "the audit batch failed: {error}"
                        ))),
                    });
                }
            }
        });
        Appender { queue }
    }

    pub(crate) async fn append(&self, entry: AuditEntry) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((entry, reply))
            .await
            .map_err(|_| StoreError::Unavailable("the audit appender has stopped".to_owned()))?;
        answer.await.map_err(|_| {
            StoreError::Unavailable("the audit appender dropped an entry".to_owned())
        })?
    }
}
