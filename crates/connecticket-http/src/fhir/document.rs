//! Attachments as `DocumentReference` (their metadata), each pointing at
//! its `Binary`: the file itself, read with a bearer token allowed
//! `system/Binary.r`, audited as the API's download is.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use connecticket_domain::audit::Action;
use connecticket_domain::fhir::{
    DocumentRecord, DocumentSearch, Interaction, ResourceType, Window,
};
use connecticket_domain::model::{AttachmentId, ResidentId, TicketId};
use connecticket_domain::DomainError;
use serde_json::{json, Value};

use super::bundle::{next_after, Entry, Searchset};
use super::outcome::fhir_json;
use super::params;
use super::request::FhirRequest;
use crate::error::HttpError;
use crate::state::AppState;

pub(crate) fn document(record: &DocumentRecord, base: &str) -> Value {
    let id = record.meta.id.get();
    let mut resource = json!({
        "resourceType": "DocumentReference",
        "id": id.to_string(),
        "status": "current",
        "subject": {"reference": format!("Patient/{}", record.resident_id.get())},
        "date": super::instant(record.created_at),
        "context": {"related": [{"reference": format!("Task/{}", record.ticket_id.get())}]},
        "content": [{
            "attachment": {
                "contentType": record.meta.content_type,
                "url": format!("{base}/Binary/{id}"),
                "size": record.meta.file_size,
                "title": record.meta.file_name,
                "creation": super::instant(record.created_at),
            },
        }],
    });
    // An attachment never changes once stored.
    super::stamp_version(&mut resource, Some(record.created_at));
    resource
}

fn no_such_document() -> HttpError {
    HttpError::NoSuchResource("No such DocumentReference".to_owned())
}

fn no_such_binary() -> HttpError {
    HttpError::NoSuchResource("No such Binary".to_owned())
}

/// `GET DocumentReference/{id}`.
pub(crate) async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let (call, id) = request
        .accept_read(
            &state,
            ResourceType::DocumentReference,
            &id,
            no_such_document,
        )
        .await?;
    let query = DocumentSearch {
        ids: Some(vec![AttachmentId(id)]),
        window: Window {
            after: None,
            count: 1,
        },
        ..DocumentSearch::default()
    };
    let page = state.api.fhir_documents(call, query).await?;
    let record = page.rows.first().ok_or_else(no_such_document)?;
    let resource = document(record, &request.base_url(&state));
    let tag = format!(
        "W/\"{}\"",
        resource["meta"]["versionId"].as_str().unwrap_or_default()
    );
    Ok(super::versioned_answer_tagged(
        &request, &resource, &tag, None,
    ))
}

fn search_of(request: &FhirRequest) -> Result<DocumentSearch, HttpError> {
    params::only(request, &["_id", "patient", "related"])?;
    let related = match params::single(request, "related")? {
        None => None,
        Some(text) => Some(TicketId(
            text.rsplit_once("Task/")
                .and_then(|(_, id)| id.parse::<i64>().ok())
                .filter(|id| *id > 0)
                .ok_or_else(|| params::invalid("related takes a Task reference".to_owned()))?,
        )),
    };
    Ok(DocumentSearch {
        ids: params::ids(request, "_id")?.map(|ids| ids.into_iter().map(AttachmentId).collect()),
        patient: params::patient(request)?.map(ResidentId),
        ticket: related,
        window: params::window(request)?,
    })
}

/// `GET DocumentReference?…`
pub(crate) async fn search(
    State(state): State<AppState>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let (call, mut query, count_only) = request
        .accept_search(&state, ResourceType::DocumentReference, search_of)
        .await?;
    if count_only {
        query.window.count = 0;
    }
    let page = state.api.fhir_documents(call, query).await?;
    let base = request.base_url(&state);
    let searchset = Searchset {
        resource_type: "DocumentReference",
        total: Some(page.total),
        next_after: next_after(&page, |row| row.meta.id.get()),
        entries: page
            .rows
            .iter()
            .map(|record| Entry {
                full_url: format!("{base}/DocumentReference/{}", record.meta.id.get()),
                resource: document(record, &base),
                mode: "match",
            })
            .collect(),
    };
    Ok(searchset.answer(&request, &base))
}

/// Whether the client asked for the Binary resource rather than the file.
fn wants_resource(request: &FhirRequest) -> bool {
    let accept = request
        .parts
        .headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    accept.contains("application/fhir+json") || request.all("_format").any(|f| f.contains("json"))
}

/// `GET Binary/{id}`: the file as it was uploaded (always as a download),
/// or, asked for FHIR JSON, a Binary resource holding it.
pub(crate) async fn binary(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let call = request
        .authenticate(
            &state,
            Action::Attachment,
            ResourceType::Binary,
            Interaction::Read,
        )
        .await?;
    let Some(id) = id.parse::<i64>().ok().filter(|id| *id > 0) else {
        state
            .api
            .reject(call, connecticket_domain::audit::Outcome::NotFound)
            .await;
        return Err(no_such_binary());
    };
    let attachment = match state.api.attachment(call, AttachmentId(id)).await {
        Err(DomainError::NotFound(_)) => return Err(no_such_binary()),
        other => other?,
    };
    if wants_resource(&request) {
        let resource = json!({
            "resourceType": "Binary",
            "id": id.to_string(),
            "contentType": attachment.meta.content_type,
            "data": base64::engine::general_purpose::STANDARD.encode(&attachment.data),
        });
        return Ok(fhir_json(StatusCode::OK, &resource));
    }
    let content_type = HeaderValue::from_str(&attachment.meta.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let disposition = crate::routes::attachments::content_disposition(&attachment.meta.file_name);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        attachment.data,
    )
        .into_response())
}
