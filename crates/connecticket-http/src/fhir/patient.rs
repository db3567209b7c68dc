//! Residents as `Patient`: read and search.

use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::fhir::{IdentifierQuery, IdentifierSystem, PatientSearch, ResourceType};
use connecticket_domain::model::{Resident, ResidentId};
use connecticket_domain::DomainError;
use serde_json::{json, Map, Value};

use super::bundle::{next_after, Entry, Searchset};
use super::params;
use super::request::FhirRequest;
use crate::error::HttpError;
use crate::state::AppState;

/// A resident's row never changes once written (contacts, which do, are
/// other resources), so every Patient is at its first version.
pub(crate) const PATIENT_VERSION: i64 = 1;

/// Text as FHIR allows it: trimmed, and absent rather than empty.
pub(crate) fn text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

fn put(object: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(value) = value {
        object.insert(key.to_owned(), Value::String(value));
    }
}

pub(crate) fn patient(resident: &Resident) -> Value {
    let mut patient = Map::new();
    patient.insert("resourceType".into(), json!("Patient"));
    patient.insert("id".into(), json!(resident.id.get().to_string()));
    patient.insert(
        "meta".into(),
        json!({
            "versionId": PATIENT_VERSION.to_string(),
            "lastUpdated": super::instant(resident.updated_at),
        }),
    );
    let identifiers: Vec<Value> = IdentifierSystem::ALL
        .into_iter()
        .filter_map(|system| {
            let value = match system {
                IdentifierSystem::CustomerNumber => &resident.customer_number,
                IdentifierSystem::AccountNumber => &resident.account_number,
                IdentifierSystem::CaretrackerId => &resident.caretracker_id,
            };
            text(value.as_deref()).map(|value| json!({"system": system.uri(), "value": value}))
        })
        .collect();
    if !identifiers.is_empty() {
        patient.insert("identifier".into(), Value::Array(identifiers));
    }
    patient.insert("active".into(), json!(resident.state == "active"));
    let mut name = Map::new();
    name.insert("use".into(), json!("official"));
    put(&mut name, "family", text(resident.last_name.as_deref()));
    if let Some(given) = text(Some(&resident.first_name)) {
        name.insert("given".into(), json!([given]));
    }
    patient.insert("name".into(), json!([name]));
    let telecom: Vec<Value> = [
        ("phone", &resident.phone_number),
        ("fax", &resident.fax_number),
        ("email", &resident.email),
    ]
    .into_iter()
    .filter_map(|(system, value)| {
        text(value.as_deref()).map(|value| json!({"system": system, "value": value, "use": "home"}))
    })
    .collect();
    if !telecom.is_empty() {
        patient.insert("telecom".into(), Value::Array(telecom));
    }
    if let Some(dob) = resident.dob {
        patient.insert(
            "birthDate".into(),
            json!(dob.format("%Y-%m-%d").to_string()),
        );
    }
    let lines: Vec<String> = [&resident.home_address1, &resident.home_address2]
        .into_iter()
        .filter_map(|line| text(line.as_deref()))
        .collect();
    let mut address = Map::new();
    if !lines.is_empty() {
        address.insert("line".into(), json!(lines));
    }
    put(&mut address, "city", text(resident.home_city.as_deref()));
    put(&mut address, "state", text(resident.home_state.as_deref()));
    put(
        &mut address,
        "postalCode",
        text(resident.home_zip.as_deref()),
    );
    if !address.is_empty() {
        address.insert("use".into(), json!("home"));
        patient.insert("address".into(), json!([address]));
    }
    Value::Object(patient)
}

/// The same words for every id, whether it never existed or is another
/// provider's: nothing in the answer tells them apart.
fn no_such_patient() -> HttpError {
    HttpError::NoSuchResource("No such Patient".to_owned())
}

pub(crate) fn entry(base: &str, resident: &Resident, mode: &'static str) -> Entry {
    Entry {
        full_url: format!("{base}/Patient/{}", resident.id.get()),
        resource: patient(resident),
        mode,
    }
}

/// `GET Patient/{id}`.
pub(crate) async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let (call, id) = request
        .accept_read(&state, ResourceType::Patient, &id, no_such_patient)
        .await?;
    let resident = match state.api.fhir_patient(call, ResidentId(id)).await {
        Err(DomainError::NotFound(_)) => return Err(no_such_patient()),
        other => other?,
    };
    Ok(super::versioned_answer(
        &request,
        &patient(&resident),
        PATIENT_VERSION,
        resident.updated_at,
    ))
}

fn identifier(text: &str) -> Result<IdentifierQuery, HttpError> {
    let unknown = || {
        HttpError::BadRequest(format!(
            "identifier's system must be one of {}",
            IdentifierSystem::ALL.map(|system| system.uri()).join(", ")
        ))
    };
    let (system, value) = match text.split_once('|') {
        None => (None, text),
        Some(("", value)) => (None, value),
        Some((system, value)) => (
            Some(IdentifierSystem::by_uri(system).ok_or_else(unknown)?),
            value,
        ),
    };
    if value.is_empty() {
        return Err(HttpError::BadRequest(
            "identifier takes [system|]value, the value not empty".to_owned(),
        ));
    }
    Ok(IdentifierQuery {
        system,
        value: value.to_owned(),
    })
}

fn search_of(request: &FhirRequest) -> Result<PatientSearch, HttpError> {
    params::only(
        request,
        &["_id", "name", "family", "given", "birthdate", "identifier"],
    )?;
    let owned = |value: Option<&str>| value.map(str::to_owned);
    Ok(PatientSearch {
        ids: params::ids(request, "_id")?.map(|ids| ids.into_iter().map(ResidentId).collect()),
        name: owned(params::single(request, "name")?),
        family: owned(params::single(request, "family")?),
        given: owned(params::single(request, "given")?),
        identifier: params::single(request, "identifier")?
            .map(identifier)
            .transpose()?,
        birthdate: params::day_range(request, "birthdate")?,
        last_updated: params::instant_range(request, "_lastUpdated")?,
        window: params::window(request)?,
    })
}

/// `GET Patient?…`: a searchset.
pub(crate) async fn search(
    State(state): State<AppState>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let (call, mut query, count_only) = request
        .accept_search(&state, ResourceType::Patient, search_of)
        .await?;
    if count_only {
        query.window.count = 0;
    }
    let page = state.api.fhir_patients(call, query).await?;
    let base = request.base_url(&state);
    Ok(Searchset {
        resource_type: "Patient",
        total: Some(page.total),
        next_after: next_after(&page, |resident| resident.id.get()),
        entries: page
            .rows
            .iter()
            .map(|resident| entry(&base, resident, "match"))
            .collect(),
    }
    .answer(&request, &base))
}
