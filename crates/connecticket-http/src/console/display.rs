//! A board display: a wall screen or nursing-station monitor that shows
//! the board read-only and stays up, without a person's session (so the
//! idle logoff for people stays strict). It is paired once with a link an
//! administrator grants, keeps a device token in a cookie, and stops at
//! once when revoked.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::Utc;
use connecticket_domain::{DomainError, Entity};

use super::board::{columns, Column};
use super::render::{html, local, see_other, Chrome, ConsoleError};
use super::session::{cookie, lasting_cookie, set_cookie, ConsoleRequest};
use crate::extract::within;
use crate::state::AppState;

/// The display's device token. Lasts as long as browsers let a cookie
/// last (400 days); revoking the display is what ends it.
pub(crate) const DISPLAY_COOKIE: &str = "ct_display";
const DISPLAY_COOKIE_MAX_AGE: i64 = 400 * 86_400;

#[derive(Template)]
#[template(path = "console/display.html")]
struct DisplayPage {
    chrome: Chrome,
    provider: String,
    display_name: String,
    updated: String,
    columns: Vec<Column>,
    all_open: u64,
    overdue: usize,
    linked: bool,
}

#[derive(Template)]
#[template(path = "console/display_pair.html")]
struct PairPage {
    chrome: Chrome,
    provider: String,
    display_name: String,
    code: String,
}

#[derive(Template)]
#[template(path = "console/display_unpaired.html")]
struct UnpairedPage {
    chrome: Chrome,
    pairing: bool,
}

/// The page for a link or a screen that is not (or no longer) a display;
/// a screen whose token was refused has its cookie removed. The board's own refresh (htmx, which
/// swaps no refusal) is told to reload the page, so a revoked screen
/// never keeps showing the last board it had.
fn unpaired(state: &AppState, pairing: bool, headers: &HeaderMap) -> Response {
    let mut response = html(
        StatusCode::FORBIDDEN,
        &UnpairedPage {
            chrome: Chrome::signed_out(),
            pairing,
        },
    );
    // A stale pairing link opened on a screen that is paired already must
    // not unpair it: only the screen's own token, refused, is removed.
    if !pairing {
        response
            .headers_mut()
            .append(header::SET_COOKIE, set_cookie(state, DISPLAY_COOKIE, None));
    }
    if headers.contains_key("hx-request") {
        response
            .headers_mut()
            .insert("hx-refresh", HeaderValue::from_static("true"));
    }
    response
}

/// Whether the failure means "not a display": anything else (a busy
/// database, a rate limit) is answered as such.
fn not_a_display(error: &DomainError) -> bool {
    matches!(error, DomainError::NotFound(Entity::Display))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let context = request.context();
    let Some(token) = cookie(&request.parts.headers, DISPLAY_COOKIE) else {
        return Ok(unpaired(&state, false, &request.parts.headers));
    };
    let found = within(&context, &state, state.api.display_board(&context, &token)).await?;
    let shown = match found {
        Ok(shown) => shown,
        Err(error) if not_a_display(&error) => {
            return Ok(unpaired(&state, false, &request.parts.headers))
        }
        Err(error) => return Err(error.into()),
    };
    let zone = shown.provider.zone();
    let now = Utc::now();
    let page = DisplayPage {
        chrome: Chrome::signed_out(),
        provider: shown.provider.name.clone(),
        display_name: shown.display.name.clone(),
        updated: local(now, zone),
        columns: columns(&shown.board, zone, now, None),
        all_open: shown.board.all_open,
        overdue: shown.board.cards.iter().filter(|c| c.overdue()).count(),
        linked: false,
    };
    Ok(html(StatusCode::OK, &page))
}

/// The pairing link's page: what it would pair, and a button that does
/// it (the GET spends nothing, so a link preview cannot use it up).
pub(crate) async fn offer(
    State(state): State<AppState>,
    Path(code): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let context = request.context();
    let found = within(&context, &state, state.api.pairing_offer(&context, &code)).await?;
    match found {
        Ok(offer) => Ok(html(
            StatusCode::OK,
            &PairPage {
                chrome: Chrome::signed_out(),
                provider: offer.provider.name,
                display_name: offer.display.name,
                code,
            },
        )),
        Err(error) if not_a_display(&error) => Ok(unpaired(&state, true, &request.parts.headers)),
        Err(error) => Err(error.into()),
    }
}

/// Pairs this screen: the link is spent and the screen keeps its token.
pub(crate) async fn pair(
    State(state): State<AppState>,
    Path(code): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let context = request.context();
    let paired = within(&context, &state, state.api.pair_display(&context, &code)).await?;
    match paired {
        Ok((_, token)) => {
            let mut response = see_other("/console/display");
            response.headers_mut().append(
                header::SET_COOKIE,
                lasting_cookie(&state, DISPLAY_COOKIE, &token, DISPLAY_COOKIE_MAX_AGE),
            );
            Ok(response)
        }
        Err(error) if not_a_display(&error) => Ok(unpaired(&state, true, &request.parts.headers)),
        Err(error) => Err(error.into()),
    }
}
