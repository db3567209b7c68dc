//! `/console/admin/employees`: who works here, their console accounts and
//! roles, invitations and resets, and whether a second factor is required.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::audit::{Action, Outcome};
use connecticket_domain::console::ConsoleRole;
use connecticket_domain::model::EmployeeId;
use connecticket_domain::service::{Invitation, NewEmployeeRequest};
use connecticket_domain::Entity;

use super::{base_url, shown, submit, Administering, Refused};
use crate::console::form::Kept;
use crate::console::render::{html, local, path_id, see_other, Chrome, ConsoleError};
use crate::console::session::ConsoleRequest;
use crate::console::shown_once::{self, Secret};
use crate::error::HttpError;
use crate::state::AppState;

const PAGE: &str = "/console/admin/employees";

pub(crate) struct EmployeeRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Option<&'static str>,
    pub state: String,
    pub is_self: bool,
}

#[derive(Template)]
#[template(path = "console/admin_employees.html")]
struct EmployeesPage {
    chrome: Chrome,
    employees: Vec<EmployeeRow>,
    message: Option<String>,
    kept: Kept,
    require_totp: bool,
}

async fn render(
    state: &AppState,
    page: &Administering,
    refused: Option<Refused>,
) -> Result<Response, ConsoleError> {
    let console = &page.console;
    let roster = state
        .api
        .roster(page.admin(state, Action::Employees).await?)
        .await?;
    let zone = console.holder.provider.zone();
    let employees = roster
        .iter()
        .map(|(employee, account)| EmployeeRow {
            id: employee.id.get(),
            name: employee.name.clone(),
            email: account
                .as_ref()
                .map(|a| a.email.clone())
                .or_else(|| employee.email.clone())
                .unwrap_or_default(),
            role: account.as_ref().map(|a| a.role.title()),
            state: match account {
                None => "No console account".to_owned(),
                Some(a) if a.has_password() && a.has_second_factor() => {
                    "Active, with second factor".to_owned()
                }
                Some(a) if a.has_password() => "Active".to_owned(),
                Some(a) => match a.invite_expires_at {
                    Some(at) => format!("Invited (link works until {})", local(at, zone)),
                    None => "No password".to_owned(),
                },
            },
            is_self: employee.id == console.principal().employee_id,
        })
        .collect();
    let (status, message, kept) = shown(refused);
    Ok(html(
        status,
        &EmployeesPage {
            chrome: page.chrome(),
            employees,
            message,
            kept,
            require_totp: console.holder.provider_requires_totp,
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::page(request, &state, Action::Employees).await?;
    render(&state, &page, None).await
}

fn invitation_page(
    state: &AppState,
    page: &Administering,
    base: &str,
    invitation: &Invitation,
    who: &str,
) -> Response {
    let zone = page.console.holder.provider.zone();
    let secret = Secret {
        heading: format!("Invitation for {who}"),
        lines: vec![
            (
                "Link".to_owned(),
                format!("{base}/console/invite/{}", invitation.token),
            ),
            ("Works until".to_owned(), local(invitation.expires_at, zone)),
        ],
        note: "Give this link to the employee yourself (it lets its holder set the password). It is shown only now, works once, and is not stored.".to_owned(),
        back: PAGE.to_owned(),
        lost: "Lost it? Invite the employee again: a new link replaces this one.".to_owned(),
        qr: None,
    };
    shown_once::redirect(state, &page.console, &secret)
}

fn role_of(page: &Administering) -> Option<ConsoleRole> {
    page.form.filled("role").and_then(ConsoleRole::parse)
}

/// A new employee with a console account, and the invitation's link.
pub(crate) async fn invite(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let base = base_url(&state, &request);
    let page = Administering::form(request, &state, Action::ManageEmployees).await?;
    let name = page.form.text("name");
    let new = NewEmployeeRequest {
        name,
        email: Some(page.form.text("email")),
        console_role: Some(role_of(&page).unwrap_or(ConsoleRole::Staff)),
    };
    let admin = page.admin(&state, Action::ManageEmployees).await?;
    let outcome = state.api.create_employee(admin, new).await;
    submit(
        &page.form,
        outcome,
        |(_, invitation)| match invitation {
            Some(invitation) => invitation_page(&state, &page, &base, &invitation, name),
            None => see_other(&format!("{PAGE}?done=employee")),
        },
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}

pub(crate) async fn set_role(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageEmployees).await?;
    let employee = EmployeeId(path_id(&id, Entity::Employee)?);
    let admin = page.admin(&state, Action::ManageEmployees).await?;
    let Some(role) = role_of(&page) else {
        state.api.reject_admin(admin, Outcome::Invalid).await;
        let error = HttpError::InvalidParameter("role must be staff or administrator".to_owned());
        return render(&state, &page, Some(Refused::of(&page.form, error))).await;
    };
    let outcome = state.api.set_console_role(admin, employee, role).await;
    submit(
        &page.form,
        outcome,
        |()| see_other(&format!("{PAGE}?done=employee")),
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}

/// A new invitation link: the password and second factor are cleared, and
/// every session of the employee ends. Gives an account to an employee
/// who had none.
pub(crate) async fn reset(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let base = base_url(&state, &request);
    let page = Administering::form(request, &state, Action::ManageEmployees).await?;
    let employee = EmployeeId(path_id(&id, Entity::Employee)?);
    let email = page.form.filled("email");
    let admin = page.admin(&state, Action::ManageEmployees).await?;
    let outcome = state
        .api
        .invite_to_console(admin, employee, email, role_of(&page))
        .await;
    submit(
        &page.form,
        outcome,
        |invitation| {
            invitation_page(
                &state,
                &page,
                &base,
                &invitation,
                &format!("employee {employee}"),
            )
        },
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}

pub(crate) async fn second_factor(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageEmployees).await?;
    let required = page.form.field("require_totp") == Some("1");
    let admin = page.admin(&state, Action::ManageEmployees).await?;
    state.api.require_second_factor(admin, required).await?;
    Ok(see_other(&format!("{PAGE}?done=employee")))
}
