//! Brute force against authorize is throttled per address and per
//! (api_key, address); the real application keeps working from its own.

use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET, SUNRISE_API_KEY};
use connecticket_domain::service::throttle::ThrottleSettings;
use reqwest::StatusCode;

use crate::support::{send, Reply, TestApp, TestOptions};

fn options() -> TestOptions {
    TestOptions {
        throttle: ThrottleSettings {
            failures_per_key_and_address: 3,
            failures_per_address: 5,
            ..ThrottleSettings::default()
        },
        // The test plays several client addresses through a "proxy".
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("net")],
        ..TestOptions::default()
    }
}

async fn authorize(app: &TestApp, from: &str, key: &str, secret: &str) -> Reply {
    send(
        app.http
            .post(app.url("/api/authorize"))
            .header("x-forwarded-for", from)
            .header("api_key", key)
            .header("api_secret", secret),
    )
    .await
}

fn assert_throttled(reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    let retry_after: u64 = reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry_after));
    assert_eq!(
        reply.body["message"],
        format!("Too many requests; retry in {retry_after} seconds")
    );
}

const ATTACKER: &str = "203.0.113.66";
const CLINIC: &str = "198.51.100.10";

backend_tests! {
    async fn brute_force_is_throttled_and_the_real_application_still_served() {
        let app = TestApp::spawn(options()).await;
        for _ in 0..3 {
            authorize(&app, ATTACKER, DEMO_API_KEY, "guess")
                .await
                .assert_failure(StatusCode::UNAUTHORIZED, "Invalid API key or API secret");
        }
        // The (key, address) budget is spent: even the right secret is
        // refused from the attacker's address.
        assert_throttled(&authorize(&app, ATTACKER, DEMO_API_KEY, DEMO_API_SECRET).await);
        // The real application, from its own address, is unaffected.
        let clinic = authorize(&app, CLINIC, DEMO_API_KEY, DEMO_API_SECRET).await;
        assert_eq!(clinic.status, StatusCode::OK);
        // Other keys from the attacker's address until the address budget
        // (5 failures) is spent too.
        for _ in 0..2 {
            authorize(&app, ATTACKER, SUNRISE_API_KEY, "guess")
                .await
                .assert_failure(StatusCode::UNAUTHORIZED, "Invalid API key or API secret");
        }
        assert_throttled(&authorize(&app, ATTACKER, SUNRISE_API_KEY, "guess").await);
        assert_throttled(&authorize(&app, ATTACKER, "any-other-key", "guess").await);
        assert_eq!(authorize(&app, CLINIC, DEMO_API_KEY, DEMO_API_SECRET).await.status, StatusCode::OK);
        // The counts live in the database: another instance refuses too.
        let other = app.another_instance(options()).await;
        assert_throttled(&authorize(&other, ATTACKER, DEMO_API_KEY, DEMO_API_SECRET).await);
        assert_eq!(authorize(&other, CLINIC, DEMO_API_KEY, DEMO_API_SECRET).await.status, StatusCode::OK);
    }

    async fn an_untrusted_peer_cannot_pick_its_address() {
        // No trusted proxies: X-Forwarded-For is ignored, so rotating it
        // does not escape the per-address budget.
        let app = TestApp::spawn(TestOptions { trusted_proxies: Vec::new(), ..options() }).await;
        for n in 0..5 {
            authorize(&app, &format!("192.0.2.{n}"), &format!("key-{n}"), "s")
                .await
                .assert_failure(StatusCode::UNAUTHORIZED, "Invalid API key or API secret");
        }
        assert_throttled(&authorize(&app, "192.0.2.99", DEMO_API_KEY, DEMO_API_SECRET).await);
    }

    async fn each_application_has_a_request_budget() {
        let app = TestApp::spawn(TestOptions {
            throttle: ThrottleSettings { token_requests: 3, ..ThrottleSettings::default() },
            ..TestOptions::default()
        })
        .await;
        let spent = app.example().await;
        for _ in 0..3 {
            assert_eq!(send(spent.get("provider_categories")).await.status, StatusCode::OK);
        }
        assert_throttled(&send(spent.get("provider_categories")).await);
        // Minting a fresh token buys nothing (it did before issue 8).
        let fresh = app.example().await;
        assert_throttled(&send(fresh.get("provider_categories")).await);
        // Another application's budget is its own.
        let other = app.sunrise().await;
        assert_eq!(send(other.get("provider_categories")).await.status, StatusCode::OK);
    }
}
