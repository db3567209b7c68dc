//! Notifications: who hears of a ticket, when, through which channel, in
//! what words, and how delivery is retried.
//!
//! A change that notifies records its notifications in its own transaction
//! (the outbox, `notifications`): one per consenting contact and channel,
//! so a crash never loses one and a rolled-back change never sends one.
//! The [`Dispatcher`] inside `serve` claims due notifications, sends them
//! through a [`Transport`] and records each attempt.

mod callbacks;
mod dispatcher;
mod message;
mod policy;
pub mod templates;

pub use callbacks::{GatewayCallback, GatewaySignature, ReportedStatus};
pub use dispatcher::{sent_field, Dispatcher, DispatcherOptions};
pub use message::{render, Message};
pub use policy::{ChangeFacts, NotifyPolicy, PlannedNotice, QuietHours};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{ContactRole, NotificationId, ProviderId, ResidentId, TicketId};

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// What happened to the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    TicketCreated,
    StatusChanged,
}

impl NotifyEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::TicketCreated => "ticket_created",
            NotifyEvent::StatusChanged => "status_changed",
        }
    }

    pub fn parse(text: &str) -> Option<NotifyEvent> {
        [NotifyEvent::TicketCreated, NotifyEvent::StatusChanged]
            .into_iter()
            .find(|e| e.as_str() == text)
    }
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its time, for a transport, or for a retry.
    Pending,
    /// Accepted by the transport (SMTP 250 after DATA, a gateway's 2xx).
    Delivered,
    /// Refused for good, out of attempts, or reported undelivered.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One message to one contact through one channel: a row of the outbox.
/// `address` is the contact's address when the change was made, so the
/// record says where it went even if the contact changes later.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub id: NotificationId,
    pub provider_id: ProviderId,
    pub ticket_id: TicketId,
    pub resident_id: ResidentId,
    pub contact_id: crate::model::ContactId,
    pub role: ContactRole,
    pub channel: Channel,
    pub address: String,
    pub event: NotifyEvent,
    pub urgency_status_id: i64,
    /// The ticket's status the event moved it to.
    pub ticket_status: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    /// Why it is not delivered yet, or why it failed; never an address.
    pub last_error: Option<String>,
    /// The transport's id: the `Message-ID`, or the gateway's message id.
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A notification claimed for sending, with what its message needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub notification: Notification,
    pub provider_name: String,
    pub resident_first_name: String,
    pub resident_last_name: Option<String>,
    pub callback_phone: Option<String>,
    pub provider_zone: chrono_tz::Tz,
    /// The provider's own wording, where it has any.
    pub templates: templates::Templates,
}

/// What a transport answered.
#[derive(Debug, Clone, PartialEq)]
pub enum SendResult {
    /// Accepted; the transport's id for it.
    Accepted { external_id: String },
    /// Worth trying again later (SMTP 4xx, HTTP 429 and 5xx, timeouts).
    Transient(String),
    /// Will never succeed as it is (SMTP 5xx, HTTP 400/401/404, a
    /// malformed address).
    Permanent(String),
}

/// A way to send: SMTP for email, an HTTP gateway for SMS.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + 'static {
    fn channel(&self) -> Channel;
    /// Sends one message. `message.idempotency_id` is stable across
    /// retries of the same notification, so a receiver can drop a repeat.
    async fn send(&self, message: &Message) -> SendResult;
    /// Most messages per second this transport may be given.
    fn max_per_second(&self) -> f64;
}

/// The ticket-facing view of a notification: no address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeSummary {
    pub id: NotificationId,
    pub role: ContactRole,
    pub channel: Channel,
    pub status: DeliveryState,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<&Notification> for NoticeSummary {
    fn from(n: &Notification) -> Self {
        NoticeSummary {
            id: n.id,
            role: n.role,
            channel: n.channel,
            status: n.state,
            attempts: n.attempts,
            created_at: n.created_at,
            delivered_at: n.delivered_at,
        }
    }
}
