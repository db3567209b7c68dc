//! The FHIR R4 facade at `/fhir/R4` (docs/FHIR.md): residents as Patient,
//! tickets as Task, the provider's categories as a CodeSystem, behind
//! OAuth client credentials with SMART system scopes.
//!
//! Handlers fail with [`HttpError`](crate::error::HttpError) like the
//! API's; [`outcome::speak_fhir`] turns every failure under `/fhir/` —
//! whether from a handler, the router or the guard in front of it — into
//! an `OperationOutcome`, in one place.

mod audit_event;
mod auth;
mod bundle;
mod capability;
mod codes;
mod communication;
mod document;
mod flag;
pub(crate) mod outcome;
mod params;
mod patient;
mod person;
mod request;
mod task;
mod task_write;

use axum::routing::{get, post};
use axum::Router;

use crate::error::HttpError;
use crate::state::AppState;

pub(crate) use outcome::speak_fhir;

/// Where the facade lives.
pub(crate) const BASE_PATH: &str = "/fhir/R4";

/// FHIR's JSON media type, which every answer here carries.
pub(crate) const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

pub(crate) fn router() -> Router<AppState> {
    let routes = Router::new()
        .route("/metadata", get(capability::metadata))
        .route(
            "/.well-known/smart-configuration",
            get(capability::smart_configuration),
        )
        .route("/auth/token", post(auth::token))
        .route("/Patient", get(patient::search))
        .route("/Patient/{id}", get(patient::read))
        .route("/Task", get(task::search).post(task_write::create))
        .route("/Task/{id}", get(task::read).patch(task_write::patch))
        .route("/Task/{id}/_history/{version}", get(task::vread))
        .route("/Flag", get(flag::search))
        .route("/Flag/{id}", get(flag::read))
        .route("/RelatedPerson", get(person::search_related))
        .route("/RelatedPerson/{id}", get(person::read_related))
        .route("/Practitioner", get(person::search_practitioner))
        .route("/Practitioner/{id}", get(person::read_practitioner))
        .route("/Communication", get(communication::search))
        .route("/Communication/{id}", get(communication::read))
        .route("/DocumentReference", get(document::search))
        .route("/DocumentReference/{id}", get(document::read))
        .route("/Binary/{id}", get(document::binary))
        .route("/AuditEvent", get(audit_event::search))
        .route("/AuditEvent/{id}", get(audit_event::read))
        .route("/CodeSystem/{id}", get(codes::read))
        .fallback(|| async { HttpError::NotFound })
        .method_not_allowed_fallback(|| async { HttpError::MethodNotAllowed });
    Router::new().nest(BASE_PATH, routes)
}

/// An instant as FHIR writes it (UTC, to the second).
pub(crate) fn instant(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A weak ETag for a version: `W/"3"`.
pub(crate) fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// A read's answer: the resource with its `ETag` and `Last-Modified`, or
/// 304 without a body when `If-None-Match` names the current version.
pub(crate) fn versioned_answer(
    request: &request::FhirRequest,
    resource: &serde_json::Value,
    version: i64,
    last_updated: chrono::DateTime<chrono::Utc>,
) -> axum::response::Response {
    versioned_answer_tagged(request, resource, &etag(version), Some(last_updated))
}

/// As [`versioned_answer`], for a resource whose version is not a count.
pub(crate) fn versioned_answer_tagged(
    request: &request::FhirRequest,
    resource: &serde_json::Value,
    tag: &str,
    last_updated: Option<chrono::DateTime<chrono::Utc>>,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let unchanged = request
        .parts
        .headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| {
            candidate == "*" || candidate.trim_start_matches("W/") == tag.trim_start_matches("W/")
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        outcome::fhir_json(StatusCode::OK, resource)
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(tag) {
        headers.insert(header::ETAG, value);
    }
    if let Some(last_updated) = last_updated {
        let modified = last_updated.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        if let Ok(value) = HeaderValue::from_str(&modified) {
            headers.insert(header::LAST_MODIFIED, value);
        }
    }
    response
}

/// A version for a resource whose record keeps no counter: a digest of
/// what is served, so it changes exactly when the resource does.
pub(crate) fn content_version(resource: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(serde_json::to_vec(resource).unwrap_or_default());
    digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Stamps `meta` with the content's digest as its version, and when the
/// record last changed if that is known; answers the version.
pub(crate) fn stamp_version(
    resource: &mut serde_json::Value,
    last_updated: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    let version = content_version(resource);
    resource["meta"] = serde_json::json!({"versionId": version});
    if let Some(at) = last_updated {
        resource["meta"]["lastUpdated"] = serde_json::json!(instant(at));
    }
    version
}
