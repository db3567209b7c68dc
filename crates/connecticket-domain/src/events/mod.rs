//! Events for integrators: what changed, said without clinical content,
//! for the change feed (`GET changes`) and webhooks (docs/EVENTS.md).
//!
//! An event is written by the transaction that makes its change, so one
//! exists exactly when its change committed. It carries ids and, for a
//! status change, the new status: never a title, a comment, a name or a
//! file name. A receiver reads the details with its own credentials, and
//! that read is authorized and audited like any other.

mod deliverer;
mod sequencer;
pub mod webhooks;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::json;

use crate::model::{EventId, NotificationId, ProviderId, ResidentId, TicketId};

pub use deliverer::{WebhookDispatcher, WebhookDispatcherOptions, WebhookResult, WebhookSender};
pub use sequencer::{Sequencer, SequencerOptions};

/// How long events are kept unless configured otherwise.
pub const DEFAULT_EVENT_RETENTION_DAYS: u32 = 30;
/// The largest page of the change feed.
pub const MAX_FEED_LIMIT: u32 = 1000;
/// A page of the change feed when the client does not say.
pub const DEFAULT_FEED_LIMIT: u32 = 100;

macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// What happened.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum EventKind {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $name,)*
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($name => Some(EventKind::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

kinds! {
    TicketCreated => "ticket.created",
    /// Carries the new status.
    TicketStatusChanged => "ticket.status_changed",
    TicketCommentAdded => "ticket.comment_added",
    /// One event per request, however many files it added.
    TicketAttachmentAdded => "ticket.attachment_added",
    NotificationDelivered => "notification.delivered",
    NotificationFailed => "notification.failed",
    NotificationAcknowledged => "notification.acknowledged",
    /// An unanswered ticket reached its next escalation level.
    EscalationRaised => "escalation.raised",
    ResidentCreated => "resident.created",
    /// The resident's record changed: its contacts (who is told, and
    /// how) are part of it.
    ResidentUpdated => "resident.updated",
}

/// An event as the change that causes it records it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub provider_id: ProviderId,
    pub kind: EventKind,
    pub ticket_id: Option<TicketId>,
    pub resident_id: Option<ResidentId>,
    pub notification_id: Option<NotificationId>,
    /// The ticket's new status, for a status change (and a creation).
    pub status: Option<String>,
    pub at: DateTime<Utc>,
}

impl NewEvent {
    /// An event about a ticket (and so its resident).
    pub fn ticket(
        provider_id: ProviderId,
        kind: EventKind,
        ticket: TicketId,
        resident: ResidentId,
        at: DateTime<Utc>,
    ) -> Self {
        NewEvent {
            provider_id,
            kind,
            ticket_id: Some(ticket),
            resident_id: Some(resident),
            notification_id: None,
            status: None,
            at,
        }
    }

    /// An event about a resident's record.
    pub fn resident(
        provider_id: ProviderId,
        kind: EventKind,
        resident: ResidentId,
        at: DateTime<Utc>,
    ) -> Self {
        NewEvent {
            provider_id,
            kind,
            ticket_id: None,
            resident_id: Some(resident),
            notification_id: None,
            status: None,
            at,
        }
    }

    pub fn with_status(mut self, status: &str) -> Self {
        self.status = Some(status.to_owned());
        self
    }

    pub fn with_notification(mut self, notification: NotificationId) -> Self {
        self.notification_id = Some(notification);
        self
    }
}

/// An event with its place in the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    /// Its position in the feed: increasing in the order events committed.
    pub cursor: i64,
    pub provider_id: ProviderId,
    pub kind: EventKind,
    pub ticket_id: Option<TicketId>,
    pub resident_id: Option<ResidentId>,
    pub notification_id: Option<NotificationId>,
    pub status: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl Event {
    /// The id a receiver deduplicates on: the same in the feed and in
    /// every delivery (and retry) of the event.
    pub fn public_id(&self) -> String {
        format!("evt_{}", self.id)
    }

    /// The event as the feed and webhooks send it (Standard Webhooks'
    /// `type`, `timestamp`, `data`), with ids only.
    pub fn to_json(&self) -> serde_json::Value {
        let mut data = serde_json::Map::new();
        data.insert("provider_id".to_owned(), json!(self.provider_id));
        if let Some(ticket) = self.ticket_id {
            data.insert("ticket_id".to_owned(), json!(ticket));
        }
        if let Some(resident) = self.resident_id {
            data.insert("resident_id".to_owned(), json!(resident));
        }
        if let Some(notification) = self.notification_id {
            data.insert("notification_id".to_owned(), json!(notification));
        }
        if let Some(status) = &self.status {
            data.insert("status".to_owned(), json!(status));
        }
        json!({
            "id": self.public_id(),
            "type": self.kind.as_str(),
            "cursor": self.cursor,
            "timestamp": self.occurred_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "data": data,
        })
    }
}

/// What a client asks the feed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedQuery {
    /// The last cursor the client has seen (0: from the oldest kept).
    pub after: i64,
    pub limit: u32,
}

/// The feed's state as one snapshot saw it, with the provider's events
/// after the cursor asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// The highest cursor given so far (to any provider's event).
    pub last_cursor: i64,
    /// The highest cursor retention removed.
    pub pruned_through: i64,
}

/// A page of the feed as the client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    pub events: Vec<Event>,
    /// The cursor to ask after next. On the last page it is the feed's
    /// newest cursor even when it belongs to another provider's event, so
    /// a quiet provider's client keeps up and never falls out of the
    /// retention window.
    pub next_cursor: i64,
    /// More events wait after `next_cursor` right now.
    pub has_more: bool,
}
