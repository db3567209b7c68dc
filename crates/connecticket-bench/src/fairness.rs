//! Fairness: 32 clients read the unpaged list of every ticket at 64 KB/s
//! each while 16 others read ticket details and one more keeps creating
//! tickets. The detail clients should keep most of the throughput they
//! have alone, and every write should still be acknowledged. A run beside
//! the writer only tells what the writer's share of the CPU costs from
//! what the slow readers cost.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::calls::Session;
use crate::wrk::Measured;

pub const SLOW_READERS: usize = 32;
/// Each slow reader's pace.
pub const BYTES_PER_SEC: u64 = 64 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct Fairness {
    pub detail_alone: Measured,
    /// Beside the writer only: what the writer's share of the CPU costs,
    /// apart from the slow readers.
    pub detail_beside_writer: Measured,
    pub detail_beside_slow_readers: Measured,
    /// Throughput with the slow readers over throughput without.
    pub ratio: f64,
    pub slow_readers: usize,
    /// Slow readers whose list ended early (cut or failed): should be 0.
    pub slow_readers_cut: u64,
    pub slow_reader_bytes: u64,
    pub writes_acknowledged: u64,
    pub writes_failed: u64,
}

/// What runs beside the measured detail load.
struct Background {
    stop: Arc<AtomicBool>,
    bytes: Arc<AtomicU64>,
    cut: Arc<AtomicU64>,
    acknowledged: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Measures `detail` (a wrk run, given the server) alone, beside the writer
/// only, then beside the slow readers and the writer.
pub async fn run(
    base: &str,
    session: &Session,
    detail: impl Fn() -> anyhow::Result<Measured> + Send + Sync + 'static,
) -> anyhow::Result<Fairness> {
    let detail = Arc::new(detail);
    let alone = {
        let detail = Arc::clone(&detail);
        tokio::task::spawn_blocking(move || detail()).await??
    };
    let writer_only = Background::start(base, session, 0).await?;
    let beside_writer = {
        let detail = Arc::clone(&detail);
        tokio::task::spawn_blocking(move || detail()).await??
    };
    let writer_figures = writer_only.stop().await;
    let background = Background::start(base, session, SLOW_READERS).await?;
    let beside = {
        let detail = Arc::clone(&detail);
        tokio::task::spawn_blocking(move || detail()).await??
    };
    let figures = background.stop().await;
    Ok(Fairness {
        ratio: beside.requests_per_sec / alone.requests_per_sec.max(1e-9),
        detail_alone: alone,
        detail_beside_writer: beside_writer,
        detail_beside_slow_readers: beside,
        slow_readers: SLOW_READERS,
        slow_readers_cut: figures.0,
        slow_reader_bytes: figures.1,
        writes_acknowledged: figures.2 + writer_figures.2,
        writes_failed: figures.3 + writer_figures.3,
    })
}

impl Background {
    /// Starts `readers` slow readers and the writer.
    async fn start(base: &str, session: &Session, readers: usize) -> anyhow::Result<Background> {
        let background = Background {
            stop: Arc::new(AtomicBool::new(false)),
            bytes: Arc::new(AtomicU64::new(0)),
            cut: Arc::new(AtomicU64::new(0)),
            acknowledged: Arc::new(AtomicU64::new(0)),
            failed: Arc::new(AtomicU64::new(0)),
            tasks: Vec::new(),
        };
        let mut background = background;
        let address = base.trim_start_matches("http://").to_owned();
        for _ in 0..readers {
            let stream = TcpStream::connect(&address)
                .await
                .context("connect a slow reader")?;
            background.tasks.push(tokio::spawn(slow_reader(
                stream,
                request(&address, session),
                Arc::clone(&background.stop),
                Arc::clone(&background.bytes),
                Arc::clone(&background.cut),
            )));
        }
        background.tasks.push(tokio::spawn(writer(
            base.to_owned(),
            session.clone(),
            Arc::clone(&background.stop),
            Arc::clone(&background.acknowledged),
            Arc::clone(&background.failed),
        )));
        // Every reader is receiving before the measurement starts.
        let started = Instant::now();
        while background.bytes.load(Ordering::Relaxed) < readers as u64 * 16 * 1024
            && started.elapsed() < Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(background)
    }

    /// Stops everything; answers (cut readers, bytes read, writes
    /// acknowledged, writes failed).
    async fn stop(self) -> (u64, u64, u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            let _ = task.await;
        }
        (
            self.cut.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
            self.acknowledged.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

fn request(address: &str, session: &Session) -> String {
    format!(
        "GET /api/{}/tickets HTTP/1.1\r\nHost: {address}\r\napi_key: {}\r\napi_secret: {}\r\n\r\n",
        session.token, session.api_key, session.api_secret
    )
}

/// Reads at `BYTES_PER_SEC` until told to stop.
async fn slow_reader(
    mut stream: TcpStream,
    request: String,
    stop: Arc<AtomicBool>,
    total: Arc<AtomicU64>,
    cut: Arc<AtomicU64>,
) {
    if stream.write_all(request.as_bytes()).await.is_err() {
        cut.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let started = Instant::now();
    let mut read = 0u64;
    let mut buffer = vec![0u8; 8 * 1024];
    while !stop.load(Ordering::Relaxed) {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => {
                cut.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Ok(n) => {
                read += n as u64;
                total.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
        let due = Duration::from_secs_f64(read as f64 / BYTES_PER_SEC as f64);
        if let Some(ahead) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(ahead).await;
        }
    }
}

/// Creates tickets one after another until told to stop.
async fn writer(
    base: String,
    session: Session,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
) {
    let Ok(http) = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
    else {
        return;
    };
    let url = format!("{base}/api/{}/create_ticket", session.token);
    while !stop.load(Ordering::Relaxed) {
        let sent = http
            .post(&url)
            .header("api_key", &session.api_key)
            .header("api_secret", &session.api_secret)
            .form(&[
                ("title", "Written beside slow readers"),
                ("resident_id", "1"),
            ])
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                acknowledged.fetch_add(1, Ordering::Relaxed)
            }
            _ => failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}
