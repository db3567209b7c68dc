//! The unpaged list of a provider with a million tickets: how soon its
//! first byte arrives, and how much memory the server needs to stream it.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::calls::Session;
use crate::process::PeakRss;

#[derive(Debug, Clone, Serialize)]
pub struct BigList {
    pub tickets: u64,
    /// The best and the median of the runs, from request to first byte.
    pub first_byte_ms_best: f64,
    pub first_byte_ms_median: f64,
    pub seconds_to_last_byte: f64,
    pub megabytes: f64,
    /// The server's peak resident memory while streaming, in MiB.
    pub peak_rss_mib: Option<f64>,
    /// Its resident memory before the first list, in MiB.
    pub rss_before_mib: Option<f64>,
}

const RUNS: usize = 3;

pub async fn run(
    base: &str,
    session: &Session,
    tickets: u64,
    server: PeakRss,
) -> anyhow::Result<BigList> {
    let address = base.trim_start_matches("http://").to_owned();
    let rss_before_mib = server.current_mib();
    server.reset();
    let mut first_bytes = Vec::new();
    let mut last = (Duration::ZERO, 0u64);
    for _ in 0..RUNS {
        let (first_byte, total, bytes) = one_list(&address, session).await?;
        first_bytes.push(first_byte.as_secs_f64() * 1000.0);
        last = (total, bytes);
    }
    first_bytes.sort_by(f64::total_cmp);
    Ok(BigList {
        tickets,
        first_byte_ms_best: first_bytes[0],
        first_byte_ms_median: first_bytes[RUNS / 2],
        seconds_to_last_byte: last.0.as_secs_f64(),
        megabytes: last.1 as f64 / 1e6,
        peak_rss_mib: server.peak_mib(),
        rss_before_mib,
    })
}

/// One list read as fast as the client can: (first byte, last byte, bytes).
async fn one_list(address: &str, session: &Session) -> anyhow::Result<(Duration, Duration, u64)> {
    let mut stream = TcpStream::connect(address).await.context("connect")?;
    let request = format!(
        "GET /api/{}/tickets HTTP/1.1\r\nHost: {address}\r\napi_key: {}\r\napi_secret: {}\r\nConnection: close\r\n\r\n",
        session.token, session.api_key, session.api_secret
    );
    let started = Instant::now();
    stream.write_all(request.as_bytes()).await?;
    let mut buffer = vec![0u8; 256 * 1024];
    let mut first_byte = None;
    let mut bytes = 0u64;
    let mut tail = Vec::new();
    loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        first_byte.get_or_insert_with(|| started.elapsed());
        bytes += n as u64;
        tail.extend_from_slice(&buffer[..n]);
        let keep = tail.len().saturating_sub(16);
        tail.drain(..keep);
    }
    let Some(first_byte) = first_byte else {
        bail!("the server sent nothing");
    };
    // A chunked answer that ended properly ends with the empty chunk.
    if !tail.ends_with(b"0\r\n\r\n") {
        bail!("the list did not end properly");
    }
    Ok((first_byte, started.elapsed(), bytes))
}
