//! `/console/tickets/new`: raising a ticket, checked by the API's own
//! parser and rules, with who will be told shown in words before saving
//! (refreshed by htmx as the urgency, the resident or the choices change;
//! without JavaScript, a form whose choices changed since the summary was
//! drawn shows the new summary first and raises nothing).

use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use connecticket_domain::audit::Action;
use connecticket_domain::model::ResidentId;
use connecticket_domain::service::{Considered, ConsoleCall};
use connecticket_domain::workflow::UrgencyStatus;
use connecticket_domain::DomainError;

use super::board::Choice;
use super::drafts;
use super::identity::Identity;
use super::render::{html, see_other, Chrome, ConsoleError};
use super::session::ConsoleRequest;
use super::telling::{boxes, fingerprint, sent_choice, unticked_are_no, NotifyBox, TellingView};
use crate::error::HttpError;
use crate::state::AppState;
use crate::wire::commands::raise_ticket;
use crate::wire::RequestParams;

pub(crate) struct CategoryField {
    pub id: i64,
    pub name: String,
    pub rating: String,
    pub comment: String,
}

#[derive(Template)]
#[template(path = "console/new_ticket.html")]
struct NewTicketPage {
    chrome: Chrome,
    residents: Vec<Choice>,
    urgencies: Vec<Choice>,
    urgency: &'static str,
    categories: Vec<CategoryField>,
    ratings: [&'static str; 3],
    title: String,
    ticket_type: String,
    general_comments: String,
    whom: Vec<NotifyBox>,
    how: Vec<NotifyBox>,
    telling: TellingView,
    /// Names the choice the summary is for (see `telling::fingerprint`).
    told: String,
    confirm_nobody: bool,
    message: Option<String>,
    /// Why the form came back instead of raising the ticket.
    check_notice: Option<String>,
    nobody_error: bool,
    /// The form was filled from what was kept across a sign-in.
    restored: bool,
}

/// Why the form is shown again, if it is.
#[derive(Default)]
struct Notes {
    status: Option<StatusCode>,
    message: Option<String>,
    check_notice: Option<String>,
    nobody_error: bool,
    restored: bool,
}

fn chosen_urgency(sent: &RequestParams) -> UrgencyStatus {
    sent.get("urgency_status")
        .and_then(UrgencyStatus::parse)
        .unwrap_or(UrgencyStatus::DEFAULT)
}

fn chosen_resident(sent: &RequestParams) -> Option<&str> {
    sent.get("resident_id").or_else(|| sent.get("resident"))
}

/// The new-ticket form, filled with what was sent.
async fn new_ticket_page(
    state: &AppState,
    console: &ConsoleCall,
    sent: &RequestParams,
    notes: Notes,
) -> Result<Response, ConsoleError> {
    let residents = state
        .api
        .search_residents(console.call(Action::ConsolePage), "")
        .await?;
    let zone = console.holder.provider.zone();
    let categories = state
        .api
        .categories(console.call(Action::ProviderCategories))
        .await?;
    let resident = chosen_resident(sent);
    let urgency = chosen_urgency(sent);
    let asked = sent_choice(sent);
    let considered = Considered::NewTicket {
        resident: resident.and_then(|r| r.trim().parse().ok()).map(ResidentId),
        urgency,
    };
    let telling = state
        .api
        .who_would_be_told(
            console.call(Action::ConsolePage),
            considered,
            asked.unwrap_or_default(),
        )
        .await?;
    let choice = asked.unwrap_or(telling.default);
    let page = NewTicketPage {
        chrome: Chrome::of(console, "new"),
        residents: residents
            .iter()
            .map(|r| Choice {
                value: r.id.to_string(),
                label: Identity::of(r, zone).line(),
                selected: resident == Some(r.id.to_string().as_str()),
            })
            .collect(),
        urgencies: UrgencyStatus::ALL
            .iter()
            .map(|u| Choice {
                value: u.id.to_string(),
                label: u.name.to_owned(),
                selected: u.id == urgency.id,
            })
            .collect(),
        urgency: urgency.name,
        categories: categories
            .iter()
            .map(|c| CategoryField {
                id: c.id.get(),
                name: c.name.clone(),
                rating: sent
                    .get(&format!("category_{}", c.id))
                    .unwrap_or_default()
                    .to_owned(),
                comment: sent
                    .get(&format!("category_comments_{}", c.id))
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect(),
        ratings: ["Issue", "Potential Issue", "No Issue"],
        title: sent.get("title").unwrap_or_default().to_owned(),
        ticket_type: sent.get("ticket_type").unwrap_or_default().to_owned(),
        general_comments: sent.get("general_comments").unwrap_or_default().to_owned(),
        whom: boxes(&choice).0,
        how: boxes(&choice).1,
        telling: TellingView::of(&telling),
        told: fingerprint(resident.unwrap_or_default(), urgency.id, &choice),
        confirm_nobody: sent.get("confirm_nobody") == Some("1"),
        message: notes.message,
        check_notice: notes.check_notice,
        nobody_error: notes.nobody_error,
        restored: notes.restored,
    };
    Ok(html(notes.status.unwrap_or(StatusCode::OK), &page))
}

pub(crate) async fn new_form(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let headers = request.parts.headers.clone();
    let signed = request.page(&state, Action::ConsolePage).await?;
    let (kept, forget) = drafts::take(&state, &signed.console, &headers, "/console/tickets/new");
    let restored = kept.is_some();
    let mut sent = signed.params;
    for (name, value) in kept.map(|k| k.fields).unwrap_or_default() {
        sent.insert(&name, value)?;
    }
    let notes = Notes {
        restored,
        ..Notes::default()
    };
    let mut response = new_ticket_page(&state, &signed.console, &sent, notes).await?;
    for cookie in forget {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The API parser's words for what a request lacks, as the form names it.
fn in_form_words(message: String) -> String {
    match message.as_str() {
        "title/regarding required" => {
            "Give the ticket a title: what happened, in a few words.".to_owned()
        }
        "resident_id required" => "Choose the resident this ticket is about.".to_owned(),
        _ => message,
    }
}

/// Raises the ticket with the API's own parser and rules, so the console
/// accepts exactly what `create_ticket` accepts; but first makes sure the
/// person saw who it tells, and confirmed telling nobody about an urgent
/// one.
pub(crate) async fn create(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::CreateTicket).await?;
    let console = &signed.console;
    let mut params = signed.params;
    // A file input left empty still sends a part, with no name and no
    // bytes: it is no attachment.
    params
        .files
        .retain(|file| !(file.file_name.is_empty() && file.data.is_empty()));
    // The form sends every flag as a checkbox: an unchecked one is "no".
    unticked_are_no(&mut params)?;
    let files_sent = !params.files.is_empty();
    let kept = params.clone();
    let refused = |status, message| Notes {
        status: Some(status),
        message: Some(message),
        ..Notes::default()
    };
    let command = match raise_ticket(params) {
        Ok(command) => command,
        Err(error) => {
            console.refuse(Action::CreateTicket, error.outcome()).await;
            let message = in_form_words(error.message());
            return new_ticket_page(&state, console, &kept, refused(error.status(), message)).await;
        }
    };
    let choice = command.notify_request();
    let resident = command.resident_id.get().to_string();
    let shown = kept.get("told").unwrap_or_default();
    let again_with_files = if files_sent {
        " Attach the files again: a browser cannot keep them."
    } else {
        ""
    };
    if kept.get("check").is_some() || shown != fingerprint(&resident, command.urgency.id, &choice) {
        let notice = format!(
            "Nothing was raised yet. Check who will be told below, then raise the ticket.{again_with_files}"
        );
        let notes = Notes {
            check_notice: Some(notice),
            ..Notes::default()
        };
        return new_ticket_page(&state, console, &kept, notes).await;
    }
    let considered = Considered::NewTicket {
        resident: Some(command.resident_id),
        urgency: command.urgency,
    };
    let telling = state
        .api
        .who_would_be_told(console.call(Action::ConsolePage), considered, choice)
        .await?;
    if telling.urgent && telling.nobody() && kept.get("confirm_nobody") != Some("1") {
        console
            .refuse(
                Action::CreateTicket,
                connecticket_domain::audit::Outcome::Invalid,
            )
            .await;
        let notes = Notes {
            status: Some(StatusCode::UNPROCESSABLE_ENTITY),
            message: Some(format!(
                "This {} ticket tells nobody: confirm that below, or choose whom to tell.{again_with_files}",
                command.urgency.name
            )),
            nobody_error: true,
            ..Notes::default()
        };
        return new_ticket_page(&state, console, &kept, notes).await;
    }
    match state
        .api
        .create_ticket(console.call(Action::CreateTicket), command, None)
        .await
    {
        Ok(written) => Ok(see_other(&format!(
            "/console/tickets/{}?done=raised",
            written.into_inner()
        ))),
        Err(error @ (DomainError::Invalid(_) | DomainError::NotFound(_))) => {
            let error = HttpError::from(error);
            let message = error.message();
            new_ticket_page(&state, console, &kept, refused(error.status(), message)).await
        }
        Err(error) => Err(error.into()),
    }
}
