//! The published API's parameters, legacy spellings included, parsed into
//! the domain's commands. This is the only place that knows how clients
//! spell things: `regarding` for the title, `sentsent_to_primary`,
//! `category_<id>` and `category_comments_<id>`, the attachment part names.
//! Every error names the parameter as the client sent it.

use connecticket_domain::command::{AddComment, ChangeStatus, RaiseTicket, Upload};
use connecticket_domain::events::{FeedQuery, DEFAULT_FEED_LIMIT};
use connecticket_domain::model::WebhookId;
use connecticket_domain::model::{
    AttachmentId, CategoryId, NotificationId, Page, ResidentId, TicketId, TicketQuery,
};
use connecticket_domain::notify::{NoticeFilter, NotifyRequest};
use connecticket_domain::service::{
    NoticeRequest, ReplayRange, StaffAcknowledgment, WebhookRequest,
};
use connecticket_domain::text::{parse_bool, printable, BOOLEAN_EXPECTED};
use connecticket_domain::time::{parse_date, parse_timestamp};
use connecticket_domain::validate::DEFAULT_PER_PAGE;
use connecticket_domain::workflow::{CategoryRating, TicketStatus, UrgencyStatus};

use super::params::{FilePart, RequestParams};
use crate::error::HttpError;

type Result<T> = std::result::Result<T, HttpError>;

const CATEGORY_PREFIX: &str = "category_";
const CATEGORY_COMMENT_PREFIX: &str = "category_comments_";

fn invalid(message: impl Into<String>) -> HttpError {
    HttpError::InvalidParameter(message.into())
}

/// A record id: a positive integer that fits the store's 64-bit ids.
pub(crate) fn parse_id(name: &str, value: &str) -> Result<i64> {
    match value.trim().parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(invalid(format!(
            "{} must be a positive integer id",
            printable(name)
        ))),
    }
}

/// The id in a parameter's name (`category_19`): plain decimal digits, as
/// the server itself writes ids. Another spelling of a number (`019`,
/// `+19`, ` 19`) would alias the canonical name, so it is refused.
fn id_in_name(name: &str, digits: &str) -> Result<i64> {
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if canonical {
        return parse_id(name, digits);
    }
    match digits.trim().trim_start_matches('+').parse::<i64>() {
        Ok(id) if id > 0 => Err(invalid(format!(
            "{} must be written with a plain decimal id, like category_19",
            printable(name)
        ))),
        _ => Err(invalid(format!(
            "{} must be a positive integer id",
            printable(name)
        ))),
    }
}

fn required_id(params: &RequestParams, name: &str) -> Result<i64> {
    match params.non_blank(name) {
        Some(value) => parse_id(name, value),
        None => Err(invalid(format!("{name} required"))),
    }
}

fn optional_id(params: &RequestParams, name: &str) -> Result<Option<i64>> {
    params
        .non_blank(name)
        .map(|value| parse_id(name, value))
        .transpose()
}

fn flag(params: &RequestParams, name: &str) -> Result<Option<bool>> {
    match params.get(name) {
        Some(value) => {
            parse_bool(value).map_err(|()| invalid(format!("{name} {BOOLEAN_EXPECTED}")))
        }
        None => Ok(None),
    }
}

fn text(params: &RequestParams, name: &str) -> Option<String> {
    params.non_blank(name).map(str::to_owned)
}

fn status(params: &RequestParams, name: &str) -> Result<Option<TicketStatus>> {
    params
        .non_blank(name)
        .map(|text| {
            TicketStatus::parse(text).ok_or_else(|| {
                invalid(format!(
                    "{name} must be one of: {}",
                    TicketStatus::valid_list()
                ))
            })
        })
        .transpose()
}

fn date(params: &RequestParams, name: &str) -> Result<Option<chrono::NaiveDate>> {
    params
        .non_blank(name)
        .map(|text| {
            parse_date(text)
                .ok_or_else(|| invalid(format!("{name} must be a date like 1937/01/21")))
        })
        .transpose()
}

/// `create_ticket`'s parameters.
pub(crate) fn raise_ticket(params: RequestParams) -> Result<RaiseTicket> {
    // Older clients send the title as `regarding`.
    let title = params
        .non_blank("title")
        .or_else(|| params.non_blank("regarding"))
        .ok_or_else(|| invalid("title/regarding required"))?;
    let mut command = RaiseTicket::new(title, ResidentId(required_id(&params, "resident_id")?));
    if let Some(text) = params
        .non_blank("urgency_status")
        .or_else(|| params.non_blank("urgency_status_id"))
    {
        command.urgency = UrgencyStatus::parse(text).ok_or_else(|| {
            invalid(format!(
                "urgency_status must be one of: {}",
                UrgencyStatus::valid_list()
            ))
        })?;
    }
    if let Some(status) = status(&params, "ticket_status")? {
        command.status = status;
    }
    command.start_date = date(&params, "start_date")?;
    command.end_date = date(&params, "end_date")?;
    command.ticket_type = text(&params, "ticket_type");
    command.state = flag(&params, "state")?.unwrap_or(false);
    let notify = notify_request(&params)?;
    command.sms = notify.sms;
    command.email = notify.email;
    command.sent_to_family = notify.family;
    command.sent_to_healthcare_pro = notify.healthcare_professional;
    command.sent_to_primary = notify.primary_physician;
    command.general_comment = text(&params, "general_comments");
    categories(&params, &mut command)?;
    command.attachments = params
        .files
        .into_iter()
        .map(upload)
        .collect::<Result<_>>()?;
    Ok(command)
}

/// `category_<id>` ratings and `category_comments_<id>` comments; blank
/// values are ignored, like an unselected radio button.
fn categories(params: &RequestParams, command: &mut RaiseTicket) -> Result<()> {
    for (name, value) in params.iter() {
        if let Some(id) = name.strip_prefix(CATEGORY_COMMENT_PREFIX) {
            let category_id = CategoryId(id_in_name(name, id)?);
            if !value.trim().is_empty() {
                command
                    .category_comments
                    .insert(category_id, value.to_owned());
            }
        } else if let Some(id) = name.strip_prefix(CATEGORY_PREFIX) {
            let category_id = CategoryId(id_in_name(name, id)?);
            if value.trim().is_empty() {
                continue;
            }
            let rating = CategoryRating::parse(value).ok_or_else(|| {
                invalid(format!(
                    "{} must be one of: Issue, No Issue, Potential Issue",
                    printable(name)
                ))
            })?;
            command.ratings.insert(category_id, rating);
        }
    }
    Ok(())
}

/// Files come only in parts named `attachment`, `attachment_<n>` or
/// `attachment[<n>]`.
fn is_attachment_field(field: &str) -> bool {
    let index = if field == "attachment" {
        return true;
    } else if let Some(rest) = field.strip_prefix("attachment_") {
        rest
    } else if let Some(rest) = field
        .strip_prefix("attachment[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        rest
    } else {
        return false;
    };
    !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())
}

fn upload(file: FilePart) -> Result<Upload> {
    if !is_attachment_field(&file.field) {
        return Err(invalid(format!(
            "{} is not an attachment field (use attachment, attachment_<n> or attachment[<n>])",
            printable(&file.field)
        )));
    }
    Ok(Upload {
        file_name: file.file_name,
        content_type: file.content_type,
        data: file.data,
    })
}

/// `create_comment`'s parameters.
pub(crate) fn add_comment(params: RequestParams) -> Result<AddComment> {
    let ticket_id = TicketId(required_id(&params, "ticket_id")?);
    let body = params
        .non_blank("comment")
        .ok_or_else(|| invalid("comment required"))?;
    Ok(AddComment {
        ticket_id,
        category_id: optional_id(&params, "category_id")?.map(CategoryId),
        body: body.to_owned(),
    })
}

/// The notify flags of `create_ticket` and `update_status`, each `None`
/// when the request did not send it (docs/NOTIFICATIONS.md, "Who is
/// told").
pub(crate) fn notify_request(params: &RequestParams) -> Result<NotifyRequest> {
    Ok(NotifyRequest {
        sms: flag(params, "sms")?,
        email: flag(params, "email")?,
        family: flag(params, "sent_to_family")?,
        healthcare_professional: flag(params, "sent_to_healthcare_pro")?,
        // The seed's ticket object spells it `sentsent_to_primary`; accept
        // both.
        primary_physician: match flag(params, "sent_to_primary")? {
            Some(value) => Some(value),
            None => flag(params, "sentsent_to_primary")?,
        },
    })
}

/// `update_status`'s parameters.
pub(crate) fn change_status(params: RequestParams) -> Result<ChangeStatus> {
    let ticket_id = TicketId(required_id(&params, "id")?);
    if params.non_blank("status").is_none() {
        return Err(invalid("status required"));
    }
    let status = status(&params, "status")?.ok_or_else(|| invalid("status required"))?;
    Ok(ChangeStatus {
        ticket_id,
        status,
        notify: notify_request(&params)?,
        expected_version: None,
    })
}

/// `ticket_detail`'s `id`.
pub(crate) fn ticket_id(params: RequestParams) -> Result<TicketId> {
    required_id(&params, "id").map(TicketId)
}

pub(crate) fn resident_id(params: RequestParams) -> Result<ResidentId> {
    required_id(&params, "resident_id").map(ResidentId)
}

/// `tickets`' filters and paging.
pub(crate) fn ticket_query(params: RequestParams) -> Result<TicketQuery> {
    let updated_since = params
        .non_blank("updated_since")
        .map(|text| {
            parse_timestamp(text).ok_or_else(|| {
                invalid("updated_since must be a timestamp like 2016/02/12 03:00:34 -0800")
            })
        })
        .transpose()?;
    Ok(TicketQuery {
        ticket_status: status(&params, "ticket_status")?,
        resident_id: optional_id(&params, "resident_id")?.map(ResidentId),
        updated_since,
        page: page(&params)?,
    })
}

/// `page`/`per_page`/`after_id`; none of them means the whole list.
pub(crate) fn page(params: &RequestParams) -> Result<Option<Page>> {
    let number = positive_u32(params, "page")?;
    let per_page = positive_u32(params, "per_page")?;
    let after_id = optional_id(params, "after_id")?;
    if number.is_none() && per_page.is_none() && after_id.is_none() {
        return Ok(None);
    }
    Ok(Some(Page {
        number: number.unwrap_or(1),
        per_page: per_page.unwrap_or(DEFAULT_PER_PAGE),
        after_id,
    }))
}

fn positive_u32(params: &RequestParams, name: &str) -> Result<Option<u32>> {
    params
        .non_blank(name)
        .map(|text| match text.trim().parse::<u32>() {
            Ok(value) if value > 0 => Ok(value),
            _ => Err(invalid(format!("{name} must be a positive integer"))),
        })
        .transpose()
}

/// The id of `attachments/{id}`, read from the raw path; a malformed one
/// names no attachment.
pub(crate) fn attachment_id(path: &str) -> Option<AttachmentId> {
    let raw = path.rsplit('/').next()?;
    parse_id("id", raw).ok().map(AttachmentId)
}

/// The webhook id in `…/webhooks/{id}[/rotate|/replay]`; none when it is
/// not a plain positive id (which names no endpoint: 404).
pub(crate) fn webhook_id(path: &str) -> Option<WebhookId> {
    let mut segments = path.split('/').skip_while(|segment| *segment != "webhooks");
    segments.next()?;
    let raw = segments.next()?;
    parse_id("id", raw).ok().map(WebhookId)
}

/// A count parameter: a non-negative integer.
fn count(params: &RequestParams, name: &str) -> Result<Option<i64>> {
    params
        .non_blank(name)
        .map(|value| match value.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n),
            _ => Err(invalid(format!(
                "{} must be a non-negative integer",
                printable(name)
            ))),
        })
        .transpose()
}

/// `changes`' cursor and page size.
pub(crate) fn feed_query(params: RequestParams) -> Result<FeedQuery> {
    let limit = count(&params, "limit")?.unwrap_or(i64::from(DEFAULT_FEED_LIMIT));
    Ok(FeedQuery {
        after: count(&params, "after")?.unwrap_or(0),
        limit: u32::try_from(limit).unwrap_or(u32::MAX),
    })
}

/// `POST webhooks`' endpoint.
pub(crate) fn webhook_request(params: RequestParams) -> Result<WebhookRequest> {
    Ok(WebhookRequest {
        url: params.get("url").unwrap_or_default().to_owned(),
        event_types: params.non_blank("event_types").map(str::to_owned),
    })
}

/// A replay's range of cursors: `from` and `through` (default: `from`).
pub(crate) fn replay_range(params: RequestParams) -> Result<ReplayRange> {
    let from = required_id(&params, "from")?;
    let through = optional_id(&params, "through")?.unwrap_or(from);
    Ok(ReplayRange::Cursors { from, through })
}

/// `notifications`' filters and paging (a page of 100 unless asked).
pub(crate) fn notice_request(params: RequestParams) -> Result<NoticeRequest> {
    let filter = params
        .non_blank("state")
        .map(|text| {
            NoticeFilter::parse(text)
                .ok_or_else(|| invalid(format!("state must be one of {}", NoticeFilter::SPELLINGS)))
        })
        .transpose()?;
    Ok(NoticeRequest {
        ticket: optional_id(&params, "ticket_id")?.map(TicketId),
        filter,
        page: page(&params)?.unwrap_or(Page {
            number: 1,
            per_page: DEFAULT_PER_PAGE,
            after_id: None,
        }),
    })
}

/// `acknowledge`'s parameters.
pub(crate) fn staff_acknowledgment(params: RequestParams) -> Result<StaffAcknowledgment> {
    let notification = NotificationId(required_id(&params, "notification_id")?);
    let note = params.non_blank("note").unwrap_or_default().to_owned();
    Ok(StaffAcknowledgment { notification, note })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> RequestParams {
        let mut params = RequestParams::default();
        for (name, value) in pairs {
            params.insert(name, (*value).to_owned()).expect("insert");
        }
        params
    }

    #[test]
    fn attachment_fields_follow_the_contract() {
        for ok in ["attachment", "attachment_1", "attachment[12]"] {
            assert!(is_attachment_field(ok), "{ok}");
        }
        for bad in [
            "attachments",
            "attachment_",
            "attachment[]",
            "attachment[a]",
            "file",
        ] {
            assert!(!is_attachment_field(bad), "{bad}");
        }
    }

    #[test]
    fn legacy_spellings_are_understood() {
        let command = raise_ticket(params(&[
            ("regarding", "Fall"),
            ("resident_id", "7"),
            ("sentsent_to_primary", "yes"),
            ("urgency_status_id", "5"),
            ("category_19", " issue "),
            ("category_comments_19", "bruise"),
        ]))
        .expect("valid");
        assert_eq!(command.title, "Fall");
        assert_eq!(command.sent_to_primary, Some(true));
        assert_eq!(command.urgency.name, "Exception");
        assert_eq!(
            command.ratings.get(&CategoryId(19)),
            Some(&CategoryRating::Issue)
        );
        assert_eq!(
            command
                .category_comments
                .get(&CategoryId(19))
                .map(String::as_str),
            Some("bruise")
        );
    }

    #[test]
    fn ids_in_names_have_one_spelling() {
        assert_eq!(id_in_name("category_19", "19").ok(), Some(19));
        for alias in ["019", "+19", " 19", "19 "] {
            let error = id_in_name("category_x", alias).expect_err(alias);
            assert!(
                error.to_string().contains("plain decimal id"),
                "{alias}: {error}"
            );
        }
        for bad in ["", "abc", "0", "-3"] {
            let error = id_in_name("category_x", bad).expect_err(bad);
            assert_eq!(
                error.to_string(),
                "category_x must be a positive integer id"
            );
        }
    }

    #[test]
    fn ids_must_be_positive_and_in_range() {
        assert_eq!(parse_id("id", " 42 ").ok(), Some(42));
        for bad in ["0", "-1", "abc", "99999999999999999999", "1.5"] {
            let error = parse_id("id", bad).expect_err(bad);
            assert_eq!(error.to_string(), "id must be a positive integer id");
        }
        assert_eq!(
            attachment_id("/api/t/attachments/12"),
            Some(AttachmentId(12))
        );
        assert_eq!(attachment_id("/api/t/attachments/%FF"), None);
    }
}
