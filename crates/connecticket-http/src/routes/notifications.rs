//! The staff side of notifications: who was told and who answered, and
//! recording an answer taken on a recipient's behalf.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use connecticket_domain::audit::Action;

use crate::envelope;
use crate::error::HttpError;
use crate::extract::ApiRequest;
use crate::state::AppState;
use crate::wire::answers::{Acknowledged, NotificationsAnswer, Success};
use crate::wire::commands::{notice_request, staff_acknowledgment};
use crate::wire::NoticeJson;

/// `GET notifications?ticket_id=&state=&page=&per_page=`: a page of the
/// provider's notifications, oldest first, without addresses.
pub(crate) async fn list(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::Notifications, |params, _| {
            notice_request(params)
        })
        .await?;
    let zone = accepted.call.principal().provider.zone();
    let page = accepted.input.page;
    let notices = state
        .api
        .notifications(accepted.call, accepted.input)
        .await?;
    let notifications = notices.iter().map(|n| NoticeJson::new(n, zone)).collect();
    Ok(envelope::json(
        StatusCode::OK,
        &NotificationsAnswer {
            notifications,
            page: page.number,
            per_page: page.per_page,
            status: Success::Success,
        },
    ))
}

/// `POST acknowledge` with `notification_id` and `note`: the calling
/// employee took the recipient's answer (a physician who called back).
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::Acknowledge, |params, _| {
            staff_acknowledgment(params)
        })
        .await?;
    let zone = accepted.call.principal().provider.zone();
    let notice = state.api.acknowledge(accepted.call, accepted.input).await?;
    Ok(envelope::json(
        StatusCode::OK,
        &Acknowledged {
            message: "Notification acknowledged",
            notification: NoticeJson::new(&notice, zone),
            status: Success::Success,
        },
    ))
}
