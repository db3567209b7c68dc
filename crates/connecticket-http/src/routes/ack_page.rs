//! `/ack/{token}`: the page behind a notification's personal link.
//!
//! A GET only shows the page: mail scanners and link previews follow links,
//! and must acknowledge nothing. The page's one form POSTs back to the same
//! address. It needs no login (the token is the recipient's), no script
//! and nothing from elsewhere, and its Content-Security-Policy allows
//! exactly its own inline style and a form posted to itself. A used,
//! expired and unknown token get the same page and status.

use std::sync::LazyLock;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use connecticket_domain::notify::{AckRefusal, AckView};
use sha2::{Digest, Sha256};

use crate::error::HttpError;
use crate::extract::Context;
use crate::state::AppState;

/// The page's whole style, inline so that nothing is fetched.
pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1.5rem;\
color:#1a1a1a;background:#fafafa}main{max-width:32rem;margin:0 auto}h1{font-size:1.4rem}\
button{font-size:1.2rem;padding:.8rem 1.6rem;border:0;border-radius:.4rem;background:#0b5cad;\
color:#fff;cursor:pointer}button:focus{outline:3px solid #f0b400}.small{color:#555;font-size:.9rem}";

static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{digest}'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
});

#[derive(Template)]
#[template(path = "ack_form.html")]
struct FormPage<'a> {
    view: &'a AckView,
}

#[derive(Template)]
#[template(path = "ack_done.html")]
struct DonePage<'a> {
    view: &'a AckView,
}

#[derive(Template)]
#[template(path = "ack_invalid.html")]
struct InvalidPage;

#[derive(Template)]
#[template(path = "ack_used.html")]
struct UsedPage {
    /// The time of day it was confirmed, in the provider's zone.
    at: String,
}

fn page(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    let Ok(html) = rendered else {
        return HttpError::Internal("the acknowledgment page did not render".to_owned())
            .into_response();
    };
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    // The token is in this page's address: no other site may learn it.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn answer(found: Result<AckView, AckRefusal>, done: bool) -> Response {
    match (found, done) {
        (Ok(view), false) => page(StatusCode::OK, FormPage { view: &view }.render()),
        (Ok(view), true) => page(StatusCode::OK, DonePage { view: &view }.render()),
        // Whoever confirmed opens the link again: thank them, with the
        // time alone.
        (Err(AckRefusal::Used { at, zone }), _) => page(
            StatusCode::OK,
            UsedPage {
                at: at
                    .with_timezone(&zone)
                    .format("%H:%M on %b %-d")
                    .to_string(),
            }
            .render(),
        ),
        // One answer for every other refusal: nothing says whether a
        // ticket exists.
        (Err(_), _) => page(StatusCode::NOT_FOUND, InvalidPage.render()),
    }
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Context(context): Context,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    let found = state.api.ack_page(&context, &token).await?;
    Ok(answer(found, false))
}

pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    Context(context): Context,
    Path(token): Path<String>,
) -> Result<Response, HttpError> {
    let found = state.api.ack_by_link(&context, &token).await?;
    Ok(answer(found, true))
}
