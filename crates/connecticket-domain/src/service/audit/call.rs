//! One audited call: the skeleton every use case runs in.
//!
//! A surface authenticates a caller and gets a [`Call`] (or, for
//! administration, an [`AdminCall`](crate::service::AdminCall)). The call
//! is consumed by exactly one use case (or by `reject`, when the surface
//! refuses its input before any use case runs), and that leaves exactly one
//! audit entry with the call's outcome. A call dropped on some unforeseen
//! path is still recorded, as an error, rather than lost.

use std::sync::Arc;
use std::time::Instant;

use crate::audit::{AuditEntry, Outcome};
use crate::auth::Principal;
use crate::error::{DomainError, DomainResult};
use crate::service::Connecticket;
use crate::store::Store;

/// Where entries go: appended now (and awaited), or later, without
/// holding up an answer (a refusal's). Entries appended later are still
/// awaited before the process ends (`settle`): a command that was refused
/// leaves its entry, and a server that stops leaves every refusal's.
#[derive(Clone)]
pub(crate) struct AuditSink {
    pub(crate) store: Arc<dyn Store>,
    later: tokio_util::task::TaskTracker,
}

impl AuditSink {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        AuditSink {
            store,
            later: tokio_util::task::TaskTracker::new(),
        }
    }

    /// Appends `entry` on a task of its own; a failure is logged.
    pub(crate) fn append_later(&self, entry: AuditEntry) {
        let store = Arc::clone(&self.store);
        self.later.spawn(async move {
            if let Err(error) = store.append_audit(entry).await {
                tracing::error!(%error, "could not record a refused call's audit entry");
            }
        });
    }

    /// Waits for every entry appended later so far.
    pub(crate) async fn settle(&self) {
        self.later.close();
        self.later.wait().await;
        self.later.reopen();
    }
}

/// An entry that is recorded whatever becomes of the call that holds it:
/// by the use case that takes it, or, if the call is dropped unused, as an
/// error.
pub(crate) struct PendingEntry {
    entry: Option<AuditEntry>,
    sink: AuditSink,
}

impl PendingEntry {
    pub(crate) fn new(entry: AuditEntry, sink: AuditSink) -> Self {
        PendingEntry {
            entry: Some(entry),
            sink,
        }
    }

    /// The entry, for the use case that completes and records it.
    pub(crate) fn take(mut self) -> AuditEntry {
        self.entry.take().unwrap_or_else(|| {
            unreachable!("a pending entry is taken only by the call that consumes it")
        })
    }
}

impl Drop for PendingEntry {
    fn drop(&mut self) {
        let Some(mut entry) = self.entry.take() else {
            return;
        };
        entry.outcome = Outcome::Error;
        tracing::error!(
            action = entry.action.as_str(),
            "a call ended without its audit entry; recording it as an error"
        );
        if tokio::runtime::Handle::try_current().is_ok() {
            self.sink.append_later(entry);
        }
    }
}

/// An authenticated call on its way through a use case.
pub struct Call {
    principal: Principal,
    pending: PendingEntry,
    deadline: Option<Instant>,
}

impl Call {
    pub(crate) fn new(
        principal: Principal,
        entry: AuditEntry,
        deadline: Option<Instant>,
        sink: AuditSink,
    ) -> Self {
        Call {
            principal,
            pending: PendingEntry::new(entry, sink),
            deadline,
        }
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The principal and the entry, for a use case that completes the
    /// entry itself (a streamed list).
    pub(crate) fn take(self) -> (Principal, AuditEntry) {
        (self.principal, self.pending.take())
    }

    /// The principal, the entry and the deadline, for the use case that
    /// completes the entry (or for the administration call it becomes).
    pub(crate) fn into_parts(self) -> (Principal, PendingEntry, Option<Instant>) {
        (self.principal, self.pending, self.deadline)
    }
}

pub(crate) fn outcome_of<T>(result: &DomainResult<T>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(error) => Outcome::of_error(error),
    }
}

/// Who records a successful call's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// The use case, once the work is done (reads).
    Afterwards,
    /// The store, inside the write's own transaction; only a failure is
    /// recorded afterwards.
    ByTheWrite,
    /// The streamed list the use case answers, when it ends (its start
    /// was recorded before); only a failure to start is recorded here.
    ByTheStream,
    /// The use case itself, when what it read disclosed something (an
    /// empty installation's list discloses nothing, and a fresh database
    /// stays fresh); only a failure is recorded here.
    WhenDisclosed,
}

impl Connecticket {
    /// Records `entry` with the outcome of `result`. A call that
    /// succeeded is answered only once its entry is durable, and fails if
    /// it cannot be written: no PHI leaves unrecorded. A refused call
    /// disclosed nothing, so its answer does not wait for its entry (which
    /// a locked database could hold up for long); a failure to write it is
    /// logged.
    pub(crate) async fn record<T>(
        &self,
        mut entry: AuditEntry,
        result: DomainResult<T>,
    ) -> DomainResult<T> {
        entry.outcome = outcome_of(&result);
        if result.is_err() {
            self.audit.append_later(entry);
            return result;
        }
        match self.store.append_audit(entry).await {
            Ok(()) => result,
            Err(error) => {
                tracing::error!(%error, "could not record an audit entry");
                // An unreachable database is a 503 like any other.
                result.and(Err(DomainError::from(error)))
            }
        }
    }

    /// Waits until every entry recorded without holding up an answer is
    /// written: the command line calls it before it exits, the server
    /// when it stops.
    pub async fn settle(&self) {
        self.audit.settle().await;
    }

    /// Runs `work` for the call and records its outcome, once.
    pub(crate) async fn run<T>(
        &self,
        call: Call,
        recorded: Recorded,
        work: impl AsyncFnOnce(&Principal, &mut AuditEntry) -> DomainResult<T>,
    ) -> DomainResult<T> {
        let (principal, pending, deadline) = call.into_parts();
        self.run_recorded(pending.take(), deadline, recorded, async |entry| {
            work(&principal, entry).await
        })
        .await
    }

    /// Runs `work` with `entry` and records its outcome, once. A read
    /// gives up at `deadline`; a write is never cut short here (the store
    /// withdraws it if it has not started by then).
    pub(crate) async fn run_recorded<T>(
        &self,
        mut entry: AuditEntry,
        deadline: Option<Instant>,
        recorded: Recorded,
        work: impl AsyncFnOnce(&mut AuditEntry) -> DomainResult<T>,
    ) -> DomainResult<T> {
        let result = match (recorded, deadline) {
            (Recorded::Afterwards, Some(deadline)) => {
                let deadline = tokio::time::Instant::from_std(deadline);
                tokio::time::timeout_at(deadline, work(&mut entry))
                    .await
                    .unwrap_or(Err(DomainError::DeadlineExceeded))
            }
            _ => work(&mut entry).await,
        };
        match (recorded, result) {
            (Recorded::ByTheWrite | Recorded::ByTheStream | Recorded::WhenDisclosed, Ok(value)) => {
                Ok(value)
            }
            (_, result) => self.record(entry, result).await,
        }
    }

    /// Records that a surface refused the call's input (malformed or
    /// invalid parameters, a record id that names nothing) before any use
    /// case ran.
    pub async fn reject(&self, call: Call, outcome: Outcome) {
        let (_, pending, _) = call.into_parts();
        self.append_with_outcome(pending.take(), outcome).await;
    }

    pub(crate) async fn append_with_outcome(&self, mut entry: AuditEntry, outcome: Outcome) {
        entry.outcome = outcome;
        if let Err(error) = self.store.append_audit(entry).await {
            tracing::error!(%error, "could not record an audit entry");
        }
    }
}
