//! The board: the provider's open tickets as cards by status, most urgent
//! and then oldest first, with overdue escalations standing out.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use connecticket_domain::audit::Action;
use connecticket_domain::console::{BoardCard, BoardFilter};
use connecticket_domain::model::{CategoryId, ResidentId};
use connecticket_domain::workflow::{TicketStatus, UrgencyStatus};

use super::render::{html, listed_name, local, Chrome, ConsoleError};
use super::session::ConsoleRequest;
use crate::state::AppState;
use crate::wire::RequestParams;

/// The statuses a ticket is open in, as the board's columns.
const COLUMNS: [TicketStatus; 4] = [
    TicketStatus::New,
    TicketStatus::Open,
    TicketStatus::InProgress,
    TicketStatus::Reopen,
];

pub(crate) struct Card {
    pub id: i64,
    pub title: String,
    pub resident: String,
    pub urgency: &'static str,
    pub urgency_id: i64,
    pub opened: String,
    pub overdue: bool,
    pub awaiting_ack: bool,
}

pub(crate) struct Column {
    pub status: &'static str,
    pub cards: Vec<Card>,
}

pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "console/board.html")]
struct BoardPage {
    chrome: Chrome,
    columns: Vec<Column>,
    shown: usize,
    total: u64,
    overdue: usize,
    residents: Vec<Choice>,
    categories: Vec<Choice>,
    urgencies: Vec<Choice>,
    needs_ack: bool,
    query: String,
    filtered: bool,
}

/// A resident as a card names them: first name and last initial.
pub(crate) fn short_name(first: &str, last: Option<&str>) -> String {
    match last.and_then(|last| last.chars().next()) {
        Some(initial) => format!("{first} {initial}."),
        None => first.to_owned(),
    }
}

fn id_param(params: &RequestParams, name: &str) -> Option<i64> {
    params
        .non_blank(name)
        .and_then(|text| text.trim().parse().ok())
}

fn filter_of(params: &RequestParams) -> BoardFilter {
    BoardFilter {
        resident: id_param(params, "resident").map(ResidentId),
        category: id_param(params, "category").map(CategoryId),
        urgency: id_param(params, "urgency").filter(|id| UrgencyStatus::by_id(*id).is_some()),
        needs_ack: params.non_blank("needs_ack").is_some(),
    }
}

/// The filter as a query string, for the board's self-refresh.
fn query_of(filter: &BoardFilter) -> String {
    let mut parts = Vec::new();
    if let Some(resident) = filter.resident {
        parts.push(format!("resident={resident}"));
    }
    if let Some(category) = filter.category {
        parts.push(format!("category={category}"));
    }
    if let Some(urgency) = filter.urgency {
        parts.push(format!("urgency={urgency}"));
    }
    if filter.needs_ack {
        parts.push("needs_ack=1".to_owned());
    }
    parts.join("&")
}

fn card(card: &BoardCard, zone: chrono_tz::Tz) -> Card {
    let urgency = UrgencyStatus::by_id(card.ticket.urgency_status_id);
    Card {
        id: card.ticket.id.get(),
        title: card.ticket.title.clone(),
        resident: short_name(
            &card.resident_first_name,
            card.resident_last_name.as_deref(),
        ),
        urgency: urgency.map_or("Unknown", |u| u.name),
        urgency_id: card.ticket.urgency_status_id,
        opened: local(card.ticket.created_at, zone),
        overdue: card.overdue(),
        awaiting_ack: card.awaiting_ack(),
    }
}

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::ConsolePage).await?;
    let console = &signed.console;
    let filter = filter_of(&signed.params);
    let zone = console.holder.provider.zone();
    let board = state
        .api
        .board(console.call(Action::ConsolePage), filter)
        .await?;
    let categories = state
        .api
        .categories(console.call(Action::ProviderCategories))
        .await?;
    let residents = state
        .api
        .search_residents(console.call(Action::ConsolePage), "")
        .await?;
    let columns = COLUMNS
        .iter()
        .map(|status| Column {
            status: status.as_str(),
            cards: board
                .cards
                .iter()
                .filter(|c| c.ticket.ticket_status == *status)
                .map(|c| card(c, zone))
                .collect(),
        })
        .collect();
    let page = BoardPage {
        chrome: Chrome::of(console, "board"),
        columns,
        shown: board.cards.len(),
        total: board.total,
        overdue: board.cards.iter().filter(|c| c.overdue()).count(),
        residents: residents
            .iter()
            .map(|r| Choice {
                value: r.id.to_string(),
                label: listed_name(r),
                selected: filter.resident == Some(r.id),
            })
            .collect(),
        categories: categories
            .iter()
            .map(|c| Choice {
                value: c.id.to_string(),
                label: c.name.clone(),
                selected: filter.category == Some(c.id),
            })
            .collect(),
        urgencies: UrgencyStatus::ALL
            .iter()
            .rev()
            .map(|u| Choice {
                value: u.id.to_string(),
                label: u.name.to_owned(),
                selected: filter.urgency == Some(u.id),
            })
            .collect(),
        needs_ack: filter.needs_ack,
        query: query_of(&filter),
        filtered: filter != BoardFilter::default(),
    };
    Ok(html(StatusCode::OK, &page))
}
