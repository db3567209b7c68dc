use reqwest::StatusCode;
use serde_json::json;

use crate::support::{send, TestApp};

backend_tests! {
    async fn comments_appear_in_the_detail_and_move_updated_at() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(
            session
                .post("create_comment")
                .form(&[("ticket_id", "202"), ("comment", "Family informed")]),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["status"], "Success");
        assert_eq!(reply.body["message"], "Comment created Successfully!!");
        let general_id = reply.body["comment_id"].as_i64().expect("comment id");
        let reply = send(
            session
                .post("create_comment")
                .json(&json!({"ticket_id": 202, "comment": "Weight checked", "category_id": 34})),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let category_comment = reply.body["comment_id"].as_i64().expect("comment id");
        let detail = session.detail(202).await.body["ticket_with_details"].clone();
        let general = detail["general_comments"].as_array().expect("general");
        assert_eq!(general.len(), 1);
        assert_eq!(general[0]["id"], general_id);
        assert_eq!(general[0]["title"], "Family informed");
        assert_eq!(general[0]["commented_by"], "Sample");
        // A category the ticket did not rate appears with a null status.
        let weight = &detail["categories"]["34"];
        assert_eq!(weight["status"], serde_json::Value::Null);
        assert_eq!(weight["title"], "Weight Gain");
        assert_eq!(
            weight[format!("comment{category_comment}")]["title"],
            "Weight checked"
        );
        assert_ne!(detail["ticket"]["updated_at"], "2016/02/12 03:00:34 -0800");
    }

    async fn create_comment_validates() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        for (form, status, message) in [
            (
                vec![("comment", "x")],
                StatusCode::UNPROCESSABLE_ENTITY,
                "ticket_id required",
            ),
            (
                vec![("ticket_id", "202")],
                StatusCode::UNPROCESSABLE_ENTITY,
                "comment required",
            ),
            (
                vec![("ticket_id", "202"), ("comment", " ")],
                StatusCode::UNPROCESSABLE_ENTITY,
                "comment required",
            ),
            (
                vec![("ticket_id", "x"), ("comment", "a")],
                StatusCode::UNPROCESSABLE_ENTITY,
                "ticket_id must be a positive integer id",
            ),
            (
                vec![("ticket_id", "9999"), ("comment", "a")],
                StatusCode::NOT_FOUND,
                "Invalid Ticket ID",
            ),
            (
                vec![
                    ("ticket_id", "202"),
                    ("comment", "a"),
                    ("category_id", "9999"),
                ],
                StatusCode::NOT_FOUND,
                "Invalid Category ID",
            ),
        ] {
            send(session.post("create_comment").form(&form))
                .await
                .assert_failure(status, message);
        }
        let long = "y".repeat(20_001);
        send(
            session
                .post("create_comment")
                .form(&[("ticket_id", "202"), ("comment", long.as_str())]),
        )
        .await
        .assert_failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "comment must be at most 20000 characters",
        );
        let detail = session.detail(202).await.body["ticket_with_details"].clone();
        assert_eq!(detail["general_comments"], json!([]));
    }
}
