//! A client of the FHIR facade that keeps every resource it is given, and
//! the validator every one of them must pass: HL7's R4 JSON schema and
//! `fhir.resources`' models (`fhir/validate.py`).

use std::sync::{Arc, Mutex};

use base64::Engine;
use reqwest::StatusCode;
use serde_json::Value;

use crate::{send, Reply, TestApp};

/// The scopes tests ask for unless they test scopes.
pub const ALL_READS: &str = "system/Patient.rs system/Task.rs system/CodeSystem.rs";

/// A bearer token's client.
#[derive(Clone)]
pub struct FhirClient {
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    seen: Arc<Mutex<Vec<Value>>>,
}

/// Asks the token endpoint, as a client_secret_basic client does.
pub async fn request_token(app: &TestApp, api_key: &str, api_secret: &str, scope: &str) -> Reply {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{api_key}:{api_secret}"));
    send(
        app.http
            .post(app.url("/fhir/R4/auth/token"))
            .header("authorization", format!("Basic {basic}"))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)]),
    )
    .await
}

impl TestApp {
    /// A FHIR client of an application, holding the scopes asked for.
    pub async fn fhir(&self, api_key: &str, api_secret: &str, scope: &str) -> FhirClient {
        let reply = request_token(self, api_key, api_secret, scope).await;
        assert_eq!(reply.status, StatusCode::OK, "token: {}", reply.body);
        FhirClient {
            base: self.url("/fhir/R4"),
            http: self.http.clone(),
            token: reply.body["access_token"]
                .as_str()
                .expect("token")
                .to_owned(),
            seen: Arc::default(),
        }
    }

    /// The demo's Example Provider as a FHIR client with every read.
    pub async fn example_fhir(&self) -> FhirClient {
        use connecticket_domain::demo;
        self.fhir(demo::DEMO_API_KEY, demo::DEMO_API_SECRET, ALL_READS)
            .await
    }

    /// The second demo provider as a FHIR client with every read.
    pub async fn sunrise_fhir(&self) -> FhirClient {
        use connecticket_domain::demo;
        self.fhir(demo::SUNRISE_API_KEY, demo::SUNRISE_API_SECRET, ALL_READS)
            .await
    }
}

impl FhirClient {
    /// `path` under the base, or an absolute URL (a `next` link).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}/{}", self.base, path.trim_start_matches('/'))
        }
    }

    pub fn request(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .header("accept", "application/fhir+json")
    }

    /// GETs `path`; every JSON body it answers is kept for [`validate`].
    pub async fn get(&self, path: &str) -> Reply {
        self.keep(send(self.request(path)).await)
    }

    /// Keeps a reply's body for validation, if it has one.
    pub fn keep(&self, reply: Reply) -> Reply {
        if reply.body.is_object() {
            self.seen.lock().expect("lock").push(reply.body.clone());
        }
        reply
    }

    /// Every resource this client was given, validated; answers how many.
    pub fn validate_all(&self) -> usize {
        let seen = self.seen.lock().expect("lock").clone();
        validate(&seen).unwrap_or_else(|refusals| panic!("invalid FHIR:\n{refusals}"))
    }
}

/// Checks each resource with `fhir/validate.py`: `Ok(count)` when all
/// pass, otherwise what it refused and why.
pub fn validate(resources: &[Value]) -> Result<usize, String> {
    use std::io::Write;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fhir/validate.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (pip install jsonschema fhir.resources)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&serde_json::to_vec(resources).expect("json"))
        .expect("write");
    let output = child.wait_with_output().expect("python3");
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        let count = printed
            .trim()
            .strip_prefix("valid ")
            .and_then(|n| n.parse().ok());
        count.ok_or(printed)
    } else {
        Err(format!(
            "{printed}{}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
