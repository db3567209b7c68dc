//! Who is calling: credentials from headers, the token from the path, and
//! where the request came from.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::access_log::RequestId;
use crate::error::HttpError;
use crate::guard::{ClientAddr, Deadline};
use connecticket_domain::audit::RequestContext;

/// The application's key and secret. Both spellings are accepted: the
/// seed's `api_key` and the proxy-safe `api-key`.
#[derive(Default)]
pub struct Credentials {
    pub api_key: Option<String>,
    pub api_secret: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key)
            .field("api_secret", &"<redacted>")
            .finish()
    }
}

fn header(headers: &HeaderMap, names: [&str; 2]) -> Option<String> {
    names
        .iter()
        .find_map(|name| headers.get(*name))
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

impl Credentials {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Credentials {
            api_key: header(headers, ["api_key", "api-key"]),
            api_secret: header(headers, ["api_secret", "api-secret"]),
        }
    }
}

/// The access token: the path segment right after `/api/`.
pub fn token_segment(path: &str) -> Option<&str> {
    path.strip_prefix("/api/")?.split('/').next()
}

/// Where the request came from, for the audit trail.
pub struct Context(pub RequestContext);

pub(crate) fn request_context(parts: &Parts) -> RequestContext {
    RequestContext {
        actor: None,
        deadline: parts
            .extensions
            .get::<Deadline>()
            .map(|deadline| deadline.0),
        request_id: parts
            .extensions
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default(),
        client_addr: parts.extensions.get::<ClientAddr>().map(|addr| addr.0),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Context {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, HttpError> {
        Ok(Context(request_context(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_the_first_segment_after_api() {
        assert_eq!(token_segment("/api/abc/tickets"), Some("abc"));
        assert_eq!(token_segment("/api/abc/attachments/4"), Some("abc"));
        assert_eq!(token_segment("/other/abc"), None);
    }

    #[test]
    fn both_header_spellings_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert("api-key", "k".parse().expect("header"));
        headers.insert("api_secret", "s".parse().expect("header"));
        let credentials = Credentials::from_headers(&headers);
        assert_eq!(credentials.api_key.as_deref(), Some("k"));
        assert_eq!(credentials.api_secret.as_deref(), Some("s"));
        assert!(!format!("{credentials:?}").contains("\"s\""));
    }
}
