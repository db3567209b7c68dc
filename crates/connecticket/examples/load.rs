//! A load benchmark: the real server on an ephemeral port with the demo
//! data, driven over HTTP by concurrent clients. Prints throughput and
//! latency per call.
//!
//!     cargo run --release -p connecticket --example load -- [--requests 2000] [--concurrency 32] [--database URL]
//!
//! `--database` defaults to a fresh SQLite file; give an empty
//! `postgres://…` database to measure PostgreSQL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use connecticket::database::{self, StoreOptions};
use connecticket::server::{self, ServerConfig};
use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET};
use connecticket_domain::service::throttle::ThrottleSettings;
use connecticket_domain::service::ApiSettings;
use tokio::sync::Semaphore;

struct Options {
    requests: usize,
    concurrency: usize,
    database: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        requests: 2000,
        concurrency: 32,
        database: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--requests" => options.requests = value.parse().map_err(|_| "--requests: a number")?,
            "--concurrency" => {
                options.concurrency = value.parse().map_err(|_| "--concurrency: a number")?
            }
            "--database" => options.database = Some(value),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(options)
}

/// Runs `count` calls of `call` with `concurrency` in flight; prints
/// throughput and latency percentiles.
async fn measure<F, Fut>(name: &str, count: usize, concurrency: usize, call: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let call = Arc::new(call);
    let slots = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for n in 0..count {
        let (call, slots) = (Arc::clone(&call), Arc::clone(&slots));
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire_owned().await.ok()?;
            let begun = Instant::now();
            call(n).await.then(|| begun.elapsed())
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(count);
    let mut failures = 0;
    for task in tasks {
        match task.await.ok().flatten() {
            Some(latency) => latencies.push(latency),
            None => failures += 1,
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{name:<28} {count:>6} calls  {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  failures {failures}",
        count as f64 / elapsed.as_secs_f64(),
        percentile(0.50),
        percentile(0.99),
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options()?;
    let dir = tempfile::tempdir()?;
    let url = options
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("load.db").display()));
    let store = database::open(&url, StoreOptions::default()).await?;
    let config = ServerConfig {
        demo: true,
        api: ApiSettings {
            throttle: ThrottleSettings {
                token_requests: 0,
                ..ThrottleSettings::default()
            },
            ..ApiSettings::default()
        },
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let server = server::start(listener, store, config).await?;
    let base = format!("http://{}", server.local_addr()?);
    tokio::spawn(server.serve(std::future::pending()));

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .build()?;
    let authorized: serde_json::Value = http
        .post(format!("{base}/api/authorize"))
        .header("api_key", DEMO_API_KEY)
        .header("api_secret", DEMO_API_SECRET)
        .send()
        .await?
        .json()
        .await?;
    let token = authorized["access_token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let api = Arc::new(format!("{base}/api/{token}"));
    let signed = move |request: reqwest::RequestBuilder| {
        request
            .header("api_key", DEMO_API_KEY)
            .header("api_secret", DEMO_API_SECRET)
    };
    println!(
        "backend: {}  requests per call: {}  concurrency: {}",
        url.split(':').next().unwrap_or("?"),
        options.requests,
        options.concurrency
    );

    let (client, base_api) = (http.clone(), Arc::clone(&api));
    measure(
        "create_ticket",
        options.requests,
        options.concurrency,
        move |n| {
            let request = signed(client.post(format!("{base_api}/create_ticket"))).form(&[
                ("title", format!("Load {n}")),
                ("resident_id", "501333996".to_owned()),
                ("category_19", "Issue".to_owned()),
            ]);
            async move {
                request
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false)
            }
        },
    )
    .await;
    let (client, base_api) = (http.clone(), Arc::clone(&api));
    measure(
        "ticket_detail",
        options.requests,
        options.concurrency,
        move |n| {
            let request =
                signed(client.get(format!("{base_api}/ticket_detail?id={}", 302 + n % 100)));
            async move {
                request
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false)
            }
        },
    )
    .await;
    let (client, base_api) = (http.clone(), Arc::clone(&api));
    measure(
        "update_status",
        options.requests,
        options.concurrency,
        move |n| {
            let status = ["Open", "In Progress", "Resolved"][n % 3];
            let request = signed(client.post(format!(
                "{base_api}/update_status?id={}&status={status}",
                302 + n % 100
            )));
            async move {
                request
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false)
            }
        },
    )
    .await;
    let (client, base_api) = (http.clone(), Arc::clone(&api));
    measure("tickets (whole list)", 20, 4, move |_| {
        let request = signed(client.get(format!("{base_api}/tickets")));
        async move {
            match request.send().await {
                Ok(response) => response.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await;
    Ok(())
}
