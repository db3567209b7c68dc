//! High and Exception tickets as `Flag`s on their Patient: active while
//! the ticket is open, inactive once it is Resolved or Closed.

use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::fhir::{ResourceType, TaskSearch, Versioned, Window};
use connecticket_domain::model::{ResidentId, Ticket, TicketId};
use connecticket_domain::workflow::{TicketStatus, UrgencyStatus};
use serde_json::{json, Value};

use super::bundle::{next_after, Entry, Searchset};
use super::codes::URGENCY_SYSTEM;
use super::params;
use super::request::FhirRequest;
use crate::error::HttpError;
use crate::state::AppState;

fn active(ticket: &Ticket) -> bool {
    !matches!(
        ticket.ticket_status,
        TicketStatus::Resolved | TicketStatus::Closed
    )
}

pub(crate) fn flag(ticket: &Versioned<Ticket>) -> Value {
    let (ticket, version) = (&ticket.value, ticket.version);
    let urgency = UrgencyStatus::by_id(ticket.urgency_status_id).unwrap_or(UrgencyStatus::HIGH);
    json!({
        "resourceType": "Flag",
        "id": ticket.id.get().to_string(),
        "meta": {"versionId": version.to_string(), "lastUpdated": super::instant(ticket.updated_at)},
        "status": if active(ticket) { "active" } else { "inactive" },
        "category": [{
            "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/flag-category",
                "code": "clinical",
                "display": "Clinical",
            }],
        }],
        "code": {
            "coding": [{"system": URGENCY_SYSTEM, "code": urgency.id.to_string(), "display": urgency.name}],
            "text": format!("{} ticket {}", urgency.name, ticket.id.get()),
        },
        "subject": {"reference": format!("Patient/{}", ticket.resident_id.get())},
        "period": {"start": super::instant(ticket.created_at)},
        "extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/flag-detail",
            "valueReference": {"reference": format!("Task/{}", ticket.id.get())},
        }],
    })
}

fn no_such_flag() -> HttpError {
    HttpError::NoSuchResource("No such Flag".to_owned())
}

/// `GET Flag/{id}`: the flag of ticket `id`, if it is High or Exception.
pub(crate) async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let (call, id) = request
        .accept_read(&state, ResourceType::Flag, &id, no_such_flag)
        .await?;
    let query = TaskSearch {
        ids: Some(vec![TicketId(id)]),
        window: Window {
            after: None,
            count: 1,
        },
        ..TaskSearch::default()
    };
    let page = state.api.fhir_flags(call, query).await?;
    let ticket = page.rows.first().ok_or_else(no_such_flag)?;
    Ok(super::versioned_answer(
        &request,
        &flag(ticket),
        ticket.version,
        ticket.value.updated_at,
    ))
}

fn search_of(request: &FhirRequest) -> Result<TaskSearch, HttpError> {
    params::only(request, &["_id", "patient", "status"])?;
    let statuses = match params::single(request, "status")? {
        None => Vec::new(),
        Some("active") => vec![
            TicketStatus::New,
            TicketStatus::Open,
            TicketStatus::InProgress,
            TicketStatus::Reopen,
        ],
        Some("inactive") => vec![TicketStatus::Resolved, TicketStatus::Closed],
        Some("entered-in-error") => {
            return Ok(TaskSearch {
                ids: Some(Vec::new()),
                ..TaskSearch::default()
            })
        }
        Some(_) => {
            return Err(params::invalid(
                "status must be active, inactive or entered-in-error".to_owned(),
            ))
        }
    };
    Ok(TaskSearch {
        ids: params::ids(request, "_id")?.map(|ids| ids.into_iter().map(TicketId).collect()),
        patient: params::patient(request)?.map(ResidentId),
        statuses,
        urgencies: Vec::new(),
        last_updated: params::instant_range(request, "_lastUpdated")?,
        window: params::window(request)?,
    })
}

/// `GET Flag?…`
pub(crate) async fn search(
    State(state): State<AppState>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let (call, mut query, count_only) = request
        .accept_search(&state, ResourceType::Flag, search_of)
        .await?;
    if count_only {
        query.window.count = 0;
    }
    let page = state.api.fhir_flags(call, query).await?;
    let base = request.base_url(&state);
    let searchset = Searchset {
        resource_type: "Flag",
        total: Some(page.total),
        next_after: next_after(&page, |row| row.value.id.get()),
        entries: page
            .rows
            .iter()
            .map(|ticket| Entry {
                full_url: format!("{base}/Flag/{}", ticket.value.id.get()),
                resource: flag(ticket),
                mode: "match",
            })
            .collect(),
    };
    Ok(searchset.answer(&request, &base))
}
