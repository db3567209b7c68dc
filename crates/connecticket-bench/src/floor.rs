//! The floor (`../shared/bench`): a minimal axum + SQLite server with no
//! authentication, audit or tenancy. Built and started with its own
//! script, then measured here with exactly the settings our calls get.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::process::PeakRss;

/// The floor's calls, as `floor.sh bench` sends them.
pub const CALLS: [(&str, &str); 4] = [
    ("list", "wrk.method = \"GET\"\nwrk.path = \"/sqlite/list?limit=25\"\n"),
    ("detail", "wrk.method = \"GET\"\nwrk.path = \"/sqlite?id=4711\"\n"),
    (
        "detail_rnd",
        "math.randomseed(os.time())\nrequest = function()\n  return wrk.format(\"GET\", \"/sqlite?id=\" .. math.random(1, 100000))\nend\n",
    ),
    (
        "create",
        "wrk.method = \"POST\"\nwrk.path = \"/sqlite\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = '{\"resident_id\":42,\"provider_id\":7,\"category\":\"nursing\",\"priority\":\"normal\",\"title\":\"wrk: resident fall reported\",\"description\":\"Created by wrk POST benchmark. Resident reported a minor fall in room 12; please check in.\",\"created_by\":\"wrk\",\"room\":\"12\",\"source\":\"api\"}'\n",
    ),
];

/// The running floor, stopped when dropped.
pub struct Floor {
    script: PathBuf,
    state: PathBuf,
    pub base: String,
}

impl Floor {
    /// Builds (cached after the first time) and starts the floor.
    pub fn start(directory: &Path) -> anyhow::Result<Floor> {
        let script = directory.join("floor.sh");
        if !script.exists() {
            bail!(
                "no floor at {} (pass --floor DIR, or --no-floor)",
                script.display()
            );
        }
        let state = std::env::temp_dir().join("connecticket-floor");
        let port = std::env::var("FLOOR_PORT").unwrap_or_else(|_| "3002".to_owned());
        let floor = Floor {
            script,
            state,
            base: format!("http://127.0.0.1:{port}"),
        };
        floor.run("build", &port)?;
        floor.run("start", &port)?;
        Ok(floor)
    }

    fn run(&self, action: &str, port: &str) -> anyhow::Result<()> {
        let status = Command::new("bash")
            .arg(&self.script)
            .arg(action)
            .env("STATE", &self.state)
            .env("PORT", port)
            .status()
            .with_context(|| format!("cannot run {} {action}", self.script.display()))?;
        if !status.success() {
            bail!("{} {action} failed", self.script.display());
        }
        Ok(())
    }

    pub fn memory(&self) -> Option<PeakRss> {
        let pid = std::fs::read_to_string(self.state.join("floor.pid")).ok()?;
        Some(PeakRss {
            pid: pid.trim().parse().ok()?,
        })
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        let _ = self.run("stop", "");
    }
}
