//! The staff console: server-rendered pages under `/console` for nurses,
//! coordinators and administrators.
//!
//! Every page calls the same use cases as the API (with the same tenancy
//! and audit trail) under the signed-in employee's identity. Pages are
//! askama templates; htmx (vendored, `assets`) only enhances: the board
//! refreshes itself and its filters apply as they change, while every
//! action is a plain form that works without JavaScript. Every answer
//! carries a strict Content-Security-Policy (no inline script or style)
//! and `no-store`; URLs carry record ids, never patient data.

mod admin;
mod assets;
mod board;
mod display;
mod drafts;
mod form;
mod identity;
mod new_ticket;
mod render;
mod residents;
mod session;
mod shown_once;
mod sign_in;
mod telling;
mod ticket_view;
mod tickets;

use axum::http::{header, HeaderValue};
use axum::response::Redirect;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// Scripts, styles and images from this server only; no inline script or
/// style, no frames, forms posted here only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The device cookie a request carries (see `session::DEVICE_COOKIE`).
pub(crate) fn device_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    session::cookie(headers, session::DEVICE_COOKIE)
}

/// Every path of the console's administration (under `/console`), for the
/// test that walks each as staff, as another provider's administrator and
/// as a stranger.
pub fn administration_paths() -> Vec<&'static str> {
    admin::routes().into_iter().map(|(path, _)| path).collect()
}

pub(crate) fn router() -> Router<AppState> {
    let mut pages: Vec<(&str, MethodRouter<AppState>)> = vec![
        ("", get(board::show)),
        ("/", get(|| async { Redirect::to("/console") })),
        ("/sign-in", get(sign_in::form).post(sign_in::submit)),
        ("/sign-out", post(sign_in::sign_out)),
        ("/sign-out-everywhere", post(sign_in::sign_out_everywhere)),
        (
            "/invite/{token}",
            get(sign_in::invitation).post(sign_in::accept),
        ),
        ("/account", get(sign_in::account)),
        ("/shown-once", get(shown_once::show)),
        ("/display", get(display::show)),
        (
            "/display/pair/{code}",
            get(display::offer).post(display::pair),
        ),
        ("/keep-alive", post(sign_in::keep_alive)),
        ("/account/second-factor", post(sign_in::enrol)),
        (
            "/tickets/new",
            get(new_ticket::new_form).post(new_ticket::create),
        ),
        ("/tickets/{id}", get(tickets::show)),
        ("/tickets/{id}/comments", post(tickets::comment)),
        ("/tickets/{id}/status", post(tickets::change_status)),
        ("/tickets/{id}/attachments", post(tickets::attach)),
        (
            "/notifications/{id}/acknowledge",
            post(tickets::acknowledge),
        ),
        ("/attachments/{id}", get(tickets::attachment)),
        ("/residents", get(residents::list)),
        ("/residents/{id}", get(residents::show)),
        ("/assets/{file}", get(assets::serve)),
        // Anything else under /console is the console's own 404 page.
        (
            "/{*rest}",
            axum::routing::any(|| async { render::not_found() }),
        ),
    ];
    pages.extend(admin::routes());
    pages
        .into_iter()
        .fold(Router::new(), |router, (path, route)| {
            router.route(&format!("/console{path}"), route)
        })
        .route("/", get(|| async { Redirect::to("/console") }))
        // A handler may set a stricter one (an attachment is sandboxed).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
}
