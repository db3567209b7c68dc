//! The access log, and the request id every answer carries.
//!
//! What is logged is chosen, not filtered: the route template (so the access
//! token in the path never appears), the method, the status and the time
//! taken. Query strings and bodies, which carry patient data, are never
//! logged. A 500's cause is logged here, next to the request id the client
//! sees.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::envelope;
use crate::error::InternalErrorDetail;
use crate::wire::answers::Failure;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
const MAX_REQUEST_ID: usize = 64;

/// Keeps a caller's request id only if it is short and plain, so a log line
/// cannot be forged or flooded through it.
fn caller_request_id(request: &Request) -> Option<String> {
    let id = request.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    let plain = !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    plain.then(|| id.to_owned())
}

/// A method as a metrics label: the standard ones by name, anything a
/// client invents as `other`, so that no client can grow the series.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The request's id, as the client will see it in `X-Request-Id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn log_request(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id =
        caller_request_id(&request).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let method_label = method_label(request.method());
    let span = tracing::info_span!(
        "request",
        request.id = %request_id,
        http.method = %method,
        http.route = %route,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        let cause = response
            .extensions()
            .get::<InternalErrorDetail>()
            .map_or("unknown", |detail| detail.0.as_str())
            .to_owned();
        tracing::error!(parent: &span, error.cause = %cause, "request failed");
        let message = format!("Internal Server Error (request id {request_id})");
        response = envelope::json(
            status,
            &Failure {
                message: &message,
                request_id: Some(&request_id),
                status: false,
            },
        );
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let elapsed = started.elapsed();
    tracing::info!(
        parent: &span,
        http.status = status.as_u16(),
        latency_ms = elapsed.as_millis() as u64,
        "request"
    );
    // Labelled by route template, method and status: never a token, an
    // id or an address.
    metrics::counter!(
        "connecticket_http_requests_total",
        "route" => route.clone(),
        "method" => method_label,
        "status" => status.as_str().to_owned(),
    )
    .increment(1);
    metrics::histogram!(
        "connecticket_http_request_duration_seconds",
        "route" => route,
        "method" => method_label,
    )
    .record(elapsed.as_secs_f64());
    response
}
