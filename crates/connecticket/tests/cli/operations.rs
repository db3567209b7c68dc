//! What operators watch: liveness, readiness with the transports' state,
//! and Prometheus metrics whose series and values follow the traffic
//! driven here (a process of its own, so no other test's traffic counts).

use connecticket_domain::demo::DEMO_PROVIDER_ID;
use reqwest::StatusCode;

use crate::support::{
    admin, demo_session, eventually, send, Backend, MailCatcher, ServerProcess, TestDatabase,
};

/// The value of the one series of `name` whose labels include all of
/// `labels` (each `key="value"`).
fn series(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
}

backend_tests! {
async fn health_readiness_and_metrics_follow_the_traffic() {
    let database = TestDatabase::create(Backend::current()).await;
    let db = database.url.clone();
    let mail = MailCatcher::start().await;
    let server = ServerProcess::start(
        &db,
        &["--demo", "--smtp-url", &mail.url, "--smtp-max-per-second", "1000",
          "--escalation-poll-ms", "50", "--token-requests-per-minute", "12",
          "--metrics-token", "scraper-token"],
    );
    let http = reqwest::Client::new();
    let base = server.base.clone();
    let operator = |path: &str| http.get(format!("{base}{path}")).bearer_auth("scraper-token");

    let alive = send(http.get(format!("{base}/healthz"))).await;
    assert_eq!((alive.status, alive.body["status"].as_str()), (StatusCode::OK, Some("ok")));
    // Anyone learns whether the instance is ready, and nothing more.
    let ready = send(http.get(format!("{base}/readyz"))).await;
    assert_eq!(ready.status, StatusCode::OK, "{:?}", ready.body);
    assert_eq!(ready.body, serde_json::json!({"status": "ready"}));
    assert_eq!(send(http.get(format!("{base}/metrics"))).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(http.get(format!("{base}/metrics")).bearer_auth("guess")).await.status, StatusCode::NOT_FOUND);
    let ready = send(operator("/readyz")).await;
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["database"]["ok"], true);
    assert_eq!(ready.body["database"]["schema_version"], ready.body["database"]["expected_schema_version"]);
    assert_eq!(ready.body["transports"]["email"]["configured"], true);
    assert_eq!(ready.body["transports"]["sms"]["configured"], false);

    let provider = DEMO_PROVIDER_ID.get().to_string();
    let (ok, _, err) = admin(&db, &["escalation", "set", "--provider", &provider, "--urgency", "Exception", "--ack-within", "1s", "--then", "on_call_nurse"]);
    assert!(ok, "{err}");
    let session = demo_session(&http, &base).await;
    let ticket = session
        .create_ticket(&[("title", "Fell"), ("resident_id", "889283349"), ("urgency_status", "Exception"), ("email", "1")])
        .await;
    for _ in 0..3 {
        assert_eq!(session.detail(ticket).await.status, StatusCode::OK);
    }
    assert_eq!(session.detail(999_999_999).await.status, StatusCode::NOT_FOUND);
    // The application's budget (12 a minute) runs out: throttled calls.
    let mut throttled = 0;
    for _ in 0..12 {
        if send(session.get("provider_categories")).await.status == StatusCode::TOO_MANY_REQUESTS {
            throttled += 1;
        }
    }
    assert!(throttled > 0);
    // A method a client invents is counted, but never becomes a label.
    let brew = reqwest::Method::from_bytes(b"BREW").expect("method");
    assert_eq!(send(http.request(brew, format!("{base}/healthz"))).await.status, StatusCode::METHOD_NOT_ALLOWED);

    // Deliveries, the reminder after a second, and its delivery.
    let metrics = eventually("the reminder's deliveries to be counted", || async {
        let text = operator("/metrics").send().await.ok()?.text().await.ok()?;
        let delivered = series(&text, "connecticket_notification_attempts_total", &["channel=\"email\"", "outcome=\"delivered\""])?;
        // The queue's gauge is read from the database at the scrape: the
        // attempts are counted as they end, their rows commit just after.
        let recorded = series(&text, "connecticket_notifications", &["state=\"delivered\""]).is_some_and(|n| n >= 6.0);
        (delivered >= 6.0 && recorded && series(&text, "connecticket_escalation_levels_total", &["kind=\"renotify\""]) == Some(1.0)).then_some(text)
    })
    .await;
    let detail = ["route=\"/api/{token}/ticket_detail\"", "method=\"GET\""];
    assert_eq!(series(&metrics, "connecticket_http_requests_total", &[detail[0], detail[1], "status=\"200\""]), Some(3.0), "{metrics}");
    assert_eq!(series(&metrics, "connecticket_http_requests_total", &[detail[0], "status=\"404\""]), Some(1.0));
    assert_eq!(series(&metrics, "connecticket_http_request_duration_seconds_count", &detail), Some(4.0));
    assert_eq!(series(&metrics, "connecticket_http_request_duration_seconds_bucket", &[detail[0], "le=\"10\""]), Some(4.0));
    assert_eq!(series(&metrics, "connecticket_http_requests_total", &["route=\"/api/{token}/provider_categories\"", "status=\"429\""]), Some(f64::from(throttled)));
    assert_eq!(series(&metrics, "connecticket_throttled_requests_total", &["reason=\"rate_limit\""]), Some(f64::from(throttled)));
    assert!(series(&metrics, "connecticket_audit_entries_total", &[]).is_some_and(|n| n >= 5.0));
    assert!(series(&metrics, "connecticket_notifications", &["state=\"delivered\""]).is_some_and(|n| n >= 6.0));
    assert_eq!(series(&metrics, "connecticket_escalations_open", &[]), Some(1.0));
    assert!(series(&metrics, "connecticket_db_connections", &["state=\"busy\""]).is_some());
    assert!(series(&metrics, "connecticket_db_queued_writes", &[]).is_some());
    // Every batch's size is counted under its writer, in buckets up to the
    // largest batch; the reads' entries and the writes are all in them.
    let writers: &[&str] = match Backend::current() {
        Backend::Sqlite => &["writer=\"sqlite\""],
        Backend::Postgres => &["writer=\"write_lane\"", "writer=\"audit_lane\""],
    };
    let mut calls_in_batches = 0.0;
    for writer in writers {
        let batches = series(&metrics, "connecticket_db_batch_calls_count", &[writer]);
        assert!(batches.is_some_and(|n| n >= 1.0), "no batch of {writer}: {metrics}");
        let largest = series(&metrics, "connecticket_db_batch_calls_bucket", &[writer, "le=\"256\""]);
        assert_eq!(largest, batches, "{writer}");
        calls_in_batches += series(&metrics, "connecticket_db_batch_calls_sum", &[writer]).unwrap_or(0.0);
    }
    // The ticket, and the entries of three details and of one refusal.
    assert!(calls_in_batches >= 5.0, "{calls_in_batches} calls in batches");
    // Labels are templates: no token, id or address anywhere.
    assert!(!metrics.contains(&session.token), "a token in the metrics");
    assert!(!metrics.contains("@example.org"));
    assert!(!metrics.contains("BREW"));
    assert_eq!(series(&metrics, "connecticket_http_requests_total", &["route=\"/healthz\"", "method=\"other\"", "status=\"405\""]), Some(1.0));
    for route in metrics.split("route=\"").skip(1).filter_map(|rest| rest.split('"').next()) {
        assert!(!route.chars().any(|c| c.is_ascii_digit()), "an id in a route label: {route}");
    }

    let ready = send(operator("/readyz")).await;
    assert!(ready.body["transports"]["email"]["last_delivered_at"].is_string(), "{:?}", ready.body);
    drop(server);
}
}
