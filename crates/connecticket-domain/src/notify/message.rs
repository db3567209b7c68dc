//! The words sent. Minimum necessary: a message says only that there is an
//! update about the resident (first name and last initial), from which
//! provider, and whom to call. A ticket's title and comments never leave.

use super::{templates, Channel, Claimed};
use crate::model::NotificationId;

/// A message ready for a transport.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub notification_id: NotificationId,
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

/// "Greta O." (first name and last initial).
fn short_name(first: &str, last: Option<&str>) -> String {
    match last.and_then(|l| l.trim().chars().next()) {
        Some(initial) => format!("{} {}.", first.trim(), initial.to_uppercase()),
        None => first.trim().to_owned(),
    }
}

pub fn render(claimed: &Claimed) -> Message {
    let n = &claimed.notification;
    let who = short_name(
        &claimed.resident_first_name,
        claimed.resident_last_name.as_deref(),
    );
    let provider = claimed.provider_name.trim();
    let call = match &claimed.callback_phone {
        Some(phone) => format!("Please call {provider} at {phone}."),
        None => format!("Please call {provider}."),
    };
    let callback = claimed.callback_phone.as_deref().unwrap_or(provider);
    let own = |template: &Option<String>| {
        template
            .as_deref()
            .map(|t| templates::fill(t, &who, provider, callback))
    };
    let custom = &claimed.templates;
    let (subject, body) = match n.channel {
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
    };
    Message {
        notification_id: n.id,
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
