//! Administration: employees' console accounts and the applications that
//! use the API. Every use case here refuses staff (`Forbidden`), so a
//! staff account that types one of these addresses gets a 403 page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use connecticket_domain::audit::{Action, Outcome};
use connecticket_domain::console::ConsoleRole;
use connecticket_domain::model::{ApplicationId, EmployeeId};
use connecticket_domain::service::{ConsoleCall, CreatedApplication, Invitation};
use connecticket_domain::{DomainError, Entity};

use super::render::{html, local, path_id, see_other, Chrome, ConsoleError};
use super::session::{ConsoleRequest, Signed};
use crate::error::HttpError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/admin.html")]
struct Overview {
    chrome: Chrome,
}

/// `GET /console/admin`: where administration starts (administrators only:
/// it reads the roster, which staff may not).
pub(crate) async fn overview(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::ConsolePage).await?;
    state
        .api
        .roster(signed.console.call(Action::ConsolePage))
        .await?;
    Ok(html(
        StatusCode::OK,
        &Overview {
            chrome: Chrome::of(&signed.console, "admin"),
        },
    ))
}

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
    require_totp: bool,
}

async fn employees_page(
    state: &AppState,
    console: &ConsoleCall,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, ConsoleError> {
    let roster = state.api.roster(console.call(Action::ConsolePage)).await?;
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
    Ok(html(
        status,
        &EmployeesPage {
            chrome: Chrome::of(console, "admin"),
            employees,
            message,
            require_totp: console.holder.provider_requires_totp,
        },
    ))
}

pub(crate) async fn employees(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::ManageEmployees).await?;
    employees_page(&state, &signed.console, StatusCode::OK, None).await
}

#[derive(Template)]
#[template(path = "console/shown_once.html")]
struct ShownOnce {
    chrome: Chrome,
    heading: String,
    lines: Vec<(&'static str, String)>,
    note: &'static str,
    back: &'static str,
}

/// Where the server is reached, for links shown to administrators.
fn base_url(state: &AppState, request_host: Option<&str>) -> String {
    if let Some(url) = state.public_url.as_deref() {
        return url.trim_end_matches('/').to_owned();
    }
    let scheme = if state.secure_cookies {
        "https"
    } else {
        "http"
    };
    match request_host {
        Some(host) => format!("{scheme}://{host}"),
        None => String::new(),
    }
}

fn invitation_page(
    console: &ConsoleCall,
    base: &str,
    invitation: &Invitation,
    who: &str,
) -> Response {
    let zone = console.holder.provider.zone();
    html(
        StatusCode::OK,
        &ShownOnce {
            chrome: Chrome::of(console, "admin"),
            heading: format!("Invitation for {who}"),
            lines: vec![
                ("Link", format!("{base}/console/invite/{}", invitation.token)),
                ("Works until", local(invitation.expires_at, zone)),
            ],
            note: "Give this link to the employee yourself (it lets its holder set the password). It is shown only now, works once, and is not stored.",
            back: "/console/admin/employees",
        },
    )
}

fn role_param(signed: &Signed) -> Option<ConsoleRole> {
    signed.params.get("role").and_then(ConsoleRole::parse)
}

fn host(request: &ConsoleRequest) -> Option<String> {
    request
        .parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
}

/// A refusal of an administration form, shown on the employees page.
async fn employees_refusal(
    state: &AppState,
    console: &ConsoleCall,
    error: DomainError,
) -> Result<Response, ConsoleError> {
    match error {
        DomainError::Invalid(_) | DomainError::Duplicate { .. } | DomainError::NotFound(_) => {
            let error = HttpError::from(error);
            employees_page(state, console, error.status(), Some(error.message())).await
        }
        other => Err(other.into()),
    }
}

pub(crate) async fn invite(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let host = host(&request);
    let signed = request.form(&state, Action::ManageEmployees).await?;
    let console = &signed.console;
    let name = signed.params.get("name").unwrap_or_default().to_owned();
    let email = signed.params.get("email").unwrap_or_default();
    let role = role_param(&signed).unwrap_or(ConsoleRole::Staff);
    match state
        .api
        .invite_employee(console.call(Action::ManageEmployees), &name, email, role)
        .await
    {
        Ok(invitation) => Ok(invitation_page(
            console,
            &base_url(&state, host.as_deref()),
            &invitation,
            &name,
        )),
        Err(error) => employees_refusal(&state, console, error).await,
    }
}

pub(crate) async fn set_role(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageEmployees).await?;
    let console = &signed.console;
    let employee = EmployeeId(path_id(&id, Entity::Employee)?);
    let Some(role) = role_param(&signed) else {
        console
            .refuse(Action::ManageEmployees, Outcome::Invalid)
            .await;
        let message = "role must be staff or administrator".to_owned();
        return employees_page(
            &state,
            console,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
        )
        .await;
    };
    match state
        .api
        .set_console_role(console.call(Action::ManageEmployees), employee, role)
        .await
    {
        Ok(()) => Ok(see_other("/console/admin/employees")),
        Err(error) => employees_refusal(&state, console, error).await,
    }
}

/// A new invitation link: the password and second factor are cleared, and
/// every session of the employee ends. Gives an account to an employee
/// who had none.
pub(crate) async fn reset(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let host = host(&request);
    let signed = request.form(&state, Action::ManageEmployees).await?;
    let console = &signed.console;
    let employee = EmployeeId(path_id(&id, Entity::Employee)?);
    let email = signed.params.non_blank("email");
    let role = role_param(&signed);
    match state
        .api
        .reset_console_account(console.call(Action::ManageEmployees), employee, email, role)
        .await
    {
        Ok(invitation) => Ok(invitation_page(
            console,
            &base_url(&state, host.as_deref()),
            &invitation,
            &format!("employee {employee}"),
        )),
        Err(error) => employees_refusal(&state, console, error).await,
    }
}

pub(crate) async fn second_factor(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageEmployees).await?;
    let required = signed.params.get("require_totp") == Some("1");
    state
        .api
        .require_second_factor(signed.console.call(Action::ManageEmployees), required)
        .await?;
    Ok(see_other("/console/admin/employees"))
}

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
}

async fn applications_page(
    state: &AppState,
    console: &ConsoleCall,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, ConsoleError> {
    let zone = console.holder.provider.zone();
    let applications = state
        .api
        .console_applications(console.call(Action::ConsolePage))
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
    Ok(html(
        status,
        &ApplicationsPage {
            chrome: Chrome::of(console, "admin"),
            applications,
            message,
        },
    ))
}

pub(crate) async fn applications(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::ManageApplications).await?;
    applications_page(&state, &signed.console, StatusCode::OK, None).await
}

fn credentials_page(
    console: &ConsoleCall,
    created: &CreatedApplication,
    heading: &str,
) -> Response {
    html(
        StatusCode::OK,
        &ShownOnce {
            chrome: Chrome::of(console, "admin"),
            heading: format!("{heading}: {}", created.application.name),
            lines: vec![
                ("api_key", created.application.api_key.clone()),
                ("api_secret", created.api_secret.clone()),
            ],
            note: "Copy the api_secret into the application now: it is shown only once and is not stored (only its keyed hash is).",
            back: "/console/admin/applications",
        },
    )
}

pub(crate) async fn register(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageApplications).await?;
    let console = &signed.console;
    let name = signed.params.get("name").unwrap_or_default();
    match state
        .api
        .register_application(console.call(Action::ManageApplications), name)
        .await
    {
        Ok(created) => Ok(credentials_page(
            console,
            &created,
            "Application registered",
        )),
        Err(error @ DomainError::Invalid(_)) => {
            let error = HttpError::from(error);
            applications_page(&state, console, error.status(), Some(error.message())).await
        }
        Err(error) => Err(error.into()),
    }
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageApplications).await?;
    let id = ApplicationId(path_id(&id, Entity::Application)?);
    state
        .api
        .revoke_console_application(signed.console.call(Action::ManageApplications), id)
        .await?;
    Ok(see_other("/console/admin/applications"))
}

pub(crate) async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::ManageApplications).await?;
    let id = ApplicationId(path_id(&id, Entity::Application)?);
    let created = state
        .api
        .rotate_console_application(signed.console.call(Action::ManageApplications), id)
        .await?;
    Ok(credentials_page(&signed.console, &created, "New secret"))
}
