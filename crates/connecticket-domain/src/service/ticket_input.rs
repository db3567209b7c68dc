//! Turning `create_ticket`, `create_comment` and `update_status` parameters
//! into validated domain values.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{MAX_COMMENT_TEXT, MAX_SHORT_TEXT};
use crate::auth::Principal;
use crate::error::{DomainError, DomainResult};
use crate::model::{NewAttachment, NewComment, NewTicket};
use crate::params::{
    check_length, optional_id, optional_text, parse_bool, parse_id, printable, required_id,
    RequestParams, Upload,
};
use crate::store::StatusUpdate;
use crate::time::parse_date;
use crate::workflow::{CategoryRating, TicketStatus, UrgencyStatus};

const CATEGORY_PREFIX: &str = "category_";
const CATEGORY_COMMENT_PREFIX: &str = "category_comments_";
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

pub(super) fn parse_new_ticket(
    params: &RequestParams,
    principal: &Principal,
    now: DateTime<Utc>,
) -> DomainResult<NewTicket> {
    // Older clients send the title as `regarding`.
    let title = params
        .non_blank("title")
        .or_else(|| params.non_blank("regarding"))
        .ok_or_else(|| DomainError::invalid("title/regarding required"))?;
    check_length("title", title, MAX_SHORT_TEXT)?;
    let resident_id = required_id(params, "resident_id")?;
    let urgency = match params
        .non_blank("urgency_status")
        .or_else(|| params.non_blank("urgency_status_id"))
    {
        Some(text) => UrgencyStatus::parse(text).ok_or_else(|| {
            DomainError::invalid(format!(
                "urgency_status must be one of: {}",
                UrgencyStatus::valid_list()
            ))
        })?,
        None => UrgencyStatus::DEFAULT,
    };
    let ticket_status = match params.non_blank("ticket_status") {
        Some(text) => TicketStatus::parse(text).ok_or_else(|| {
            DomainError::invalid(format!(
                "ticket_status must be one of: {}",
                TicketStatus::valid_list()
            ))
        })?,
        None => TicketStatus::New,
    };
    let start_date = optional_date(params, "start_date")?;
    let end_date = optional_date(params, "end_date")?;
    if let (Some(start), Some(end)) = (start_date, end_date) {
        if end < start {
            return Err(DomainError::invalid(
                "end_date must not be before start_date",
            ));
        }
    }
    let flag = |name: &str| parse_bool(name, params.get(name));
    let (ratings, mut comments) = parse_categories(params, principal.employee_id)?;
    if let Some(text) = optional_text(params, "general_comments", MAX_COMMENT_TEXT)? {
        comments.insert(
            0,
            NewComment {
                category_id: None,
                employee_id: principal.employee_id,
                body: text,
            },
        );
    }
    Ok(NewTicket {
        id: None,
        title: title.to_owned(),
        resident_id,
        employee_id: principal.employee_id,
        application_id: Some(principal.application_id),
        urgency_status_id: urgency.id,
        ticket_status,
        ticket_type: optional_text(params, "ticket_type", MAX_SHORT_TEXT)?,
        state: flag("state")?.unwrap_or(false),
        sms: flag("sms")?,
        email: flag("email")?,
        sent_to_family: flag("sent_to_family")?,
        sent_to_healthcare_pro: flag("sent_to_healthcare_pro")?,
        sent_to_primary: match flag("sent_to_primary")? {
            Some(value) => Some(value),
            None => flag("sentsent_to_primary")?,
        },
        start_date,
        end_date,
        ratings,
        comments,
        attachments: parse_attachments(&params.files)?,
        created_at: now,
    })
}

type CategoryInput = (Vec<(i64, CategoryRating)>, Vec<NewComment>);

/// `category_<id>` ratings and `category_comments_<id>` comments.
fn parse_categories(params: &RequestParams, employee_id: i64) -> DomainResult<CategoryInput> {
    let mut ratings = BTreeMap::new();
    let mut comments = Vec::new();
    for (name, value) in params.iter() {
        if let Some(id) = name.strip_prefix(CATEGORY_COMMENT_PREFIX) {
            let category_id = parse_id(name, id)?;
            if value.trim().is_empty() {
                continue;
            }
            check_length(name, value, MAX_COMMENT_TEXT)?;
            comments.push(NewComment {
                category_id: Some(category_id),
                employee_id,
                body: value.to_owned(),
            });
        } else if let Some(id) = name.strip_prefix(CATEGORY_PREFIX) {
            let category_id = parse_id(name, id)?;
            if value.trim().is_empty() {
                continue;
            }
            let rating = CategoryRating::parse(value).ok_or_else(|| {
                DomainError::invalid(format!(
                    "{} must be one of: Issue, No Issue, Potential Issue",
                    printable(name)
                ))
            })?;
            ratings.insert(category_id, rating);
        }
    }
    Ok((ratings.into_iter().collect(), comments))
}

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

fn parse_attachments(files: &[Upload]) -> DomainResult<Vec<NewAttachment>> {
    files
        .iter()
        .map(|upload| {
            if !is_attachment_field(&upload.field) {
                return Err(DomainError::invalid(format!(
                    "{} is not an attachment field (use attachment, attachment_<n> or attachment[<n>])",
                    printable(&upload.field)
                )));
            }
            let file_name = match upload.file_name.trim() {
                "" => "attachment".to_owned(),
                name => name.to_owned(),
            };
            check_length("attachment file name", &file_name, MAX_SHORT_TEXT)?;
            let content_type = match upload.content_type.trim() {
                "" => DEFAULT_CONTENT_TYPE.to_owned(),
                content_type => content_type.to_owned(),
            };
            check_length("attachment content type", &content_type, MAX_SHORT_TEXT)?;
            Ok(NewAttachment {
                file_name,
                content_type,
                data: upload.data.clone(),
            })
        })
        .collect()
}

fn optional_date(params: &RequestParams, name: &str) -> DomainResult<Option<NaiveDate>> {
    params
        .non_blank(name)
        .map(|text| {
            parse_date(text).ok_or_else(|| {
                DomainError::invalid(format!("{name} must be a date like 1937/01/21"))
            })
        })
        .transpose()
}

pub(super) fn parse_comment(
    params: &RequestParams,
    principal: &Principal,
) -> DomainResult<(i64, NewComment)> {
    let ticket_id = required_id(params, "ticket_id")?;
    let body = params
        .non_blank("comment")
        .ok_or_else(|| DomainError::invalid("comment required"))?;
    check_length("comment", body, MAX_COMMENT_TEXT)?;
    Ok((
        ticket_id,
        NewComment {
            category_id: optional_id(params, "category_id")?,
            employee_id: principal.employee_id,
            body: body.to_owned(),
        },
    ))
}

pub(super) fn parse_status_update(
    params: &RequestParams,
    principal: &Principal,
    now: DateTime<Utc>,
) -> DomainResult<StatusUpdate> {
    let ticket_id = required_id(params, "id")?;
    let text = params
        .non_blank("status")
        .ok_or_else(|| DomainError::invalid("status required"))?;
    let status = TicketStatus::parse(text).ok_or_else(|| {
        DomainError::invalid(format!(
            "status must be one of: {}",
            TicketStatus::valid_list()
        ))
    })?;
    Ok(StatusUpdate {
        ticket_id,
        status,
        employee_id: principal.employee_id,
        application_id: Some(principal.application_id),
        at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
