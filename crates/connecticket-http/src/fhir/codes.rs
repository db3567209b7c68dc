//! The code systems Tasks use: the provider's own categories (served as
//! `CodeSystem/categories-{provider}`), and Connecticket's fixed codes for
//! ticket status, urgency and rating (canonical URLs, documented in
//! docs/FHIR.md).

use axum::extract::{Path, State};
use axum::response::Response;
use connecticket_domain::audit::{Action, Outcome};
use connecticket_domain::fhir::{Interaction, ResourceType};
use connecticket_domain::model::ProviderId;
use connecticket_domain::workflow::{CategoryRating, TicketStatus};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::request::FhirRequest;
use crate::error::HttpError;
use crate::state::AppState;

pub(crate) const STATUS_SYSTEM: &str = "https://connecticket.org/fhir/CodeSystem/ticket-status";
pub(crate) const URGENCY_SYSTEM: &str = "https://connecticket.org/fhir/CodeSystem/urgency";
pub(crate) const RATING_SYSTEM: &str = "https://connecticket.org/fhir/CodeSystem/category-rating";
pub(crate) const URGENCY_EXTENSION: &str =
    "https://connecticket.org/fhir/StructureDefinition/ticket-urgency";
pub(crate) const COMMENT_CATEGORY_EXTENSION: &str =
    "https://connecticket.org/fhir/StructureDefinition/comment-category";

pub(crate) fn status_code(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::New => "new",
        TicketStatus::Open => "open",
        TicketStatus::InProgress => "in-progress",
        TicketStatus::Resolved => "resolved",
        TicketStatus::Closed => "closed",
        TicketStatus::Reopen => "reopen",
    }
}

pub(crate) fn rating_code(rating: CategoryRating) -> &'static str {
    match rating {
        CategoryRating::Issue => "issue",
        CategoryRating::NoIssue => "no-issue",
        CategoryRating::PotentialIssue => "potential-issue",
    }
}

fn categories_id(provider: ProviderId) -> String {
    format!("categories-{}", provider.get())
}

/// The canonical URL of a provider's categories.
pub(crate) fn categories_url(base: &str, provider: ProviderId) -> String {
    format!("{base}/CodeSystem/{}", categories_id(provider))
}

/// `GET CodeSystem/categories-{provider}`: the caller's provider's
/// categories; any other id is not known.
pub(crate) async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: FhirRequest,
) -> Result<Response, HttpError> {
    let call = request
        .authenticate(
            &state,
            Action::FhirRead,
            ResourceType::CodeSystem,
            Interaction::Read,
        )
        .await?;
    let provider = call.principal().provider.clone();
    if id != categories_id(provider.id) {
        state.api.reject(call, Outcome::NotFound).await;
        return Err(HttpError::NoSuchResource("No such CodeSystem".to_owned()));
    }
    let categories = state.api.fhir_categories(call).await?;
    let base = request.base_url(&state);
    let concepts: Vec<serde_json::Value> = categories
        .iter()
        .map(|category| json!({"code": category.id.get().to_string(), "display": category.name}))
        .collect();
    // Categories are renamed in place: the version is the content's own
    // digest, so it changes exactly when they do.
    let digest = Sha256::digest(serde_json::to_vec(&concepts).unwrap_or_default());
    let version: String = digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let mut code_system = json!({
        "resourceType": "CodeSystem",
        "id": id,
        "meta": {"versionId": version},
        "url": categories_url(&base, provider.id),
        "name": "ProviderCategories",
        "title": format!("Categories of {}", provider.name),
        "status": "active",
        "caseSensitive": true,
        "content": "complete",
        "count": concepts.len(),
    });
    if !concepts.is_empty() {
        code_system["concept"] = serde_json::Value::Array(concepts);
    }
    Ok(super::versioned_answer_tagged(
        &request,
        &code_system,
        &format!("W/\"{version}\""),
        None,
    ))
}
