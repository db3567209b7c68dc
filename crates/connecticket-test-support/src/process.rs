//! The `connecticket` binary as a separate process: admin commands, and
//! `serve` on an ephemeral port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::TEST_HASH_KEY;

/// The `connecticket` binary run as a separate process.
///
/// Cargo tells a test binary where the binary is (`CARGO_BIN_EXE_*`);
/// this crate is built once for all of them, so it is read at run time.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CARGO_BIN_EXE_connecticket") {
        return PathBuf::from(path);
    }
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let deps = test_binary.parent().expect("target/<profile>/deps");
    deps.parent()
        .expect("target/<profile>")
        .join("connecticket")
}

/// Runs an admin command; returns (success, stdout, stderr).
pub fn admin(database_url: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(binary())
        .arg("--database")
        .arg(database_url)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("CONNECTICKET_HASH_KEY", TEST_HASH_KEY)
        .output()
        .expect("run connecticket");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// An admin command given `input` on its standard input (a password).
pub fn admin_with_input(database_url: &str, args: &[&str], input: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(binary())
        .arg("--database")
        .arg(database_url)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("CONNECTICKET_HASH_KEY", TEST_HASH_KEY)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run connecticket");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).expect("write the input");
    }
    let output = child.wait_with_output().expect("finish");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A `connecticket serve` process on an ephemeral port.
pub struct ServerProcess {
    pub child: Child,
    pub base: String,
}

impl ServerProcess {
    /// Its warnings and errors go to a file in the temp directory, so
    /// that a server that fails to start says why.
    pub fn start(database_url: &str, extra: &[&str]) -> Self {
        Self::start_with_env(database_url, extra, &[])
    }

    /// The same, with these environment variables set for the process.
    pub fn start_with_env(database_url: &str, extra: &[&str], env: &[(&str, &str)]) -> Self {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let log = std::env::temp_dir().join(format!(
            "connecticket-test-server-{}-{n}.log",
            std::process::id()
        ));
        let file = std::fs::File::create(&log).expect("log file");
        let server = Self::spawn_noting(database_url, extra, env, Stdio::from(file), Some(&log));
        let _ = std::fs::remove_file(&log);
        server
    }

    /// Started with debug logging, its whole stderr written to `log`.
    pub fn start_logged(database_url: &str, extra: &[&str], log: &Path) -> Self {
        let file = std::fs::File::create(log).expect("log file");
        Self::spawn(database_url, extra, "debug", Stdio::from(file))
    }

    fn spawn(database_url: &str, extra: &[&str], level: &str, stderr: Stdio) -> Self {
        Self::spawn_noting(database_url, extra, &[("RUST_LOG", level)], stderr, None)
    }

    fn spawn_noting(
        database_url: &str,
        extra: &[&str],
        env: &[(&str, &str)],
        stderr: Stdio,
        log: Option<&Path>,
    ) -> Self {
        let mut child = Command::new(binary())
            .arg("--database")
            .arg(database_url)
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .args(extra)
            .env("RUST_LOG", "warn")
            .env("CONNECTICKET_HASH_KEY", TEST_HASH_KEY)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start connecticket serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("read the listening line");
        let base = match line.trim().strip_prefix("connecticket listening on ") {
            Some(base) => base.to_owned(),
            None => {
                let _ = child.kill();
                let output = child
                    .wait_with_output()
                    .expect("the failed server's output");
                let logged = log
                    .and_then(|log| std::fs::read_to_string(log).ok())
                    .unwrap_or_default();
                panic!(
                    "the server did not start (first line {line:?}); it said: {}{logged}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        };
        ServerProcess { child, base }
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Several servers started at the same moment, from threads.
    pub fn start_together(database_url: &str, count: usize) -> Vec<Self> {
        Self::start_together_with(database_url, count, &[])
    }

    /// The same, with extra `serve` arguments.
    pub fn start_together_with(database_url: &str, count: usize, extra: &[&str]) -> Vec<Self> {
        let extra: Vec<String> = extra.iter().map(|arg| (*arg).to_owned()).collect();
        let starting: Vec<_> = (0..count)
            .map(|_| {
                let url = database_url.to_owned();
                let extra = extra.clone();
                std::thread::spawn(move || {
                    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                    ServerProcess::start(&url, &extra)
                })
            })
            .collect();
        starting
            .into_iter()
            .map(|handle| handle.join().expect("server start"))
            .collect()
    }

    /// Sends SIGKILL: no shutdown, no flushing, as in a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
