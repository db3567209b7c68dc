//! The exact JSON shapes of the contract. Field names here are the wire
//! format that deployed clients parse: never rename one.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Map, Value};

use connecticket_domain::model::{AttachmentMeta, Comment, Resident, Ticket, TicketDetail};
use connecticket_domain::time::{format_date, format_timestamp};

fn stamp(at: DateTime<Utc>, zone: Tz) -> String {
    format_timestamp(at, zone)
}

/// The seed's 17 ticket keys, `sentsent_to_primary` included.
#[derive(Serialize)]
pub(crate) struct TicketJson<'a> {
    id: i64,
    title: &'a str,
    resident_id: i64,
    employee_id: i64,
    urgency_status_id: i64,
    ticket_status: &'static str,
    ticket_type: Option<&'a str>,
    state: bool,
    sms: Option<bool>,
    email: Option<bool>,
    sent_to_family: Option<bool>,
    sent_to_healthcare_pro: Option<bool>,
    sentsent_to_primary: Option<bool>,
    start_date: Option<String>,
    end_date: Option<String>,
    created_at: String,
    updated_at: String,
}

impl<'a> TicketJson<'a> {
    pub(crate) fn new(ticket: &'a Ticket, zone: Tz) -> Self {
        TicketJson {
            id: ticket.id.get(),
            title: &ticket.title,
            resident_id: ticket.resident_id.get(),
            employee_id: ticket.employee_id.get(),
            urgency_status_id: ticket.urgency_status_id,
            ticket_status: ticket.ticket_status.as_str(),
            ticket_type: ticket.ticket_type.as_deref(),
            state: ticket.state,
            sms: ticket.sms,
            email: ticket.email,
            sent_to_family: ticket.sent_to_family,
            sent_to_healthcare_pro: ticket.sent_to_healthcare_pro,
            sentsent_to_primary: ticket.sent_to_primary,
            start_date: ticket.start_date.map(format_date),
            end_date: ticket.end_date.map(format_date),
            created_at: stamp(ticket.created_at, zone),
            updated_at: stamp(ticket.updated_at, zone),
        }
    }
}

/// The seed's 31 resident keys.
#[derive(Serialize)]
pub(crate) struct ResidentJson<'a> {
    id: i64,
    provider_id: i64,
    first_name: &'a str,
    last_name: Option<&'a str>,
    dob: Option<String>,
    email: Option<&'a str>,
    phone_number: Option<&'a str>,
    fax_number: Option<&'a str>,
    home_address1: Option<&'a str>,
    home_address2: Option<&'a str>,
    home_city: Option<&'a str>,
    home_state: Option<&'a str>,
    home_zip: Option<&'a str>,
    location: Option<&'a str>,
    state: &'a str,
    in_home_care: bool,
    demo: bool,
    resident_type_id: Option<i64>,
    caretracker_id: Option<&'a str>,
    customer_number: Option<&'a str>,
    account_number: Option<&'a str>,
    photo_file_name: &'a str,
    photo_content_type: &'a str,
    photo_file_size: i64,
    creator_id: i64,
    updater_id: i64,
    review_updates: Option<&'a str>,
    last_status_update: Option<String>,
    next_status_update: Option<String>,
    created_at: String,
    updated_at: String,
}

impl<'a> ResidentJson<'a> {
    pub(crate) fn new(r: &'a Resident, zone: Tz) -> Self {
        ResidentJson {
            id: r.id.get(),
            provider_id: r.provider_id.get(),
            first_name: &r.first_name,
            last_name: r.last_name.as_deref(),
            dob: r.dob.map(format_date),
            email: r.email.as_deref(),
            phone_number: r.phone_number.as_deref(),
            fax_number: r.fax_number.as_deref(),
            home_address1: r.home_address1.as_deref(),
            home_address2: r.home_address2.as_deref(),
            home_city: r.home_city.as_deref(),
            home_state: r.home_state.as_deref(),
            home_zip: r.home_zip.as_deref(),
            location: r.location.as_deref(),
            state: &r.state,
            in_home_care: r.in_home_care,
            demo: r.demo,
            resident_type_id: r.resident_type_id,
            caretracker_id: r.caretracker_id.as_deref(),
            customer_number: r.customer_number.as_deref(),
            account_number: r.account_number.as_deref(),
            photo_file_name: &r.photo_file_name,
            photo_content_type: &r.photo_content_type,
            photo_file_size: r.photo_file_size,
            creator_id: r.creator_id,
            updater_id: r.updater_id,
            review_updates: r.review_updates.as_deref(),
            last_status_update: r.last_status_update.map(|at| stamp(at, zone)),
            next_status_update: r.next_status_update.map(|at| stamp(at, zone)),
            created_at: stamp(r.created_at, zone),
            updated_at: stamp(r.updated_at, zone),
        }
    }
}

#[derive(Serialize)]
struct CommentJson<'a> {
    commented_by: &'a str,
    commented_on: String,
    title: &'a str,
}

#[derive(Serialize)]
struct GeneralCommentJson<'a> {
    id: i64,
    #[serde(flatten)]
    comment: CommentJson<'a>,
}

fn comment(comment: &Comment, zone: Tz) -> CommentJson<'_> {
    CommentJson {
        commented_by: &comment.author_name,
        commented_on: stamp(comment.created_at, zone),
        title: &comment.body,
    }
}

#[derive(Serialize)]
struct AttachmentJson<'a> {
    id: i64,
    file_name: &'a str,
    content_type: &'a str,
    file_size: i64,
    url: String,
}

fn attachment<'a>(meta: &'a AttachmentMeta, token: &str) -> AttachmentJson<'a> {
    AttachmentJson {
        id: meta.id.get(),
        file_name: &meta.file_name,
        content_type: &meta.content_type,
        file_size: meta.file_size,
        url: format!("/api/{token}/attachments/{}", meta.id),
    }
}

/// `ticket_with_details`: the ticket, its categories keyed by id (each with
/// its lower-case status, name and `comment<id>` entries), general comments
/// and attachments. `token` builds the attachment URLs the caller can use.
pub(crate) fn ticket_with_details(
    detail: &TicketDetail,
    zone: Tz,
    token: &str,
) -> Result<Value, serde_json::Error> {
    let mut categories = Map::new();
    for category in &detail.categories {
        let mut entry = Map::new();
        for item in &category.comments {
            entry.insert(
                format!("comment{}", item.id),
                serde_json::to_value(comment(item, zone))?,
            );
        }
        entry.insert(
            "status".to_owned(),
            category
                .rating
                .map_or(Value::Null, |rating| rating.as_detail_str().into()),
        );
        entry.insert("title".to_owned(), category.name.clone().into());
        categories.insert(category.category_id.to_string(), Value::Object(entry));
    }
    let general: Vec<_> = detail
        .general_comments
        .iter()
        .map(|item| GeneralCommentJson {
            id: item.id.get(),
            comment: comment(item, zone),
        })
        .collect();
    let attachments: Vec<_> = detail
        .attachments
        .iter()
        .map(|meta| attachment(meta, token))
        .collect();
    let mut body = serde_json::json!({
        "ticket_attachments": attachments,
        "ticket": TicketJson::new(&detail.ticket, zone),
        "categories": categories,
        "general_comments": general,
    });
    // Only a ticket with more comments than a detail embeds says so.
    if detail.comments_omitted > 0 {
        body["comments_omitted"] = detail.comments_omitted.into();
    }
    Ok(body)
}
