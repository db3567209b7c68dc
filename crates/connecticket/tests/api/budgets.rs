//! The server's capacity under attack: a crowd from one address, a flood
//! without credentials and one tenant's slow readers each take only their
//! own share, bodies that stop arriving are cut off on every route, and
//! health checks never wait. The other clients here connect from other
//! loopback addresses (127.0.0.2, …), as they would from other machines.

use connecticket_domain::audit::Action;
use std::net::IpAddr;
use std::time::Duration;

use connecticket_domain::demo::DEMO_PROVIDER_ID;
use connecticket_domain::model::NewResident;
use connecticket_http::Limits;
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::raw::{connect_from, exchange, read_answer, RawAnswer, StalledReader};
use crate::support::{send, Console, Session, TestApp, TestOptions, DEMO_PASSWORD};

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

/// How long a test waits for an answer the server owes at once (or after
/// a pause of a second or two); far below the request timeout of 60 s.
const OWED: Duration = Duration::from_secs(15);

/// Sends a head declaring a 1,000-byte body and 10 bytes of it, from
/// `local`; the rest never comes.
async fn stalled_body(app: &TestApp, local: IpAddr, path: &str, extra: &str) -> TcpStream {
    let mut stream = connect_from(&app.base, local).await;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{extra}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nFrom=%2B1"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream
}

/// The demo application's credentials, as header lines.
fn credentials() -> String {
    format!(
        "api_key: {}\r\napi_secret: {}\r\n",
        connecticket_domain::demo::DEMO_API_KEY,
        connecticket_domain::demo::DEMO_API_SECRET
    )
}

/// Everything another client does, each expected to succeed.
async fn another_client_is_served(app: &TestApp, session: &Session, local: IpAddr) {
    let session = session.from_address(local);
    assert_eq!(session.detail(202).await.status, StatusCode::OK);
    session
        .create_ticket(&[("title", "Fall"), ("resident_id", "501333996")])
        .await;
    let health = reqwest::Client::builder()
        .local_address(local)
        .build()
        .expect("client");
    let reply = send(health.get(app.url("/healthz"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    let mut console = Console::of(app).from_address(local);
    let page = console
        .sign_in("nurse@example.org", DEMO_PASSWORD, None)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

fn statuses(answers: &[RawAnswer]) -> (usize, usize, usize) {
    let count = |status| answers.iter().filter(|a| a.status() == status).count();
    (
        count(408),
        count(429),
        answers.len() - count(408) - count(429),
    )
}

backend_tests! {
    async fn slow_bodies_from_one_address_hold_only_that_address_s_share() {
        let app = TestApp::spawn(TestOptions {
            limits: Limits {
                max_concurrent_per_address: 8,
                body_idle_timeout: Duration::from_secs(2),
                ..Limits::default()
            },
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        let mut crowd = Vec::new();
        for _ in 0..24 {
            crowd.push(stalled_body(&app, ip("127.0.0.1"), "/sms/inbound", "").await);
        }
        // Meanwhile, everyone else is served.
        another_client_is_served(&app, &session, ip("127.0.0.2")).await;
        // Eight of the crowd got a slot each and were cut off once their
        // bodies stopped for two seconds; the others were refused at once.
        let mut answers = Vec::new();
        for mut stream in crowd {
            answers.push(read_answer(&mut stream, OWED).await);
        }
        assert_eq!(statuses(&answers), (8, 16, 0), "{answers:?}");
        let cut = answers.iter().find(|a| a.status() == 408).expect("a 408");
        assert!(cut.body.contains(r#""message":"the request body stopped arriving for 2 seconds""#), "{cut:?}");
        let refused = answers.iter().find(|a| a.status() == 429).expect("a 429");
        assert!(refused.body.contains("too many requests from your address are in flight"), "{refused:?}");
        assert_eq!(refused.header("retry-after"), Some("1"));
    }

    async fn a_lying_length_is_answered_after_the_pause_not_the_request_timeout() {
        let app = TestApp::spawn(TestOptions {
            limits: Limits { body_idle_timeout: Duration::from_secs(1), ..Limits::default() },
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        let credentials = credentials();
        for (path, extra) in [
            ("/api/authorize".to_owned(), credentials.clone()),
            (session.target("create_ticket"), credentials.clone()),
            ("/console/sign-in".to_owned(), String::new()),
            ("/sms/status".to_owned(), String::new()),
        ] {
            let mut stream = stalled_body(&app, ip("127.0.0.1"), &path, &extra).await;
            let answer = read_answer(&mut stream, OWED).await;
            assert_eq!(answer.status(), 408, "{path}: {answer:?}");
            assert!(answer.body.contains("the request body stopped arriving for 1 seconds"), "{path}: {answer:?}");
        }
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 2);
    }

    async fn a_flood_without_credentials_leaves_room_for_calls_with_them() {
        let app = TestApp::spawn(TestOptions {
            limits: Limits {
                max_concurrent_requests: 12,
                max_concurrent_anonymous: 8,
                body_idle_timeout: Duration::from_secs(3),
                ..Limits::default()
            },
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        // Twelve slow authorize bodies, each from an address of its own.
        let mut flood = Vec::new();
        for n in 1..=12 {
            flood.push(stalled_body(&app, ip(&format!("127.0.1.{n}")), "/api/authorize", "").await);
        }
        // The calls with credentials still have their room.
        let session = session.from_address(ip("127.0.0.2"));
        assert_eq!(session.detail(202).await.status, StatusCode::OK);
        assert_eq!(send(session.get("provider_categories")).await.status, StatusCode::OK);
        // Eight of the flood held the share without credentials until
        // their bodies stalled; four were refused at once.
        let mut answers = Vec::new();
        for stream in &mut flood {
            answers.push(read_answer(stream, OWED).await);
        }
        let count = |status| answers.iter().filter(|a| a.status() == status).count();
        assert_eq!((count(408), count(503)), (8, 4), "{answers:?}");
        let refused = answers.iter().find(|a| a.status() == 503).expect("a 503");
        assert!(refused.body.contains("at its limit of requests without credentials"), "{refused:?}");
    }

    async fn one_provider_s_slow_readers_hold_only_its_share() {
        let app = TestApp::spawn(TestOptions {
            limits: Limits { max_concurrent_per_provider: 4, ..Limits::default() },
            ..TestOptions::default()
        })
        .await;
        let residents = (0..20_000).map(|n| NewResident::named(format!("Resident {n}"))).collect();
        app.api.create_residents(app.admin.within(Action::CreateResidents, DEMO_PROVIDER_ID).await, residents).await.expect("residents");
        let example = app.example().await;
        let sunrise = app.sunrise().await;
        let mut stalled = Vec::new();
        for _ in 0..4 {
            let reader = StalledReader::start(&app.base, &example.target("all_residents"), &example.credentials()).await;
            assert!(reader.head.starts_with("HTTP/1.1 200"), "{}", reader.head);
            stalled.push(reader);
        }
        // The provider's fifth call waits for none of them: it is refused.
        let reply = send(example.from_address(ip("127.0.0.3")).get("provider_categories")).await;
        reply.assert_failure(StatusCode::TOO_MANY_REQUESTS, "too many requests of your organisation are in flight; retry shortly");
        // Another provider, and the health checks, are served.
        assert_eq!(send(sunrise.get("provider_categories")).await.status, StatusCode::OK);
        assert_eq!(send(sunrise.get("tickets")).await.status, StatusCode::OK);
        assert_eq!(send(app.http.get(app.url("/healthz"))).await.status, StatusCode::OK);
        // Once the readers are gone, the provider has its share back.
        drop(stalled);
        crate::support::eventually("the provider's share to come back", || async {
            (send(example.get("provider_categories")).await.status == StatusCode::OK).then_some(())
        })
        .await;
    }

    async fn heads_with_bare_line_feeds_or_without_a_host_are_refused() {
        let app = TestApp::demo().await;
        for (request, message) in [
            ("GET /healthz HTTP/1.1\nHost: x\n\n", "request lines must end with CR LF"),
            ("GET /healthz HTTP/1.1\r\nHost: x\n\r\n", "request lines must end with CR LF"),
            ("GET /healthz HTTP/1.1\r\n\r\n", "an HTTP/1.1 request must carry a Host header"),
        ] {
            let answer = exchange(&app.base, request, b"", OWED).await;
            assert_eq!(answer.status(), 400, "{request:?}: {answer:?}");
            assert!(answer.body.contains(message), "{request:?}: {answer:?}");
            assert_eq!(answer.header("connection"), Some("close"), "{answer:?}");
        }
        // A bare LF in a later request of a kept-alive connection, after a
        // body full of them, is caught too.
        let pipelined = "POST /api/authorize HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n\n\n\n\
                         GET /healthz HTTP/1.1\nHost: x\n\n";
        let mut stream = TcpStream::connect(crate::support::raw::address(&app.base)).await.expect("connect");
        stream.write_all(pipelined.as_bytes()).await.expect("write");
        // (The first may be answered before the second arrives, or be
        // refused with it: the connection is refused as a whole.)
        let first = read_answer(&mut stream, OWED).await;
        let second = read_answer(&mut stream, OWED).await;
        let statuses = [first.status(), second.status()];
        assert!(statuses.contains(&400), "{first:?} {second:?}");
        assert!(!statuses.contains(&200), "the request with bare LFs was served: {second:?}");
        // HTTP/1.0 needs no Host; CR LF everywhere is served as ever.
        let answer = exchange(&app.base, "GET /healthz HTTP/1.0\r\n\r\n", b"", OWED).await;
        assert_eq!(answer.status(), 200, "{answer:?}");
        let answer = exchange(&app.base, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", b"", OWED).await;
        assert_eq!(answer.status(), 200, "{answer:?}");
    }

    async fn a_flood_of_parameters_is_refused_as_it_arrives() {
        let app = TestApp::spawn(TestOptions {
            limits: Limits { body_idle_timeout: Duration::from_secs(2), ..Limits::default() },
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        // A 25 MB body is announced; its first 100 KB already hold far more
        // than 1,000 parameters, and then the client pauses. The server
        // refuses it from what it has (and, after reading what else comes
        // within the pause, answers), instead of waiting for, and holding,
        // all 25 MB.
        let credentials = credentials();
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: x\r\n{credentials}\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            session.target("create_ticket"),
            25 * 1000 * 1000
        );
        let mut flood = String::from("title=x&resident_id=501333996");
        for n in 0..10_000 {
            flood.push_str(&format!("&k{n}=v"));
        }
        let mut stream = connect_from(&app.base, ip("127.0.0.1")).await;
        stream.write_all(head.as_bytes()).await.expect("head");
        stream.write_all(flood.as_bytes()).await.expect("body");
        let answer = read_answer(&mut stream, OWED).await;
        assert_eq!(answer.status(), 422, "{answer:?}");
        assert!(answer.body.contains("too many parameters; at most 1000 per request"), "{answer:?}");
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 2);
    }
}
