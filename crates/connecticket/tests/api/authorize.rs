use connecticket_domain::audit::Action;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{send, TestApp, TestOptions};
use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET, SUNRISE_API_SECRET};

backend_tests! {
    async fn concurrent_authorizes_beyond_the_live_token_limit_all_succeed() {
        // Each authorize revokes the application's oldest tokens beyond the
        // limit; many at once must take turns, never deadlock or fail.
        let app = TestApp::demo().await;
        let clients: Vec<_> = (0..32)
            .map(|_| {
                let (http, base) = (app.http.clone(), app.base.clone());
                tokio::spawn(async move {
                    let mut statuses = Vec::new();
                    for _ in 0..12 {
                        let reply = send(
                            http.post(format!("{base}/api/authorize"))
                                .header("api_key", connecticket_domain::demo::DEMO_API_KEY)
                                .header("api_secret", connecticket_domain::demo::DEMO_API_SECRET),
                        )
                        .await;
                        statuses.push(reply.status);
                    }
                    statuses
                })
            })
            .collect();
        let mut failures = Vec::new();
        for client in clients {
            failures.extend(client.await.expect("client").into_iter().filter(|s| *s != StatusCode::OK));
        }
        assert!(failures.is_empty(), "{} of 384 authorizes failed: {failures:?}", failures.len());
    }

    async fn authorize_answers_the_seed_shape() {
        let app = TestApp::demo().await;
        let reply = send(
            app.http
                .post(app.url("/api/authorize"))
                .header("api_key", DEMO_API_KEY)
                .header("api_secret", DEMO_API_SECRET),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["status"], Value::Bool(true));
        assert_eq!(
            reply.body["message"],
            "Authorized Successfully, Use the Provided Access Token for Future Requests. Thanks for connecting with Example Provider"
        );
        let token = reply.body["access_token"].as_str().expect("token");
        assert_eq!(token.len(), 26);
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
        assert!(
            reply.body["expires_at"]
                .as_str()
                .expect("expiry")
                .ends_with("-0800")
                || reply.body["expires_at"]
                    .as_str()
                    .expect("expiry")
                    .ends_with("-0700")
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }

    async fn authorize_accepts_get_dashed_headers_and_body_parameters() {
        let app = TestApp::demo().await;
        let dashed = send(
            app.http
                .get(app.url("/api/authorize"))
                .header("api-key", DEMO_API_KEY)
                .header("api-secret", DEMO_API_SECRET),
        )
        .await;
        assert_eq!(dashed.status, StatusCode::OK, "{}", dashed.body);
        let form = send(
            app.http
                .post(app.url("/api/authorize"))
                .form(&[("api_key", DEMO_API_KEY), ("api_secret", DEMO_API_SECRET)]),
        )
        .await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert_ne!(dashed.body["access_token"], form.body["access_token"]);
    }

    async fn authorize_refuses_wrong_missing_and_mismatched_credentials() {
        let app = TestApp::demo().await;
        let attempts = [
            Some((DEMO_API_KEY, "wrong-secret")),
            Some((DEMO_API_KEY, SUNRISE_API_SECRET)),
            Some(("00000000000000000000000000000000", DEMO_API_SECRET)),
            None,
        ];
        for credentials in attempts {
            let mut request = app.http.post(app.url("/api/authorize"));
            if let Some((key, secret)) = credentials {
                request = request.header("api_key", key).header("api_secret", secret);
            }
            send(request)
                .await
                .assert_failure(StatusCode::UNAUTHORIZED, "Invalid API key or API secret");
        }
    }

    async fn calls_need_a_live_token_of_the_same_application() {
        let app = TestApp::demo().await;
        let example = app.example().await;
        let sunrise = app.sunrise().await;
        // A token that was never issued.
        let mut bogus = example.clone();
        bogus.token = "notarealtoken0000000000000".to_owned();
        send(bogus.get("tickets"))
            .await
            .assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        // A real token presented with another application's credentials.
        let mut crossed = example.clone();
        crossed.api_key = sunrise.api_key.clone();
        crossed.api_secret = sunrise.api_secret.clone();
        send(crossed.get("tickets"))
            .await
            .assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        // The right token with a wrong secret, and without headers at all.
        let mut wrong_secret = example.clone();
        wrong_secret.api_secret = "nope".to_owned();
        send(wrong_secret.get("tickets"))
            .await
            .assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        send(app.http.get(example.url("tickets")))
            .await
            .assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        // An absurdly long token.
        let mut long = example.clone();
        long.token = "a".repeat(5000);
        send(long.get("tickets"))
            .await
            .assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        // And the real thing still works.
        assert_eq!(send(example.get("tickets")).await.status, StatusCode::OK);
    }

    async fn tokens_expire() {
        let clock = connecticket_domain::clock::ManualClock::new();
        let app = TestApp::spawn(TestOptions {
            token_lifetime: chrono::Duration::seconds(1),
            clock: clock.clone(),
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        assert_eq!(send(session.get("tickets")).await.status, StatusCode::OK);
        clock.advance(chrono::Duration::seconds(2));
        send(session.get("tickets"))
            .await
            .assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
    }

    async fn a_revocation_reaches_another_instances_token_cache_within_a_second() {
        let clock = connecticket_domain::clock::ManualClock::new();
        let first = TestApp::spawn(TestOptions { clock: clock.clone(), ..TestOptions::default() }).await;
        let second = first
            .another_instance(TestOptions { clock: clock.clone(), ..TestOptions::default() })
            .await;
        let on_first = first.example().await;
        let on_second = crate::support::Session { base: second.base.clone(), ..on_first.clone() };
        for session in [&on_first, &on_second] {
            assert_eq!(send(session.get("tickets")).await.status, StatusCode::OK);
        }
        // Revoked through the first instance's store: the second instance
        // read the token's record this clock second and still trusts it...
        let provider = connecticket_domain::demo::DEMO_PROVIDER_ID;
        let application = first.api.list_applications(first.admin.within(Action::Applications, provider).await).await.expect("apps")[0].id;
        first.api.revoke_application(first.admin.within(Action::ManageApplications, provider).await, application).await.expect("revoke");
        assert_eq!(send(on_second.get("provider_categories")).await.status, StatusCode::OK);
        // ...and reads it again in the next second, on every instance.
        clock.advance(chrono::Duration::seconds(1));
        for session in [&on_first, &on_second] {
            send(session.get("tickets"))
                .await
                .assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        }
    }

    async fn revoking_an_application_kills_its_tokens_and_its_credentials() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let sunrise = app.sunrise().await;
        let provider =
            connecticket_domain::demo::DEMO_PROVIDER_ID;
        let application = app.api.list_applications(app.admin.within(Action::Applications, provider).await).await.expect("apps")[0].id;
        let call = app.admin.within(Action::ManageApplications, provider).await;
        app.api.revoke_application(call, application).await.expect("revoke");
        send(session.get("tickets"))
            .await
            .assert_failure(StatusCode::UNAUTHORIZED, "Invalid Credentials");
        send(
            app.http
                .post(app.url("/api/authorize"))
                .header("api_key", DEMO_API_KEY)
                .header("api_secret", DEMO_API_SECRET),
        )
        .await
        .assert_failure(StatusCode::UNAUTHORIZED, "Invalid API key or API secret");
        // Another provider's application is untouched.
        assert_eq!(send(sunrise.get("tickets")).await.status, StatusCode::OK);
    }
}
