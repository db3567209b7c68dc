//! Long admin jobs show their progress on a terminal and stay quiet when
//! their output is piped.

use std::io::Write;
use std::process::Command;

use crate::support::{admin, binary, Backend, TestDatabase};

fn residents_csv(dir: &std::path::Path, rows: usize) -> std::path::PathBuf {
    let path = dir.join("residents.csv");
    let mut csv = std::fs::File::create(&path).expect("csv");
    writeln!(csv, "first_name,last_name").expect("header");
    for n in 0..rows {
        writeln!(csv, "Resident,Number {n}").expect("row");
    }
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_shows_progress_on_a_terminal_and_none_when_piped() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let db = database.url.clone();
    let dir = tempfile::tempdir().expect("dir");
    let (ok, out, err) = admin(
        &db,
        &[
            "provider",
            "create",
            "--name",
            "Maple Court",
            "--time-zone",
            "UTC",
        ],
    );
    assert!(ok, "{err}");
    let provider = out
        .split_whitespace()
        .find_map(|w| w.parse::<i64>().ok())
        .expect("id")
        .to_string();
    let csv = residents_csv(dir.path(), 5_000);
    let csv = csv.to_str().expect("path");

    // Piped: the data on stdout, nothing drawn on stderr.
    let (ok, out, err) = admin(&db, &["resident", "import", "--provider", &provider, csv]);
    assert!(ok, "{err}");
    assert!(out.contains("imported 5000 residents"), "{out}");
    assert!(
        !err.contains("rows checked") && !err.contains('\r'),
        "progress drawn into a pipe: {err:?}"
    );
    let (ok, out, err) = admin(&db, &["audit", "export", "--format", "jsonl"]);
    assert!(ok && out.lines().count() >= 1, "{err}");
    assert!(!err.contains("exported"), "{err:?}");

    // On a terminal (a pseudo-terminal from util-linux's `script`).
    let command = format!(
        "{} --database {db} resident import --provider {provider} {csv}",
        binary().display()
    );
    let Ok(output) = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("RUST_LOG", "warn")
        .output()
    else {
        eprintln!("skipped the terminal half: util-linux's script is not installed");
        return;
    };
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{:?} {shown}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        shown.contains("rows checked"),
        "no progress on a terminal:\n{shown}"
    );
    assert!(shown.contains("imported 5000 residents"), "{shown}");
}
