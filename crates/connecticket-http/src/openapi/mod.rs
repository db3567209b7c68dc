//! The OpenAPI 3.1 description of the whole contract, served at
//! `/openapi.json`. Every answer's schema is derived from the type its
//! handler serializes (`wire::answers`, `wire::json`); the calls and their
//! parameters are listed here, one function per operation, next to each
//! other so that a reader sees the whole API at once.
#![allow(dead_code)] // the functions only carry the path attributes

mod constraints;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::wire::answers::{
    Acknowledged, Alive, Authorized, CategoriesAnswer, ChangesAnswer, CommentCreated,
    ContactsAnswer, DetailAnswer, Done, Failure, NotificationsAnswer, ReplayAnswer, ResidentList,
    TicketCreated, TicketList, WebhookWithSecretAnswer, WebhooksAnswer,
};
use crate::wire::json::{AttachmentJson, CommentJson, GeneralCommentJson};

const TIMESTAMP: &str = "a timestamp like `2016/02/12 03:00:34 -0800`";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Connecticket API",
        description = "Tickets about residents of care homes: raise them, rate each category, \
            comment, attach files, move them through their workflow, and see who was told and \
            who answered. Authenticate with `POST /api/authorize` and the application's \
            `api_key`/`api_secret` headers; every later call carries the returned token in its \
            path and the same headers. Parameters go in the query string or a form body \
            (`application/x-www-form-urlencoded`, or `multipart/form-data` with attachments). \
            Every refusal is `{\"status\": false, \"message\": …}` with an HTTP status.",
        license(name = "AGPL-3.0-only")
    ),
    paths(
        authorize, tickets, ticket_detail, all_residents, provider_categories,
        resident_contacts, create_ticket, update_status, create_comment, attachment,
        notifications, acknowledge, changes, webhooks_list, webhooks_register, webhooks_delete,
        webhooks_rotate, webhooks_replay, healthz, readyz, metrics, ack_page, ack_submit,
        sms_status, sms_inbound
    ),
    components(schemas(Failure, GeneralCommentJson, CommentJson, AttachmentJson)),
    modifiers(&Credentials),
    tags(
        (name = "tickets", description = "Tickets, comments and attachments"),
        (name = "residents", description = "Residents and who is told about them"),
        (name = "notifications", description = "Who was told, and who answered"),
        (name = "events", description = "The change feed and signed webhooks (docs/EVENTS.md)"),
        (name = "authentication"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "recipients", description = "Pages and webhooks for the people notified"),
    )
)]
pub struct ApiDoc;

/// The application's key and secret, sent as headers with every call.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("api_key"))),
        );
        components.add_security_scheme(
            "api_secret",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("api_secret"))),
        );
    }
}

/// The JSON text of the description, with every constraint the server
/// enforces on a parameter (`constraints`).
pub fn document() -> String {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    constraints::apply(&mut doc);
    serde_json::to_string(&doc).unwrap_or_else(|_| "{}".to_owned())
}

#[utoipa::path(
    method(post, get), path = "/api/authorize", tag = "authentication",
    description = "Exchanges the application's `api_key`/`api_secret` (headers; `api-key`/`api-secret` also accepted) for an access token. `GET` as the published reference spells it.",
    params(
        ("api_key" = String, Header, description = "The application's public key"),
        ("api_secret" = String, Header, description = "The application's secret"),
    ),
    responses(
        (status = 200, description = "Authorized", body = Authorized),
        (status = 401, description = "Wrong key or secret", body = Failure),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = Failure),
    )
)]
fn authorize() {}

#[utoipa::path(
    get, path = "/api/{token}/tickets", tag = "tickets",
    description = "The provider's tickets in id order: all of them streamed, or a page.",
    params(
        ("token" = String, Path, description = "The access token"),
        ("ticket_status" = Option<String>, Query, description = "New, Open, In Progress, Resolved, Closed or Reopen"),
        ("resident_id" = Option<i64>, Query),
        ("updated_since" = Option<String>, Query, description = TIMESTAMP),
        ("page" = Option<u32>, Query), ("per_page" = Option<u32>, Query, description = "At most 500"),
        ("after_id" = Option<i64>, Query, description = "Keyset paging: only larger ids"),
    ),
    responses(
        (status = 200, body = TicketList),
        (status = 401, body = Failure), (status = 422, body = Failure), (status = 429, body = Failure),
    ),
    security(("api_key" = [], "api_secret" = []))
)]
fn tickets() {}

#[utoipa::path(
    get, path = "/api/{token}/ticket_detail", tag = "tickets",
    params(("token" = String, Path), ("id" = i64, Query, description = "The ticket's id")),
    responses(
        (status = 200, body = DetailAnswer),
        (status = 401, body = Failure), (status = 404, description = "Invalid Ticket ID", body = Failure),
        (status = 422, body = Failure),
    ),
    security(("api_key" = [], "api_secret" = []))
)]
fn ticket_detail() {}

#[utoipa::path(
    get, path = "/api/{token}/all_residents", tag = "residents",
    params(("token" = String, Path), ("page" = Option<u32>, Query), ("per_page" = Option<u32>, Query), ("after_id" = Option<i64>, Query)),
    responses((status = 200, body = ResidentList), (status = 401, body = Failure), (status = 422, body = Failure)),
    security(("api_key" = [], "api_secret" = []))
)]
fn all_residents() {}

#[utoipa::path(
    get, path = "/api/{token}/provider_categories", tag = "tickets",
    params(("token" = String, Path)),
    responses((status = 200, body = CategoriesAnswer), (status = 401, body = Failure)),
    security(("api_key" = [], "api_secret" = []))
)]
fn provider_categories() {}

#[utoipa::path(
    get, path = "/api/{token}/resident_contacts", tag = "residents",
    params(("token" = String, Path), ("resident_id" = i64, Query)),
    responses(
        (status = 200, body = ContactsAnswer), (status = 401, body = Failure),
        (status = 404, description = "Invalid Resident ID", body = Failure), (status = 422, body = Failure),
    ),
    security(("api_key" = [], "api_secret" = []))
)]
fn resident_contacts() {}

#[utoipa::path(
    method(post, get), path = "/api/{token}/create_ticket", tag = "tickets",
    description = "Raises a ticket. Ratings go in `category_<id>` (Issue, No Issue, Potential Issue) with comments in `category_comments_<id>`; files in `attachments[]` parts of a multipart body. An `Idempotency-Key` header makes retries safe. `GET`, as the published reference spells it, takes no files.",
    params(
        ("token" = String, Path),
        ("title" = String, Query, description = "Also accepted as `regarding`"),
        ("resident_id" = i64, Query),
        ("urgency_status" = Option<String>, Query, description = "A name or id: No Issue (1), Low (2), Normal (3), High (4), Exception (5)"),
        ("ticket_type" = Option<String>, Query),
        ("start_date" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("end_date" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("sent_to_family" = Option<bool>, Query, description = "Tell the resident's family. Naming any role flag tells exactly the roles set true; naming none leaves it to the provider's policy (docs/NOTIFICATIONS.md, Who is told)"),
        ("sent_to_primary" = Option<bool>, Query, description = "Tell the primary physician (also accepted as `sentsent_to_primary`)"),
        ("sent_to_healthcare_pro" = Option<bool>, Query, description = "Tell the healthcare professionals"),
        ("email" = Option<bool>, Query, description = "Tell them by email. Naming a channel uses exactly the channels set true; naming none: every channel each contact consented to when roles were named or the urgency is High or Exception, else none"),
        ("sms" = Option<bool>, Query, description = "Tell them by SMS"),
        ("general_comments" = Option<String>, Query),
        ("Idempotency-Key" = Option<String>, Header),
    ),
    responses(
        (status = 200, body = TicketCreated), (status = 401, body = Failure),
        (status = 404, body = Failure), (status = 413, body = Failure), (status = 422, body = Failure),
    ),
    security(("api_key" = [], "api_secret" = []))
)]
fn create_ticket() {}

#[utoipa::path(
    post, path = "/api/{token}/update_status", tag = "tickets",
    description = "Moves a ticket through its workflow. The notify flags mean what they mean for `create_ticket`; naming none tells the policy's roles for a status change on the channels the ticket's creation used.",
    params(
        ("token" = String, Path), ("id" = i64, Query),
        ("status" = String, Query, description = "New, Open, In Progress, Resolved, Closed or Reopen"),
        ("sent_to_family" = Option<bool>, Query), ("sent_to_primary" = Option<bool>, Query),
        ("sent_to_healthcare_pro" = Option<bool>, Query), ("email" = Option<bool>, Query), ("sms" = Option<bool>, Query),
        ("Idempotency-Key" = Option<String>, Header),
    ),
    responses((status = 200, body = Done), (status = 401, body = Failure), (status = 404, body = Failure), (status = 422, body = Failure)),
    security(("api_key" = [], "api_secret" = []))
)]
fn update_status() {}

#[utoipa::path(
    post, path = "/api/{token}/create_comment", tag = "tickets",
    params(("token" = String, Path), ("ticket_id" = i64, Query), ("comment" = String, Query), ("category_id" = Option<i64>, Query), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = CommentCreated), (status = 401, body = Failure), (status = 404, body = Failure), (status = 422, body = Failure)),
    security(("api_key" = [], "api_secret" = []))
)]
fn create_comment() {}

#[utoipa::path(
    get, path = "/api/{token}/attachments/{id}", tag = "tickets",
    params(("token" = String, Path), ("id" = i64, Path)),
    responses(
        (status = 200, description = "The file, with its content type", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = Failure), (status = 404, body = Failure),
    ),
    security(("api_key" = [], "api_secret" = []))
)]
fn attachment() {}

#[utoipa::path(
    get, path = "/api/{token}/notifications", tag = "notifications",
    description = "The provider's notifications, oldest first, without addresses.",
    params(
        ("token" = String, Path), ("ticket_id" = Option<i64>, Query),
        ("state" = Option<String>, Query, description = "pending, delivered, failed, cancelled, unacknowledged or overdue"),
        ("page" = Option<u32>, Query), ("per_page" = Option<u32>, Query, description = "Default 100, at most 500"),
    ),
    responses((status = 200, body = NotificationsAnswer), (status = 401, body = Failure), (status = 422, body = Failure)),
    security(("api_key" = [], "api_secret" = []))
)]
fn notifications() {}

#[utoipa::path(
    post, path = "/api/{token}/acknowledge", tag = "notifications",
    description = "Records that the calling employee took the recipient's answer on their behalf.",
    params(("token" = String, Path), ("notification_id" = i64, Query), ("note" = String, Query, description = "At most 2,000 characters")),
    responses(
        (status = 200, body = Acknowledged), (status = 401, body = Failure),
        (status = 404, description = "Invalid Notification ID", body = Failure),
        (status = 409, description = "Acknowledged already", body = Failure),
        (status = 422, description = "No note", body = Failure),
    ),
    security(("api_key" = [], "api_secret" = []))
)]
fn acknowledge() {}

#[utoipa::path(
    get, path = "/api/{token}/changes", tag = "events",
    description = "The provider's events after a cursor, oldest first, without clinical content. Follow `next_cursor`; 410 asks the client to read the records afresh and start again from `after=0`.",
    params(
        ("token" = String, Path),
        ("after" = Option<i64>, Query, description = "The last cursor seen (default 0: the oldest event kept)"),
        ("limit" = Option<u32>, Query, description = "Default 100, at most 1,000"),
    ),
    responses(
        (status = 200, body = ChangesAnswer), (status = 401, body = Failure),
        (status = 410, description = "The cursor is past retention, or was never given", body = Failure),
        (status = 422, body = Failure),
    ),
    security(("api_key" = [], "api_secret" = []))
)]
fn changes() {}

#[utoipa::path(
    get, path = "/api/{token}/webhooks", tag = "events",
    description = "The calling application's webhook endpoints, without their secrets.",
    params(("token" = String, Path)),
    responses((status = 200, body = WebhooksAnswer), (status = 401, body = Failure)),
    security(("api_key" = [], "api_secret" = []))
)]
fn webhooks_list() {}

#[utoipa::path(
    post, path = "/api/{token}/webhooks", tag = "events",
    description = "Registers an endpoint of the calling application. The answer holds its signing secret (`whsec_…`), shown once.",
    params(
        ("token" = String, Path),
        ("url" = String, Query, description = "An https:// URL (at most 2,000 characters)"),
        ("event_types" = Option<String>, Query, description = "Comma-separated event types; none or `*`: every type"),
    ),
    responses(
        (status = 201, body = WebhookWithSecretAnswer), (status = 401, body = Failure),
        (status = 409, description = "The application has 20 endpoints already", body = Failure),
        (status = 422, body = Failure),
    ),
    security(("api_key" = [], "api_secret" = []))
)]
fn webhooks_register() {}

#[utoipa::path(
    delete, path = "/api/{token}/webhooks/{id}", tag = "events",
    description = "Deletes one of the calling application's endpoints, with the deliveries still waiting for it.",
    params(("token" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = Done), (status = 401, body = Failure), (status = 404, description = "Invalid Webhook ID", body = Failure)),
    security(("api_key" = [], "api_secret" = []))
)]
fn webhooks_delete() {}

#[utoipa::path(
    post, path = "/api/{token}/webhooks/{id}/rotate", tag = "events",
    description = "A new signing secret, shown once; for 24 hours each delivery carries both signatures.",
    params(("token" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = WebhookWithSecretAnswer), (status = 401, body = Failure), (status = 404, body = Failure)),
    security(("api_key" = [], "api_secret" = []))
)]
fn webhooks_rotate() {}

#[utoipa::path(
    post, path = "/api/{token}/webhooks/{id}/replay", tag = "events",
    description = "Queues the events with cursors from `from` through `through` again (delivered ones too), and re-enables a disabled endpoint.",
    params(
        ("token" = String, Path), ("id" = i64, Path),
        ("from" = i64, Query), ("through" = Option<i64>, Query, description = "Default: `from`"),
    ),
    responses((status = 200, body = ReplayAnswer), (status = 401, body = Failure), (status = 404, body = Failure), (status = 422, body = Failure)),
    security(("api_key" = [], "api_secret" = []))
)]
fn webhooks_replay() {}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Alive)))]
fn healthz() {}

#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    description = "`ready` once the database answers with the newest schema; to operators (see `/metrics`), with the database's and each transport's state.",
    responses((status = 200, body = Object), (status = 503, body = Object))
)]
fn readyz() {}

#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    description = "For operators: with `Authorization: Bearer` and the `--metrics-token`, or on the `--metrics-listen` address; anyone else finds nothing here.",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 404, description = "Not for this caller", body = Failure),
    )
)]
fn metrics() {}

#[utoipa::path(
    get, path = "/ack/{token}", tag = "recipients",
    description = "The page of a notification's personal link: one Acknowledge button. Showing it acknowledges nothing.",
    params(("token" = String, Path)),
    responses(
        (status = 200, content_type = "text/html", body = String),
        (status = 404, description = "Used, expired or unknown: one page for all", content_type = "text/html", body = String),
    )
)]
fn ack_page() {}

#[utoipa::path(
    post, path = "/ack/{token}", tag = "recipients",
    params(("token" = String, Path)),
    responses(
        (status = 200, content_type = "text/html", body = String),
        (status = 404, content_type = "text/html", body = String),
    )
)]
fn ack_submit() {}

#[utoipa::path(
    post, path = "/sms/status", tag = "recipients",
    description = "The SMS gateway's delivery reports (form fields MessageSid, MessageStatus, ErrorCode), signed with X-Twilio-Signature.",
    params(("X-Twilio-Signature" = String, Header)),
    responses((status = 204), (status = 401, body = Failure), (status = 422, body = Failure))
)]
fn sms_status() {}

#[utoipa::path(
    post, path = "/sms/inbound", tag = "recipients",
    description = "Replies to SMS (form fields From, Body), signed with X-Twilio-Signature: OK, YES or 1 acknowledges the sender's oldest open notification. Answers TwiML.",
    params(("X-Twilio-Signature" = String, Header)),
    responses((status = 200, content_type = "text/xml", body = String), (status = 401, body = Failure), (status = 422, body = Failure))
)]
fn sms_inbound() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_is_openapi_3_1_with_every_call() {
        let doc: serde_json::Value = serde_json::from_str(&document()).expect("json");
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "{}",
            doc["openapi"]
        );
        let paths: Vec<&str> = doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(String::as_str)
            .collect();
        for call in [
            "tickets",
            "ticket_detail",
            "all_residents",
            "provider_categories",
            "resident_contacts",
            "create_ticket",
            "update_status",
            "create_comment",
            "notifications",
            "acknowledge",
        ] {
            assert!(
                paths.contains(&format!("/api/{{token}}/{call}").as_str()),
                "{call} missing"
            );
        }
        // The schemas come from the answer types.
        let schemas = &doc["components"]["schemas"];
        for name in [
            "Ticket",
            "Resident",
            "Notification",
            "TicketWithDetails",
            "Failure",
            "Authorized",
            "TicketCreated",
        ] {
            assert!(schemas.get(name).is_some(), "schema {name} missing");
        }
        let ticket = &schemas["Ticket"]["properties"];
        assert!(
            ticket.get("sentsent_to_primary").is_some(),
            "the seed's spelling"
        );
        assert_eq!(ticket.as_object().map(|o| o.len()), Some(17));
    }
}
