//! PostgreSQL's own ceiling for the statements each write sends:
//! `bench/postgres-ceiling/run` on the benchmark's database, with the
//! server stopped, at wrk's concurrency and for wrk's duration. Its
//! scripts hold the server's statements (a test in
//! `connecticket-store-postgres` compares them), so a write's rate over
//! its script's is how much of what PostgreSQL allows the server gets.

use std::collections::BTreeMap;
use std::process::Command;

use anyhow::{bail, Context};

use crate::wrk::Settings;

/// Each write call of the benchmark and the script of its statements.
pub const WRITES: [(&str, &str); 4] = [
    ("create_ticket", "create_ticket"),
    ("create_ticket_file", "create_ticket_file"),
    ("update_status_rnd", "update_status"),
    ("create_comment_rnd", "create_comment"),
];

/// Transactions per second of each script, by script.
pub async fn run(url: &str, settings: &Settings) -> anyhow::Result<BTreeMap<String, f64>> {
    let scripts: Vec<&str> = WRITES.iter().map(|(_, script)| *script).collect();
    let seconds = settings.duration.trim_end_matches('s').to_owned();
    let (url, settings) = (url.to_owned(), settings.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .arg("bench/postgres-ceiling/run")
            .arg(&url)
            .env("PGBENCH_SCRIPTS", scripts.join(" "))
            .env("PGBENCH_SECONDS", seconds)
            .env("WRK_CONNS", settings.connections.to_string())
            .env("WRK_THREADS", settings.threads.to_string())
            .output()
    })
    .await?
    .context("cannot run bench/postgres-ceiling/run")?;
    if !output.status.success() {
        bail!(
            "bench/postgres-ceiling/run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(parse(&String::from_utf8_lossy(&output.stdout)))
}

/// `script  1234 tps` lines; a script that failed has none.
fn parse(output: &str) -> BTreeMap<String, f64> {
    output
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let script = words.next()?;
            let tps = words.next()?.parse().ok()?;
            (words.next() == Some("tps")).then(|| (script.to_owned(), tps))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_scripts_rate_and_skips_failures() {
        let output = "# pgbench: 2 threads\ncreate_ticket                      5276 tps\nupdate_status                    failed tps\n";
        let rates = parse(output);
        assert_eq!(rates.get("create_ticket"), Some(&5276.0));
        assert_eq!(rates.len(), 1);
    }
}
