//! What the facade says about itself: the CapabilityStatement at
//! `metadata` and SMART's `.well-known/smart-configuration`. Both list
//! exactly what the router serves, and need no token.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use connecticket_domain::fhir::ResourceType;
use serde_json::{json, Value};

use super::outcome::fhir_json;
use super::request::FhirRequest;
use crate::error::HttpError;
use crate::state::AppState;

/// The day this CapabilityStatement last changed.
const PUBLISHED: &str = "2026-12-06";

fn param(name: &str, kind: &str, documentation: &str) -> Value {
    json!({"name": name, "type": kind, "documentation": documentation})
}

/// A type read and searched with `params`, as most are.
fn searchable(kind: ResourceType, params: Vec<Value>) -> Value {
    json!({
        "type": kind.as_str(),
        "profile": format!("http://hl7.org/fhir/StructureDefinition/{kind}"),
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "versioned",
        "readHistory": false,
        "conditionalRead": "not-match",
        "searchParam": params,
    })
}

fn resource(kind: ResourceType) -> Value {
    let last_updated = || {
        param(
            "_lastUpdated",
            "date",
            "When the record last changed; prefixes eq, gt, ge, lt, le, sa, eb",
        )
    };
    let id = || param("_id", "token", "Logical ids, comma-separated");
    let patient = |what: &str| param("patient", "reference", what);
    match kind {
        ResourceType::Patient => searchable(
            kind,
            vec![
                id(),
                param(
                    "name",
                    "string",
                    "Start of the given or family name, any case",
                ),
                param("family", "string", "Start of the family name, any case"),
                param("given", "string", "Start of the given name, any case"),
                param(
                    "birthdate",
                    "date",
                    "Date of birth; prefixes as for _lastUpdated",
                ),
                param("identifier", "token", "A resident number, [system|]value"),
                last_updated(),
            ],
        ),
        ResourceType::Task => {
            let mut task = searchable(
                kind,
                vec![
                    id(),
                    patient("The Patient the ticket is about"),
                    param(
                        "status",
                        "token",
                        "Task status, comma-separated for any of them",
                    ),
                    param("priority", "token", "routine, urgent, asap or stat"),
                    last_updated(),
                ],
            );
            task["interaction"] = json!([
                {"code": "read"},
                {"code": "vread", "documentation": "The current version only (the one a write's Location names)"},
                {"code": "search-type"},
                {"code": "create", "documentation": "Raises a ticket (the provider's notification policy applies); Idempotency-Key honoured"},
                {"code": "patch", "documentation": "JSON Patch replacing /status only; If-Match honoured"},
            ]);
            task["updateCreate"] = json!(false);
            task["searchInclude"] = json!(["Task:patient"]);
            task
        }
        ResourceType::Flag => searchable(
            kind,
            vec![
                id(),
                patient("The Patient flagged"),
                param("status", "token", "active (the ticket is open) or inactive"),
                last_updated(),
            ],
        ),
        ResourceType::RelatedPerson => {
            searchable(kind, vec![id(), patient("The resident they are family of")])
        }
        ResourceType::Practitioner => searchable(kind, vec![id()]),
        ResourceType::Communication => searchable(
            kind,
            vec![
                id(),
                patient("The Patient the notification was about"),
                param("about", "reference", "The Task (ticket) that caused it"),
            ],
        ),
        ResourceType::DocumentReference => searchable(
            kind,
            vec![
                id(),
                patient("The Patient the ticket is about"),
                param(
                    "related",
                    "reference",
                    "The Task (ticket) the file is attached to",
                ),
            ],
        ),
        ResourceType::AuditEvent => {
            let mut audit = searchable(
                kind,
                vec![
                    id(),
                    param(
                        "date",
                        "date",
                        "When the entry was recorded; prefixes as for _lastUpdated",
                    ),
                ],
            );
            audit["documentation"] = json!("Only for applications an administrator allowed (system/AuditEvent.rs is granted to them alone)");
            audit
        }
        ResourceType::Binary => json!({
            "type": "Binary",
            "interaction": [{"code": "read", "documentation": "The file itself, or a Binary resource when FHIR JSON is asked for"}],
        }),
        ResourceType::CodeSystem => json!({
            "type": "CodeSystem",
            "interaction": [{"code": "read"}],
            "versioning": "versioned",
            "readHistory": false,
            "conditionalRead": "not-match",
        }),
    }
}

/// `GET metadata`.
pub(crate) async fn metadata(
    State(state): State<AppState>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let base = request.base_url(&state);
    let statement = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": PUBLISHED,
        "publisher": "Connecticket",
        "kind": "instance",
        "software": {"name": "Connecticket", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {
            "description": "Connecticket's FHIR R4 facade over residents and tickets",
            "url": base,
        },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": {
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "token", "valueUri": format!("{base}/auth/token")}],
                }],
                "service": [{
                    "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                    }],
                }],
                "description": "OAuth 2.0 client credentials for a bearer token with SMART system scopes: the application's api_key and api_secret (client_secret_basic), or a JWT signed ES384 or RS384 with a key the application registered (SMART Backend Services, private_key_jwt)",
            },
            "resource": ResourceType::ALL.map(resource),
        }],
    });
    Ok(fhir_json(StatusCode::OK, &statement))
}

/// `GET .well-known/smart-configuration`.
pub(crate) async fn smart_configuration(
    State(state): State<AppState>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let base = request.base_url(&state);
    let mut scopes: Vec<String> = ResourceType::ALL
        .iter()
        .map(|kind| format!("system/{kind}.rs"))
        .collect();
    scopes.push("system/Task.cu".to_owned());
    let configuration = json!({
        "token_endpoint": format!("{base}/auth/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES384", "RS384"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": scopes,
        "capabilities": ["client-confidential-symmetric", "client-confidential-asymmetric"],
    });
    // SMART's discovery document is plain JSON, not a FHIR resource.
    Ok(crate::envelope::json(StatusCode::OK, &configuration))
}
