use reqwest::StatusCode;
use serde_json::json;

use crate::support::{send, TestApp};
use crate::tickets::seed_ticket_202;

backend_tests! {
    async fn ticket_detail_answers_the_seed_example() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = session.detail(202).await;
        assert_eq!(reply.status, StatusCode::OK);
        let details = &reply.body["ticket_with_details"];
        assert_eq!(reply.body["status"], "Success");
        assert_eq!(details["ticket"], seed_ticket_202());
        assert_eq!(details["ticket_attachments"], json!([]));
        assert_eq!(details["general_comments"], json!([]));
        let categories = details["categories"].as_object().expect("categories");
        assert_eq!(categories.len(), 2);
        let clinical = categories["19"].as_object().expect("19");
        assert_eq!(clinical["status"], "no issue");
        assert_eq!(clinical["title"], "Clinical Edit");
        let comment_key = clinical
            .keys()
            .find(|k| k.starts_with("comment"))
            .expect("a comment key");
        assert!(comment_key["comment".len()..].parse::<i64>().is_ok());
        assert_eq!(
            clinical[comment_key],
            json!({"commented_by": "Sample", "commented_on": "2016/02/12 03:00:34 -0800", "title": "comment 1"})
        );
        assert_eq!(clinical.len(), 3);
        let emergency = categories["22"].as_object().expect("22");
        assert_eq!(emergency["status"], "issue");
        assert_eq!(emergency["title"], "Emergency");
    }

    async fn ticket_detail_refuses_bad_and_unknown_ids() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        send(session.get("ticket_detail"))
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "id required");
        for bad in ["abc", "-4", "0", "99999999999999999999999", "1e3"] {
            send(session.get("ticket_detail").query(&[("id", bad)]))
                .await
                .assert_failure(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "id must be a positive integer id",
                );
        }
        session
            .detail(999_999)
            .await
            .assert_failure(StatusCode::NOT_FOUND, "Invalid Ticket ID");
    }
}
