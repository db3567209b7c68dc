//! The console's administration, one module per page: employees,
//! applications, categories, the notification policy, escalation, the
//! notification queue, the audit trail, and residents' contacts (whose
//! forms live on the resident's page).
//!
//! Every handler gets an administration call (`Administering::admin`)
//! for each use case it runs: only one of the provider's administrators
//! gets one, so staff who type these addresses get a 403 page and an
//! audited refusal. The pages follow one pattern (`submit`): show; on a
//! form, run the use case; if it is refused for something the person can
//! correct, show the page again with the reason and everything they typed;
//! once it succeeds, redirect (or show what is shown only once).

mod applications;
mod audit;
mod categories;
mod confirm;
pub(crate) mod contacts;
mod displays;
mod employees;
mod escalation;
mod overview;
mod policy;
mod queue;
mod webhooks;

use std::future::Future;

use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use connecticket_domain::audit::Action;
use connecticket_domain::service::{AdminCall, ConsoleCall};
use connecticket_domain::DomainError;

use super::form::{Form, Kept};
use super::render::{Chrome, ConsoleError};
use super::session::ConsoleRequest;
use crate::error::HttpError;
use crate::state::AppState;

/// The administration's routes, under `/console/admin`.
pub(crate) fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/admin", get(overview::show)),
        (
            "/admin/employees",
            get(employees::show).post(employees::invite),
        ),
        ("/admin/employees/{id}/role", post(employees::set_role)),
        ("/admin/employees/{id}/reset", post(employees::reset)),
        ("/admin/second-factor", post(employees::second_factor)),
        (
            "/admin/applications",
            get(applications::show).post(applications::register),
        ),
        (
            "/admin/applications/{id}/revoke",
            post(applications::revoke),
        ),
        (
            "/admin/applications/{id}/rotate",
            post(applications::rotate),
        ),
        (
            "/admin/applications/{id}/fhir-audit",
            post(applications::fhir_audit),
        ),
        (
            "/admin/applications/{id}/fhir-keys",
            post(applications::fhir_keys),
        ),
        ("/admin/audit", get(audit::show)),
        ("/admin/audit.csv", get(audit::export)),
        ("/admin/notifications", get(queue::show)),
        ("/admin/notifications/{id}/retry", post(queue::retry)),
        (
            "/admin/escalation",
            get(escalation::show).post(escalation::set_rule),
        ),
        ("/admin/escalation/staff", post(escalation::add_staff)),
        (
            "/admin/escalation/staff/{id}/remove",
            post(escalation::remove_staff),
        ),
        (
            "/admin/categories",
            get(categories::show).post(categories::add),
        ),
        ("/admin/categories/{id}", post(categories::rename)),
        (
            "/admin/templates",
            get(policy::show).post(policy::set_templates),
        ),
        ("/admin/phone-country", post(policy::set_country)),
        ("/admin/notify-rules", post(policy::set_rules)),
        ("/admin/displays", get(displays::show).post(displays::grant)),
        ("/admin/displays/{id}/revoke", post(displays::revoke)),
        (
            "/admin/webhooks",
            get(webhooks::show).post(webhooks::register),
        ),
        ("/admin/webhooks/{id}/rotate", post(webhooks::rotate)),
        ("/admin/webhooks/{id}/replay", post(webhooks::replay)),
        ("/admin/webhooks/{id}/delete", post(webhooks::delete)),
        ("/residents/{id}/contacts", post(contacts::add)),
        ("/residents/{id}/contacts/{contact}", post(contacts::update)),
        (
            "/residents/{id}/contacts/{contact}/remove",
            post(contacts::remove),
        ),
    ]
}

/// An administrator's request: the signed-in session and what its page or
/// form sent.
pub(crate) struct Administering {
    pub console: ConsoleCall,
    pub form: Form,
}

impl Administering {
    /// A page: the session checked, the query read.
    pub(crate) async fn page(
        request: ConsoleRequest,
        state: &AppState,
        action: Action,
    ) -> Result<Self, ConsoleError> {
        let (console, form) = request.console_page(state, action).await?;
        Ok(Administering { console, form })
    }

    /// A form: the session, then the body and its CSRF token.
    pub(crate) async fn form(
        request: ConsoleRequest,
        state: &AppState,
        action: Action,
    ) -> Result<Self, ConsoleError> {
        let (console, form) = request.console_form(state, action).await?;
        Ok(Administering { console, form })
    }

    /// An administration call for one use case, under `action`: refused
    /// (and audited) unless the session is an administrator's.
    pub(crate) async fn admin(
        &self,
        state: &AppState,
        action: Action,
    ) -> Result<AdminCall, ConsoleError> {
        Ok(state.api.administer(self.console.call(action)).await?)
    }

    /// A record the page names is not this provider's (or not there):
    /// the attempt is audited under `action` as not found, as the action
    /// itself would have been.
    pub(crate) async fn not_found(
        &self,
        state: &AppState,
        action: Action,
        entity: connecticket_domain::Entity,
    ) -> ConsoleError {
        match self.admin(state, action).await {
            Ok(call) => {
                state
                    .api
                    .reject_admin(call, connecticket_domain::audit::Outcome::NotFound)
                    .await;
                DomainError::NotFound(entity).into()
            }
            Err(refused) => refused,
        }
    }

    pub(crate) fn chrome(&self) -> Chrome {
        Chrome::of(&self.console, "admin").noted(self.form.query("done"))
    }
}

/// A form the use case refused for something the person can correct: the
/// answer's status, the reason, and what they typed.
pub(crate) struct Refused {
    pub status: StatusCode,
    pub message: String,
    pub kept: Kept,
}

impl Refused {
    /// A refusal the surface itself made (a field it could not read).
    pub(crate) fn of(form: &Form, error: HttpError) -> Self {
        Refused {
            status: error.status(),
            message: error.message(),
            kept: form.kept(),
        }
    }
}

/// What a page shows of a refused form: its reason and its values.
pub(crate) fn shown(refused: Option<Refused>) -> (StatusCode, Option<String>, Kept) {
    match refused {
        Some(refused) => (refused.status, Some(refused.message), refused.kept),
        None => (StatusCode::OK, None, Kept::default()),
    }
}

/// The form-page pattern: `outcome` is the use case's; on success
/// `done` answers, on a refusal the person can correct `again` renders the
/// page with the reason and their values, and anything else is an error
/// page.
pub(crate) async fn submit<T, Again>(
    form: &Form,
    outcome: Result<T, DomainError>,
    done: impl FnOnce(T) -> Response,
    again: impl FnOnce(Refused) -> Again,
) -> Result<Response, ConsoleError>
where
    Again: Future<Output = Result<Response, ConsoleError>>,
{
    match outcome {
        Ok(value) => Ok(done(value)),
        Err(
            error @ (DomainError::Invalid(_)
            | DomainError::Duplicate { .. }
            | DomainError::NotFound(_)
            | DomainError::Conflict(_)),
        ) => again(Refused::of(form, HttpError::from(error))).await,
        Err(other) => Err(other.into()),
    }
}

/// Where the server is reached, for links shown to administrators.
pub(crate) fn base_url(state: &AppState, request: &ConsoleRequest) -> String {
    if let Some(url) = state.public_url.as_deref() {
        return url.trim_end_matches('/').to_owned();
    }
    let scheme = if state.secure_cookies {
        "https"
    } else {
        "http"
    };
    let host = request
        .parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    match host {
        Some(host) => format!("{scheme}://{host}"),
        None => String::new(),
    }
}
