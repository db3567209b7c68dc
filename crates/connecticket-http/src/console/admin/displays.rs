//! `/console/admin/displays`: board displays (wall screens that show the
//! board without a person signed in), granted with a pairing link shown
//! once, and revoked after a confirmation.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Utc;
use connecticket_domain::audit::Action;
use connecticket_domain::console::display::{DisplayId, DisplayState, PAIRING_LIFETIME};
use connecticket_domain::service::GrantedDisplay;
use connecticket_domain::Entity;

use super::confirm::{ask, confirmed, Confirmation};
use super::{base_url, shown, submit, Administering, Refused};
use crate::console::form::Kept;
use crate::console::render::{html, local, path_id, see_other, Chrome, ConsoleError};
use crate::console::session::ConsoleRequest;
use crate::console::shown_once::{self, Secret};
use crate::state::AppState;

const PAGE: &str = "/console/admin/displays";

pub(crate) struct DisplayRow {
    pub id: i64,
    pub name: String,
    pub granted: String,
    pub state: &'static str,
    pub last_seen: Option<String>,
    pub revocable: bool,
}

#[derive(Template)]
#[template(path = "console/admin_displays.html")]
struct DisplaysPage {
    chrome: Chrome,
    displays: Vec<DisplayRow>,
    pairing_minutes: i64,
    message: Option<String>,
    kept: Kept,
}

async fn render(
    state: &AppState,
    page: &Administering,
    refused: Option<Refused>,
) -> Result<Response, ConsoleError> {
    let zone = page.console.holder.provider.zone();
    let now = Utc::now();
    let displays = state
        .api
        .list_displays(page.admin(state, Action::ManageDisplays).await?)
        .await?
        .iter()
        .map(|d| {
            let display_state = d.state(now);
            DisplayRow {
                id: d.id.0,
                name: d.name.clone(),
                granted: local(d.granted_at, zone),
                state: display_state.describe(),
                last_seen: d.last_seen_at.map(|at| local(at, zone)),
                revocable: display_state != DisplayState::Revoked,
            }
        })
        .collect();
    let (status, message, kept) = shown(refused);
    Ok(html(
        status,
        &DisplaysPage {
            chrome: page.chrome(),
            displays,
            pairing_minutes: PAIRING_LIFETIME.num_minutes(),
            message,
            kept,
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::page(request, &state, Action::ManageDisplays).await?;
    render(&state, &page, None).await
}

fn pairing_page(
    state: &AppState,
    page: &Administering,
    base: &str,
    granted: &GrantedDisplay,
) -> Response {
    let zone = page.console.holder.provider.zone();
    let link = format!("{base}/console/display/pair/{}", granted.pairing_code);
    let until = granted
        .display
        .pairing_expires_at
        .map(|at| local(at, zone))
        .unwrap_or_default();
    let secret = Secret {
        heading: format!("Board display granted: {}", granted.display.name),
        lines: vec![
            ("Pairing link".to_owned(), link.clone()),
            ("Works until".to_owned(), until),
        ],
        note: "Open this link on the screen itself (type it, or scan the code with a tablet's camera) and press “Pair this screen”. It works once, and is shown only now.".to_owned(),
        back: PAGE.to_owned(),
        lost: "Lost it, or it expired? Revoke this display and grant a new one.".to_owned(),
        qr: Some(link),
    };
    shown_once::redirect(state, &page.console, &secret)
}

/// Grants a display; its pairing link is shown once.
pub(crate) async fn grant(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let base = base_url(&state, &request);
    let page = Administering::form(request, &state, Action::ManageDisplays).await?;
    let admin = page.admin(&state, Action::ManageDisplays).await?;
    let outcome = state.api.grant_display(admin, page.form.text("name")).await;
    submit(
        &page.form,
        outcome,
        |granted| pairing_page(&state, &page, &base, &granted),
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageDisplays).await?;
    let id = DisplayId(path_id(&id, Entity::Display)?);
    let admin = page.admin(&state, Action::ManageDisplays).await?;
    if !confirmed(&page.form) {
        let displays = state.api.list_displays(admin).await?;
        let Some(display) = displays
            .into_iter()
            .find(|d| d.id == id && d.revoked_at.is_none())
        else {
            return Err(page
                .not_found(&state, Action::ManageDisplays, Entity::Display)
                .await);
        };
        let name = display.name;
        return Ok(ask(
            &page,
            Confirmation {
                heading: format!("Revoke the display “{name}”?"),
                consequence: format!("The screen “{name}” stops showing the board at its next refresh (within 30 seconds) and shows that it is no longer paired. To use it again, grant a new display and pair it."),
                action: format!("{PAGE}/{id}/revoke"),
                button: format!("Revoke “{name}”"),
                back: PAGE.to_owned(),
            },
        ));
    }
    state.api.revoke_display(admin, id).await?;
    Ok(see_other(&format!("{PAGE}?done=display-revoked")))
}
