//! Graceful shutdown as operators see it: SIGTERM stops new connections,
//! lets a slow streamed list finish, and logs one line saying what was cut.

use std::io::Write;
use std::time::Duration;

use connecticket_domain::demo::DEMO_PROVIDER_ID;

use crate::support::raw::StalledReader;
use crate::support::{admin, demo_session, Backend, ServerProcess, TestDatabase};

/// Enough residents (some 3 MB of list) that the answer cannot sit in
/// socket buffers: the server is mid-stream when the signal comes.
fn many_residents(db: &str, dir: &std::path::Path) {
    let path = dir.join("residents.csv");
    let mut csv = std::fs::File::create(&path).expect("csv");
    writeln!(csv, "first_name,last_name").expect("header");
    for n in 0..20_000 {
        writeln!(csv, "Resident,Number {n}").expect("row");
    }
    let provider = DEMO_PROVIDER_ID.get().to_string();
    let (ok, _, err) = admin(
        db,
        &[
            "resident",
            "import",
            "--provider",
            &provider,
            path.to_str().expect("path"),
        ],
    );
    assert!(ok, "{err}");
}

backend_tests! {
async fn sigterm_lets_a_slow_streamed_list_finish_and_says_what_was_cut() {
    let database = TestDatabase::create(Backend::current()).await;
    let db = database.url.clone();
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("server.log");
    let mut server = ServerProcess::start_logged(&db, &["--demo", "--shutdown-grace-secs", "60"], &log);
    many_residents(&db, dir.path());
    let http = reqwest::Client::new();
    let session = demo_session(&http, &server.base).await;
    let mut reader = StalledReader::start(&server.base, &session.target("all_residents"), &session.credentials()).await;
    assert!(reader.head.starts_with("HTTP/1.1 200"), "{}", reader.head);

    server.signal("TERM");
    // New connections are refused once the listener is closed.
    let fresh = reqwest::Client::new();
    crate::support::eventually("new connections to be refused", || async {
        let attempt = fresh.get(format!("{}/health", server.base)).timeout(Duration::from_secs(2)).send().await;
        attempt.is_err().then_some(())
    })
    .await;

    // The stalled client now reads on: its list arrives whole.
    let rest = reader.read_rest(Duration::from_secs(60)).await;
    let text = String::from_utf8_lossy(&rest);
    assert!(text.contains("Number 19999"), "the list was cut short ({} bytes)", rest.len());
    assert!(rest.ends_with(b"0\r\n\r\n"), "the chunked answer has its end");

    let status = server.child.wait().expect("exit");
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(&log).expect("log");
    let stopped: Vec<&str> = log.lines().filter(|line| line.contains(" stopped connections_open=")).collect();
    assert_eq!(stopped.len(), 1, "{log}");
    // The list's outcome was recorded before its last byte, while the
    // store still ran; none was lost to the shutdown.
    assert!(!log.contains("could not record"), "{log}");
    // The stalled list (and perhaps the session's idle keep-alive) was
    // open; nothing had to be cut.
    assert!(stopped[0].contains("connections_cut=0"), "{}", stopped[0]);
    assert!(!stopped[0].contains("connections_open=0"), "{}", stopped[0]);
}
}
