//! Limits on headers, time and concurrency, each answered in the envelope;
//! slow-loris connections are cut off while others are served.

use std::time::Duration;

use connecticket_http::Limits;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{eventually, send, TestApp, TestOptions};

fn address(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Starts a request whose body never arrives: it holds a request slot.
async fn stalled_upload(app: &TestApp, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address(app)).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\napi_key: {}\r\napi_secret: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ntitle=slow",
        connecticket_domain::demo::DEMO_API_KEY,
        connecticket_domain::demo::DEMO_API_SECRET
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream
}

async fn read_all(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

backend_tests! {
    async fn oversized_headers_get_431_in_the_envelope() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(session.get("tickets").header("x-padding", "p".repeat(20 * 1024))).await;
        reply.assert_failure(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "request headers are larger than the limit of 16384 bytes");
        // Beyond twice the limit, hyper stops buffering the head and
        // answers itself (no envelope), so unfinished heads cost little.
        let reply = session.get("tickets").header("x-padding", "p".repeat(200 * 1024)).send().await;
        assert_eq!(reply.expect("answered").status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        let mut many = session.get("tickets");
        for n in 0..300 {
            many = many.header(format!("x-h{n}"), "v");
        }
        assert_eq!(send(many).await.status, StatusCode::OK, "300 small headers are within the byte limit");
        assert_eq!(send(session.get("tickets")).await.status, StatusCode::OK);
    }

    async fn a_request_that_takes_too_long_gets_408() {
        let app = TestApp::spawn(TestOptions {
            limits: Limits { request_timeout: Duration::from_secs(1), ..Limits::default() },
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        let path = format!("/api/{}/create_ticket", session.token);
        let mut stream = stalled_upload(&app, &path).await;
        let answer = read_all(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains(r#"{"message":"the request took longer than 1 seconds","status":false}"#), "{answer}");
    }

    async fn requests_beyond_the_concurrency_cap_get_503() {
        let app = TestApp::spawn(TestOptions {
            limits: Limits { max_concurrent_requests: 1, request_timeout: Duration::from_secs(5), ..Limits::default() },
            ..TestOptions::default()
        })
        .await;
        // A stalled upload holds the one slot once its head is read; a probe
        // that arrives first takes the slot itself and the hog is refused,
        // so a refused hog is replaced until one holds the slot.
        let hog = tokio::sync::Mutex::new(stalled_upload(&app, "/api/authorize").await);
        let reply = eventually("a stalled upload to take the only slot", || async {
            let mut current = hog.lock().await;
            let mut probe = [0u8; 1];
            let refused = matches!(
                tokio::time::timeout(Duration::from_millis(1), current.peek(&mut probe)).await,
                Ok(Ok(_))
            );
            if refused {
                *current = stalled_upload(&app, "/api/authorize").await;
                return None;
            }
            let reply = send(app.http.get(app.url("/openapi.json"))).await;
            (reply.status == StatusCode::SERVICE_UNAVAILABLE).then_some(reply)
        })
        .await;
        reply.assert_failure(StatusCode::SERVICE_UNAVAILABLE, "the server is at its limit of concurrent requests; retry shortly");
        assert_eq!(reply.header("retry-after"), Some("1"));
        // Health checks never wait behind anyone: a load balancer sees a
        // full server as live and ready.
        for path in ["/healthz", "/health", "/readyz"] {
            assert_eq!(send(app.http.get(app.url(path))).await.status, StatusCode::OK, "{path}");
        }
    }

    async fn a_slow_loris_is_cut_off_while_others_are_served() {
        let app = TestApp::spawn(TestOptions {
            header_read_timeout: Duration::from_secs(1),
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        let mut loris = TcpStream::connect(address(&app)).await.expect("connect");
        let request = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
        let mut cut_off = None;
        for (sent, byte) in request.iter().enumerate() {
            if loris.write_all(&[*byte]).await.is_err() {
                cut_off = Some(sent);
                break;
            }
            // Meanwhile, everyone else is served.
            assert_eq!(send(session.get("provider_categories")).await.status, StatusCode::OK);
            // The stimulus: one byte every 100 ms, far slower than the
            // 1 s allowed for a whole head.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut probe = [0u8; 64];
            match tokio::time::timeout(Duration::from_millis(1), loris.read(&mut probe)).await {
                Ok(Ok(0)) | Ok(Err(_)) => { cut_off = Some(sent); break; }
                Ok(Ok(_)) => { cut_off = Some(sent); break; }
                Err(_) => {}
            }
        }
        let sent = cut_off.expect("the slow connection was never cut off");
        assert!(sent < request.len() - 1, "cut off only after the whole request");
    }

    async fn idle_connections_are_closed() {
        let app = TestApp::spawn(TestOptions {
            header_read_timeout: Duration::from_secs(1),
            ..TestOptions::default()
        })
        .await;
        let mut idle = TcpStream::connect(address(&app)).await.expect("connect");
        let mut buffer = [0u8; 16];
        // Closed by the server (1 s idle allowed), well before the deadline.
        let read = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut buffer)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    }
}
