//! Moving a whole database between backends without losing or altering a
//! record.

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::support::{
    admin, demo_session, send, Backend, ServerProcess, TestApp, TestDatabase, TestOptions,
};

fn every_byte() -> Vec<u8> {
    (0..=255u8).cycle().take(100_000).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_to_postgres_and_back_keeps_every_record() {
    let source = TestApp::spawn_on(
        TestDatabase::create(Backend::Sqlite).await,
        TestOptions::default(),
    )
    .await;
    let session = source.example().await;
    // Demo data plus everything a move must carry: attachments (binary),
    // comments, status history, idempotency keys, tokens, a revoked app.
    let form = Form::new()
        .text("title", "Bruise on arm")
        .text("resident_id", "889283349")
        .text("category_19", "Issue")
        .text("category_comments_19", "Left forearm")
        .text("general_comments", "Family informed")
        .text("sms", "1")
        .part(
            "attachment",
            Part::bytes(every_byte())
                .file_name("arm.jpg")
                .mime_str("image/jpeg")
                .expect("mime"),
        );
    let created = send(
        session
            .post("create_ticket")
            .header("Idempotency-Key", "move-1")
            .multipart(form),
    )
    .await;
    let ticket = created.body["ticket_id"].as_i64().expect("id");
    send(session.post(&format!("update_status?id={ticket}&status=Resolved"))).await;
    send(
        session
            .post("create_comment")
            .form(&[("ticket_id", "202"), ("comment", "Seen by GP")]),
    )
    .await;
    source.sunrise().await;
    // A provider's notification policy, set by an operator.
    let (ok, out, err) = admin(
        &source.database_url,
        &[
            "notifications",
            "set-policy",
            "--provider",
            "72136196",
            "--quiet-hours",
            "22:00-07:00",
            "--callback-phone",
            "+15555550142",
        ],
    );
    assert!(ok && out.contains("policy saved"), "{out}{err}");
    let detail_before = session.detail(ticket).await.body;
    let attachment = detail_before["ticket_with_details"]["ticket_attachments"][0]["id"]
        .as_i64()
        .expect("attachment");

    let middle = TestDatabase::create(Backend::Postgres).await;
    let last = TestDatabase::create(Backend::Sqlite).await;
    let (ok, out, err) = admin(&source.database_url, &["db", "move", "--to", &middle.url]);
    assert!(ok, "{err}");
    assert!(out.contains("moved and verified"), "{out}");
    assert!(out.contains("attachments\t1\t"), "{out}");
    // The demo's six contacts; three SMS for the new ticket, two more for
    // its status change (family and physician); the policy.
    assert!(out.contains("contacts\t6\t"), "{out}");
    assert!(out.contains("notifications\t5\t"), "{out}");
    assert!(out.contains("notification_policies\t1\t"), "{out}");
    let (ok, out, err) = admin(&middle.url, &["db", "move", "--to", &last.url]);
    assert!(ok, "{err}");
    assert!(out.contains("moved and verified"), "{out}");
    // Every record is the same, save the audit trail: each move recorded
    // who moved the data, before the copy (so the copy carries it) and
    // how it ended (at its source only).
    let (ok, out, err) = admin(
        &source.database_url,
        &["db", "verify", "--against", &last.url],
    );
    assert!(!ok, "the moves' own entries differ: {out}");
    assert!(
        err.contains("the databases differ in: audit_chains, audit_log"),
        "{err}"
    );
    let (ok, trail, err) = admin(&last.url, &["audit", "export"]);
    assert!(ok, "{err}");
    let moves: Vec<serde_json::Value> = trail
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .filter(|entry: &serde_json::Value| entry["action"] == "manage_database")
        .collect();
    let targets: Vec<&str> = moves
        .iter()
        .map(|entry| entry["records"][0].as_str().expect("record"))
        .collect();
    assert_eq!(targets, ["move_to:postgres", "move_to:sqlite"], "{trail}");
    assert!(
        moves.iter().all(|entry| entry["outcome"] == "started"
            && entry["actor"].as_str().is_some_and(|a| a.contains('@'))),
        "{moves:?}"
    );

    // The moved database serves the same answers; the old token still works
    // (tokens moved as hashes), and the attachment is byte for byte the same.
    let server = ServerProcess::start(&last.url, &["--demo"]);
    let moved = crate::support::Session {
        base: server.base.clone(),
        ..session.clone()
    };
    // (A waiting notification's `reason` is the serving instance's view of
    // it, "no sms transport" here: the records are what must not change.)
    assert_eq!(
        without_reasons(moved.detail(ticket).await.body),
        without_reasons(detail_before.clone())
    );
    let bytes = send(moved.get(&format!("attachments/{attachment}"))).await;
    assert_eq!(bytes.status, StatusCode::OK);
    assert_eq!(bytes.bytes, every_byte());
    assert_eq!(
        send(moved.get("tickets")).await.body,
        send(session.get("tickets")).await.body
    );
    // Retrying the first request with its key replays on the moved data.
    let replay = send(
        moved
            .post("create_ticket")
            .header("Idempotency-Key", "move-1")
            .form(&[("title", "other"), ("resident_id", "501333996")]),
    )
    .await;
    replay.assert_failure(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Idempotency-Key was already used with different parameters",
    );
    // New ids continue after the moved ones.
    let fresh = demo_session(&moved.http, &server.base).await;
    let next = fresh
        .create_ticket(&[("title", "after the move"), ("resident_id", "501333996")])
        .await;
    assert_eq!(next, ticket + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_move_into_a_non_empty_database_is_refused_and_changes_nothing() {
    let source = TestApp::spawn_on(
        TestDatabase::create(Backend::Sqlite).await,
        TestOptions::default(),
    )
    .await;
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let target = TestDatabase::create(backend).await;
        let (ok, _, err) = admin(
            &target.url,
            &["provider", "create", "--name", "Already here"],
        );
        assert!(ok, "{err}");
        let (_, before, _) = admin(&target.url, &["db", "verify", "--against", &target.url]);
        let (ok, _, err) = admin(&source.database_url, &["db", "move", "--to", &target.url]);
        assert!(!ok);
        assert!(err.contains("the target database is not empty"), "{err}");
        assert!(err.contains("the target is unchanged"), "{err}");
        let (_, after, _) = admin(&target.url, &["db", "verify", "--against", &target.url]);
        assert_eq!(before, after);
        assert!(after.contains("providers\t1\t"), "{after}");
        assert!(after.contains("tickets\t0\t"), "{after}");
    }
    let (ok, _, err) = admin(
        &source.database_url,
        &["db", "move", "--to", &source.database_url],
    );
    assert!(!ok);
    assert!(err.contains("names the source database itself"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_backup_is_a_consistent_copy_taken_while_serving() {
    let app = TestApp::spawn_on(
        TestDatabase::create(Backend::Sqlite).await,
        TestOptions::default(),
    )
    .await;
    let session = app.example().await;
    let writer = {
        let session = session.clone();
        tokio::spawn(async move {
            for n in 0..200 {
                session
                    .create_ticket(&[
                        ("title", &format!("during backup {n}")),
                        ("resident_id", "501333996"),
                    ])
                    .await;
            }
        })
    };
    let dir = tempfile::tempdir().expect("dir");
    let copy = dir.path().join("backup.db");
    let (ok, out, err) = admin(
        &app.database_url,
        &["db", "backup", "--to", copy.to_str().expect("path")],
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("backed up"), "{out}");
    writer.await.expect("writer");
    // The copy opens, is complete in itself, and serves the demo.
    let backup_url = format!("sqlite://{}", copy.display());
    let (ok, out, err) = admin(&backup_url, &["db", "verify", "--against", &backup_url]);
    assert!(ok, "{err}");
    assert!(out.contains("providers\t2\t"), "{out}");
    let (ok, _, err) = admin(
        &app.database_url,
        &["db", "backup", "--to", copy.to_str().expect("path")],
    );
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
}

/// A ticket's detail without its notifications' `reason`, which says why
/// the serving instance has not sent them yet rather than what is stored.
fn without_reasons(mut detail: serde_json::Value) -> serde_json::Value {
    if let Some(notices) = detail["ticket_with_details"]["notifications"].as_array_mut() {
        for notice in notices {
            if let Some(notice) = notice.as_object_mut() {
                notice.remove("reason");
            }
        }
    }
    detail
}
