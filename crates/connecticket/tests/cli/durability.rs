//! How SQLite commits reach the disk in this build: with `fdatasync`, never
//! a full `fsync` (`.cargo/config.toml` compiles the bundled SQLite with
//! `HAVE_FDATASYNC`). The same durability at a lower price: a commit never
//! needed the file's timestamps on disk, and `fdatasync` still writes the
//! inode when the file's size changed. Linux only: `strace` is Linux's,
//! and macOS's SQLite syncs its own way.

use std::process::Command;

use crate::support::{binary, TEST_HASH_KEY};

/// Calls of each syscall in an `strace -c` summary.
fn calls(summary: &str, syscall: &str) -> u64 {
    summary
        .lines()
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            // % time, seconds, usecs/call, calls, [errors,] syscall
            (columns.last() == Some(&syscall))
                .then(|| columns.get(3)?.parse::<u64>().ok())
                .flatten()
        })
        .sum()
}

#[test]
fn sqlite_commits_are_made_durable_with_fdatasync() {
    if Command::new("strace").arg("-V").output().is_err() {
        assert!(
            std::env::var("CONNECTICKET_TEST_STRACE_REQUIRED").is_err(),
            "strace is required"
        );
        eprintln!("skipped: strace is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let summary = dir.path().join("syscalls");
    let database = format!("sqlite://{}", dir.path().join("c.db").display());
    let output = Command::new("strace")
        .args(["-f", "-c", "-e", "trace=fsync,fdatasync", "-o"])
        .arg(&summary)
        .arg(binary())
        .args(["--database", &database, "provider", "create", "--name", "A"])
        .env("RUST_LOG", "warn")
        .env("CONNECTICKET_HASH_KEY", TEST_HASH_KEY)
        .output()
        .expect("run strace");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = std::fs::read_to_string(summary).expect("strace's summary");
    // Creating the database and the provider commits several times, each
    // synced before the command says it is done.
    assert!(
        calls(&summary, "fdatasync") >= 2,
        "too few fdatasync calls:\n{summary}"
    );
    assert_eq!(calls(&summary, "fsync"), 0, "a full fsync:\n{summary}");
}

#[test]
fn a_summary_is_read_by_syscall() {
    let summary = "% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
100.00    0.000547          23        23           fdatasync
  0.00    0.000000           0         2         1 fsync
------ ----------- ----------- --------- --------- ----------------
100.00    0.000547          23        25         1 total";
    assert_eq!(calls(summary, "fdatasync"), 23);
    assert_eq!(calls(summary, "fsync"), 2);
    assert_eq!(calls(summary, "sync"), 0);
}
