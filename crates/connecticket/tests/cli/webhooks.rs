//! Webhook delivery as `serve` processes do it: a server killed with
//! SIGKILL in the middle of a burst loses no event and sends none twice
//! under different ids, and two instances on one PostgreSQL database
//! deliver each event once between them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::StatusCode;

use crate::support::{
    demo_session, eventually, eventually_within, send, Answer, Backend, Delivery, ServerProcess,
    Session, TestDatabase, WebhookReceiver,
};

/// Loopback receivers over plain HTTP: the test's own network.
/// (A crashed instance's endpoints are taken over after 15 s.)
const FLAGS: &[&str] = &[
    "--allow-insecure-webhooks",
    "--webhook-allow-private",
    "127.0.0.1",
    "--webhook-lease-secs",
    "15",
];

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn register(session: &Session, url: &str) {
    let reply = send(
        session
            .post("webhooks")
            .form(&[("url", url), ("event_types", "ticket.created")]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

/// Creates `count` tickets over `writers` concurrent clients (through the
/// sessions in turn); answers their ids.
async fn burst(sessions: &[Session], count: usize, writers: usize) -> BTreeSet<i64> {
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let session = sessions[writer % sessions.len()].clone();
            let share = count / writers + usize::from(writer < count % writers);
            tokio::spawn(async move {
                let mut ids = Vec::with_capacity(share);
                for n in 0..share {
                    let title = format!("writer {writer} ticket {n}");
                    ids.push(
                        session
                            .create_ticket(&[("title", &title), ("resident_id", "501333996")])
                            .await,
                    );
                }
                ids
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for task in tasks {
        ids.extend(task.await.expect("writer"));
    }
    assert_eq!(ids.len(), count);
    ids
}

/// The tickets the deliveries were about, by webhook id, with how many
/// times each id arrived.
fn arrived(deliveries: &[Delivery]) -> BTreeMap<String, (i64, usize)> {
    let mut by_id: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    for delivery in deliveries {
        let ticket = delivery.json()["data"]["ticket_id"]
            .as_i64()
            .expect("ticket");
        let entry = by_id
            .entry(delivery.webhook_id.clone())
            .or_insert((ticket, 0));
        assert_eq!(entry.0, ticket, "one id, one event");
        entry.1 += 1;
    }
    by_id
}

backend_tests! {
    async fn a_server_killed_mid_burst_loses_no_event_and_sends_none_under_another_id() {
        let database = TestDatabase::create(Backend::current()).await;
        let mut flags = vec!["--demo"];
        flags.extend(FLAGS);
        let mut server = ServerProcess::start(&database.url, &flags);
        let http = client();
        let session = demo_session(&http, &server.base).await;
        // A receiver slow enough that the burst is mid-way at the kill.
        let receiver = WebhookReceiver::start().await;
        receiver.answer_always(Answer::Hang(Duration::from_millis(15)));
        register(&session, &receiver.url).await;
        let created = burst(std::slice::from_ref(&session), 500, 8).await;
        eventually("deliveries under way", || async { (receiver.deliveries().len() >= 50).then_some(()) }).await;
        server.kill();
        let at_kill = receiver.deliveries().len();
        assert!(at_kill < 500, "the burst was over before the kill ({at_kill})");
        // Another process on the same database finishes the work.
        let server = ServerProcess::start(&database.url, &flags);
        let session = Session { base: server.base.clone(), ..session };
        // The killed instance's lease on the endpoint runs out first.
        let by_id = eventually_within(Duration::from_secs(60), "every event delivered after the restart", || async {
            let by_id = arrived(&receiver.deliveries());
            (by_id.len() == 500).then_some(by_id)
        })
        .await;
        let tickets: BTreeSet<i64> = by_id.values().map(|(ticket, _)| *ticket).collect();
        assert_eq!(tickets, created, "each ticket's event, under one id");
        // Sent again only what was in flight at the kill, with the same id.
        let again: usize = by_id.values().map(|(_, n)| n - 1).sum();
        assert!(again <= 20, "{again} deliveries repeated");
        // The feed holds each once.
        let mut cursor = 0;
        let mut fed = Vec::new();
        loop {
            let page = send(session.get(&format!("changes?after={cursor}&limit=100"))).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            fed.extend(page.body["events"].as_array().expect("events").iter().filter(|e| e["type"] == "ticket.created").map(|e| e["data"]["ticket_id"].as_i64().expect("id")));
            cursor = page.body["next_cursor"].as_i64().expect("cursor");
            if !page.body["has_more"].as_bool().expect("has_more") {
                break;
            }
        }
        assert_eq!(fed.len(), 500);
        assert_eq!(fed.into_iter().collect::<BTreeSet<_>>(), created);
    }
}

/// A proxy in the environment (as `reqwest` would honour by default) would
/// resolve and connect past the address check: deliveries never use one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_proxy_in_the_environment_does_not_carry_deliveries_past_the_address_check() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let proxy = WebhookReceiver::start().await;
    let proxy_url = proxy.url.trim_end_matches("/hook").to_owned();
    let env = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("http_proxy", proxy_url.as_str()),
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("ALL_PROXY", proxy_url.as_str()),
    ];
    // Plain http allowed, but no private address.
    let server = ServerProcess::start_with_env(
        &database.url,
        &["--demo", "--allow-insecure-webhooks"],
        &env,
    );
    let http = client();
    let session = demo_session(&http, &server.base).await;
    // A name: through a proxy, it would never be resolved here.
    register(&session, "http://localhost:9/hook").await;
    session
        .create_ticket(&[("title", "x"), ("resident_id", "501333996")])
        .await;
    let refused = eventually("the delivery refused", || async {
        let listed = send(session.get("webhooks")).await;
        listed.body["webhooks"][0]["last_error"]
            .as_str()
            .map(str::to_owned)
    })
    .await;
    assert!(
        refused.starts_with("refused: localhost resolves to"),
        "{refused}"
    );
    assert!(proxy.deliveries().is_empty(), "the proxy was used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_postgresql_instances_deliver_a_thousand_events_each_once() {
    if !crate::support::postgres_available().await {
        return;
    }
    let database = TestDatabase::create(Backend::Postgres).await;
    let servers = ServerProcess::start_together_with(&database.url, 2, FLAGS);
    let store = connecticket::database::open(&database.url, Default::default())
        .await
        .expect("open");
    let admin = crate::support::TestOperator::over(store);
    connecticket_domain::demo::seed(&admin.api)
        .await
        .expect("seed");
    let (first, second) = (&servers[0], &servers[1]);
    let http = client();
    let one = demo_session(&http, &first.base).await;
    let two = Session {
        base: second.base.clone(),
        ..one.clone()
    };
    let receiver = WebhookReceiver::start().await;
    register(&one, &receiver.url).await;
    let created = burst(&[one, two], 1000, 16).await;
    let by_id = eventually("a thousand events delivered", || async {
        let by_id = arrived(&receiver.deliveries());
        (by_id.len() == 1000).then_some(by_id)
    })
    .await;
    // A little longer: nothing arrives twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let by_id_later = arrived(&receiver.deliveries());
    assert_eq!(by_id_later.len(), 1000);
    let twice: Vec<_> = by_id_later.iter().filter(|(_, (_, n))| *n > 1).collect();
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    let tickets: BTreeSet<i64> = by_id.values().map(|(ticket, _)| *ticket).collect();
    assert_eq!(tickets, created);
}
