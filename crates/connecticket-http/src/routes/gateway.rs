//! The SMS gateway's webhooks, in its form encoding, signed with
//! `X-Twilio-Signature` over the public URL: `POST /sms/status` (delivery
//! reports) and `POST /sms/inbound` (replies, which may acknowledge).

use askama::Template;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use connecticket_domain::notify::GatewayCallback;
use connecticket_domain::service::SmsReplyOutcome;

use crate::error::HttpError;
use crate::extract::Context;
use crate::state::AppState;

/// A delivery report is a handful of short fields.
const MAX_CALLBACK_BYTES: usize = 16 * 1024;

/// Reads a webhook: its form fields and what the gateway signed (the
/// public address it was given, with the path and query it called). Its
/// body is held to the same pace as any other (see the guard).
async fn callback(state: &AppState, request: Request) -> Result<GatewayCallback, HttpError> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_CALLBACK_BYTES)
        .await
        .map_err(|_| {
            crate::guard::body_failure(
                &parts,
                &state.limits,
                HttpError::PayloadTooLarge(format!(
                    "a gateway callback is at most {MAX_CALLBACK_BYTES} bytes"
                )),
            )
        })?;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&bytes)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let public = state.public_url.as_deref().unwrap_or_default();
    let uri = &parts.uri;
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path(), |p| p.as_str());
    Ok(GatewayCallback {
        url: format!("{}{path}", public.trim_end_matches('/')),
        params,
        signature: parts
            .headers
            .get("x-twilio-signature")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    })
}

pub(crate) async fn status(
    State(state): State<AppState>,
    Context(context): Context,
    request: Request,
) -> Result<Response, HttpError> {
    let callback = callback(&state, request).await?;
    state.api.sms_status(&context, callback).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Template)]
#[template(path = "sms_reply.xml", escape = "html")]
struct Reply<'a> {
    /// None: the gateway sends nothing back.
    text: Option<&'a str>,
}

/// A reply: "OK", "Yes!", "received", a thumbs-up or "1" acknowledges the
/// sender's oldest open notification; STOP and START withdraw and give
/// the number's SMS consent; anything else is told whom to call. The
/// gateway sends our answer (TwiML) back as an SMS.
pub(crate) async fn inbound(
    State(state): State<AppState>,
    Context(context): Context,
    request: Request,
) -> Result<Response, HttpError> {
    let callback = callback(&state, request).await?;
    let text = match state.api.sms_reply(&context, callback).await? {
        SmsReplyOutcome::Acknowledged { view, waiting } => {
            let mut text = format!(
                "Thank you. You confirmed the update about {} from {} sent {}.",
                view.resident, view.provider_name, view.sent_at
            );
            match waiting {
                0 => {}
                1 => text.push_str(" One more update waits for your answer: reply OK again to confirm it."),
                n => text.push_str(&format!(
                    " {n} more updates wait for your answer: reply OK once for each, oldest first."
                )),
            }
            Some(text)
        }
        SmsReplyOutcome::NothingOpen => {
            Some("Thank you. No update is waiting for your confirmation.".to_owned())
        }
        SmsReplyOutcome::Stopped { provider } => Some(format!(
            "{provider}: you will get no more texts from us. Reply START to get them again."
        )),
        SmsReplyOutcome::Started { provider } => Some(format!(
            "{provider}: texts are on again. Reply STOP to stop them."
        )),
        SmsReplyOutcome::NotUnderstood {
            provider,
            callback_phone,
        } => Some(match (provider, callback_phone) {
            (Some(provider), Some(phone)) => format!(
                "{provider}: to confirm an update, reply OK. For anything else, please call {phone}."
            ),
            (Some(provider), None) => format!(
                "{provider}: to confirm an update, reply OK. For anything else, please call {provider}."
            ),
            _ => "Reply OK to confirm an update you received.".to_owned(),
        }),
        // Answered the first time it came: nothing is sent again.
        SmsReplyOutcome::Repeated => None,
    };
    let xml = Reply {
        text: text.as_deref(),
    }
    .render()
    .map_err(|_| HttpError::Internal("the SMS reply did not render".to_owned()))?;
    let mut response = (StatusCode::OK, xml).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    Ok(response)
}
