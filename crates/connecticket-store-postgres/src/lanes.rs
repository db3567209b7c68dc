//! Writes commit in groups, as on SQLite: a few lanes, each a task with a
//! connection and an audit chain of its own. A lane takes every job
//! waiting (up to a batch), runs each in its own savepoint inside one
//! transaction, commits once and only then answers each caller: concurrent
//! writes share one commit, and a failing job rolls back alone. Lanes never
//! wait on each other, nor on another instance's lanes: each appends to its
//! own chain.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use connecticket_domain::audit::AuditEntry;
use connecticket_domain::clock::{Clock, SystemClock};
use connecticket_domain::StoreError;
use connecticket_store::{append_waiting, AuditWaiter, Executor, Job};
use futures::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgPool, Postgres};
use tokio::sync::{mpsc, oneshot, watch, Mutex};

use crate::executor::{sql_error, PgExecutor};

/// Jobs waiting beyond this make callers wait for room.
const QUEUE_DEPTH: usize = 1024;
/// The most jobs that share one transaction.
const MAX_BATCH: usize = 128;

/// Where a queued job stands; see SQLite's writer: a caller whose deadline
/// passes withdraws a job that has not started, and waits for one that has.
const QUEUED: u8 = 0;
const STARTED: u8 = 1;
const WITHDRAWN: u8 = 2;

type Result<T> = std::result::Result<T, StoreError>;
type Delivery = Box<dyn FnOnce(Result<()>) + Send>;

trait LaneJob: Send {
    /// Claims the job for running; false once its caller withdrew it.
    fn start(&self) -> bool;
    /// When its caller stops waiting, if ever.
    fn deadline(&self) -> Option<Instant>;
    /// Runs the job in a savepoint; answers how to tell its caller once the
    /// commit's outcome is known, and whether the transaction is still good.
    fn run<'t>(self: Box<Self>, tx: &'t mut dyn Executor) -> BoxFuture<'t, (Delivery, bool)>;
    fn abort(self: Box<Self>, error: StoreError);
}

struct Pending<T, J> {
    job: J,
    reply: oneshot::Sender<Result<T>>,
    state: Arc<AtomicU8>,
    deadline: Option<Instant>,
}

impl<T: Send + 'static, J: Job<T>> LaneJob for Pending<T, J> {
    fn start(&self) -> bool {
        self.state
            .compare_exchange(QUEUED, STARTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    fn run<'t>(self: Box<Self>, tx: &'t mut dyn Executor) -> BoxFuture<'t, (Delivery, bool)> {
        Box::pin(async move {
            let Pending { job, reply, .. } = *self;
            let (outcome, intact) = in_savepoint(tx, job).await;
            let deliver: Delivery = Box::new(move |commit| {
                // The caller may have gone away; its write stands regardless.
                let _ = reply.send(commit.and(outcome));
            });
            (deliver, intact)
        })
    }

    fn abort(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// Runs one job so that its failure undoes only its own writes; answers
/// whether the transaction can go on.
async fn in_savepoint<T>(tx: &mut dyn Executor, job: impl Job<T>) -> (Result<T>, bool) {
    if let Err(error) = tx.execute("SAVEPOINT job", &[]).await {
        return (Err(error.into_store()), false);
    }
    // A statement cancelled because the batch's time ran out rolls back
    // with the savepoint: the write was withdrawn, never written.
    let outcome = job(tx).await.map_err(|error| {
        if is_cancelled(&error) {
            StoreError::Withdrawn
        } else {
            error
        }
    });
    let end = if outcome.is_ok() {
        tx.execute("RELEASE SAVEPOINT job", &[]).await
    } else {
        match tx.execute("ROLLBACK TO SAVEPOINT job", &[]).await {
            Ok(_) => tx.execute("RELEASE SAVEPOINT job", &[]).await,
            Err(error) => Err(error),
        }
    };
    match end {
        Ok(_) => (outcome, true),
        Err(error) => (outcome.and(Err(error.into_store())), false),
    }
}

fn is_cancelled(error: &StoreError) -> bool {
    let StoreError::Backend { source, .. } = error else {
        return false;
    };
    source
        .downcast_ref::<connecticket_store::SqlError>()
        .is_some_and(|sql| sql.kind == connecticket_store::SqlErrorKind::Cancelled)
}

/// What waits for a lane: a write, or an audit entry of a call that wrote
/// nothing (appended with the next batch).
enum Queued {
    Write(Box<dyn LaneJob>),
    Audit(AuditWaiter),
}

pub(crate) struct Lanes {
    queue: mpsc::Sender<Queued>,
    /// Set once the engine closes: idle lanes give their connections back
    /// and end.
    closing: watch::Sender<bool>,
}

impl Lanes {
    /// Starts `count` lanes on connections from `pool`.
    pub(crate) fn start(pool: PgPool, count: usize) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE_DEPTH);
        let jobs = Arc::new(Mutex::new(jobs));
        let (closing, closed) = watch::channel(false);
        for lane in 0..count.max(1) {
            tokio::spawn(run_lane(
                pool.clone(),
                Arc::clone(&jobs),
                lane,
                closed.clone(),
            ));
        }
        Lanes { queue, closing }
    }

    /// Writes and audit entries waiting for a lane.
    pub(crate) fn queued(&self) -> usize {
        QUEUE_DEPTH - self.queue.capacity()
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
        let (reply, mut answer) = oneshot::channel();
        let state = Arc::new(AtomicU8::new(QUEUED));
        let pending = Queued::Write(Box::new(Pending {
            job,
            reply,
            state: Arc::clone(&state),
            deadline,
        }));
        let unavailable = |_| StoreError::Unavailable("the write lanes have stopped".to_owned());
        let dropped = |_| StoreError::Unavailable("a write lane dropped a job".to_owned());
        let Some(deadline) = deadline else {
            self.queue.send(pending).await.map_err(unavailable)?;
            return answer.await.map_err(dropped)?;
        };
        let deadline = tokio::time::Instant::from_std(deadline);
        match tokio::time::timeout_at(deadline, self.queue.send(pending)).await {
            Ok(sent) => sent.map_err(unavailable)?,
            Err(_) => return Err(StoreError::Withdrawn),
        }
        tokio::select! {
            outcome = &mut answer => outcome.map_err(dropped)?,
            () = tokio::time::sleep_until(deadline) => {
                let withdrawn = state.compare_exchange(QUEUED, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire);
                match withdrawn {
                    Ok(_) => Err(StoreError::Withdrawn),
                    Err(_) => answer.await.map_err(dropped)?,
                }
            }
        }
    }
}

impl Lanes {
    /// Queues `entry` for the next batch; resolves once it is durable.
    pub(crate) async fn append_audit(&self, entry: AuditEntry) -> Result<()> {
        let (waiter, answer) = AuditWaiter::new(entry);
        self.queue
            .send(Queued::Audit(waiter))
            .await
            .map_err(|_| StoreError::Unavailable("the write lanes have stopped".to_owned()))?;
        answer.await
    }
}

/// A batch as a lane runs it: writes that were not withdrawn, and entries.
#[derive(Default)]
struct Batch {
    writes: Vec<Box<dyn LaneJob>>,
    audits: Vec<AuditWaiter>,
}

impl Batch {
    fn of(queued: Vec<Queued>) -> Batch {
        let mut batch = Batch::default();
        for item in queued {
            match item {
                // Withdrawn jobs were answered by their callers; the rest start.
                Queued::Write(job) if job.start() => batch.writes.push(job),
                Queued::Write(_) => {}
                Queued::Audit(waiter) => batch.audits.push(waiter),
            }
        }
        batch
    }

    fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.audits.is_empty()
    }

    fn abort_all(self, message: &str) {
        tracing::error!(error = message, "a write batch could not run");
        for job in self.writes {
            job.abort(StoreError::Unavailable(message.to_owned()));
        }
        for waiter in self.audits {
            waiter.abort(StoreError::Unavailable(message.to_owned()));
        }
    }
}

async fn run_lane(
    pool: PgPool,
    jobs: Arc<Mutex<mpsc::Receiver<Queued>>>,
    lane: usize,
    mut closed: watch::Receiver<bool>,
) {
    let mut connection: Option<PoolConnection<Postgres>> = None;
    let mut chain: Option<i64> = None;
    loop {
        let batch = {
            let mut jobs = tokio::select! {
                jobs = jobs.lock() => jobs,
                _ = closed.wait_for(|closed| *closed) => return,
            };
            let first = tokio::select! {
                first = jobs.recv() => first,
                _ = closed.wait_for(|closed| *closed) => None,
            };
            let Some(first) = first else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        let batch = Batch::of(batch);
        if batch.is_empty() {
            continue;
        }
        let conn = match &mut connection {
            Some(conn) => conn,
            None => match pool.acquire().await {
                Ok(conn) => connection.insert(conn),
                Err(error) => {
                    batch.abort_all(&format!("no connection for writes: {error}"));
                    continue;
                }
            },
        };
        let chain_id = match chain {
            Some(id) => id,
            None => match create_chain(conn, lane).await {
                Ok(id) => *chain.insert(id),
                Err(error) => {
                    batch.abort_all(&format!("cannot create the audit chain: {error}"));
                    connection = None;
                    continue;
                }
            },
        };
        if !commit_batch(conn, batch, chain_id).await {
            // The connection may be broken; a fresh one serves the next batch.
            connection = None;
        }
    }
}

async fn create_chain(conn: &mut PoolConnection<Postgres>, lane: usize) -> Result<i64> {
    let mut tx = conn.begin().await.map_err(|e| sql_error(e).into_store())?;
    let label = connecticket_store::writer_label(&format!("PostgreSQL write lane {lane}"));
    let id = connecticket_store::create_audit_chain(
        &mut PgExecutor::new(&mut tx),
        &label,
        SystemClock.now(),
    )
    .await?;
    tx.commit().await.map_err(|e| sql_error(e).into_store())?;
    Ok(id)
}

/// The latest deadline of the batch's writes, or `None` when one has none.
fn latest_deadline(batch: &[Box<dyn LaneJob>]) -> Option<Instant> {
    batch
        .iter()
        .map(|job| job.deadline())
        .try_fold(None::<Instant>, |latest, deadline| {
            deadline.map(|d| Some(latest.map_or(d, |l| l.max(d))))
        })
        .flatten()
}

/// Runs a batch in one transaction; false when the connection looks broken.
async fn commit_batch(conn: &mut PoolConnection<Postgres>, batch: Batch, chain: i64) -> bool {
    let mut tx = match conn.begin().await {
        Ok(tx) => tx,
        Err(error) => {
            batch.abort_all(&format!("cannot begin a write batch: {error}"));
            return false;
        }
    };
    let Batch { writes, audits } = batch;
    let mut deliveries = Vec::with_capacity(writes.len() + 1);
    let mut intact = true;
    {
        let mut executor = PgExecutor::writer(&mut tx, chain);
        // A started write still ends by its caller's deadline: a statement
        // waiting on a lock past the latest deadline in the batch is
        // cancelled (and its job answered as withdrawn). Jobs without a
        // deadline leave the time unbounded.
        if let Some(latest) = latest_deadline(&writes) {
            let millis = latest
                .saturating_duration_since(Instant::now())
                .as_millis()
                .max(1);
            let limit = format!("SET LOCAL statement_timeout = {millis}");
            if let Err(error) = executor.execute(&limit, &[]).await {
                let _ = tx.rollback().await;
                Batch { writes, audits }
                    .abort_all(&format!("cannot bound the write batch: {error}"));
                return false;
            }
        }
        let mut jobs = writes.into_iter();
        for job in jobs.by_ref() {
            let (deliver, still_intact) = job.run(&mut executor).await;
            deliveries.push(deliver);
            if !still_intact {
                intact = false;
                break;
            }
        }
        for job in jobs {
            job.abort(StoreError::Unavailable(
                "the write batch it was in failed".to_owned(),
            ));
        }
        if intact && !audits.is_empty() {
            let (deliver, still_intact) = append_waiting(&mut executor, audits).await;
            deliveries.push(deliver);
            intact = still_intact;
        } else {
            for waiter in audits {
                waiter.abort(StoreError::Unavailable(
                    "the write batch it was in failed".to_owned(),
                ));
            }
        }
    }
    let commit = if intact {
        tx.commit().await.map_err(|e| sql_error(e).into_store())
    } else {
        let _ = tx.rollback().await;
        Err(StoreError::Unavailable("the write batch failed".to_owned()))
    };
    if let Err(error) = &commit {
        tracing::error!(%error, jobs = deliveries.len(), "a write batch failed to commit");
    }
    let committed = commit.is_ok();
    for deliver in deliveries {
        deliver(match &commit {
            Ok(()) => Ok(()),
            Err(error) => Err(StoreError::Unavailable(format!(
                "the write batch failed to commit: {error}"
            ))),
        });
    }
    committed
}
