//! The contract's JSON envelope.

use crate::wire::answers::{Done, Failure, Success};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Any serialisable body as `application/json; charset=utf-8`.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(JSON_CONTENT_TYPE),
            )],
            bytes,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "could not serialise a response");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

/// `{"status": "Success", "message": …}`
pub fn success_message(message: &str) -> Response {
    json(
        StatusCode::OK,
        &Done {
            message,
            status: Success::Success,
        },
    )
}

/// `{"status": false, "message": …}`
pub fn failure(status: StatusCode, message: &str) -> Response {
    json(
        status,
        &Failure {
            message,
            request_id: None,
            status: false,
        },
    )
}
