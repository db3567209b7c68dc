//! One audited call: the skeleton every use case runs in.
//!
//! A surface authenticates a caller and gets a [`Call`]. The call is
//! consumed by exactly one use case (or by `reject`, when the surface
//! refuses its input before any use case runs), and that leaves exactly one
//! audit entry with the call's outcome. A call dropped on some unforeseen
//! path is still recorded, as an error, rather than lost.

use std::sync::Arc;

use crate::audit::{AuditEntry, Outcome};
use crate::auth::Principal;
use crate::error::{DomainError, DomainResult};
use crate::store::Store;

/// An authenticated call on its way through a use case.
pub struct Call {
    principal: Principal,
    entry: Option<AuditEntry>,
    deadline: Option<std::time::Instant>,
    store: Arc<dyn Store>,
}

impl Call {
    pub(super) fn new(
        principal: Principal,
        entry: AuditEntry,
        deadline: Option<std::time::Instant>,
        store: Arc<dyn Store>,
    ) -> Self {
        Call {
            principal,
            entry: Some(entry),
            deadline,
            store,
        }
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The principal and the entry, for the use case that completes both.
    pub(super) fn take(mut self) -> (Principal, AuditEntry) {
        let entry = self.entry.take().unwrap_or_else(|| {
            unreachable!("a call's entry is taken only by the call that consumes it")
        });
        (self.principal.clone(), entry)
    }

    pub(super) fn deadline(&self) -> Option<std::time::Instant> {
        self.deadline
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        let Some(mut entry) = self.entry.take() else {
            return;
        };
        entry.outcome = Outcome::Error;
        tracing::error!(
            action = entry.action.as_str(),
            "a call ended without its audit entry; recording it as an error"
        );
        let store = Arc::clone(&self.store);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = store.append_audit(entry).await {
                    tracing::error!(%error, "could not record an audit entry");
                }
            });
        }
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
pub(super) enum Recorded {
    /// The use case, once the work is done (reads).
    Afterwards,
    /// The store, inside the write's own transaction; only a failure is
    /// recorded afterwards.
    ByTheWrite,
}

/// Records `entry` with the outcome of `result`. A call that succeeded is
/// answered only once its entry is durable, and fails if it cannot be
/// written: no PHI leaves unrecorded. A refused call disclosed nothing, so
/// its answer does not wait for its entry (which a locked database could
/// hold up for long); a failure to write it is logged.
pub(crate) async fn record<T>(
    store: &Arc<dyn Store>,
    mut entry: AuditEntry,
    result: DomainResult<T>,
) -> DomainResult<T> {
    entry.outcome = outcome_of(&result);
    if result.is_err() {
        let store = Arc::clone(store);
        tokio::spawn(async move {
            if let Err(error) = store.append_audit(entry).await {
                tracing::error!(%error, "could not record a refused call's audit entry");
            }
        });
        return result;
    }
    match store.append_audit(entry).await {
        Ok(()) => result,
        Err(error) => {
            tracing::error!(%error, "could not record an audit entry");
            result.and(Err(DomainError::Storage(error)))
        }
    }
}

impl super::Connecticket {
    /// Runs `work` for the call and records its outcome, once. A read
    /// gives up at the call's deadline; a write is never cut short here
    /// (the store withdraws it if it has not started by then).
    pub(super) async fn run<T>(
        &self,
        call: Call,
        recorded: Recorded,
        work: impl AsyncFnOnce(&Principal, &mut AuditEntry) -> DomainResult<T>,
    ) -> DomainResult<T> {
        let deadline = call.deadline();
        let (principal, mut entry) = call.take();
        let result = match (recorded, deadline) {
            (Recorded::Afterwards, Some(deadline)) => {
                let deadline = tokio::time::Instant::from_std(deadline);
                tokio::time::timeout_at(deadline, work(&principal, &mut entry))
                    .await
                    .unwrap_or(Err(DomainError::DeadlineExceeded))
            }
            _ => work(&principal, &mut entry).await,
        };
        match (recorded, result) {
            (Recorded::ByTheWrite, Ok(value)) => Ok(value),
            (_, result) => record(&self.store, entry, result).await,
        }
    }

    /// Records that a surface refused the call's input (malformed or
    /// invalid parameters, a record id that names nothing) before any use
    /// case ran.
    pub async fn reject(&self, call: Call, outcome: Outcome) {
        let (_, mut entry) = call.take();
        entry.outcome = outcome;
        if let Err(error) = self.store.append_audit(entry).await {
            tracing::error!(%error, "could not record an audit entry");
        }
    }
}
