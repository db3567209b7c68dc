//! Several stateless instances on one PostgreSQL database.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connecticket::database::{self, StoreOptions};
use connecticket_domain::audit::Action;
use connecticket_domain::demo;
use reqwest::StatusCode;

use crate::support::{
    demo_session, eventually, once_refused, send, Backend, ServerProcess, Session, TestDatabase,
    TestOperator,
};

/// Two instances started at the same moment on a fresh database (both race
/// to migrate), then the demo data.
async fn two_instances() -> (TestDatabase, TestOperator, Vec<ServerProcess>) {
    let database = TestDatabase::create(Backend::Postgres).await;
    let servers = ServerProcess::start_together(&database.url, 2);
    let store = database::open(&database.url, StoreOptions::default())
        .await
        .expect("open");
    let admin = TestOperator::over(store);
    demo::seed(&admin.api).await.expect("seed");
    (database, admin, servers)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn create(
    session: &Session,
    title: &str,
    key: Option<&str>,
) -> reqwest::Result<reqwest::Response> {
    let mut request = session
        .post("create_ticket")
        .form(&[("title", title), ("resident_id", "501333996")]);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await
}

fn on(session: &Session, base: &str) -> Session {
    Session {
        base: base.to_owned(),
        ..session.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_share_tokens_writes_statuses_and_revocations() {
    let (_database, admin, servers) = two_instances().await;
    let http = client();
    let first = demo_session(&http, &servers[0].base).await;
    // A token issued by instance 1 works on instance 2.
    let second = on(&first, &servers[1].base);
    assert_eq!(send(second.get("tickets")).await.status, StatusCode::OK);

    // Tickets created concurrently through both: all present, distinct ids.
    let creates = (0..60).map(|n| {
        let session = if n % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        tokio::spawn(async move {
            let response = create(&session, &format!("through both {n}"), None)
                .await
                .expect("sent");
            assert_eq!(response.status(), StatusCode::OK);
            let body: serde_json::Value = response.json().await.expect("json");
            body["ticket_id"].as_i64().expect("id")
        })
    });
    let ids: BTreeSet<i64> = futures::future::join_all(creates)
        .await
        .into_iter()
        .map(|id| id.expect("task"))
        .collect();
    assert_eq!(ids.len(), 60);
    for session in [&first, &second] {
        let listed: BTreeSet<i64> = send(session.get("tickets")).await.body["ticket"]
            .as_array()
            .expect("list")
            .iter()
            .map(|t| t["id"].as_i64().expect("id"))
            .collect();
        assert!(ids.is_subset(&listed));
        assert_eq!(listed.len(), 62);
    }

    // The same retry racing through both instances writes once.
    let racing = [first.clone(), second.clone(), first.clone(), second.clone()].map(|session| {
        tokio::spawn(async move {
            let response = create(&session, "retried", Some("flaky-wifi-1"))
                .await
                .expect("sent");
            assert_eq!(response.status(), StatusCode::OK);
            let body: serde_json::Value = response.json().await.expect("json");
            body["ticket_id"].as_i64().expect("id")
        })
    });
    let retried: BTreeSet<i64> = futures::future::join_all(racing)
        .await
        .into_iter()
        .map(|id| id.expect("task"))
        .collect();
    assert_eq!(retried.len(), 1);

    // A status updated on one is read on the other.
    let reply = send(first.post("update_status?id=202&status=In Progress")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let detail = second.detail(202).await;
    assert_eq!(
        detail.body["ticket_with_details"]["ticket"]["ticket_status"],
        "In Progress"
    );

    // An application revoked is refused by every instance within a second.
    let provider = demo::DEMO_PROVIDER_ID;
    let call = admin.within(Action::Applications, provider).await;
    let application = admin.api.list_applications(call).await.expect("apps")[0].id;
    let call = admin.within(Action::ManageApplications, provider).await;
    admin
        .api
        .revoke_application(call, application)
        .await
        .expect("revoke");
    for session in [&first, &second] {
        once_refused(|| session.get("tickets"))
            .await
            .assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_one_instance_loses_no_acknowledged_write() {
    let (_database, _admin, mut servers) = two_instances().await;
    let http = client();
    let first = demo_session(&http, &servers[0].base).await;
    let second = on(&first, &servers[1].base);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let session = if writer % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let acknowledged = Arc::clone(&acknowledged);
            tokio::spawn(async move {
                let mut written_after_kill = 0;
                for n in 0..400 {
                    let title = format!("writer {writer} ticket {n}");
                    let Ok(response) = create(&session, &title, None).await else {
                        // Instance 1 is gone: its writers stop.
                        return written_after_kill;
                    };
                    if response.status() != StatusCode::OK {
                        return written_after_kill;
                    }
                    let Ok(body) = response.json::<serde_json::Value>().await else {
                        return written_after_kill;
                    };
                    if let Some(id) = body["ticket_id"].as_i64() {
                        acknowledged.lock().expect("lock").push((id, title));
                        written_after_kill += 1;
                    }
                }
                written_after_kill
            })
        })
        .collect();
    eventually("150 acknowledged writes", || async {
        (acknowledged.lock().expect("lock").len() >= 150).then_some(())
    })
    .await;
    servers[0].kill();
    let mut survivors = 0;
    for (writer, handle) in writers.into_iter().enumerate() {
        let written = handle.await.expect("writer");
        if writer % 2 == 1 {
            // Instance 2's writers ran to the end.
            assert_eq!(written, 400);
            survivors += 1;
        }
    }
    assert_eq!(survivors, 4);
    let stored: std::collections::HashMap<i64, String> = send(second.get("tickets")).await.body
        ["ticket"]
        .as_array()
        .expect("list")
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().expect("id"),
                t["title"].as_str().expect("title").to_owned(),
            )
        })
        .collect();
    let acknowledged = acknowledged.lock().expect("lock").clone();
    for (id, title) in &acknowledged {
        assert_eq!(
            stored.get(id),
            Some(title),
            "acknowledged ticket {id} was lost"
        );
    }
}

/// The locks held until commit that PostgreSQL sessions on this database
/// are waiting for. (Left out: relation extension locks, which PostgreSQL
/// takes for an instant while a table grows by a page and releases long
/// before the transaction ends; every insert-heavy workload meets them.)
async fn lock_waits(connection: &mut sqlx::PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT l.locktype || ' ' || l.mode || ' ' || COALESCE(l.relation::regclass::text, '') \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE NOT l.granted AND a.datname = current_database() AND l.locktype <> 'extend'",
    )
    .fetch_all(connection)
    .await
    .expect("pg_locks")
}

/// How long 640 writes through two instances may take before the test
/// gives up on them (they take a few seconds).
const LOAD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_write_and_audit_without_waiting_on_a_shared_lock() {
    use sqlx::Connection;
    let (database, admin, servers) = two_instances().await;
    let http = client();
    let first = demo_session(&http, &servers[0].base).await;
    let second = on(&first, &servers[1].base);
    let writers: Vec<_> = (0..16)
        .map(|writer| {
            let session = if writer % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tokio::spawn(async move {
                for n in 0..40 {
                    let response = create(&session, &format!("writer {writer} ticket {n}"), None)
                        .await
                        .expect("sent");
                    assert_eq!(response.status(), StatusCode::OK);
                }
            })
        })
        .collect();
    let load = futures::future::join_all(writers);
    tokio::pin!(load);
    // Sample pg_locks for as long as the writers run.
    let mut sampler = sqlx::PgConnection::connect(&database.url)
        .await
        .expect("connect");
    let (mut samples, mut waits) = (0, Vec::new());
    let deadline = tokio::time::Instant::now() + LOAD_DEADLINE;
    let finished = loop {
        tokio::select! {
            finished = &mut load => break finished,
            () = tokio::time::sleep_until(deadline) => {
                panic!("the writers did not finish within {LOAD_DEADLINE:?} ({samples} samples taken)")
            }
            sampled = lock_waits(&mut sampler) => {
                samples += 1;
                waits.extend(sampled);
            }
        }
    };
    for writer in finished {
        writer.expect("writer");
    }
    assert!(samples > 10, "only {samples} samples of pg_locks");
    assert!(
        waits.is_empty(),
        "writes waited on locks in {samples} samples: {waits:?}"
    );
    // Each instance appended to chains of its own, and all of them verify.
    let store = database::open(&database.url, StoreOptions::default())
        .await
        .expect("open");
    let chains = store.audit_chains().await.expect("chains");
    for server in &servers {
        let pid = format!("pid {} ", server.child.id());
        assert!(
            chains
                .iter()
                .any(|chain| chain.last_seq > 0 && chain.label.contains(&pid)),
            "no chain of the instance with {pid}: {chains:?}"
        );
    }
    let verified = admin
        .api
        .verify_audit(admin.call(Action::AuditTrail))
        .await
        .expect("verify");
    assert!(
        matches!(verified, Ok(count) if count >= 640),
        "{verified:?}"
    );
}
