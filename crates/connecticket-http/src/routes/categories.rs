use crate::wire::answers::{CategoriesAnswer, CategoryJson, Success};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use connecticket_domain::audit::Action;

use super::no_input;
use crate::envelope::json;
use crate::error::HttpError;
use crate::extract::ApiRequest;
use crate::state::AppState;

/// `GET provider_categories`
pub(crate) async fn list(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::ProviderCategories, no_input)
        .await?;
    let categories = state.api.categories(accepted.call).await?;
    let categories = categories
        .iter()
        .map(|category| CategoryJson {
            id: category.id.get(),
            name: &category.name,
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &CategoriesAnswer {
            categories,
            status: Success::Success,
        },
    ))
}
