//! `POST /sms/status`: the SMS gateway's delivery reports, in its form
//! encoding, signed with `X-Twilio-Signature` over the public URL.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use connecticket_domain::notify::GatewayCallback;

use crate::error::HttpError;
use crate::extract::Context;
use crate::state::AppState;

/// A delivery report is a handful of short fields.
const MAX_CALLBACK_BYTES: usize = 16 * 1024;

pub(crate) async fn status(
    State(state): State<AppState>,
    Context(context): Context,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Result<Response, HttpError> {
    let bytes = axum::body::to_bytes(body, MAX_CALLBACK_BYTES)
        .await
        .map_err(|_| {
            HttpError::PayloadTooLarge(format!(
                "a delivery report is at most {MAX_CALLBACK_BYTES} bytes"
            ))
        })?;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&bytes)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    // What the gateway signed: the public address it was given, with the
    // path and query it called.
    let public = state.public_url.as_deref().unwrap_or_default();
    let path = uri.path_and_query().map_or("/sms/status", |p| p.as_str());
    let callback = GatewayCallback {
        url: format!("{}{path}", public.trim_end_matches('/')),
        params,
        signature: headers
            .get("x-twilio-signature")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    };
    state.api.sms_status(&context, callback).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
