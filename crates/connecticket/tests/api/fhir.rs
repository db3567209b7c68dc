//! The FHIR R4 facade over HTTP on both backends: tokens by OAuth client
//! credentials with SMART scopes, residents as Patient and tickets as Task
//! with search, paging, versions and `_include`, every failure an
//! OperationOutcome, another provider's records indistinguishable from
//! missing ones; and every resource the server gives validated against
//! HL7's R4 JSON schema and `fhir.resources`' models.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use connecticket_domain::audit::{Action, AuditRecord, Outcome};
use connecticket_domain::demo::{
    DEMO_API_KEY, DEMO_API_SECRET, DEMO_PROVIDER_ID, DEMO_RESIDENT_IDS, SUNRISE_PROVIDER_ID,
    SUNRISE_RESIDENT_ID, SUNRISE_TICKET_ID,
};
use connecticket_domain::model::{ApplicationId, NewResident};
use connecticket_domain::store::TokenOwner;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::fhir::{
    request_token, request_token_by_assertion, sign_assertion, validate, TestKeys,
};
use crate::support::{audit_entries, send, TestApp, TestOptions};

/// Registers a resident with every field a Patient shows; answers its id.
async fn admit(app: &TestApp, first: &str, last: &str, dob: &str, number: &str) -> i64 {
    let mut resident = NewResident::named(first);
    resident.last_name = Some(last.to_owned());
    resident.dob = NaiveDate::parse_from_str(dob, "%Y-%m-%d").ok();
    resident.customer_number = Some(number.to_owned());
    resident.phone_number = Some("+15555550123".to_owned());
    resident.home_address1 = Some("1 Elm Street".to_owned());
    resident.home_city = Some("Springfield".to_owned());
    let call = app
        .admin
        .within(Action::CreateResidents, DEMO_PROVIDER_ID)
        .await;
    let created = app
        .api
        .create_residents(call, vec![resident])
        .await
        .expect("resident");
    created[0].get()
}

/// The audit trail once `holds` is true of it: refusals are appended
/// after their answers, so a test waits for them rather than racing.
async fn audited(
    app: &TestApp,
    what: &str,
    holds: impl Fn(&[AuditRecord]) -> bool,
) -> Vec<AuditRecord> {
    crate::support::eventually(what, || async {
        let entries = audit_entries(app).await;
        holds(&entries).then_some(entries)
    })
    .await
}

fn ids(bundle: &Value, kind: &str) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|entry| entry["resource"]["resourceType"] == kind)
                .map(|entry| entry["resource"]["id"].as_str().expect("id").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn next_link(bundle: &Value) -> Option<String> {
    bundle["link"]
        .as_array()?
        .iter()
        .find(|link| link["relation"] == "next")
        .map(|link| link["url"].as_str().expect("url").to_owned())
}

fn assert_outcome(reply: &crate::support::Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.body["resourceType"], "OperationOutcome",
        "{}",
        reply.body
    );
    assert_eq!(reply.body["issue"][0]["code"], code, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/fhir+json; charset=utf-8")
    );
}

#[test]
fn the_validator_refuses_a_deliberately_broken_resource() {
    if !crate::support::fhir::fhir_tools("jsonschema, fhir.resources") {
        return;
    }
    let good = json!({"resourceType": "Patient", "id": "7", "birthDate": "1941-06-03"});
    assert_eq!(validate(std::slice::from_ref(&good)), Ok(1));
    let mut broken = good.clone();
    broken["birthDate"] = json!("03/06/1941");
    let refusal = validate(&[good, broken]).expect_err("refused");
    assert!(refusal.contains("invalid 1 Patient"), "{refusal}");
    // An empty string is no FHIR value, and a Task needs an intent.
    let empty = json!({"resourceType": "Patient", "id": "7", "gender": ""});
    assert!(validate(&[empty]).is_err());
    let task = json!({"resourceType": "Task", "id": "1", "status": "requested"});
    assert!(validate(&[task]).is_err());
}

backend_tests! {
    async fn smart_backend_services_accept_a_signed_assertion_and_refuse_replays_expiry_wrong_keys_and_audiences() {
        let app = TestApp::demo().await;
        let keys = TestKeys::generate();
        let audience = app.url("/fhir/R4/auth/token");
        let sign = |pem: &[u8], alg: &str, kid: Option<&str>, aud: &str, jti: &str, expires_in: i64| {
            sign_assertion(pem, alg, kid, DEMO_API_KEY, aud, jti, expires_in)
        };
        let ask = |assertion: String| {
            let app = &app;
            async move { request_token_by_assertion(app, &assertion, "system/Patient.rs").await }
        };
        let refused = |reply: &crate::support::Reply, words: &str| {
            assert_outcome(reply, StatusCode::UNAUTHORIZED, "login");
            let diagnostics = reply.body["issue"][0]["diagnostics"].as_str().unwrap_or_default();
            assert!(diagnostics.contains(words), "{diagnostics:?} should say {words:?}");
        };
        let first = sign(&keys.es384_pem, "ES384", Some("test-es384"), &audience, "jti-0", 120);
        refused(&ask(first).await, "registered no keys");

        let call = app.admin.within(Action::ManageApplications, DEMO_PROVIDER_ID).await;
        assert_eq!(app.api.set_fhir_client_keys(call, ApplicationId(1), Some(&keys.jwks)).await.expect("registered"), 2);

        let es384 = sign(&keys.es384_pem, "ES384", Some("test-es384"), &audience, "jti-1", 120);
        let granted = ask(es384.clone()).await;
        assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
        assert_eq!(granted.body["scope"], "system/Patient.rs");
        let token = granted.body["access_token"].as_str().expect("token");
        let patients = send(app.http.get(app.url("/fhir/R4/Patient")).bearer_auth(token)).await;
        assert_eq!(patients.status, StatusCode::OK);
        let rs384 = sign(&keys.rs384_pem, "RS384", None, &audience, "jti-2", 120);
        assert_eq!(ask(rs384).await.status, StatusCode::OK, "RS384, the key found without a kid");

        refused(&ask(es384).await, "used before");
        refused(&ask(sign(&keys.es384_pem, "ES384", Some("test-es384"), &audience, "jti-3", -300)).await, "expired");
        refused(&ask(sign(&keys.es384_pem, "ES384", Some("test-es384"), &audience, "jti-4", 3600)).await, "five minutes");
        refused(&ask(sign(&keys.unregistered_pem, "ES384", Some("test-es384"), &audience, "jti-5", 120)).await, "matches none");
        refused(&ask(sign(&keys.unregistered_pem, "ES384", None, &audience, "jti-6", 120)).await, "matches none");
        refused(&ask(sign(&keys.es384_pem, "ES384", Some("test-es384"), "https://elsewhere.example/fhir/R4/auth/token", "jti-7", 120)).await, "not meant for this token endpoint");
        refused(&ask("not.a.jwt".to_owned()).await, "not a JWT");

        // Only public keys of the two kinds SMART names are registered.
        let mut private: Value = serde_json::from_str(&keys.jwks).expect("jwks");
        private["keys"][0]["d"] = json!("c2VjcmV0");
        let call = app.admin.within(Action::ManageApplications, DEMO_PROVIDER_ID).await;
        let error = app.api.set_fhir_client_keys(call, ApplicationId(1), Some(&private.to_string())).await.expect_err("refused");
        assert!(error.to_string().contains("private"), "{error}");
        let call = app.admin.within(Action::ManageApplications, DEMO_PROVIDER_ID).await;
        let hs256 = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}).to_string();
        assert!(app.api.set_fhir_client_keys(call, ApplicationId(1), Some(&hs256)).await.is_err());
        // Removed, the keys sign nothing more.
        let call = app.admin.within(Action::ManageApplications, DEMO_PROVIDER_ID).await;
        assert_eq!(app.api.set_fhir_client_keys(call, ApplicationId(1), None).await.expect("removed"), 0);
        refused(&ask(sign(&keys.es384_pem, "ES384", Some("test-es384"), &audience, "jti-8", 120)).await, "registered no keys");

        let entries = audited(&app, "the refused assertions audited", |entries| {
            entries.iter().filter(|e| e.action == Action::FhirToken && e.outcome == Outcome::Denied).count() >= 8
        })
        .await;
        assert!(entries.iter().any(|e| e.action == Action::FhirToken && e.outcome == Outcome::Success
            && e.records.iter().any(|r| r == "client:assertion")));
        assert!(entries.iter().any(|e| e.action == Action::ManageApplications
            && e.records.iter().any(|r| r == "fhir_keys:2") && e.records.iter().any(|r| r == "application:1")));
    }

    async fn the_token_endpoint_grants_scopes_and_refuses_everyone_else() {
        let app = TestApp::demo().await;
        let granted = request_token(&app, DEMO_API_KEY, DEMO_API_SECRET, "system/Patient.read system/Task.rs launch/patient").await;
        assert_eq!(granted.status, StatusCode::BAD_REQUEST, "a scope it cannot grant is refused: {}", granted.body);
        let granted = request_token(&app, DEMO_API_KEY, DEMO_API_SECRET, "system/Patient.read system/Task.rs").await;
        assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
        assert_eq!(granted.body["token_type"], "bearer");
        assert_eq!(granted.body["expires_in"], 300);
        assert_eq!(granted.body["scope"], "system/Patient.rs system/Task.rs");
        assert_eq!(granted.header("cache-control"), Some("no-store"));

        let wrong = request_token(&app, DEMO_API_KEY, "not-the-secret", "system/Patient.rs").await;
        assert_outcome(&wrong, StatusCode::UNAUTHORIZED, "login");
        assert_eq!(wrong.header("www-authenticate"), Some("Basic realm=\"fhir\""));
        let unscoped = request_token(&app, DEMO_API_KEY, DEMO_API_SECRET, "").await;
        assert_outcome(&unscoped, StatusCode::BAD_REQUEST, "invalid");
        let grant = send(app.http.post(app.url("/fhir/R4/auth/token")).basic_auth(DEMO_API_KEY, Some(DEMO_API_SECRET)).form(&[("grant_type", "password")])).await;
        assert_outcome(&grant, StatusCode::BAD_REQUEST, "invalid");

        // Only Patient: Task is 403, CodeSystem too.
        let patients_only = app.fhir(DEMO_API_KEY, DEMO_API_SECRET, "system/Patient.rs").await;
        assert_eq!(patients_only.get("Patient").await.status, StatusCode::OK);
        assert_outcome(&patients_only.get("Task").await, StatusCode::FORBIDDEN, "forbidden");
        assert_outcome(&patients_only.get("CodeSystem/categories-1").await, StatusCode::FORBIDDEN, "forbidden");

        // No token, a made-up one, and the API's own token are all 401.
        let anonymous = send(app.http.get(app.url("/fhir/R4/Patient"))).await;
        assert_outcome(&anonymous, StatusCode::UNAUTHORIZED, "login");
        assert_eq!(anonymous.header("www-authenticate"), Some("Bearer realm=\"fhir\""));
        let session = app.example().await;
        for token in ["made-up", session.token.as_str()] {
            let reply = send(app.http.get(app.url("/fhir/R4/Patient")).bearer_auth(token)).await;
            assert_outcome(&reply, StatusCode::UNAUTHORIZED, "login");
        }
        // Nor does a FHIR token open the API.
        let api = send(app.http.get(app.url(&format!("/api/{}/all_residents", patients_only.token))).header("api_key", DEMO_API_KEY).header("api_secret", DEMO_API_SECRET)).await;
        assert_eq!(api.status, StatusCode::UNAUTHORIZED);

        // Revoking the application's tokens revokes the FHIR ones too.
        let call = app.admin.within(Action::ManageApplications, DEMO_PROVIDER_ID).await;
        app.api.revoke_tokens(call, TokenOwner::Application(ApplicationId(1))).await.expect("revoked");
        assert_outcome(&patients_only.get("Patient").await, StatusCode::UNAUTHORIZED, "login");

        let entries = audited(&app, "the refusals audited", |entries| {
            entries.iter().any(|e| e.action == Action::FhirToken && e.outcome == Outcome::Denied)
                && entries.iter().any(|e| e.action == Action::FhirSearch && e.outcome == Outcome::Denied)
        })
        .await;
        let tokens: Vec<_> = entries.iter().filter(|e| e.action == Action::FhirToken).collect();
        assert!(tokens.iter().any(|e| e.outcome == Outcome::Success
            && e.records.iter().any(|r| r == "scope:system/Patient.rs system/Task.rs")), "{tokens:?}");
        assert!(tokens.iter().any(|e| e.outcome == Outcome::Denied));
        assert!(entries.iter().any(|e| e.action == Action::FhirSearch && e.outcome == Outcome::Denied
            && e.application_id == Some(1)), "the 403 is audited under the application");
    }

    async fn patients_are_read_and_searched_as_fhir_clients_expect() {
        let app = TestApp::demo().await;
        let ada = admit(&app, "Ada", "Lovelace", "1936-12-10", "C-1815").await;
        let alan = admit(&app, "Alan", "Turing", "1937-06-23", "C-1912").await;
        let fhir = app.example_fhir().await;

        let read = fhir.get(&format!("Patient/{ada}")).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        assert_eq!(read.header("content-type"), Some("application/fhir+json; charset=utf-8"));
        assert_eq!(read.header("etag"), Some("W/\"1\""));
        assert_eq!(read.body["name"][0]["family"], "Lovelace");
        assert_eq!(read.body["name"][0]["given"], json!(["Ada"]));
        assert_eq!(read.body["birthDate"], "1936-12-10");
        assert_eq!(read.body["identifier"], json!([{"system": "https://connecticket.org/fhir/sid/resident-customer-number", "value": "C-1815"}]));
        assert_eq!(read.body["telecom"][0], json!({"system": "phone", "value": "+15555550123", "use": "home"}));
        assert_eq!(read.body["address"][0]["city"], "Springfield");
        assert_eq!(read.body["meta"]["versionId"], "1");
        let unchanged = send(fhir.request(&format!("Patient/{ada}")).header("if-none-match", "W/\"1\"")).await;
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
        assert!(unchanged.bytes.is_empty());

        let search = |query: String| {
            let fhir = fhir.clone();
            async move {
                let reply = fhir.get(&format!("Patient?{query}")).await;
                assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
                assert_eq!(reply.body["type"], "searchset");
                ids(&reply.body, "Patient")
            }
        };
        let (ada, alan) = (ada.to_string(), alan.to_string());
        assert_eq!(search("name=ada".into()).await, vec![ada.clone()], "any case, start of a name");
        assert_eq!(search("name=TUR".into()).await, vec![alan.clone()]);
        assert_eq!(search("family=Love".into()).await, vec![ada.clone()]);
        assert_eq!(search("given=Alan".into()).await, vec![alan.clone()]);
        assert_eq!(search("given=lan".into()).await, Vec::<String>::new(), "the start, not the middle");
        assert_eq!(search("birthdate=1936".into()).await, vec![ada.clone()]);
        let born_1937 = vec![DEMO_RESIDENT_IDS[1].get().to_string(), DEMO_RESIDENT_IDS[0].get().to_string(), alan.clone()];
        assert_eq!(search("birthdate=ge1937-01-01&birthdate=lt1938".into()).await, born_1937);
        assert_eq!(search("identifier=C-1912".into()).await, vec![alan.clone()]);
        assert_eq!(search("identifier=https://connecticket.org/fhir/sid/resident-customer-number|C-1815".into()).await, vec![ada.clone()]);
        assert_eq!(search("identifier=https://connecticket.org/fhir/sid/resident-account-number|C-1815".into()).await, Vec::<String>::new());
        assert_eq!(search(format!("_id={ada},{alan}")).await, vec![ada.clone(), alan.clone()]);
        assert_eq!(search("_lastUpdated=gt2100-01-01".into()).await, Vec::<String>::new());
        let count = fhir.get("Patient?_summary=count").await;
        assert_eq!(count.body["total"], 4);
        assert!(count.body.get("entry").is_none(), "{}", count.body);

        // Strict parameters: 400 rather than every patient.
        assert_outcome(&fhir.get("Patient?nmae=Ada").await, StatusCode::BAD_REQUEST, "invalid");
        assert_outcome(&fhir.get("Patient?name:exact=Ada").await, StatusCode::BAD_REQUEST, "invalid");
        assert_outcome(&fhir.get("Patient?birthdate=ap1936").await, StatusCode::BAD_REQUEST, "invalid");
        assert_outcome(&fhir.get("Patient?_count=1001").await, StatusCode::BAD_REQUEST, "invalid");
        assert_outcome(&fhir.get("Patient?identifier=urn:other|1").await, StatusCode::BAD_REQUEST, "invalid");
        // JSON only.
        assert_outcome(&fhir.get("Patient?_format=xml").await, StatusCode::NOT_ACCEPTABLE, "not-supported");
        let xml = fhir.keep(send(fhir.request("Patient").header("accept", "application/fhir+xml")).await);
        assert_outcome(&xml, StatusCode::NOT_ACCEPTABLE, "not-supported");
        assert_eq!(fhir.get("Patient?_format=json").await.status, StatusCode::OK);
        assert_outcome(&fhir.get("Patient/999999999").await, StatusCode::NOT_FOUND, "not-found");
        assert_outcome(&fhir.get("Observation").await, StatusCode::NOT_FOUND, "not-found");
        let delete = fhir.keep(send(fhir.http.delete(fhir.url("Patient/1")).bearer_auth(&fhir.token)).await);
        assert_outcome(&delete, StatusCode::METHOD_NOT_ALLOWED, "not-supported");

        let entries = audit_entries(&app).await;
        assert!(entries.iter().any(|e| e.action == Action::FhirRead
            && e.records.iter().any(|r| *r == format!("resident:{ada}"))));
        assert!(fhir.validate_all() > 20);
    }

    async fn tickets_are_tasks_with_ratings_notes_versions_and_their_patients() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let resident = DEMO_RESIDENT_IDS[1].get().to_string();
        let ticket = session.create_ticket(&[
            ("title", "Weighed 3 kg more than last week"),
            ("resident_id", &resident),
            ("urgency_status", "2"),
            ("general_comments", "Family informed"),
            ("category_34", "Issue"),
            ("category_comments_34", "Ankles swollen"),
            ("category_19", "No Issue"),
        ]).await;
        let fhir = app.example_fhir().await;
        let read = fhir.get(&format!("Task/{ticket}")).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        let task = &read.body;
        assert_eq!(task["status"], "requested");
        assert_eq!(task["intent"], "order");
        assert_eq!(task["priority"], "routine", "Low is routine…");
        assert_eq!(task["extension"][0]["valueCoding"]["display"], "Low", "…with the level kept");
        assert_eq!(task["businessStatus"]["text"], "New");
        assert_eq!(task["for"], json!({"reference": format!("Patient/{resident}")}));
        assert_eq!(task["description"], "Weighed 3 kg more than last week");
        let categories = format!("{}/CodeSystem/categories-{}", fhir.base, DEMO_PROVIDER_ID.get());
        let inputs = task["input"].as_array().expect("inputs");
        let rating = |id: &str| inputs.iter().find(|input| input["type"]["coding"][0]["code"] == id).map(|input| input["valueCodeableConcept"]["coding"][0]["code"].clone());
        assert_eq!(rating("34"), Some(json!("issue")));
        assert_eq!(rating("19"), Some(json!("no-issue")));
        assert!(inputs.iter().all(|input| input["type"]["coding"][0]["system"] == categories.as_str()));
        let notes: Vec<&str> = task["note"].as_array().expect("notes").iter().map(|n| n["text"].as_str().expect("text")).collect();
        assert_eq!(notes, vec!["Family informed", "Ankles swollen"]);
        let version = task["meta"]["versionId"].as_str().expect("version").to_owned();
        let etag = format!("W/\"{version}\"");
        assert_eq!(read.header("etag"), Some(etag.as_str()));

        // The code system the inputs name is served, for this provider.
        let code_system = fhir.get(&format!("CodeSystem/categories-{}", DEMO_PROVIDER_ID.get())).await;
        assert_eq!(code_system.status, StatusCode::OK, "{}", code_system.body);
        assert_eq!(code_system.body["url"], categories.as_str());
        assert!(code_system.body["concept"].as_array().expect("concepts").iter().any(|c| c["code"] == "34"));

        // A status change and a comment each make a new version.
        let reply = send(session.post("update_status").form(&[("id", ticket.to_string().as_str()), ("status", "In Progress")])).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let stale = send(fhir.request(&format!("Task/{ticket}")).header("if-none-match", &etag)).await;
        let stale = fhir.keep(stale);
        assert_eq!(stale.status, StatusCode::OK, "an old version is not the current one");
        assert_eq!(stale.body["status"], "in-progress");
        let newer: i64 = stale.body["meta"]["versionId"].as_str().expect("v").parse().expect("number");
        assert!(newer > version.parse::<i64>().expect("number"));
        let current = stale.header("etag").expect("etag").to_owned();
        let unchanged = send(fhir.request(&format!("Task/{ticket}")).header("if-none-match", &current)).await;
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
        let reply = send(session.post("create_comment").form(&[("ticket_id", ticket.to_string().as_str()), ("comment", "Doctor called back")])).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let commented = send(fhir.request(&format!("Task/{ticket}")).header("if-none-match", &current)).await;
        assert_eq!(commented.status, StatusCode::OK);

        // Searches by patient, status and priority, and with the patients.
        let search = |query: String| {
            let fhir = fhir.clone();
            async move {
                let reply = fhir.get(&format!("Task?{query}")).await;
                assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
                reply.body
            }
        };
        let ticket_id = ticket.to_string();
        let by_patient = search(format!("patient=Patient/{resident}&status=in-progress")).await;
        assert_eq!(ids(&by_patient, "Task"), vec![ticket_id.clone()]);
        assert_eq!(ids(&search("status=completed".into()).await, "Task"), Vec::<String>::new());
        assert_eq!(ids(&search("status=rejected".into()).await, "Task"), Vec::<String>::new(), "valid, matching nothing");
        assert!(ids(&search("priority=routine".into()).await, "Task").contains(&ticket_id));
        assert!(!ids(&search("priority=stat".into()).await, "Task").contains(&ticket_id));
        let included = search(format!("_id={ticket}&_include=Task:patient")).await;
        assert_eq!(ids(&included, "Patient"), vec![resident.clone()]);
        let modes: Vec<&str> = included["entry"].as_array().expect("entries").iter().map(|e| e["search"]["mode"].as_str().expect("mode")).collect();
        assert_eq!(modes, vec!["match", "include"]);
        assert_outcome(&fhir.get("Task?status=done").await, StatusCode::BAD_REQUEST, "invalid");
        assert_outcome(&fhir.get("Task?_include=Task:owner").await, StatusCode::BAD_REQUEST, "invalid");

        // Paging by _count: each ticket once, in id order, with next links.
        for _ in 0..5 {
            session.create_ticket(&[("title", "Routine check"), ("resident_id", &resident)]).await;
        }
        let mut seen = Vec::new();
        let mut page = fhir.get("Task?_count=2").await;
        assert_eq!(page.body["total"], 8);
        loop {
            seen.extend(ids(&page.body, "Task"));
            match next_link(&page.body) {
                Some(next) => page = fhir.get(&next).await,
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort_by_key(|id| id.parse::<i64>().expect("id"));
        sorted.dedup();
        assert_eq!(seen, sorted, "in id order, none twice");
        assert_eq!(seen.len(), 8);

        assert!(fhir.validate_all() > 10);
    }

    async fn another_providers_records_answer_exactly_like_missing_ones() {
        let app = TestApp::demo().await;
        let demo = app.example_fhir().await;
        let sunrise = app.sunrise_fhir().await;
        let theirs = [
            format!("Patient/{}", SUNRISE_RESIDENT_ID.get()),
            format!("Task/{}", SUNRISE_TICKET_ID.get()),
            format!("CodeSystem/categories-{}", SUNRISE_PROVIDER_ID.get()),
        ];
        let missing = ["Patient/999999999", "Task/999999999", "CodeSystem/categories-999999999"];
        for (theirs, missing) in theirs.iter().zip(missing) {
            let refused = demo.get(theirs).await;
            let absent = demo.get(missing).await;
            assert_eq!(refused.status, StatusCode::NOT_FOUND, "{theirs}");
            assert_eq!(refused.bytes, absent.bytes, "{theirs} answers like {missing}");
            assert_eq!(sunrise.get(theirs).await.status, StatusCode::OK, "{theirs} is Sunrise's own");
        }
        // Searches, _include and paging links never reach across.
        let other = SUNRISE_RESIDENT_ID.get();
        for query in [
            format!("Patient?_id={other}"),
            "Patient?name=Margaret".to_owned(),
            format!("Task?patient={other}"),
            format!("Task?_id={}&_include=Task:patient", SUNRISE_TICKET_ID.get()),
            "Task?_cursor=0&_count=1000".to_owned(),
        ] {
            let reply = demo.get(&query).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}");
            let entries = reply.body["entry"].to_string();
            assert!(!entries.contains("Margaret") && !entries.contains(&format!("Patient/{other}\"")), "{query}: {entries}");
            assert!(!ids(&reply.body, "Task").contains(&SUNRISE_TICKET_ID.get().to_string()), "{query}");
            if !query.starts_with("Task?_cursor") {
                assert_eq!(reply.body["total"], 0, "{query}");
            }
        }
        assert!(demo.validate_all() > 5);
    }

    async fn a_fhir_client_nobody_here_wrote_pages_ten_thousand_tasks_while_writes_continue() {
        if !crate::support::fhir::fhir_tools("fhirpy, requests") {
            return;
        }
        let mut options = TestOptions::default();
        options.throttle.token_requests = 0;
        let app = TestApp::spawn(options).await;
        let session = app.example().await;
        let ada = admit(&app, "Ada", "Lovelace", "1936-12-10", "C-1815").await;
        let resident = DEMO_RESIDENT_IDS[1].get().to_string();
        let write = |writers: usize, each: Option<usize>, stop: Arc<AtomicBool>| {
            (0..writers)
                .map(|_| {
                    let (session, resident, stop) = (session.clone(), resident.clone(), Arc::clone(&stop));
                    tokio::spawn(async move {
                        let mut ids = Vec::new();
                        while each.map_or(!stop.load(Ordering::Relaxed), |each| ids.len() < each) {
                            ids.push(session.create_ticket(&[("title", "x"), ("resident_id", &resident)]).await);
                        }
                        ids
                    })
                })
                .collect::<Vec<_>>()
        };
        let stop = Arc::new(AtomicBool::new(false));
        let mut before = BTreeSet::from([201, 202]);
        for writer in write(8, Some(1250), Arc::clone(&stop)) {
            before.extend(writer.await.expect("writer"));
        }
        assert_eq!(before.len(), 10_002);
        let first = *before.iter().nth(2).expect("a ticket");

        // Four writers keep going while the client pages.
        let during = write(4, None, Arc::clone(&stop));
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../connecticket-test-support/fhir/fhirpy_client.py");
        let base = app.url("/fhir/R4");
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("python3")
                .arg(script)
                .args([base.as_str(), DEMO_API_KEY, DEMO_API_SECRET, "love", &first.to_string()])
                .output()
                .expect("python3 with fhirpy (pip install fhirpy requests)")
        })
        .await
        .expect("the client");
        stop.store(true, Ordering::Relaxed);
        let mut written_during = BTreeSet::new();
        for writer in during {
            written_during.extend(writer.await.expect("writer"));
        }
        assert!(output.status.success(), "fhirpy: {}", String::from_utf8_lossy(&output.stderr));
        let seen: Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(seen["patients"], json!([ada.to_string()]));
        assert_eq!(seen["patient_names"], json!(["Lovelace"]));
        assert_eq!(seen["included"], json!([["Task", first.to_string(), "match"], ["Patient", resident, "include"]]));

        let tasks: Vec<i64> = seen["tasks"].as_array().expect("tasks").iter().map(|id| id.as_str().expect("id").parse().expect("number")).collect();
        let unique: BTreeSet<i64> = tasks.iter().copied().collect();
        assert_eq!(unique.len(), tasks.len(), "a Task came twice");
        assert!(before.is_subset(&unique), "{} of the tickets written before were missed", before.difference(&unique).count());
        let anything: BTreeSet<i64> = before.union(&written_during).copied().collect();
        assert!(unique.is_subset(&anything), "a Task that was never written");
        assert!(!written_during.is_empty(), "the writes continued");
        let pages = audit_entries(&app).await.iter().filter(|e| e.action == Action::FhirSearch && e.outcome == Outcome::Success).count();
        assert!(pages > 100, "{pages} searches: paged by 100");
    }

    async fn flags_people_and_communications_show_who_was_told_of_what() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let resident = DEMO_RESIDENT_IDS[1].get().to_string();
        let urgent = session.create_ticket(&[
            ("title", "Unresponsive for a minute"), ("resident_id", &resident), ("urgency_status", "Exception"),
            ("sent_to_primary", "1"), ("sent_to_family", "1"), ("email", "1"),
        ]).await;
        let routine = session.create_ticket(&[("title", "Routine check"), ("resident_id", &resident)]).await;
        let scope = "system/Flag.rs system/RelatedPerson.rs system/Practitioner.rs system/Communication.rs";
        let fhir = app.fhir(DEMO_API_KEY, DEMO_API_SECRET, scope).await;

        // A Flag for the Exception ticket, none for the routine one.
        let flags = fhir.get(&format!("Flag?patient={resident}&status=active")).await;
        assert_eq!(flags.status, StatusCode::OK, "{}", flags.body);
        assert_eq!(ids(&flags.body, "Flag"), vec![urgent.to_string()]);
        let flag = fhir.get(&format!("Flag/{urgent}")).await;
        assert_eq!(flag.body["status"], "active");
        assert_eq!(flag.body["subject"]["reference"], format!("Patient/{resident}"));
        assert_outcome(&fhir.get(&format!("Flag/{routine}")).await, StatusCode::NOT_FOUND, "not-found");
        let reply = send(session.post("update_status").form(&[("id", urgent.to_string().as_str()), ("status", "Resolved")])).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(fhir.get(&format!("Flag/{urgent}")).await.body["status"], "inactive");
        assert_eq!(ids(&fhir.get(&format!("Flag?patient={resident}&status=active")).await.body, "Flag"), Vec::<String>::new());

        // Family as RelatedPerson, the physician as Practitioner.
        let family = fhir.get(&format!("RelatedPerson?patient={resident}")).await;
        assert_eq!(family.status, StatusCode::OK, "{}", family.body);
        let related = &family.body["entry"][0]["resource"];
        assert_eq!(related["patient"]["reference"], format!("Patient/{resident}"));
        assert_eq!(related["relationship"][0]["coding"][0]["code"], "FAMMEMB");
        let practitioners = fhir.get("Practitioner").await;
        assert!(ids(&practitioners.body, "Practitioner").len() >= 2, "{}", practitioners.body);
        let one = &practitioners.body["entry"][0]["resource"];
        let read = fhir.get(&format!("Practitioner/{}", one["id"].as_str().expect("id"))).await;
        assert_eq!(&read.body, one);
        let tag = read.header("etag").expect("etag").to_owned();
        let unchanged = send(fhir.request(&format!("Practitioner/{}", one["id"].as_str().expect("id"))).header("if-none-match", &tag)).await;
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
        // A family member is no Practitioner.
        let family_id = related["id"].as_str().expect("id");
        assert_outcome(&fhir.get(&format!("Practitioner/{family_id}")).await, StatusCode::NOT_FOUND, "not-found");

        // The notifications, then one acknowledged by staff.
        let told = fhir.get(&format!("Communication?about=Task/{urgent}")).await;
        assert_eq!(told.status, StatusCode::OK, "{}", told.body);
        let communications = told.body["entry"].as_array().expect("entries").clone();
        assert!(communications.len() >= 2, "{}", told.body);
        let recipients: Vec<String> = communications.iter().map(|e| e["resource"]["recipient"][0]["reference"].as_str().unwrap_or_default().to_owned()).collect();
        assert!(recipients.iter().any(|r| r.starts_with("RelatedPerson/")), "{recipients:?}");
        assert!(recipients.iter().any(|r| r.starts_with("Practitioner/")), "{recipients:?}");
        let first = &communications[0]["resource"];
        assert_eq!(first["medium"][0]["coding"][0]["code"], "EMAILWRIT");
        assert_eq!(first["about"][0]["reference"], format!("Task/{urgent}"));
        assert!(!told.body.to_string().contains("@example.org"), "an address in a Communication");
        let id = first["id"].as_str().expect("id").to_owned();
        let acked = send(session.post("acknowledge").form(&[("notification_id", id.as_str()), ("note", "Called back")])).await;
        assert_eq!(acked.status, StatusCode::OK, "{}", acked.body);
        let answer = fhir.get(&format!("Communication/ack-{id}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["inResponseTo"][0]["reference"], format!("Communication/{id}"));
        assert!(fhir.get(&format!("Communication/{id}")).await.body["received"].is_string());
        let unanswered = communications.iter().find(|e| e["resource"]["id"] != id.as_str()).expect("another");
        let other = unanswered["resource"]["id"].as_str().expect("id");
        assert_outcome(&fhir.get(&format!("Communication/ack-{other}")).await, StatusCode::NOT_FOUND, "not-found");

        // Another provider sees none of it, exactly as if it were missing.
        let sunrise = app.fhir(connecticket_domain::demo::SUNRISE_API_KEY, connecticket_domain::demo::SUNRISE_API_SECRET, scope).await;
        for (theirs, missing) in [
            (format!("Flag/{urgent}"), "Flag/999999999".to_owned()),
            (format!("RelatedPerson/{family_id}"), "RelatedPerson/999999999".to_owned()),
            (format!("Communication/{id}"), "Communication/999999999".to_owned()),
            (format!("Communication/ack-{id}"), "Communication/ack-999999999".to_owned()),
        ] {
            let refused = sunrise.get(&theirs).await;
            assert_eq!(refused.status, StatusCode::NOT_FOUND, "{theirs}");
            assert_eq!(refused.bytes, sunrise.get(&missing).await.bytes, "{theirs}");
        }
        let across = sunrise.get(&format!("Communication?about=Task/{urgent}")).await;
        assert!(across.body.get("entry").is_none(), "{}", across.body);
        assert!(fhir.validate_all() > 10);
        assert!(sunrise.validate_all() > 4);
    }

    async fn tasks_are_created_and_moved_through_the_api_s_own_rules() {
        let app = TestApp::demo().await;
        let fhir = app.fhir(DEMO_API_KEY, DEMO_API_SECRET, "system/Task.crus").await;
        let categories = format!("{}/CodeSystem/categories-{}", fhir.base, DEMO_PROVIDER_ID.get());
        let resident = DEMO_RESIDENT_IDS[0].get();
        let task = json!({
            "resourceType": "Task", "status": "requested", "intent": "order", "priority": "asap",
            "description": "Fell in the bathroom",
            "for": {"reference": format!("Patient/{resident}")},
            "input": [{"type": {"coding": [{"system": categories, "code": "22"}]},
                       "valueCodeableConcept": {"coding": [{"code": "issue"}]}}],
            "note": [{"text": "Found at 03:10"},
                     {"text": "Bruised wrist", "extension": [{"url": "https://connecticket.org/fhir/StructureDefinition/comment-category",
                                                              "valueCoding": {"system": categories, "code": "22"}}]}],
        });
        let post = |body: Value, key: Option<&'static str>| {
            let mut request = fhir.http.post(fhir.url("Task")).bearer_auth(&fhir.token)
                .header("content-type", "application/fhir+json").body(body.to_string());
            if let Some(key) = key {
                request = request.header("idempotency-key", key);
            }
            let fhir = fhir.clone();
            async move { fhir.keep(send(request).await) }
        };
        let created = post(task.clone(), Some("fall-0310")).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.body["id"].as_str().expect("id").to_owned();
        assert_eq!(created.header("location"), Some(format!("{}/Task/{id}/_history/1", fhir.base).as_str()));
        assert_eq!(created.header("etag"), Some("W/\"1\""));
        let location = created.header("location").expect("location").to_owned();
        assert_eq!(fhir.get(&location).await.body, created.body, "the Location reads back");
        assert_eq!(created.body["priority"], "asap");
        assert_eq!(created.body["extension"][0]["valueCoding"]["display"], "High");
        // The API sees the same ticket, rated and commented.
        let session = app.example().await;
        let detail = session.detail(id.parse().expect("id")).await;
        let ticket = &detail.body["ticket_with_details"];
        assert_eq!(ticket["ticket"]["title"], "Fell in the bathroom");
        assert_eq!(ticket["categories"]["22"]["status"], "issue");
        assert_eq!(ticket["general_comments"][0]["title"], "Found at 03:10");
        // A retry with the same key gives the same Task, written once.
        let again = post(task.clone(), Some("fall-0310")).await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.body["id"], id.as_str());
        assert_eq!(again.header("idempotent-replayed"), Some("true"));

        // Bad Tasks: 422 naming the problem; no body type: 415.
        let mut no_patient = task.clone();
        no_patient.as_object_mut().expect("task").remove("for");
        assert_outcome(&post(no_patient, None).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        let mut foreign = task.clone();
        foreign["input"][0]["type"]["coding"][0]["system"] = json!("http://example.org/other");
        assert_outcome(&post(foreign, None).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        let mut untitled = task.clone();
        untitled["description"] = json!("   ");
        assert_outcome(&post(untitled, None).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        let plain = fhir.keep(send(fhir.http.post(fhir.url("Task")).bearer_auth(&fhir.token).header("content-type", "text/plain").body("x")).await);
        assert_outcome(&plain, StatusCode::UNSUPPORTED_MEDIA_TYPE, "not-supported");
        let broken = fhir.keep(send(fhir.http.post(fhir.url("Task")).bearer_auth(&fhir.token).header("content-type", "application/fhir+json").body("{")).await);
        assert_outcome(&broken, StatusCode::UNPROCESSABLE_ENTITY, "invalid");

        // PATCH /status with If-Match.
        let patch = |status: &str, if_match: Option<&str>| {
            let mut request = fhir.http.patch(fhir.url(&format!("Task/{id}"))).bearer_auth(&fhir.token)
                .header("content-type", "application/json-patch+json")
                .body(json!([{"op": "replace", "path": "/status", "value": status}]).to_string());
            if let Some(tag) = if_match {
                request = request.header("if-match", tag);
            }
            let fhir = fhir.clone();
            async move { fhir.keep(send(request).await) }
        };
        let moved = patch("in-progress", Some("W/\"1\"")).await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
        assert_eq!(moved.body["status"], "in-progress");
        assert_eq!(moved.header("etag"), Some("W/\"2\""));
        assert_outcome(&patch("completed", Some("W/\"1\"")).await, StatusCode::PRECONDITION_FAILED, "conflict");
        assert_outcome(&fhir.get(&location).await, StatusCode::NOT_FOUND, "not-found");
        let detail = session.detail(id.parse().expect("id")).await;
        assert_eq!(detail.body["ticket_with_details"]["ticket"]["ticket_status"], "In Progress", "a stale patch changed nothing");
        assert_eq!(patch("completed", None).await.body["status"], "completed");
        assert_outcome(&patch("done", None).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        let title = fhir.keep(send(fhir.http.patch(fhir.url(&format!("Task/{id}"))).bearer_auth(&fhir.token)
            .header("content-type", "application/json-patch+json")
            .body(json!([{"op": "replace", "path": "/description", "value": "x"}]).to_string())).await);
        assert_outcome(&title, StatusCode::UNPROCESSABLE_ENTITY, "invalid");

        // Scopes: reading is not writing.
        let reader = app.fhir(DEMO_API_KEY, DEMO_API_SECRET, "system/Task.rs").await;
        let refused = send(reader.http.post(reader.url("Task")).bearer_auth(&reader.token).header("content-type", "application/fhir+json").body(task.to_string())).await;
        assert_outcome(&refused, StatusCode::FORBIDDEN, "forbidden");
        // Another provider's Task is missing to a writer too.
        let sunrise = app.fhir(connecticket_domain::demo::SUNRISE_API_KEY, connecticket_domain::demo::SUNRISE_API_SECRET, "system/Task.crus").await;
        let body = json!([{"op": "replace", "path": "/status", "value": "completed"}]).to_string();
        let theirs = send(sunrise.http.patch(sunrise.url(&format!("Task/{id}"))).bearer_auth(&sunrise.token).header("content-type", "application/json-patch+json").body(body.clone())).await;
        let missing = send(sunrise.http.patch(sunrise.url("Task/999999999")).bearer_auth(&sunrise.token).header("content-type", "application/json-patch+json").body(body)).await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
        assert_eq!(theirs.bytes, missing.bytes);

        let entries = audited(&app, "the stale patch audited", |entries| {
            entries.iter().any(|e| e.action == Action::UpdateStatus && e.outcome == Outcome::Invalid)
        })
        .await;
        assert!(entries.iter().any(|e| e.action == Action::CreateTicket && e.outcome == Outcome::Success && e.application_id == Some(1)
            && e.records.iter().any(|r| *r == format!("ticket:{id}"))));
        assert!(entries.iter().any(|e| e.action == Action::UpdateStatus && e.outcome == Outcome::Invalid), "the stale patch is audited");
        assert!(fhir.validate_all() > 5);
    }

    async fn attachments_are_document_references_whose_binary_is_authorized_like_the_api() {
        use reqwest::multipart::{Form, Part};
        let app = TestApp::demo().await;
        let session = app.example().await;
        let photo: Vec<u8> = (0..=255u8).collect();
        let form = Form::new()
            .text("title", "Photo of the bruise")
            .text("resident_id", "889283349")
            .part("attachment", Part::bytes(photo.clone()).file_name("bruise.jpg").mime_str("image/jpeg").expect("mime"));
        let reply = send(session.post("create_ticket").multipart(form)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let ticket = reply.body["ticket_id"].as_i64().expect("id");
        let fhir = app.fhir(DEMO_API_KEY, DEMO_API_SECRET, "system/DocumentReference.rs system/Binary.r").await;
        let found = fhir.get(&format!("DocumentReference?related=Task/{ticket}")).await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.body);
        let document = &found.body["entry"][0]["resource"];
        let attachment = &document["content"][0]["attachment"];
        assert_eq!(attachment["contentType"], "image/jpeg");
        assert_eq!(attachment["size"], 256);
        assert_eq!(attachment["title"], "bruise.jpg");
        assert_eq!(document["subject"]["reference"], "Patient/889283349");
        let id = document["id"].as_str().expect("id").to_owned();
        assert_eq!(fhir.get(&format!("DocumentReference/{id}")).await.body, *document);

        // The link gives the file, to a token allowed Binary.
        let url = attachment["url"].as_str().expect("url").to_owned();
        let file = send(fhir.http.get(&url).bearer_auth(&fhir.token).header("accept", "image/jpeg")).await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(file.bytes, photo);
        assert_eq!(file.header("content-type"), Some("image/jpeg"));
        assert!(file.header("content-disposition").unwrap_or_default().starts_with("attachment"));
        let resource = fhir.get(&url).await;
        assert_eq!(resource.body["resourceType"], "Binary");
        assert_eq!(resource.body["contentType"], "image/jpeg");
        let anonymous = send(fhir.http.get(&url)).await;
        assert_outcome(&anonymous, StatusCode::UNAUTHORIZED, "login");
        let documents_only = app.fhir(DEMO_API_KEY, DEMO_API_SECRET, "system/DocumentReference.rs").await;
        assert_outcome(&send(documents_only.http.get(&url).bearer_auth(&documents_only.token)).await, StatusCode::FORBIDDEN, "forbidden");
        let sunrise = app.fhir(connecticket_domain::demo::SUNRISE_API_KEY, connecticket_domain::demo::SUNRISE_API_SECRET, "system/DocumentReference.rs system/Binary.r").await;
        for (theirs, missing) in [(format!("DocumentReference/{id}"), "DocumentReference/999999999"), (format!("Binary/{id}"), "Binary/999999999")] {
            let refused = sunrise.get(&theirs).await;
            assert_eq!(refused.status, StatusCode::NOT_FOUND, "{theirs}");
            assert_eq!(refused.bytes, sunrise.get(missing).await.bytes, "{theirs}");
        }
        let entries = audit_entries(&app).await;
        assert!(entries.iter().any(|e| e.action == Action::Attachment && e.outcome == Outcome::Success
            && e.records.iter().any(|r| *r == format!("attachment:{id}"))), "the download is audited as the API's");
        assert!(fhir.validate_all() >= 3);
    }

    async fn the_audit_trail_is_read_as_audit_events_only_by_applications_allowed_to() {
        let app = TestApp::demo().await;
        // Something of each provider's in the trail.
        app.example().await;
        let theirs_client = app.sunrise_fhir().await;
        theirs_client.get("Patient").await;

        let asked = request_token(&app, DEMO_API_KEY, DEMO_API_SECRET, "system/AuditEvent.rs system/Patient.rs").await;
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
        assert_eq!(asked.body["scope"], "system/Patient.rs", "not granted without leave");
        let alone = request_token(&app, DEMO_API_KEY, DEMO_API_SECRET, "system/AuditEvent.rs").await;
        assert_outcome(&alone, StatusCode::BAD_REQUEST, "invalid");

        let call = app.admin.within(Action::ManageApplications, DEMO_PROVIDER_ID).await;
        app.api.set_fhir_audit_access(call, ApplicationId(1), true).await.expect("granted");
        let auditor = app.fhir(DEMO_API_KEY, DEMO_API_SECRET, "system/AuditEvent.rs").await;
        let page = auditor.get("AuditEvent?_count=5").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let events = page.body["entry"].as_array().expect("entries").clone();
        assert_eq!(events.len(), 5);
        assert!(next_link(&page.body).is_some());
        // Every entry is the provider's own: Sunrise's reads are not there.
        let mut all = Vec::new();
        let mut next = Some("AuditEvent?_count=200".to_owned());
        while let Some(url) = next {
            let page = auditor.get(&url).await;
            all.extend(page.body["entry"].as_array().cloned().unwrap_or_default());
            next = next_link(&page.body);
        }
        let authorize = all.iter().find(|e| e["resource"]["subtype"][0]["code"] == "authorize").expect("the authorize entry");
        assert_eq!(authorize["resource"]["outcome"], "0");
        assert_eq!(authorize["resource"]["agent"][0]["who"]["display"], "application 1");
        let id = authorize["resource"]["id"].as_str().expect("id").to_owned();
        assert_eq!(auditor.get(&format!("AuditEvent/{id}")).await.body, authorize["resource"]);
        let read = all.iter().find(|e| e["resource"]["subtype"][0]["code"] == "fhir_search").expect("a FHIR search");
        assert_eq!(read["resource"]["action"], "R");
        let whose: Vec<String> = all.iter().map(|e| e["resource"]["agent"][0]["who"]["display"].as_str().unwrap_or_default().to_owned()).collect();
        assert!(!whose.iter().any(|who| who == "application 2"), "{whose:?}");
        let theirs = audit_entries(&app).await.into_iter().find(|e| e.provider_id == Some(connecticket_domain::demo::SUNRISE_PROVIDER_ID.get())).expect("a Sunrise entry");
        let refused = auditor.get(&format!("AuditEvent/{}", theirs.id)).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND);
        assert_eq!(refused.bytes, auditor.get("AuditEvent/999999999").await.bytes);
        assert_outcome(&auditor.get("AuditEvent?_summary=count").await, StatusCode::BAD_REQUEST, "invalid");

        // Withdrawn, the leave ends at once, live token or not.
        let call = app.admin.within(Action::ManageApplications, DEMO_PROVIDER_ID).await;
        app.api.set_fhir_audit_access(call, ApplicationId(1), false).await.expect("withdrawn");
        assert_outcome(&auditor.get("AuditEvent").await, StatusCode::FORBIDDEN, "forbidden");
        let entries = audit_entries(&app).await;
        assert!(entries.iter().any(|e| e.action == Action::ManageApplications && e.records.iter().any(|r| r == "fhir_audit:granted")));
        assert!(entries.iter().any(|e| e.action == Action::ManageApplications && e.records.iter().any(|r| r == "fhir_audit:withdrawn")));
        assert!(auditor.validate_all() >= 3);
    }

    async fn the_capability_statement_lists_exactly_what_is_served() {
        let app = TestApp::demo().await;
        let metadata = send(app.http.get(app.url("/fhir/R4/metadata"))).await;
        assert_eq!(metadata.status, StatusCode::OK, "{}", metadata.body);
        assert_eq!(metadata.body["fhirVersion"], "4.0.1");
        validate(std::slice::from_ref(&metadata.body)).unwrap_or_else(|refusal| panic!("{refusal}"));
        let token_url = metadata.body["rest"][0]["security"]["extension"][0]["extension"][0]["valueUri"].as_str().expect("token url").to_owned();
        assert_eq!(token_url, app.url("/fhir/R4/auth/token"));
        let smart = send(app.http.get(app.url("/fhir/R4/.well-known/smart-configuration"))).await;
        assert_eq!(smart.body["token_endpoint"], token_url.as_str());
        assert_eq!(smart.body["token_endpoint_auth_methods_supported"], json!(["client_secret_basic", "private_key_jwt"]));
        assert_eq!(smart.body["token_endpoint_auth_signing_alg_values_supported"], json!(["ES384", "RS384"]));

        // Every type listed answers its interactions; one not listed is 404.
        let every: Vec<String> = metadata.body["rest"][0]["resource"].as_array().expect("resources").iter().map(|r| r["type"].as_str().expect("type").to_owned()).collect();
        let scope: Vec<String> = every.iter().map(|kind| format!("system/{kind}.r")).collect();
        let fhir = app.fhir(DEMO_API_KEY, DEMO_API_SECRET, &scope.join(" ")).await;
        let call = app.admin.within(Action::ManageApplications, DEMO_PROVIDER_ID).await;
        app.api.set_fhir_audit_access(call, ApplicationId(1), true).await.expect("granted");
        let fhir_with_audit = app.fhir(DEMO_API_KEY, DEMO_API_SECRET, &scope.join(" ")).await;
        for resource in metadata.body["rest"][0]["resource"].as_array().expect("resources") {
            let kind = resource["type"].as_str().expect("type");
            let client = if kind == "AuditEvent" { &fhir_with_audit } else { &fhir };
            let read = client.get(&format!("{kind}/999999999")).await;
            assert_eq!(read.status, StatusCode::NOT_FOUND, "{kind}: {}", read.body);
            assert_eq!(read.body["issue"][0]["diagnostics"], format!("No such {kind}"), "{kind} is routed");
            let searches = resource["interaction"].as_array().expect("interactions").iter().any(|i| i["code"] == "search-type");
            let searched = client.get(kind).await;
            if searches {
                assert_ne!(searched.status, StatusCode::NOT_FOUND, "{kind} search is served");
            } else {
                assert!(matches!(searched.status, StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED), "{kind} has no search");
            }
        }
        assert_eq!(every.len(), 10, "{every:?}");
        let unknown = fhir.get("Observation/1").await;
        assert_outcome(&unknown, StatusCode::NOT_FOUND, "not-found");
        assert_ne!(unknown.body["issue"][0]["diagnostics"], "No such Observation");
        let _ = fhir.validate_all();
    }

    async fn an_administrator_manages_fhir_keys_and_audit_leave_in_the_console() {
        let app = TestApp::demo().await;
        let keys = TestKeys::generate();
        let admin = crate::support::Console::demo(&app, "sample@example.org").await;
        const PAGE: &str = "/console/admin/applications";
        let page = admin.get(PAGE).await;
        assert!(page.body.contains("No signing keys") && page.body.contains("No audit trail"), "{}", page.body);

        // A private key is refused, with the pasted text kept.
        let mut private: Value = serde_json::from_str(&keys.jwks).expect("jwks");
        private["keys"][0]["d"] = json!("c2VjcmV0");
        let private = private.to_string();
        let refused = admin.submit(PAGE, "/console/admin/applications/1/fhir-keys", &[("form", "keys-1"), ("jwks", &private)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert!(refused.body.contains("private material"), "{}", refused.body);
        assert!(refused.body.contains("c2VjcmV0"), "the pasted keys are kept to correct");
        assert!(refused.body.contains("<details open>"), "the form stays open");

        let saved = admin.submit(PAGE, "/console/admin/applications/1/fhir-keys", &[("form", "keys-1"), ("jwks", &keys.jwks)]).await;
        assert_eq!(saved.location(), Some("/console/admin/applications?done=keys"));
        let page = admin.get("/console/admin/applications?done=keys").await;
        assert!(page.body.contains("Signing keys saved.") && page.body.contains("2 signing keys"), "{}", page.body);
        let audience = app.url("/fhir/R4/auth/token");
        let assertion = sign_assertion(&keys.es384_pem, "ES384", Some("test-es384"), DEMO_API_KEY, &audience, "console-1", 120);
        assert_eq!(request_token_by_assertion(&app, &assertion, "system/Patient.rs").await.status, StatusCode::OK);

        // Leave to read the audit trail is asked for once more, then given.
        let asked = admin.submit(PAGE, "/console/admin/applications/1/fhir-audit", &[("allow", "yes")]).await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(asked.body.contains("read the audit trail?"), "{}", asked.body);
        assert!(!app.api.fhir_access(app.admin.within(Action::Applications, DEMO_PROVIDER_ID).await).await.expect("standing")[0].audit_trail, "not before the confirmation");
        let granted = admin.post("/console/admin/applications/1/fhir-audit?allow=yes", &[("csrf", asked.csrf().expect("csrf").as_str()), ("confirmed", "yes")]).await;
        assert_eq!(granted.location(), Some("/console/admin/applications?done=audit-granted"), "{}", granted.body);
        let page = admin.get(PAGE).await;
        assert!(page.body.contains("May read the audit trail"));
        let token = request_token(&app, DEMO_API_KEY, DEMO_API_SECRET, "system/AuditEvent.rs").await;
        assert_eq!(token.body["scope"], "system/AuditEvent.rs", "{}", token.body);
        let withdrawn = admin.submit(PAGE, "/console/admin/applications/1/fhir-audit", &[("allow", "no")]).await;
        assert_eq!(withdrawn.location(), Some("/console/admin/applications?done=audit-withdrawn"));
        let removed = admin.submit(PAGE, "/console/admin/applications/1/fhir-keys", &[("form", "keys-1"), ("remove", "1")]).await;
        assert_eq!(removed.location(), Some("/console/admin/applications?done=keys"));
        assert!(admin.get(PAGE).await.body.contains("No signing keys"));

        // Each change is audited under the administrator.
        let entries = audit_entries(&app).await;
        for record in ["fhir_keys:2", "fhir_audit:granted", "fhir_audit:withdrawn", "fhir_keys:0"] {
            assert!(entries.iter().any(|e| e.action == Action::ManageApplications && e.outcome == Outcome::Success
                && e.employee_id.is_some() && e.records.iter().any(|r| r == record)), "{record}");
        }
    }
}

/// Runs docs/examples/fhir-client.{sh,rb,py} against a demo server; each
/// prints the token's answer, a Patient search and a Task with its Patient.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_docs_fhir_examples_run_in_three_languages_and_agree() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    let app = TestApp::demo().await;
    let mut printed = Vec::new();
    for (program, file) in [
        ("sh", "fhir-client.sh"),
        ("ruby", "fhir-client.rb"),
        ("python3", "fhir-client.py"),
    ] {
        let (base, path) = (app.base.clone(), examples.join(file));
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new(program)
                .arg(path)
                .env("BASE", base)
                .env("API_KEY", DEMO_API_KEY)
                .env("API_SECRET", DEMO_API_SECRET)
                .output()
        })
        .await
        .expect("join");
        let output = match output {
            Ok(output) => output,
            Err(error) => {
                assert!(
                    std::env::var("CONNECTICKET_TEST_DOCS_REQUIRED").is_err(),
                    "{program}: {error}"
                );
                eprintln!("skipped the {program} example: {error}");
                continue;
            }
        };
        assert!(
            output.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|_| panic!("{file} printed {line}"))
            })
            .collect();
        assert_eq!(lines.len(), 3, "{file}");
        assert_eq!(
            lines[0],
            json!({"access_token": "…", "token_type": "bearer", "expires_in": 300, "scope": "system/Patient.rs system/Task.rs"}),
            "{file}"
        );
        let demo_residents: Vec<String> = [DEMO_RESIDENT_IDS[1], DEMO_RESIDENT_IDS[0]]
            .iter()
            .map(|id| id.get().to_string())
            .collect();
        assert_eq!(ids(&lines[1], "Patient"), demo_residents, "{file}");
        assert_eq!(ids(&lines[2], "Task"), vec!["201".to_owned()], "{file}");
        assert_eq!(ids(&lines[2], "Patient").len(), 1, "{file}");
        validate(&lines[1..]).unwrap_or_else(|refusal| panic!("{file}: {refusal}"));
        // The Bundles' own stamps aside, every language saw the same.
        let mut lines = lines;
        for bundle in &mut lines[1..] {
            bundle.as_object_mut().expect("bundle").remove("meta");
        }
        printed.push(lines);
    }
    assert!(
        printed.windows(2).all(|pair| pair[0] == pair[1]),
        "the languages disagree"
    );
}
