//! The exact JSON shapes of the contract. Field names here are the wire
//! format that deployed clients parse: never rename one.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use connecticket_domain::model::{
    AttachmentMeta, Comment, Resident, Ticket, TicketCategory, TicketDetail,
};
use connecticket_domain::notify::NoticeSummary;
use connecticket_domain::time::{format_date, format_timestamp};

fn stamp(at: DateTime<Utc>, zone: Tz) -> String {
    format_timestamp(at, zone)
}

/// The seed's 17 ticket keys, `sentsent_to_primary` included. Timestamps
/// are `YYYY/MM/DD HH:MM:SS ±HHMM` in the provider's zone; dates ISO.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Ticket)]
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
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Resident)]
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

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Comment)]
pub(crate) struct CommentJson<'a> {
    commented_by: &'a str,
    commented_on: String,
    title: &'a str,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GeneralComment)]
pub(crate) struct GeneralCommentJson<'a> {
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

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Attachment)]
pub(crate) struct AttachmentJson<'a> {
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
/// Written straight into the answer; keys come in sorted order, as they
/// always have.
pub(crate) struct TicketWithDetails<'a> {
    pub(crate) detail: &'a TicketDetail,
    pub(crate) zone: Tz,
    pub(crate) token: &'a str,
}

impl Serialize for TicketWithDetails<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let detail = self.detail;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(
            "categories",
            &Categories {
                categories: &detail.categories,
                zone: self.zone,
            },
        )?;
        // Only a ticket with more comments than a detail embeds says so.
        if detail.comments_omitted > 0 {
            map.serialize_entry("comments_omitted", &detail.comments_omitted)?;
        }
        let general: Vec<_> = detail
            .general_comments
            .iter()
            .map(|item| GeneralCommentJson {
                id: item.id.get(),
                comment: comment(item, self.zone),
            })
            .collect();
        map.serialize_entry("general_comments", &general)?;
        // Only a ticket someone was told about carries the list.
        if !detail.notifications.is_empty() {
            let notices: Vec<_> = detail
                .notifications
                .iter()
                .map(|notice| NoticeJson::new(notice, self.zone))
                .collect();
            map.serialize_entry("notifications", &notices)?;
        }
        map.serialize_entry("ticket", &TicketJson::new(&detail.ticket, self.zone))?;
        let attachments: Vec<_> = detail
            .attachments
            .iter()
            .map(|meta| attachment(meta, self.token))
            .collect();
        map.serialize_entry("ticket_attachments", &attachments)?;
        map.end()
    }
}
/// A notification as staff see it: who (by role), how, and what came of
/// it; never an address. Keys in sorted order.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Notification)]
pub(crate) struct NoticeJson<'a> {
    ack_required: bool,
    acknowledged_at: Option<String>,
    /// The employee who took the answer (`staff` only).
    acknowledged_by: Option<i64>,
    acknowledged_via: Option<&'static str>,
    attempts: i64,
    channel: &'static str,
    created_at: String,
    delivered_at: Option<String>,
    escalation_level: i64,
    event: &'static str,
    id: i64,
    /// Why it waits, failed or was cancelled ("held for quiet hours
    /// until 08:00"); never an address. `null` once delivered.
    reason: Option<&'a str>,
    role: &'a str,
    status: &'static str,
    ticket_id: i64,
}

impl<'a> NoticeJson<'a> {
    pub(crate) fn new(notice: &'a NoticeSummary, zone: Tz) -> Self {
        NoticeJson {
            ack_required: notice.ack_required,
            acknowledged_at: notice.acknowledged_at.map(|at| format_timestamp(at, zone)),
            acknowledged_by: notice.acknowledged_by.map(|e| e.get()),
            acknowledged_via: notice.acknowledged_via.map(|via| via.as_str()),
            attempts: notice.attempts,
            channel: notice.channel.as_str(),
            created_at: format_timestamp(notice.created_at, zone),
            delivered_at: notice.delivered_at.map(|at| format_timestamp(at, zone)),
            escalation_level: notice.escalation_level,
            event: notice.event.as_str(),
            id: notice.id.get(),
            reason: match notice.status {
                connecticket_domain::notify::DeliveryState::Delivered => None,
                _ => notice.waiting_reason.as_deref(),
            },
            role: notice.role.as_str(),
            status: notice.status.as_str(),
            ticket_id: notice.ticket_id.get(),
        }
    }
}

impl utoipa::PartialSchema for TicketWithDetails<'_> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, Type,
        };
        use utoipa::openapi::Ref;
        let array_of = |name: &str| ArrayBuilder::new().items(Ref::from_schema_name(name));
        let category = ObjectBuilder::new()
            .description(Some(
                "A rating of one category: `status` (`issue`, `no issue`, `potential issue`), \
                 `name`, and its comments under `comment<id>` keys",
            ))
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)));
        ObjectBuilder::new()
            .property(
                "categories",
                ObjectBuilder::new()
                    .description(Some("The ticket's ratings, keyed by category id"))
                    .additional_properties(Some(category)),
            )
            .required("categories")
            .property(
                "comments_omitted",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .description(Some(
                        "Only when the ticket has more comments than a detail embeds",
                    )),
            )
            .property("general_comments", array_of("GeneralComment"))
            .required("general_comments")
            .property(
                "notifications",
                array_of("Notification").description(Some("Only once someone was told")),
            )
            .property("ticket", Ref::from_schema_name("Ticket"))
            .required("ticket")
            .property("ticket_attachments", array_of("Attachment"))
            .required("ticket_attachments")
            .into()
    }
}

impl utoipa::ToSchema for TicketWithDetails<'_> {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("TicketWithDetails")
    }
}

/// The categories, keyed by id (as text, in text order).
struct Categories<'a> {
    categories: &'a [TicketCategory],
    zone: Tz,
}

impl Serialize for Categories<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut keyed: Vec<(String, &TicketCategory)> = self
            .categories
            .iter()
            .map(|category| (category.category_id.to_string(), category))
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut map = serializer.serialize_map(Some(keyed.len()))?;
        for (key, category) in keyed {
            map.serialize_entry(
                &key,
                &CategoryJson {
                    category,
                    zone: self.zone,
                },
            )?;
        }
        map.end()
    }
}

/// One category: `comment<id>` for each comment (in text order), then
/// `status` and `title`.
struct CategoryJson<'a> {
    category: &'a TicketCategory,
    zone: Tz,
}

impl Serialize for CategoryJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut comments: Vec<(String, &Comment)> = self
            .category
            .comments
            .iter()
            .map(|item| (format!("comment{}", item.id), item))
            .collect();
        comments.sort_by(|a, b| a.0.cmp(&b.0));
        let mut map = serializer.serialize_map(Some(comments.len() + 2))?;
        for (key, item) in comments {
            map.serialize_entry(&key, &comment(item, self.zone))?;
        }
        map.serialize_entry(
            "status",
            &self.category.rating.map(|rating| rating.as_detail_str()),
        )?;
        map.serialize_entry("title", &self.category.name)?;
        map.end()
    }
}
