//! Recording a streamed list's outcome once the stream ends (its start was
//! recorded, durably, before its first byte). The entry names every record
//! sent, up to `MAX_LISTED_RECORDS`, and always how many rows went out
//! (`rows:N`), so that a list of a million rows leaves an entry of a
//! bounded size.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;

use crate::audit::{AuditEntry, Outcome, RecordRef};
use crate::error::{DomainError, DomainResult, StoreResult};
use crate::store::{RowStream, Store};

/// Records, durably, that a list is about to be sent, before its first
/// byte: even a crash mid-list leaves this entry. (The list's outcome, with
/// the records it sent, follows when it ends.) Fails closed: a list whose
/// start cannot be recorded is not sent.
pub(crate) async fn record_list_start(store: &dyn Store, entry: &AuditEntry) -> DomainResult<()> {
    let mut started = entry.clone();
    started.outcome = Outcome::Started;
    store.append_audit(started).await.map_err(|error| {
        tracing::error!(%error, "could not record the start of a list");
        DomainError::Storage(error)
    })
}

/// The most record references one list's entry names.
pub const MAX_LISTED_RECORDS: usize = 2_000;

/// Passes chunks through, noting the records each row touches; when the
/// stream ends (or the client goes away, or the store fails) the entry is
/// appended with the matching outcome.
pub(crate) struct AuditedStream<T, const N: usize> {
    rows: RowStream<T>,
    store: Arc<dyn Store>,
    entry: Option<AuditEntry>,
    touched: fn(&T) -> [RecordRef; N],
    sent: u64,
}

impl<T: Send + 'static, const N: usize> AuditedStream<T, N> {
    pub(crate) fn wrap(
        rows: RowStream<T>,
        store: Arc<dyn Store>,
        entry: AuditEntry,
        touched: fn(&T) -> [RecordRef; N],
    ) -> RowStream<T> {
        Box::pin(AuditedStream {
            rows,
            store,
            entry: Some(entry),
            touched,
            sent: 0,
        })
    }
}

impl<T, const N: usize> AuditedStream<T, N> {
    fn record(&mut self, outcome: Outcome) {
        let Some(mut entry) = self.entry.take() else {
            return;
        };
        entry.outcome = outcome;
        entry.records.insert(format!("rows:{}", self.sent));
        let store = Arc::clone(&self.store);
        // Outside a runtime (never, in the server) the entry cannot be
        // written; say so rather than lose it silently.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(error) = store.append_audit(entry).await {
                        tracing::error!(%error, "could not record a list's audit entry");
                    }
                });
            }
            Err(_) => tracing::error!("no runtime to record a list's audit entry"),
        }
    }
}

impl<T, const N: usize> Stream for AuditedStream<T, N> {
    type Item = StoreResult<Vec<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.rows.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                let touched = self.touched;
                self.sent += chunk.len() as u64;
                if let Some(entry) = self.entry.as_mut() {
                    for row in chunk {
                        if entry.records.len() >= MAX_LISTED_RECORDS {
                            break;
                        }
                        for record in touched(row) {
                            entry.touch(record);
                        }
                    }
                }
            }
            Poll::Ready(Some(Err(_))) => self.record(Outcome::Error),
            Poll::Ready(None) => self.record(Outcome::Success),
            Poll::Pending => {}
        }
        polled
    }
}

impl<T, const N: usize> Drop for AuditedStream<T, N> {
    fn drop(&mut self) {
        self.record(Outcome::Aborted);
    }
}
