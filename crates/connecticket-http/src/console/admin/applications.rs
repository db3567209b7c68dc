//! `/console/admin/applications`: the programs that use the API, with
//! their credentials shown once, revoked and rotated here; and their
//! standing on the FHIR facade (docs/FHIR.md): the public keys they sign
//! assertions with, and leave to read the audit trail.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::audit::Action;
use connecticket_domain::model::ApplicationId;
use connecticket_domain::service::{AdminCall, ApplicationRequest, CreatedApplication};
use connecticket_domain::Entity;

use super::confirm::{ask, confirmed, Confirmation};
use super::{shown, submit, Administering, Refused};
use crate::console::form::Kept;
use crate::console::render::{html, local, path_id, see_other, Chrome, ConsoleError};
use crate::console::session::ConsoleRequest;
use crate::console::shown_once::{self, Secret};
use crate::state::AppState;

const PAGE: &str = "/console/admin/applications";

pub(crate) struct ApplicationRow {
    pub id: i64,
    pub name: String,
    pub api_key: String,
    pub created: String,
    pub revoked: Option<String>,
    /// Public keys registered for SMART signed assertions.
    pub fhir_keys: usize,
    /// May read the audit trail as FHIR AuditEvent.
    pub audit_trail: bool,
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
    let standing = state
        .api
        .fhir_access(page.admin(state, Action::Applications).await?)
        .await?;
    let of = |id| standing.iter().find(|s| s.application == id);
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
            fhir_keys: of(a.id).map_or(0, |s| s.keys),
            audit_trail: of(a.id).is_some_and(|s| s.audit_trail),
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

fn credentials_page(
    state: &AppState,
    page: &Administering,
    created: &CreatedApplication,
    heading: &str,
) -> Response {
    let secret = Secret {
        heading: format!("{heading}: {}", created.application.name),
        lines: vec![
            ("api_key".to_owned(), created.application.api_key.clone()),
            ("api_secret".to_owned(), created.api_secret.clone()),
        ],
        note: "Copy the api_secret into the application now: it is shown only once and is not stored (only its keyed hash is).".to_owned(),
        back: PAGE.to_owned(),
        lost: "Lost it? Give the application a new secret from the applications page; this one then stops working.".to_owned(),
        qr: None,
    };
    shown_once::redirect(state, &page.console, &secret)
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
        |created| credentials_page(&state, &page, &created, "Application registered"),
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}

/// The application a confirmation names (an audited read).
async fn named(
    state: &AppState,
    page: &Administering,
    admin: AdminCall,
    id: ApplicationId,
) -> Result<String, ConsoleError> {
    let applications = state.api.list_applications(admin).await?;
    let found = applications
        .into_iter()
        .find(|a| a.id == id && a.revoked_at.is_none());
    match found {
        Some(application) => Ok(application.name),
        None => Err(page
            .not_found(state, Action::ManageApplications, Entity::Application)
            .await),
    }
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageApplications).await?;
    let id = ApplicationId(path_id(&id, Entity::Application)?);
    let admin = page.admin(&state, Action::ManageApplications).await?;
    if !confirmed(&page.form) {
        let name = named(&state, &page, admin, id).await?;
        return Ok(ask(
            &page,
            Confirmation {
                heading: format!("Revoke “{name}”?"),
                consequence: format!("“{name}” and every access token it holds stop working at once, on every instance. This cannot be undone: to use the API again it must be registered anew."),
                action: format!("{PAGE}/{id}/revoke"),
                button: format!("Revoke “{name}”"),
                back: PAGE.to_owned(),
            },
        ));
    }
    state.api.revoke_application(admin, id).await?;
    Ok(see_other(&format!("{PAGE}?done=revoked")))
}

pub(crate) async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageApplications).await?;
    let id = ApplicationId(path_id(&id, Entity::Application)?);
    let admin = page.admin(&state, Action::ManageApplications).await?;
    if !confirmed(&page.form) {
        let name = named(&state, &page, admin, id).await?;
        return Ok(ask(
            &page,
            Confirmation {
                heading: format!("Give “{name}” a new secret?"),
                consequence: format!("The current api_secret of “{name}” and every token it holds stop working at once; the application works again only once the new secret is entered into it."),
                action: format!("{PAGE}/{id}/rotate"),
                button: "Replace the secret".to_owned(),
                back: PAGE.to_owned(),
            },
        ));
    }
    let created = state.api.rotate_secret(admin, id).await?;
    Ok(credentials_page(&state, &page, &created, "New secret"))
}

/// Allows (`allow=yes`, after a confirmation) or stops allowing
/// (`allow=no`) an application to read the audit trail over FHIR.
pub(crate) async fn fhir_audit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageApplications).await?;
    let id = ApplicationId(path_id(&id, Entity::Application)?);
    // The confirmation page posts back with `allow` in its address.
    let allow = page.form.field("allow").or(page.form.query("allow")) == Some("yes");
    let admin = page.admin(&state, Action::ManageApplications).await?;
    if allow && !confirmed(&page.form) {
        let name = named(&state, &page, admin, id).await?;
        return Ok(ask(
            &page,
            Confirmation {
                heading: format!("Let “{name}” read the audit trail?"),
                consequence: format!("“{name}” will be able to read every entry of the provider's audit trail over FHIR (who did what, when, to which resident and ticket) until you withdraw this. Its tokens hold the right only once it asks for system/AuditEvent.rs."),
                action: format!("{PAGE}/{id}/fhir-audit?allow=yes"),
                button: format!("Let “{name}” read the audit trail"),
                back: PAGE.to_owned(),
            },
        ));
    }
    state.api.set_fhir_audit_access(admin, id, allow).await?;
    let done = if allow {
        "audit-granted"
    } else {
        "audit-withdrawn"
    };
    Ok(see_other(&format!("{PAGE}?done={done}")))
}

/// Registers an application's public keys (a JWK Set pasted in), or with
/// `remove`, removes them.
pub(crate) async fn fhir_keys(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageApplications).await?;
    let id = ApplicationId(path_id(&id, Entity::Application)?);
    let remove = page.form.field("remove").is_some();
    let jwks = page.form.text("jwks").trim().to_owned();
    let admin = page.admin(&state, Action::ManageApplications).await?;
    let keys = (!remove).then_some(jwks.as_str());
    let outcome = state.api.set_fhir_client_keys(admin, id, keys).await;
    submit(
        &page.form,
        outcome,
        |_| see_other(&format!("{PAGE}?done=keys")),
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}
