//! Escalation as operators run it: rules set and shown with the CLI, and a
//! server killed between two levels that takes every level exactly once
//! after its restart; the report then tells the whole story.

use std::collections::BTreeSet;

use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET, DEMO_PROVIDER_ID};
use reqwest::StatusCode;

use crate::support::{admin, eventually, send, Backend, MailCatcher, ServerProcess, TestDatabase};

fn run(db: &str, args: &[&str]) -> String {
    let (ok, out, err) = admin(db, args);
    assert!(ok, "{args:?}: {err}");
    out
}

fn refused(db: &str, args: &[&str]) -> String {
    let (ok, _, err) = admin(db, args);
    assert!(!ok, "{args:?} should fail");
    err
}

async fn raise_exception(base: &str) -> i64 {
    let http = reqwest::Client::new();
    let reply = send(
        http.post(format!("{base}/api/authorize"))
            .header("api_key", DEMO_API_KEY)
            .header("api_secret", DEMO_API_SECRET),
    )
    .await;
    let token = reply.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let reply = send(
        http.post(format!("{base}/api/{token}/create_ticket"))
            .header("api_key", DEMO_API_KEY)
            .header("api_secret", DEMO_API_SECRET)
            .form(&[
                ("title", "Fell at night"),
                ("resident_id", "889283349"),
                ("urgency_status", "Exception"),
                ("email", "1"),
            ]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["ticket_id"].as_i64().expect("id")
}

/// Distinct Message-IDs received, once there are `count`.
async fn distinct_mails(mail: &MailCatcher, count: usize) -> BTreeSet<String> {
    eventually(&format!("{count} distinct emails"), || async {
        let ids: BTreeSet<String> = mail
            .mails()
            .iter()
            .filter_map(|m| m.header("Message-ID"))
            .collect();
        (ids.len() >= count).then_some(ids)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_are_set_shown_and_checked() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let db = database.url.clone();
    let provider = run(
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
    let id = provider
        .split_whitespace()
        .find_map(|w| w.parse::<i64>().ok())
        .expect("an id")
        .to_string();
    let defaults = run(&db, &["escalation", "show", "--provider", &id]);
    assert!(
        defaults.contains("Exception\t15m\t15m\ton_call_nurse,director_of_nursing"),
        "{defaults}"
    );
    assert!(
        defaults.contains("High\t1h\t1h\ton_call_nurse,director_of_nursing"),
        "{defaults}"
    );
    assert!(defaults.contains("Normal\toff"), "{defaults}");
    // A tier is a role someone holds: a misspelt one would be skipped
    // silently when its turn came, so it is refused.
    let unheld = refused(
        &db,
        &[
            "escalation",
            "set",
            "--provider",
            &id,
            "--urgency",
            "normal",
            "--ack-within",
            "90s",
            "--then",
            "oncall_nurse",
        ],
    );
    assert!(
        unheld.contains("--then “oncall_nurse” is held by no staff contact"),
        "{unheld}"
    );
    run(
        &db,
        &[
            "escalation",
            "contact-add",
            "--provider",
            &id,
            "--role",
            "on_call_nurse",
            "--name",
            "Sam",
            "--email",
            "sam@example.org",
        ],
    );
    let set = run(
        &db,
        &[
            "escalation",
            "set",
            "--provider",
            &id,
            "--urgency",
            "normal",
            "--ack-within",
            "90s",
            "--renotify-after",
            "2h",
            "--then",
            "physician,on_call_nurse",
        ],
    );
    assert!(
        set.contains("Normal\t90s\t2h\tprimary_physician,on_call_nurse"),
        "{set}"
    );
    let off = run(
        &db,
        &[
            "escalation",
            "set",
            "--provider",
            &id,
            "--urgency",
            "High",
            "--ack-within",
            "off",
        ],
    );
    assert!(off.contains("High\toff"), "{off}");
    assert_eq!(run(&db, &["escalation", "show", "--provider", &id]), off);
    for (args, message) in [
        (
            vec!["--urgency", "Urgent", "--ack-within", "5m"],
            "urgency must be one of",
        ),
        (
            vec!["--urgency", "High", "--ack-within", "5 minutes"],
            "--ack-within must be a duration like 90s, 15m or 2h",
        ),
        (
            vec![
                "--urgency",
                "High",
                "--ack-within",
                "5m",
                "--then",
                "Night Nurse",
            ],
            "is neither a resident contact role",
        ),
    ] {
        let mut full = vec!["escalation", "set", "--provider", id.as_str()];
        full.extend(args);
        let err = refused(&db, &full);
        assert!(err.contains(message), "{err}");
    }
    let staff = run(
        &db,
        &[
            "escalation",
            "contact-add",
            "--provider",
            &id,
            "--role",
            "on_call_nurse",
            "--name",
            "Pat",
            "--phone",
            "+15555550190",
        ],
    );
    assert!(staff.contains("(on_call_nurse) added"), "{staff}");
    assert!(run(&db, &["escalation", "contacts", "--provider", &id])
        .contains("on_call_nurse\tPat\t\t+15555550190"));
    let err = refused(
        &db,
        &[
            "escalation",
            "contact-add",
            "--provider",
            &id,
            "--role",
            "family",
            "--name",
            "X",
            "--email",
            "x@example.org",
        ],
    );
    assert!(err.contains("staff role"), "{err}");
}

backend_tests! {
async fn a_server_killed_between_levels_takes_each_level_once_after_restart() {
    let database = TestDatabase::create(Backend::current()).await;
    let db = database.url.clone();
    let mail = MailCatcher::start().await;
    let args = [
        "--demo", "--smtp-url", &mail.url, "--smtp-from", "Example Provider <care@example.org>",
        "--smtp-max-per-second", "1000", "--notification-lease-secs", "2",
        "--escalation-poll-ms", "50", "--public-url", "https://care.example.org",
    ];
    let mut server = ServerProcess::start(&db, &args);
    let provider = DEMO_PROVIDER_ID.get().to_string();
    run(&db, &["escalation", "set", "--provider", &provider, "--urgency", "Exception", "--ack-within", "2s", "--then", "on_call_nurse,director_of_nursing"]);
    let ticket = raise_exception(&server.base).await;
    distinct_mails(&mail, 3).await;
    // Killed once the reminders went out, before the next level is due.
    distinct_mails(&mail, 6).await;
    server.kill();
    let restarted = ServerProcess::start(&db, &args);
    // The on-call nurse, then the director of nursing, then nobody.
    let ids = distinct_mails(&mail, 8).await;
    let report = eventually("the escalation to be exhausted", || async {
        let report = run(&db, &["report", "notifications", "--provider", &provider, "--format", "jsonl"]);
        report.contains("\"state\":\"exhausted\"").then_some(report)
    })
    .await;
    drop(restarted);
    assert_eq!(ids.len(), 8, "three, three reminders, the nurse, the director");
    let story: serde_json::Value = serde_json::from_str(report.lines().next().expect("a line")).expect("json");
    assert_eq!(story["ticket_id"], ticket);
    let steps: Vec<(i64, String)> = story["escalation_steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["level"].as_i64().expect("level"), s["kind"].as_str().expect("kind").to_owned()))
        .collect();
    let expected: Vec<(i64, String)> = [(1, "renotify"), (2, "tier"), (3, "tier"), (4, "exhausted")]
        .map(|(l, k)| (l, k.to_owned()))
        .to_vec();
    assert_eq!(steps, expected, "each level once");
    let roles: Vec<&str> = story["notifications"].as_array().expect("notifications").iter().filter(|n| n["channel"] == "email").map(|n| n["role"].as_str().expect("role")).collect();
    assert_eq!(roles.iter().filter(|r| **r == "on_call_nurse").count(), 1);
    assert_eq!(roles.iter().filter(|r| **r == "director_of_nursing").count(), 1);
    let to: Vec<String> = mail.mails().iter().flat_map(|m| m.to.clone()).collect();
    assert!(to.contains(&"oncall@example.org".to_owned()) && to.contains(&"director@example.org".to_owned()));
    // The CSV has a row per notification and per level.
    let csv = run(&db, &["report", "notifications", "--provider", &provider]);
    assert!(csv.starts_with("ticket_id,record,notification_id,event,escalation_level,role,channel,state,queued_at"), "{csv}");
    assert_eq!(csv.lines().filter(|l| l.contains(",escalation,")).count(), 4, "{csv}");
}
}
