//! The single writer: one thread, one connection, a queue of jobs, and group
//! commit.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::executor::{run_cached, sql_error, SqliteExecutor};
use connecticket_domain::audit::AuditEntry;
use connecticket_domain::clock::{Clock, SystemClock};
use connecticket_domain::StoreError;
use connecticket_store::{append_waiting, queue_and_wait, AuditChain, AuditWaiter, WriteTurn};
use futures::executor::block_on;

type Result<T> = std::result::Result<T, StoreError>;

fn internal(error: rusqlite::Error) -> StoreError {
    sql_error(error).into_store()
}

/// Jobs waiting beyond this make callers wait for room (backpressure).
const QUEUE_DEPTH: usize = 1024;
/// The most jobs that share one transaction.
const MAX_BATCH: usize = 256;

/// A queued write. `run` executes it inside the batch's transaction and
/// returns what to do once the commit's outcome is known.
trait Job: Send {
    fn run(
        self: Box<Self>,
        connection: &mut Connection,
        chain: &mut AuditChain,
    ) -> Box<dyn FnOnce(Result<()>) + Send>;
    fn abort(self: Box<Self>, error: StoreError);
}

struct Pending<T, F> {
    work: F,
    reply: oneshot::Sender<Result<T>>,
    /// Whether its caller withdrew it (see `queue_and_wait`).
    turn: WriteTurn,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection, &mut AuditChain) -> Result<T> + Send,
{
    fn run(
        self: Box<Self>,
        connection: &mut Connection,
        chain: &mut AuditChain,
    ) -> Box<dyn FnOnce(Result<()>) + Send> {
        let Pending { work, reply, turn } = *self;
        if !turn.start() {
            // Withdrawn: its caller has answered already; it never runs.
            return Box::new(|_| {});
        }
        let outcome = in_savepoint(connection, |connection| work(connection, chain));
        if outcome.is_err() {
            // Rolled back, perhaps after it appended to the chain.
            chain.forget();
        }
        Box::new(move |commit| {
            // The caller may have gone away; its write stands regardless.
            let _ = reply.send(commit.and(outcome));
        })
    }

    fn abort(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// Runs one job so that its failure (or panic) undoes only its own writes.
fn in_savepoint<T>(
    connection: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    run_cached(connection, "SAVEPOINT job").map_err(internal)?;
    let outcome = catch_unwind(AssertUnwindSafe(|| work(connection)))
        .unwrap_or_else(|_| Err(StoreError::Unavailable("a write job panicked".to_owned())));
    if outcome.is_err() {
        run_cached(connection, "ROLLBACK TO job").map_err(internal)?;
    }
    run_cached(connection, "RELEASE job").map_err(internal)?;
    outcome
}

/// What waits for the writer: a write, or an audit entry of a call that
/// wrote nothing (appended with the next batch).
enum Queued {
    Write(Box<dyn Job>),
    Audit(AuditWaiter),
}

impl Queued {
    fn abort(self, error: StoreError) {
        match self {
            Queued::Write(job) => job.abort(error),
            Queued::Audit(waiter) => waiter.abort(error),
        }
    }
}

pub(crate) struct Writer {
    queue: mpsc::Sender<Queued>,
}

impl Writer {
    /// Writes and audit entries waiting for the writer.
    pub(crate) fn queued(&self) -> usize {
        QUEUE_DEPTH - self.queue.capacity()
    }

    /// Starts the writer thread; a batch waits up to `commit_delay` for
    /// company while calls arrive together.
    pub(crate) fn start(connection: Connection, commit_delay: Duration) -> Result<Self> {
        let (queue, jobs) = mpsc::channel(QUEUE_DEPTH);
        thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || write_loop(connection, jobs, commit_delay))
            .map_err(|e| StoreError::backend("starting the SQLite writer thread", e))?;
        Ok(Writer { queue })
    }

    /// Runs `work` in a transaction; resolves once it is committed. If
    /// `deadline` passes while the job still waits its turn, it is
    /// withdrawn (`Withdrawn`, nothing written).
    pub(crate) async fn write<T, F>(&self, deadline: Option<Instant>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &mut AuditChain) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let turn = WriteTurn::new();
        let job = Queued::Write(Box::new(Pending {
            work,
            reply,
            turn: turn.clone(),
        }));
        let queue = async {
            self.queue
                .send(job)
                .await
                .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".to_owned()))
        };
        let gone = "the SQLite writer dropped a job";
        queue_and_wait(deadline, &turn, queue, answer, gone).await
    }
}

impl Writer {
    /// Queues `entry` for the next batch; resolves once it is durable.
    pub(crate) async fn append_audit(&self, entry: AuditEntry) -> Result<()> {
        let (waiter, answer) = AuditWaiter::new(entry);
        self.queue
            .send(Queued::Audit(waiter))
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".to_owned()))?;
        answer.await
    }
}

/// Moves queued jobs into `batch` until it holds `limit`.
fn take_queued(jobs: &mut mpsc::Receiver<Queued>, batch: &mut Vec<Queued>, limit: usize) {
    while batch.len() < limit {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

fn write_loop(
    mut connection: Connection,
    mut jobs: mpsc::Receiver<Queued>,
    commit_delay: Duration,
) {
    // This writer's own audit chain, made before its first write.
    let mut chain = None;
    // Whether the last commit served several calls: then calls arrive
    // together, and the next commit waits briefly for company.
    let mut concurrent = false;
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        take_queued(&mut jobs, &mut batch, MAX_BATCH);
        let chain = match &mut chain {
            Some(chain) => chain,
            None => match create_chain(&mut connection) {
                Ok(id) => chain.insert(AuditChain::new(id)),
                Err(error) => {
                    tracing::error!(%error, "could not create the writer's audit chain");
                    for job in batch {
                        job.abort(StoreError::Unavailable(format!(
                            "cannot create the audit chain: {error}"
                        )));
                    }
                    continue;
                }
            },
        };
        let window = if concurrent {
            commit_delay
        } else {
            Duration::ZERO
        };
        let served = commit_batch(&mut connection, batch, &mut jobs, chain, window);
        concurrent = served > 1;
    }
}

fn create_chain(connection: &mut Connection) -> Result<i64> {
    connection
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(internal)?;
    let created = block_on(connecticket_store::create_audit_chain(
        &mut SqliteExecutor::new(connection),
        &connecticket_store::writer_label("SQLite writer"),
        SystemClock.now(),
    ));
    let end = if created.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    connection.execute_batch(end).map_err(internal)?;
    created
}

/// Runs `batch` in one transaction and commits it once. Jobs that arrive
/// while the transaction has been open for less than `window` join it as
/// they come (the writer never idles while work waits); only an empty
/// queue makes it wait out the rest of the window, as PostgreSQL's
/// `commit_delay` does. Every commit costs an fsync and resets each
/// reader's page cache: fewer, larger ones leave more of the machine to
/// the calls themselves. Answers how many jobs the commit served.
fn commit_batch(
    connection: &mut Connection,
    mut batch: Vec<Queued>,
    jobs: &mut mpsc::Receiver<Queued>,
    chain: &mut AuditChain,
    window: Duration,
) -> usize {
    // IMMEDIATE takes the write lock up front, so a concurrent admin process
    // makes us wait (busy timeout) instead of failing half-way.
    if let Err(error) = run_cached(connection, "BEGIN IMMEDIATE") {
        tracing::error!(%error, "SQLite refused to begin a write batch");
        for job in batch {
            job.abort(StoreError::Unavailable(format!(
                "cannot begin a write: {error}"
            )));
        }
        return 0;
    }
    let opened = Instant::now();
    let mut served = 0;
    let mut deliveries = Vec::with_capacity(batch.len());
    loop {
        served += batch.len();
        run_jobs(
            connection,
            std::mem::take(&mut batch),
            chain,
            &mut deliveries,
        );
        let left = window.saturating_sub(opened.elapsed());
        if served >= MAX_BATCH || left.is_zero() {
            break;
        }
        take_queued(jobs, &mut batch, MAX_BATCH - served);
        if batch.is_empty() {
            // Nothing to run: wait out the window; whatever came meanwhile
            // runs on the next turn, which then commits.
            thread::sleep(left);
            take_queued(jobs, &mut batch, MAX_BATCH - served);
        }
    }
    connecticket_store::record_batch("sqlite", served);
    let commit = run_cached(connection, "COMMIT").map_err(internal);
    if let Err(error) = &commit {
        tracing::error!(error = %error, jobs = served, "write batch failed to commit");
        let _ = connection.execute_batch("ROLLBACK");
        chain.forget();
    }
    for deliver in deliveries {
        deliver(match &commit {
            Ok(()) => Ok(()),
            Err(error) => Err(StoreError::Unavailable(format!(
                "the write batch failed to commit: {error}"
            ))),
        });
    }
    served
}

/// Runs each write in its savepoint and appends the waiting audit entries
/// together, inside the open transaction.
fn run_jobs(
    connection: &mut Connection,
    batch: Vec<Queued>,
    chain: &mut AuditChain,
    deliveries: &mut Vec<Box<dyn FnOnce(Result<()>) + Send>>,
) {
    let mut audits = Vec::new();
    for queued in batch {
        match queued {
            Queued::Write(job) => deliveries.push(job.run(connection, chain)),
            Queued::Audit(waiter) => audits.push(waiter),
        }
    }
    if !audits.is_empty() {
        let (deliver, _) = block_on(append_waiting(
            &mut SqliteExecutor::writer(connection, chain),
            audits,
        ));
        deliveries.push(deliver);
    }
}
