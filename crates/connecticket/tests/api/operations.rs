//! What operators watch is theirs: anyone may ask whether an instance is
//! alive and ready, but the metrics and the detail of readiness (when
//! messages last went out, how many escalations are open) are shown on the
//! operators' own listener, or to a request with their token, only.

use reqwest::StatusCode;

use crate::support::{send, TestApp, TestOptions};

backend_tests! {
    async fn metrics_and_readiness_detail_are_for_operators_only() {
        let app = TestApp::spawn(TestOptions {
            metrics_listener: true,
            metrics_token: Some("operator-token".to_owned()),
            ..TestOptions::default()
        })
        .await;
        // The public listener: readiness in a word, no metrics.
        let ready = send(app.http.get(app.url("/readyz"))).await;
        assert_eq!(ready.status, StatusCode::OK);
        assert_eq!(ready.body, serde_json::json!({"status": "ready"}));
        assert_eq!(send(app.http.get(app.url("/metrics"))).await.status, StatusCode::NOT_FOUND);
        assert_eq!(send(app.http.get(app.url("/metrics")).bearer_auth("wrong")).await.status, StatusCode::NOT_FOUND);
        // With the token, the whole of both.
        let ready = send(app.http.get(app.url("/readyz")).bearer_auth("operator-token")).await;
        assert_eq!(ready.body["database"]["ok"], true, "{:?}", ready.body);
        let metrics = app.http.get(app.url("/metrics")).bearer_auth("operator-token").send().await.expect("metrics");
        assert_eq!(metrics.status(), StatusCode::OK);
        // The operators' own listener: the whole of both, no token, and
        // nothing of the API.
        let private = app.metrics_base.clone().expect("a metrics listener");
        let ready = send(app.http.get(format!("{private}/readyz"))).await;
        assert!(ready.body["transports"].is_object(), "{:?}", ready.body);
        assert_eq!(app.http.get(format!("{private}/metrics")).send().await.expect("metrics").status(), StatusCode::OK);
        assert_eq!(send(app.http.post(format!("{private}/api/authorize"))).await.status, StatusCode::NOT_FOUND);
        assert_eq!(send(app.http.get(format!("{private}/healthz"))).await.status, StatusCode::OK);
    }
}
