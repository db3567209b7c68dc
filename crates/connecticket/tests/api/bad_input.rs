//! Malformed requests get the envelope with a message that names the
//! problem, never a 500, and the server keeps serving.

use reqwest::StatusCode;

use crate::support::{send, TestApp};

backend_tests! {
    async fn malformed_bodies_are_refused_with_the_envelope() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let json = |body: &'static str| {
            session
                .post("create_ticket")
                .header("content-type", "application/json")
                .body(body)
        };
        let reply = send(json("{\"title\": \"x\", ")).await;
        reply.assert_failure_starting(StatusCode::UNPROCESSABLE_ENTITY, "malformed JSON body");
        send(json("[1, 2]")).await.assert_failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the JSON body must be an object of parameters",
        );
        send(json("{\"title\": {\"nested\": true}}"))
            .await
            .assert_failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                "title must be a string, number or boolean",
            );
        send(json(
            "{\"title\": \"a\\u0000b\", \"resident_id\": 501333996}",
        ))
        .await
        .assert_failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "title must not contain NUL characters",
        );
        let invalid_utf8 = session
            .post("create_ticket")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(b"title=%C3%28&resident_id=501333996".to_vec());
        send(invalid_utf8)
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "title is not valid UTF-8");
        let raw_invalid = session
            .post("create_ticket")
            .header("content-type", "application/json")
            .body(vec![b'{', b'"', b't', b'"', b':', b'"', 0xff, b'"', b'}']);
        send(raw_invalid)
            .await
            .assert_failure_starting(StatusCode::UNPROCESSABLE_ENTITY, "malformed JSON body");
        send(session.post("create_ticket?title=%FF&resident_id=501333996"))
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "title is not valid UTF-8");
        send(session.post("create_ticket?title=a%00b&resident_id=501333996"))
            .await
            .assert_failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                "title must not contain NUL characters",
            );
        let no_boundary = session
            .post("create_ticket")
            .header("content-type", "multipart/form-data")
            .body("garbage");
        send(no_boundary).await.assert_failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "multipart/form-data without a valid boundary",
        );
        let broken_multipart = session
            .post("create_ticket")
            .header("content-type", "multipart/form-data; boundary=XYZ")
            .body("--XYZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nunterminated");
        send(broken_multipart)
            .await
            .assert_failure_starting(StatusCode::UNPROCESSABLE_ENTITY, "malformed multipart body");
        let invalid_utf8_part = session
            .post("create_ticket")
            .header("content-type", "multipart/form-data; boundary=XYZ")
            .body(
                [
                    &b"--XYZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"[..],
                    &[0xc3, 0x28],
                    &b"\r\n--XYZ--\r\n"[..],
                ]
                .concat(),
            );
        send(invalid_utf8_part)
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "title is not valid UTF-8");
        let xml = session
            .post("create_ticket")
            .header("content-type", "application/xml")
            .body("<ticket/>");
        send(xml).await.assert_failure(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported content type; send application/x-www-form-urlencoded, multipart/form-data or application/json",
        );
        assert_eq!(
            app.ticket_count(connecticket_domain::demo::DEMO_PROVIDER_ID)
                .await,
            2
        );
        assert_eq!(
            send(app.http.get(app.url("/health"))).await.status,
            StatusCode::OK
        );
    }

    async fn wrong_verbs_and_unknown_paths_get_the_envelope() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        for (method, call) in [
            (reqwest::Method::POST, "tickets"),
            (reqwest::Method::DELETE, "ticket_detail?id=202"),
            (reqwest::Method::PUT, "create_ticket"),
            (reqwest::Method::GET, "create_comment"),
            (reqwest::Method::PATCH, "all_residents"),
            (reqwest::Method::POST, "provider_categories"),
        ] {
            send(session.http.request(method, session.url(call)))
                .await
                .assert_failure(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        }
        send(app.http.delete(app.url("/api/authorize")))
            .await
            .assert_failure(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        send(session.get("no_such_call"))
            .await
            .assert_failure(StatusCode::NOT_FOUND, "Not Found");
        // (`/` leads to the staff console: see `console::sign_in_and_out`.)
        send(app.http.get(app.url("/no-such-page")))
            .await
            .assert_failure(StatusCode::NOT_FOUND, "Not Found");
        send(app.http.get(app.url("/api")))
            .await
            .assert_failure(StatusCode::NOT_FOUND, "Not Found");
    }

    async fn every_answer_carries_a_request_id_and_phi_safe_headers() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(session.get("tickets").header("x-request-id", "trace-abc_1")).await;
        assert_eq!(reply.header("x-request-id"), Some("trace-abc_1"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let forged = send(
            session
                .get("tickets")
                .header("x-request-id", "has spaces and\ttabs"),
        )
        .await;
        let generated = forged.header("x-request-id").expect("request id");
        assert_eq!(generated.len(), 36, "a fresh uuid replaces an unsafe id");
        let failure = send(session.get("ticket_detail?id=nope")).await;
        assert!(failure.header("x-request-id").is_some());
        assert_eq!(failure.header("cache-control"), Some("no-store"));
    }
}
