use connecticket_domain::demo::DEMO_PROVIDER_ID;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{send, Fields, TestApp};

backend_tests! {
    async fn the_seed_example_creates_a_ticket_from_query_parameters() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(session.post(
            "create_ticket?title=Fell%20in%20hallway&resident_id=889283349&sms=1&email=0&state=true\
             &urgency_status=High&ticket_status=Open&category_19=Issue&category_22=No%20Issue&category_33=Potential%20Issue",
        ))
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let id = reply.body["ticket_id"].as_i64().expect("id");
        assert_eq!(
            reply.body,
            json!({"status": "Success", "ticket_id": id, "message": "Ticket Created Successfully!!"})
        );
        let detail = session.detail(id).await.body["ticket_with_details"].clone();
        let ticket = &detail["ticket"];
        assert_eq!(ticket["title"], "Fell in hallway");
        assert_eq!(ticket["resident_id"], 889283349);
        assert_eq!(ticket["employee_id"], 81987870);
        assert_eq!(ticket["urgency_status_id"], 4);
        assert_eq!(ticket["ticket_status"], "Open");
        assert_eq!(ticket["sms"], true);
        assert_eq!(ticket["email"], false);
        assert_eq!(ticket["state"], true);
        // No role named: the policy's (every role), by SMS as asked; the
        // flags say who was told.
        assert_eq!(ticket["sent_to_family"], true);
        assert_eq!(ticket["sentsent_to_primary"], true);
        assert_eq!(ticket["created_at"], ticket["updated_at"]);
        let categories = &detail["categories"];
        assert_eq!(
            categories["19"],
            json!({"status": "issue", "title": "Clinical Edit"})
        );
        assert_eq!(
            categories["22"],
            json!({"status": "no issue", "title": "Emergency"})
        );
        assert_eq!(
            categories["33"],
            json!({"status": "potential issue", "title": "Activity Level"})
        );
    }

    async fn json_and_form_bodies_carry_every_field() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(session.post("create_ticket").json(&json!({
            "title": "Missed evening medication",
            "resident_id": 501333996,
            "urgency_status": 5,
            "sms": "yes",
            "email": true,
            "sent_to_family": "on",
            "sent_to_healthcare_pro": "off",
            "sent_to_primary": 1,
            "ticket_type": "Medication",
            "start_date": "2026-11-01",
            "end_date": "2026/11/03",
            "general_comments": "Called the pharmacy",
            "category_34": " potential ISSUE ",
            "category_comments_34": "Weighed twice",
            "unrelated": null
        })))
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let id = reply.body["ticket_id"].as_i64().expect("id");
        let detail = session.detail(id).await.body["ticket_with_details"].clone();
        let ticket = &detail["ticket"];
        assert_eq!(ticket["urgency_status_id"], 5);
        assert_eq!(ticket["ticket_status"], "New");
        assert_eq!(ticket["sms"], true);
        assert_eq!(ticket["sent_to_family"], true);
        assert_eq!(ticket["sent_to_healthcare_pro"], false);
        assert_eq!(ticket["sentsent_to_primary"], true);
        assert_eq!(ticket["ticket_type"], "Medication");
        assert_eq!(ticket["start_date"], "2026/11/01");
        assert_eq!(ticket["end_date"], "2026/11/03");
        let general = detail["general_comments"].as_array().expect("general");
        assert_eq!(general.len(), 1);
        assert_eq!(general[0]["title"], "Called the pharmacy");
        assert_eq!(general[0]["commented_by"], "Sample");
        assert!(general[0]["id"].is_i64());
        let weight = detail["categories"]["34"].as_object().expect("34");
        assert_eq!(weight["status"], "potential issue");
        assert_eq!(weight.len(), 3);
        let form = session
            .create_ticket(&[
                ("title", "Form ticket"),
                ("resident_id", "501333996"),
                ("urgency_status", "no issue"),
            ])
            .await;
        let detail = session.detail(form).await;
        assert_eq!(
            detail.body["ticket_with_details"]["ticket"]["urgency_status_id"],
            1
        );
    }

    async fn a_body_parameter_wins_over_the_query() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(
            session
                .post("create_ticket?title=from-query&resident_id=501333996")
                .form(&[("title", "from-body")]),
        )
        .await;
        let id = reply.body["ticket_id"].as_i64().expect("id");
        let detail = session.detail(id).await;
        assert_eq!(
            detail.body["ticket_with_details"]["ticket"]["title"],
            "from-body"
        );
    }

    async fn text_that_looks_like_sql_or_html_is_stored_verbatim() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let nasty = [
            "Robert'); DROP TABLE tickets;--",
            "<script>alert('x')</script> & \"quotes\"",
            "emoji 👵🏽 and ünïcödé\ttab",
            "  leading and trailing spaces  ",
        ];
        for title in nasty {
            let id = session
                .create_ticket(&[
                    ("title", title),
                    ("resident_id", "501333996"),
                    ("general_comments", title),
                ])
                .await;
            let detail = session.detail(id).await.body["ticket_with_details"].clone();
            assert_eq!(detail["ticket"]["title"], title);
            assert_eq!(detail["general_comments"][0]["title"], title);
        }
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 2 + nasty.len());
    }

    async fn create_ticket_validates_and_writes_nothing_on_error() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let cases: Vec<(Fields, StatusCode, &str)> = vec![
            (vec![("resident_id", "501333996")], StatusCode::UNPROCESSABLE_ENTITY, "title/regarding required"),
            (vec![("title", "   "), ("resident_id", "501333996")], StatusCode::UNPROCESSABLE_ENTITY, "title/regarding required"),
            (vec![("title", "x")], StatusCode::UNPROCESSABLE_ENTITY, "resident_id required"),
            (vec![("title", "x"), ("resident_id", "abc")], StatusCode::UNPROCESSABLE_ENTITY, "resident_id must be a positive integer id"),
            (vec![("title", "x"), ("resident_id", "123")], StatusCode::NOT_FOUND, "Invalid Resident ID"),
            (vec![("title", "x"), ("resident_id", "501333996"), ("category_19", "Maybe")], StatusCode::UNPROCESSABLE_ENTITY, "category_19 must be one of: Issue, No Issue, Potential Issue"),
            (vec![("title", "x"), ("resident_id", "501333996"), ("category_abc", "Issue")], StatusCode::UNPROCESSABLE_ENTITY, "category_abc must be a positive integer id"),
            (vec![("title", "x"), ("resident_id", "501333996"), ("category_19", "Issue"), ("category_999", "Issue")], StatusCode::NOT_FOUND, "Invalid Category ID"),
            (vec![("title", "x"), ("resident_id", "501333996"), ("category_comments_998", "hello")], StatusCode::NOT_FOUND, "Invalid Category ID"),
            (vec![("title", "x"), ("resident_id", "501333996"), ("sms", "perhaps")], StatusCode::UNPROCESSABLE_ENTITY, "sms must be a boolean (true/false, 1/0, yes/no, on/off)"),
            (vec![("title", "x"), ("resident_id", "501333996"), ("urgency_status", "Catastrophic")], StatusCode::UNPROCESSABLE_ENTITY, "urgency_status must be one of: No Issue (1), Low (2), Normal (3), High (4), Exception (5)"),
            (vec![("title", "x"), ("resident_id", "501333996"), ("ticket_status", "Done")], StatusCode::UNPROCESSABLE_ENTITY, "ticket_status must be one of: New, Open, In Progress, Resolved, Closed, Reopen"),
            (vec![("title", "x"), ("resident_id", "501333996"), ("start_date", "31/12/2026")], StatusCode::UNPROCESSABLE_ENTITY, "start_date must be a date like 1937/01/21"),
            (vec![("title", "x"), ("resident_id", "501333996"), ("start_date", "2026/02/02"), ("end_date", "2026/02/01")], StatusCode::UNPROCESSABLE_ENTITY, "end_date must not be before start_date"),
        ];
        for (form, status, message) in cases {
            send(session.post("create_ticket").form(&form))
                .await
                .assert_failure(status, message);
        }
        let long_title = "x".repeat(256);
        send(
            session
                .post("create_ticket")
                .form(&[("title", long_title.as_str()), ("resident_id", "501333996")]),
        )
        .await
        .assert_failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "title must be at most 255 characters",
        );
        assert_eq!(
            app.ticket_count(DEMO_PROVIDER_ID).await,
            2,
            "nothing was written"
        );
    }

    async fn a_failure_after_the_ticket_row_rolls_everything_back() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        // The unknown category is only found while writing; the ticket, its
        // valid rating, comment and attachment must all disappear with it.
        let form = Form::new()
            .text("title", "Partial?")
            .text("resident_id", "501333996")
            .text("category_19", "Issue")
            .text("general_comments", "should vanish")
            .text("category_comments_999", "unknown category")
            .part("attachment", Part::bytes(vec![1, 2, 3]).file_name("a.bin"));
        send(session.post("create_ticket").multipart(form))
            .await
            .assert_failure(StatusCode::NOT_FOUND, "Invalid Category ID");
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 2);
        // The next ticket gets the next id: nothing half-written holds one.
        let id = session
            .create_ticket(&[("title", "after"), ("resident_id", "501333996")])
            .await;
        let detail = session.detail(id).await.body["ticket_with_details"].clone();
        assert_eq!(detail["general_comments"], json!([]));
        assert_eq!(detail["ticket_attachments"], json!([]));
    }

    async fn get_is_accepted_for_create_ticket_as_the_seed_documents() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply =
            send(session.get("create_ticket?title=Via%20GET&resident_id=501333996&category_19=Issue"))
                .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 3);
    }

    async fn head_never_runs_a_write() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let url = session.url("create_ticket?title=Via%20HEAD&resident_id=501333996");
        let reply = send(
            session
                .http
                .head(url)
                .header("api_key", &session.api_key)
                .header("api_secret", &session.api_secret),
        )
        .await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(app.ticket_count(DEMO_PROVIDER_ID).await, 2, "HEAD created nothing");
    }
}
