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
use connecticket_domain::service::{Considered, ConsoleCall, StaffAcknowledgment, TicketCircle};
use connecticket_domain::workflow::{CategoryRating, TicketStatus, UrgencyStatus};
use connecticket_domain::{DomainError, Entity};

use super::board::Choice;
use super::drafts;
use super::identity::Identity;
use super::render::{html, local, path_id, see_other, Chrome, ConsoleError};
use super::session::ConsoleRequest;
use super::telling::{boxes, sent_choice, unticked_are_no, NotifyBox, TellingView};
use super::ticket_view::{self, EventView, StateView};
use crate::error::HttpError;
use crate::state::AppState;
use crate::wire::RequestParams;

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

#[derive(Template)]
#[template(path = "console/ticket.html")]
struct TicketPage {
    chrome: Chrome,
    id: i64,
    title: String,
    banner: Identity,
    state: StateView,
    opened: String,
    updated: String,
    ticket_type: Option<String>,
    ratings: Vec<RatingView>,
    comments: Vec<CommentView>,
    comments_omitted: u64,
    attachments: Vec<AttachmentView>,
    told: Vec<EventView>,
    statuses: Vec<Choice>,
    categories: Vec<Choice>,
    message: Option<String>,
    /// A comment not yet added: refused, or kept across a sign-in.
    draft_comment: String,
    /// The comment was kept across a sign-in.
    restored: bool,
    /// Whom a status change tells: the boxes and the summary.
    status_whom: Vec<NotifyBox>,
    status_how: Vec<NotifyBox>,
    telling: TellingView,
    urgency: &'static str,
}

/// A comment typed but not yet added, shown again in the form.
#[derive(Default)]
pub(crate) struct CommentDraft {
    pub body: String,
    pub category: Option<i64>,
    /// Kept across a sign-in, rather than refused.
    pub restored: bool,
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
    circle: &TicketCircle,
    message: Option<String>,
    draft: CommentDraft,
    done: Option<&str>,
    telling: StatusTelling,
) -> TicketPage {
    let zone = console.holder.provider.zone();
    let ticket = &detail.ticket;
    TicketPage {
        chrome: Chrome::of(console, "board").noted(done),
        id: ticket.id.get(),
        title: ticket.title.clone(),
        banner: Identity::of(&circle.resident, zone),
        state: ticket_view::state(
            circle,
            ticket.ticket_status,
            ticket.urgency_status_id,
            &detail.notifications,
            zone,
        ),
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
        told: ticket_view::told(circle, &detail.notifications, zone),
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
                selected: draft.category == Some(c.category_id.get()),
            })
            .collect(),
        message,
        draft_comment: draft.body,
        restored: draft.restored,
        status_whom: telling.whom,
        status_how: telling.how,
        telling: telling.view,
        urgency: UrgencyStatus::by_id(ticket.urgency_status_id).map_or("Unknown", |u| u.name),
    }
}

/// Renders the ticket's page; `message` is a refused form's reason.
/// The ticket's page; `sent`, what the request carried (a `?done=` note,
/// or the status form's choice of whom to tell, kept when refused).
async fn render(
    state: &AppState,
    console: &ConsoleCall,
    id: TicketId,
    status: StatusCode,
    message: Option<String>,
    draft: CommentDraft,
    sent: Option<&RequestParams>,
) -> Result<Response, ConsoleError> {
    let detail = state
        .api
        .ticket_detail(console.call(Action::TicketDetail), id)
        .await?;
    let circle = state
        .api
        .ticket_circle(console.call(Action::ConsolePage), &detail)
        .await?;
    let choice = sent.and_then(sent_choice);
    let telling = state
        .api
        .who_would_be_told(
            console.call(Action::ConsolePage),
            Considered::StatusChange {
                ticket: &detail.ticket,
            },
            choice.unwrap_or_default(),
        )
        .await?;
    let (whom, how) = boxes(&choice.unwrap_or(telling.default));
    let status_telling = StatusTelling {
        whom,
        how,
        view: TellingView::of(&telling),
    };
    let done = sent.and_then(|sent| sent.get("done"));
    Ok(html(
        status,
        &ticket_page(
            console,
            &detail,
            &circle,
            message,
            draft,
            done,
            status_telling,
        ),
    ))
}

/// The status form's choice of whom the change tells.
pub(crate) struct StatusTelling {
    pub whom: Vec<NotifyBox>,
    pub how: Vec<NotifyBox>,
    pub view: TellingView,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: ConsoleRequest,
) -> Result<Response, ConsoleError> {
    let headers = request.parts.headers.clone();
    let signed = request.page(&state, Action::TicketDetail).await?;
    let id = TicketId(path_id(&id, Entity::Ticket)?);
    let action = format!("/console/tickets/{id}/comments");
    let (kept, forget) = drafts::take(&state, &signed.console, &headers, &action);
    let draft = kept.map_or_else(CommentDraft::default, |kept| CommentDraft {
        body: kept.get("comment").unwrap_or_default().to_owned(),
        category: kept.get("category_id").and_then(|c| c.parse().ok()),
        restored: true,
    });
    let mut response = render(
        &state,
        &signed.console,
        id,
        StatusCode::OK,
        None,
        draft,
        Some(&signed.params),
    )
    .await?;
    for cookie in forget {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// A form's refusal shown on the ticket's page; anything else as an error
/// page.
async fn refused_on_page(
    state: &AppState,
    console: &ConsoleCall,
    id: TicketId,
    error: DomainError,
    draft: CommentDraft,
) -> Result<Response, ConsoleError> {
    match error {
        DomainError::Invalid(_) => {
            let error = HttpError::from(error);
            render(
                state,
                console,
                id,
                error.status(),
                Some(error.message()),
                draft,
                None,
            )
            .await
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
    let draft = CommentDraft {
        body: command.body.clone(),
        category: category_id.map(|c| c.get()),
        restored: false,
    };
    let console = &signed.console;
    match state
        .api
        .create_comment(console.call(Action::CreateComment), command, None)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/console/tickets/{id}?done=comment#comments"
        ))),
        Err(error) => refused_on_page(&state, console, id, error, draft).await,
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
    let parsed = match signed.params.get("status").and_then(TicketStatus::parse) {
        None => Err(format!(
            "status must be one of: {}",
            TicketStatus::valid_list()
        )),
        Some(status) => {
            // The form's boxes: once it sent its choice at all, an unticked
            // one is "no".
            let mut params = signed.params.clone();
            if params.get("choices").is_some() {
                unticked_are_no(&mut params)?;
            }
            crate::wire::commands::notify_request(&params)
                .map(|notify| (status, notify))
                .map_err(|error| error.to_string())
        }
    };
    let (status, notify) = match parsed {
        Ok(parsed) => parsed,
        Err(message) => {
            console
                .refuse(
                    Action::UpdateStatus,
                    connecticket_domain::audit::Outcome::Invalid,
                )
                .await;
            return render(
                &state,
                console,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
                CommentDraft::default(),
                Some(&signed.params),
            )
            .await;
        }
    };
    let command = ChangeStatus {
        ticket_id: id,
        status,
        notify,
        expected_version: None,
    };
    match state
        .api
        .update_status(console.call(Action::UpdateStatus), command, None)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/console/tickets/{id}?done=status"))),
        Err(error) => refused_on_page(&state, console, id, error, CommentDraft::default()).await,
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
        Ok(_) => Ok(see_other(&format!(
            "/console/tickets/{id}?done=files#attachments"
        ))),
        Err(error) => refused_on_page(&state, console, id, error, CommentDraft::default()).await,
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
            "/console/tickets/{}?done=acknowledged#notifications",
            summary.ticket_id
        ))),
        Err(error) => match ticket {
            Some(ticket) => {
                refused_on_page(&state, console, ticket, error, CommentDraft::default()).await
            }
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
