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
mod manage;
mod render;
mod residents;
mod session;
mod sign_in;
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

pub(crate) fn router() -> Router<AppState> {
    let pages: Vec<(&str, MethodRouter<AppState>)> = vec![
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
        ("/account/second-factor", post(sign_in::enrol)),
        ("/tickets/new", get(tickets::new_form).post(tickets::create)),
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
        ("/admin", get(admin::overview)),
        (
            "/admin/employees",
            get(admin::employees).post(admin::invite),
        ),
        ("/admin/employees/{id}/role", post(admin::set_role)),
        ("/admin/employees/{id}/reset", post(admin::reset)),
        ("/admin/second-factor", post(admin::second_factor)),
        (
            "/admin/applications",
            get(admin::applications).post(admin::register),
        ),
        ("/admin/applications/{id}/revoke", post(admin::revoke)),
        ("/admin/applications/{id}/rotate", post(admin::rotate)),
        ("/admin/audit", get(manage::audit)),
        ("/admin/audit.csv", get(manage::audit_csv)),
        ("/admin/notifications", get(manage::notifications)),
        ("/admin/notifications/{id}/retry", post(manage::retry)),
        (
            "/admin/escalation",
            get(manage::escalation).post(manage::set_escalation),
        ),
        ("/admin/escalation/staff", post(manage::add_staff)),
        (
            "/admin/escalation/staff/{id}/remove",
            post(manage::remove_staff),
        ),
        (
            "/admin/categories",
            get(manage::categories).post(manage::add_category),
        ),
        (
            "/admin/templates",
            get(manage::templates).post(manage::set_templates),
        ),
        ("/admin/notify-rules", post(manage::set_notify_rules)),
        ("/admin/categories/{id}", post(manage::rename_category)),
        ("/residents/{id}/contacts", post(manage::add_contact)),
        (
            "/residents/{id}/contacts/{contact}",
            post(manage::update_contact),
        ),
        (
            "/residents/{id}/contacts/{contact}/remove",
            post(manage::remove_contact),
        ),
        ("/assets/{file}", get(assets::serve)),
        // Anything else under /console is the console's own 404 page.
        (
            "/{*rest}",
            axum::routing::any(|| async { render::not_found() }),
        ),
    ];
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
