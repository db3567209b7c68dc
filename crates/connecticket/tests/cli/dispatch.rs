//! The dispatcher as operators run it: a process killed right after
//! writes delivers everything after its restart, each message once as a
//! recipient can tell; two instances share a burst without sending
//! anything twice. Checked from the receiving SMTP server's side.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET};
use reqwest::StatusCode;

use crate::support::{admin, eventually, send, Backend, MailCatcher, ServerProcess, TestDatabase};

fn dispatching(mail: &MailCatcher) -> Vec<String> {
    [
        "--demo",
        "--smtp-url",
        &mail.url,
        "--smtp-from",
        "Example Provider <care@example.org>",
        "--smtp-max-per-second",
        "1000",
        "--notification-retry-base-ms",
        "50",
        "--notification-lease-secs",
        "2",
    ]
    .map(str::to_owned)
    .to_vec()
}

async fn raise_tickets(http: &reqwest::Client, base: &str, count: usize) {
    let token = send(
        http.post(format!("{base}/api/authorize"))
            .header("api_key", DEMO_API_KEY)
            .header("api_secret", DEMO_API_SECRET),
    )
    .await
    .body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    for n in 0..count {
        let reply = send(
            http.post(format!("{base}/api/{token}/create_ticket"))
                .header("api_key", DEMO_API_KEY)
                .header("api_secret", DEMO_API_SECRET)
                .form(&[
                    ("title", format!("burst {n}").as_str()),
                    ("resident_id", "889283349"),
                    ("urgency_status", "Exception"),
                    ("email", "1"),
                ]),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
}

/// Message-ID -> how many times it arrived, once `expected` distinct ones
/// have.
async fn arrived(mail: &MailCatcher, expected: usize) -> BTreeMap<String, usize> {
    eventually("every message to arrive", || async {
        let mut seen = BTreeMap::new();
        for message in mail.mails() {
            let id = message.header("Message-ID").expect("Message-ID");
            *seen.entry(id).or_insert(0) += 1;
        }
        (seen.len() >= expected).then_some(seen)
    })
    .await
}

fn delivered_count(db: &str) -> usize {
    let (ok, out, err) = admin(
        db,
        &[
            "notifications",
            "list",
            "--state",
            "delivered",
            "--limit",
            "10000",
        ],
    );
    assert!(ok, "{err}");
    out.lines().count() - 1
}

backend_tests! {
async fn after_a_sigkill_everything_pending_arrives_and_nothing_twice() {
    let database = TestDatabase::create(Backend::current()).await;
    let db = database.url.clone();
    let mail = MailCatcher::start().await;
    let args = dispatching(&mail);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut server = ServerProcess::start(&db, &args);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    // Twenty tickets, three contacts each; killed right after the last
    // write was acknowledged, while the dispatcher is at work.
    raise_tickets(&http, &server.base, 20).await;
    server.kill();
    let before_restart = mail.mails().len();
    let restarted = ServerProcess::start(&db, &args);
    let seen = arrived(&mail, 60).await;
    assert_eq!(seen.len(), 60, "one Message-ID per notification");
    eventually("every notification recorded as delivered", || async {
        (delivered_count(&db) == 60).then_some(())
    })
    .await;
    // A message sent in the instant between the server's send and its
    // record may go again, with the same Message-ID (receivers drop it):
    // at most the sends the dispatcher had in flight; nothing else repeats.
    let in_flight = connecticket_domain::notify::DispatcherOptions::default().concurrency;
    let repeated: usize = seen.values().map(|n| n - 1).sum();
    assert!(repeated <= in_flight, "{repeated} repeats; {before_restart} had arrived before the kill");
    drop(restarted);
}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_a_burst_of_500_and_send_each_once() {
    if !crate::support::postgres_available().await {
        return;
    }
    let database = TestDatabase::create(Backend::Postgres).await;
    let db = database.url.clone();
    // Refused at first, so the burst piles up before both instances
    // dispatch it together.
    let mail = MailCatcher::start().await;
    mail.refuse_next(3);
    let args = dispatching(&mail);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let servers = ServerProcess::start_together_with(&db, 2, &args);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    // 167 tickets x 3 contacts = 501 notifications, created through both.
    let (first, second) = (servers[0].base.clone(), servers[1].base.clone());
    let (a, b) = tokio::join!(
        raise_tickets(&http, &first, 84),
        raise_tickets(&http, &second, 83)
    );
    let _ = (a, b);
    let seen = arrived(&mail, 501).await;
    assert_eq!(seen.len(), 501);
    let twice: BTreeSet<_> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    eventually("all 501 recorded as delivered", || async {
        (delivered_count(&db) == 501).then_some(())
    })
    .await;
    assert_eq!(mail.mails().len(), 501);
}
