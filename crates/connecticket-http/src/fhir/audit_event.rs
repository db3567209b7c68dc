//! The audit trail as `AuditEvent`, for applications an administrator
//! allowed (`app fhir-audit --grant`). Each entry names who acted (the
//! application or employee), what (the action, its outcome) and the
//! records it touched, as references where they are resources here.

use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::audit::{AuditRecord, Outcome};
use connecticket_domain::fhir::{ResourceType, Window};
use serde_json::{json, Value};

use super::bundle::{next_after, Entry, Searchset};
use super::params;
use super::request::FhirRequest;
use crate::error::HttpError;
use crate::state::AppState;

const ACTION_SYSTEM: &str = "https://connecticket.org/fhir/CodeSystem/audit-action";

/// FHIR's audit action code: create, read, update, delete or execute.
fn action_code(action: &str) -> &'static str {
    match action {
        _ if action.starts_with("create") || action == "attach_files" => "C",
        "update_status" | "acknowledge" | "escalate" => "U",
        _ if action.starts_with("manage") || action.ends_with("_policy") => "U",
        "tickets"
        | "ticket_detail"
        | "all_residents"
        | "provider_categories"
        | "attachment"
        | "resident_contacts"
        | "notifications"
        | "changes"
        | "fhir_read"
        | "fhir_search"
        | "audit_trail"
        | "console_page"
        | "providers"
        | "employees"
        | "applications" => "R",
        _ if action.starts_with("prune") => "D",
        _ => "E",
    }
}

fn outcome_code(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success | Outcome::Started | Outcome::Replayed => "0",
        Outcome::Error => "12",
        Outcome::RateLimited | Outcome::TimedOut => "8",
        _ => "4",
    }
}

/// A touched record as an entity: a reference when it is a resource here.
fn entity(record: &str) -> Option<Value> {
    let (kind, id) = record.split_once(':')?;
    let resource = match kind {
        "resident" => "Patient",
        "ticket" => "Task",
        "notification" => "Communication",
        "attachment" => "DocumentReference",
        _ => return Some(json!({"name": record})),
    };
    id.parse::<i64>()
        .ok()
        .map(|id| json!({"what": {"reference": format!("{resource}/{id}")}}))
}

pub(crate) fn audit_event(record: &AuditRecord) -> Value {
    let who = match (record.application_id, record.employee_id, &record.actor) {
        (Some(application), _, _) => format!("application {application}"),
        (None, _, Some(actor)) if !actor.trim().is_empty() => actor.trim().to_owned(),
        (None, Some(employee), _) => format!("employee {employee}"),
        _ => "unauthenticated".to_owned(),
    };
    let mut agent = json!({"who": {"display": who}, "requestor": true});
    if let Some(address) = record.client_addr.as_deref().filter(|a| !a.is_empty()) {
        agent["network"] = json!({"address": address, "type": "2"});
    }
    let mut event = json!({
        "resourceType": "AuditEvent",
        "id": record.id.to_string(),
        "meta": {"versionId": "1", "lastUpdated": super::instant(record.at)},
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
        "subtype": [{"system": ACTION_SYSTEM, "code": record.action.as_str()}],
        "action": action_code(record.action.as_str()),
        "recorded": super::instant(record.at),
        "outcome": outcome_code(record.outcome),
        "outcomeDesc": record.outcome.as_str(),
        "agent": [agent],
        "source": {"observer": {"display": "Connecticket"}},
    });
    let entities: Vec<Value> = record.records.iter().filter_map(|r| entity(r)).collect();
    if !entities.is_empty() {
        event["entity"] = Value::Array(entities);
    }
    event
}

fn no_such_event() -> HttpError {
    HttpError::NoSuchResource("No such AuditEvent".to_owned())
}

/// `GET AuditEvent/{id}`.
pub(crate) async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let (call, id) = request
        .accept_read(&state, ResourceType::AuditEvent, &id, no_such_event)
        .await?;
    let window = Window {
        after: None,
        count: 1,
    };
    let page = state
        .api
        .fhir_audit_events(call, Default::default(), Some(vec![id]), window)
        .await?;
    let record = page.rows.first().ok_or_else(no_such_event)?;
    // An entry never changes once written.
    Ok(super::versioned_answer_tagged(
        &request,
        &audit_event(record),
        "W/\"1\"",
        Some(record.at),
    ))
}

/// `GET AuditEvent?date=…&_count=…`
pub(crate) async fn search(
    State(state): State<AppState>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let parse = |request: &FhirRequest| {
        params::only(request, &["_id", "date"])?;
        let range = params::instant_range(request, "date")?
            .and(params::instant_range(request, "_lastUpdated")?);
        Ok((
            range,
            params::ids(request, "_id")?,
            params::window(request)?,
        ))
    };
    let (call, (range, ids, window), count_only) = request
        .accept_search(&state, ResourceType::AuditEvent, parse)
        .await?;
    if count_only {
        let error = params::invalid(
            "_summary=count is not offered for AuditEvent: counting reads the whole trail"
                .to_owned(),
        );
        state.api.reject(call, error.outcome()).await;
        return Err(error);
    }
    let page = state
        .api
        .fhir_audit_events(call, range, ids, window)
        .await?;
    let base = request.base_url(&state);
    let searchset = Searchset {
        resource_type: "AuditEvent",
        total: None,
        next_after: next_after(&page, |row| row.id),
        entries: page
            .rows
            .iter()
            .map(|record| Entry {
                full_url: format!("{base}/AuditEvent/{}", record.id),
                resource: audit_event(record),
                mode: "match",
            })
            .collect(),
    };
    Ok(searchset.answer(&request, &base))
}
