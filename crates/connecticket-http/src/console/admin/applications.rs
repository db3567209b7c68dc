//! `/console/admin/applications`: the programs that use the API, with
//! their credentials shown once, revoked and rotated here.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::audit::Action;
use connecticket_domain::model::ApplicationId;
use connecticket_domain::service::{ApplicationRequest, CreatedApplication};
use connecticket_domain::Entity;

use super::{shown, shown_once, submit, Administering, Refused};
use crate::console::form::Kept;
use crate::console::render::{html, local, path_id, see_other, Chrome, ConsoleError};
use crate::console::session::ConsoleRequest;
use crate::state::AppState;

const PAGE: &str = "/console/admin/applications";

pub(crate) struct ApplicationRow {
    pub id: i64,
    pub name: String,
    pub api_key: String,
    pub created: String,
    pub revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "console/admin_applications.html")]
struct ApplicationsPage {
    chrome: Chrome,
    applications: Vec<ApplicationRow>,
    message: Option<String>,
    kept: Kept,
}

async fn render(
    state: &AppState,
    page: &Administering,
    refused: Option<Refused>,
) -> Result<Response, ConsoleError> {
    let zone = page.console.holder.provider.zone();
    let applications = state
        .api
        .list_applications(page.admin(state, Action::Applications).await?)
        .await?
        .iter()
        .map(|a| ApplicationRow {
            id: a.id.get(),
            name: a.name.clone(),
            api_key: a.api_key.clone(),
            created: local(a.created_at, zone),
            revoked: a.revoked_at.map(|at| local(at, zone)),
        })
        .collect();
    let (status, message, kept) = shown(refused);
    Ok(html(
        status,
        &ApplicationsPage {
            chrome: page.chrome(),
            applications,
            message,
            kept,
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::page(request, &state, Action::Applications).await?;
    render(&state, &page, None).await
}

fn credentials_page(page: &Administering, created: &CreatedApplication, heading: &str) -> Response {
    shown_once(
        &page.console,
        format!("{heading}: {}", created.application.name),
        vec![
            ("api_key", created.application.api_key.clone()),
            ("api_secret", created.api_secret.clone()),
        ],
        "Copy the api_secret into the application now: it is shown only once and is not stored (only its keyed hash is).",
        PAGE,
    )
}

/// Registers an application acting as the administrator.
pub(crate) async fn register(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageApplications).await?;
    let new = ApplicationRequest {
        name: page.form.text("name"),
        acting_as: None,
    };
    let admin = page.admin(&state, Action::ManageApplications).await?;
    let outcome = state.api.create_application(admin, new).await;
    submit(
        &page.form,
        outcome,
        |created| credentials_page(&page, &created, "Application registered"),
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageApplications).await?;
    let id = ApplicationId(path_id(&id, Entity::Application)?);
    let admin = page.admin(&state, Action::ManageApplications).await?;
    state.api.revoke_application(admin, id).await?;
    Ok(see_other(PAGE))
}

pub(crate) async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageApplications).await?;
    let id = ApplicationId(path_id(&id, Entity::Application)?);
    let admin = page.admin(&state, Action::ManageApplications).await?;
    let created = state.api.rotate_secret(admin, id).await?;
    Ok(credentials_page(&page, &created, "New secret"))
}
