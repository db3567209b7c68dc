//! A read abandoned part-way (its client went away, or its deadline
//! passed) must not hand its pooled connection to the next caller inside
//! a transaction that nothing will end: that caller's single-statement
//! reads would see a stale snapshot, and the server would hold back vacuum
//! meanwhile. (sqlx's `begin` is not cancel-safe on PostgreSQL:
//! sqlx#4393.)
//!
//! To abandon a read exactly while its `BEGIN` is on the wire, the store
//! talks to PostgreSQL through a proxy that holds back the server's answer
//! to a `BEGIN` until told to let it through.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use connecticket_domain::model::{ProviderId, TicketId};
use connecticket_domain::store::TicketStore;
use connecticket_domain::StoreError;
use connecticket_store::testing::{eventually, TestDatabase};
use connecticket_store::Engine;
use connecticket_store_postgres::{PostgresOptions, PostgresStore};
use sqlx::{Connection, PgConnection, Row};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;

mod support;

/// Forwards connections to PostgreSQL; once armed, after a client sends a
/// `BEGIN` the server's bytes wait until `release` is set.
struct Proxy {
    port: u16,
    armed: watch::Sender<bool>,
    /// The local port of the upstream connection that carried each `BEGIN`
    /// while armed: the backend's `client_port` in `pg_stat_activity`.
    begins: Mutex<mpsc::UnboundedReceiver<u16>>,
    release: watch::Sender<bool>,
}

impl Proxy {
    async fn start(server: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (begin_seen, begins) = mpsc::unbounded_channel();
        let (release, released) = watch::channel(false);
        let (armed, is_armed) = watch::channel(false);
        let server = server.to_owned();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = TcpStream::connect(&server).await.expect("connect upstream");
                tokio::spawn(forward(
                    client,
                    upstream,
                    is_armed.clone(),
                    begin_seen.clone(),
                    released.clone(),
                ));
            }
        });
        Proxy {
            port,
            armed,
            begins: Mutex::new(begins),
            release,
        }
    }
}

async fn forward(
    client: TcpStream,
    upstream: TcpStream,
    armed: watch::Receiver<bool>,
    begin_seen: mpsc::UnboundedSender<u16>,
    mut released: watch::Receiver<bool>,
) {
    let upstream_port = upstream.local_addr().expect("upstream addr").port();
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = upstream.into_split();
    let (holding_tx, mut holding) = watch::channel(false);
    let to_server = async move {
        let mut buffer = vec![0; 64 * 1024];
        while let Ok(read) = client_read.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            let bytes = &buffer[..read];
            let begin = *armed.borrow() && bytes.windows(5).any(|window| window == b"BEGIN");
            if begin {
                let _ = holding_tx.send(true);
            }
            if server_write.write_all(bytes).await.is_err() {
                break;
            }
            if begin {
                let _ = begin_seen.send(upstream_port);
            }
        }
    };
    let to_client = async move {
        let mut buffer = vec![0; 64 * 1024];
        while let Ok(read) = server_read.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            if *holding.borrow_and_update() {
                let _ = released.wait_for(|released| *released).await;
            }
            if client_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
    };
    tokio::join!(to_server, to_client);
}

/// The state of the backend whose client is on `port` (none once it ended).
async fn backend_state(url: &str, port: u16) -> Option<String> {
    let mut admin = PgConnection::connect(url).await.expect("connect");
    sqlx::query(
        "SELECT state FROM pg_stat_activity
         WHERE datname = current_database() AND client_port = $1",
    )
    .bind(i32::from(port))
    .fetch_optional(&mut admin)
    .await
    .expect("pg_stat_activity")
    .map(|row| row.get::<Option<String>, _>("state").unwrap_or_default())
}

#[tokio::test]
async fn a_read_abandoned_during_its_begin_leaves_no_transaction_open() {
    let Some(database) = TestDatabase::postgres_unmigrated().await else {
        return;
    };
    let url = url::Url::parse(&database.url).expect("url");
    let upstream = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().unwrap_or(5432)
    );
    // Migrated directly; then the store under test goes through the proxy,
    // with one connection for reads, so that every read reuses the one
    // given back.
    drop(
        connecticket_store_postgres::open(&database.url, PostgresOptions::default())
            .await
            .expect("migrate"),
    );
    let proxy = Proxy::start(&upstream).await;
    let mut through_proxy = url.clone();
    through_proxy.set_port(Some(proxy.port)).expect("port");
    through_proxy.set_query(Some("sslmode=disable"));
    let options = PostgresOptions {
        pool_size: 1,
        write_lanes: 1,
        ..PostgresOptions::default()
    };
    let store = connecticket_store_postgres::open(through_proxy.as_str(), options)
        .await
        .expect("open through the proxy");

    // A read whose BEGIN is on the wire is abandoned (its client left).
    proxy.armed.send(true).expect("arm");
    let store = Arc::new(store);
    let reader = Arc::clone(&store);
    let read = tokio::spawn(async move {
        // A ticket's history is read in a transaction.
        let _ = reader.status_history(ProviderId(1), TicketId(1)).await;
    });
    let port = tokio::time::timeout(Duration::from_secs(10), async {
        proxy.begins.lock().await.recv().await
    })
    .await
    .expect("the read sent its BEGIN")
    .expect("the proxy runs");
    // The database began the transaction; its answer is held back.
    eventually("the read's transaction to begin", || async {
        let state = backend_state(&database.url, port).await;
        (state.as_deref() == Some("idle in transaction")).then_some(())
    })
    .await;
    read.abort();
    let _ = read.await;
    proxy.release.send(true).expect("release");

    // Whatever the abandoned read's connection does now, it must end that
    // transaction: by closing (the backend goes away) or by rolling back.
    // Left in it, the backend stays "idle in transaction" and this fails.
    eventually("the abandoned read's transaction to end", || async {
        match backend_state(&database.url, port).await.as_deref() {
            None | Some("idle") => Some(()),
            Some(_) => None,
        }
    })
    .await;
    drop(store);
}

/// A write that shares its batch with a write without a deadline (a
/// background one) still ends by its own caller's deadline: a statement of
/// it waiting on a lock is cancelled then, and the write is withdrawn,
/// while the other write commits. (The batch's bound was once the latest of
/// its writes' deadlines, none when one had none: the request waited for
/// the lock as long as it was held.)
#[tokio::test]
async fn a_write_keeps_its_deadline_in_a_batch_with_one_without() {
    bounded_write_after(FirstJob::Commits).await;
}

/// The same when the first job of the batch fails and its transaction is
/// begun again for the write: the new transaction carries the bound too.
#[tokio::test]
async fn a_write_keeps_its_deadline_after_a_failed_first_job() {
    bounded_write_after(FirstJob::Fails).await;
}

#[derive(Clone, Copy, PartialEq)]
enum FirstJob {
    Commits,
    /// Writes, then runs a statement that aborts the transaction.
    Fails,
}

/// Queues a write without a deadline that ends as `first` says, then a
/// write with one that waits on a lock, so that both share one batch.
async fn bounded_write_after(first: FirstJob) {
    let Some(mut lane) = OneLane::open().await else {
        return;
    };
    let mut holder = PgConnection::connect(&lane.database.url)
        .await
        .expect("connect");
    sqlx::raw_sql("BEGIN; LOCK TABLE probe_locked IN EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .expect("lock");
    let busy = lane.occupy().await;
    let background = lane.write(None, move |tx| {
        Box::pin(async move {
            run(tx, "INSERT INTO probe_free VALUES (1)").await?;
            match first {
                FirstJob::Commits => Ok(()),
                FirstJob::Fails => run(tx, "SELECT no_such_column FROM probe_free").await,
            }
        })
    });
    let deadline = Instant::now() + Duration::from_millis(1500);
    let bounded = lane.write(Some(deadline), |tx| {
        Box::pin(async move { run(tx, "INSERT INTO probe_locked VALUES (1)").await })
    });

    let outcome = tokio::time::timeout(Duration::from_secs(15), bounded)
        .await
        .expect("the write outlived its deadline, waiting on the lock")
        .expect("the write's task");
    assert!(matches!(outcome, Err(StoreError::Withdrawn)), "{outcome:?}");
    assert!(busy.await.expect("task").is_ok());
    let background = background.await.expect("task");
    assert_eq!(
        background.is_ok(),
        first == FirstJob::Commits,
        "{background:?}"
    );
    sqlx::raw_sql("COMMIT")
        .execute(&mut holder)
        .await
        .expect("unlock");
    assert_eq!(
        lane.count("probe_locked").await,
        0,
        "the withdrawn write was committed"
    );
    let kept = i64::from(first == FirstJob::Commits);
    assert_eq!(lane.count("probe_free").await, kept);
}

/// A write without a deadline that follows a bounded one in the same batch
/// runs unbounded, past the other's deadline, and its batch commits: the
/// bound does not carry over to it, and the COMMIT, sent after the latest
/// deadline, still gets its grace before its outcome is called unknown.
#[tokio::test]
async fn a_write_without_a_deadline_is_not_cut_short_by_its_batch() {
    let Some(lane) = OneLane::open().await else {
        return;
    };
    let busy = lane.occupy().await;
    let deadline = Instant::now() + Duration::from_millis(1000);
    let bounded = lane.write(Some(deadline), |tx| {
        Box::pin(async move { run(tx, "INSERT INTO probe_free VALUES (1)").await })
    });
    let long = lane.write(None, |tx| {
        Box::pin(async move {
            run(tx, "SELECT pg_sleep(2)").await?;
            run(tx, "INSERT INTO probe_free VALUES (2)").await
        })
    });
    assert!(busy.await.expect("task").is_ok());
    let long = long.await.expect("task");
    assert!(long.is_ok(), "the write without a deadline: {long:?}");
    let bounded = bounded.await.expect("task");
    assert!(bounded.is_ok(), "the bounded write: {bounded:?}");
    let mut lane = lane;
    assert_eq!(lane.count("probe_free").await, 2);
}

/// A store with one write lane, on a fresh database with two probe tables.
struct OneLane {
    database: TestDatabase,
    store: Arc<PostgresStore>,
    admin: PgConnection,
}

impl OneLane {
    async fn open() -> Option<OneLane> {
        let database = TestDatabase::postgres_unmigrated().await?;
        let store = support::open_one_lane(&database.url).await;
        let mut admin = PgConnection::connect(&database.url).await.expect("connect");
        sqlx::raw_sql("CREATE TABLE probe_locked (n INT); CREATE TABLE probe_free (n INT)")
            .execute(&mut admin)
            .await
            .expect("probe tables");
        Some(OneLane {
            database,
            store: Arc::new(store),
            admin,
        })
    }

    /// Keeps the lane busy for half a second, so that the writes queued
    /// next share one batch.
    async fn occupy(&self) -> JoinHandle<Result<(), StoreError>> {
        let busy = self.write(None, |tx| {
            Box::pin(async move { run(tx, "SELECT pg_sleep(0.5)").await })
        });
        eventually("the lane to be busy", || async {
            let mut watcher = PgConnection::connect(&self.database.url)
                .await
                .expect("connect");
            let row = sqlx::query(
                "SELECT count(*) AS busy FROM pg_stat_activity
                 WHERE datname = current_database() AND query = 'SELECT pg_sleep(0.5)'",
            )
            .fetch_one(&mut watcher)
            .await
            .expect("pg_stat_activity");
            (row.get::<i64, _>("busy") > 0).then_some(())
        })
        .await;
        busy
    }

    /// Queues `job` on the lane, by `deadline` if any.
    fn write(
        &self,
        deadline: Option<Instant>,
        job: impl connecticket_store::Job<()>,
    ) -> JoinHandle<Result<(), StoreError>> {
        let store = Arc::clone(&self.store);
        tokio::spawn(async move { store.engine().write_by(deadline, job).await })
    }

    async fn count(&mut self, table: &str) -> i64 {
        sqlx::query(&format!("SELECT count(*) AS n FROM {table}"))
            .fetch_one(&mut self.admin)
            .await
            .expect("count")
            .get::<i64, _>("n")
    }
}

async fn run(tx: &mut dyn connecticket_store::Executor, sql: &str) -> Result<(), StoreError> {
    tx.execute(sql, &[])
        .await
        .map_err(|error| error.into_store())?;
    Ok(())
}
