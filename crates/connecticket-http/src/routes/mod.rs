//! One module per group of contract calls. Each handler names the audit
//! action of its call.

pub(crate) mod ack_page;
pub(crate) mod attachments;
pub(crate) mod authorize;
pub(crate) mod categories;
pub(crate) mod comments;
pub(crate) mod events;
pub(crate) mod gateway;
pub(crate) mod notifications;
pub(crate) mod operations;
pub(crate) mod residents;
pub(crate) mod tickets;

use axum::http::HeaderValue;
use axum::response::Response;
use connecticket_domain::store::Written;

/// Marks an answer replayed for a repeated `Idempotency-Key`; the body is
/// the first answer's.
pub(crate) fn mark_replay<T>(written: &Written<T>, mut response: Response) -> Response {
    if written.is_replay() {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// For calls whose parameters are all optional or that take none.
pub(crate) fn no_input(
    _: crate::wire::RequestParams,
    _: &axum::http::request::Parts,
) -> Result<(), crate::error::HttpError> {
    Ok(())
}
