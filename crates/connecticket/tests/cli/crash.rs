//! A server killed with SIGKILL while clients create tickets loses nothing
//! it acknowledged, and one killed while sending a list leaves the audit
//! entry that says the list began.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET};
use reqwest::StatusCode;

use crate::support::raw::StalledReader;
use crate::support::{demo_session, eventually, send, Backend, ServerProcess, TestDatabase};

async fn authorize(http: &reqwest::Client, base: &str) -> String {
    let reply = send(
        http.post(format!("{base}/api/authorize"))
            .header("api_key", DEMO_API_KEY)
            .header("api_secret", DEMO_API_SECRET),
    )
    .await;
    reply.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

backend_tests! {
async fn acknowledged_tickets_survive_sigkill() {
    let database = TestDatabase::create(Backend::current()).await;
    let db = database.url.clone();
    let mut server = ServerProcess::start(&db, &["--demo"]);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let token = authorize(&http, &server.base).await;
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let (http, base, token, acknowledged) = (
                http.clone(),
                server.base.clone(),
                token.clone(),
                Arc::clone(&acknowledged),
            );
            tokio::spawn(async move {
                // Bounded: stops at the kill, or after 2,000 attempts.
                for n in 0..2_000 {
                    let title = format!("writer {writer} ticket {n}");
                    let sent = http
                        .post(format!("{base}/api/{token}/create_ticket"))
                        .header("api_key", DEMO_API_KEY)
                        .header("api_secret", DEMO_API_SECRET)
                        .form(&[("title", title.as_str()), ("resident_id", "501333996")])
                        .send()
                        .await;
                    let Ok(response) = sent else { return };
                    if response.status() != StatusCode::OK {
                        return;
                    }
                    let Ok(body) = response.json::<serde_json::Value>().await else {
                        return;
                    };
                    if let Some(id) = body["ticket_id"].as_i64() {
                        acknowledged.lock().expect("lock").push((id, title));
                    }
                }
            })
        })
        .collect();
    // Let the writers get going, then kill the server mid-stream.
    eventually("200 acknowledged writes", || async {
        (acknowledged.lock().expect("lock").len() >= 200).then_some(())
    })
    .await;
    server.kill();
    for writer in writers {
        writer.await.expect("writer");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(acknowledged.len() >= 200);

    let restarted = ServerProcess::start(&db, &["--demo"]);
    let token = authorize(&http, &restarted.base).await;
    let listed = send(
        http.get(format!("{}/api/{token}/tickets", restarted.base))
            .header("api_key", DEMO_API_KEY)
            .header("api_secret", DEMO_API_SECRET),
    )
    .await;
    let stored: std::collections::HashMap<i64, String> = listed.body["ticket"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().expect("id"),
                t["title"].as_str().expect("title").to_owned(),
            )
        })
        .collect();
    for (id, title) in &acknowledged {
        assert_eq!(
            stored.get(id),
            Some(title),
            "acknowledged ticket {id} was lost"
        );
    }
}

async fn a_list_cut_by_sigkill_leaves_its_started_entry() {
    use connecticket::database::{self, StoreOptions};
    use connecticket_domain::audit::{Action, Outcome};
    use connecticket_domain::model::NewResident;
    use futures::TryStreamExt;

    let database = TestDatabase::create(Backend::current()).await;
    let mut server = ServerProcess::start(&database.url, &["--demo"]);
    let store = database::open(&database.url, StoreOptions::default()).await.expect("open");
    let admin = crate::support::TestOperator::over(std::sync::Arc::clone(&store));
    let residents = (0..20_000).map(|n| NewResident::named(format!("Resident {n}"))).collect();
    let call = admin.within(Action::CreateResidents, connecticket_domain::demo::DEMO_PROVIDER_ID).await;
    admin.api.create_residents(call, residents).await.expect("residents");
    let session = demo_session(&reqwest::Client::new(), &server.base).await;
    let reader = StalledReader::start(&server.base, &session.target("all_residents"), &session.credentials()).await;
    assert!(reader.head.starts_with("HTTP/1.1 200"), "{}", reader.head);
    let request_id = reader.header("x-request-id").expect("request id").to_owned();
    server.kill();
    drop(reader);

    let chunks: Vec<Vec<_>> = store.audit_entries().try_collect().await.expect("audit");
    let of_the_list: Vec<_> = chunks.concat().into_iter().filter(|e| e.request_id == request_id).collect();
    assert_eq!(of_the_list.len(), 1, "{of_the_list:?}");
    assert_eq!((of_the_list[0].action, of_the_list[0].outcome), (Action::AllResidents, Outcome::Started));
    let verified = admin.api.verify_audit(admin.call(Action::AuditTrail)).await.expect("verify");
    assert_eq!(verified, Ok(chunks.concat().len() as u64));
}
}
