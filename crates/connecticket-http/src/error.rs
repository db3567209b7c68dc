//! The one conversion from every failure into the envelope. Domain errors
//! name fields by their domain names; here they are spelled the way the
//! API's clients send them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use connecticket_domain::audit::Outcome;
use connecticket_domain::{DomainError, Field, Problem};
use thiserror::Error;

use crate::envelope::failure;

#[derive(Debug, Error)]
pub enum HttpError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A parameter is missing or malformed; the message names it.
    #[error("{0}")]
    InvalidParameter(String),
    /// The body is not what its content type says (malformed JSON,
    /// multipart or form encoding); the message says what is wrong.
    #[error("{0}")]
    MalformedBody(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("unsupported content type; send application/x-www-form-urlencoded, multipart/form-data or application/json")]
    UnsupportedMediaType,
    /// As `UnsupportedMediaType`, for a call that takes other types.
    #[error("unsupported content type; send {0}")]
    UnsupportedMediaTypeOf(String),
    #[error("Not Found")]
    NotFound,
    #[error("Method Not Allowed")]
    MethodNotAllowed,
    /// A request this server cannot process as asked (a FHIR search
    /// parameter it does not support): 400, the message says why.
    #[error("{0}")]
    BadRequest(String),
    /// The client accepts no format this server speaks.
    #[error("{0}")]
    NotAcceptable(&'static str),
    /// A request's precondition (`If-Match`) does not hold.
    #[error("{0}")]
    PreconditionFailed(String),
    /// A FHIR resource that is not there (or is another provider's): the
    /// message names what was asked for, never whose it is.
    #[error("{0}")]
    NoSuchResource(String),
    /// The request's deadline passed while its body was still arriving.
    #[error("the request took longer than {0} seconds")]
    Timeout(u64),
    /// The body stopped arriving for longer than the pause allowed.
    #[error("the request body stopped arriving for {0} seconds")]
    BodyStalled(u64),
    /// The request itself is malformed (its head, not its parameters).
    #[error("{0}")]
    MalformedRequest(&'static str),
    /// The client's own share of the server (its address's, its
    /// provider's) is in use: 429, retry shortly.
    #[error("{0}")]
    TooManyInFlight(&'static str),
    /// The server's capacity for this kind of request is in use: 503,
    /// retry shortly.
    #[error("{0}")]
    Overloaded(&'static str),
    /// A fault of ours; the detail goes to the log only.
    #[error("{0}")]
    Internal(String),
}

/// Carried on a 500 response so the access log can record the cause next to
/// the request id while the client sees only a generic message.
#[derive(Debug, Clone)]
pub struct InternalErrorDetail(pub String);

/// How the API's clients spell a field.
fn wire_name(field: Field) -> String {
    match field {
        Field::GeneralComment => "general_comments".to_owned(),
        Field::CategoryComment(id) => format!("category_comments_{id}"),
        Field::Categories => "category parameters".to_owned(),
        other => other.name(),
    }
}

fn domain_message(error: &DomainError) -> String {
    match error {
        DomainError::Invalid(invalid) => match (invalid.field, &invalid.problem) {
            (Field::Title, Problem::Required) => "title/regarding required".to_owned(),
            (field, problem) => format!("{} {problem}", wire_name(field)),
        },
        other => other.to_string(),
    }
}

impl HttpError {
    pub fn status(&self) -> StatusCode {
        match self {
            HttpError::Domain(error) => match error {
                DomainError::InvalidApiCredentials
                | DomainError::InvalidCredentials
                | DomainError::InvalidClient(_)
                | DomainError::InvalidSignIn
                | DomainError::SignInRequired => StatusCode::UNAUTHORIZED,
                DomainError::Forbidden(_) | DomainError::SecondFactorRequired => {
                    StatusCode::FORBIDDEN
                }
                DomainError::NotFound(_) => StatusCode::NOT_FOUND,
                DomainError::Invalid(_) | DomainError::IdempotencyKeyReused => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                DomainError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                DomainError::Busy(_)
                | DomainError::DatabaseUnavailable
                | DomainError::WriteOutcomeUnknown => StatusCode::SERVICE_UNAVAILABLE,
                DomainError::Duplicate { .. }
                | DomainError::NotEmpty
                | DomainError::Conflict(_) => StatusCode::CONFLICT,
                DomainError::DeadlineExceeded => StatusCode::REQUEST_TIMEOUT,
                DomainError::CursorExpired(_) => StatusCode::GONE,
                DomainError::InvalidScope(_) => StatusCode::BAD_REQUEST,
                DomainError::Stale(_) => StatusCode::PRECONDITION_FAILED,
                DomainError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            HttpError::InvalidParameter(_) | HttpError::MalformedBody(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            HttpError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::UnsupportedMediaType | HttpError::UnsupportedMediaTypeOf(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            HttpError::NotFound => StatusCode::NOT_FOUND,
            HttpError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            HttpError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            HttpError::NoSuchResource(_) => StatusCode::NOT_FOUND,
            HttpError::Timeout(_) | HttpError::BodyStalled(_) => StatusCode::REQUEST_TIMEOUT,
            HttpError::MalformedRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::TooManyInFlight(_) => StatusCode::TOO_MANY_REQUESTS,
            HttpError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// How a call refused with this error ended, for the audit trail.
    pub fn outcome(&self) -> Outcome {
        match self {
            HttpError::Domain(error) => Outcome::of_error(error),
            HttpError::NotFound | HttpError::NoSuchResource(_) => Outcome::NotFound,
            HttpError::Timeout(_) | HttpError::BodyStalled(_) => Outcome::TimedOut,
            HttpError::TooManyInFlight(_) | HttpError::Overloaded(_) => Outcome::RateLimited,
            HttpError::Internal(_) => Outcome::Error,
            _ => Outcome::Invalid,
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            HttpError::Domain(error) => domain_message(error),
            other => other.to_string(),
        }
    }
}

/// How long a client waits before retrying a call the database could not
/// take (a failover, a restart).
const DATABASE_RETRY_AFTER_SECS: u64 = 2;

/// Names a write whose commit outcome is unknown, for clients that act on
/// headers rather than messages: `Connecticket-Write-Outcome: unknown`.
pub const WRITE_OUTCOME: axum::http::HeaderName =
    axum::http::HeaderName::from_static("connecticket-write-outcome");

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The access log replaces this body with one that names the
            // request id, and logs the detail with its causes.
            let mut detail = self.to_string();
            let mut source = std::error::Error::source(&self);
            while let Some(cause) = source {
                detail.push_str(": ");
                detail.push_str(&cause.to_string());
                source = cause.source();
            }
            let mut response = failure(status, "Internal Server Error");
            response
                .extensions_mut()
                .insert(InternalErrorDetail(detail));
            return response;
        }
        let mut response = failure(status, &self.message());
        let throttled = match &self {
            HttpError::Domain(DomainError::RateLimited { retry_after_secs }) => {
                Some(("rate_limit", *retry_after_secs))
            }
            HttpError::TooManyInFlight(_) => Some(("in_flight", 1)),
            HttpError::Domain(DomainError::Busy(_)) => Some(("busy", 1)),
            HttpError::Overloaded(_) => Some(("concurrency", 1)),
            _ => None,
        };
        if let Some((reason, retry_after_secs)) = throttled {
            metrics::counter!("connecticket_throttled_requests_total", "reason" => reason)
                .increment(1);
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        let database_down = match &self {
            HttpError::Domain(DomainError::DatabaseUnavailable) => Some("unavailable"),
            HttpError::Domain(DomainError::WriteOutcomeUnknown) => Some("outcome_unknown"),
            _ => None,
        };
        if let Some(kind) = database_down {
            metrics::counter!("connecticket_database_unavailable_responses_total", "kind" => kind)
                .increment(1);
            // A failover takes seconds: retrying sooner only adds load on
            // whichever server is coming up.
            let headers = response.headers_mut();
            headers.insert(
                axum::http::header::RETRY_AFTER,
                DATABASE_RETRY_AFTER_SECS.into(),
            );
            if kind == "outcome_unknown" {
                headers.insert(
                    WRITE_OUTCOME,
                    axum::http::HeaderValue::from_static("unknown"),
                );
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connecticket_domain::model::CategoryId;

    #[test]
    fn fields_are_spelled_as_clients_send_them() {
        let error = HttpError::from(DomainError::invalid(
            Field::CategoryComment(CategoryId(19)),
            Problem::TooLong { max_chars: 20_000 },
        ));
        assert_eq!(
            error.message(),
            "category_comments_19 must be at most 20000 characters"
        );
        let error = HttpError::from(DomainError::invalid(Field::Title, Problem::Required));
        assert_eq!(error.message(), "title/regarding required");
    }
}
