//! `/openapi.json` describes the answers the server really gives: the
//! description is valid OpenAPI 3.1 (checked with the standard validator
//! from PyPI where it is installed; CI requires it), and real answers of
//! every JSON call carry each key their schema requires, with the type it
//! names.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{send, TestApp};

/// Checks `value` against the schema (following `$ref`s) for required keys
/// and basic types, collecting every mismatch.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return conforms(
            doc,
            &doc["components"]["schemas"][name],
            value,
            at,
            problems,
        );
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let matches = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    };
    if !types.is_empty() && !types.iter().any(|t| matches(t)) {
        problems.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            problems.push(format!("{at}: {value} not in {allowed:?}"));
        }
    }
    if let (Some(object), Some(required)) = (value.as_object(), schema["required"].as_array()) {
        for key in required.iter().filter_map(Value::as_str) {
            if !object.contains_key(key) {
                problems.push(format!("{at}: missing {key}"));
            }
        }
    }
    if let (Some(object), Some(properties)) = (value.as_object(), schema["properties"].as_object())
    {
        for (key, inner) in object {
            match properties.get(key) {
                Some(property) => conforms(doc, property, inner, &format!("{at}.{key}"), problems),
                None if schema["additionalProperties"] == Value::Bool(false) => {
                    problems.push(format!("{at}: undocumented key {key}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (n, item) in items.iter().enumerate() {
            conforms(doc, schema, item, &format!("{at}[{n}]"), problems);
        }
    }
}

fn response_schema<'a>(doc: &'a Value, path: &str, method: &str, status: u16) -> &'a Value {
    &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"]
}

backend_tests! {
    async fn real_answers_match_the_published_description() {
        let app = TestApp::demo().await;
        let doc = send(app.http.get(app.url("/openapi.json"))).await;
        assert_eq!(doc.status, StatusCode::OK);
        let doc = doc.body;
        assert_eq!(doc["openapi"], "3.1.0");

        let session = app.example().await;
        let ticket = session
            .create_ticket(&[("title", "Fell"), ("resident_id", "889283349"), ("urgency_status", "High"), ("email", "1")])
            .await
            .to_string();
        let calls: Vec<(&str, &str, reqwest::RequestBuilder, u16)> = vec![
            ("/api/{token}/tickets", "get", session.get("tickets"), 200),
            ("/api/{token}/tickets", "get", session.get("tickets?per_page=2&page=1"), 200),
            ("/api/{token}/ticket_detail", "get", session.get(&format!("ticket_detail?id={ticket}")), 200),
            ("/api/{token}/ticket_detail", "get", session.get("ticket_detail?id=999999999"), 404),
            ("/api/{token}/ticket_detail", "get", session.get("ticket_detail"), 422),
            ("/api/{token}/all_residents", "get", session.get("all_residents"), 200),
            ("/api/{token}/provider_categories", "get", session.get("provider_categories"), 200),
            ("/api/{token}/resident_contacts", "get", session.get("resident_contacts?resident_id=889283349"), 200),
            ("/api/{token}/notifications", "get", session.get("notifications"), 200),
            ("/api/{token}/update_status", "post", session.post(&format!("update_status?id={ticket}&status=Open")), 200),
            ("/api/{token}/create_comment", "post", session.post("create_comment").form(&[("ticket_id", ticket.as_str()), ("comment", "seen")]), 200),
            ("/api/{token}/acknowledge", "post", session.post("acknowledge").form(&[("notification_id", "1")]), 422),
            ("/healthz", "get", app.http.get(app.url("/healthz")), 200),
        ];
        let mut problems = Vec::new();
        for (path, method, request, status) in calls {
            let reply = send(request).await;
            assert_eq!(reply.status.as_u16(), status, "{path}: {:?}", reply.body);
            let schema = response_schema(&doc, path, method, status);
            assert!(!schema.is_null(), "{method} {path} {status} is not described");
            conforms(&doc, schema, &reply.body, path, &mut problems);
        }
        let authorized = send(app.http.post(app.url("/api/authorize")).header("api_key", &session.api_key).header("api_secret", &session.api_secret)).await;
        conforms(&doc, response_schema(&doc, "/api/authorize", "post", 200), &authorized.body, "authorize", &mut problems);
        assert!(problems.is_empty(), "answers differ from the description:\n{}", problems.join("\n"));
    }
}

/// The standard validator (openapi-spec-validator, from PyPI).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_description_passes_the_standard_validator() {
    let available = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var("CONNECTICKET_TEST_OPENAPI_REQUIRED").is_err(),
            "openapi-spec-validator is required (pip install openapi-spec-validator)"
        );
        eprintln!("skipped: python3 -m openapi_spec_validator is not installed");
        return;
    }
    let document = connecticket_http::openapi::document();
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, document).expect("write");
    let output = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&path)
        .output()
        .expect("run the validator");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{said}");
    assert!(said.contains("OK"), "{said}");
}

/// A bounded property-based run of schemathesis (PyPI) with all its checks,
/// from the description against a live demo server with a real token: no
/// answer is a 5xx, every answer matches its description, every request
/// the schema allows is accepted and every one it forbids refused, and
/// nothing is accepted without credentials. CI installs schemathesis and
/// requires this test.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fuzzer_driven_by_the_description_finds_no_5xx_and_no_mismatch() {
    if Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CONNECTICKET_TEST_OPENAPI_REQUIRED").is_err(),
            "schemathesis is required (pip install schemathesis)"
        );
        eprintln!("skipped: schemathesis is not installed");
        return;
    }
    let app = TestApp::spawn(crate::support::TestOptions {
        // The fuzzer is one client making many refused calls on purpose
        // (without credentials, say): not a guesser to slow down.
        throttle: connecticket_domain::service::throttle::ThrottleSettings {
            anonymous_refusals_per_minute: 0,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let session = app.example().await;
    let dir = tempfile::tempdir().expect("dir");
    // Every {token} the fuzzer fills in is the session's real token. An
    // Idempotency-Key the fuzzer sends again with other parameters is
    // refused (422, as the IETF's Idempotency-Key draft says): a rule
    // between requests, which no schema of one request can state.
    // A request too large to read is refused before it is parsed: 413 for
    // its body, 431 (the HTTP layer's own, without a body) for its head.
    let mut config = format!(
        "[parameters]\ntoken = \"{}\"\n\n[checks.negative_data_rejection]\n\
         expected-statuses = [\"400\", \"401\", \"403\", \"404\", \"405\", \"406\", \"409\", \
         \"413\", \"415\", \"422\", \"428\", \"429\", \"431\"]\n",
        session.token
    );
    for operation in [
        "POST /api/{token}/create_ticket",
        "GET /api/{token}/create_ticket",
        "POST /api/{token}/update_status",
        "POST /api/{token}/create_comment",
    ] {
        config.push_str(&format!(
            "\n[[operations]]\ninclude-name = \"{operation}\"\n\
             checks.positive_data_acceptance.expected-statuses = \
             [\"2xx\", \"401\", \"404\", \"409\", \"422\", \"429\"]\n"
        ));
    }
    // Rules no schema of one request states: a cursor the feed never gave
    // or no longer keeps (410, a fact about the server's data); a webhook
    // URL whose host does not parse as one, and a replay whose `through`
    // comes before its `from` (422, rules between characters and between
    // parameters).
    for (operation, statuses) in [
        (
            "GET /api/{token}/changes",
            "\"2xx\", \"401\", \"410\", \"429\"",
        ),
        (
            "POST /api/{token}/webhooks",
            "\"2xx\", \"401\", \"409\", \"422\", \"429\"",
        ),
        (
            "POST /api/{token}/webhooks/{id}/replay",
            "\"2xx\", \"401\", \"404\", \"422\", \"429\"",
        ),
    ] {
        config.push_str(&format!(
            "\n[[operations]]\ninclude-name = \"{operation}\"\n\
             checks.positive_data_acceptance.expected-statuses = [{statuses}]\n"
        ));
    }
    std::fs::write(dir.path().join("schemathesis.toml"), config).expect("config");
    let url = app.url("/openapi.json");
    let api_key = format!("api_key: {}", session.api_key);
    let api_secret = format!("api_secret: {}", session.api_secret);
    let output = tokio::task::spawn_blocking(move || {
        Command::new("schemathesis")
            .current_dir(dir.path())
            .args(["run", &url, "--checks", "all"])
            .args(["-H", &api_key, "-H", &api_secret])
            .args([
                "--max-examples",
                "30",
                "--seed",
                "1",
                "--request-timeout",
                "10",
            ])
            .env("NO_COLOR", "1")
            .output()
    })
    .await
    .expect("join")
    .expect("run schemathesis");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("passed"), "{said}");
    assert!(!said.contains("Unresolvable references"), "{said}");
}
