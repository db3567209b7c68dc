//! A ticket's page (everything `ticket_detail` has, its notifications with
//! delivery and acknowledgment, and forms to comment, change its status
//! and acknowledge on a recipient's behalf), attachments, and the form
//! that raises a new ticket.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use connecticket_domain::audit::Action;
use connecticket_domain::command::{AddComment, ChangeStatus, Upload};
use connecticket_domain::model::{
    AttachmentId, CategoryId, NotificationId, TicketDetail, TicketId,
};
use connecticket_domain::service::{ConsoleCall, StaffAcknowledgment};
use connecticket_domain::workflow::{CategoryRating, TicketStatus, UrgencyStatus};
use connecticket_domain::{DomainError, Entity};

use super::board::{short_name, Choice};
use super::render::{html, listed_name, local, path_id, see_other, Chrome, ConsoleError};
use super::session::ConsoleRequest;
use crate::error::HttpError;
use crate::state::AppState;
use crate::wire::commands::raise_ticket;

pub(crate) struct CommentView {
    pub author: String,
    pub at: String,
    pub body: String,
}

pub(crate) struct RatingView {
    pub name: String,
    pub rating: &'static str,
    pub comments: Vec<CommentView>,
}

pub(crate) struct AttachmentView {
    pub id: i64,
    pub name: String,
    pub size: String,
}

pub(crate) struct NoticeView {
    pub id: i64,
    pub event: &'static str,
    pub role: String,
    pub channel: &'static str,
    pub status: &'static str,
    pub sent: String,
    pub delivered: Option<String>,
    pub acknowledged: Option<String>,
    pub awaiting: bool,
    pub level: i64,
}

#[derive(Template)]
#[template(path = "console/ticket.html")]
struct TicketPage {
    chrome: Chrome,
    id: i64,
    title: String,
    resident: String,
    resident_id: i64,
    urgency: &'static str,
    status: &'static str,
    opened: String,
    updated: String,
    ticket_type: Option<String>,
    ratings: Vec<RatingView>,
    comments: Vec<CommentView>,
    comments_omitted: u64,
    attachments: Vec<AttachmentView>,
    notices: Vec<NoticeView>,
    statuses: Vec<Choice>,
    categories: Vec<Choice>,
    message: Option<String>,
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} bytes"),
    }
}

fn comment_view(c: &connecticket_domain::model::Comment, zone: chrono_tz::Tz) -> CommentView {
    CommentView {
        author: c.author_name.clone(),
        at: local(c.created_at, zone),
        body: c.body.clone(),
    }
}

fn ticket_page(
    console: &ConsoleCall,
    detail: &TicketDetail,
    resident: &connecticket_domain::model::Resident,
    message: Option<String>,
) -> TicketPage {
    let zone = console.holder.provider.zone();
    let ticket = &detail.ticket;
    TicketPage {
        chrome: Chrome::of(console, "board"),
        id: ticket.id.get(),
        title: ticket.title.clone(),
        resident: short_name(&resident.first_name, resident.last_name.as_deref()),
        resident_id: resident.id.get(),
        urgency: UrgencyStatus::by_id(ticket.urgency_status_id).map_or("Unknown", |u| u.name),
        status: ticket.ticket_status.as_str(),
        opened: local(ticket.created_at, zone),
        updated: local(ticket.updated_at, zone),
        ticket_type: ticket.ticket_type.clone(),
        ratings: detail
            .categories
            .iter()
            .map(|c| RatingView {
                name: c.name.clone(),
                rating: c.rating.map_or("Not rated", CategoryRating::as_str),
                comments: c.comments.iter().map(|x| comment_view(x, zone)).collect(),
            })
            .collect(),
        comments: detail
            .general_comments
            .iter()
            .map(|x| comment_view(x, zone))
            .collect(),
        comments_omitted: detail.comments_omitted,
        attachments: detail
            .attachments
            .iter()
            .map(|a| AttachmentView {
                id: a.id.get(),
                name: a.file_name.clone(),
                size: size(a.file_size),
            })
            .collect(),
        notices: detail
            .notifications
            .iter()
            .map(|n| NoticeView {
                id: n.id.get(),
                event: match n.event {
                    connecticket_domain::notify::NotifyEvent::TicketCreated => "Ticket raised",
                    connecticket_domain::notify::NotifyEvent::StatusChanged => "Status changed",
                    connecticket_domain::notify::NotifyEvent::Reminder => "Reminder",
                    connecticket_domain::notify::NotifyEvent::Escalated => "Escalated",
                },
                role: n.role.as_str().replace('_', " "),
                channel: n.channel.as_str(),
                status: n.status.as_str(),
                sent: local(n.created_at, zone),
                delivered: n.delivered_at.map(|at| local(at, zone)),
                acknowledged: n.acknowledged_at.map(|at| {
                    let via = n.acknowledged_via.map_or("", |via| via.as_str());
                    format!("{} ({via})", local(at, zone))
                }),
                awaiting: n.ack_required && n.acknowledged_at.is_none(),
                level: n.escalation_level,
            })
            .collect(),
        statuses: TicketStatus::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: s.as_str().to_owned(),
                selected: *s == ticket.ticket_status,
            })
            .collect(),
        categories: detail
            .categories
            .iter()
            .map(|c| Choice {
                value: c.category_id.to_string(),
                label: c.name.clone(),
                selected: false,
            })
            .collect(),
        message,
    }
}

/// Renders the ticket's page; `message` is a refused form's reason.
async fn render(
    state: &AppState,
    console: &ConsoleCall,
    id: TicketId,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, ConsoleError> {
    let detail = state
        .api
        .ticket_detail(console.call(Action::TicketDetail), id)
        .await?;
    let resident = state
        .api
        .resident(console.call(Action::ConsolePage), detail.ticket.resident_id)
        .await?;
    Ok(html(
        status,
        &ticket_page(console, &detail, &resident, message),
    ))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::TicketDetail).await?;
    let id = TicketId(path_id(&id, Entity::Ticket)?);
    render(&state, &signed.console, id, StatusCode::OK, None).await
}

/// A form's refusal shown on the ticket's page; anything else as an error
/// page.
async fn refused_on_page(
    state: &AppState,
    console: &ConsoleCall,
    id: TicketId,
    error: DomainError,
) -> Result<Response, ConsoleError> {
    match error {
        DomainError::Invalid(_) => {
            let error = HttpError::from(error);
            render(state, console, id, error.status(), Some(error.message())).await
        }
        other => Err(other.into()),
    }
}

pub(crate) async fn comment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::CreateComment).await?;
    let id = TicketId(path_id(&id, Entity::Ticket)?);
    let category_id = signed
        .params
        .non_blank("category_id")
        .and_then(|text| text.parse().ok())
        .map(CategoryId);
    let command = AddComment {
        ticket_id: id,
        category_id,
        body: signed.params.get("comment").unwrap_or_default().to_owned(),
    };
    let console = &signed.console;
    match state
        .api
        .create_comment(console.call(Action::CreateComment), command, None)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/console/tickets/{id}#comments"))),
        Err(error) => refused_on_page(&state, console, id, error).await,
    }
}

pub(crate) async fn change_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::UpdateStatus).await?;
    let id = TicketId(path_id(&id, Entity::Ticket)?);
    let console = &signed.console;
    let Some(status) = signed.params.get("status").and_then(TicketStatus::parse) else {
        console
            .refuse(
                Action::UpdateStatus,
                connecticket_domain::audit::Outcome::Invalid,
            )
            .await;
        let message = format!("status must be one of: {}", TicketStatus::valid_list());
        return render(
            &state,
            console,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
        )
        .await;
    };
    let command = ChangeStatus {
        ticket_id: id,
        status,
    };
    match state
        .api
        .update_status(console.call(Action::UpdateStatus), command, None)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/console/tickets/{id}"))),
        Err(error) => refused_on_page(&state, console, id, error).await,
    }
}

/// Adds the chosen files to the ticket.
pub(crate) async fn attach(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::AttachFiles).await?;
    let id = TicketId(path_id(&id, Entity::Ticket)?);
    let uploads = signed
        .params
        .files
        .into_iter()
        // A file input left empty still sends a part with no name and no
        // bytes: it is no file.
        .filter(|file| !(file.file_name.is_empty() && file.data.is_empty()))
        .map(|file| Upload {
            file_name: file.file_name,
            content_type: file.content_type,
            data: file.data,
        })
        .collect();
    let console = &signed.console;
    match state
        .api
        .attach_files(console.call(Action::AttachFiles), id, uploads)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/console/tickets/{id}#attachments"))),
        Err(error) => refused_on_page(&state, console, id, error).await,
    }
}

/// Acknowledges a notification on its recipient's behalf, then shows its
/// ticket again.
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.form(&state, Action::Acknowledge).await?;
    let notification = NotificationId(path_id(&id, Entity::Notification)?);
    let ticket = signed
        .params
        .get("ticket_id")
        .and_then(|text| text.parse().ok())
        .map(TicketId);
    let input = StaffAcknowledgment {
        notification,
        note: signed.params.get("note").unwrap_or_default().to_owned(),
    };
    let console = &signed.console;
    match state
        .api
        .acknowledge(console.call(Action::Acknowledge), input)
        .await
    {
        Ok(summary) => Ok(see_other(&format!(
            "/console/tickets/{}#notifications",
            summary.ticket_id
        ))),
        Err(error) => match ticket {
            Some(ticket) => refused_on_page(&state, console, ticket, error).await,
            None => Err(error.into()),
        },
    }
}

/// Whether a file of this type is shown in the browser (`?view`): images
/// a browser draws and PDFs, by the media type alone (its parameters, such
/// as a charset, change nothing). Anything else, SVG included (a document
/// that can carry script), downloads.
pub(crate) fn shown_inline(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "application/pdf"
    )
}

/// `GET /console/attachments/{id}`: a download, or with `?view` the file
/// shown in the browser when it is an image or a PDF. Whatever the file
/// holds, it runs no script here (sandboxed, its type never sniffed).
pub(crate) async fn attachment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let view = request.parts.uri.query() == Some("view");
    let signed = request.page(&state, Action::Attachment).await?;
    let id = AttachmentId(path_id(&id, Entity::Attachment)?);
    let attachment = state
        .api
        .attachment(signed.console.call(Action::Attachment), id)
        .await?;
    let viewable = shown_inline(&attachment.meta.content_type);
    let disposition = crate::routes::attachments::content_disposition(&attachment.meta.file_name);
    let disposition = if view && viewable {
        HeaderValue::from_static("inline")
    } else {
        disposition
    };
    let content_type = HeaderValue::from_str(&attachment.meta.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; img-src 'self'; sandbox"),
            ),
        ],
        attachment.data,
    )
        .into_response())
}

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
    categories: Vec<CategoryField>,
    ratings: [&'static str; 3],
    title: String,
    ticket_type: String,
    general_comments: String,
    flags: Vec<(&'static str, &'static str, bool)>,
    message: Option<String>,
}

/// The new-ticket form, filled with what was sent (after a refusal).
async fn new_ticket_page(
    state: &AppState,
    console: &ConsoleCall,
    sent: &crate::wire::RequestParams,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, ConsoleError> {
    let residents = state
        .api
        .search_residents(console.call(Action::ConsolePage), "")
        .await?;
    let categories = state
        .api
        .categories(console.call(Action::ProviderCategories))
        .await?;
    let chosen_resident = sent.get("resident_id").or_else(|| sent.get("resident"));
    let chosen_urgency = sent
        .get("urgency_status")
        .and_then(UrgencyStatus::parse)
        .unwrap_or(UrgencyStatus::DEFAULT);
    let flag = |name: &str| sent.get(name).is_some_and(|v| v == "1");
    let page = NewTicketPage {
        chrome: Chrome::of(console, "new"),
        residents: residents
            .iter()
            .map(|r| Choice {
                value: r.id.to_string(),
                label: listed_name(r),
                selected: chosen_resident == Some(r.id.to_string().as_str()),
            })
            .collect(),
        urgencies: UrgencyStatus::ALL
            .iter()
            .map(|u| Choice {
                value: u.id.to_string(),
                label: u.name.to_owned(),
                selected: u.id == chosen_urgency.id,
            })
            .collect(),
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
        flags: vec![
            ("email", "Email the contacts", flag("email")),
            ("sms", "Text (SMS) the contacts", flag("sms")),
            ("sent_to_family", "Family", flag("sent_to_family")),
            (
                "sent_to_primary",
                "Primary physician",
                flag("sent_to_primary"),
            ),
            (
                "sent_to_healthcare_pro",
                "Healthcare professional",
                flag("sent_to_healthcare_pro"),
            ),
        ],
        message,
    };
    Ok(html(status, &page))
}

pub(crate) async fn new_form(
    State(state): State<AppState>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let signed = request.page(&state, Action::ConsolePage).await?;
    new_ticket_page(
        &state,
        &signed.console,
        &signed.params,
        StatusCode::OK,
        None,
    )
    .await
}

/// Raises the ticket with the API's own parser and rules, so the console
/// accepts exactly what `create_ticket` accepts.
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
    for flag in [
        "email",
        "sms",
        "sent_to_family",
        "sent_to_primary",
        "sent_to_healthcare_pro",
    ] {
        if params.get(flag).is_none() {
            params.insert(flag, "0".to_owned())?;
        }
    }
    let kept = params.clone();
    let command = match raise_ticket(params) {
        Ok(command) => command,
        Err(error) => {
            console.refuse(Action::CreateTicket, error.outcome()).await;
            let message = error.message();
            return new_ticket_page(&state, console, &kept, error.status(), Some(message)).await;
        }
    };
    match state
        .api
        .create_ticket(console.call(Action::CreateTicket), command, None)
        .await
    {
        Ok(written) => Ok(see_other(&format!(
            "/console/tickets/{}",
            written.into_inner()
        ))),
        Err(error @ (DomainError::Invalid(_) | DomainError::NotFound(_))) => {
            let error = HttpError::from(error);
            let message = error.message();
            new_ticket_page(&state, console, &kept, error.status(), Some(message)).await
        }
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::shown_inline;

    #[test]
    fn only_drawn_images_and_pdfs_are_shown_inline_whatever_their_parameters() {
        assert!(shown_inline("image/png"));
        assert!(shown_inline("Image/JPEG; name=x.jpg"));
        assert!(shown_inline("application/pdf"));
        assert!(!shown_inline("image/svg+xml"));
        assert!(!shown_inline("image/svg+xml; charset=utf-8"));
        assert!(!shown_inline("IMAGE/SVG+XML ;charset=utf-8"));
        assert!(!shown_inline("text/html"));
        assert!(!shown_inline(""));
    }
}
