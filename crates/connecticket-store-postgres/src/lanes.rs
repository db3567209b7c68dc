//! Writes commit in groups, as on SQLite: a few lanes, each a task with a
//! connection and an audit chain of its own. A lane takes every job
//! waiting (up to a batch), runs them in one transaction (each after the
//! first in a savepoint of its own), commits once and only then answers
//! each caller: concurrent writes share one commit, and a failing job rolls
//! back alone. Lanes never wait on each other, nor on another instance's
//! lanes: each appends to its own chain.
//!
//! The entries of calls that wrote nothing (reads, refusals) have a lane
//! of their own. A write is a dozen round trips, so writes need several
//! lanes to keep the database busy; an entry is a row, and spread over
//! those lanes the entries made batches of two, each paying for its own
//! transaction. One lane takes every entry waiting at once.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use connecticket_domain::audit::AuditEntry;
use connecticket_domain::clock::{Clock, SystemClock};
use connecticket_domain::StoreError;
use connecticket_store::{
    append_batch, queue_and_wait, AuditChain, AuditWaiter, Executor, Job, WriteTurn,
};
use futures::future::BoxFuture;
use sqlx::{Connection, PgConnection};
use tokio::sync::{mpsc, oneshot, watch, Mutex};

use crate::connector::Connector;
use crate::executor::{sql_error, trace_statement, PgExecutor};

/// Jobs waiting beyond this make callers wait for room.
const QUEUE_DEPTH: usize = 1024;
/// How long past the latest deadline of its batch a COMMIT may take before
/// its outcome is reported unknown (a synchronous standby gone).
const COMMIT_GRACE: std::time::Duration = std::time::Duration::from_millis(500);
/// The most jobs that share one transaction.
const MAX_BATCH: usize = 128;

type Result<T> = std::result::Result<T, StoreError>;
type Delivery = Box<dyn FnOnce(Result<()>) + Send>;

trait LaneJob: Send {
    /// Claims the job for running; false once its caller withdrew it.
    fn start(&self) -> bool;
    /// When its caller stops waiting, if ever.
    fn deadline(&self) -> Option<Instant>;
    /// Runs the job (inside the savepoint the lane set for it, unless it
    /// is the first of its transaction); answers how to tell its caller
    /// once the commit's outcome is known, and whether the job succeeded
    /// (if not, the lane undoes its writes).
    fn run<'t>(self: Box<Self>, tx: &'t mut dyn Executor) -> BoxFuture<'t, (Delivery, bool)>;
    fn abort(self: Box<Self>, error: StoreError);
}

struct Pending<T, J> {
    job: J,
    reply: oneshot::Sender<Result<T>>,
    /// Whether its caller withdrew it (see `queue_and_wait`).
    turn: WriteTurn,
    deadline: Option<Instant>,
}

impl<T: Send + 'static, J: Job<T>> LaneJob for Pending<T, J> {
    fn start(&self) -> bool {
        self.turn.start()
    }

    fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    fn run<'t>(self: Box<Self>, tx: &'t mut dyn Executor) -> BoxFuture<'t, (Delivery, bool)> {
        Box::pin(async move {
            let Pending { job, reply, .. } = *self;
            let outcome = run_job(tx, job).await;
            let succeeded = outcome.is_ok();
            let deliver: Delivery = Box::new(move |commit| {
                // The caller may have gone away; its write stands regardless.
                let _ = reply.send(commit.and(outcome));
            });
            (deliver, succeeded)
        })
    }

    fn abort(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// Runs one job. If it fails, the lane undoes its writes (rolls back to
/// its savepoint, or the whole transaction when it was the first),
/// perhaps after it appended to the lane's chain.
async fn run_job<T>(tx: &mut dyn Executor, job: impl Job<T>) -> Result<T> {
    // A statement cancelled because its caller's time ran out is undone
    // with the job: the write was withdrawn, never written.
    let outcome = job(tx).await.map_err(|error| {
        if is_cancelled(&error) {
            StoreError::Withdrawn
        } else {
            error
        }
    });
    if outcome.is_err() {
        if let Some(chain) = tx.audit_chain() {
            chain.forget();
        }
    }
    outcome
}

fn is_cancelled(error: &StoreError) -> bool {
    let StoreError::Backend { source, .. } = error else {
        return false;
    };
    source
        .downcast_ref::<connecticket_store::SqlError>()
        .is_some_and(|sql| sql.kind == connecticket_store::SqlErrorKind::Cancelled)
}

pub(crate) struct Lanes {
    writes: mpsc::Sender<Box<dyn LaneJob>>,
    audits: mpsc::Sender<AuditWaiter>,
    /// Set once the engine closes: idle lanes give their connections back
    /// and end.
    closing: watch::Sender<bool>,
    /// Connections the lanes hold now.
    open: Arc<AtomicU32>,
}

impl Lanes {
    /// Starts `count` write lanes and the audit lane, each on a connection
    /// of its own from `connector`.
    pub(crate) fn start(connector: Arc<Connector>, count: usize) -> Self {
        let (writes, write_queue) = mpsc::channel(QUEUE_DEPTH);
        let (audits, audit_queue) = mpsc::channel(QUEUE_DEPTH);
        let write_queue = Arc::new(Mutex::new(write_queue));
        let (closing, closed) = watch::channel(false);
        let open = Arc::new(AtomicU32::new(0));
        let seat = |label: String| Seat::new(Arc::clone(&connector), label, Arc::clone(&open));
        for lane in 0..count.max(1) {
            let seat = seat(format!("PostgreSQL write lane {lane}"));
            tokio::spawn(run_write_lane(
                seat,
                Arc::clone(&write_queue),
                closed.clone(),
            ));
        }
        let seat = seat("PostgreSQL audit lane".to_owned());
        tokio::spawn(run_audit_lane(
            seat,
            Arc::new(Mutex::new(audit_queue)),
            closed,
        ));
        Lanes {
            writes,
            audits,
            closing,
            open,
        }
    }

    pub(crate) fn open_connections(&self) -> u32 {
        self.open.load(Ordering::Relaxed)
    }

    /// Writes and audit entries waiting for a lane.
    pub(crate) fn queued(&self) -> usize {
        2 * QUEUE_DEPTH - self.writes.capacity() - self.audits.capacity()
    }

    /// Ends every lane once it is idle (a batch in progress commits first).
    pub(crate) fn close(&self) {
        let _ = self.closing.send(true);
    }

    /// Queues `job`; resolves once it is committed. If `deadline` passes
    /// while it still waits its turn, it is withdrawn, never run.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        deadline: Option<Instant>,
        job: impl Job<T>,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        let turn = WriteTurn::new();
        let pending: Box<dyn LaneJob> = Box::new(Pending {
            job,
            reply,
            turn: turn.clone(),
            deadline,
        });
        let queue = async { self.writes.send(pending).await.map_err(|_| stopped()) };
        let gone = "a write lane dropped a job";
        queue_and_wait(deadline, &turn, queue, answer, gone).await
    }

    /// Queues `entry` for the audit lane's next batch; resolves once it is
    /// durable.
    pub(crate) async fn append_audit(&self, entry: AuditEntry) -> Result<()> {
        let (waiter, answer) = AuditWaiter::new(entry);
        self.audits.send(waiter).await.map_err(|_| stopped())?;
        answer.await
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the write lanes have stopped".to_owned())
}

/// A lane's connection and audit chain, made when first needed and made
/// again after a failure.
struct Seat {
    connector: Arc<Connector>,
    label: String,
    /// The connection, with the connector's generation when it opened.
    connection: Option<(PgConnection, u64)>,
    chain: Option<AuditChain>,
    /// A connection was lost since the chain was last known whole: its
    /// committed entries may have gone with the old primary.
    check_chain: bool,
    /// Connections the lanes hold, this one's included.
    open: Arc<AtomicU32>,
}

impl Seat {
    fn new(connector: Arc<Connector>, label: String, open: Arc<AtomicU32>) -> Self {
        Seat {
            connector,
            label,
            connection: None,
            chain: None,
            check_chain: false,
            open,
        }
    }

    /// The connection and chain to run a batch on.
    async fn take(&mut self) -> Result<(&mut PgConnection, &mut AuditChain)> {
        // Another connection broke since this one opened: its server may
        // be gone or demoted, so a batch would fail on it. Open afresh, and
        // check the chain there: the server it finds may be a promoted
        // standby that never received the chain's newest entries.
        if matches!(&self.connection, Some((_, born)) if *born < self.connector.generation()) {
            self.drop_connection(false);
        }
        if self.connection.is_none() {
            let generation = self.connector.generation();
            let conn = self.connector.connect().await?;
            self.open.fetch_add(1, Ordering::Relaxed);
            self.connection = Some((conn, generation));
        }
        if self.check_chain {
            if let (Some((conn, _)), Some(chain)) = (&mut self.connection, &mut self.chain) {
                if let Err(error) = resume_chain(conn, chain, &self.label).await {
                    self.drop_connection(connecticket_store::is_disconnected(&error));
                    return Err(error);
                }
            }
            self.check_chain = false;
        }
        if self.chain.is_none() {
            let created = match &mut self.connection {
                Some((conn, _)) => create_chain(conn, &self.label).await,
                None => Err(stopped()),
            };
            match created {
                Ok(id) => self.chain = Some(AuditChain::new(id)),
                Err(error) => {
                    self.drop_connection(connecticket_store::is_disconnected(&error));
                    return Err(error);
                }
            }
        }
        match (&mut self.connection, &mut self.chain) {
            (Some((conn, _)), Some(chain)) => Ok((conn, chain)),
            _ => Err(StoreError::Unreachable(
                "the lane lost its connection".to_owned(),
            )),
        }
    }

    fn close_connection(&mut self) {
        if self.connection.take().is_some() {
            self.open.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The connection may be broken: a fresh one serves the next batch;
    /// if it was `lost`, the connector checks the others too. Whether the
    /// last commit happened is unknown, so the chain's head is read again.
    fn drop_connection(&mut self, lost: bool) {
        if let (true, Some((_, generation))) = (lost, &self.connection) {
            self.connector.lost(*generation);
        }
        self.close_connection();
        if let Some(chain) = &mut self.chain {
            chain.forget();
            self.check_chain = true;
        }
    }
}

/// Waits for work and takes everything queued, up to a batch; `None` once
/// the lanes close.
async fn next_batch<T>(
    queue: &Mutex<mpsc::Receiver<T>>,
    closed: &mut watch::Receiver<bool>,
) -> Option<Vec<T>> {
    let mut queue = tokio::select! {
        queue = queue.lock() => queue,
        _ = closed.wait_for(|closed| *closed) => return None,
    };
    let first = tokio::select! {
        first = queue.recv() => first,
        _ = closed.wait_for(|closed| *closed) => None,
    }?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
    Some(batch)
}

async fn run_write_lane(
    mut seat: Seat,
    queue: Arc<Mutex<mpsc::Receiver<Box<dyn LaneJob>>>>,
    mut closed: watch::Receiver<bool>,
) {
    while let Some(batch) = next_batch(&queue, &mut closed).await {
        // Withdrawn jobs were answered by their callers; the rest start.
        let writes: Vec<_> = batch.into_iter().filter(|job| job.start()).collect();
        if writes.is_empty() {
            continue;
        }
        connecticket_store::record_batch("write_lane", writes.len());
        match seat.take().await {
            Ok((conn, chain)) => match commit_writes(conn, writes, chain).await {
                Ended::Committed => {}
                Ended::Failed => seat.drop_connection(false),
                Ended::Lost => seat.drop_connection(true),
            },
            Err(error) => abort_writes(writes, &error),
        }
    }
}

async fn run_audit_lane(
    mut seat: Seat,
    queue: Arc<Mutex<mpsc::Receiver<AuditWaiter>>>,
    mut closed: watch::Receiver<bool>,
) {
    while let Some(waiters) = next_batch(&queue, &mut closed).await {
        connecticket_store::record_batch("audit_lane", waiters.len());
        match seat.take().await {
            Ok((conn, chain)) => match commit_audits(conn, waiters, chain).await {
                Ended::Committed => {}
                Ended::Failed => seat.drop_connection(false),
                Ended::Lost => seat.drop_connection(true),
            },
            Err(error) => abort_audits(waiters, &error),
        }
    }
}

/// Answers every job of a batch that never began: nothing of it was
/// written, so a lost connection reads "unreachable, retry".
fn abort_writes(writes: Vec<Box<dyn LaneJob>>, error: &StoreError) {
    tracing::error!(%error, "a write batch could not run");
    for job in writes {
        job.abort(not_written(error));
    }
}

fn abort_audits(waiters: Vec<AuditWaiter>, error: &StoreError) {
    tracing::error!(%error, "an audit batch could not run");
    for waiter in waiters {
        waiter.abort(not_written(error));
    }
}

/// The error for a job that was certainly not committed.
fn not_written(error: &StoreError) -> StoreError {
    if connecticket_store::is_disconnected(error) {
        StoreError::Unreachable(error.to_string())
    } else {
        StoreError::Unavailable(error.to_string())
    }
}

async fn create_chain(conn: &mut PgConnection, label: &str) -> Result<i64> {
    let mut tx = conn.begin().await.map_err(|e| sql_error(e).into_store())?;
    let label = connecticket_store::writer_label(label);
    let id = connecticket_store::create_audit_chain(
        &mut PgExecutor::new(&mut tx),
        &label,
        SystemClock.now(),
    )
    .await?;
    tx.commit().await.map_err(|e| sql_error(e).into_store())?;
    Ok(id)
}

/// Checks, on a new connection after a lost one, that the database holds
/// the lane's chain as far as the lane committed it. If a failover lost
/// its newest entries, the lane goes on with a new chain whose first
/// entry records the loss (`audit verify` reports it); continuing the old
/// one would hand out its lost places again.
async fn resume_chain(conn: &mut PgConnection, chain: &mut AuditChain, label: &str) -> Result<()> {
    let store_error = |error| sql_error(error).into_store();
    let mut tx = conn.begin().await.map_err(store_error)?;
    let Some(loss) =
        connecticket_store::audit_chain_loss(&mut PgExecutor::new(&mut tx), chain).await?
    else {
        return tx.rollback().await.map_err(store_error);
    };
    let now = SystemClock.now();
    let label = connecticket_store::writer_label(label);
    let id =
        connecticket_store::create_audit_chain(&mut PgExecutor::new(&mut tx), &label, now).await?;
    let mut fresh = AuditChain::new(id);
    if loss.lost() == 0 {
        // Only the empty chain's row was lost: nothing to report.
        tx.commit().await.map_err(store_error)?;
        *chain = fresh;
        return Ok(());
    }
    connecticket_store::record_audit_chain_loss(
        &mut PgExecutor::writer(&mut tx, &mut fresh),
        &loss,
        now,
    )
    .await?;
    tx.commit().await.map_err(store_error)?;
    fresh.committed();
    tracing::error!(
        chain = loss.chain_id,
        new_chain = id,
        lost = loss.lost(),
        "audit entries committed before a failover are not on the new primary; continuing on a new chain"
    );
    *chain = fresh;
    Ok(())
}

/// The latest deadline among the batch's writes that have one: how long
/// its callers wait for its COMMIT.
fn latest_deadline(batch: &[Box<dyn LaneJob>]) -> Option<Instant> {
    batch.iter().filter_map(|job| job.deadline()).max()
}

/// The statement timeout of a batch's transaction. A started write still
/// ends by its caller's deadline: a statement of it waiting on a lock past
/// that deadline is cancelled, and the job answered as withdrawn. Each job
/// gets its own bound, set just before it runs: a job without a deadline
/// (a background write) in the same batch must neither lift another's
/// bound nor be cut short by it.
#[derive(Default)]
struct StatementBound {
    /// Whether a bound was set in this transaction: rolling back to a
    /// savepoint may restore it, so every job from then on sets its own.
    ever_set: bool,
}

impl StatementBound {
    /// The statement that bounds the job about to run, if one is needed.
    fn for_job(&mut self, deadline: Option<Instant>) -> Option<String> {
        match deadline {
            Some(deadline) => {
                self.ever_set = true;
                let millis = deadline
                    .saturating_duration_since(Instant::now())
                    .as_millis()
                    .max(1);
                Some(format!("SET LOCAL statement_timeout = {millis}"))
            }
            None if self.ever_set => Some("SET LOCAL statement_timeout TO DEFAULT".to_owned()),
            None => None,
        }
    }

    /// A COMMIT waiting for a synchronous standby and cancelled by the
    /// statement timeout would be committed locally and answered as a
    /// success, unreplicated (PostgreSQL only warns): any bound is lifted
    /// first, in the same round trip.
    fn commit_statement(&self) -> &'static str {
        if self.ever_set {
            "SET LOCAL statement_timeout = 0; COMMIT"
        } else {
            "COMMIT"
        }
    }
}

/// Statements sent as one simple query (which may hold several).
fn one_round_trip<const N: usize>(statements: [Option<String>; N]) -> String {
    statements
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ")
}

/// How a batch's transaction ended, for its connection.
enum Ended {
    Committed,
    /// Not committed, or not known to be: the connection is of no further
    /// use.
    Failed,
    /// The connection itself was lost (the server went away or stopped
    /// taking writes).
    Lost,
}

/// Runs a batch of writes in one transaction.
async fn commit_writes(
    conn: &mut PgConnection,
    writes: Vec<Box<dyn LaneJob>>,
    chain: &mut AuditChain,
) -> Ended {
    // The first job's bound travels with `BEGIN`, in the same round trip.
    // The transaction is begun and ended by statements of its own rather
    // than sqlx's `Transaction`, so that the bound can be lifted in the
    // round trip that commits (below).
    let deadline = latest_deadline(&writes);
    let mut bound = StatementBound::default();
    let mut jobs = writes.into_iter().peekable();
    let first_deadline = jobs.peek().and_then(|job| job.deadline());
    let begin = one_round_trip([Some("BEGIN".to_owned()), bound.for_job(first_deadline)]);
    trace_statement(begin.as_str());
    if let Err(error) = sqlx::Executor::execute(&mut *conn, begin.as_str()).await {
        let error = sql_error(error).into_store();
        abort_writes(jobs.collect(), &error);
        return ended_by(&error);
    }
    let mut deliveries = Vec::with_capacity(jobs.len());
    let mut intact = true;
    let mut lost = false;
    // Whether the transaction is open (a failing first job ends it) and
    // whether a savepoint guards the jobs that succeeded in it.
    let mut open = true;
    let mut guarded = false;
    while let Some(job) = jobs.next() {
        let (deliver, succeeded) = job.run(&mut PgExecutor::writer(conn, chain)).await;
        deliveries.push(deliver);
        // A job's failure must undo only its own writes, so each job after
        // the first of a transaction runs in a savepoint (a subtransaction,
        // paid for in every row it writes). The first needs none: if it
        // fails, nothing else is in the transaction, which is rolled back
        // and begun again. Between two jobs one round trip ends the
        // savepoint, bounds the next job and sets its savepoint; a
        // rolled-back savepoint stays set. The last job's step is the
        // commit. Each arm says what to send, then whether a savepoint
        // guards the transaction's successful jobs and whether it is open.
        let next_deadline = jobs.peek().map(|next| next.deadline());
        let (step, now_guarded, still_open) = match (succeeded, next_deadline, guarded) {
            (true, None, _) => continue,
            (true, Some(next), true) => (
                one_round_trip([
                    Some("RELEASE SAVEPOINT job".to_owned()),
                    bound.for_job(next),
                    Some("SAVEPOINT job".to_owned()),
                ]),
                true,
                true,
            ),
            (true, Some(next), false) => (
                one_round_trip([bound.for_job(next), Some("SAVEPOINT job".to_owned())]),
                true,
                true,
            ),
            (false, Some(next), true) => (
                one_round_trip([
                    Some("ROLLBACK TO SAVEPOINT job".to_owned()),
                    bound.for_job(next),
                ]),
                true,
                true,
            ),
            (false, None, true) => ("ROLLBACK TO SAVEPOINT job".to_owned(), true, true),
            (false, Some(next), false) => {
                // The new transaction starts without the old one's bound.
                bound = StatementBound::default();
                (
                    one_round_trip([Some("ROLLBACK; BEGIN".to_owned()), bound.for_job(next)]),
                    false,
                    true,
                )
            }
            (false, None, false) => ("ROLLBACK".to_owned(), false, false),
        };
        (guarded, open) = (now_guarded, still_open);
        trace_statement(step.as_str());
        if let Err(error) = sqlx::Executor::execute(&mut *conn, step.as_str()).await {
            intact = false;
            lost = connecticket_store::is_disconnected(&sql_error(error).into_store());
            break;
        }
    }
    let failed = if lost {
        // The connection died before the commit was sent: the server
        // rolled the batch back.
        StoreError::Unreachable("the connection was lost during a write batch".to_owned())
    } else {
        StoreError::Unavailable("the write batch it was in failed".to_owned())
    };
    for job in jobs {
        job.abort(not_written(&failed));
    }
    let commit_statement = bound.commit_statement();
    let commit = if intact && !open {
        // The batch's only job failed and was rolled back: nothing to
        // commit, and its caller hears its own error.
        Ok(())
    } else if intact {
        // Nor does a caller wait past its deadline for a COMMIT that waits
        // for a synchronous standby that is gone: committed here or not,
        // nobody knows yet, and the caller is told exactly that (as are
        // the batch's writes without a deadline, whose outcome is as
        // unknown).
        trace_statement(commit_statement);
        let committing = sqlx::Executor::execute(&mut *conn, commit_statement);
        let answered = match deadline {
            Some(latest) => {
                // A job without a deadline may have run past the latest
                // one: the COMMIT gets its grace from when it is sent.
                let latest = latest.max(Instant::now());
                let until = tokio::time::Instant::from_std(latest) + COMMIT_GRACE;
                tokio::time::timeout_at(until, committing).await.ok()
            }
            None => Some(committing.await),
        };
        let committed = match answered {
            Some(Ok(_)) => Ok(()),
            Some(Err(error)) => {
                let error = sql_error(error).into_store();
                // COMMIT was sent and the connection died before its
                // answer: the batch may have committed (or be on a standby
                // about to be promoted).
                if connecticket_store::is_disconnected(&error) {
                    Err(StoreError::OutcomeUnknown)
                } else {
                    Err(error)
                }
            }
            None => Err(StoreError::OutcomeUnknown),
        };
        if committed.is_ok() {
            chain.committed();
        }
        committed
    } else {
        trace_statement("ROLLBACK");
        let _ = sqlx::Executor::execute(&mut *conn, "ROLLBACK").await;
        Err(failed)
    };
    deliver_all(deliveries, commit)
}

/// Appends a batch of entries in one statement, which commits by itself.
/// The entries are written only with the anchor's move, so nothing is
/// half done if it fails.
async fn commit_audits(
    conn: &mut PgConnection,
    waiters: Vec<AuditWaiter>,
    chain: &mut AuditChain,
) -> Ended {
    let (deliver, appended) = append_batch(&mut PgExecutor::writer(conn, chain), waiters).await;
    deliver(Ok(()));
    if appended {
        chain.committed();
        Ended::Committed
    } else if conn.ping().await.is_err() {
        Ended::Lost
    } else {
        Ended::Failed
    }
}

fn ended_by(error: &StoreError) -> Ended {
    if error.is_outage() || connecticket_store::is_disconnected(error) {
        Ended::Lost
    } else {
        Ended::Failed
    }
}

/// Tells every caller of a batch how its commit went.
fn deliver_all(deliveries: Vec<Delivery>, commit: Result<()>) -> Ended {
    if let Err(error) = &commit {
        tracing::error!(%error, jobs = deliveries.len(), "a write batch failed to commit");
    }
    let ended = match &commit {
        Ok(()) => Ended::Committed,
        Err(error) => ended_by(error),
    };
    for deliver in deliveries {
        deliver(match &commit {
            Ok(()) => Ok(()),
            Err(StoreError::OutcomeUnknown) => Err(StoreError::OutcomeUnknown),
            Err(error) => Err(not_written(error)),
        });
    }
    ended
}
