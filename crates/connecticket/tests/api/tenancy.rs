//! Every call, made by one provider against another's records, is answered
//! exactly like a call about records that do not exist.

use connecticket_domain::demo::{DEMO_PROVIDER_ID, SUNRISE_RESIDENT_ID, SUNRISE_TICKET_ID};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{send, Fields, Reply, TestApp};

fn ids(body: &Value, key: &str) -> Vec<i64> {
    body[key]
        .as_array()
        .expect("list")
        .iter()
        .map(|item| item["id"].as_i64().expect("id"))
        .collect()
}

fn same_answer(foreign: &Reply, missing: &Reply) {
    assert_eq!(foreign.status, missing.status);
    assert_eq!(foreign.bytes, missing.bytes);
}

backend_tests! {
    async fn lists_show_only_the_callers_records() {
        let app = TestApp::demo().await;
        let sunrise = app.sunrise().await;
        assert_eq!(
            ids(&send(sunrise.get("tickets")).await.body, "ticket"),
            vec![SUNRISE_TICKET_ID.get()]
        );
        assert_eq!(
            ids(&send(sunrise.get("all_residents")).await.body, "residents"),
            vec![SUNRISE_RESIDENT_ID.get()]
        );
        assert_eq!(
            ids(
                &send(sunrise.get("provider_categories")).await.body,
                "categories"
            ),
            vec![40, 41]
        );
        let foreign_filter = send(sunrise.get("tickets?resident_id=889283349")).await;
        assert_eq!(foreign_filter.body["ticket"], json!([]));
        let example = app.example().await;
        assert_eq!(
            ids(&send(example.get("tickets")).await.body, "ticket"),
            vec![201, 202]
        );
    }

    async fn reads_of_foreign_records_look_like_missing_ones() {
        let app = TestApp::demo().await;
        let example = app.example().await;
        let sunrise = app.sunrise().await;
        let form = Form::new()
            .text("title", "with file")
            .text("resident_id", "501333996")
            .part("attachment", Part::bytes(vec![1, 2, 3]).file_name("x.bin"));
        let ticket = send(example.post("create_ticket").multipart(form))
            .await
            .body["ticket_id"]
            .as_i64()
            .expect("id");
        let attachment = example.detail(ticket).await.body["ticket_with_details"]["ticket_attachments"]
            [0]["id"]
            .as_i64()
            .expect("attachment");
        same_answer(&sunrise.detail(202).await, &sunrise.detail(987_654).await);
        sunrise
            .detail(202)
            .await
            .assert_failure(StatusCode::NOT_FOUND, "Invalid Ticket ID");
        let foreign = send(sunrise.get(&format!("attachments/{attachment}"))).await;
        foreign.assert_failure(StatusCode::NOT_FOUND, "Invalid Attachment ID");
        same_answer(&foreign, &send(sunrise.get("attachments/987654")).await);
        // And the owner still reads both.
        assert_eq!(
            send(example.get(&format!("attachments/{attachment}")))
                .await
                .bytes,
            vec![1, 2, 3]
        );
    }

    async fn writes_against_foreign_records_look_like_missing_ones_and_change_nothing() {
        let app = TestApp::demo().await;
        let sunrise = app.sunrise().await;
        let example = app.example().await;
        let pairs: Vec<(Fields, Fields, &str)> = vec![
            (
                vec![("id", "202"), ("status", "Closed")],
                vec![("id", "987654"), ("status", "Closed")],
                "update_status",
            ),
            (
                vec![("ticket_id", "202"), ("comment", "x")],
                vec![("ticket_id", "987654"), ("comment", "x")],
                "create_comment",
            ),
            (
                vec![
                    ("ticket_id", "301"),
                    ("comment", "x"),
                    ("category_id", "19"),
                ],
                vec![
                    ("ticket_id", "301"),
                    ("comment", "x"),
                    ("category_id", "987654"),
                ],
                "create_comment",
            ),
            (
                vec![("title", "x"), ("resident_id", "889283349")],
                vec![("title", "x"), ("resident_id", "987654")],
                "create_ticket",
            ),
            (
                vec![
                    ("title", "x"),
                    ("resident_id", "889283400"),
                    ("category_19", "Issue"),
                ],
                vec![
                    ("title", "x"),
                    ("resident_id", "889283400"),
                    ("category_987654", "Issue"),
                ],
                "create_ticket",
            ),
        ];
        for (foreign, missing, call) in pairs {
            let foreign_reply = send(sunrise.post(call).form(&foreign)).await;
            let missing_reply = send(sunrise.post(call).form(&missing)).await;
            assert_eq!(
                foreign_reply.status,
                StatusCode::NOT_FOUND,
                "{call}: {}",
                foreign_reply.body
            );
            same_answer(&foreign_reply, &missing_reply);
        }
        let detail = example.detail(202).await.body["ticket_with_details"].clone();
        assert_eq!(detail["ticket"]["ticket_status"], "New");
        assert_eq!(detail["general_comments"], json!([]));
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 2);
        assert_eq!(
            app.ticket_count(connecticket_domain::demo::SUNRISE_PROVIDER_ID)
                .await,
            1
        );
    }
}
