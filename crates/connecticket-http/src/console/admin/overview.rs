//! `/console/admin`: where administration starts.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use connecticket_domain::audit::Action;

use super::Administering;
use crate::console::render::{html, Chrome, ConsoleError};
use crate::console::session::ConsoleRequest;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/admin.html")]
struct Overview {
    chrome: Chrome,
    employees: usize,
    invited: usize,
    /// Webhooks that failed for three days (a banner says so).
    disabled_webhooks: usize,
}

/// The administration's pages, with how many employees there are and how
/// many invitations wait (reading the roster is the administrators' check).
pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::page(request, &state, Action::Employees).await?;
    let roster = state
        .api
        .roster(page.admin(&state, Action::Employees).await?)
        .await?;
    let invited = roster
        .iter()
        .filter(|(_, account)| account.as_ref().is_some_and(|a| !a.has_password()))
        .count();
    let disabled_webhooks = state
        .api
        .admin_webhooks(page.admin(&state, Action::ManageWebhooks).await?)
        .await?
        .iter()
        .filter(|webhook| webhook.disabled_at.is_some())
        .count();
    Ok(html(
        StatusCode::OK,
        &Overview {
            chrome: page.chrome(),
            employees: roster.len(),
            invited,
            disabled_webhooks,
        },
    ))
}
