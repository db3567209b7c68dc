//! Residents: a searchable list, and each resident's page with their
//! details, contacts and tickets.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use connecticket_domain::audit::Action;
use connecticket_domain::model::ResidentId;
use connecticket_domain::service::ConsoleCall;
use connecticket_domain::workflow::UrgencyStatus;
use connecticket_domain::Entity;

use super::admin::{shown, Refused};
use super::form::Kept;
use super::identity::Identity;
use super::render::{html, local, path_id, Chrome, ConsoleError};
use super::session::ConsoleRequest;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/residents.html")]
struct ResidentsPage {
    chrome: Chrome,
    query: String,
    residents: Vec<Identity>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::ConsolePage).await?;
    let query = signed.params.get("q").unwrap_or_default().trim().to_owned();
    let residents = state
        .api
        .search_residents(signed.console.call(Action::ConsolePage), &query)
        .await?;
    let zone = signed.console.holder.provider.zone();
    let page = ResidentsPage {
        chrome: Chrome::of(&signed.console, "residents"),
        query,
        residents: residents.iter().map(|r| Identity::of(r, zone)).collect(),
    };
    Ok(html(StatusCode::OK, &page))
}

pub(crate) struct ContactRow {
    pub id: i64,
    pub name: String,
    pub role_value: &'static str,
    pub role: String,
    pub email: String,
    pub phone: String,
    pub email_consent: bool,
    pub sms_consent: bool,
}

pub(crate) struct TicketRow {
    pub id: i64,
    pub title: String,
    pub status: &'static str,
    pub urgency: &'static str,
    pub opened: String,
}

#[derive(Template)]
#[template(path = "console/resident.html")]
struct ResidentPage {
    chrome: Chrome,
    id: i64,
    name: String,
    banner: Identity,
    facts: Vec<(&'static str, String)>,
    contacts: Vec<ContactRow>,
    tickets: Vec<TicketRow>,
    message: Option<String>,
    kept: Kept,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::ConsolePage).await?;
    let id = path_id(&id, Entity::Resident)?;
    render(&state, &signed.console, id, None, signed.params.get("done")).await
}

/// A resident's page, with a refused contact form's reason and values.
pub(crate) async fn render(
    state: &AppState,
    console: &ConsoleCall,
    id: i64,
    refused: Option<Refused>,
    done: Option<&str>,
) -> Result<Response, ConsoleError> {
    let (status, message, kept) = shown(refused);
    let found = state
        .api
        .resident_page(console.call(Action::ConsolePage), ResidentId(id))
        .await?;
    let zone = console.holder.provider.zone();
    let r = &found.resident;
    let mut facts = Vec::new();
    let mut fact = |label: &'static str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            facts.push((label, value));
        }
    };
    fact(
        "Date of birth",
        r.dob.map(|d| d.format("%b %-d, %Y").to_string()),
    );
    fact("Location", r.location.clone());
    fact("Phone", r.phone_number.clone());
    fact("Email", r.email.clone());
    let address = [
        &r.home_address1,
        &r.home_address2,
        &r.home_city,
        &r.home_state,
        &r.home_zip,
    ]
    .into_iter()
    .flatten()
    .filter(|part| !part.trim().is_empty())
    .cloned()
    .collect::<Vec<_>>()
    .join(", ");
    fact("Home", Some(address));
    fact(
        "Care",
        Some(
            if r.in_home_care {
                "In-home care"
            } else {
                "Residential"
            }
            .to_owned(),
        ),
    );
    let page = ResidentPage {
        chrome: Chrome::of(console, "residents").noted(done),
        id,
        name: match &r.last_name {
            Some(last) => format!("{} {last}", r.first_name),
            None => r.first_name.clone(),
        },
        banner: Identity::of(r, zone),
        facts,
        contacts: found
            .contacts
            .iter()
            .map(|c| ContactRow {
                id: c.id.get(),
                name: c.name.clone(),
                role_value: c.role.as_str(),
                role: c.role.as_str().replace('_', " "),
                email: c.email.clone().unwrap_or_default(),
                phone: c.phone.clone().unwrap_or_default(),
                email_consent: c.email_consent,
                sms_consent: c.sms_consent,
            })
            .collect(),
        tickets: found
            .tickets
            .iter()
            .map(|t| TicketRow {
                id: t.id.get(),
                title: t.title.clone(),
                status: t.ticket_status.as_str(),
                urgency: UrgencyStatus::by_id(t.urgency_status_id).map_or("Unknown", |u| u.name),
                opened: local(t.created_at, zone),
            })
            .collect(),
        message,
        kept,
    };
    Ok(html(status, &page))
}
