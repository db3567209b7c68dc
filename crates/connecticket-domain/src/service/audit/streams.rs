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
        DomainError::from(error)
    })
}

/// The most record references one list's entry names.
pub const MAX_LISTED_RECORDS: usize = 2_000;

type Recording = futures::future::BoxFuture<'static, ()>;

/// Passes chunks through, noting the records each row touches. When the
/// rows end (or the store fails) the entry is appended with the matching
/// outcome, and the stream ends only once it is durable: the answer's last
/// byte follows its record, and a server shutting down waits for it as for
/// any open answer. A client that goes away drops the stream mid-list; its
/// entry (aborted) is then appended on a task of its own.
pub(crate) struct AuditedStream<T, const N: usize> {
    rows: RowStream<T>,
    store: Arc<dyn Store>,
    entry: Option<AuditEntry>,
    touched: fn(&T) -> [RecordRef; N],
    sent: u64,
    /// The outcome being appended, and what the stream yields after it.
    recording: Option<(Recording, Option<StoreResult<Vec<T>>>)>,
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
            recording: None,
        })
    }
}

impl<T, const N: usize> AuditedStream<T, N> {
    /// Appends the entry with `outcome`, once; `None` if it was appended.
    fn record(&mut self, outcome: Outcome) -> Option<Recording> {
        let mut entry = self.entry.take()?;
        entry.outcome = outcome;
        entry.records.insert(format!("rows:{}", self.sent));
        let store = Arc::clone(&self.store);
        Some(Box::pin(async move {
            if let Err(error) = store.append_audit(entry).await {
                tracing::error!(%error, "could not record a list's audit entry");
            }
        }))
    }

    fn note(&mut self, chunk: &[T]) {
        self.sent += chunk.len() as u64;
        let touched = self.touched;
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
}

/// Runs `recording` to its end even though nobody waits for it any more.
fn finish_detached(recording: Recording) {
    // Outside a runtime (never, in the server) the entry cannot be
    // written; say so rather than lose it silently.
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn(recording)),
        Err(_) => tracing::error!("no runtime to record a list's audit entry"),
    }
}

// Nothing in the stream is pinned structurally: its rows and its recording
// are boxed futures, and the chunk it holds back is plain data.
impl<T, const N: usize> Unpin for AuditedStream<T, N> {}

impl<T, const N: usize> Stream for AuditedStream<T, N> {
    type Item = StoreResult<Vec<T>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some((recording, _)) = self.recording.as_mut() {
                if recording.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let last = self.recording.take().and_then(|(_, last)| last);
                return Poll::Ready(last);
            }
            let (outcome, last) = match self.rows.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    self.note(&chunk);
                    return Poll::Ready(Some(Ok(chunk)));
                }
                Poll::Ready(Some(Err(error))) => (Outcome::Error, Some(Err(error))),
                Poll::Ready(None) => (Outcome::Success, None),
                Poll::Pending => return Poll::Pending,
            };
            match self.record(outcome) {
                Some(recording) => self.recording = Some((recording, last)),
                None => return Poll::Ready(last),
            }
        }
    }
}

impl<T, const N: usize> Drop for AuditedStream<T, N> {
    fn drop(&mut self) {
        if let Some((recording, _)) = self.recording.take() {
            finish_detached(recording);
        }
        if let Some(recording) = self.record(Outcome::Aborted) {
            finish_detached(recording);
        }
    }
}
