use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::mark_replay;
use crate::envelope::{json, success_message};
use crate::error::HttpError;
use crate::extract::{token_segment, Caller, IdempotencyKey, Params};
use crate::list::stream_list;
use crate::state::AppState;
use crate::wire::{ticket_with_details, TicketJson};

/// `GET tickets`: every ticket of the caller's provider, streamed; optional
/// paging and filters.
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller {
        principal: caller,
        context,
    }: Caller,
    Params(params): Params,
) -> Result<Response, HttpError> {
    let zone = caller.provider.zone();
    let tickets = state.api.tickets(&context, &caller, &params).await?;
    stream_list("ticket", tickets, move |ticket, out| {
        serde_json::to_writer(out, &TicketJson::new(ticket, zone))
    })
    .await
}

/// `GET ticket_detail?id=`
pub(crate) async fn detail(
    State(state): State<AppState>,
    Caller {
        principal: caller,
        context,
    }: Caller,
    OriginalUri(uri): OriginalUri,
    Params(params): Params,
) -> Result<Response, HttpError> {
    let detail = state.api.ticket_detail(&context, &caller, &params).await?;
    let token = token_segment(uri.path()).unwrap_or_default();
    let body = ticket_with_details(&detail, caller.provider.zone(), token)
        .map_err(|error| HttpError::Internal(error.to_string()))?;
    Ok(json(
        StatusCode::OK,
        &json!({"status": "Success", "ticket_with_details": body}),
    ))
}

/// `POST create_ticket` (GET accepted, as the seed documents it).
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller {
        principal: caller,
        context,
    }: Caller,
    IdempotencyKey(key): IdempotencyKey,
    Params(params): Params,
) -> Result<Response, HttpError> {
    let written = state
        .api
        .create_ticket(&context, &caller, &params, key.as_deref())
        .await?;
    let ticket_id = *match &written {
        connecticket_domain::store::Written::Fresh(id)
        | connecticket_domain::store::Written::Replayed(id) => id,
    };
    let response = json(
        StatusCode::OK,
        &json!({
            "status": "Success",
            "ticket_id": ticket_id,
            "message": "Ticket Created Successfully!!",
        }),
    );
    Ok(mark_replay(&written, response))
}

/// `POST update_status?id=&status=`
pub(crate) async fn update_status(
    State(state): State<AppState>,
    Caller {
        principal: caller,
        context,
    }: Caller,
    IdempotencyKey(key): IdempotencyKey,
    Params(params): Params,
) -> Result<Response, HttpError> {
    let written = state
        .api
        .update_status(&context, &caller, &params, key.as_deref())
        .await?;
    Ok(mark_replay(
        &written,
        success_message("Status Updated Successfully!!"),
    ))
}
