//! Sign-in and authorize under bursts: the form's token must be one this
//! server issued, attempts are counted before they are checked (so a
//! concurrent burst is held to the limit exactly), an account is limited
//! across addresses, and password hashing runs a few at a time.

use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET};
use connecticket_domain::service::throttle::ThrottleSettings;
use connecticket_http::Limits;
use reqwest::StatusCode;

use crate::support::{field_value, Console, TestApp, TestOptions, DEMO_PASSWORD};

const NURSE: &str = "nurse@example.org";

/// A server that believes `X-Forwarded-For` from loopback, so that a test
/// plays many client addresses.
fn behind_a_proxy(throttle: ThrottleSettings) -> TestOptions {
    TestOptions {
        throttle,
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("net")],
        limits: Limits {
            max_concurrent_anonymous: 512,
            ..Limits::default()
        },
        ..TestOptions::default()
    }
}

/// The sign-in form's token, as a browser gets it (the page, then its
/// cookie and field).
async fn form_token(app: &TestApp) -> String {
    let page = app
        .http
        .get(app.url("/console/sign-in"))
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("the page");
    field_value(&page, "csrf").expect("the sign-in form's token")
}

/// Posts the sign-in form from `from`, with a token fetched first.
async fn sign_in_from(app: &TestApp, from: &str, email: &str, password: &str) -> StatusCode {
    sign_in_as(app, from, None, email, password).await
}

/// Posts the sign-in form from `from` with a device cookie.
async fn sign_in_with_device(
    app: &TestApp,
    from: &str,
    device: &str,
    email: &str,
    password: &str,
) -> StatusCode {
    sign_in_as(app, from, Some(device), email, password).await
}

async fn sign_in_as(
    app: &TestApp,
    from: &str,
    device: Option<&str>,
    email: &str,
    password: &str,
) -> StatusCode {
    let token = form_token(app).await;
    let mut cookies = format!("ct_sign_in={token}");
    if let Some(device) = device {
        cookies.push_str(&format!("; ct_device={device}"));
    }
    // Redirects are seen, not followed: a sign-in answers 303.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(app.url("/console/sign-in"))
        .header("x-forwarded-for", from)
        .header("cookie", cookies)
        .form(&[("email", email), ("password", password), ("csrf", &token)])
        .send()
        .await
        .expect("answered")
        .status()
}

/// Statuses of `attempts` run all at once.
async fn at_once<F>(attempts: Vec<F>) -> Vec<StatusCode>
where
    F: std::future::Future<Output = StatusCode> + Send + 'static,
{
    let tasks: Vec<_> = attempts.into_iter().map(tokio::spawn).collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("attempt"));
    }
    statuses
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

backend_tests! {
    async fn a_sign_in_token_the_client_made_up_is_refused() {
        let app = TestApp::demo().await;
        // Cookie and field agree, but this server never issued the token.
        let reply = app.http
            .post(app.url("/console/sign-in"))
            .header("cookie", "ct_sign_in=x")
            .form(&[("email", NURSE), ("password", DEMO_PASSWORD), ("csrf", "x")])
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), StatusCode::FORBIDDEN);
        // Nor does a token in the query string count.
        let token = form_token(&app).await;
        let reply = app.http
            .post(app.url(&format!("/console/sign-in?csrf={token}")))
            .header("cookie", format!("ct_sign_in={token}"))
            .form(&[("email", NURSE), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .expect("answered");
        assert_eq!(reply.status(), StatusCode::FORBIDDEN);
        // The form as served signs in.
        let mut console = Console::of(&app);
        assert_eq!(console.sign_in(NURSE, DEMO_PASSWORD, None).await.status, StatusCode::SEE_OTHER);
    }

    async fn a_burst_of_wrong_passwords_is_held_to_the_limit_exactly() {
        let app = TestApp::spawn(behind_a_proxy(ThrottleSettings {
            failures_per_key_and_address: 10,
            ..ThrottleSettings::default()
        }))
        .await;
        let app = std::sync::Arc::new(app);
        let attempts = (0..40)
            .map(|_| {
                let app = std::sync::Arc::clone(&app);
                async move { sign_in_from(&app, "203.0.113.9", NURSE, "wrong guess").await }
            })
            .collect();
        let statuses = at_once(attempts).await;
        assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), 10, "{statuses:?}");
        assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 30, "{statuses:?}");
    }

    async fn a_burst_over_many_accounts_is_held_to_the_address_s_limit() {
        let app = TestApp::spawn(behind_a_proxy(ThrottleSettings {
            failures_per_address: 10,
            ..ThrottleSettings::default()
        }))
        .await;
        let app = std::sync::Arc::new(app);
        let attempts = (0..30)
            .map(|n| {
                let app = std::sync::Arc::clone(&app);
                async move { sign_in_from(&app, "203.0.113.9", &format!("someone{n}@example.org"), "guess").await }
            })
            .collect();
        let statuses = at_once(attempts).await;
        assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), 10, "{statuses:?}");
        assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 20, "{statuses:?}");
    }

    async fn a_burst_of_wrong_secrets_is_held_to_the_authorize_limit_exactly() {
        let app = TestApp::spawn(behind_a_proxy(ThrottleSettings::default())).await;
        let app = std::sync::Arc::new(app);
        let attempts = (0..30)
            .map(|_| {
                let app = std::sync::Arc::clone(&app);
                async move {
                    app.http
                        .post(app.url("/api/authorize"))
                        .header("x-forwarded-for", "203.0.113.9")
                        .header("api_key", DEMO_API_KEY)
                        .header("api_secret", "guess")
                        .send()
                        .await
                        .expect("answered")
                        .status()
                }
            })
            .collect();
        let statuses = at_once(attempts).await;
        assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), 10, "{statuses:?}");
        assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 20, "{statuses:?}");
        // Good authorizes at once from the application's own address are
        // all served: good attempts are not counted as failures.
        let good = (0..24)
            .map(|_| {
                let app = std::sync::Arc::clone(&app);
                async move {
                    app.http
                        .post(app.url("/api/authorize"))
                        .header("x-forwarded-for", "198.51.100.10")
                        .header("api_key", DEMO_API_KEY)
                        .header("api_secret", DEMO_API_SECRET)
                        .send()
                        .await
                        .expect("answered")
                        .status()
                }
            })
            .collect();
        assert!(at_once(good).await.iter().all(|s| *s == StatusCode::OK));
    }

    async fn an_account_is_limited_across_addresses() {
        let app = TestApp::spawn(behind_a_proxy(ThrottleSettings::default())).await;
        // The nurse's tablet signed in before the attack.
        let mut tablet = Console::of(&app);
        assert_eq!(tablet.sign_in(NURSE, DEMO_PASSWORD, None).await.status, StatusCode::SEE_OTHER);
        let device = tablet.device.clone().expect("a device cookie");
        // Twenty failures from ten addresses, two each: far below each
        // address's own limits...
        for n in 0..20 {
            let from = format!("203.0.113.{}", n % 10);
            assert_eq!(sign_in_from(&app, &from, NURSE, "wrong guess").await, StatusCode::UNAUTHORIZED);
        }
        // ...but the account has had its twenty: the right password from an
        // eleventh address waits too.
        assert_eq!(sign_in_from(&app, "198.51.100.77", NURSE, DEMO_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        // Except on a device the nurse signed in on before: strangers'
        // failures do not lock her out of her own tablet.
        assert_eq!(sign_in_with_device(&app, "198.51.100.78", &device, NURSE, DEMO_PASSWORD).await, StatusCode::SEE_OTHER);
        // A device cookie of another account, or a forged one, is no help.
        assert_eq!(sign_in_with_device(&app, "198.51.100.78", "0.0.0", NURSE, DEMO_PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
        // Another account is not held up.
        assert_eq!(sign_in_from(&app, "198.51.100.77", "sample@example.org", DEMO_PASSWORD).await, StatusCode::SEE_OTHER);
    }

    async fn password_hashing_runs_a_few_at_a_time() {
        let app = TestApp::spawn(behind_a_proxy(ThrottleSettings {
            failures_per_address: 10_000,
            ..ThrottleSettings::default()
        }))
        .await;
        let app = std::sync::Arc::new(app);
        // 200 sign-ins at once, each for an account of its own from an
        // address of its own: no throttle holds them, the hashing gate does.
        let mut attempts = Vec::new();
        for n in 0..200 {
            let app = std::sync::Arc::clone(&app);
            let token = form_token(&app).await;
            attempts.push(async move {
                app.http
                    .post(app.url("/console/sign-in"))
                    .header("x-forwarded-for", format!("203.0.{}.{}", n / 250, n % 250))
                    .header("cookie", format!("ct_sign_in={token}"))
                    .form(&[("email", format!("someone{n}@example.org")), ("password", "guess".to_owned()), ("csrf", token.clone())])
                    .send()
                    .await
                    .expect("answered")
                    .status()
            });
        }
        let statuses = at_once(attempts).await;
        let busy = count(&statuses, StatusCode::SERVICE_UNAVAILABLE);
        assert!(busy > 0, "all 200 hashed at once: {statuses:?}");
        assert_eq!(busy + count(&statuses, StatusCode::UNAUTHORIZED), 200, "{statuses:?}");
        // Afterwards, a real sign-in is served.
        let mut console = Console::of(&app);
        assert_eq!(console.sign_in(NURSE, DEMO_PASSWORD, None).await.status, StatusCode::SEE_OTHER);
    }
}

/// Refusals of requests nobody could be named for: one audit entry per
/// source, action and outcome for each minute, counting them; and a source
/// that keeps guessing is answered 429 before anything is looked up.
mod anonymous_refusals {
    use connecticket_domain::audit::{Action, Outcome};
    use connecticket_domain::service::throttle::ThrottleSettings;
    use reqwest::StatusCode;

    use crate::support::{audit_entries, send, TestApp, TestOptions};

    backend_tests! {
        async fn guesses_are_counted_not_written_one_by_one_and_a_guesser_is_stopped() {
            let app = TestApp::spawn(TestOptions {
                throttle: ThrottleSettings {
                    anonymous_refusals_per_minute: 20,
                    ..ThrottleSettings::default()
                },
                ..TestOptions::default()
            })
            .await;
            let session = app.example().await;
            let before = audit_entries(&app).await.len();
            let mut statuses = Vec::new();
            for n in 0..30 {
                let guess = format!("{n:0>43}");
                statuses.push(send(app.http.get(app.url(&format!("/ack/{guess}")))).await.status);
            }
            assert!(statuses[..20].iter().all(|s| *s == StatusCode::NOT_FOUND), "{statuses:?}");
            assert!(statuses[20..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
            let throttled = send(app.http.get(app.url(&format!("/ack/{}", "x".repeat(43))))).await;
            let retry_after: u64 = throttled.header("retry-after").expect("Retry-After").parse().expect("seconds");
            assert!((1..=60).contains(&retry_after));
            // Another source is not held up.
            let other = reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().expect("ip")).build().expect("client");
            assert_eq!(send(other.get(app.url(&format!("/ack/{}", "y".repeat(43))))).await.status, StatusCode::NOT_FOUND);
            let entries = audit_entries(&app).await;
            let pages: Vec<_> = entries[before..].iter().filter(|e| e.action == Action::AcknowledgmentPage).collect();
            let summary: Vec<_> = pages.iter().map(|e| (e.client_addr.clone().unwrap_or_default(), e.outcome, e.records.iter().find(|r| r.starts_with("refusals:")).cloned().unwrap_or_default())).collect();
            assert_eq!(summary, vec![
                ("127.0.0.1".to_owned(), Outcome::NotFound, "refusals:20".to_owned()),
                ("127.0.0.1".to_owned(), Outcome::RateLimited, "refusals:11".to_owned()),
                ("127.0.0.2".to_owned(), Outcome::NotFound, "refusals:1".to_owned()),
            ]);
            // The API's own callers are unaffected... from where they call.
            assert_eq!(session.from_address("127.0.0.3".parse().expect("ip")).detail(202).await.status, StatusCode::OK);
        }
    }
}
