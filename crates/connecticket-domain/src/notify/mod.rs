//! Notifications: who hears of a ticket, when, through which channel, in
//! what words, and how delivery is retried.
//!
//! A change that notifies records its notifications in its own transaction
//! (the outbox, `notifications`): one per consenting contact and channel,
//! so a crash never loses one and a rolled-back change never sends one.
//! The [`Dispatcher`] inside `serve` claims due notifications, sends them
//! through a [`Transport`] and records each attempt.

mod ack;
mod callbacks;
mod choice;
mod dispatcher;
pub mod escalation;
mod escalator;
mod health;
mod message;
mod policy;
pub mod templates;

pub use ack::{
    ack_token_hash, new_salt, reply_intent, AckLinks, AckRefusal, AckVia, AckView, Acknowledgment,
    ReplyIntent, DEFAULT_ACK_LINK_LIFETIME,
};
pub use callbacks::{GatewayCallback, GatewaySignature, ReportedStatus};
pub use choice::{notifies_by_default, ChannelChoice, NotifyRequest, Recipients};
pub use dispatcher::{sent_field, Dispatcher, DispatcherOptions};
pub use escalation::{
    Escalation, EscalationPolicy, EscalationRule, EscalationState, EscalationStep, TicketEscalation,
};
pub use escalator::{Escalator, EscalatorOptions};
pub use health::{TransportHealth, TransportState};
pub use message::{compose, render, short_name, Message};
pub use policy::{plan_tier, ChangeFacts, NotifyPolicy, PlannedNotice, QuietHours};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{NotificationId, ProviderId, RecipientRole, ResidentId, TicketId};

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
    /// An escalation told the same recipients once more.
    Reminder,
    /// An escalation told the next tier.
    Escalated,
}

impl NotifyEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::TicketCreated => "ticket_created",
            NotifyEvent::StatusChanged => "status_changed",
            NotifyEvent::Reminder => "reminder",
            NotifyEvent::Escalated => "escalated",
        }
    }

    pub fn parse(text: &str) -> Option<NotifyEvent> {
        [
            NotifyEvent::TicketCreated,
            NotifyEvent::StatusChanged,
            NotifyEvent::Reminder,
            NotifyEvent::Escalated,
        ]
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
    /// Not sent, and never will be: a reminder or escalation message still
    /// waiting when someone acknowledged or the ticket was resolved
    /// (`last_error` says which).
    Cancelled,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 4] = [
        DeliveryState::Pending,
        DeliveryState::Delivered,
        DeliveryState::Failed,
        DeliveryState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
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
    /// A resident's contact, or for a staff role a provider contact.
    pub contact_id: crate::model::ContactId,
    pub role: RecipientRole,
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
    /// 0 for the change's own notifications, else the escalation level
    /// that queued it.
    pub escalation_level: i64,
    /// Carries an acknowledgment link (its ticket's escalation was open).
    pub ack_required: bool,
    /// Makes the link's token with the server's key (see `AckLinks`).
    #[serde(serialize_with = "hex_option")]
    pub ack_salt: Option<Vec<u8>>,
    /// The token's keyed hash, written with the first attempt to send.
    #[serde(serialize_with = "hex_option")]
    pub ack_token_hash: Option<Vec<u8>>,
    pub ack_expires_at: Option<DateTime<Utc>>,
    pub acknowledgment: Option<Acknowledgment>,
}

fn hex_option<S: serde::Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match bytes {
        Some(bytes) => s.serialize_some(&hex::encode(bytes)),
        None => s.serialize_none(),
    }
}

/// A notification claimed for sending, with what its message needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub notification: Notification,
    pub provider_name: String,
    pub resident_first_name: String,
    pub resident_last_name: Option<String>,
    pub callback_phone: Option<String>,
    pub after_hours_phone: Option<String>,
    pub provider_zone: chrono_tz::Tz,
    /// The provider's own wording, where it has any.
    pub templates: templates::Templates,
    /// The personal acknowledgment link, added by the dispatcher.
    pub ack_link: Option<String>,
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
    pub ticket_id: TicketId,
    pub event: NotifyEvent,
    pub role: RecipientRole,
    pub channel: Channel,
    pub status: DeliveryState,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub ack_required: bool,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_via: Option<AckVia>,
    pub acknowledged_by: Option<crate::model::EmployeeId>,
    /// What the staff member who acknowledged noted (staff only).
    pub acknowledged_note: Option<String>,
    pub escalation_level: i64,
    /// Whom it was for: a resident's contact, or for a staff role a
    /// provider contact.
    pub contact_id: crate::model::ContactId,
    /// Why it is not delivered yet, or why it failed (never an address).
    pub waiting_reason: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
}

impl From<&Notification> for NoticeSummary {
    fn from(n: &Notification) -> Self {
        NoticeSummary {
            id: n.id,
            ticket_id: n.ticket_id,
            event: n.event,
            role: n.role.clone(),
            channel: n.channel,
            status: n.state,
            attempts: n.attempts,
            created_at: n.created_at,
            delivered_at: n.delivered_at,
            ack_required: n.ack_required,
            acknowledged_at: n.acknowledgment.as_ref().map(|a| a.at),
            acknowledged_via: n.acknowledgment.as_ref().map(|a| a.via),
            acknowledged_by: n.acknowledgment.as_ref().and_then(|a| a.by),
            acknowledged_note: n.acknowledgment.as_ref().and_then(|a| a.note.clone()),
            escalation_level: n.escalation_level,
            contact_id: n.contact_id,
            waiting_reason: n.last_error.clone(),
            next_attempt_at: n.next_attempt_at,
        }
    }
}

/// A notification's acknowledgment link as stored: never the token, only
/// its keyed hash.
#[derive(Debug, Clone, PartialEq)]
pub struct AckLinkRecord {
    pub notification: NotificationId,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

/// Which notifications a staff list asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeFilter {
    State(DeliveryState),
    /// Needs an answer nobody gave: acknowledgment required, none on it,
    /// and its ticket's escalation still open.
    Unacknowledged,
    /// Unacknowledged past the first deadline.
    Overdue,
}

impl NoticeFilter {
    pub const SPELLINGS: &'static str =
        "pending, delivered, failed, cancelled, unacknowledged, overdue";

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "unacknowledged" => Some(NoticeFilter::Unacknowledged),
            "overdue" => Some(NoticeFilter::Overdue),
            other => DeliveryState::parse(other).map(NoticeFilter::State),
        }
    }
}
