use connecticket_domain::demo::DEMO_PROVIDER_ID;
use connecticket_http::Limits;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::support::{send, TestApp, TestOptions};

fn every_byte() -> Vec<u8> {
    (0..=255u8).cycle().take(70_000).collect()
}

backend_tests! {
    async fn attachments_round_trip_byte_for_byte() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let binary = every_byte();
        let form = Form::new()
            .text("title", "Photo of the bruise")
            .text("resident_id", "889283349")
            .text("category_22", "Issue")
            .part(
                "attachment",
                Part::bytes(binary.clone())
                    .file_name("bruise.jpg")
                    .mime_str("image/jpeg")
                    .expect("mime"),
            )
            .part(
                "attachment[2]",
                Part::bytes(b"plain notes".to_vec())
                    .file_name("notes.txt")
                    .mime_str("text/plain")
                    .expect("mime"),
            )
            .part(
                "attachment_3",
                Part::bytes(Vec::new()).file_name("empty.bin"),
            );
        let reply = send(session.post("create_ticket").multipart(form)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let id = reply.body["ticket_id"].as_i64().expect("id");
        let detail = session.detail(id).await.body["ticket_with_details"].clone();
        let attachments = detail["ticket_attachments"]
            .as_array()
            .expect("attachments")
            .clone();
        assert_eq!(attachments.len(), 3);
        assert_eq!(attachments[0]["file_name"], "bruise.jpg");
        assert_eq!(attachments[0]["content_type"], "image/jpeg");
        assert_eq!(attachments[0]["file_size"], binary.len());
        assert_eq!(attachments[0].as_object().expect("object").len(), 5);
        assert_eq!(detail["categories"]["22"]["status"], "issue");
        let url = attachments[0]["url"].as_str().expect("url");
        let attachment_id = attachments[0]["id"].as_i64().expect("id");
        assert_eq!(
            url,
            format!("/api/{}/attachments/{attachment_id}", session.token)
        );
        let download = send(
            session
                .http
                .get(format!("{}{url}", session.base))
                .header("api_key", &session.api_key)
                .header("api_secret", &session.api_secret),
        )
        .await;
        assert_eq!(download.status, StatusCode::OK);
        assert_eq!(download.bytes, binary);
        assert_eq!(download.header("content-type"), Some("image/jpeg"));
        assert_eq!(
            download.header("content-disposition"),
            Some("attachment; filename=\"bruise.jpg\"; filename*=UTF-8''bruise%2Ejpg")
        );
        assert_eq!(download.header("x-content-type-options"), Some("nosniff"));
        let text = send(session.get(&format!("attachments/{}", attachments[1]["id"]))).await;
        assert_eq!(text.bytes, b"plain notes");
        let empty = send(session.get(&format!("attachments/{}", attachments[2]["id"]))).await;
        assert_eq!(empty.status, StatusCode::OK);
        assert!(empty.bytes.is_empty());
        assert_eq!(
            empty.header("content-type"),
            Some("application/octet-stream")
        );
    }

    async fn unknown_attachments_are_not_found() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        for id in ["999", "abc", "-1", "99999999999999999999999", "%FF", "%31", "1%00"] {
            send(session.get(&format!("attachments/{id}")))
                .await
                .assert_failure(StatusCode::NOT_FOUND, "Invalid Attachment ID");
        }
    }

    async fn upload_limits_answer_413_and_write_nothing() {
        let app = TestApp::spawn(TestOptions {
            limits: Limits {
                max_request_bytes: 64 * 1024,
                max_file_bytes: 16 * 1024,
                max_files: 2,
                ..Limits::default()
            },
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        let base = || {
            Form::new()
                .text("title", "limits")
                .text("resident_id", "501333996")
        };
        let big_file = base().part(
            "attachment",
            Part::bytes(vec![7; 16 * 1024 + 1]).file_name("big.bin"),
        );
        send(session.post("create_ticket").multipart(big_file))
            .await
            .assert_failure(
                StatusCode::PAYLOAD_TOO_LARGE,
                "attachment is larger than the limit of 16384 bytes per file",
            );
        let mut many = base();
        for n in 0..3 {
            many = many.part(
                format!("attachment_{n}"),
                Part::bytes(vec![1; 10]).file_name("f.bin"),
            );
        }
        send(session.post("create_ticket").multipart(many))
            .await
            .assert_failure(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too many attachments; at most 2 per request",
            );
        let huge = Form::new()
            .text("general_comments", "c".repeat(60 * 1024))
            .text("title", "limits")
            .part(
                "attachment",
                Part::bytes(vec![1; 15 * 1024]).file_name("f.bin"),
            );
        send(session.post("create_ticket").multipart(huge))
            .await
            .assert_failure(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body is larger than the limit of 65536 bytes",
            );
        let big_form = "x".repeat(70 * 1024);
        send(
            session
                .post("create_ticket")
                .form(&[("title", big_form.as_str())]),
        )
        .await
        .assert_failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body is larger than the limit of 65536 bytes",
        );
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 2);
        // Within the limits it works.
        let fine = base().part(
            "attachment",
            Part::bytes(vec![9; 16 * 1024]).file_name("ok.bin"),
        );
        assert_eq!(
            send(session.post("create_ticket").multipart(fine))
                .await
                .status,
            StatusCode::OK
        );
    }

    async fn file_parts_must_use_attachment_field_names() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let form = Form::new()
            .text("title", "x")
            .text("resident_id", "501333996")
            .part("photo", Part::bytes(vec![1]).file_name("p.png"));
        send(session.post("create_ticket").multipart(form))
            .await
            .assert_failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                "photo is not an attachment field (use attachment, attachment_<n> or attachment[<n>])",
            );
    }
}
