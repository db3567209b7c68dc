//! Tickets as `Task`: read and search, with `_include=Task:patient`.
//!
//! Mapping (docs/FHIR.md): status New → requested, Open → accepted,
//! In Progress → in-progress, Resolved and Closed → completed, Reopen →
//! ready, the ticket's own status always in `businessStatus`; urgency
//! Exception → stat, High → asap, the rest routine, the level itself in an
//! extension; each category rating an `input`; each comment a `note`.

use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::fhir::{ResourceType, TaskSearch};
use connecticket_domain::model::{Comment, ResidentId, TicketId};
use connecticket_domain::service::TaskRecord;
use connecticket_domain::workflow::{TicketStatus, UrgencyStatus};
use connecticket_domain::DomainError;
use serde_json::{json, Map, Value};

use super::bundle::{next_after, Entry, Searchset};
use super::codes::{
    categories_url, rating_code, status_code, COMMENT_CATEGORY_EXTENSION, RATING_SYSTEM,
    STATUS_SYSTEM, URGENCY_EXTENSION, URGENCY_SYSTEM,
};
use super::params;
use super::patient::text;
use super::request::FhirRequest;
use crate::error::HttpError;
use crate::state::AppState;

/// FHIR's Task.status for a ticket status.
pub(crate) fn task_status(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::New => "requested",
        TicketStatus::Open => "accepted",
        TicketStatus::InProgress => "in-progress",
        TicketStatus::Resolved | TicketStatus::Closed => "completed",
        TicketStatus::Reopen => "ready",
    }
}

/// FHIR's request priority for an urgency level.
pub(crate) fn task_priority(urgency_id: i64) -> &'static str {
    match urgency_id {
        5 => "stat",
        4 => "asap",
        _ => "routine",
    }
}

/// The Task statuses FHIR defines; the ones no ticket maps to are valid
/// searches that match nothing.
const TASK_STATUSES: [&str; 12] = [
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
];

const PRIORITIES: [&str; 4] = ["routine", "urgent", "asap", "stat"];

fn note(comment: &Comment, category: Option<(&str, i64, &str)>) -> Value {
    let mut note = Map::new();
    if let Some((url, id, name)) = category {
        note.insert(
            "extension".into(),
            json!([{
                "url": COMMENT_CATEGORY_EXTENSION,
                "valueCoding": {"system": url, "code": id.to_string(), "display": name},
            }]),
        );
    }
    if let Some(author) = text(Some(&comment.author_name)) {
        note.insert("authorString".into(), json!(author));
    }
    note.insert("time".into(), json!(super::instant(comment.created_at)));
    // An Annotation's text is markdown, which takes any text.
    let body = text(Some(&comment.body)).unwrap_or_else(|| "(empty)".to_owned());
    note.insert("text".into(), json!(body));
    Value::Object(note)
}

pub(crate) fn task(record: &TaskRecord, base: &str) -> Value {
    let detail = &record.detail;
    let ticket = &detail.ticket;
    let categories = categories_url(base, ticket.provider_id);
    let urgency = UrgencyStatus::by_id(ticket.urgency_status_id).unwrap_or(UrgencyStatus::DEFAULT);
    let mut task = Map::new();
    task.insert("resourceType".into(), json!("Task"));
    task.insert("id".into(), json!(ticket.id.get().to_string()));
    task.insert(
        "meta".into(),
        json!({
            "versionId": record.version.to_string(),
            "lastUpdated": super::instant(ticket.updated_at),
        }),
    );
    task.insert(
        "extension".into(),
        json!([{
            "url": URGENCY_EXTENSION,
            "valueCoding": {
                "system": URGENCY_SYSTEM,
                "code": urgency.id.to_string(),
                "display": urgency.name,
            },
        }]),
    );
    task.insert("status".into(), json!(task_status(ticket.ticket_status)));
    task.insert(
        "businessStatus".into(),
        json!({
            "coding": [{
                "system": STATUS_SYSTEM,
                "code": status_code(ticket.ticket_status),
                "display": ticket.ticket_status.as_str(),
            }],
            "text": ticket.ticket_status.as_str(),
        }),
    );
    task.insert("intent".into(), json!("order"));
    task.insert("priority".into(), json!(task_priority(urgency.id)));
    if let Some(title) = text(Some(&ticket.title)) {
        task.insert("description".into(), json!(title));
    }
    task.insert(
        "for".into(),
        json!({"reference": format!("Patient/{}", ticket.resident_id.get())}),
    );
    task.insert(
        "authoredOn".into(),
        json!(super::instant(ticket.created_at)),
    );
    task.insert(
        "lastModified".into(),
        json!(super::instant(ticket.updated_at)),
    );
    let mut notes: Vec<Value> = detail
        .general_comments
        .iter()
        .map(|c| note(c, None))
        .collect();
    let mut inputs = Vec::new();
    for category in &detail.categories {
        let id = category.category_id.get();
        for comment in &category.comments {
            notes.push(note(comment, Some((&categories, id, &category.name))));
        }
        if let Some(rating) = category.rating {
            inputs.push(json!({
                "type": {
                    "coding": [{"system": categories, "code": id.to_string(), "display": category.name}],
                    "text": category.name,
                },
                "valueCodeableConcept": {
                    "coding": [{
                        "system": RATING_SYSTEM,
                        "code": rating_code(rating),
                        "display": rating.as_str(),
                    }],
                },
            }));
        }
    }
    if !inputs.is_empty() {
        task.insert("input".into(), Value::Array(inputs));
    }
    if !notes.is_empty() {
        task.insert("note".into(), Value::Array(notes));
    }
    Value::Object(task)
}

/// The same words for every id (see `patient::no_such_patient`).
fn no_such_task() -> HttpError {
    HttpError::NoSuchResource("No such Task".to_owned())
}

/// The Task `id` names, for a read.
async fn load(state: &AppState, request: &FhirRequest, id: &str) -> Result<TaskRecord, HttpError> {
    let (call, id) = request
        .accept_read(state, ResourceType::Task, id, no_such_task)
        .await?;
    match state.api.fhir_task(call, TicketId(id)).await {
        Err(DomainError::NotFound(_)) => Err(no_such_task()),
        other => Ok(other?),
    }
}

fn answer(state: &AppState, request: &FhirRequest, record: &TaskRecord) -> Response {
    super::versioned_answer(
        request,
        &task(record, &request.base_url(state)),
        record.version,
        record.detail.ticket.updated_at,
    )
}

/// `GET Task/{id}`.
pub(crate) async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let record = load(&state, &request, &id).await?;
    Ok(answer(&state, &request, &record))
}

/// `GET Task/{id}/_history/{version}`: the current version, which is the
/// only one kept (the `Location` of a write names it); an older one is
/// 404 saying so.
pub(crate) async fn vread(
    State(state): State<AppState>,
    Path((id, version)): Path<(String, String)>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let record = load(&state, &request, &id).await?;
    if version != record.version.to_string() {
        return Err(HttpError::NoSuchResource(
            "Only a Task's current version is kept; read Task/{id} for it".to_owned(),
        ));
    }
    Ok(answer(&state, &request, &record))
}

/// Codes, comma-separated, each mapped to what it matches.
fn codes<T>(
    text: Option<&str>,
    name: &str,
    valid: &[&str],
    matches: impl Fn(&str) -> Vec<T>,
) -> Result<Option<Vec<T>>, HttpError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let mut all = Vec::new();
    for code in text.split(',').map(str::trim) {
        if !valid.contains(&code) {
            return Err(HttpError::BadRequest(format!(
                "{name} must be one of {}",
                valid.join(", ")
            )));
        }
        all.extend(matches(code));
    }
    Ok(Some(all))
}

/// The search a request asks for. A filter that can match nothing (a
/// valid status no ticket takes) becomes a search of no ids, which still
/// runs, so that the call is audited like any other.
fn search_of(request: &FhirRequest) -> Result<TaskSearch, HttpError> {
    params::only(
        request,
        &["_id", "patient", "status", "priority", "_include"],
    )?;
    for include in request.all("_include") {
        if include != "Task:patient" {
            return Err(HttpError::BadRequest(
                "_include supports Task:patient only".to_owned(),
            ));
        }
    }
    let patient = match params::single(request, "patient")? {
        None => None,
        Some(text) => Some(ResidentId(params::patient_reference(text).ok_or_else(
            || HttpError::BadRequest("patient takes a Patient reference".to_owned()),
        )?)),
    };
    let statuses = codes(
        params::single(request, "status")?,
        "status",
        &TASK_STATUSES,
        |code| {
            TicketStatus::ALL
                .into_iter()
                .filter(|status| task_status(*status) == code)
                .collect()
        },
    )?;
    let urgencies = codes(
        params::single(request, "priority")?,
        "priority",
        &PRIORITIES,
        |code| {
            UrgencyStatus::ALL
                .into_iter()
                .filter(|urgency| task_priority(urgency.id) == code)
                .map(|urgency| urgency.id)
                .collect()
        },
    )?;
    let nothing = statuses.as_ref().is_some_and(Vec::is_empty)
        || urgencies.as_ref().is_some_and(Vec::is_empty);
    let ids = match nothing {
        true => Some(Vec::new()),
        false => params::ids(request, "_id")?.map(|ids| ids.into_iter().map(TicketId).collect()),
    };
    Ok(TaskSearch {
        ids,
        patient,
        statuses: statuses.unwrap_or_default(),
        urgencies: urgencies.unwrap_or_default(),
        last_updated: params::instant_range(request, "_lastUpdated")?,
        window: params::window(request)?,
    })
}

/// `GET Task?…`: a searchset, with the Tasks' patients when
/// `_include=Task:patient`.
pub(crate) async fn search(
    State(state): State<AppState>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let (call, mut query, count_only) = request
        .accept_search(&state, ResourceType::Task, search_of)
        .await?;
    let include = request.all("_include").next().is_some();
    if count_only {
        query.window.count = 0;
    }
    let found = state.api.fhir_tasks(call, query, include).await?;
    let base = request.base_url(&state);
    let mut entries: Vec<Entry> = found
        .page
        .rows
        .iter()
        .map(|record| Entry {
            full_url: format!("{base}/Task/{}", record.detail.ticket.id.get()),
            resource: task(record, &base),
            mode: "match",
        })
        .collect();
    entries.extend(
        found
            .patients
            .iter()
            .map(|resident| super::patient::entry(&base, resident, "include")),
    );
    Ok(Searchset {
        resource_type: "Task",
        total: Some(found.page.total),
        next_after: next_after(&found.page, |row| row.detail.ticket.id.get()),
        entries,
    }
    .answer(&request, &base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ticket_status_maps_to_a_task_status_fhir_defines() {
        for status in TicketStatus::ALL {
            assert!(TASK_STATUSES.contains(&task_status(status)), "{status}");
        }
        assert_eq!(task_status(TicketStatus::Closed), "completed");
        assert_eq!(task_status(TicketStatus::Reopen), "ready");
    }

    #[test]
    fn urgency_maps_to_request_priority() {
        assert_eq!(task_priority(5), "stat");
        assert_eq!(task_priority(4), "asap");
        assert_eq!(task_priority(3), "routine");
        assert_eq!(task_priority(2), "routine");
    }
}
