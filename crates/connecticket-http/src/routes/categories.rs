use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::envelope::json;
use crate::error::HttpError;
use crate::extract::Caller;
use crate::state::AppState;

/// `GET provider_categories`
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller {
        principal: caller,
        context,
    }: Caller,
) -> Result<Response, HttpError> {
    let categories: Vec<_> = state
        .api
        .categories(&context, &caller)
        .await?
        .into_iter()
        .map(|category| json!({"id": category.id, "name": category.name}))
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({"status": "Success", "categories": categories}),
    ))
}
