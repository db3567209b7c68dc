//! Residents' contacts: family as `RelatedPerson` (on the Patient), the
//! primary physician and healthcare professionals as `Practitioner`.
//! Contacts are edited in place, so their version is a digest of what is
//! served.

use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::fhir::{ContactSearch, ResourceType, Window};
use connecticket_domain::model::{Contact, ContactId, ContactRole, ResidentId};
use serde_json::{json, Map, Value};

use super::bundle::{next_after, Entry, Searchset};
use super::params;
use super::patient::text;
use super::request::FhirRequest;
use crate::error::HttpError;
use crate::state::AppState;

/// Which contacts a resource type shows.
fn roles(kind: ResourceType) -> Vec<ContactRole> {
    match kind {
        ResourceType::RelatedPerson => vec![ContactRole::Family],
        _ => vec![
            ContactRole::PrimaryPhysician,
            ContactRole::HealthcareProfessional,
        ],
    }
}

fn telecom(contact: &Contact) -> Vec<Value> {
    let mut telecom = Vec::new();
    if let Some(phone) = text(contact.phone.as_deref()) {
        telecom.push(json!({"system": "phone", "value": phone}));
    }
    if let Some(email) = text(contact.email.as_deref()) {
        telecom.push(json!({"system": "email", "value": email}));
    }
    telecom
}

pub(crate) fn person(kind: ResourceType, contact: &Contact) -> Value {
    let mut resource = Map::new();
    resource.insert("resourceType".into(), json!(kind.as_str()));
    resource.insert("id".into(), json!(contact.id.get().to_string()));
    resource.insert("active".into(), json!(true));
    if kind == ResourceType::RelatedPerson {
        resource.insert(
            "patient".into(),
            json!({"reference": format!("Patient/{}", contact.resident_id.get())}),
        );
        resource.insert(
            "relationship".into(),
            json!([{
                "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                    "code": "FAMMEMB",
                    "display": "family member",
                }],
            }]),
        );
    } else {
        let role = match contact.role {
            ContactRole::PrimaryPhysician => "primary physician",
            _ => "healthcare professional",
        };
        resource.insert(
            "extension".into(),
            json!([{
                "url": "https://connecticket.org/fhir/StructureDefinition/cares-for",
                "extension": [
                    {"url": "patient", "valueReference": {"reference": format!("Patient/{}", contact.resident_id.get())}},
                    {"url": "role", "valueString": role},
                ],
            }]),
        );
    }
    if let Some(name) = text(Some(&contact.name)) {
        resource.insert("name".into(), json!([{"text": name}]));
    }
    let telecom = telecom(contact);
    if !telecom.is_empty() {
        resource.insert("telecom".into(), Value::Array(telecom));
    }
    let mut resource = Value::Object(resource);
    // A contact is corrected in place and keeps no time of it: no
    // lastUpdated rather than a wrong one.
    super::stamp_version(&mut resource, None);
    resource
}

fn no_such(kind: ResourceType) -> fn() -> HttpError {
    match kind {
        ResourceType::RelatedPerson => {
            || HttpError::NoSuchResource("No such RelatedPerson".to_owned())
        }
        _ => || HttpError::NoSuchResource("No such Practitioner".to_owned()),
    }
}

async fn read(
    kind: ResourceType,
    state: AppState,
    id: String,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let (call, id) = request
        .accept_read(&state, kind, &id, no_such(kind))
        .await?;
    let query = ContactSearch {
        ids: Some(vec![ContactId(id)]),
        roles: roles(kind),
        window: Window {
            after: None,
            count: 1,
        },
        ..ContactSearch::default()
    };
    let page = state.api.fhir_contacts(call, query).await?;
    let contact = page.rows.first().ok_or_else(no_such(kind))?;
    let resource = person(kind, contact);
    let tag = format!(
        "W/\"{}\"",
        resource["meta"]["versionId"].as_str().unwrap_or_default()
    );
    Ok(super::versioned_answer_tagged(
        &request, &resource, &tag, None,
    ))
}

async fn search(
    kind: ResourceType,
    state: AppState,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let parse = |request: &FhirRequest| {
        let known: &[&str] = match kind {
            ResourceType::RelatedPerson => &["_id", "patient"],
            _ => &["_id"],
        };
        params::only(request, known)?;
        Ok(ContactSearch {
            ids: params::ids(request, "_id")?.map(|ids| ids.into_iter().map(ContactId).collect()),
            patient: params::patient(request)?.map(ResidentId),
            roles: roles(kind),
            window: params::window(request)?,
        })
    };
    let (call, mut query, count_only) = request.accept_search(&state, kind, parse).await?;
    if count_only {
        query.window.count = 0;
    }
    let page = state.api.fhir_contacts(call, query).await?;
    let base = request.base_url(&state);
    let searchset = Searchset {
        resource_type: kind.as_str(),
        total: Some(page.total),
        next_after: next_after(&page, |row| row.id.get()),
        entries: page
            .rows
            .iter()
            .map(|contact| Entry {
                full_url: format!("{base}/{kind}/{}", contact.id.get()),
                resource: person(kind, contact),
                mode: "match",
            })
            .collect(),
    };
    Ok(searchset.answer(&request, &base))
}

pub(crate) async fn read_related(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    read(ResourceType::RelatedPerson, state, id, request).await
}

pub(crate) async fn search_related(
    State(state): State<AppState>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    search(ResourceType::RelatedPerson, state, request).await
}

pub(crate) async fn read_practitioner(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    read(ResourceType::Practitioner, state, id, request).await
}

pub(crate) async fn search_practitioner(
    State(state): State<AppState>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    search(ResourceType::Practitioner, state, request).await
}
