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

/// Whether Python has what the FHIR checks need (`jsonschema`,
/// `fhir.resources`, and for the client test `fhirpy`). Without them the
/// checks skip themselves, saying so, unless
/// `CONNECTICKET_TEST_FHIR_REQUIRED` is set (as CI sets it): then a
/// missing tool fails the test.
pub fn fhir_tools(modules: &str) -> bool {
    let present = std::process::Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|output| output.status.success());
    if !present {
        assert!(
            std::env::var("CONNECTICKET_TEST_FHIR_REQUIRED").is_err(),
            "python3 with {modules} is required (pip install jsonschema fhir.resources fhirpy)"
        );
        eprintln!(
            "skipped: python3 lacks {modules} (pip install jsonschema fhir.resources fhirpy)"
        );
    }
    present
}

/// Checks each resource with `fhir/validate.py`: `Ok(count)` when all
/// pass, otherwise what it refused and why. Without the validator's
/// tools (see [`fhir_tools`]), answers `Ok` unchecked.
pub fn validate(resources: &[Value]) -> Result<usize, String> {
    use std::io::Write;
    static TOOLS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*TOOLS.get_or_init(|| fhir_tools("jsonschema, fhir.resources")) {
        return Ok(resources.len());
    }
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

/// Signing keys for SMART client assertions, made fresh by `openssl` for
/// a test: an ES384 and an RS384 key whose public halves are `jwks`, and
/// an ES384 key nobody registers.
pub struct TestKeys {
    pub es384_pem: Vec<u8>,
    pub rs384_pem: Vec<u8>,
    pub unregistered_pem: Vec<u8>,
    /// The JWK Set of the first two (kids `test-es384`, `test-rs384`).
    pub jwks: String,
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let output = std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

impl TestKeys {
    pub fn generate() -> TestKeys {
        let dir = std::env::temp_dir().join(format!("connecticket-keys-{}", uuid_like()));
        std::fs::create_dir_all(&dir).expect("a key directory");
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let ec = |name: &str| {
            let raw = openssl(&["ecparam", "-name", "secp384r1", "-genkey", "-noout"]);
            std::fs::write(path(&format!("{name}.sec1")), raw).expect("write");
            openssl(&[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                &path(&format!("{name}.sec1")),
            ])
        };
        let es384_pem = ec("es384");
        let unregistered_pem = ec("other");
        let rs384_pem = openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ]);
        std::fs::write(path("es384.pem"), &es384_pem).expect("write");
        std::fs::write(path("rs384.pem"), &rs384_pem).expect("write");
        let der = openssl(&[
            "pkey",
            "-in",
            &path("es384.pem"),
            "-pubout",
            "-outform",
            "DER",
        ]);
        let point = &der[der.len() - 97..];
        assert_eq!(point[0], 4, "an uncompressed P-384 point");
        let modulus = openssl(&["rsa", "-in", &path("rs384.pem"), "-noout", "-modulus"]);
        let modulus = String::from_utf8_lossy(&modulus);
        let hex = modulus.trim().trim_start_matches("Modulus=");
        let n: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let jwks = serde_json::json!({"keys": [
            {"kty": "EC", "crv": "P-384", "kid": "test-es384", "use": "sig", "alg": "ES384",
             "x": b64(&point[1..49]), "y": b64(&point[49..])},
            {"kty": "RSA", "kid": "test-rs384", "use": "sig", "alg": "RS384", "n": b64(&n), "e": "AQAB"},
        ]});
        let _ = std::fs::remove_dir_all(&dir);
        TestKeys {
            es384_pem,
            rs384_pem,
            unregistered_pem,
            jwks: jwks.to_string(),
        }
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{nanos}", std::process::id())
}

/// A client assertion as a SMART backend service signs it: `iss` and
/// `sub` the client id, `aud` the token endpoint, `jti`, and `exp`
/// `expires_in_secs` from now. `alg` is `ES384` or `RS384`.
pub fn sign_assertion(
    pem: &[u8],
    alg: &str,
    kid: Option<&str>,
    client_id: &str,
    audience: &str,
    jti: &str,
    expires_in_secs: i64,
) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let (algorithm, key) = match alg {
        "ES384" => (Algorithm::ES384, EncodingKey::from_ec_pem(pem)),
        _ => (Algorithm::RS384, EncodingKey::from_rsa_pem(pem)),
    };
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    let claims = serde_json::json!({
        "iss": client_id, "sub": client_id, "aud": audience, "jti": jti,
        "exp": chrono::Utc::now().timestamp() + expires_in_secs,
    });
    jsonwebtoken::encode(&header, &claims, &key.expect("a test key")).expect("signed")
}

/// Asks the token endpoint with a client assertion.
pub async fn request_token_by_assertion(app: &TestApp, assertion: &str, scope: &str) -> Reply {
    send(app.http.post(app.url("/fhir/R4/auth/token")).form(&[
        ("grant_type", "client_credentials"),
        ("scope", scope),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ]))
    .await
}
