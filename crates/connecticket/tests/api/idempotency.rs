use connecticket_domain::demo::DEMO_PROVIDER_ID;
use reqwest::StatusCode;

use crate::support::{send, TestApp};

const FORM: [(&str, &str); 3] = [
    ("title", "Fall at night"),
    ("resident_id", "501333996"),
    ("category_19", "Issue"),
];

backend_tests! {
    async fn a_retried_create_ticket_returns_the_first_answer_and_writes_once() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let first = send(
            session
                .post("create_ticket")
                .header("Idempotency-Key", "tablet-7-0001")
                .form(&FORM),
        )
        .await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(first.header("idempotent-replayed"), None);
        let again = send(
            session
                .post("create_ticket")
                .header("Idempotency-Key", "tablet-7-0001")
                .form(&FORM),
        )
        .await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.body, first.body);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 3);
        // Same key, different request: refused, nothing written.
        send(
            session
                .post("create_ticket")
                .header("Idempotency-Key", "tablet-7-0001")
                .form(&[("title", "Another"), ("resident_id", "501333996")]),
        )
        .await
        .assert_failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Idempotency-Key was already used with different parameters",
        );
        // Same key on another call is a different request too.
        send(
            session
                .post("update_status")
                .header("Idempotency-Key", "tablet-7-0001")
                .form(&[("id", "202"), ("status", "Open")]),
        )
        .await
        .assert_failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Idempotency-Key was already used with different parameters",
        );
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 3);
    }

    async fn keys_belong_to_one_application() {
        let app = TestApp::demo().await;
        let example = app.example().await;
        let sunrise = app.sunrise().await;
        let mine = send(
            example
                .post("create_ticket")
                .header("Idempotency-Key", "k1")
                .form(&FORM),
        )
        .await;
        assert_eq!(mine.status, StatusCode::OK);
        let theirs = send(
            sunrise
                .post("create_ticket")
                .header("Idempotency-Key", "k1")
                .form(&[("title", "Sunrise"), ("resident_id", "889283400")]),
        )
        .await;
        assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.body);
        assert_ne!(theirs.body["ticket_id"], mine.body["ticket_id"]);
    }

    async fn comments_and_status_updates_are_idempotent_too() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        for _ in 0..3 {
            let reply = send(
                session
                    .post("create_comment")
                    .header("Idempotency-Key", "comment-1")
                    .form(&[("ticket_id", "202"), ("comment", "Checked on her")]),
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK);
        }
        let detail = session.detail(202).await;
        assert_eq!(
            detail.body["ticket_with_details"]["general_comments"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        for _ in 0..3 {
            let reply = send(
                session
                    .post("update_status?id=202&status=Resolved")
                    .header("Idempotency-Key", "status-1"),
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK);
        }
        let history = app
            .store
            .status_history(DEMO_PROVIDER_ID, connecticket_domain::model::TicketId(202))
            .await
            .expect("history");
        assert_eq!(history.len(), 2);
    }

    async fn racing_retries_create_exactly_one_ticket() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let attempts = (0..12).map(|_| {
            let session = session.clone();
            tokio::spawn(async move {
                send(
                    session
                        .post("create_ticket")
                        .header("Idempotency-Key", "race")
                        .form(&FORM),
                )
                .await
            })
        });
        let replies = futures::future::join_all(attempts).await;
        let ids: std::collections::BTreeSet<_> = replies
            .into_iter()
            .map(|reply| {
                let reply = reply.expect("task");
                assert_eq!(reply.status, StatusCode::OK);
                reply.body["ticket_id"].as_i64().expect("id")
            })
            .collect();
        assert_eq!(ids.len(), 1);
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 3);
    }

    async fn oversized_idempotency_keys_are_refused() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let key = "k".repeat(256);
        send(
            session
                .post("create_ticket")
                .header("Idempotency-Key", key)
                .form(&FORM),
        )
        .await
        .assert_failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Idempotency-Key must be 1 to 255 characters",
        );
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 2);
    }
}
