//! Recording the audit entry of a streamed list once the stream ends.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;

use crate::audit::{AuditEntry, Outcome, RecordRef};
use crate::error::StoreResult;
use crate::store::{RowStream, Store};

/// Passes chunks through, noting the records each row touches; when the
/// stream ends (or the client goes away, or the store fails) the entry is
/// appended with the matching outcome.
pub(crate) struct AuditedStream<T, const N: usize> {
    rows: RowStream<T>,
    store: Arc<dyn Store>,
    entry: Option<AuditEntry>,
    touched: fn(&T) -> [RecordRef; N],
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
        })
    }
}

impl<T, const N: usize> AuditedStream<T, N> {
    fn record(&mut self, outcome: Outcome) {
        let Some(mut entry) = self.entry.take() else {
            return;
        };
        entry.outcome = outcome;
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
                if let Some(entry) = self.entry.as_mut() {
                    for row in chunk {
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
