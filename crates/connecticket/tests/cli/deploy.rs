//! The deployment files in `deploy/`: the example configuration is one
//! the binary accepts, and systemd accepts the unit.

use std::path::PathBuf;
use std::process::Command;

use crate::support::binary;

fn deploy(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(file)
}

#[test]
fn the_example_configuration_is_accepted_and_the_environment_overrides_it() {
    let output = Command::new(binary())
        .arg("--config")
        .arg(deploy("connecticket.toml"))
        .args(["config", "print"])
        .env("CONNECTICKET_SHUTDOWN_GRACE_SECS", "12")
        .env_remove("CONNECTICKET_DATABASE_URL")
        .env_remove("CONNECTICKET_LISTEN")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        "listen\t127.0.0.1:3000\tfile",
        "log_format\tjson\tfile",
        "trusted_proxy\t127.0.0.1\tfile",
        "ack_link_lifetime\t7d\tfile",
        "shutdown_grace_secs\t12\tenv",
        "send_timeout_secs\t30\tdefault",
        "database\tsqlite:///var/lib/connecticket/connecticket.db\tfile",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "no line {line:?} in:\n{stdout}"
        );
    }
}

#[test]
fn systemd_accepts_the_unit() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CONNECTICKET_TEST_SYSTEMD_REQUIRED").is_err(),
            "systemd-analyze is required"
        );
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    let unit = std::fs::read_to_string(deploy("connecticket.service")).expect("unit");
    for hardening in [
        "ProtectSystem=strict",
        "DynamicUser=yes",
        "StateDirectory=connecticket",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
    ] {
        assert!(
            unit.lines().any(|line| line == hardening),
            "{hardening} missing"
        );
    }
    // systemd checks that ExecStart exists: point it at the binary built here.
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("connecticket.service");
    let unit = unit.replace(
        "/usr/local/bin/connecticket",
        binary().to_str().expect("path"),
    );
    std::fs::write(&path, unit).expect("write");
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("verify");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.trim().is_empty(), "systemd warns:\n{stderr}");
}
