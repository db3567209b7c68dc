//! Load from wrk, with the settings `../shared/bench/lib-wrk.sh` gives the
//! floor (read from the same environment variables), so that both sides of
//! every ratio are measured alike. Each run gets a Lua script whose
//! `done()` reports what wrk's own summary leaves out (p99.9, errors by
//! kind), and the server's peak RSS is taken over the measured run.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};
use serde::Serialize;

use crate::process::PeakRss;

/// How wrk is run: the floor's settings unless the environment says
/// otherwise (`WRK_DURATION`, `WRK_WARMUP`, `WRK_THREADS`, `WRK_CONNS`,
/// `WRK_TIMEOUT`, as for `lib-wrk.sh`).
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub duration: String,
    pub warmup: String,
    pub threads: u32,
    pub connections: u32,
    pub timeout: String,
}

impl Settings {
    pub fn from_env() -> Settings {
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        Settings {
            duration: var("WRK_DURATION", "10s"),
            warmup: var("WRK_WARMUP", "3s"),
            threads: var("WRK_THREADS", "2").parse().unwrap_or(2),
            connections: var("WRK_CONNS", "16").parse().unwrap_or(16),
            timeout: var("WRK_TIMEOUT", "10s"),
        }
    }

    /// The same settings with another number of connections.
    pub fn with_connections(&self, connections: u32) -> Settings {
        Settings {
            connections,
            threads: self.threads.min(connections),
            ..self.clone()
        }
    }
}

/// One measured run.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub requests: u64,
    /// Answers other than 2xx/3xx.
    pub non_2xx: u64,
    /// Connect, read, write errors and timeouts.
    pub socket_errors: u64,
    /// The server's peak resident memory during the run, in MiB.
    pub peak_rss_mib: Option<f64>,
}

/// The `done()` every script ends with: one line wrk's summary lacks.
const DONE: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
"#;

/// Runs wrk against `url` with `script` (a Lua body without `done`),
/// warming up first; `server` is the process whose memory is watched.
pub fn run(
    settings: &Settings,
    url: &str,
    script: &str,
    scratch: &Path,
    server: Option<&PeakRss>,
) -> anyhow::Result<Measured> {
    let path = scratch.join(format!("wrk-{}.lua", std::process::id()));
    std::fs::write(&path, format!("{script}\n{DONE}"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    if settings.warmup != "0" {
        wrk(settings, &settings.warmup, url, &path)?;
    }
    if let Some(server) = server {
        server.reset();
    }
    let output = wrk(settings, &settings.duration, url, &path)?;
    let mut measured = parse(&output)?;
    measured.peak_rss_mib = server.and_then(PeakRss::peak_mib);
    Ok(measured)
}

/// Starts wrk without waiting (for runs side by side); `finish` reads it.
pub fn spawn(
    settings: &Settings,
    url: &str,
    script: &str,
    scratch: &Path,
    name: &str,
) -> anyhow::Result<std::process::Child> {
    let path = scratch.join(format!("wrk-{name}.lua"));
    std::fs::write(&path, format!("{script}\n{DONE}"))?;
    command(settings, &settings.duration, url, &path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("cannot run wrk (apt-get install wrk)")
}

pub fn finish(child: std::process::Child) -> anyhow::Result<Measured> {
    let output = child.wait_with_output()?;
    parse(&String::from_utf8_lossy(&output.stdout))
}

fn command(settings: &Settings, duration: &str, url: &str, script: &Path) -> Command {
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{}", settings.threads))
        .arg(format!("-c{}", settings.connections))
        .arg(format!("-d{duration}"))
        .arg("--timeout")
        .arg(&settings.timeout)
        .arg("-s")
        .arg(script)
        .arg(url);
    command
}

fn wrk(settings: &Settings, duration: &str, url: &str, script: &Path) -> anyhow::Result<String> {
    let output = command(settings, duration, url, script)
        .output()
        .context("cannot run wrk (apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "wrk failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(stdout)
}

/// Reads the `BENCH` line of `done()`.
fn parse(output: &str) -> anyhow::Result<Measured> {
    let line = output
        .lines()
        .find_map(|line| line.strip_prefix("BENCH "))
        .with_context(|| format!("wrk printed no summary: {output}"))?;
    let numbers: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("unreadable summary {line:?}"))?;
    let [requests, duration_us, p50, p99, p999, max, status_errors, socket_errors] = numbers[..]
    else {
        bail!("unexpected summary {line:?}");
    };
    let ms = |us: u64| us as f64 / 1000.0;
    Ok(Measured {
        requests_per_sec: requests as f64 / (duration_us.max(1) as f64 / 1e6),
        p50_ms: ms(p50),
        p99_ms: ms(p99),
        p999_ms: ms(p999),
        max_ms: ms(max),
        requests,
        non_2xx: status_errors,
        socket_errors,
        peak_rss_mib: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_done_line_becomes_figures() {
        let output =
            "Running 10s test\nBENCH 50000 10000000 800 2500 4100 9000 3 1\nRequests/sec: 5000\n";
        let measured = parse(output).expect("parsed");
        assert_eq!(measured.requests, 50_000);
        assert!((measured.requests_per_sec - 5_000.0).abs() < 1e-6);
        assert!((measured.p999_ms - 4.1).abs() < 1e-9);
        assert_eq!((measured.non_2xx, measured.socket_errors), (3, 1));
    }

    #[test]
    fn a_run_without_the_line_is_an_error() {
        assert!(parse("unable to connect to 127.0.0.1:1 Connection refused").is_err());
    }
}
