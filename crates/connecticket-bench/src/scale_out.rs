//! Two instances on one PostgreSQL database: their combined create_ticket
//! throughput against one instance's, and what writes wait for meanwhile,
//! sampled from `pg_locks`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;
use sqlx::Connection;

use crate::process::Server;
use crate::wrk::{self, Measured, Settings};

#[derive(Debug, Clone, Serialize)]
pub struct ScaleOut {
    pub one_instance: Measured,
    pub first_of_two: Measured,
    pub second_of_two: Measured,
    pub combined_requests_per_sec: f64,
    /// Combined over one instance alone.
    pub ratio: f64,
    pub lock_samples: u64,
    /// Samples in which some session waited for a lock held to commit
    /// (rows, transactions, tables, advisory locks), by lock.
    pub waits_held_to_commit: BTreeMap<String, u64>,
    /// Samples showing a wait for a relation extension lock: PostgreSQL's
    /// own, held for an instant while a table grows by a page.
    pub extension_lock_waits: u64,
}

pub async fn run(
    database_url: &str,
    servers: [&Server; 2],
    script: &str,
    settings: &Settings,
    scratch: &Path,
) -> anyhow::Result<ScaleOut> {
    let one_instance = {
        let (settings, url, script, scratch) = (
            settings.clone(),
            servers[0].base.clone(),
            script.to_owned(),
            scratch.to_owned(),
        );
        let memory = servers[0].memory();
        tokio::task::spawn_blocking(move || {
            wrk::run(&settings, &url, &script, &scratch, Some(&memory))
        })
        .await??
    };
    // The same connections in total, half on each instance.
    let half = settings.with_connections(settings.connections / 2);
    let first = wrk::spawn(&half, &servers[0].base, script, scratch, "first")?;
    let second = wrk::spawn(&half, &servers[1].base, script, scratch, "second")?;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample_locks(database_url.to_owned(), Arc::clone(&stop)));
    let (first, second) =
        tokio::task::spawn_blocking(move || (wrk::finish(first), wrk::finish(second))).await?;
    stop.store(true, Ordering::Relaxed);
    let (lock_samples, waits, extension_lock_waits) = sampler.await??;
    let (first, second) = (first?, second?);
    let combined = first.requests_per_sec + second.requests_per_sec;
    Ok(ScaleOut {
        ratio: combined / one_instance.requests_per_sec.max(1e-9),
        combined_requests_per_sec: combined,
        one_instance,
        first_of_two: first,
        second_of_two: second,
        lock_samples,
        waits_held_to_commit: waits,
        extension_lock_waits,
    })
}

async fn sample_locks(
    url: String,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<(u64, BTreeMap<String, u64>, u64)> {
    let mut connection = sqlx::PgConnection::connect(&url).await?;
    let (mut samples, mut waits, mut extension) = (0u64, BTreeMap::new(), 0u64);
    while !stop.load(Ordering::Relaxed) {
        let waiting: Vec<String> = sqlx::query_scalar(
            "SELECT l.locktype || ' ' || l.mode || ' ' || COALESCE(l.relation::regclass::text, '') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE NOT l.granted AND a.datname = current_database()",
        )
        .fetch_all(&mut connection)
        .await?;
        samples += 1;
        for lock in waiting {
            if lock.starts_with("extend ") {
                extension += 1;
            } else {
                *waits.entry(lock).or_insert(0) += 1;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Ok((samples, waits, extension))
}
