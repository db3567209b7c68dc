use axum::extract::State;
use axum::response::Response;
use connecticket_domain::audit::Action;

use crate::error::HttpError;
use crate::extract::ApiRequest;
use crate::list::stream_list;
use crate::state::AppState;
use crate::wire::commands::page;
use crate::wire::ResidentJson;

/// `GET all_residents`: the caller's provider's residents, streamed.
pub(crate) async fn list(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::AllResidents, |params, _| page(&params))
        .await?;
    let zone = accepted.call.principal().provider.zone();
    let deadline = accepted.deadline_passed();
    let residents = state.api.residents(accepted.call, accepted.input).await?;
    stream_list("residents", residents, deadline, move |resident, out| {
        serde_json::to_writer(out, &ResidentJson::new(resident, zone))
    })
    .await
}
