//! `/console/admin/notifications`: the provider's notification queue, by
//! delivery state or answer, with retry.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use connecticket_domain::audit::Action;
use connecticket_domain::model::NotificationId;
use connecticket_domain::notify::{DeliveryState, NoticeFilter};
use connecticket_domain::Entity;

use super::Administering;
use crate::console::board::Choice;
use crate::console::render::{html, local, path_id, see_other, Chrome, ConsoleError};
use crate::console::session::ConsoleRequest;
use crate::state::AppState;

pub(crate) struct QueueRow {
    pub id: i64,
    pub ticket_id: i64,
    pub event: &'static str,
    pub to: String,
    pub status: &'static str,
    pub attempts: i64,
    pub queued: String,
    pub acknowledged: bool,
    pub retryable: bool,
    /// Why it waits or failed, and when it is tried next.
    pub why: Option<String>,
}

#[derive(Template)]
#[template(path = "console/admin_notifications.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<QueueRow>,
    states: Vec<Choice>,
}

/// What the queue may be narrowed to (blank: everything).
const STATES: [&str; 7] = [
    "",
    "pending",
    "delivered",
    "failed",
    "cancelled",
    "unacknowledged",
    "overdue",
];

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::page(request, &state, Action::NotificationQueue).await?;
    let chosen = page.form.query("state").unwrap_or_default();
    let zone = page.console.holder.provider.zone();
    let found = state
        .api
        .notification_queue(
            page.admin(&state, Action::NotificationQueue).await?,
            NoticeFilter::parse(chosen),
        )
        .await?;
    let rows = found
        .iter()
        .map(|n| QueueRow {
            id: n.id.get(),
            ticket_id: n.ticket_id.get(),
            event: n.event.as_str(),
            to: format!(
                "{} by {}",
                n.role.as_str().replace('_', " "),
                n.channel.as_str()
            ),
            status: n.status.as_str(),
            attempts: n.attempts,
            queued: local(n.created_at, zone),
            acknowledged: n.acknowledged_at.is_some(),
            retryable: matches!(n.status, DeliveryState::Pending | DeliveryState::Failed),
            why: match n.status {
                DeliveryState::Delivered => None,
                DeliveryState::Cancelled => n.waiting_reason.clone(),
                DeliveryState::Failed => Some(
                    n.waiting_reason
                        .clone()
                        .unwrap_or_else(|| "refused by the transport".to_owned()),
                ),
                DeliveryState::Pending => Some(match &n.waiting_reason {
                    Some(reason) => {
                        format!("{reason}; next try {}", local(n.next_attempt_at, zone))
                    }
                    None if n.attempts == 0 => {
                        format!("queued to be sent {}", local(n.next_attempt_at, zone))
                    }
                    None => format!("to be tried again {}", local(n.next_attempt_at, zone)),
                }),
            },
        })
        .collect();
    let states = STATES
        .iter()
        .map(|s| Choice {
            value: (*s).to_owned(),
            label: if s.is_empty() {
                "All".to_owned()
            } else {
                (*s).to_owned()
            },
            selected: chosen == *s,
        })
        .collect();
    Ok(html(
        StatusCode::OK,
        &QueuePage {
            chrome: page.chrome(),
            rows,
            states,
        },
    ))
}

pub(crate) async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let page = Administering::form(request, &state, Action::ManageNotifications).await?;
    let id = NotificationId(path_id(&id, Entity::Notification)?);
    let admin = page.admin(&state, Action::ManageNotifications).await?;
    state.api.retry_notification(admin, id).await?;
    Ok(see_other("/console/admin/notifications?done=retried"))
}
