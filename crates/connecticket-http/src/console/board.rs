//! The board: the provider's open tickets as cards by status, most urgent
//! and then oldest first, with overdue escalations standing out.

use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use connecticket_domain::audit::Action;
use connecticket_domain::console::{Board, BoardCard, BoardFilter};
use connecticket_domain::model::{CategoryId, ResidentId};
use connecticket_domain::workflow::{TicketStatus, UrgencyStatus};

use super::identity::Identity;
use super::render::{html, local, Chrome, ConsoleError};
use super::session::{cookie, lasting_cookie, ConsoleRequest, REFRESH_HEADER};
use crate::state::AppState;
use crate::wire::RequestParams;

/// The statuses a ticket is open in, as the board's columns.
const COLUMNS: [TicketStatus; 4] = [
    TicketStatus::New,
    TicketStatus::Open,
    TicketStatus::InProgress,
    TicketStatus::Reopen,
];

/// When this browser last looked at the board (seconds since the epoch):
/// not patient data, and not the session's.
const SEEN_COOKIE: &str = "ct_board_seen";
const SEEN_MAX_AGE: i64 = 7 * 86_400;

pub(crate) struct Card {
    pub id: i64,
    pub title: String,
    pub resident: Identity,
    pub urgency: &'static str,
    pub urgency_id: i64,
    /// "12 min ago", with the absolute time for hover and focus.
    pub age: String,
    pub opened: String,
    pub opened_iso: String,
    pub overdue: bool,
    pub awaiting_ack: bool,
    /// Raised since this browser last looked at the board.
    pub fresh: bool,
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
    all_open: u64,
    overdue: usize,
    residents: Vec<Choice>,
    categories: Vec<Choice>,
    urgencies: Vec<Choice>,
    needs_ack: bool,
    query: String,
    filtered: bool,
    /// No number for families to call is set.
    no_callback: bool,
    /// Cards open their tickets (a display's do not).
    linked: bool,
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

/// How long ago, in the words a glance needs.
pub(crate) fn age(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - at).num_minutes().max(0);
    match minutes {
        0 => "just now".to_owned(),
        1..=59 => format!("{minutes} min ago"),
        60..=1439 => format!("{} h {} min ago", minutes / 60, minutes % 60),
        _ => format!("{} days ago", minutes / 1440),
    }
}

fn card(
    card: &BoardCard,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
    seen: Option<DateTime<Utc>>,
) -> Card {
    let urgency = UrgencyStatus::by_id(card.ticket.urgency_status_id);
    Card {
        id: card.ticket.id.get(),
        title: card.ticket.title.clone(),
        resident: Identity::new(
            card.ticket.resident_id.get(),
            &card.resident_first_name,
            card.resident_last_name.as_deref(),
            card.resident_dob,
            card.resident_location.as_deref(),
            zone,
        ),
        urgency: urgency.map_or("Unknown", |u| u.name),
        urgency_id: card.ticket.urgency_status_id,
        age: age(card.ticket.created_at, now),
        opened: local(card.ticket.created_at, zone),
        opened_iso: card.ticket.created_at.to_rfc3339(),
        overdue: card.overdue(),
        awaiting_ack: card.awaiting_ack(),
        fresh: seen.is_some_and(|seen| card.ticket.created_at > seen),
    }
}

/// The board's columns, one per open status; overdue escalations first,
/// then the store's order (most urgent, then oldest).
pub(crate) fn columns(
    board: &Board,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
    seen: Option<DateTime<Utc>>,
) -> Vec<Column> {
    COLUMNS
        .iter()
        .map(|status| {
            let mut cards: Vec<&BoardCard> = board
                .cards
                .iter()
                .filter(|c| c.ticket.ticket_status == *status)
                .collect();
            cards.sort_by_key(|c| !c.overdue());
            Column {
                status: status.as_str(),
                cards: cards
                    .into_iter()
                    .map(|c| card(c, zone, now, seen))
                    .collect(),
            }
        })
        .collect()
}

pub(crate) async fn show(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let seen = cookie(&request.parts.headers, SEEN_COOKIE)
        .and_then(|text| text.parse::<i64>().ok())
        .and_then(|seconds| DateTime::<Utc>::from_timestamp(seconds, 0));
    let looked = !request.parts.headers.contains_key(REFRESH_HEADER);
    let signed = request.page(&state, Action::ConsolePage).await?;
    let console = &signed.console;
    let now = Utc::now();
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
    let columns = columns(&board, zone, now, seen);
    let page = BoardPage {
        chrome: Chrome::of(console, "board"),
        columns,
        shown: board.cards.len(),
        total: board.total,
        all_open: board.all_open,
        overdue: board.cards.iter().filter(|c| c.overdue()).count(),
        residents: residents
            .iter()
            .map(|r| Choice {
                value: r.id.to_string(),
                label: Identity::of(r, zone).line(),
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
        no_callback: !console.holder.provider_has_callback,
        linked: true,
    };
    let mut response = html(StatusCode::OK, &page);
    // A person looked: what is on the board now is no longer new to this
    // browser. The board's own refresh is nobody looking.
    if looked {
        response.headers_mut().append(
            header::SET_COOKIE,
            lasting_cookie(
                &state,
                SEEN_COOKIE,
                &now.timestamp().to_string(),
                SEEN_MAX_AGE,
            ),
        );
    }
    Ok(response)
}
