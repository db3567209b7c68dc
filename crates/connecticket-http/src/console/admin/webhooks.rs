//! `/console/admin/webhooks`: the endpoints applications registered for
//! events, what waits for each and why one fails; an administrator sends a
//! period's events again (re-enabling a disabled endpoint) or deletes one.
//! Applications register and rotate their endpoints through the API.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Utc;
use connecticket_domain::audit::Action;
use connecticket_domain::events::webhooks::ReplayRange;
use connecticket_domain::model::WebhookId;
use connecticket_domain::Entity;

use connecticket_domain::events::EventKind;
use connecticket_domain::model::ApplicationId;
use connecticket_domain::service::{WebhookRequest, WebhookWithSecret};

use super::confirm::{ask, confirmed, Confirmation};
use super::{shown, submit, Administering, Refused};
use crate::console::form::Kept;
use crate::console::render::{html, local, path_id, see_other, Chrome, ConsoleError};
use crate::console::session::ConsoleRequest;
use crate::console::shown_once::{self, Secret};
use crate::state::AppState;

const PAGE: &str = "/console/admin/webhooks";

/// The periods a replay offers, in hours.
const PERIODS: [(i64, &str); 5] = [
    (1, "the last hour"),
    (6, "the last 6 hours"),
    (24, "the last 24 hours"),
    (72, "the last 3 days"),
    (168, "the last 7 days"),
];

pub(crate) struct WebhookRow {
    pub id: i64,
    pub application: String,
    pub url: String,
    pub events: String,
    /// "Delivering", "Retrying since …", "Disabled since …".
    pub state: String,
    pub disabled: bool,
    pub waiting: String,
    pub last_error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/admin_webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    webhooks: Vec<WebhookRow>,
    periods: Vec<(i64, &'static str)>,
    disabled: usize,
    message: Option<String>,
    /// The live applications an endpoint may be registered for: (id, name).
    applications: Vec<(i64, String)>,
    /// Every event type, for the registration form's boxes.
    kinds: Vec<&'static str>,
    kept: Kept,
}

fn waiting(pending: u64, oldest: Option<chrono::DateTime<Utc>>) -> String {
    match (pending, oldest) {
        (0, _) => "Nothing".to_owned(),
        (n, Some(at)) => {
            let minutes = (Utc::now() - at).num_minutes().max(0);
            let age = match minutes {
                0 => "under a minute".to_owned(),
                1..=119 => format!("{minutes} min"),
                _ => format!("{} h", minutes / 60),
            };
            format!("{n} (oldest {age})")
        }
        (n, None) => n.to_string(),
    }
}

async fn render(
    state: &AppState,
    page: &Administering,
    refused: Option<Refused>,
) -> Result<Response, ConsoleError> {
    let zone = page.console.holder.provider.zone();
    let webhooks = state
        .api
        .admin_webhooks(page.admin(state, Action::ManageWebhooks).await?)
        .await?;
    let applications = state
        .api
        .list_applications(page.admin(state, Action::Applications).await?)
        .await?;
    let rows: Vec<WebhookRow> = webhooks
        .iter()
        .map(|w| {
            let application = applications
                .iter()
                .find(|a| a.id == w.application_id)
                .map_or_else(|| format!("#{}", w.application_id), |a| a.name.clone());
            let state = match (w.disabled_at, w.failing_since) {
                (Some(at), _) => format!("Disabled since {}", local(at, zone)),
                (None, Some(at)) => format!(
                    "Retrying since {}; next try {}",
                    local(at, zone),
                    local(w.next_attempt_at, zone)
                ),
                (None, None) => "Delivering".to_owned(),
            };
            WebhookRow {
                id: w.id.get(),
                application,
                url: w.url.clone(),
                events: if w.event_types.is_empty() {
                    "All".to_owned()
                } else {
                    w.event_types
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                state,
                disabled: w.disabled_at.is_some(),
                waiting: waiting(w.pending, w.oldest_pending_at),
                last_error: w.last_error.clone(),
            }
        })
        .collect();
    let disabled = rows.iter().filter(|r| r.disabled).count();
    let (status, message, kept) = shown(refused);
    Ok(html(
        status,
        &WebhooksPage {
            chrome: page.chrome(),
            webhooks: rows,
            periods: PERIODS.to_vec(),
            disabled,
            message,
            applications: applications
                .iter()
                .filter(|a| a.revoked_at.is_none())
                .map(|a| (a.id.get(), a.name.clone()))
                .collect(),
            kinds: EventKind::ALL.iter().map(|k| k.as_str()).collect(),
            kept,
        },
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::page(request, &state, Action::ManageWebhooks).await?;
    render(&state, &page, None).await
}

/// The secret of an endpoint just registered or rotated, shown once.
fn secret_page(
    state: &AppState,
    page: &Administering,
    heading: String,
    created: &WebhookWithSecret,
) -> Response {
    let secret = Secret {
        heading,
        lines: vec![
            ("Address".to_owned(), created.webhook.url.clone()),
            ("Signing secret".to_owned(), created.secret.clone()),
        ],
        note: "Give the signing secret to the application's team, for their receiver to check each delivery's webhook-signature header (docs/EVENTS.md). It is shown only now.".to_owned(),
        back: PAGE.to_owned(),
        lost: "Lost it? Rotate the secret: a new one is shown, and the old one keeps signing for 24 hours.".to_owned(),
        qr: None,
    };
    shown_once::redirect(state, &page.console, &secret)
}

/// Registers an endpoint for one of the provider's applications.
pub(crate) async fn register(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageWebhooks).await?;
    let application = page
        .form
        .text("application")
        .trim()
        .parse::<i64>()
        .map(ApplicationId)
        .unwrap_or(ApplicationId(0));
    let kinds: Vec<&str> = page.form.all("event").collect();
    let request = WebhookRequest {
        url: page.form.text("url").to_owned(),
        event_types: (!kinds.is_empty()).then(|| kinds.join(",")),
    };
    let admin = page.admin(&state, Action::ManageWebhooks).await?;
    let outcome = state
        .api
        .admin_register_webhook(admin, application, request)
        .await;
    submit(
        &page.form,
        outcome,
        |created| secret_page(&state, &page, "Webhook registered".to_owned(), &created),
        |refused| render(&state, &page, Some(refused)),
    )
    .await
}

/// The endpoint a confirmation asks about: one of the provider's, else
/// the 404 page (audited as not found).
async fn one(
    state: &AppState,
    page: &Administering,
    admin: connecticket_domain::service::AdminCall,
    id: WebhookId,
) -> Result<connecticket_domain::events::webhooks::Webhook, ConsoleError> {
    let webhooks = state.api.admin_webhooks(admin).await?;
    match webhooks.into_iter().find(|w| w.id == id) {
        Some(webhook) => Ok(webhook),
        None => Err(page
            .not_found(state, Action::ManageWebhooks, Entity::Webhook)
            .await),
    }
}

/// A new signing secret, after a confirmation.
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageWebhooks).await?;
    let id = WebhookId(path_id(&id, Entity::Webhook)?);
    let admin = page.admin(&state, Action::ManageWebhooks).await?;
    if !confirmed(&page.form) {
        let webhook = one(&state, &page, admin, id).await?;
        let url = webhook.url;
        return Ok(ask(
            &page,
            Confirmation {
                heading: format!("A new signing secret for {url}?"),
                consequence: "You get a new secret, shown once. For 24 hours every delivery is signed with both the old and the new one, so the receiver can switch without losing events; after that, only the new one.".to_owned(),
                action: format!("{PAGE}/{id}/rotate"),
                button: "Make a new secret".to_owned(),
                back: PAGE.to_owned(),
            },
        ));
    }
    let rotated = state.api.admin_rotate_webhook(admin, id).await?;
    Ok(secret_page(
        &state,
        &page,
        "New signing secret".to_owned(),
        &rotated,
    ))
}

/// Sends a period's events again to one endpoint.
pub(crate) async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageWebhooks).await?;
    let id = WebhookId(path_id(&id, Entity::Webhook)?);
    let hours = page
        .form
        .text("hours")
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|hours| PERIODS.iter().any(|(h, _)| h == hours))
        .unwrap_or(24);
    let since = Utc::now() - chrono::Duration::hours(hours);
    let admin = page.admin(&state, Action::ManageWebhooks).await?;
    state
        .api
        .admin_replay_webhook(admin, id, ReplayRange::Since(since))
        .await?;
    Ok(see_other(&format!("{PAGE}?done=replayed")))
}

/// Deletes an endpoint, after a confirmation.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageWebhooks).await?;
    let id = WebhookId(path_id(&id, Entity::Webhook)?);
    let admin = page.admin(&state, Action::ManageWebhooks).await?;
    if !confirmed(&page.form) {
        let webhook = one(&state, &page, admin, id).await?;
        let url = webhook.url;
        return Ok(ask(
            &page,
            Confirmation {
                heading: format!("Delete the webhook to {url}?"),
                consequence: format!("Nothing more is sent to {url}, and the {} deliveries waiting for it are dropped. The application can still read every event from the change feed, and register the endpoint again.", webhook.pending),
                action: format!("{PAGE}/{id}/delete"),
                button: "Delete the webhook".to_owned(),
                back: PAGE.to_owned(),
            },
        ));
    }
    state.api.admin_delete_webhook(admin, id).await?;
    Ok(see_other(&format!("{PAGE}?done=webhook-deleted")))
}
