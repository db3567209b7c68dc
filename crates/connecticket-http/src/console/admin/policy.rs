//! `/console/admin/templates`: the provider's notification policy: who is
//! told of a new ticket and of a status change, quiet hours, the numbers
//! to call, the country phone numbers are read in, and the wording (with a
//! preview before saving).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use connecticket_domain::audit::Action;
use connecticket_domain::model::ContactRole;
use connecticket_domain::notify::templates::{self, Templates};
use connecticket_domain::notify::{compose, Channel};
use connecticket_domain::service::PolicyChange;

use super::{shown, submit, Administering, Refused};
use crate::console::form::{Form, Kept};
use crate::console::render::{html, see_other, Chrome, ConsoleError};
use crate::console::session::ConsoleRequest;
use crate::error::HttpError;
use crate::state::AppState;

const SAVED: &str = "/console/admin/templates?saved";

pub(crate) struct RoleChoice {
    pub value: &'static str,
    pub label: String,
    pub on_created: bool,
    pub on_status_change: bool,
}

#[derive(Template)]
#[template(path = "console/admin_templates.html")]
struct PolicyPage {
    chrome: Chrome,
    roles: Vec<RoleChoice>,
    quiet_hours: String,
    callback_phone: String,
    after_hours_phone: String,
    country: String,
    sms: String,
    email_subject: String,
    email_body: String,
    preview: Vec<(&'static str, String)>,
    message: Option<String>,
    kept: Kept,
    saved: bool,
}

/// What each part would read for the sample resident; a part left empty
/// keeps the default wording.
fn preview(
    templates: &Templates,
    provider: &str,
    callback: Option<&str>,
    after_hours: Option<&str>,
) -> Vec<(&'static str, String)> {
    let who = templates::PREVIEW_RESIDENT;
    let (_, sms) = compose(
        Channel::Sms,
        templates,
        who,
        provider,
        callback,
        after_hours,
    );
    let (subject, body) = compose(
        Channel::Email,
        templates,
        who,
        provider,
        callback,
        after_hours,
    );
    vec![
        ("SMS", sms),
        ("Email subject", subject.unwrap_or_default()),
        ("Email body", body),
    ]
}

/// The templates a form sent (blank parts: the default wording).
fn templates_of(form: &Form) -> Templates {
    let part = |name: &str| form.filled(name).map(str::to_owned);
    Templates {
        sms: part("sms"),
        email_subject: part("email_subject"),
        email_body: part("email_body"),
    }
}

/// The page; `previewed`, templates checked but not saved, to preview.
async fn render(
    state: &AppState,
    page: &Administering,
    previewed: Option<Templates>,
    refused: Option<Refused>,
) -> Result<Response, ConsoleError> {
    let policy = state
        .api
        .notify_policy(page.admin(state, Action::ProviderSettings).await?)
        .await?;
    let templates = previewed.unwrap_or(policy.templates);
    let provider = page.console.holder.provider.name.clone();
    let text = |part: &Option<String>| part.clone().unwrap_or_default();
    let roles = ContactRole::ALL
        .iter()
        .map(|role| RoleChoice {
            value: role.as_str(),
            label: role.as_str().replace('_', " "),
            on_created: policy.on_created.contains(role),
            on_status_change: policy.on_status_change.contains(role),
        })
        .collect();
    let (status, message, kept) = shown(refused);
    Ok(html(
        status,
        &PolicyPage {
            chrome: page.chrome(),
            roles,
            quiet_hours: policy.quiet_hours.render(),
            callback_phone: policy.callback_phone.clone().unwrap_or_default(),
            after_hours_phone: policy.after_hours_phone.clone().unwrap_or_default(),
            country: page.console.holder.provider.country.clone(),
            sms: text(&templates.sms),
            email_subject: text(&templates.email_subject),
            email_body: text(&templates.email_body),
            preview: preview(
                &templates,
                &provider,
                policy.callback_phone.as_deref(),
                policy.after_hours_phone.as_deref(),
            ),
            message,
            kept,
            saved: page.form.query_has("saved"),
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::page(request, &state, Action::ProviderSettings).await?;
    render(&state, &page, None, None).await
}

/// Saves the templates, or (`preview`) shows what they would read without
/// saving; either way each part is checked as saving checks it.
pub(crate) async fn set_templates(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::NotifyPolicy).await?;
    let sent = templates_of(&page.form);
    if page.form.field("preview").is_some() {
        return match templates::check_all(sent.clone()) {
            Ok(checked) => render(&state, &page, Some(checked), None).await,
            Err(error) => {
                let refused = Refused::of(&page.form, HttpError::from(error));
                render(&state, &page, Some(sent), Some(refused)).await
            }
        };
    }
    let change = PolicyChange {
        sms_template: Some(sent.sms.clone().unwrap_or_default()),
        email_subject_template: Some(sent.email_subject.clone().unwrap_or_default()),
        email_body_template: Some(sent.email_body.clone().unwrap_or_default()),
        ..PolicyChange::default()
    };
    let admin = page.admin(&state, Action::NotifyPolicy).await?;
    let outcome = state.api.change_notify_policy(admin, change).await;
    submit(
        &page.form,
        outcome,
        |_| see_other(SAVED),
        |refused| render(&state, &page, Some(sent), Some(refused)),
    )
    .await
}

/// Who is told of a new ticket and of a status change, quiet hours and
/// the callback number.
pub(crate) async fn set_rules(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::NotifyPolicy).await?;
    let form = &page.form;
    // A group of checkboxes: each ticked role is one value of the name.
    let chosen = |field: &str| form.all(field).filter_map(ContactRole::parse).collect();
    let change = PolicyChange {
        on_created: Some(chosen("created")),
        on_status_change: Some(chosen("status_change")),
        quiet_hours: Some(form.text("quiet_hours").to_owned()),
        callback_phone: Some(form.text("callback_phone").to_owned()),
        after_hours_phone: Some(form.text("after_hours_phone").to_owned()),
        ..PolicyChange::default()
    };
    let admin = page.admin(&state, Action::NotifyPolicy).await?;
    let outcome = state.api.change_notify_policy(admin, change).await;
    submit(
        form,
        outcome,
        |_| see_other(SAVED),
        |refused| render(&state, &page, None, Some(refused)),
    )
    .await
}

/// The country numbers written without a country code are read in.
pub(crate) async fn set_country(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageProviders).await?;
    let admin = page.admin(&state, Action::ManageProviders).await?;
    let outcome = state
        .api
        .set_phone_country(admin, page.form.text("country"))
        .await;
    submit(
        &page.form,
        outcome,
        |_| see_other(SAVED),
        |refused| render(&state, &page, None, Some(refused)),
    )
    .await
}
