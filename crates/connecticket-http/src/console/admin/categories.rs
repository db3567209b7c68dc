//! `/console/admin/categories`: what tickets rate, added and renamed.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::audit::Action;
use connecticket_domain::model::CategoryId;
use connecticket_domain::Entity;

use super::{shown, submit, Administering, Refused};
use crate::console::form::Kept;
use crate::console::render::{html, path_id, see_other, Chrome, ConsoleError};
use crate::console::session::ConsoleRequest;
use crate::state::AppState;

const PAGE: &str = "/console/admin/categories";

#[derive(Template)]
#[template(path = "console/admin_categories.html")]
struct CategoriesPage {
    chrome: Chrome,
    categories: Vec<(i64, String)>,
    message: Option<String>,
    kept: Kept,
}

async fn render(
    state: &AppState,
    page: &Administering,
    refused: Option<Refused>,
) -> Result<Response, ConsoleError> {
    let categories = state
        .api
        .list_categories(page.admin(state, Action::ProviderCategories).await?)
        .await?
        .into_iter()
        .map(|c| (c.id.get(), c.name))
        .collect();
    let (status, message, kept) = shown(refused);
    Ok(html(
        status,
        &CategoriesPage {
            chrome: page.chrome(),
            categories,
            message,
            kept,
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::page(request, &state, Action::ProviderCategories).await?;
    render(&state, &page, None).await
}

pub(crate) async fn add(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageCategories).await?;
    let admin = page.admin(&state, Action::ManageCategories).await?;
    let outcome = state
        .api
        .create_category(admin, page.form.text("name"))
        .await;
    submit(
        &page.form,
        outcome,
        |_| see_other(&format!("{PAGE}?done=category")),
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}

pub(crate) async fn rename(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageCategories).await?;
    let id = CategoryId(path_id(&id, Entity::Category)?);
    let admin = page.admin(&state, Action::ManageCategories).await?;
    let outcome = state
        .api
        .rename_category(admin, id, page.form.text("name"))
        .await;
    submit(
        &page.form,
        outcome,
        |_| see_other(&format!("{PAGE}?done=category")),
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}
