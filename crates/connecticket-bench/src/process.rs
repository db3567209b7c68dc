//! The servers under test: `connecticket serve` processes started here (or
//! one already running), and their memory.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context};

/// The hash key of the benchmark's databases (throwaway data).
pub const BENCH_HASH_KEY: &str = "connecticket-bench-hash-key-not-for-real-data-0001";

/// The `connecticket` binary built beside this one.
pub fn connecticket_binary() -> anyhow::Result<PathBuf> {
    let binary = std::env::current_exe()?.with_file_name("connecticket");
    if !binary.exists() {
        bail!(
            "{} is missing: build it with `cargo build --release -p connecticket`",
            binary.display()
        );
    }
    Ok(binary)
}

/// A `connecticket serve` process, stopped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// The database it serves.
    pub database: String,
}

impl Server {
    /// Serves `database` on an ephemeral port, with every per-client
    /// budget lifted: the benchmark is one application calling as fast as
    /// it can, which in production the budgets would (rightly) slow down.
    pub fn start(database: &str, extra: &[&str]) -> anyhow::Result<Server> {
        let lifted = [
            "--token-requests-per-minute",
            "0",
            "--max-concurrent-requests",
            "4096",
            "--max-concurrent-per-address",
            "4096",
            "--max-concurrent-per-provider",
            "4096",
        ];
        let args: Vec<&str> = lifted.iter().chain(extra).copied().collect();
        Self::start_as_deployed(database, &args)
    }

    /// Serves `database` on an ephemeral port with the limits of a real
    /// deployment (what attacks are measured against).
    pub fn start_as_deployed(database: &str, extra: &[&str]) -> anyhow::Result<Server> {
        let mut child = Command::new(connecticket_binary()?)
            .args(["--database", database, "serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("CONNECTICKET_HASH_KEY", BENCH_HASH_KEY)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start connecticket serve")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        let Some(base) = line.trim().strip_prefix("connecticket listening on ") else {
            let _ = child.kill();
            bail!("the server did not start (it said {line:?})");
        };
        Ok(Server {
            base: base.to_owned(),
            database: database.to_owned(),
            child,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn memory(&self) -> PeakRss {
        PeakRss { pid: self.pid() }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first, so the server ends as in production.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A process's peak resident memory, resettable between runs.
#[derive(Debug, Clone, Copy)]
pub struct PeakRss {
    pub pid: u32,
}

impl PeakRss {
    /// Starts a new peak from the current size (Linux `clear_refs` 5).
    pub fn reset(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5");
    }

    /// The peak since the last reset, in MiB.
    pub fn peak_mib(&self) -> Option<f64> {
        self.status_kib("VmHWM:").map(|kib| kib as f64 / 1024.0)
    }

    /// The current resident size, in MiB.
    pub fn current_mib(&self) -> Option<f64> {
        self.status_kib("VmRSS:").map(|kib| kib as f64 / 1024.0)
    }

    fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}
