use connecticket_domain::audit::Action;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{send, TestApp};

/// The seed's example ticket, with the one documented difference: the demo
/// attaches it to one of the seed's two residents (the seed's 75474618 is
/// not among its residents).
pub fn seed_ticket_202() -> Value {
    json!({
        "start_date": null,
        "sentsent_to_primary": null,
        "urgency_status_id": 3,
        "ticket_type": null,
        "resident_id": 889283349,
        "updated_at": "2016/02/12 03:00:34 -0800",
        "created_at": "2016/02/12 03:00:25 -0800",
        "email": null,
        "sent_to_healthcare_pro": null,
        "state": false,
        "sms": null,
        "id": 202,
        "end_date": null,
        "ticket_status": "New",
        "sent_to_family": null,
        "title": "Ticket  commment",
        "employee_id": 81987870
    })
}

fn ids(body: &Value) -> Vec<i64> {
    body["ticket"]
        .as_array()
        .expect("ticket list")
        .iter()
        .map(|t| t["id"].as_i64().expect("id"))
        .collect()
}

backend_tests! {
    async fn tickets_lists_the_providers_tickets_field_for_field() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(session.get("tickets")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["status"], "Success");
        assert_eq!(reply.body.as_object().expect("object").len(), 2);
        assert_eq!(ids(&reply.body), vec![201, 202]);
        let ticket = &reply.body["ticket"][1];
        assert_eq!(ticket, &seed_ticket_202());
        assert_eq!(ticket.as_object().expect("object").len(), 17);
    }

    async fn tickets_pages_and_filters() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let mut created = Vec::new();
        for n in 0..5 {
            created.push(
                session
                    .create_ticket(&[("title", &format!("t{n}")), ("resident_id", "501333996")])
                    .await,
            );
        }
        let page = send(session.get("tickets?page=2&per_page=3")).await;
        assert_eq!(page.body["page"], 2);
        assert_eq!(page.body["per_page"], 3);
        assert_eq!(ids(&page.body), created[1..4].to_vec());
        let cursor = send(session.get(&format!("tickets?after_id={}&per_page=2", created[2]))).await;
        assert_eq!(ids(&cursor.body), created[3..5].to_vec());
        let by_resident = send(session.get("tickets?resident_id=889283349")).await;
        assert_eq!(ids(&by_resident.body), vec![202]);
        send(session.post(&format!("update_status?id={}&status=Closed", created[0]))).await;
        let closed = send(session.get("tickets?ticket_status=closed")).await;
        assert_eq!(ids(&closed.body), vec![created[0]]);
        let since = send(
            session
                .get("tickets")
                .query(&[("updated_since", "2016/02/12 03:00:30 -0800")]),
        )
        .await;
        let mut expected = vec![202];
        expected.extend(&created);
        assert_eq!(ids(&since.body), expected);
    }

    async fn a_page_is_answered_whole_with_its_length_and_a_whole_list_streams() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let page = send(session.get("tickets?page=1&per_page=25")).await;
        assert_eq!(ids(&page.body), vec![201, 202]);
        assert_eq!(page.header("transfer-encoding"), None);
        assert_eq!(
            page.header("content-length"),
            Some(page.bytes.len().to_string().as_str())
        );
        // A whole list ends only once its audit entry is durable, so its
        // end is not known when it starts: it goes out in chunks.
        let whole = send(session.get("tickets")).await;
        assert_eq!(ids(&whole.body), vec![201, 202]);
        assert_eq!(whole.header("transfer-encoding"), Some("chunked"));
        assert_eq!(whole.header("content-length"), None);
    }

    async fn a_status_change_moves_updated_at() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(session.post("update_status?id=202&status=Open")).await;
        assert_eq!(reply.status, StatusCode::OK);
        let since = send(
            session
                .get("tickets")
                .query(&[("updated_since", "2020/01/01 00:00:00 +0000")]),
        )
        .await;
        assert_eq!(ids(&since.body), vec![202]);
        assert_ne!(
            since.body["ticket"][0]["updated_at"],
            seed_ticket_202()["updated_at"]
        );
    }

    async fn paging_parameters_are_validated() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        for (query, message) in [
            ("page=0", "page must be a positive integer"),
            ("page=abc", "page must be a positive integer"),
            ("per_page=5000", "per_page must be at most 1000"),
            (
                "ticket_status=Done",
                "ticket_status must be one of: New, Open, In Progress, Resolved, Closed, Reopen",
            ),
            (
                "updated_since=yesterday",
                "updated_since must be a timestamp like 2016/02/12 03:00:34 -0800",
            ),
            ("resident_id=x", "resident_id must be a positive integer id"),
        ] {
            send(session.get(&format!("tickets?{query}")))
                .await
                .assert_failure(StatusCode::UNPROCESSABLE_ENTITY, message);
        }
    }

    async fn a_large_list_streams_completely() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let provider =
            connecticket_domain::demo::DEMO_PROVIDER_ID;
        let many: Vec<_> = (0..1200)
            .map(|n| {
                let mut resident =
                    connecticket_domain::model::NewResident::named(format!("Resident {n}"));
                resident.location = Some(format!("Room {n}"));
                resident
            })
            .collect();
        let call = app.admin.within(Action::CreateResidents, provider).await;
        app.api.create_residents(call, many).await.expect("residents");
        let reply = send(session.get("all_residents")).await;
        assert_eq!(reply.status, StatusCode::OK);
        let residents = reply.body["residents"].as_array().expect("list");
        assert_eq!(residents.len(), 1202);
        let mut ids: Vec<i64> = residents
            .iter()
            .map(|r| r["id"].as_i64().expect("id"))
            .collect();
        let sorted = {
            let mut copy = ids.clone();
            copy.sort_unstable();
            copy
        };
        assert_eq!(ids, sorted, "ordered by id");
        ids.dedup();
        assert_eq!(ids.len(), 1202, "no duplicates across chunks");
    }
}
