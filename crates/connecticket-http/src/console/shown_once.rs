//! Secrets shown once (a new api_secret, an invitation link) without ever
//! answering a POST with a page: the form's answer is a redirect that
//! carries the secret sealed in a short-lived cookie, and
//! `/console/shown-once` shows it and deletes the cookie. Refreshing that
//! page shows nothing again, and never repeats the action.

use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use connecticket_domain::audit::Action;
use connecticket_domain::service::ConsoleCall;
use serde::{Deserialize, Serialize};

use super::render::{html, qr_svg, see_other, Chrome, ConsoleError};
use super::session::{cookie, set_cookie, ConsoleRequest};
use crate::state::AppState;

const COOKIE: &str = "ct_shown_once";
const PURPOSE: &str = "shown-once";
/// Long enough to follow the redirect, short enough not to linger.
const LIFETIME_SECS: i64 = 120;

/// What the page shows.
#[derive(Serialize, Deserialize)]
pub(crate) struct Secret {
    pub heading: String,
    pub lines: Vec<(String, String)>,
    pub note: String,
    /// Where "Back" leads (a console path).
    pub back: String,
    /// What to do if it was not copied.
    pub lost: String,
    /// Text to show as a QR code as well (a link a device's camera
    /// opens); drawn when the page is shown, not carried in the cookie.
    #[serde(default)]
    pub qr: Option<String>,
}

#[derive(Template)]
#[template(path = "console/shown_once.html")]
struct ShownOncePage {
    chrome: Chrome,
    secret: Option<Secret>,
    qr: String,
}

/// The answer to a form that made a secret: a redirect to the page that
/// shows it once.
pub(crate) fn redirect(state: &AppState, console: &ConsoleCall, secret: &Secret) -> Response {
    let plain = serde_json::to_vec(secret).unwrap_or_default();
    let sealed = state.api.seal_for(console, PURPOSE, &plain);
    let mut response = see_other("/console/shown-once");
    response.headers_mut().append(
        header::SET_COOKIE,
        super::session::lasting_cookie(state, COOKIE, &sealed, LIFETIME_SECS),
    );
    response
}

/// `GET /console/shown-once`.
pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let sealed = cookie(&request.parts.headers, COOKIE);
    let signed = request.page(&state, Action::ConsolePage).await?;
    let secret = sealed
        .and_then(|sealed| state.api.open_for(&signed.console, PURPOSE, &sealed))
        .and_then(|plain| serde_json::from_slice::<Secret>(&plain).ok());
    let qr = secret
        .as_ref()
        .and_then(|secret| secret.qr.as_deref())
        .map(|text| qr_svg(text, "QR code of the link"))
        .unwrap_or_default();
    let page = ShownOncePage {
        chrome: Chrome::of(&signed.console, "admin"),
        secret,
        qr,
    };
    let status = if page.secret.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    let mut response = html(status, &page).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(&state, COOKIE, None));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
