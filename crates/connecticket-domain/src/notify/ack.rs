//! Acknowledgments: a person answers a notification through its personal
//! link, by SMS reply, or through staff who took the answer on the phone.
//!
//! A link's token is never stored. Each notification that needs an answer
//! gets a random salt when it is queued; its token is a keyed hash of the
//! salt under the server's hash key, so every send of that notification
//! carries the same link, and the database alone cannot produce it. What
//! the database keeps for lookup is the token's own keyed hash, written
//! with the first attempt to send it.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::Serialize;

use crate::auth::SecretHasher;
use crate::model::{EmployeeId, NotificationId};

/// How an acknowledgment came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AckVia {
    /// The form of the personal link's page.
    Link,
    /// A reply to the SMS.
    Sms,
    /// An employee, on the recipient's behalf.
    Staff,
}

impl AckVia {
    pub fn as_str(self) -> &'static str {
        match self {
            AckVia::Link => "link",
            AckVia::Sms => "sms",
            AckVia::Staff => "staff",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [AckVia::Link, AckVia::Sms, AckVia::Staff]
            .into_iter()
            .find(|via| via.as_str() == text)
    }
}

/// An acknowledgment as recorded on its notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Acknowledgment {
    pub at: DateTime<Utc>,
    pub via: AckVia,
    /// The employee who took it (staff only).
    pub by: Option<EmployeeId>,
    /// What the staff member noted (staff only).
    pub note: Option<String>,
}

/// Bytes of a notification's salt.
pub const ACK_SALT_BYTES: usize = 16;

pub fn new_salt() -> Vec<u8> {
    let mut salt = vec![0; ACK_SALT_BYTES];
    rand::thread_rng().fill_bytes(&mut salt);
    salt
}

/// Makes and checks acknowledgment links.
#[derive(Debug, Clone)]
pub struct AckLinks {
    hasher: SecretHasher,
    /// Where recipients reach the server, without a trailing `/`; no link
    /// is sent without it (SMS replies still work).
    public_url: Option<String>,
    /// How long a link works after its first send.
    pub lifetime: Duration,
}

/// A link works this long by default.
pub const DEFAULT_ACK_LINK_LIFETIME: Duration = Duration::days(7);

impl AckLinks {
    pub fn new(hasher: SecretHasher, public_url: Option<String>, lifetime: Duration) -> Self {
        AckLinks {
            hasher,
            public_url: public_url.map(|url| url.trim_end_matches('/').to_owned()),
            lifetime,
        }
    }

    /// The token of a notification: 256 bits, URL-safe.
    pub fn token(&self, id: NotificationId, salt: &[u8]) -> String {
        use base64::Engine as _;
        let material = format!("{}:{}", id.get(), hex::encode(salt));
        let mac = self.hasher.hash("ack_link", &material);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac)
    }

    /// What the database keeps to find a token's notification.
    pub fn token_hash(&self, token: &str) -> Vec<u8> {
        ack_token_hash(&self.hasher, token)
    }

    /// The personal link, when the server knows its public address.
    pub fn link(&self, token: &str) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|base| format!("{base}/ack/{token}"))
    }

    /// A presented token is at most this long; anything longer is refused
    /// before hashing.
    pub const MAX_TOKEN_LEN: usize = 64;
}

/// The keyed hash a link's token is looked up by.
pub fn ack_token_hash(hasher: &SecretHasher, token: &str) -> Vec<u8> {
    hasher.hash("ack_link_token", token)
}

/// What the acknowledgment page shows: no more than the message itself
/// said, so a forwarded link reveals nothing new.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AckView {
    pub notification_id: NotificationId,
    pub provider_name: String,
    /// First name and last initial.
    pub resident: String,
    /// When the notification was queued, in the provider's time zone.
    pub sent_at: String,
    /// Set once acknowledged (the answer to the POST and to an SMS reply).
    pub acknowledged_at: Option<String>,
    /// The provider's number to call, when it set one.
    pub callback_phone: Option<String>,
    /// Its number out of hours, when it set another.
    pub after_hours_phone: Option<String>,
}

/// Why a token shows no form. An unknown and an expired link are
/// answered alike, so an answer never says whether a ticket exists; a used
/// one thanks its holder with the time it was confirmed (nothing more),
/// since the person who confirmed is the one likely to open it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckRefusal {
    Unknown,
    Expired,
    Used {
        at: DateTime<Utc>,
        zone: chrono_tz::Tz,
    },
    /// The same gateway message (its MessageSid) was handled already.
    Repeated,
}

/// What an SMS reply means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyIntent {
    /// "OK", "Yes!", "received", "👍", "1": the update was read.
    Acknowledge,
    /// The carriers' opt-out words: no more texts from this provider.
    Stop,
    /// The opt-in word: texts again.
    Start,
    /// Anything else.
    Other,
}

/// Words that acknowledge, compared without case and trailing punctuation.
const ACKNOWLEDGING: [&str; 13] = [
    "ok",
    "okay",
    "k",
    "yes",
    "y",
    "yep",
    "yeah",
    "received",
    "got it",
    "seen",
    "read",
    "1",
    "confirmed",
];
/// The opt-out words US carriers (CTIA) require every sender to honour.
const STOPPING: [&str; 6] = ["stop", "stopall", "unsubscribe", "cancel", "end", "quit"];
const STARTING: [&str; 2] = ["start", "unstop"];

/// Reads a reply the way people write them: "ok", "OK.", "Yes!",
/// "received", a thumbs-up (any skin tone), "1"; the opt-out and opt-in
/// words alone.
pub fn reply_intent(body: &str) -> ReplyIntent {
    let text = body
        .trim()
        .trim_end_matches(['.', '!', ' '])
        .trim()
        .to_lowercase();
    // An emoji answer: thumbs up or an OK hand or a check mark, possibly
    // with a skin-tone modifier or a variation selector.
    let emoji = !text.is_empty()
        && text.chars().all(|c| {
            matches!(
                c,
                '\u{1F44D}' | '\u{1F44C}' | '\u{2705}' | '\u{2714}' | '\u{FE0F}'
            ) || ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
        });
    let is = |words: &[&str]| words.contains(&text.as_str());
    if emoji || is(&ACKNOWLEDGING) {
        ReplyIntent::Acknowledge
    } else if is(&STOPPING) {
        ReplyIntent::Stop
    } else if is(&STARTING) {
        ReplyIntent::Start
    } else {
        ReplyIntent::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> AckLinks {
        AckLinks::new(
            SecretHasher::new("a key of the test"),
            Some("https://care.example/".to_owned()),
            DEFAULT_ACK_LINK_LIFETIME,
        )
    }

    #[test]
    fn a_token_is_stable_for_its_salt_and_differs_for_another() {
        let links = links();
        let salt = new_salt();
        let token = links.token(NotificationId(7), &salt);
        assert_eq!(token, links.token(NotificationId(7), &salt));
        assert_ne!(token, links.token(NotificationId(8), &salt));
        assert_ne!(token, links.token(NotificationId(7), &new_salt()));
        assert_eq!(token.len(), 43);
        assert!(token.len() <= AckLinks::MAX_TOKEN_LEN);
        assert_eq!(
            links.link(&token),
            Some(format!("https://care.example/ack/{token}"))
        );
        let other_key = AckLinks::new(SecretHasher::new("another key"), None, Duration::days(1));
        assert_ne!(token, other_key.token(NotificationId(7), &salt));
        assert_eq!(other_key.link(&token), None);
    }

    /// The words people send, and what each means.
    #[test]
    fn replies_are_read_as_people_write_them() {
        use ReplyIntent::*;
        let table = [
            ("ok", Acknowledge),
            ("OK.", Acknowledge),
            ("Yes!", Acknowledge),
            (" yes ", Acknowledge),
            ("received", Acknowledge),
            ("Received.", Acknowledge),
            ("\u{1F44D}", Acknowledge),
            ("\u{1F44D}\u{1F3FD}", Acknowledge),
            ("1", Acknowledge),
            ("Got it", Acknowledge),
            ("STOP", Stop),
            ("stop", Stop),
            ("Stop.", Stop),
            ("STOPALL", Stop),
            ("UNSUBSCRIBE", Stop),
            ("CANCEL", Stop),
            ("END", Stop),
            ("QUIT", Stop),
            ("START", Start),
            ("start", Start),
            ("", Other),
            ("no", Other),
            ("okay then", Other),
            ("11", Other),
            ("yes please", Other),
            ("stop sending these", Other),
            ("Is she all right?", Other),
            ("\u{1F44E}", Other),
        ];
        for (reply, meaning) in table {
            assert_eq!(reply_intent(reply), meaning, "{reply:?}");
        }
    }
}
