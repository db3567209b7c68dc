use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::mark_replay;
use crate::envelope::json;
use crate::error::HttpError;
use crate::extract::{Caller, IdempotencyKey, Params};
use crate::state::AppState;

/// `POST create_comment`: a general comment, or a category comment when
/// `category_id` is given.
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
        .create_comment(&context, &caller, &params, key.as_deref())
        .await?;
    let comment_id = match &written {
        connecticket_domain::store::Written::Fresh(id)
        | connecticket_domain::store::Written::Replayed(id) => *id,
    };
    let response = json(
        StatusCode::OK,
        &json!({
            "status": "Success",
            "message": "Comment created Successfully!!",
            "comment_id": comment_id,
        }),
    );
    Ok(mark_replay(&written, response))
}
