//! Every answer's envelope as a type: the handlers serialize these, and
//! the OpenAPI description (`/openapi.json`) is derived from the same
//! types, so the two cannot drift apart. Streamed lists write their
//! envelope by hand for flat memory; their types here describe those
//! bytes, and a test reads real answers against them.

use serde::Serialize;
use utoipa::ToSchema;

use super::json::{NoticeJson, ResidentJson, TicketJson, TicketWithDetails};

/// The seed's success word.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub(crate) enum Success {
    Success,
}

/// Every refusal: `{"status": false, "message": …}` (with `request_id` on
/// a 500).
#[derive(Serialize, ToSchema)]
pub(crate) struct Failure<'a> {
    /// What was wrong, naming the parameter as the client sent it.
    pub(crate) message: &'a str,
    /// On a 500 only: the id to quote to the operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_id: Option<&'a str>,
    /// Always `false`.
    pub(crate) status: bool,
}

/// `authorize`'s answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct Authorized {
    /// Random, URL-safe; goes in every later call's path.
    pub(crate) access_token: String,
    /// When the token stops working, in the provider's time zone.
    pub(crate) expires_at: String,
    pub(crate) message: String,
    /// `true`, as the seed has it.
    pub(crate) status: bool,
}

/// An action's answer: `{"status": "Success", "message": …}`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Done<'a> {
    pub(crate) message: &'a str,
    pub(crate) status: Success,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TicketCreated {
    pub(crate) message: &'static str,
    pub(crate) status: Success,
    pub(crate) ticket_id: i64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CommentCreated {
    pub(crate) comment_id: i64,
    pub(crate) message: &'static str,
    pub(crate) status: Success,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DetailAnswer<'a> {
    pub(crate) status: Success,
    pub(crate) ticket_with_details: TicketWithDetails<'a>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Category)]
pub(crate) struct CategoryJson<'a> {
    pub(crate) id: i64,
    pub(crate) name: &'a str,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CategoriesAnswer<'a> {
    pub(crate) categories: Vec<CategoryJson<'a>>,
    pub(crate) status: Success,
}

/// Who is told about a resident.
#[derive(Serialize, ToSchema)]
#[schema(as = Contact)]
pub(crate) struct ContactJson<'a> {
    pub(crate) email: Option<&'a str>,
    pub(crate) email_consent: bool,
    pub(crate) id: i64,
    pub(crate) name: &'a str,
    /// E.164.
    pub(crate) phone: Option<&'a str>,
    pub(crate) resident_id: i64,
    /// `family`, `primary_physician` or `healthcare_professional`.
    pub(crate) role: &'static str,
    pub(crate) sms_consent: bool,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ContactsAnswer<'a> {
    pub(crate) contacts: Vec<ContactJson<'a>>,
    pub(crate) status: Success,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationsAnswer<'a> {
    pub(crate) notifications: Vec<NoticeJson<'a>>,
    pub(crate) page: u32,
    pub(crate) per_page: u32,
    pub(crate) status: Success,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Acknowledged<'a> {
    pub(crate) message: &'static str,
    pub(crate) notification: NoticeJson<'a>,
    pub(crate) status: Success,
}

/// `tickets`' streamed answer (written by `list::stream_list`).
#[derive(Serialize, ToSchema)]
pub(crate) struct TicketList<'a> {
    pub(crate) status: Success,
    /// With `page`, `per_page` or `after_id` only.
    pub(crate) page: Option<u32>,
    pub(crate) per_page: Option<u32>,
    pub(crate) after_id: Option<i64>,
    pub(crate) ticket: Vec<TicketJson<'a>>,
}

/// `all_residents`' streamed answer (written by `list::stream_list`).
#[derive(Serialize, ToSchema)]
pub(crate) struct ResidentList<'a> {
    pub(crate) status: Success,
    pub(crate) page: Option<u32>,
    pub(crate) per_page: Option<u32>,
    pub(crate) after_id: Option<i64>,
    pub(crate) residents: Vec<ResidentJson<'a>>,
}

/// `/healthz`.
#[derive(Serialize, ToSchema)]
pub(crate) struct Alive {
    /// `ok`.
    pub(crate) status: &'static str,
}

/// A page of the change feed (docs/EVENTS.md).
#[derive(Serialize, ToSchema)]
pub(crate) struct ChangesAnswer {
    /// Oldest first: `id`, `type`, `cursor`, `timestamp` (RFC 3339, UTC)
    /// and `data` with the ids concerned (and `status` for a status
    /// change). Never clinical text.
    #[schema(value_type = Vec<Object>)]
    pub(crate) events: Vec<serde_json::Value>,
    /// Ask `after` this next.
    pub(crate) next_cursor: i64,
    /// More events wait after `next_cursor` now.
    pub(crate) has_more: bool,
    pub(crate) status: Success,
}

/// A webhook endpoint, without its secret.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookJson {
    pub(crate) id: i64,
    pub(crate) url: String,
    /// Empty: every event type.
    pub(crate) event_types: Vec<&'static str>,
    /// RFC 3339, UTC.
    pub(crate) created_at: String,
    /// Set once the endpoint failed for three days; a replay re-enables it.
    pub(crate) disabled_at: Option<String>,
    /// Since when every attempt has failed.
    pub(crate) failing_since: Option<String>,
    /// Why the last attempt failed.
    pub(crate) last_error: Option<String>,
    /// When deliveries are tried next (after a failure, the retry).
    pub(crate) next_attempt_at: String,
    /// Deliveries waiting.
    pub(crate) pending: u64,
}

impl WebhookJson {
    pub(crate) fn new(webhook: &connecticket_domain::events::webhooks::Webhook) -> Self {
        let time = |at: chrono::DateTime<chrono::Utc>| {
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        WebhookJson {
            id: webhook.id.get(),
            url: webhook.url.clone(),
            event_types: webhook.event_types.iter().map(|k| k.as_str()).collect(),
            created_at: time(webhook.created_at),
            disabled_at: webhook.disabled_at.map(time),
            failing_since: webhook.failing_since.map(time),
            last_error: webhook.last_error.clone(),
            next_attempt_at: time(webhook.next_attempt_at),
            pending: webhook.pending,
        }
    }
}

/// An endpoint just registered or rotated, with its secret: shown once.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookWithSecretAnswer {
    pub(crate) message: &'static str,
    pub(crate) webhook: WebhookJson,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it.
    pub(crate) secret: String,
    pub(crate) status: Success,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct WebhooksAnswer {
    pub(crate) webhooks: Vec<WebhookJson>,
    pub(crate) status: Success,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ReplayAnswer {
    pub(crate) message: &'static str,
    /// Deliveries queued again.
    pub(crate) queued: u64,
    pub(crate) status: Success,
}
