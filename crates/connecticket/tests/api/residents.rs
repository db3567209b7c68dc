use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{send, TestApp};

fn seed_resident(id: i64, first_name: &str, resident_type_id: Value) -> Value {
    json!({
        "fax_number": null,
        "caretracker_id": null,
        "resident_type_id": resident_type_id,
        "provider_id": 72136196,
        "photo_content_type": "",
        "first_name": first_name,
        "next_status_update": null,
        "id": id,
        "state": "active",
        "photo_file_name": "",
        "creator_id": 0,
        "last_status_update": null,
        "home_zip": "534412",
        "in_home_care": false,
        "home_address2": "",
        "home_address1": "123 Mockingbird Lane",
        "email": null,
        "customer_number": null,
        "updated_at": "2016/02/07 02:57:51 -0800",
        "review_updates": null,
        "updater_id": 0,
        "location": "Assisted Living Apt. 204",
        "home_city": "New York",
        "photo_file_size": 0,
        "home_state": "NY",
        "dob": "1937/01/21",
        "last_name": null,
        "demo": false,
        "phone_number": null,
        "created_at": "2016/02/07 02:57:51 -0800",
        "account_number": null
    })
}

backend_tests! {
    async fn all_residents_answers_the_seed_example_field_for_field() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(session.get("all_residents")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["status"], "Success");
        let residents = reply.body["residents"].as_array().expect("residents");
        // Ordered by id.
        assert_eq!(
            residents,
            &vec![
                seed_resident(501333996, "Test Doctor", json!(1058366525)),
                seed_resident(889283349, "Test Case (Provider Type)", Value::Null),
            ]
        );
        assert!(residents
            .iter()
            .all(|r| r.as_object().map(|o| o.len()) == Some(31)));
    }

    async fn all_residents_pages() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let reply = send(session.get("all_residents?page=2&per_page=1")).await;
        let residents = reply.body["residents"].as_array().expect("residents");
        assert_eq!(residents.len(), 1);
        assert_eq!(residents[0]["id"], 889283349);
    }
}
