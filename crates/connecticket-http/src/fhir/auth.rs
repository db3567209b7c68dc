//! `POST auth/token`: OAuth 2.0 client credentials. The client
//! authenticates with HTTP Basic (`client_secret_basic`: its api_key and
//! api_secret, form-encoded then base64), or as SMART Backend Services
//! asks, with a JWT it signed with a key its application registered
//! (`private_key_jwt`); it asks for SMART system scopes, and the answer is
//! a bearer token that lives five minutes.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use connecticket_domain::fhir::assertion::JWT_BEARER;
use connecticket_domain::service::ClientAuthentication;

use crate::error::HttpError;
use crate::extract::{within, Context};
use crate::state::AppState;
use crate::wire::read_params;

/// The client's id and secret from `Authorization: Basic`, each
/// form-decoded as RFC 6749 §2.3.1 asks.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let form = |text: &str| {
        url::form_urlencoded::parse(format!("x={text}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
    };
    Some((form(id)?, form(secret)?))
}

pub(crate) async fn token(
    State(state): State<AppState>,
    Context(context): Context,
    request: Request,
) -> Result<Response, HttpError> {
    let (parts, body) = request.into_parts();
    // Nobody is authenticated yet: read no more than a token request needs.
    let read = read_params(&parts, body, state.limits, state.limits.max_authorize_bytes);
    let params = within(&context, &state, read).await??;
    match params.get("grant_type") {
        Some("client_credentials") => {}
        _ => {
            return Err(HttpError::BadRequest(
                "grant_type must be client_credentials (unsupported_grant_type)".to_owned(),
            ))
        }
    }
    let credentials = basic_credentials(&parts.headers);
    let audience = format!(
        "{}/auth/token",
        super::request::base_url(&state, &parts.headers)
    );
    let client = match (
        params.get("client_assertion_type"),
        params.get("client_assertion"),
    ) {
        (Some(JWT_BEARER), Some(assertion)) => ClientAuthentication::Assertion {
            client_id: params.get("client_id"),
            assertion,
            audience: &audience,
        },
        (None, None) => ClientAuthentication::Secret {
            api_key: credentials.as_ref().map(|(key, _)| key.as_str()),
            api_secret: credentials.as_ref().map(|(_, secret)| secret.as_str()),
        },
        _ => {
            return Err(HttpError::BadRequest(format!(
                "a client assertion needs client_assertion_type {JWT_BEARER} and client_assertion"
            )))
        }
    };
    let access = state
        .api
        .fhir_token(&context, client, params.get("scope"))
        .await?;
    let body = json!({
        "access_token": access.token,
        "token_type": "bearer",
        "expires_in": access.expires_in_secs,
        "scope": access.scopes.to_string(),
    });
    let mut response = crate::envelope::json(StatusCode::OK, &body).into_response();
    // RFC 6749 §5.1: a token answer is never cached, even by a proxy that
    // ignores `no-store`.
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("key%3A1:se+cret");
        headers.insert(
            header::AUTHORIZATION,
            format!("Basic {encoded}").parse().expect("header"),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("key:1".to_owned(), "se cret".to_owned()))
        );
        headers.insert(header::AUTHORIZATION, "Bearer x".parse().expect("header"));
        assert_eq!(basic_credentials(&headers), None);
    }
}
