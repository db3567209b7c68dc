//! The change feed and webhook endpoints (docs/EVENTS.md).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use connecticket_domain::audit::Action;
use connecticket_domain::{DomainError, Entity};

use crate::envelope::json;
use crate::error::HttpError;
use crate::extract::ApiRequest;
use crate::state::AppState;
use crate::wire::answers::{
    ChangesAnswer, Done, ReplayAnswer, Success, WebhookJson, WebhookWithSecretAnswer,
    WebhooksAnswer,
};
use crate::wire::commands::{feed_query, replay_range, webhook_id, webhook_request};

fn no_such_webhook() -> HttpError {
    HttpError::Domain(DomainError::NotFound(Entity::Webhook))
}

/// `GET changes?after=&limit=`: the provider's events after a cursor.
pub(crate) async fn changes(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::Changes, |params, _| feed_query(params))
        .await?;
    let page = state.api.changes(accepted.call, accepted.input).await?;
    Ok(json(
        StatusCode::OK,
        &ChangesAnswer {
            events: page.events.iter().map(|event| event.to_json()).collect(),
            next_cursor: page.next_cursor,
            has_more: page.has_more,
            status: Success::Success,
        },
    ))
}

/// `POST webhooks` with `url` and `event_types`: registers an endpoint of
/// the calling application; the answer holds its secret, once.
pub(crate) async fn register(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::ManageWebhooks, |params, _| {
            webhook_request(params)
        })
        .await?;
    let created = state
        .api
        .register_webhook(accepted.call, accepted.input)
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &WebhookWithSecretAnswer {
            message: "Webhook registered; keep the secret, it is not shown again",
            webhook: WebhookJson::new(&created.webhook),
            secret: created.secret,
            status: Success::Success,
        },
    ))
}

/// `GET webhooks`: the calling application's endpoints.
pub(crate) async fn list(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::ManageWebhooks, |_, _| Ok(()))
        .await?;
    let webhooks = state.api.application_webhooks(accepted.call).await?;
    Ok(json(
        StatusCode::OK,
        &WebhooksAnswer {
            webhooks: webhooks.iter().map(WebhookJson::new).collect(),
            status: Success::Success,
        },
    ))
}

/// `DELETE webhooks/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::ManageWebhooks, |_, parts| {
            webhook_id(parts.uri.path()).ok_or_else(no_such_webhook)
        })
        .await?;
    state
        .api
        .delete_webhook(accepted.call, accepted.input)
        .await?;
    Ok(json(
        StatusCode::OK,
        &Done {
            message: "Webhook deleted",
            status: Success::Success,
        },
    ))
}

/// `POST webhooks/{id}/rotate`: a new secret; the old one keeps signing
/// for 24 hours.
pub(crate) async fn rotate(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::ManageWebhooks, |_, parts| {
            webhook_id(parts.uri.path()).ok_or_else(no_such_webhook)
        })
        .await?;
    let rotated = state
        .api
        .rotate_webhook_secret(accepted.call, accepted.input)
        .await?;
    Ok(json(
        StatusCode::OK,
        &WebhookWithSecretAnswer {
            message: "Secret rotated; the previous one also signs for 24 hours",
            webhook: WebhookJson::new(&rotated.webhook),
            secret: rotated.secret,
            status: Success::Success,
        },
    ))
}

/// `POST webhooks/{id}/replay` with `from` and `through` cursors.
pub(crate) async fn replay(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::ManageWebhooks, |params, parts| {
            let id = webhook_id(parts.uri.path()).ok_or_else(no_such_webhook)?;
            Ok((id, replay_range(params)?))
        })
        .await?;
    let (id, range) = accepted.input;
    let queued = state.api.replay_webhook(accepted.call, id, range).await?;
    Ok(json(
        StatusCode::OK,
        &ReplayAnswer {
            message: "Events queued again",
            queued,
            status: Success::Success,
        },
    ))
}
