//! Attacks on a running server process: what it costs to be flooded by
//! unauthenticated bodies, and demo servers racing to seed one database.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::raw::{address, read_answer};
use crate::support::{send, Backend, ServerProcess, TestDatabase};

/// What the attack sends: `0&1&2&…`, 3.7 million tiny keys, about 25 MB.
fn flood() -> Arc<Vec<u8>> {
    let mut body = Vec::with_capacity(26 * 1024 * 1024);
    for n in 0..3_700_000u32 {
        if n > 0 {
            body.push(b'&');
        }
        body.extend_from_slice(n.to_string().as_bytes());
    }
    Arc::new(body)
}

/// The server's peak resident memory so far, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kilobytes: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kilobytes * 1024
}

/// One attacker: a body of `body.len()` bytes in `content_type`, declared
/// or chunked, sent for as long as the server takes it. Answers the status
/// the server gave (0 when it closed without one).
async fn attack(
    base: String,
    body: Arc<Vec<u8>>,
    content_type: &'static str,
    chunked: bool,
) -> u16 {
    let mut stream = TcpStream::connect(address(&base)).await.expect("connect");
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {}", body.len())
    };
    let head = format!("POST /api/authorize HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n{framing}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.expect("head");
    if !chunked {
        // Refused on its declared length alone, before a byte of it.
        return read_answer(&mut stream, Duration::from_secs(30))
            .await
            .status();
    }
    for chunk in body.chunks(64 * 1024) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    read_answer(&mut stream, Duration::from_secs(30))
        .await
        .status()
}

backend_tests! {
    async fn an_unauthenticated_flood_stays_within_memory() {
        let database = TestDatabase::create(Backend::current()).await;
        let server = ServerProcess::start(&database.url, &["--demo"]);
        let body = flood();
        assert!(body.len() > 25_000_000, "{} bytes", body.len());
        let mut attackers = Vec::new();
        for (content_type, chunked) in [
            ("application/x-www-form-urlencoded", false),
            ("application/x-www-form-urlencoded", true),
            ("application/json", true),
            ("multipart/form-data; boundary=B", true),
        ] {
            for _ in 0..4 {
                attackers.push(tokio::spawn(attack(server.base.clone(), Arc::clone(&body), content_type, chunked)));
            }
        }
        for attacker in attackers {
            let status = attacker.await.expect("attacker");
            // Refused on its size, or (a form, read as it streams) at its
            // first parameter too many; or cut off.
            assert!(matches!(status, 413 | 422 | 0), "an attack was answered {status}");
        }
        let peak = peak_rss(server.child.id());
        println!("peak RSS of the server under 16 concurrent 25 MB unauthenticated bodies: {} MB", peak / (1024 * 1024));
        assert!(peak < 150 * 1024 * 1024, "peak RSS {} MB", peak / (1024 * 1024));
        // And it still serves.
        let http = reqwest::Client::new();
        assert_eq!(send(http.get(format!("{}/health", server.base))).await.status, StatusCode::OK);
    }

    async fn demo_servers_started_together_on_one_empty_database_all_serve() {
        let http = reqwest::Client::new();
        for _ in 0..4 {
            let database = TestDatabase::create(Backend::current()).await;
            let servers = ServerProcess::start_together_with(&database.url, 2, &["--demo"]);
            for server in &servers {
                let session = crate::support::demo_session(&http, &server.base).await;
                let tickets = send(session.get("tickets")).await;
                assert_eq!(tickets.body["ticket"].as_array().map(Vec::len), Some(2));
            }
        }
    }
}
