use axum::extract::State;
use axum::response::Response;

use crate::error::HttpError;
use crate::extract::{Caller, Params};
use crate::list::stream_list;
use crate::state::AppState;
use crate::wire::ResidentJson;

/// `GET all_residents`: the caller's provider's residents, streamed.
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller {
        principal: caller,
        context,
    }: Caller,
    Params(params): Params,
) -> Result<Response, HttpError> {
    let zone = caller.provider.zone();
    let residents = state.api.residents(&context, &caller, &params).await?;
    stream_list("residents", residents, move |resident, out| {
        serde_json::to_writer(out, &ResidentJson::new(resident, zone))
    })
    .await
}
