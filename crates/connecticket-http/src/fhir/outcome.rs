//! Every failure under `/fhir/` as an `OperationOutcome`, and the shape of
//! every answer there.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::{json, Value};

use super::FHIR_JSON;
use crate::envelope::JSON_CONTENT_TYPE;

/// The largest failure body read back to be restated (the envelope's are
/// a few hundred bytes).
const MAX_FAILURE_BYTES: usize = 16 * 1024;

/// A resource or Bundle as `application/fhir+json`.
pub(crate) fn fhir_json(status: StatusCode, resource: &Value) -> Response {
    match serde_json::to_vec(resource) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
            bytes,
        )
            .into_response(),
        Err(error) => crate::error::HttpError::Internal(error.to_string()).into_response(),
    }
}

/// FHIR's issue type for an HTTP status (`OperationOutcome.issue.code`).
fn issue_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "login",
        403 => "forbidden",
        404 | 410 => "not-found",
        405 | 406 | 415 => "not-supported",
        408 => "timeout",
        409 | 412 => "conflict",
        413 | 431 => "too-long",
        429 => "throttled",
        500 => "exception",
        503 => "transient",
        _ => "invalid",
    }
}

pub(crate) fn operation_outcome(status: StatusCode, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{
            "severity": if status.is_server_error() { "fatal" } else { "error" },
            "code": issue_code(status),
            "diagnostics": diagnostics,
        }]
    })
}

/// Restates a failure answered in the API's envelope, under `/fhir/`, as
/// an `OperationOutcome` with the same status, message and headers
/// (`Retry-After`, `Connection: close`, the request id); a 401 also says
/// that a bearer token is expected.
pub(crate) async fn speak_fhir(request: Request, next: Next) -> Response {
    let under_fhir = request.uri().path().starts_with("/fhir/");
    // The token endpoint takes client credentials; everything else a
    // bearer token.
    let challenge = if request.uri().path().ends_with("/auth/token") {
        "Basic realm=\"fhir\""
    } else {
        "Bearer realm=\"fhir\""
    };
    let response = next.run(request).await;
    let enveloped = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value == JSON_CONTENT_TYPE);
    if !under_fhir || !enveloped || response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let message = match http_body_util::Limited::new(body, MAX_FAILURE_BYTES)
        .collect()
        .await
    {
        Ok(collected) => serde_json::from_slice::<Value>(&collected.to_bytes())
            .ok()
            .and_then(|body| body.get("message")?.as_str().map(str::to_owned)),
        Err(_) => None,
    };
    let message = message.unwrap_or_else(|| {
        parts
            .status
            .canonical_reason()
            .unwrap_or("failed")
            .to_owned()
    });
    let outcome = operation_outcome(parts.status, &message);
    let bytes = serde_json::to_vec(&outcome).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    if parts.status == StatusCode::UNAUTHORIZED {
        parts.headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    Response::from_parts(parts, Body::from(bytes))
}
