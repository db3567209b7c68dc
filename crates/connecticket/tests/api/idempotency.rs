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
            .status_history(
                connecticket_domain::model::ProviderId(DEMO_PROVIDER_ID),
                202,
            )
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

mod expiry {
    use super::*;
    use connecticket_domain::audit::{Action, AuditEntry, Outcome, RequestContext};
    use connecticket_domain::model::{NewTicket, ProviderId};
    use connecticket_domain::store::{IdempotencyClaim, WriteContext, Written};

    fn ticket(title: &str) -> NewTicket {
        NewTicket::draft(
            title,
            501_333_996,
            connecticket_domain::demo::DEMO_EMPLOYEE_ID,
            connecticket_domain::time::now(),
        )
    }

    /// The same key and fingerprint, seen `hours_later` after the first use.
    fn context(application_id: i64, hours_later: i64) -> WriteContext {
        let now = chrono::Utc::now() + chrono::Duration::hours(hours_later);
        WriteContext {
            idempotency: Some(IdempotencyClaim {
                application_id,
                key: "old-key".to_owned(),
                fingerprint: b"same request".to_vec(),
                now,
                not_before: now - chrono::Duration::hours(24),
            }),
            audit: AuditEntry::new(
                &RequestContext::default(),
                Action::CreateTicket,
                Outcome::Success,
            ),
        }
    }

    backend_tests! {
        async fn a_key_is_forgotten_after_24_hours() {
            let app = TestApp::demo().await;
            let provider = ProviderId(DEMO_PROVIDER_ID);
            let application = app.admin.applications(provider).await.expect("apps")[0].id;
            let first = app.store.create_ticket(provider, ticket("first"), context(application, 0)).await.expect("first");
            let Written::Fresh(first) = first else { panic!("the first use writes") };
            let within = app.store.create_ticket(provider, ticket("retry"), context(application, 23)).await.expect("retry");
            assert_eq!(within, Written::Replayed(first));
            let after = app.store.create_ticket(provider, ticket("a day later"), context(application, 25)).await.expect("later");
            let Written::Fresh(later) = after else { panic!("an expired key writes again, got {after:?}") };
            assert_ne!(later, first);
            assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 4);
        }
    }
}
