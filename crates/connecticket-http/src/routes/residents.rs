use axum::extract::State;
use axum::response::Response;
use connecticket_domain::audit::Action;

use crate::error::HttpError;
use crate::extract::ApiRequest;
use crate::list::stream_list;
use crate::state::AppState;
use crate::wire::answers::{ContactJson, ContactsAnswer, Success};
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

/// `GET resident_contacts?resident_id=`: who is told about the resident
/// (read-only; contacts are managed by operators).
pub(crate) async fn contacts(
    State(state): State<AppState>,
    request: ApiRequest,
) -> Result<Response, HttpError> {
    let accepted = request
        .accept(&state, Action::ResidentContacts, |params, _| {
            crate::wire::commands::resident_id(params)
        })
        .await?;
    let contacts = state
        .api
        .resident_contacts(accepted.call, accepted.input)
        .await?;
    let contacts = contacts
        .iter()
        .map(|contact| ContactJson {
            email: contact.email.as_deref(),
            email_consent: contact.email_consent,
            id: contact.id.get(),
            name: &contact.name,
            phone: contact.phone.as_deref(),
            resident_id: contact.resident_id.get(),
            role: contact.role.as_str(),
            sms_consent: contact.sms_consent,
        })
        .collect();
    Ok(crate::envelope::json(
        axum::http::StatusCode::OK,
        &ContactsAnswer {
            contacts,
            status: Success::Success,
        },
    ))
}
