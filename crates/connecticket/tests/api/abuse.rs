//! Defects found by attacking the running server (issue 8), one test each:
//! bodies read before credentials, parameter floods, alias ids, unbounded
//! comments, files where none are taken, lying lengths, token minting,
//! keep-alive connections closed without warning, and a 408 that still
//! wrote.

use connecticket_domain::audit::Action;
use std::time::Duration;

use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET, DEMO_PROVIDER_ID};
use connecticket_domain::model::NewComment;
use connecticket_http::Limits;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::raw::{address, exchange, read_answer};
use crate::support::{send, Backend, Session, TestApp, TestOptions};

/// Long enough for any prompt answer; the defects made clients wait a
/// minute.
const PROMPTLY: Duration = Duration::from_secs(5);

fn credentials() -> String {
    format!("api_key: {DEMO_API_KEY}\r\napi_secret: {DEMO_API_SECRET}\r\n")
}

/// `0&1&2&…`: many tiny parameters.
fn flood(count: usize) -> String {
    (0..count)
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join("&")
}

fn form_head(path: &str, length: usize, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
    )
}

backend_tests! {
    async fn authorize_never_reads_a_large_body() {
        let app = TestApp::demo().await;
        // 25 MB declared, but only the first 256 KiB ever sent.
        let body = flood(60_000);
        let answer = exchange(
            &app.base,
            &form_head("/api/authorize", 25 * 1024 * 1024, ""),
            &body.as_bytes()[..256 * 1024],
            PROMPTLY,
        )
        .await;
        assert_eq!(answer.status(), 413, "{answer:?}");
        assert!(answer.body.contains("\"status\":false"), "{answer:?}");
        assert_eq!(answer.header("connection"), Some("close"));
        // Credentials as parameters, the seed's way, still work.
        let form = format!("api_key={DEMO_API_KEY}&api_secret={DEMO_API_SECRET}");
        let reply = send(app.http.post(app.url("/api/authorize")).body(form).header("content-type", "application/x-www-form-urlencoded")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    async fn a_request_with_a_bad_token_never_reads_its_body() {
        let app = TestApp::demo().await;
        let path = "/api/not-a-token/create_ticket";
        let answer = exchange(&app.base, &form_head(path, 1024 * 1024, &credentials()), b"title=x&", PROMPTLY).await;
        assert_eq!(answer.status(), 401, "{answer:?}");
        assert!(answer.body.contains("Invalid Credentials"), "{answer:?}");
        assert_eq!(answer.header("connection"), Some("close"));
    }

    async fn parameter_floods_are_refused_in_every_encoding() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let message = "too many parameters; at most 1000 per request";
        let form = format!("title=x&resident_id=501333996&{}", flood(5_000));
        send(session.post("create_ticket").header("content-type", "application/x-www-form-urlencoded").body(form))
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, message);
        let object: serde_json::Map<String, serde_json::Value> =
            (0..5_000).map(|n| (format!("k{n}"), json!(n))).collect();
        send(session.post("create_ticket").json(&object))
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, message);
        let mut parts = Form::new();
        for n in 0..1_500 {
            parts = parts.text(format!("k{n}"), "v");
        }
        send(session.post("create_ticket").multipart(parts))
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, message);
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 2);
    }

    async fn ids_in_parameter_names_are_canonical_decimal() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        for alias in ["category_019", "category_+19", "category_ 19", "category_19 ", "category_comments_019", "category_comments_\t19"] {
            let reply = send(session.post("create_ticket").form(&[
                ("title", "alias"),
                ("resident_id", "501333996"),
                (alias, "Issue"),
            ]))
            .await;
            reply.assert_failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("{} must be written with a plain decimal id, like category_19", alias.replace('\t', "")),
            );
        }
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 2);
    }

    async fn a_parameter_given_twice_with_different_values_is_refused() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let body = "title=x&resident_id=501333996&category_19=Issue&category_19=No+Issue";
        send(session.post("create_ticket").header("content-type", "application/x-www-form-urlencoded").body(body))
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "category_19 is given twice with different values");
        // The same value twice is no contradiction; a body still wins over
        // the query string.
        let body = "title=x&resident_id=501333996&category_19=Issue&category_19=Issue";
        let reply = send(session.post("create_ticket?title=from+query").header("content-type", "application/x-www-form-urlencoded").body(body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let id = reply.body["ticket_id"].as_i64().expect("id");
        assert_eq!(session.detail(id).await.body["ticket_with_details"]["ticket"]["title"], "x");
    }

    async fn a_request_creates_a_bounded_number_of_comments() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let mut form: Vec<(String, String)> = vec![
            ("title".into(), "many".into()),
            ("resident_id".into(), "501333996".into()),
        ];
        let categories = futures::future::join_all(
            (0..101).map(|n| {
                let admin = &app.admin;
                async move {
                    let call = admin.within(Action::ManageCategories, DEMO_PROVIDER_ID).await;
                    admin.api.create_category(call, &format!("C{n}")).await
                }
            }),
        )
        .await;
        for category in categories {
            form.push((format!("category_comments_{}", category.expect("category").id), "note".into()));
        }
        send(session.post("create_ticket").form(&form))
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "category parameters must be at most 100 per request");
        form.truncate(2 + 100);
        let reply = send(session.post("create_ticket").form(&form)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    async fn ticket_detail_caps_the_comments_it_embeds() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let comment = |n: usize| NewComment {
            category_id: None,
            employee_id: connecticket_domain::demo::DEMO_EMPLOYEE_ID,
            body: format!("note {n}"),
            created_at: chrono::Utc::now(),
        };
        // Written concurrently (group commit shares the fsyncs); the last
        // one alone, so that it is the newest.
        let write = |n| {
            app.store.create_comment(
                DEMO_PROVIDER_ID,
                connecticket_domain::model::TicketId(202),
                comment(n),
                crate::support::operator_write(connecticket_domain::audit::Action::CreateComment),
            )
        };
        for written in futures::future::join_all((0..509).map(write)).await {
            written.expect("comment");
        }
        write(509).await.expect("comment");
        let detail = session.detail(202).await.body["ticket_with_details"].clone();
        let general = detail["general_comments"].as_array().expect("general").len();
        let categorized: usize = detail["categories"]
            .as_object()
            .expect("categories")
            .values()
            .map(|c| c.as_object().expect("category").keys().filter(|k| k.starts_with("comment")).count())
            .sum();
        assert_eq!(general + categorized, 500, "the newest 500 comments");
        assert_eq!(detail["comments_omitted"], 12, "510 new ones and the demo's 2");
        assert_eq!(detail["general_comments"][499]["title"], "note 509");
    }

    async fn files_sent_to_calls_that_take_none_are_refused() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let form = Form::new()
            .text("ticket_id", "202")
            .text("comment", "with a photo")
            .part("photo", Part::bytes(vec![1, 2, 3]).file_name("p.jpg"));
        send(session.post("create_comment").multipart(form))
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "photo is a file, but create_comment takes none");
        let form = Form::new()
            .text("id", "202")
            .text("status", "Open")
            .part("attachment", Part::bytes(vec![1]).file_name("a.bin"));
        send(session.post("update_status").multipart(form))
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "attachment is a file, but update_status takes none");
        let detail = session.detail(202).await.body;
        assert_eq!(detail["ticket_with_details"]["ticket"]["ticket_status"], "New");
    }

    async fn an_oversized_declared_body_is_refused_at_once() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let path = format!("/api/{}/create_ticket", session.token);
        let answer = exchange(&app.base, &form_head(&path, 104_857_600, &credentials()), b"", PROMPTLY).await;
        assert_eq!(answer.status(), 413, "{answer:?}");
        assert!(answer.body.contains("request body is larger than the limit of 26214400 bytes"), "{answer:?}");
        assert_eq!(answer.header("connection"), Some("close"));
        // No invitation to upload what will be refused.
        let expecting = format!("{}Expect: 100-continue\r\n", credentials());
        let answer = exchange(&app.base, &form_head(&path, 104_857_600, &expecting), b"", PROMPTLY).await;
        assert_eq!(answer.status(), 413, "{answer:?}");
    }

    async fn live_tokens_per_application_are_capped() {
        let app = TestApp::demo().await;
        let first = app.example().await;
        // Sixteen at a time: within one address's share of requests
        // without credentials in flight.
        futures::StreamExt::collect::<Vec<_>>(futures::StreamExt::buffer_unordered(
            futures::stream::iter((0..99).map(|_| app.example())),
            16,
        ))
        .await;
        let last: Session = app.example().await;
        send(first.get("provider_categories"))
            .await
            .assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        assert_eq!(send(last.get("provider_categories")).await.status, StatusCode::OK);
    }

    async fn the_request_budget_belongs_to_the_application() {
        let app = TestApp::spawn(TestOptions {
            throttle: connecticket_domain::service::throttle::ThrottleSettings {
                token_requests: 4,
                ..Default::default()
            },
            ..TestOptions::default()
        })
        .await;
        let one = app.example().await;
        let two = app.example().await;
        for session in [&one, &two, &one, &two] {
            assert_eq!(send(session.get("provider_categories")).await.status, StatusCode::OK);
        }
        let reply = send(two.get("provider_categories")).await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "a new token does not get a new budget");
        assert_eq!(send(app.sunrise().await.get("provider_categories")).await.status, StatusCode::OK);
    }

    async fn an_early_refusal_keeps_its_connection_usable() {
        let app = TestApp::demo().await;
        // A 70 KB body sent with a bad token: refused, and the connection
        // still serves the next request on it.
        let body = vec![b'a'; 70 * 1024];
        let head = form_head("/api/bad-token/create_ticket", body.len(), &credentials());
        let mut stream = tokio::net::TcpStream::connect(address(&app.base)).await.expect("connect");
        tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes()).await.expect("head");
        tokio::io::AsyncWriteExt::write_all(&mut stream, &body).await.expect("body");
        let first = read_answer(&mut stream, PROMPTLY).await;
        assert_eq!(first.status(), 401, "{first:?}");
        assert_eq!(first.header("connection"), None, "{first:?}");
        tokio::io::AsyncWriteExt::write_all(&mut stream, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("second request");
        let second = read_answer(&mut stream, PROMPTLY).await;
        assert_eq!(second.status(), 200, "the connection was cut: {second:?}");
        // A body too large to read for a refused call: the answer says the
        // connection closes, so the client knows not to reuse it.
        let head = form_head("/api/bad-token/create_ticket", 1024 * 1024, &credentials());
        let answer = exchange(&app.base, &head, &[b'a'; 1024], PROMPTLY).await;
        assert_eq!(answer.status(), 401, "{answer:?}");
        assert_eq!(answer.header("connection"), Some("close"), "{answer:?}");
    }

    async fn a_write_answered_408_never_commits() {
        let app = TestApp::spawn(TestOptions {
            limits: Limits { request_timeout: Duration::from_secs(2), ..Limits::default() },
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        let lock = crate::support::hold_write_lock(&app.database_url, Backend::current()).await;
        let reply = send(session.post("create_ticket").form(&[("title", "late"), ("resident_id", "501333996")])).await;
        assert_eq!(reply.status, StatusCode::REQUEST_TIMEOUT, "{}", reply.body);
        lock.release().await;
        // Written after the lock is gone, so the withdrawn one had its turn.
        session.create_ticket(&[("title", "after"), ("resident_id", "501333996")]).await;
        let titles: Vec<String> = send(session.get("tickets")).await.body["ticket"]
            .as_array()
            .expect("tickets")
            .iter()
            .map(|t| t["title"].as_str().expect("title").to_owned())
            .collect();
        assert!(titles.contains(&"after".to_owned()));
        assert!(!titles.contains(&"late".to_owned()), "the write answered 408 was committed: {titles:?}");
    }

    async fn refusals_the_http_library_makes_itself_are_the_documented_ones() {
        // hyper refuses these before any application code runs, with its own
        // bare answers (docs/API-DECISIONS.md, "Answered by the HTTP
        // library"). The test pins the list.
        let app = TestApp::demo().await;
        for (request, status) in [
            ("GET /health?\u{1}=x HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(), 400),
            ("GET /he alth HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(), 400),
            (format!("GET /health?{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70 * 1024)), 431),
        ] {
            let answer = exchange(&app.base, &request, b"", PROMPTLY).await;
            assert_eq!(answer.status(), status, "{request:.40}: {answer:?}");
        }
        let mut raw = b"GET /health?".to_vec();
        raw.push(0xff);
        raw.extend_from_slice(b"=x HTTP/1.1\r\nHost: x\r\n\r\n");
        let answer = exchange(&app.base, "", &raw, PROMPTLY).await;
        assert_eq!(answer.status(), 400, "{answer:?}");
        // Everything else malformed is answered in the envelope.
        let answer = exchange(&app.base, "GET /api/x/tickets?%FF=1 HTTP/1.1\r\nHost: x\r\n\r\n", b"", PROMPTLY).await;
        assert_eq!(answer.status(), 401, "{answer:?}");
        assert!(answer.body.contains("\"status\":false"));
    }

    async fn declared_lengths_that_lie_get_an_answer_in_the_envelope() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let path = format!("/api/{}/create_ticket", session.token);
        // Fewer bytes than declared, then the client stops sending: the
        // request times out or is refused, never answered as a success.
        let app_short = TestApp::spawn(TestOptions {
            limits: Limits { request_timeout: Duration::from_secs(1), ..Limits::default() },
            ..TestOptions::default()
        })
        .await;
        let short = app_short.example().await;
        let short_path = format!("/api/{}/create_ticket", short.token);
        let answer = exchange(&app_short.base, &form_head(&short_path, 100, &credentials()), b"title=x", PROMPTLY).await;
        assert_eq!(answer.status(), 408, "{answer:?}");
        assert!(answer.body.contains("\"status\":false"), "{answer:?}");
        // More bytes than declared: only the declared ones are the body.
        let body = b"title=Fall&resident_id=501333996GARBAGE-BEYOND-THE-DECLARED-LENGTH";
        let answer = exchange(&app.base, &form_head(&path, 32, &credentials()), body, PROMPTLY).await;
        assert_eq!(answer.status(), 200, "{answer:?}");
        // A declared length that is not a number is refused by hyper
        // before any handler runs.
        let head = format!("POST {path} HTTP/1.1\r\nHost: x\r\n{}Content-Length: lots\r\n\r\n", credentials());
        let answer = exchange(&app.base, &head, b"", PROMPTLY).await;
        assert_eq!(answer.status(), 400, "{answer:?}");
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 3);
    }
}
