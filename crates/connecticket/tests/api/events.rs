//! Events for integrators, over HTTP on both backends: every change reaches
//! the change feed once, in commit order, without clinical content; webhook
//! endpoints registered through the API receive each event signed as
//! Standard Webhooks says (checked with the `standardwebhooks` library from
//! PyPI), retried with the same id until the receiver takes it, and never
//! at an address the deployment does not allow.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Duration;
use connecticket_domain::audit::{Action, Outcome};
use connecticket_domain::clock::ManualClock;
use connecticket_domain::demo::{DEMO_PROVIDER_ID, DEMO_RESIDENT_IDS};
use connecticket_domain::events::EventKind;
use connecticket_domain::model::NewResident;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{
    audit_entries, eventually, send, transports, Answer, Console, MailCatcher, Session, TestApp,
    TestOptions, WebhookReceiver,
};

const TITLE: &str = "Found on the floor at night";
const COMMENT: &str = "Bruise on the left hip";
const NURSE: &str = "nurse@example.org";

/// Registers an endpoint; answers its id and secret.
async fn register(session: &Session, url: &str, types: Option<&str>) -> (i64, String) {
    let mut form = vec![("url", url)];
    form.extend(types.map(|types| ("event_types", types)));
    let reply = send(session.post("webhooks").form(&form)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let secret = reply.body["secret"].as_str().expect("secret").to_owned();
    (reply.body["webhook"]["id"].as_i64().expect("id"), secret)
}

/// Every event the feed holds for the session's provider, paging by
/// `limit`, with the last cursor.
async fn read_feed(session: &Session, after: i64, limit: u32) -> (Vec<Value>, i64) {
    let mut events = Vec::new();
    let mut cursor = after;
    loop {
        let page = send(session.get(&format!("changes?after={cursor}&limit={limit}"))).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        events.extend(
            page.body["events"]
                .as_array()
                .expect("events")
                .iter()
                .cloned(),
        );
        cursor = page.body["next_cursor"].as_i64().expect("next_cursor");
        if !page.body["has_more"].as_bool().expect("has_more") {
            return (events, cursor);
        }
    }
}

fn types_of(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Checks each delivery with the `standardwebhooks` library (a verifier
/// nobody here wrote); answers how many it accepted.
fn verified_by_the_library(secret: &str, deliveries: &[crate::support::Delivery]) -> usize {
    let input: Vec<Value> = deliveries
        .iter()
        .map(|d| {
            serde_json::json!({
                "id": d.webhook_id, "timestamp": d.timestamp,
                "signature": d.signature, "body": d.body,
            })
        })
        .collect();
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
secret, deliveries = sys.argv[1], json.load(sys.stdin)
hook, accepted = Webhook(secret), 0
for d in deliveries:
    headers = {"webhook-id": d["id"], "webhook-timestamp": d["timestamp"],
               "webhook-signature": d["signature"]}
    try:
        hook.verify(d["body"], headers)
        accepted += 1
    except Exception as error:
        print("refused:", error, file=sys.stderr)
print(accepted)
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, secret])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with standardwebhooks (pip install standardwebhooks)");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(serde_json::to_string(&input).expect("json").as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("python3");
    assert!(output.status.success(), "the verifier failed");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("a count")
}

/// Runs docs/examples/verify-webhook.* on a delivery; answers what each
/// printed and whether it succeeded, by language.
fn run_receiver_examples(secret: &str, delivery: &crate::support::Delivery) -> Vec<(String, bool)> {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    [
        ("sh", "verify-webhook.sh"),
        ("ruby", "verify-webhook.rb"),
        ("python3", "verify-webhook.py"),
    ]
    .iter()
    .map(|(program, file)| {
        let mut child = std::process::Command::new(program)
            .arg(examples.join(file))
            .env("WEBHOOK_SECRET", secret)
            .env("WEBHOOK_ID", &delivery.webhook_id)
            .env("WEBHOOK_TIMESTAMP", &delivery.timestamp)
            .env("WEBHOOK_SIGNATURE", &delivery.signature)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("{program}: {error}"));
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(delivery.body.as_bytes())
            .expect("write");
        let output = child.wait_with_output().expect("run");
        (
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
            output.status.success(),
        )
    })
    .collect()
}

backend_tests! {
    async fn the_receiver_examples_verify_a_delivery_and_refuse_a_forgery() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let receiver = WebhookReceiver::start().await;
        let (_, secret) = register(&session, &receiver.url, Some("ticket.created")).await;
        session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        let delivery = eventually("delivered", || async { receiver.deliveries().first().cloned() }).await;
        for (printed, succeeded) in run_receiver_examples(&secret, &delivery) {
            assert_eq!((printed.as_str(), succeeded), ("verified", true));
        }
        let mut forged = delivery.clone();
        forged.body = forged.body.replace("ticket.created", "ticket.status_changed");
        for (printed, succeeded) in run_receiver_examples(&secret, &forged) {
            assert_eq!((printed.as_str(), succeeded), ("refused", false));
        }
        let mut stale = delivery.clone();
        stale.timestamp = (chrono::Utc::now().timestamp() - 3600).to_string();
        for (printed, succeeded) in run_receiver_examples(&secret, &stale) {
            assert_eq!((printed.as_str(), succeeded), ("refused", false));
        }
    }

    async fn every_change_reaches_the_feed_and_the_webhook_once_signed_and_without_phi() {
        let mail = MailCatcher::start().await;
        mail.reject_recipient("bounced@example.org");
        let app = TestApp::spawn(TestOptions {
            notifications: transports(Some(&mail), None),
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        let receiver = WebhookReceiver::start().await;
        let (_, secret) = register(&session, &receiver.url, None).await;
        assert!(secret.starts_with("whsec_"), "{secret}");
        let (_, start) = read_feed(&session, 0, 100).await;

        // resident.created and resident.updated (a contact whose mail bounces).
        let call = app.admin.within(Action::CreateResidents, DEMO_PROVIDER_ID).await;
        let new_resident = app.api.create_residents(call, vec![NewResident::named("Ada Newcomer")]).await.expect("resident");
        let call = app.admin.within(Action::ManageContacts, DEMO_PROVIDER_ID).await;
        app.api
            .add_contact(call, connecticket_domain::service::ContactInput {
                resident_id: DEMO_RESIDENT_IDS[0].get(),
                role: "family".to_owned(),
                name: "Bounced Relative".to_owned(),
                email: Some("bounced@example.org".to_owned()),
                phone: None,
                email_consent: true,
                sms_consent: false,
            })
            .await
            .expect("contact");
        // ticket.created, notification.delivered and .failed.
        let ticket = session
            .create_ticket(&[
                ("title", TITLE),
                ("resident_id", &DEMO_RESIDENT_IDS[0].to_string()),
                ("urgency_status", "Exception"),
                ("email", "1"),
            ])
            .await;
        let notices = eventually("the notifications settle", || async {
            let listed = send(session.get(&format!("notifications?ticket_id={ticket}"))).await;
            let all = listed.body["notifications"].as_array().cloned().unwrap_or_default();
            let settled = !all.is_empty() && all.iter().all(|n| n["status"] != "pending");
            settled.then_some(all)
        })
        .await;
        let delivered = notices.iter().find(|n| n["status"] == "delivered").unwrap_or_else(|| panic!("one delivered: {notices:?}"));
        assert!(notices.iter().any(|n| n["status"] == "failed"), "{notices:?}");
        // notification.acknowledged, ticket.comment_added, .status_changed.
        let acknowledged = send(session.post("acknowledge").form(&[
            ("notification_id", delivered["id"].as_i64().expect("id").to_string().as_str()),
            ("note", "Daughter called back"),
        ]))
        .await;
        assert_eq!(acknowledged.status, StatusCode::OK, "{}", acknowledged.body);
        let commented = send(session.post("create_comment").form(&[
            ("ticket_id", ticket.to_string().as_str()),
            ("comment", COMMENT),
        ]))
        .await;
        assert_eq!(commented.status, StatusCode::OK, "{}", commented.body);
        let moved = send(session.post("update_status").form(&[
            ("id", ticket.to_string().as_str()),
            ("status", "In Progress"),
        ]))
        .await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
        // ticket.attachment_added, from the console.
        let nurse = Console::demo(&app, NURSE).await;
        let page = nurse.get(&format!("/console/tickets/{ticket}")).await;
        let attached = nurse
            .post_multipart(
                &format!("/console/tickets/{ticket}/attachments"),
                reqwest::multipart::Form::new()
                    .text("csrf", page.csrf().expect("csrf"))
                    .part("attachment", reqwest::multipart::Part::bytes(b"%PDF-1.4".to_vec()).file_name("hip-scan.pdf").mime_str("application/pdf").expect("mime")),
            )
            .await;
        assert!(attached.status.is_redirection() || attached.status == StatusCode::OK, "{}", attached.status);

        let wanted = [
            "resident.created", "resident.updated", "ticket.created", "notification.delivered",
            "notification.failed", "notification.acknowledged", "ticket.comment_added",
            "ticket.status_changed", "ticket.attachment_added",
        ];
        let events = eventually("every kind of change in the feed", || async {
            let (events, _) = read_feed(&session, start, 3).await;
            let types: BTreeSet<String> = types_of(&events).into_iter().collect();
            wanted.iter().all(|w| types.contains(*w)).then_some(events)
        })
        .await;
        // Once each, in cursor order, with ids that say what changed.
        let cursors: Vec<i64> = events.iter().map(|e| e["cursor"].as_i64().expect("cursor")).collect();
        assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
        let ids: BTreeSet<&str> = events.iter().map(|e| e["id"].as_str().expect("id")).collect();
        assert_eq!(ids.len(), events.len());
        let created = events.iter().find(|e| e["type"] == "ticket.created").expect("created");
        assert_eq!(created["data"]["ticket_id"], ticket);
        assert_eq!(created["data"]["resident_id"], DEMO_RESIDENT_IDS[0].get());
        assert_eq!(created["data"]["status"], "New");
        let moved = events.iter().find(|e| e["type"] == "ticket.status_changed").expect("moved");
        assert_eq!(moved["data"]["status"], "In Progress");
        let resident = events.iter().find(|e| e["type"] == "resident.created").expect("resident");
        assert_eq!(resident["data"]["resident_id"], new_resident[0].get());
        let ack = events.iter().find(|e| e["type"] == "notification.acknowledged").expect("ack");
        assert_eq!(ack["data"]["notification_id"], delivered["id"]);
        // Nothing clinical, nothing that names anyone.
        let text = serde_json::to_string(&events).expect("json");
        for phi in [TITLE, COMMENT, "Ada", "Newcomer", "Bounced", "hip-scan", "Daughter"] {
            assert!(!text.contains(phi), "{phi} in {text}");
        }

        // The webhook got each of them once, signed so the library accepts.
        let deliveries = eventually("every event delivered", || async {
            let got = receiver.deliveries();
            let delivered: BTreeSet<String> = got.iter().map(|d| d.webhook_id.clone()).collect();
            ids.iter().all(|id| delivered.contains(*id)).then_some(got)
        })
        .await;
        let mut per_id: BTreeMap<&str, usize> = BTreeMap::new();
        for d in &deliveries {
            *per_id.entry(d.webhook_id.as_str()).or_default() += 1;
        }
        assert!(per_id.values().all(|n| *n == 1), "{per_id:?}");
        assert_eq!(verified_by_the_library(&secret, &deliveries), deliveries.len());
        // A body changed in transit, or another secret, is refused.
        let mut tampered = deliveries[0].clone();
        tampered.body = tampered.body.replace("provider_id", "provider_ix");
        assert_eq!(verified_by_the_library(&secret, &[tampered]), 0);
        let (_, other_secret) = register(&session, &receiver.url, Some("resident.created")).await;
        assert_eq!(verified_by_the_library(&other_secret, &deliveries[..1]), 0);
        // Webhook bodies are the feed's events.
        let first: Value = deliveries[0].json();
        let same = events.iter().find(|e| e["id"] == first["id"]);
        assert_eq!(same, Some(&first));
    }

    async fn a_receiver_that_fails_three_times_gets_the_event_again_with_the_same_id() {
        let clock = ManualClock::new();
        let app = TestApp::spawn(TestOptions { clock: Arc::clone(&clock) as _, ..TestOptions::default() }).await;
        let session = app.example().await;
        let receiver = WebhookReceiver::start().await;
        receiver.answer_next([Answer::Status(500), Answer::Status(503), Answer::Status(500)]);
        let (webhook, _) = register(&session, &receiver.url, Some("ticket.created")).await;
        let ticket = session
            .create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())])
            .await;
        for attempt in 1..=3 {
            eventually("the next attempt", || async { (receiver.deliveries().len() == attempt).then_some(()) }).await;
            let endpoint = eventually("the attempt recorded", || async {
                let listed = send(session.get("webhooks")).await;
                let endpoint = listed.body["webhooks"][0].clone();
                (endpoint["last_error"].is_string()).then_some(endpoint)
            })
            .await;
            assert_eq!(endpoint["id"], webhook);
            assert!(endpoint["last_error"].as_str().is_some_and(|e| e.starts_with("answered 50")), "{endpoint}");
            assert!(endpoint["failing_since"].is_string());
            // The retry waits (seconds, then minutes): nothing arrives early.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            assert_eq!(receiver.deliveries().len(), attempt, "retried before its time");
            clock.advance(Duration::hours(1));
        }
        eventually("the fourth attempt", || async { (receiver.deliveries().len() == 4).then_some(()) }).await;
        let deliveries = receiver.deliveries();
        assert!(deliveries.iter().all(|d| d.webhook_id == deliveries[0].webhook_id && d.body == deliveries[0].body));
        assert_eq!(deliveries[0].json()["data"]["ticket_id"], ticket);
        let healthy = eventually("the endpoint healthy again", || async {
            let listed = send(session.get("webhooks")).await;
            let endpoint = listed.body["webhooks"][0].clone();
            (endpoint["pending"] == 0 && endpoint["failing_since"].is_null()).then_some(endpoint)
        })
        .await;
        assert!(healthy["last_error"].is_null(), "{healthy}");
        // Nothing more is sent once it was taken.
        clock.advance(Duration::hours(12));
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(receiver.deliveries().len(), 4);
    }

    async fn an_endpoint_failing_for_three_days_is_disabled_and_a_replay_brings_it_back() {
        let clock = ManualClock::new();
        // Three days on, tokens live for a year.
        let mail = MailCatcher::start().await;
        let app = TestApp::spawn(TestOptions { clock: Arc::clone(&clock) as _, token_lifetime: Duration::days(365), notifications: transports(Some(&mail), None), ..TestOptions::default() }).await;
        let session = app.example().await;
        let receiver = WebhookReceiver::start().await;
        receiver.answer_always(Answer::Status(500));
        let (webhook, _) = register(&session, &receiver.url, Some("ticket.created")).await;
        session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        let mut attempts = 0;
        let mut retry_at = Value::Null;
        let disabled = loop {
            attempts += 1;
            assert!(attempts < 40, "never disabled");
            eventually("an attempt", || async { (receiver.deliveries().len() >= attempts).then_some(()) }).await;
            // Recorded: the endpoint's retry time moved.
            let endpoint = eventually("the attempt recorded", || async {
                let listed = send(session.get("webhooks")).await;
                let endpoint = listed.body["webhooks"][0].clone();
                (endpoint["next_attempt_at"] != retry_at || endpoint["disabled_at"].is_string()).then_some(endpoint)
            })
            .await;
            if endpoint["disabled_at"].is_string() {
                break endpoint;
            }
            retry_at = endpoint["next_attempt_at"].clone();
            clock.advance(Duration::hours(13));
        };
        assert!(attempts >= 7, "disabled after {attempts} attempts");
        assert!(disabled["last_error"].as_str().is_some_and(|e| e.contains("500")));
        // Disabled: nothing more is tried, however long.
        let tried = receiver.deliveries().len();
        clock.advance(Duration::days(2));
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert_eq!(receiver.deliveries().len(), tried);
        let entries = audit_entries(&app).await;
        let disabling = entries.iter().find(|e| e.action == Action::ManageWebhooks && e.records.iter().any(|r| r == "disabled")).expect("audited");
        assert!(disabling.records.iter().any(|r| r == &format!("webhook:{webhook}")));
        assert!(disabling.application_id.is_some(), "{disabling:?}");
        // The provider's administrators are told by email: which, whose, why.
        let told = eventually("the administrators emailed", || async {
            mail.mails().into_iter().find(|m| m.header("Subject").is_some_and(|s| s.contains("webhook was disabled")))
        })
        .await;
        assert_eq!(told.to, vec!["sample@example.org".to_owned()], "administrators only");
        // Quoted-printable: soft line breaks joined, as a mail reader does.
        let body = told.body().replace("=\r\n", "").replace("=\n", "");
        assert!(body.contains(&receiver.url) && body.contains("Demo application") && body.contains("answered 500"), "{body}");
        // An administrator sees it in the console: a banner, and why.
        let admin = Console::demo(&app, "sample@example.org").await;
        let overview = admin.get("/console/admin").await;
        assert!(overview.body.contains("A webhook is disabled"), "{}", overview.body);
        let page = admin.get("/console/admin/webhooks").await;
        assert!(page.body.contains("One webhook is disabled"));
        assert!(page.body.contains("Disabled since") && page.body.contains("Last answer: answered 500 Internal Server Error"));
        assert!(page.body.contains("Send again and turn on"));
        // The receiver is fixed; the application replays the range.
        receiver.answer_always(Answer::Status(204));
        let (events, _) = read_feed(&session, 0, 1000).await;
        let cursor = events.iter().rev().find(|e| e["type"] == "ticket.created").expect("event")["cursor"].as_i64().expect("cursor");
        let replayed = send(session.post(&format!("webhooks/{webhook}/replay")).form(&[("from", cursor.to_string())])).await;
        assert_eq!(replayed.status, StatusCode::OK, "{}", replayed.body);
        assert_eq!(replayed.body["queued"], 1);
        eventually("delivered after the replay", || async {
            let listed = send(session.get("webhooks")).await;
            let endpoint = listed.body["webhooks"][0].clone();
            (endpoint["pending"] == 0 && endpoint["disabled_at"].is_null() && receiver.deliveries().len() == tried + 1).then_some(())
        })
        .await;
        let last = receiver.deliveries().last().cloned().expect("delivery");
        assert_eq!(last.webhook_id, receiver.deliveries()[0].webhook_id);
        // The console's replay of a period sends it again too.
        let page = admin.get("/console/admin/webhooks").await;
        assert!(!page.body.contains("is disabled"));
        let replayed = admin.post(&format!("/console/admin/webhooks/{webhook}/replay"), &[("csrf", page.csrf().expect("csrf").as_str()), ("hours", "168")]).await;
        assert_eq!(replayed.location(), Some("/console/admin/webhooks?done=replayed"));
        eventually("sent again from the console", || async { (receiver.deliveries().len() == tried + 2).then_some(()) }).await;
        let entries = audit_entries(&app).await;
        let by_admin = entries.iter().filter(|e| e.action == Action::ManageWebhooks && e.records.iter().any(|r| r == "replayed")).count();
        assert_eq!(by_admin, 2, "the application's replay and the administrator's");
    }

    async fn an_unanswered_ticket_raises_an_escalation_event_and_metrics_count_deliveries() {
        let mail = MailCatcher::start().await;
        let clock = ManualClock::new();
        let app = TestApp::spawn(TestOptions {
            clock: Arc::clone(&clock) as _,
            notifications: transports(Some(&mail), None),
            metrics_listener: true,
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        let receiver = WebhookReceiver::start().await;
        register(&session, &receiver.url, Some("escalation.raised")).await;
        let ticket = session
            .create_ticket(&[
                ("title", TITLE),
                ("resident_id", &DEMO_RESIDENT_IDS[0].to_string()),
                ("urgency_status", "Exception"),
                ("email", "1"),
            ])
            .await;
        eventually("the first messages", || async { (mail.mails().len() >= 3).then_some(()) }).await;
        // Nobody answers within the rule's two minutes.
        clock.advance(Duration::minutes(3));
        let delivery = eventually("the escalation delivered", || async { receiver.deliveries().first().cloned() }).await;
        let event = delivery.json();
        assert_eq!(event["type"], "escalation.raised");
        assert_eq!(event["data"]["ticket_id"], ticket);
        assert_eq!(event["data"]["resident_id"], DEMO_RESIDENT_IDS[0].get());
        let (events, _) = read_feed(&session, 0, 1000).await;
        assert_eq!(types_of(&events).iter().filter(|t| *t == "escalation.raised").count(), 1);
        let metrics_base = app.metrics_base.clone().expect("metrics listener");
        let metrics = eventually("the delivery counted", || async {
            let text = reqwest::get(format!("{metrics_base}/metrics")).await.ok()?.text().await.ok()?;
            // (One recorder per process: other tests' deliveries count too.)
            text.contains("connecticket_webhook_deliveries_total{outcome=\"delivered\"}").then_some(text)
        })
        .await;
        assert!(metrics.contains("connecticket_events_total"), "{metrics}");
        assert!(!metrics.contains(TITLE));
    }

    async fn a_hanging_receiver_holds_only_its_own_endpoint() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let hanging = WebhookReceiver::start().await;
        hanging.answer_always(Answer::Hang(std::time::Duration::from_secs(60)));
        let prompt = WebhookReceiver::start().await;
        register(&session, &hanging.url, Some("ticket.created")).await;
        register(&session, &prompt.url, Some("ticket.created")).await;
        for _ in 0..3 {
            session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        }
        let started = std::time::Instant::now();
        eventually("the prompt receiver has all three", || async { (prompt.deliveries().len() == 3).then_some(()) }).await;
        // Well before the hanging request's 10 s timeout ran out.
        assert!(started.elapsed() < std::time::Duration::from_secs(8), "{:?}", started.elapsed());
        assert_eq!(hanging.deliveries().len(), 1, "one request at a time, in order");
    }

    async fn no_delivery_reaches_an_address_the_deployment_does_not_allow() {
        // The production default: nothing private is reachable.
        let mut options = TestOptions::default();
        options.events.addresses.allowed_private.clear();
        let app = TestApp::spawn(options).await;
        let session = app.example().await;
        let local = WebhookReceiver::start().await;
        let port = local.url.split(':').nth(2).and_then(|p| p.split('/').next()).expect("port").to_owned();
        let targets = [
            (format!("http://127.0.0.1:{port}/hook"), "127.0.0.1 is a loopback address"),
            ("http://10.0.0.1/hook".to_owned(), "10.0.0.1 is a private address"),
            ("http://169.254.169.254/latest/meta-data".to_owned(), "169.254.169.254 is a link-local address"),
            (format!("http://[::1]:{port}/hook"), "::1 is a loopback address"),
            (format!("http://localhost:{port}/hook"), "localhost resolves to"),
        ];
        let mut ids = Vec::new();
        for (url, _) in &targets {
            ids.push(register(&session, url, Some("ticket.created")).await.0);
        }
        session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        let endpoints = eventually("every endpoint refused", || async {
            let listed = send(session.get("webhooks")).await;
            let all = listed.body["webhooks"].as_array().cloned().unwrap_or_default();
            (all.len() == targets.len() && all.iter().all(|e| e["last_error"].is_string())).then_some(all)
        })
        .await;
        for ((_, reason), endpoint) in targets.iter().zip(&endpoints) {
            let error = endpoint["last_error"].as_str().expect("error");
            assert!(error.starts_with("refused: ") && error.contains(reason) && error.ends_with("nothing was sent"), "{error}");
        }
        assert!(local.deliveries().is_empty(), "something reached loopback");

        // A redirect from an allowed receiver is not followed.
        let allowed = TestApp::demo().await;
        let session = allowed.example().await;
        let redirecting = WebhookReceiver::start().await;
        let target = WebhookReceiver::start().await;
        redirecting.answer_always(Answer::Redirect(target.url.clone()));
        register(&session, &redirecting.url, Some("ticket.created")).await;
        session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        let endpoint = eventually("the redirect refused", || async {
            let listed = send(session.get("webhooks")).await;
            let endpoint = listed.body["webhooks"][0].clone();
            endpoint["last_error"].is_string().then_some(endpoint)
        })
        .await;
        assert_eq!(endpoint["last_error"], "answered 302 Found: redirects are not followed");
        assert_eq!(redirecting.deliveries().len(), 1);
        assert!(target.deliveries().is_empty(), "the redirect was followed");
    }

    async fn endpoints_are_checked_kept_apart_rotated_and_audited() {
        let mut options = TestOptions::default();
        options.webhook_urls.allow_insecure = false;
        let app = TestApp::spawn(options).await;
        let session = app.example().await;
        for (url, message) in [
            ("", "url required"),
            ("ftp://example.org/hook", "url must be an absolute https:// URL"),
            ("http://example.org/hook", "url must be https:// (this server does not send events over plain http)"),
            ("https://user:pw@example.org/hook", "url must not carry credentials: verify the webhook-signature header instead"),
        ] {
            let reply = send(session.post("webhooks").form(&[("url", url)])).await;
            reply.assert_failure(StatusCode::UNPROCESSABLE_ENTITY, message);
        }
        let reply = send(session.post("webhooks").form(&[("url", "https://example.org/hook"), ("event_types", "ticket.deleted")])).await;
        reply.assert_failure_starting(StatusCode::UNPROCESSABLE_ENTITY, "event_types names an unknown event type \"ticket.deleted\"");
        let (id, secret) = register(&session, "https://example.org/hook", Some("ticket.created,ticket.status_changed")).await;
        let listed = send(session.get("webhooks")).await;
        assert_eq!(listed.body["webhooks"][0]["event_types"], serde_json::json!(["ticket.created", "ticket.status_changed"]));
        assert!(!listed.body.to_string().contains(&secret), "a secret is shown once");
        // Another provider's application neither sees nor touches it.
        let sunrise = app.sunrise().await;
        assert_eq!(send(sunrise.get("webhooks")).await.body["webhooks"], serde_json::json!([]));
        for reply in [
            send(sunrise.http.delete(sunrise.url(&format!("webhooks/{id}"))).header("api_key", &sunrise.api_key).header("api_secret", &sunrise.api_secret)).await,
            send(sunrise.post(&format!("webhooks/{id}/rotate"))).await,
            send(sunrise.post(&format!("webhooks/{id}/replay")).form(&[("from", "1")])).await,
        ] {
            reply.assert_failure(StatusCode::NOT_FOUND, "Invalid Webhook ID");
        }
        let rotated = send(session.post(&format!("webhooks/{id}/rotate"))).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
        let new_secret = rotated.body["secret"].as_str().expect("secret");
        assert!(new_secret.starts_with("whsec_") && new_secret != secret);
        for path in ["webhooks/abc", "webhooks/0", "webhooks/99999999"] {
            let reply = send(session.http.delete(session.url(path)).header("api_key", &session.api_key).header("api_secret", &session.api_secret)).await;
            reply.assert_failure(StatusCode::NOT_FOUND, "Invalid Webhook ID");
        }
        let deleted = send(session.http.delete(session.url(&format!("webhooks/{id}"))).header("api_key", &session.api_key).header("api_secret", &session.api_secret)).await;
        assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
        assert_eq!(send(session.get("webhooks")).await.body["webhooks"], serde_json::json!([]));
        let entries = audit_entries(&app).await;
        let named = |word: &str| entries.iter().any(|e| e.action == Action::ManageWebhooks && e.outcome == Outcome::Success && e.records.iter().any(|r| r == word) && e.records.iter().any(|r| r == &format!("webhook:{id}")));
        for word in ["registered", "rotated", "deleted"] {
            assert!(named(word), "{word} not audited");
        }
        assert!(entries.iter().any(|e| e.action == Action::ManageWebhooks && e.outcome == Outcome::NotFound));
    }

    async fn an_administrator_registers_and_rotates_a_webhook_in_the_console() {
        let app = TestApp::demo().await;
        let receiver = WebhookReceiver::start().await;
        let admin = Console::demo(&app, "sample@example.org").await;
        let page = admin.get("/console/admin/webhooks").await;
        assert!(page.body.contains("No application has registered a webhook."));
        assert!(page.body.contains("Demo application"), "the application to choose");
        let csrf = page.csrf().expect("csrf");
        // A refusal keeps what was typed and says why, in words.
        let refused = admin
            .post("/console/admin/webhooks", &[("csrf", csrf.as_str()), ("form", "register"), ("application", "1"), ("url", "ftp://example.org/x"), ("event", "ticket.created")])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("ftp://example.org/x") && refused.body.contains("https://"), "{}", refused.body);
        assert!(refused.body.contains("value=\"ticket.created\" checked"));
        let registered = admin
            .post("/console/admin/webhooks", &[("csrf", csrf.as_str()), ("form", "register"), ("application", "1"), ("url", receiver.url.as_str()), ("event", "ticket.created")])
            .await;
        let shown = admin.follow(&registered).await;
        assert!(shown.body.contains("Webhook registered") && shown.body.contains("whsec_"), "{}", shown.body);
        let secret = shown.body.split("whsec_").nth(1).and_then(|rest| rest.split('<').next()).map(|s| format!("whsec_{s}")).expect("secret");
        // Another application's endpoint in the API's list? No: the
        // application it was registered for sees it.
        let session = app.example().await;
        let listed = send(session.get("webhooks")).await;
        assert_eq!(listed.body["webhooks"][0]["url"], receiver.url.as_str());
        assert_eq!(listed.body["webhooks"][0]["event_types"], serde_json::json!(["ticket.created"]));
        let id = listed.body["webhooks"][0]["id"].as_i64().expect("id");
        session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        let delivered = eventually("delivered", || async { receiver.deliveries().first().cloned() }).await;
        assert_eq!(verified_by_the_library(&secret, &[delivered]), 1);
        // Rotation asks first, then shows the new secret once.
        let page = admin.get("/console/admin/webhooks").await;
        let asked = admin.post(&format!("/console/admin/webhooks/{id}/rotate"), &[("csrf", page.csrf().expect("csrf").as_str())]).await;
        assert!(asked.body.contains("A new signing secret for"), "{}", asked.body);
        let rotated = admin.post(&format!("/console/admin/webhooks/{id}/rotate"), &[("csrf", page.csrf().expect("csrf").as_str()), ("confirmed", "yes")]).await;
        let shown = admin.follow(&rotated).await;
        assert!(shown.body.contains("New signing secret") && shown.body.contains("whsec_"));
        assert!(!shown.body.contains(&secret), "a new secret");
        let entries = audit_entries(&app).await;
        for word in ["registered", "rotated"] {
            let entry = entries.iter().find(|e| e.action == Action::ManageWebhooks && e.outcome == Outcome::Success && e.records.iter().any(|r| r == word) && e.employee_id.is_some()).unwrap_or_else(|| panic!("{word} by the administrator"));
            assert!(entry.records.contains(&format!("webhook:{id}")));
        }
    }

    async fn an_operator_lists_replays_and_deletes_endpoints_from_the_command_line() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let receiver = WebhookReceiver::start().await;
        let (id, _) = register(&session, &receiver.url, Some("ticket.created")).await;
        session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        eventually("delivered", || async { (receiver.deliveries().len() == 1).then_some(()) }).await;
        let provider = DEMO_PROVIDER_ID.to_string();
        let cli = |args: &[&str]| {
            let (ok, out, err) = crate::support::admin(&app.database_url, args);
            assert!(ok, "{args:?}: {err}");
            out
        };
        // An operator registers one for the application, and rotates it.
        let added = cli(&["webhook", "add", "--provider", &provider, "--application", "1", "--url", "https://hooks.example.org/x", "--event-types", "resident.created"]);
        assert!(added.contains("its signing secret (shown once):\nwhsec_"), "{added}");
        let added_id = added.split_whitespace().nth(2).expect("id").to_owned();
        let rotated = cli(&["webhook", "rotate", "--provider", &provider, "--id", &added_id]);
        assert!(rotated.contains("whsec_") && !added.contains(rotated.lines().last().unwrap_or_default()), "{rotated}");
        let (ok, _, err) = crate::support::admin(&app.database_url, &["webhook", "add", "--provider", &provider, "--application", "99", "--url", "https://hooks.example.org/y"]);
        assert!(!ok && err.contains("Invalid Application ID"), "{err}");
        cli(&["webhook", "delete", "--provider", &provider, "--id", &added_id]);
        let listed = cli(&["webhook", "list", "--provider", &provider]);
        assert!(listed.contains(&format!("{id}\t1\t{}\thealthy\t0\t", receiver.url)), "{listed}");
        let (events, _) = read_feed(&session, 0, 1000).await;
        let cursor = events.iter().rev().find(|e| e["type"] == "ticket.created").expect("event")["cursor"].as_i64().expect("cursor").to_string();
        let replayed = cli(&["webhook", "replay", "--provider", &provider, "--id", &id.to_string(), "--from", &cursor]);
        assert_eq!(replayed.trim(), format!("queued 1 events again for webhook {id}"));
        eventually("delivered again", || async { (receiver.deliveries().len() == 2).then_some(()) }).await;
        let deliveries = receiver.deliveries();
        assert_eq!(deliveries[0].webhook_id, deliveries[1].webhook_id);
        // Another provider's endpoint is not this provider's to touch.
        let (ok, _, err) = crate::support::admin(&app.database_url, &["webhook", "delete", "--provider", &connecticket_domain::demo::SUNRISE_PROVIDER_ID.to_string(), "--id", &id.to_string()]);
        assert!(!ok && err.contains("Invalid Webhook ID"), "{err}");
        let entries = audit_entries(&app).await;
        assert!(entries.iter().any(|e| e.action == Action::ManageWebhooks && e.outcome == Outcome::NotFound), "the refusal audited");
        assert_eq!(cli(&["webhook", "delete", "--provider", &provider, "--id", &id.to_string()]).trim(), format!("deleted webhook {id}"));
        assert_eq!(send(session.get("webhooks")).await.body["webhooks"], serde_json::json!([]));
        let entries = audit_entries(&app).await;
        for word in ["listed", "replayed", "deleted"] {
            let entry = entries.iter().find(|e| e.action == Action::ManageWebhooks && e.outcome == Outcome::Success && e.records.iter().any(|r| r == word)).unwrap_or_else(|| panic!("{word} not audited"));
            assert!(entry.actor.as_deref().is_some_and(|a| !a.is_empty()), "{entry:?}");
        }
    }

    async fn a_revoked_applications_endpoints_are_sent_nothing_more() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let receiver = WebhookReceiver::start().await;
        register(&session, &receiver.url, None).await;
        session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        eventually("delivered", || async { (receiver.deliveries().len() == 1).then_some(()) }).await;
        // Waiting deliveries too: the receiver is slow while the app is revoked.
        receiver.answer_always(Answer::Status(503));
        session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        eventually("the failure", || async { (receiver.deliveries().len() == 2).then_some(()) }).await;
        let call = app.admin.within(Action::ManageApplications, DEMO_PROVIDER_ID).await;
        let applications = app.api.list_applications(app.admin.within(Action::Applications, DEMO_PROVIDER_ID).await).await.expect("apps");
        app.api.revoke_application(call, applications[0].id).await.expect("revoked");
        receiver.answer_always(Answer::Status(200));
        let other = app.sunrise().await;
        other.create_ticket(&[("title", TITLE), ("resident_id", &connecticket_domain::demo::SUNRISE_RESIDENT_ID.to_string())]).await;
        let call = app.admin.within(Action::CreateResidents, DEMO_PROVIDER_ID).await;
        app.api.create_residents(call, vec![NewResident::named("After")]).await.expect("resident");
        tokio::time::sleep(std::time::Duration::from_secs(7)).await;
        assert_eq!(receiver.deliveries().len(), 2, "nothing after the revocation, not even the retry");
    }

    async fn during_a_rotation_both_secrets_sign_each_delivery() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let receiver = WebhookReceiver::start().await;
        let (id, old) = register(&session, &receiver.url, Some("ticket.created")).await;
        let rotated = send(session.post(&format!("webhooks/{id}/rotate"))).await;
        let new = rotated.body["secret"].as_str().expect("secret").to_owned();
        session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        let deliveries = eventually("delivered", || async { (receiver.deliveries().len() == 1).then(|| receiver.deliveries()) }).await;
        assert_eq!(deliveries[0].signature.split(' ').count(), 2, "{}", deliveries[0].signature);
        assert_eq!(verified_by_the_library(&old, &deliveries), 1);
        assert_eq!(verified_by_the_library(&new, &deliveries), 1);
    }

    async fn the_feed_pages_every_event_exactly_once_while_writes_continue() {
        let mut options = TestOptions::default();
        options.throttle.token_requests = 0;
        let app = TestApp::spawn(options).await;
        let session = app.example().await;
        const WRITERS: usize = 8;
        const PER_WRITER: usize = 1250;
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                let session = session.clone();
                tokio::spawn(async move {
                    let mut ids = Vec::with_capacity(PER_WRITER);
                    for _ in 0..PER_WRITER {
                        ids.push(session.create_ticket(&[("title", "x"), ("resident_id", &DEMO_RESIDENT_IDS[1].to_string())]).await);
                    }
                    ids
                })
            })
            .collect();
        // Read while they write: each page after the last cursor seen.
        let mut seen: Vec<Value> = Vec::new();
        let mut cursor = 0;
        let mut created = 0;
        let mut pages = 0;
        while created < WRITERS * PER_WRITER {
            let page = send(session.get(&format!("changes?after={cursor}&limit=100"))).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            let events = page.body["events"].as_array().expect("events");
            assert!(events.len() <= 100);
            created += events.iter().filter(|e| e["type"] == "ticket.created").count();
            seen.extend(events.iter().cloned());
            cursor = page.body["next_cursor"].as_i64().expect("cursor");
            pages += 1;
            if events.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            assert!(pages < 100_000, "the feed never caught up");
        }
        let mut written = BTreeSet::new();
        for writer in writers {
            written.extend(writer.await.expect("writer"));
        }
        let cursors: Vec<i64> = seen.iter().map(|e| e["cursor"].as_i64().expect("cursor")).collect();
        assert!(cursors.windows(2).all(|w| w[0] < w[1]), "cursors out of order");
        let tickets: Vec<i64> = seen.iter().filter(|e| e["type"] == "ticket.created").map(|e| e["data"]["ticket_id"].as_i64().expect("id")).collect();
        let unique: BTreeSet<i64> = tickets.iter().copied().collect();
        assert_eq!(tickets.len(), unique.len(), "an event came twice");
        assert_eq!(unique, written, "every ticket's event, and only those");
        assert!(pages >= 100, "{pages} pages");
    }

    async fn the_feed_says_when_a_client_must_resynchronise() {
        let clock = ManualClock::new();
        let mut options = TestOptions { clock: Arc::clone(&clock) as _, ..TestOptions::default() };
        options.events.sequencer.prune_every = std::time::Duration::from_millis(50);
        let app = TestApp::spawn(options).await;
        let session = app.example().await;
        session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        let (old, cursor) = eventually("the event", || async {
            let (events, cursor) = read_feed(&session, 0, 100).await;
            types_of(&events).contains(&"ticket.created".to_owned()).then_some((events, cursor))
        })
        .await;
        for (query, message) in [
            ("changes?limit=0", "limit must be between 1 and 1000"),
            ("changes?limit=1001", "limit must be between 1 and 1000"),
            ("changes?after=-1", "after must be a non-negative integer"),
            ("changes?after=abc", "after must be a non-negative integer"),
        ] {
            send(session.get(query)).await.assert_failure(StatusCode::UNPROCESSABLE_ENTITY, message);
        }
        let never = send(session.get(&format!("changes?after={}", cursor + 1000))).await;
        never.assert_failure_starting(StatusCode::GONE, "this feed never gave that cursor");
        // Thirty-one days on, those events are gone, and so is the cursor.
        clock.advance(Duration::days(31));
        let session = app.example().await;
        session.create_ticket(&[("title", TITLE), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string())]).await;
        let first = old[0]["cursor"].as_i64().expect("cursor");
        let gone = eventually("pruned", || async {
            let reply = send(session.get(&format!("changes?after={first}"))).await;
            (reply.status == StatusCode::GONE).then_some(reply)
        })
        .await;
        gone.assert_failure_starting(StatusCode::GONE, "the cursor is older than the events this server keeps");
        let (fresh, _) = eventually("the new event", || async {
            let (events, cursor) = read_feed(&session, 0, 100).await;
            (!events.is_empty()).then_some((events, cursor))
        })
        .await;
        assert_eq!(types_of(&fresh), vec!["ticket.created".to_owned()]);
        let entries = audit_entries(&app).await;
        assert!(entries.iter().any(|e| e.action == Action::PruneEvents), "pruning audited");
        let _ = EventKind::ALL;
    }
}
