//! Clients that stop reading cost the server nothing but a connection and
//! a concurrency permit, for no longer than the send timeout: lists read
//! the database in short chunks, so no database connection or snapshot is
//! held while a client dawdles.

use std::time::Duration;

use connecticket_domain::audit::{Action, AuditRecord, Outcome};
use connecticket_domain::demo::DEMO_PROVIDER_ID;
use connecticket_domain::model::NewResident;
use connecticket_http::Limits;
use futures::TryStreamExt;
use reqwest::StatusCode;

use crate::support::raw::StalledReader;
use crate::support::{eventually, send, Session, TestApp, TestOptions, DEADLINE};

/// Enough residents that their list (some 3 MB) cannot fit in the socket
/// buffers between the server and a client that stopped reading.
async fn many_residents(app: &TestApp) {
    let residents = (0..20_000)
        .map(|n| NewResident::named(format!("Resident {n}")))
        .collect();
    let call = app
        .admin
        .within(Action::CreateResidents, DEMO_PROVIDER_ID)
        .await;
    app.api
        .create_residents(call, residents)
        .await
        .expect("residents");
}

/// The audit entries of the lists these readers asked for.
async fn entries_of(app: &TestApp, readers: &[String]) -> Vec<AuditRecord> {
    let chunks: Vec<Vec<AuditRecord>> = app
        .store
        .audit_entries()
        .try_collect()
        .await
        .expect("audit");
    chunks
        .into_iter()
        .flatten()
        .filter(|entry| entry.action == Action::AllResidents)
        .filter(|entry| readers.contains(&entry.request_id))
        .collect()
}

async fn stall(app: &TestApp, session: &Session) -> StalledReader {
    let reader = StalledReader::start(
        &app.base,
        &session.target("all_residents"),
        &session.credentials(),
    )
    .await;
    assert!(reader.head.starts_with("HTTP/1.1 200"), "{}", reader.head);
    reader
}

fn request_ids(readers: &[StalledReader]) -> Vec<String> {
    readers
        .iter()
        .map(|reader| {
            reader
                .header("x-request-id")
                .expect("request id")
                .to_owned()
        })
        .collect()
}

/// Every call of the contract, each expected to succeed.
async fn every_call_answers(app: &TestApp, session: &Session, round: usize) {
    let fresh = app.example().await;
    assert_eq!(
        send(fresh.get("provider_categories")).await.status,
        StatusCode::OK
    );
    let ticket = session
        .create_ticket(&[
            ("title", &format!("Fall {round}")),
            ("resident_id", "501333996"),
            ("category_19", "Issue"),
        ])
        .await;
    let reply = send(session.post(&format!("update_status?id={ticket}&status=In Progress"))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = send(session.post("create_comment").form(&[
        ("ticket_id", ticket.to_string().as_str()),
        ("comment", "seen"),
    ]))
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(session.detail(ticket).await.status, StatusCode::OK);
    let reply = send(session.get("tickets?per_page=25")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = send(session.get("all_residents?per_page=25&page=3")).await;
    assert_eq!(reply.body["residents"].as_array().map(Vec::len), Some(25));
}

/// Whether anything holds a database snapshot open: SQLite's checkpoint
/// can then not truncate the log; PostgreSQL's vacuum cannot go past it.
async fn snapshots_held(app: &TestApp) -> bool {
    if let Some(path) = app.database_url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path).to_owned();
        tokio::task::spawn_blocking(move || {
            let connection = rusqlite::Connection::open(path).expect("open");
            let busy: i64 = connection
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
                .expect("checkpoint");
            busy != 0
        })
        .await
        .expect("checkpoint task")
    } else {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&app.database_url)
            .await
            .expect("connect");
        let held: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND backend_xmin IS NOT NULL",
        )
        .fetch_one(&mut connection)
        .await
        .expect("pg_stat_activity");
        held > 0
    }
}

backend_tests! {
    async fn thirty_two_clients_that_stop_reading_a_list_keep_no_one_waiting() {
        let app = TestApp::demo().await;
        many_residents(&app).await;
        let session = app.example().await;
        let mut stalled = Vec::new();
        for _ in 0..32 {
            stalled.push(stall(&app, &session).await);
        }
        let ids = request_ids(&stalled);
        // Every list has begun, none has ended: the server is stuck
        // writing to each of them.
        let entries = entries_of(&app, &ids).await;
        assert_eq!(entries.iter().filter(|e| e.outcome == Outcome::Started).count(), 32);
        assert!(entries.iter().all(|e| e.outcome == Outcome::Started), "{entries:?}");

        // Meanwhile every call completes, round after round, and no
        // snapshot is held open behind the stalled lists.
        for round in 0..5 {
            // Bounded, so that a server stuck behind the lists fails the
            // test instead of hanging it.
            tokio::time::timeout(DEADLINE, every_call_answers(&app, &session, round))
                .await
                .expect("every call answered while 32 lists were stalled");
        }
        let held = eventually("no database snapshot held", || async {
            (!snapshots_held(&app).await).then_some(false)
        })
        .await;
        assert!(!held);
        assert!(entries_of(&app, &ids).await.iter().all(|e| e.outcome == Outcome::Started));

        // The clients go away: each list is recorded as cut short.
        drop(stalled);
        let aborted = eventually("the 32 lists' outcomes", || async {
            let aborted = entries_of(&app, &ids).await.into_iter().filter(|e| e.outcome == Outcome::Aborted).count();
            (aborted == 32).then_some(aborted)
        })
        .await;
        assert_eq!(aborted, 32);
    }

    async fn a_stalled_list_holds_its_permit_until_the_send_timeout_cuts_it() {
        let app = TestApp::spawn(TestOptions {
            limits: Limits { max_concurrent_requests: 1, ..Limits::default() },
            send_timeout: Duration::from_millis(300),
            ..TestOptions::default()
        })
        .await;
        many_residents(&app).await;
        let session = app.example().await;
        let mut reader = stall(&app, &session).await;
        let ids = request_ids(std::slice::from_ref(&reader));
        // The answer's head went out long ago, yet the list still counts
        // against the limit of one request at a time...
        let reply = send(session.get("provider_categories")).await;
        reply.assert_failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is at its limit of concurrent requests; retry shortly",
        );
        // ...until the client has not read for the send timeout: then the
        // connection is cut, the list recorded as cut short, and the permit
        // given back. (Reading before that would let the list go on.)
        let ended = eventually("the list's outcome", || async {
            entries_of(&app, &ids).await.into_iter().find(|e| e.outcome != Outcome::Started)
        })
        .await;
        assert_eq!(ended.outcome, Outcome::Aborted);
        assert!(reader.cut_within(Duration::from_secs(20)).await, "the connection is over");
        assert_eq!(send(session.get("provider_categories")).await.status, StatusCode::OK);
    }
}
