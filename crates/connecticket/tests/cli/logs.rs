//! Attack on the logs: drive every call with patient data and secrets
//! while capturing the server's whole log output (at debug level), then
//! search it for anything that must never be there.

use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET, SUNRISE_API_SECRET};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::support::{
    demo_session, eventually, send, Backend, MailCatcher, ServerProcess, SmsReceiver, TestDatabase,
};

const TITLE: &str = "Ada fell near the window in room 12";
const COMMENT: &str = "bruise on the left hip, daughter informed";
const CATEGORY_COMMENT: &str = "pain level seven of ten";
const FILE_NAME: &str = "xray-ada-hip.png";

backend_tests! {
    async fn the_log_holds_no_token_secret_or_patient_data() {
        let dir = tempfile::tempdir().expect("dir");
        let log = dir.path().join("server.log");
        let database = TestDatabase::create(Backend::current()).await;
        // Notifications go out too, to real receivers, while the log runs.
        let mail = MailCatcher::start().await;
        let sms = SmsReceiver::start().await;
        let mut server = ServerProcess::start_logged(
            &database.url,
            &["--demo", "--smtp-url", &mail.url, "--sms-gateway-url", &sms.url, "--sms-max-per-second", "100"],
            &log,
        );
        let http = reqwest::Client::new();
        let session = demo_session(&http, &server.base).await;
        let wrong = send(http.post(format!("{}/api/authorize", server.base))
            .header("api_key", DEMO_API_KEY).header("api_secret", SUNRISE_API_SECRET)).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let query_secret = send(http.get(format!("{}/api/authorize?api_key={DEMO_API_KEY}&api_secret={DEMO_API_SECRET}", server.base))).await;
        assert_eq!(query_secret.status, StatusCode::OK);

        for call in ["tickets", "ticket_detail?id=202", "all_residents", "provider_categories", "tickets?resident_id=889283349"] {
            assert_eq!(send(session.get(call)).await.status, StatusCode::OK, "{call}");
        }
        let form = Form::new()
            .text("title", TITLE)
            .text("resident_id", "889283349")
            .text("category_22", "Issue")
            .text("category_comments_22", CATEGORY_COMMENT)
            .text("general_comments", COMMENT)
            .text("urgency_status", "Exception")
            .text("email", "1")
            .text("sms", "1")
            .part("attachment", Part::bytes(b"PNG-ish bytes".to_vec()).file_name(FILE_NAME));
        let created = send(session.post("create_ticket").multipart(form)).await;
        assert_eq!(created.status, StatusCode::OK);
        eventually("the ticket's emails and SMS to arrive", || async {
            (mail.mails().len() >= 3 && sms.received().len() >= 3).then_some(())
        })
        .await;
        let ticket = created.body["ticket_id"].as_i64().expect("id");
        let detail = session.detail(ticket).await;
        let attachment = detail.body["ticket_with_details"]["ticket_attachments"][0]["id"].as_i64().expect("attachment");
        assert_eq!(send(session.get(&format!("attachments/{attachment}"))).await.status, StatusCode::OK);
        let comment = send(session.post("create_comment").form(&[("ticket_id", ticket.to_string().as_str()), ("comment", COMMENT)])).await;
        assert_eq!(comment.status, StatusCode::OK);
        assert_eq!(send(session.post(&format!("update_status?id={ticket}&status=Resolved"))).await.status, StatusCode::OK);
        // Failures carrying the same data.
        let bad_json = send(session.post("create_ticket").header("content-type", "application/json").body(format!("{{\"title\": \"{TITLE}\""))).await;
        assert_eq!(bad_json.status, StatusCode::UNPROCESSABLE_ENTITY);
        let invalid = send(session.post("create_ticket").form(&[("title", TITLE), ("resident_id", "1")])).await;
        assert_eq!(invalid.status, StatusCode::NOT_FOUND);
        let wrong_path = send(session.get(&format!("no_such_call?title={TITLE}"))).await;
        assert_eq!(wrong_path.status, StatusCode::NOT_FOUND);
        let mut foreign = session.clone();
        foreign.api_secret = "not-it".to_owned();
        assert_eq!(send(foreign.get("tickets")).await.status, StatusCode::UNAUTHORIZED);

        let traced = send(session.get("ticket_detail?id=202").header("x-request-id", "trace-me-42")).await;
        assert_eq!(traced.header("x-request-id"), Some("trace-me-42"));
        server.signal("TERM");
        let _ = server.child.wait();
        let log = std::fs::read_to_string(&log).expect("log");
        // The capture is real: every request left an access-log line.
        let requests = log.lines().filter(|line| line.contains("http.route")).count();
        assert!(requests >= 15, "only {requests} request lines in:\n{log}");
        assert!(log.contains("/api/{token}/ticket_detail"));
        // Every line a request writes carries its id, the one the client
        // got in X-Request-Id.
        for line in log.lines().filter(|line| line.contains("http.route")) {
            assert!(line.contains("request.id="), "a request's line without its id: {line}");
        }
        assert!(
            log.lines().any(|line| line.contains("request.id=trace-me-42") && line.contains("ticket_detail")),
            "the client's request id is not in the log"
        );
        assert!(log.contains("notification delivered"), "the dispatcher's lines are captured too");
        let forbidden = [
            session.token.as_str(),
            DEMO_API_SECRET,
            SUNRISE_API_SECRET,
            "not-it",
            "Test Case (Provider Type)",
            "Test Doctor",
            "Margaret",
            "Mockingbird",
            "1937/01/21",
            "1937-01-21",
            "Ticket  commment",
            "comment 1",
            TITLE,
            "Ada fell",
            COMMENT,
            CATEGORY_COMMENT,
            FILE_NAME,
            // Contacts' addresses and the gateway's credentials.
            "@example.org",
            "+1555555",
            "AC_TEST:secret",
            "Family of",
            "Physician of",
        ];
        for needle in forbidden {
            assert!(!log.contains(needle), "the log contains {needle:?}");
        }
    }
}
