//! Clients of the published API: sessions that carry an application's
//! credentials and token, and replies with their JSON bodies.

use connecticket_domain::demo;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use crate::eventually;

/// Form parameters, as tests write them.
pub type Fields<'a> = Vec<(&'a str, &'a str)>;

/// An authorized client of one application.
#[derive(Clone)]
pub struct Session {
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    pub api_key: String,
    pub api_secret: String,
}

impl Session {
    /// The same session, its requests sent from `local` (a loopback
    /// address of its own, to be another client to the server).
    pub fn from_address(&self, local: std::net::IpAddr) -> Session {
        Session {
            http: reqwest::Client::builder()
                .local_address(local)
                .build()
                .expect("a client"),
            ..self.clone()
        }
    }

    pub fn url(&self, call: &str) -> String {
        format!("{}/api/{}/{call}", self.base, self.token)
    }

    /// The request target of a call (the path with its token).
    pub fn target(&self, call: &str) -> String {
        format!("/api/{}/{call}", self.token)
    }

    /// The credential headers every call carries.
    pub fn credentials(&self) -> [(&str, &str); 2] {
        [("api_key", &self.api_key), ("api_secret", &self.api_secret)]
    }

    fn signed(&self, request: RequestBuilder) -> RequestBuilder {
        request
            .header("api_key", &self.api_key)
            .header("api_secret", &self.api_secret)
    }

    pub fn get(&self, call: &str) -> RequestBuilder {
        self.signed(self.http.get(self.url(call)))
    }

    pub fn post(&self, call: &str) -> RequestBuilder {
        self.signed(self.http.post(self.url(call)))
    }

    /// Creates a ticket from form parameters and returns its id.
    pub async fn create_ticket(&self, form: &[(&str, &str)]) -> i64 {
        let reply = send(self.post("create_ticket").form(form)).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "create_ticket: {}",
            reply.body
        );
        reply.body["ticket_id"].as_i64().expect("ticket_id")
    }

    pub async fn detail(&self, id: i64) -> Reply {
        send(self.get(&format!("ticket_detail?id={id}"))).await
    }
}

/// A response with its JSON body (or `Value::Null` if it was not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the contract's failure envelope.
    pub fn assert_failure(&self, status: StatusCode, message: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(
            self.body,
            serde_json::json!({"status": false, "message": message}),
            "for status {status}"
        );
    }

    /// Asserts a failure whose message starts with `prefix`.
    pub fn assert_failure_starting(&self, status: StatusCode, prefix: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["status"], Value::Bool(false));
        let message = self.body["message"].as_str().expect("message");
        assert!(
            message.starts_with(prefix),
            "message {message:?} should start with {prefix:?}"
        );
    }
}

pub async fn send(request: RequestBuilder) -> Reply {
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body").to_vec();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        bytes,
    }
}

/// Sends `request()` until the server refuses it, and returns the refusal.
/// Each instance trusts a token record it read for the rest of that clock
/// second (docs/SECURITY.md), so a revocation made by another process takes
/// effect within a second rather than at once.
pub async fn once_refused(request: impl Fn() -> RequestBuilder) -> Reply {
    eventually(
        "the revocation to reach the server's token cache",
        || async {
            let reply = send(request()).await;
            (reply.status != StatusCode::OK).then_some(reply)
        },
    )
    .await
}

/// An authorized client of a server process, for the demo application.
pub async fn demo_session(http: &reqwest::Client, base: &str) -> Session {
    let reply = send(
        http.post(format!("{base}/api/authorize"))
            .header("api_key", demo::DEMO_API_KEY)
            .header("api_secret", demo::DEMO_API_SECRET),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "authorize: {}", reply.body);
    Session {
        base: base.to_owned(),
        http: http.clone(),
        token: reply.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned(),
        api_key: demo::DEMO_API_KEY.to_owned(),
        api_secret: demo::DEMO_API_SECRET.to_owned(),
    }
}
