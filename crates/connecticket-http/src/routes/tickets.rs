use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use connecticket_domain::audit::Action;

use super::mark_replay;
use crate::envelope::{json, success_message};
use crate::error::HttpError;
use crate::extract::ApiRequest;
use crate::list::stream_list;
use crate::state::AppState;
use crate::wire::answers::{DetailAnswer, Success, TicketCreated};
use crate::wire::commands::{change_status, raise_ticket, ticket_id, ticket_query};
use crate::wire::{TicketJson, TicketWithDetails};

/// `GET tickets`: every ticket of the caller's provider, streamed; optional
/// paging and filters.
pub(crate) async fn list(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::Tickets, |params, _| ticket_query(params))
        .await?;
    let zone = accepted.call.principal().provider.zone();
    let deadline = accepted.deadline_passed();
    let tickets = state.api.tickets(accepted.call, accepted.input).await?;
    stream_list("ticket", tickets, deadline, move |ticket, out| {
        serde_json::to_writer(out, &TicketJson::new(ticket, zone))
    })
    .await
}

/// `GET ticket_detail?id=`
pub(crate) async fn detail(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::TicketDetail, |params, _| ticket_id(params))
        .await?;
    let zone = accepted.call.principal().provider.zone();
    let detail = state
        .api
        .ticket_detail(accepted.call, accepted.input)
        .await?;
    Ok(json(
        StatusCode::OK,
        &DetailAnswer {
            status: Success::Success,
            ticket_with_details: TicketWithDetails {
                detail: &detail,
                zone,
                token: &accepted.token,
            },
        },
    ))
}

/// `POST create_ticket` (GET accepted, as the seed documents it).
pub(crate) async fn create(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::CreateTicket, |params, _| {
            raise_ticket(params)
        })
        .await?;
    let written = state
        .api
        .create_ticket(accepted.call, accepted.input, accepted.idempotency)
        .await?;
    let response = json(
        StatusCode::OK,
        &TicketCreated {
            message: "Ticket Created Successfully!!",
            status: Success::Success,
            ticket_id: written.into_inner().get(),
        },
    );
    Ok(mark_replay(&written, response))
}

/// `POST update_status?id=&status=`
pub(crate) async fn update_status(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::UpdateStatus, |params, _| {
            change_status(params)
        })
        .await?;
    let written = state
        .api
        .update_status(accepted.call, accepted.input, accepted.idempotency)
        .await?;
    Ok(mark_replay(
        &written,
        success_message("Status Updated Successfully!!"),
    ))
}
