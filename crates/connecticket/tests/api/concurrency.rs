use std::collections::BTreeSet;

use connecticket_domain::demo::DEMO_PROVIDER_ID;
use reqwest::StatusCode;

use crate::support::{send, TestApp};

backend_tests! {
    async fn concurrent_creates_get_distinct_ids_and_none_is_lost() {
        let app = TestApp::demo().await;
        let example = app.example().await;
        let sunrise = app.sunrise().await;
        let creates = (0..60).map(|n| {
            let (session, resident) = if n % 3 == 0 {
                (sunrise.clone(), "889283400")
            } else {
                (example.clone(), "501333996")
            };
            tokio::spawn(async move {
                let title = format!("Concurrent {n}");
                let reply = send(session.post("create_ticket").form(&[
                    ("title", title.as_str()),
                    ("resident_id", resident),
                    ("category_comments_19", "c"),
                ]))
                .await;
                (n, reply)
            })
        });
        let mut ids = BTreeSet::new();
        for joined in futures::future::join_all(creates).await {
            let (n, reply) = joined.expect("task");
            if n % 3 == 0 {
                // Category 19 is not Sunrise's: these must fail cleanly.
                assert_eq!(reply.status, StatusCode::NOT_FOUND);
                continue;
            }
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            assert!(ids.insert(reply.body["ticket_id"].as_i64().expect("id")));
        }
        assert_eq!(ids.len(), 40);
        let listed: BTreeSet<i64> = send(example.get("tickets")).await.body["ticket"]
            .as_array()
            .expect("tickets")
            .iter()
            .map(|t| t["id"].as_i64().expect("id"))
            .collect();
        assert!(ids.is_subset(&listed));
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 42);
    }
}
