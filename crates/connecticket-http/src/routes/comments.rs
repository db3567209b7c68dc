use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use connecticket_domain::audit::Action;

use super::mark_replay;
use crate::envelope::json;
use crate::error::HttpError;
use crate::extract::ApiRequest;
use crate::state::AppState;
use crate::wire::answers::{CommentCreated, Success};
use crate::wire::commands::add_comment;

/// `POST create_comment`: a general comment, or a category comment when
/// `category_id` is given.
pub(crate) async fn create(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::CreateComment, |params, _| {
            add_comment(params)
        })
        .await?;
    let written = state
        .api
        .create_comment(accepted.call, accepted.input, accepted.idempotency)
        .await?;
    let response = json(
        StatusCode::OK,
        &CommentCreated {
            comment_id: written.into_inner().get(),
            message: "Comment created Successfully!!",
            status: Success::Success,
        },
    );
    Ok(mark_replay(&written, response))
}
