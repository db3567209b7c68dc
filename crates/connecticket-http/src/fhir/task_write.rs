//! Writes on `Task`, through the API's own use cases (validation,
//! notifications by the provider's policy, idempotency, audit):
//! `POST Task` raises a ticket, `PATCH Task/{id}` (a JSON Patch replacing
//! `/status`) moves it through its workflow, honouring `If-Match`.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use connecticket_domain::audit::Action;
use connecticket_domain::command::{ChangeStatus, IdempotencyRequest, RaiseTicket};
use connecticket_domain::fhir::{Interaction, ResourceType};
use connecticket_domain::model::{CategoryId, ResidentId, TicketId};
use connecticket_domain::workflow::{CategoryRating, TicketStatus, UrgencyStatus};
use http_body_util::BodyExt;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::codes::{categories_url, COMMENT_CATEGORY_EXTENSION, URGENCY_EXTENSION};
use super::request::FhirRequest;
use crate::error::HttpError;
use crate::state::AppState;

/// The largest Task a client may send.
const MAX_TASK_BYTES: usize = 256 * 1024;

fn unprocessable(message: impl Into<String>) -> HttpError {
    HttpError::InvalidParameter(message.into())
}

/// Reads a JSON body of one of `media` types.
async fn read_json(
    headers: &HeaderMap,
    body: Body,
    media: &[&str],
) -> Result<(Value, Vec<u8>), HttpError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    if !declared
        .as_deref()
        .is_some_and(|declared| media.contains(&declared))
    {
        return Err(HttpError::UnsupportedMediaTypeOf(media.join(" or ")));
    }
    let bytes = http_body_util::Limited::new(body, MAX_TASK_BYTES)
        .collect()
        .await
        .map_err(|_| {
            HttpError::PayloadTooLarge(format!("a Task is at most {MAX_TASK_BYTES} bytes"))
        })?
        .to_bytes()
        .to_vec();
    let value = serde_json::from_slice(&bytes)
        .map_err(|error| HttpError::MalformedBody(format!("the body is not JSON: {error}")))?;
    Ok((value, bytes))
}

/// The ticket status a Task status asks for.
fn ticket_status(status: &str) -> Option<TicketStatus> {
    match status {
        "requested" => Some(TicketStatus::New),
        "accepted" => Some(TicketStatus::Open),
        "in-progress" => Some(TicketStatus::InProgress),
        "completed" => Some(TicketStatus::Resolved),
        "ready" => Some(TicketStatus::Reopen),
        _ => None,
    }
}

fn urgency(task: &Value) -> Result<UrgencyStatus, HttpError> {
    let exact = task["extension"].as_array().and_then(|extensions| {
        extensions
            .iter()
            .find(|extension| extension["url"] == URGENCY_EXTENSION)
            .and_then(|extension| extension["valueCoding"]["code"].as_str())
    });
    if let Some(code) = exact {
        return UrgencyStatus::parse(code).ok_or_else(|| {
            unprocessable(format!(
                "urgency must be one of {}",
                UrgencyStatus::valid_list()
            ))
        });
    }
    match task["priority"].as_str() {
        None | Some("routine") => Ok(UrgencyStatus::DEFAULT),
        Some("urgent") | Some("asap") => Ok(UrgencyStatus::HIGH),
        Some("stat") => Ok(UrgencyStatus::EXCEPTION),
        Some(_) => Err(unprocessable(
            "priority must be routine, urgent, asap or stat",
        )),
    }
}

fn rating(code: &str) -> Option<CategoryRating> {
    match code {
        "issue" => Some(CategoryRating::Issue),
        "no-issue" => Some(CategoryRating::NoIssue),
        "potential-issue" => Some(CategoryRating::PotentialIssue),
        _ => None,
    }
}

/// A category code under this provider's CodeSystem.
fn category(coding: &Value, categories: &str) -> Result<CategoryId, HttpError> {
    if coding["system"] != categories {
        return Err(unprocessable(format!(
            "a category's system must be {categories}"
        )));
    }
    coding["code"]
        .as_str()
        .and_then(|code| code.parse::<i64>().ok())
        .map(CategoryId)
        .ok_or_else(|| unprocessable("a category's code must be its id"))
}

/// A Task as a client sends it, read into the API's command.
fn raise_ticket(task: &Value, categories: &str) -> Result<RaiseTicket, HttpError> {
    if task["resourceType"] != "Task" {
        return Err(unprocessable("the body must be a Task"));
    }
    if task["intent"] != "order" {
        return Err(unprocessable("intent must be order"));
    }
    let status = match task["status"].as_str() {
        None => TicketStatus::New,
        Some(code) => ticket_status(code)
            .filter(|status| *status != TicketStatus::Resolved)
            .ok_or_else(|| {
                unprocessable(
                    "status of a new Task must be requested, accepted, in-progress or ready",
                )
            })?,
    };
    let resident = task["for"]["reference"]
        .as_str()
        .and_then(super::params::patient_reference)
        .ok_or_else(|| unprocessable("for must reference the Patient the ticket is about"))?;
    let title = task["description"]
        .as_str()
        .ok_or_else(|| unprocessable("description (the ticket's title) is required"))?;
    let mut ratings = BTreeMap::new();
    for input in task["input"].as_array().into_iter().flatten() {
        let id = category(&input["type"]["coding"][0], categories)?;
        let code = input["valueCodeableConcept"]["coding"][0]["code"]
            .as_str()
            .unwrap_or_default();
        let value = rating(code)
            .ok_or_else(|| unprocessable("a rating must be issue, no-issue or potential-issue"))?;
        if ratings.insert(id, value).is_some() {
            return Err(unprocessable(format!(
                "category {} is rated twice",
                id.get()
            )));
        }
    }
    let mut general_comment = None;
    let mut category_comments = BTreeMap::new();
    for note in task["note"].as_array().into_iter().flatten() {
        let text = note["text"]
            .as_str()
            .ok_or_else(|| unprocessable("a note needs text"))?
            .to_owned();
        let about = note["extension"].as_array().and_then(|extensions| {
            extensions
                .iter()
                .find(|extension| extension["url"] == COMMENT_CATEGORY_EXTENSION)
        });
        let duplicate = match about {
            Some(extension) => category_comments
                .insert(category(&extension["valueCoding"], categories)?, text)
                .is_some(),
            None => general_comment.replace(text).is_some(),
        };
        if duplicate {
            return Err(unprocessable(
                "at most one note in general and one per category",
            ));
        }
    }
    Ok(RaiseTicket {
        title: title.to_owned(),
        resident_id: ResidentId(resident),
        urgency: urgency(task)?,
        status,
        ticket_type: None,
        state: false,
        sms: None,
        email: None,
        sent_to_family: None,
        sent_to_healthcare_pro: None,
        sent_to_primary: None,
        start_date: None,
        end_date: None,
        ratings,
        category_comments,
        general_comment,
        attachments: Vec::new(),
    })
}

/// A write's `Idempotency-Key`, fingerprinted with the body it came with.
fn idempotency(
    headers: &HeaderMap,
    call: &str,
    body: &[u8],
) -> Result<Option<IdempotencyRequest>, HttpError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| {
        unprocessable("Idempotency-Key must be printable ASCII, 1 to 255 characters")
    })?;
    let mut digest = Sha256::new();
    digest.update(call.as_bytes());
    digest.update([0]);
    digest.update(body);
    Ok(Some(IdempotencyRequest {
        key: key.to_owned(),
        fingerprint: digest.finalize().to_vec(),
    }))
}

/// The Task as it now is, with its `ETag` and `Location`.
async fn answer(
    state: &AppState,
    request: &FhirRequest,
    interaction: Interaction,
    id: TicketId,
    status: StatusCode,
    replayed: bool,
) -> Result<Response, HttpError> {
    let call = request
        .authenticate(state, Action::FhirRead, ResourceType::Task, interaction)
        .await?;
    let record = state.api.fhir_task(call, id).await?;
    let base = request.base_url(state);
    let mut response =
        super::outcome::fhir_json(status, &super::task::task(&record, &base)).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&super::etag(record.version)) {
        headers.insert(header::ETAG, value);
    }
    let location = format!("{base}/Task/{}/_history/{}", id.get(), record.version);
    if let Ok(value) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, value);
    }
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// `POST Task`: raises a ticket; 201 with the Task.
pub(crate) async fn create(
    State(state): State<AppState>,
    request: FhirRequest,
    body: Body,
) -> Result<Response, HttpError> {
    let call = request
        .authenticate(
            &state,
            Action::CreateTicket,
            ResourceType::Task,
            Interaction::Create,
        )
        .await?;
    let categories = categories_url(&request.base_url(&state), call.principal().provider.id);
    let parsed = async {
        let (task, bytes) = read_json(
            &request.parts.headers,
            body,
            &["application/fhir+json", "application/json"],
        )
        .await?;
        let command = raise_ticket(&task, &categories)?;
        Ok::<_, HttpError>((
            command,
            idempotency(&request.parts.headers, "fhir:create_task", &bytes)?,
        ))
    }
    .await;
    let (command, idempotency) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            state.api.reject(call, error.outcome()).await;
            return Err(error);
        }
    };
    let written = state.api.create_ticket(call, command, idempotency).await?;
    let replayed = written.is_replay();
    answer(
        &state,
        &request,
        Interaction::Create,
        written.into_inner(),
        StatusCode::CREATED,
        replayed,
    )
    .await
}

/// `If-Match: W/"n"`: the version a change is based on.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, HttpError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|text| text.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|version| version.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            HttpError::BadRequest("If-Match takes the ETag a read gave, W/\"n\"".to_owned())
        })
}

/// The status a JSON Patch sets: exactly one `replace` (or `add`) of
/// `/status`; anything else is refused.
fn patched_status(patch: &Value) -> Result<TicketStatus, HttpError> {
    let only = || {
        unprocessable("only /status may be patched: [{\"op\": \"replace\", \"path\": \"/status\", \"value\": …}]")
    };
    let operations = patch.as_array().ok_or_else(only)?;
    let [operation] = operations.as_slice() else {
        return Err(only());
    };
    if !matches!(operation["op"].as_str(), Some("replace" | "add"))
        || operation["path"] != "/status"
    {
        return Err(only());
    }
    let value = operation["value"].as_str().unwrap_or_default();
    ticket_status(value).ok_or_else(|| {
        unprocessable("status must be requested, accepted, in-progress, completed or ready")
    })
}

/// `PATCH Task/{id}`: moves the ticket to the status the patch sets.
pub(crate) async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: FhirRequest,
    body: Body,
) -> Result<Response, HttpError> {
    let call = request
        .authenticate(
            &state,
            Action::UpdateStatus,
            ResourceType::Task,
            Interaction::Update,
        )
        .await?;
    let parsed = async {
        let ticket = id
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| HttpError::NoSuchResource("No such Task".to_owned()))?;
        let (patch, bytes) = read_json(
            &request.parts.headers,
            body,
            &["application/json-patch+json"],
        )
        .await?;
        let command = ChangeStatus {
            ticket_id: TicketId(ticket),
            status: patched_status(&patch)?,
            notify: Default::default(),
            expected_version: if_match(&request.parts.headers)?,
        };
        Ok::<_, HttpError>((
            command,
            idempotency(&request.parts.headers, "fhir:patch_task", &bytes)?,
        ))
    }
    .await;
    let (command, idempotency) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            state.api.reject(call, error.outcome()).await;
            return Err(error);
        }
    };
    let ticket = command.ticket_id;
    let written = match state.api.update_status(call, command, idempotency).await {
        Err(connecticket_domain::DomainError::NotFound(_)) => {
            return Err(HttpError::NoSuchResource("No such Task".to_owned()))
        }
        other => other?,
    };
    answer(
        &state,
        &request,
        Interaction::Update,
        ticket,
        StatusCode::OK,
        written.is_replay(),
    )
    .await
}
