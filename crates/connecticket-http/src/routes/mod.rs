//! One module per group of contract calls.

pub(crate) mod attachments;
pub(crate) mod authorize;
pub(crate) mod categories;
pub(crate) mod comments;
pub(crate) mod residents;
pub(crate) mod tickets;

use axum::http::HeaderValue;
use axum::response::Response;
use connecticket_domain::store::Written;

/// Marks an answer replayed for a repeated `Idempotency-Key`; the body is
/// the first answer's.
pub(crate) fn mark_replay<T>(written: &Written<T>, mut response: Response) -> Response {
    if matches!(written, Written::Replayed(_)) {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}
