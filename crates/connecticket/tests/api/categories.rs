use reqwest::StatusCode;
use serde_json::json;

use crate::support::{send, TestApp};

backend_tests! {
    async fn provider_categories_lists_the_four_demo_categories() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(session.get("provider_categories")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.body,
            json!({"status": "Success", "categories": [
                {"id": 19, "name": "Clinical Edit"},
                {"id": 22, "name": "Emergency"},
                {"id": 33, "name": "Activity Level"},
                {"id": 34, "name": "Weight Gain"}
            ]})
        );
    }
}
