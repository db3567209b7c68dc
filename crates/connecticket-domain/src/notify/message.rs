//! The words sent. Minimum necessary: a message says only that there is an
//! update about the resident (first name and last initial), from which
//! provider, and whom to call. A ticket's title and comments never leave.

use super::{templates, Channel, Claimed, NotifyEvent};
use crate::model::NotificationId;

/// A message ready for a transport.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The notification it sends; none for a note to a provider's
    /// administrators about the system itself (a disabled webhook).
    pub notification_id: Option<NotificationId>,
    /// Stable across retries of one notification: the email's
    /// `Message-ID` local part, the SMS gateway's idempotency token.
    pub idempotency_id: String,
    pub channel: Channel,
    /// An email address or an E.164 number.
    pub to: String,
    /// Email only.
    pub subject: Option<String>,
    pub body: String,
}

/// Asks the recipient to confirm they read it, and how.
fn with_ack_request(channel: Channel, body: String, link: Option<&str>) -> String {
    match (channel, link) {
        (Channel::Sms, Some(link)) => {
            format!("{body} Reply OK to confirm you read this, or open {link}")
        }
        (Channel::Sms, None) => format!("{body} Reply OK to confirm you read this."),
        (Channel::Email, Some(link)) => {
            format!("{body}\r\nPlease confirm that you read this message:\r\n{link}\r\n")
        }
        (Channel::Email, None) => body,
    }
}

/// "Greta O." (first name and last initial).
pub fn short_name(first: &str, last: Option<&str>) -> String {
    match last.and_then(|l| l.trim().chars().next()) {
        Some(initial) => format!("{} {}.", first.trim(), initial.to_uppercase()),
        None => first.trim().to_owned(),
    }
}

/// A message's subject (email only) and body before any reminder prefix
/// or acknowledgment request: the provider's own wording where it set one,
/// else the default. The template preview shows exactly this.
pub fn compose(
    channel: Channel,
    custom: &templates::Templates,
    who: &str,
    provider: &str,
    callback_phone: Option<&str>,
    after_hours_phone: Option<&str>,
) -> (Option<String>, String) {
    let provider = provider.trim();
    let call = match (callback_phone, after_hours_phone) {
        (Some(phone), Some(night)) => {
            format!("Please call {provider} at {phone} (after hours: {night}).")
        }
        (Some(phone), None) | (None, Some(phone)) => format!("Please call {provider} at {phone}."),
        (None, None) => format!("Please call {provider}."),
    };
    let callback = callback_phone.or(after_hours_phone).unwrap_or(provider);
    let own = |template: &Option<String>| {
        template
            .as_deref()
            .map(|t| templates::fill(t, who, provider, callback))
    };
    match channel {
        Channel::Sms => (
            None,
            own(&custom.sms)
                .unwrap_or_else(|| format!("{provider}: there is an update about {who}. {call}")),
        ),
        Channel::Email => (
            Some(
                own(&custom.email_subject)
                    .unwrap_or_else(|| format!("Update about {who} from {provider}")),
            ),
            own(&custom.email_body).unwrap_or_else(|| {
                format!(
                    "There is an update about {who} from {provider}.\r\n\r\n{call}\r\n\r\n\
                     This message carries no clinical details on purpose.\r\n"
                )
            }),
        ),
    }
}

pub fn render(claimed: &Claimed) -> Message {
    let n = &claimed.notification;
    let who = short_name(
        &claimed.resident_first_name,
        claimed.resident_last_name.as_deref(),
    );
    let (mut subject, mut body) = compose(
        n.channel,
        &claimed.templates,
        &who,
        &claimed.provider_name,
        claimed.callback_phone.as_deref(),
        claimed.after_hours_phone.as_deref(),
    );
    if matches!(n.event, NotifyEvent::Reminder | NotifyEvent::Escalated) {
        subject = subject.map(|s| format!("Reminder: {s}"));
        body = format!("Reminder: {body}");
    }
    if n.ack_required {
        body = with_ack_request(n.channel, body, claimed.ack_link.as_deref());
    }
    Message {
        notification_id: Some(n.id),
        idempotency_id: format!("connecticket-notification-{}", n.id),
        channel: n.channel,
        to: n.address.clone(),
        subject,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_name_is_first_name_and_last_initial() {
        assert_eq!(short_name("Greta", Some("olsen")), "Greta O.");
        assert_eq!(short_name(" Greta ", None), "Greta");
        assert_eq!(short_name("Greta", Some("  ")), "Greta");
    }
}
