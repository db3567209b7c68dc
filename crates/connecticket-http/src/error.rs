//! The one conversion from every failure into the envelope.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use thiserror::Error;

use crate::envelope::failure;
use connecticket_domain::DomainError;

#[derive(Debug, Error)]
pub enum HttpError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The body is not what its content type says (malformed JSON,
    /// multipart or form encoding); the message says what is wrong.
    #[error("{0}")]
    MalformedBody(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("unsupported content type; send application/x-www-form-urlencoded, multipart/form-data or application/json")]
    UnsupportedMediaType,
    #[error("Not Found")]
    NotFound,
    #[error("Method Not Allowed")]
    MethodNotAllowed,
    /// A fault of ours; the detail goes to the log only.
    #[error("{0}")]
    Internal(String),
}

/// Carried on a 500 response so the access log can record the cause next to
/// the request id while the client sees only a generic message.
#[derive(Debug, Clone)]
pub struct InternalErrorDetail(pub String);

impl HttpError {
    pub fn status(&self) -> StatusCode {
        match self {
            HttpError::Domain(error) => match error {
                DomainError::InvalidApiCredentials | DomainError::InvalidCredentials => {
                    StatusCode::UNAUTHORIZED
                }
                DomainError::NotFound(_) => StatusCode::NOT_FOUND,
                DomainError::InvalidParameter(_) | DomainError::IdempotencyKeyReused => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                DomainError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                DomainError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                DomainError::Conflict(_) => StatusCode::CONFLICT,
                DomainError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            HttpError::MalformedBody(_) => StatusCode::UNPROCESSABLE_ENTITY,
            HttpError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            HttpError::NotFound => StatusCode::NOT_FOUND,
            HttpError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            HttpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The access log replaces this body with one that names the
            // request id, and logs the detail.
            let mut response = failure(status, "Internal Server Error");
            response
                .extensions_mut()
                .insert(InternalErrorDetail(self.to_string()));
            return response;
        }
        let mut response = failure(status, &self.to_string());
        if let HttpError::Domain(DomainError::RateLimited { retry_after_secs }) = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}
