use connecticket_domain::demo::{DEMO_EMPLOYEE_ID, DEMO_PROVIDER_ID};
use connecticket_domain::workflow::TicketStatus;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{send, TestApp};

backend_tests! {
    async fn the_seed_example_reopens_ticket_202_and_history_records_it() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(session.post("update_status?id=202&status=Reopen")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.body,
            json!({"status": "Success", "message": "Status Updated Successfully!!"})
        );
        let detail = session.detail(202).await;
        assert_eq!(
            detail.body["ticket_with_details"]["ticket"]["ticket_status"],
            "Reopen"
        );
        // Form body, case-insensitive name.
        let reply = send(
            session
                .post("update_status")
                .form(&[("id", "202"), ("status", "in progress")]),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        let history = app
            .store
            .status_history(DEMO_PROVIDER_ID, connecticket_domain::model::TicketId(202))
            .await
            .expect("history");
        let moves: Vec<_> = history
            .iter()
            .map(|h| (h.from_status, h.to_status))
            .collect();
        assert_eq!(
            moves,
            vec![
                (None, TicketStatus::New),
                (Some(TicketStatus::New), TicketStatus::Reopen),
                (Some(TicketStatus::Reopen), TicketStatus::InProgress),
            ]
        );
        assert!(history.iter().all(|h| h.employee_id == DEMO_EMPLOYEE_ID));
        assert!(history[1].application_id.is_some());
        assert!(history[2].changed_at >= history[1].changed_at);
    }

    async fn setting_the_current_status_records_nothing() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(session.post("update_status?id=202&status=new")).await;
        assert_eq!(reply.status, StatusCode::OK);
        let history = app
            .store
            .status_history(DEMO_PROVIDER_ID, connecticket_domain::model::TicketId(202))
            .await
            .expect("history");
        assert_eq!(history.len(), 1);
        let detail = session.detail(202).await;
        assert_eq!(
            detail.body["ticket_with_details"]["ticket"]["updated_at"],
            "2016/02/12 03:00:34 -0800"
        );
    }

    async fn update_status_refuses_unknown_statuses_and_tickets() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        send(session.post("update_status?id=202&status=Done"))
            .await
            .assert_failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                "status must be one of: New, Open, In Progress, Resolved, Closed, Reopen",
            );
        send(session.post("update_status?id=202"))
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "status required");
        send(session.post("update_status?status=Open"))
            .await
            .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "id required");
        send(session.post("update_status?id=424242&status=Open"))
            .await
            .assert_failure(StatusCode::NOT_FOUND, "Invalid Ticket ID");
        send(session.get("update_status?id=202&status=Open"))
            .await
            .assert_failure(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        let detail = session.detail(202).await;
        assert_eq!(
            detail.body["ticket_with_details"]["ticket"]["ticket_status"],
            "New"
        );
    }
}
