//! `/docs`: the API's guide in the spirit of the seed's page. An
//! introduction, authentication, then every call in the order a newcomer
//! makes them, with its parameters, examples side by side in shell (curl),
//! Ruby (net/http) and Python (requests), and the answer. Self-contained:
//! one HTML page with its style inline, nothing fetched.

pub mod examples;

use std::sync::LazyLock;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

pub use examples::{Example, Method, EXAMPLES, VOLATILE_KEYS};

use crate::error::HttpError;

pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;\
background:#fafafa;line-height:1.5}main{max-width:78rem;margin:0 auto;padding:1rem 1.5rem}\
h1{font-size:1.8rem}h2{margin-top:2.5rem;border-top:1px solid #ddd;padding-top:1rem}\
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}\
pre{background:#f0f0f0;padding:.75rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}\
.examples{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1rem}\
.examples h3,.answer h3{font-size:.95rem;margin:.5rem 0 .25rem}table{border-collapse:collapse}\
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}\
nav a{margin-right:.75rem;display:inline-block}.method{font-weight:bold;color:#0b5cad}";

static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; frame-ancestors 'none'"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
});

/// An example as the page shows it.
struct Shown {
    example: &'static Example,
    shell: String,
    ruby: String,
    python: String,
    answer: String,
}

#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage {
    calls: Vec<Shown>,
    /// The published demo credentials, shown only by a demo server: a
    /// real deployment's page tells its reader to use their own.
    demo: Option<(&'static str, &'static str)>,
    /// The FHIR client examples: shell, Ruby, Python.
    fhir: (&'static str, &'static str, &'static str),
}

/// docs/examples' FHIR clients, shown as they are (the suite runs them).
pub const FHIR_EXAMPLES: (&str, &str, &str) = (
    include_str!("../../../../docs/examples/fhir-client.sh"),
    include_str!("../../../../docs/examples/fhir-client.rb"),
    include_str!("../../../../docs/examples/fhir-client.py"),
);

fn pretty(answer: &str) -> String {
    serde_json::from_str::<serde_json::Value>(answer)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|_| answer.to_owned())
}

fn render(demo: bool) -> Result<String, String> {
    let calls = EXAMPLES
        .iter()
        .map(|example| Shown {
            example,
            shell: example.shell(),
            ruby: example.ruby(),
            python: example.python(),
            answer: pretty(example.answer),
        })
        .collect();
    DocsPage {
        calls,
        demo: demo.then_some((
            connecticket_domain::demo::DEMO_API_KEY,
            connecticket_domain::demo::DEMO_API_SECRET,
        )),
        fhir: FHIR_EXAMPLES,
    }
    .render()
    .map_err(|error| error.to_string())
}

static DEMO_PAGE: LazyLock<Result<String, String>> = LazyLock::new(|| render(true));
static PAGE: LazyLock<Result<String, String>> = LazyLock::new(|| render(false));

/// `GET /docs`
pub(crate) async fn page(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
) -> Response {
    let page = if state.demo { &*DEMO_PAGE } else { &*PAGE };
    match page {
        Ok(html) => {
            let mut response = (StatusCode::OK, html.clone()).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
            response
        }
        Err(error) => {
            HttpError::Internal(format!("the docs page did not render: {error}")).into_response()
        }
    }
}
