//! Audit entries that belong to no write of their own (reads, refusals)
//! ride in the writers' queues beside the writes. A writer takes every
//! entry waiting with its batch, appends them together in the batch's
//! transaction, and answers each caller only once that commit is durable:
//! one commit (one fsync) serves many calls, and no task stands between a
//! call and the writer.

use std::future::Future;

use connecticket_domain::audit::AuditEntry;
use connecticket_domain::StoreError;
use tokio::sync::oneshot;

use crate::engine::Executor;
use crate::ops;

type Result<T> = std::result::Result<T, StoreError>;

/// An entry waiting for a writer, with its caller's answer.
pub struct AuditWaiter {
    entry: AuditEntry,
    reply: Reply,
}

impl AuditWaiter {
    /// A waiter for `entry`, and the answer its caller awaits.
    pub fn new(entry: AuditEntry) -> (AuditWaiter, impl Future<Output = Result<()>> + Send) {
        let (reply, answer) = oneshot::channel();
        let answer = async move {
            answer.await.map_err(|_| {
                StoreError::Unavailable("the writer dropped an audit entry".to_owned())
            })?
        };
        (AuditWaiter { entry, reply }, answer)
    }

    pub fn abort(self, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// Tells a batch's callers how its commit went.
pub type Delivery = Box<dyn FnOnce(Result<()>) + Send>;

/// Appends the waiters' entries in the caller's write transaction, in a
/// savepoint of their own: if they cannot be written, only their callers
/// hear of it. Answers how to tell them the commit's outcome, and whether
/// the transaction is still usable.
pub async fn append_waiting(tx: &mut dyn Executor, waiters: Vec<AuditWaiter>) -> (Delivery, bool) {
    let (entries, replies) = split(waiters);
    let appended = match tx.execute("SAVEPOINT audit", &[]).await {
        Ok(_) => ops::audit::append(tx, entries).await,
        Err(error) => Err(error.into_store()),
    };
    let end = if appended.is_ok() {
        tx.execute("RELEASE SAVEPOINT audit", &[]).await
    } else {
        match tx.execute("ROLLBACK TO SAVEPOINT audit", &[]).await {
            Ok(_) => tx.execute("RELEASE SAVEPOINT audit", &[]).await,
            Err(error) => Err(error),
        }
    };
    let intact = end.is_ok();
    let appended = appended.and(end.map(|_| ()).map_err(|error| error.into_store()));
    (delivery(appended, replies), intact)
}

/// Appends the waiters' entries outside any transaction (PostgreSQL's
/// audit lane): there the append is one statement that moves the chain's
/// anchor and inserts the entries only with it, so it commits whole by
/// itself, and the caller tells the waiters with `Ok(())`. Answers how to
/// tell them, and whether the entries were appended.
pub async fn append_batch(tx: &mut dyn Executor, waiters: Vec<AuditWaiter>) -> (Delivery, bool) {
    let (entries, replies) = split(waiters);
    let appended = ops::audit::append(tx, entries).await;
    let ok = appended.is_ok();
    (delivery(appended, replies), ok)
}

type Reply = oneshot::Sender<Result<()>>;

fn split(waiters: Vec<AuditWaiter>) -> (Vec<AuditEntry>, Vec<Reply>) {
    waiters
        .into_iter()
        .map(|waiter| (waiter.entry, waiter.reply))
        .unzip()
}

/// Tells each caller that its entry is durable once both the append and
/// the commit succeeded, and otherwise why not.
fn delivery(appended: Result<()>, replies: Vec<Reply>) -> Delivery {
    if let Err(error) = &appended {
        tracing::error!(%error, entries = replies.len(), "could not append audit entries");
    }
    Box::new(move |commit: Result<()>| {
        for reply in replies {
            let outcome = match (&appended, &commit) {
                (Ok(()), Ok(())) => Ok(()),
                (Err(error), _) | (_, Err(error)) if crate::is_disconnected(error) => Err(
                    StoreError::Unreachable(format!("the audit entry was not written: {error}")),
                ),
                (Err(error), _) | (_, Err(error)) => Err(StoreError::Unavailable(format!(
                    "the audit entry was not written: {error}"
                ))),
            };
            let _ = reply.send(outcome);
        }
    })
}
