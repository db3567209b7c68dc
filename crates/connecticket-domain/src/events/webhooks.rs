//! Webhook endpoints, their secrets and the Standard Webhooks signature
//! (standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::{Event, EventKind};
use crate::auth::SecretHasher;
use crate::error::{DomainError, Field, Problem};
use crate::model::{ApplicationId, ProviderId, WebhookId};

/// The longest endpoint URL accepted.
pub const MAX_URL_CHARS: usize = 2000;
/// Endpoints one application may register.
pub const MAX_ENDPOINTS_PER_APPLICATION: usize = 20;
/// How long a rotated-out secret still signs, so receivers can switch.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
/// An endpoint failing for this long is disabled.
pub const GIVE_UP_AFTER: Duration = Duration::days(3);

/// An endpoint as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: WebhookId,
    pub provider_id: ProviderId,
    pub application_id: ApplicationId,
    pub url: String,
    /// What it is sent; empty: every kind.
    pub event_types: Vec<EventKind>,
    pub secret_salt: Vec<u8>,
    /// The secret being rotated out, and until when it still signs.
    pub previous_salt: Option<(Vec<u8>, DateTime<Utc>)>,
    pub created_at: DateTime<Utc>,
    /// Since when every attempt has failed (none while it succeeds).
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When deliveries are tried next (after a failure, the retry's time).
    pub next_attempt_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Deliveries waiting, and the oldest one's event time.
    pub pending: u64,
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

impl Webhook {
    pub fn wants(&self, kind: EventKind) -> bool {
        self.event_types.is_empty() || self.event_types.contains(&kind)
    }

    /// The event types as stored: space-separated, empty for all.
    pub fn event_types_text(kinds: &[EventKind]) -> String {
        kinds
            .iter()
            .map(|kind| kind.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn parse_event_types(text: &str) -> Vec<EventKind> {
        text.split_whitespace()
            .filter_map(EventKind::parse)
            .collect()
    }
}

/// What registering an endpoint stores.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub provider_id: ProviderId,
    pub application_id: ApplicationId,
    pub url: String,
    pub event_types: Vec<EventKind>,
    pub secret_salt: Vec<u8>,
    pub at: DateTime<Utc>,
}

/// Which of the provider's events a replay queues again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayRange {
    /// Cursors `from` through `through`, as the feed numbers them (one
    /// event: both the same).
    Cursors { from: i64, through: i64 },
    /// Every event that occurred since then (the console's "the last 24
    /// hours").
    Since(DateTime<Utc>),
}

/// An endpoint leased to one dispatcher, with its next deliveries in
/// order: (delivery id, attempts so far, event).
#[derive(Debug, Clone)]
pub struct WebhookBatch {
    pub webhook: Webhook,
    pub deliveries: Vec<(i64, i64, Event)>,
}

/// One delivery attempt, as the dispatcher records it.
#[derive(Debug, Clone)]
pub struct WebhookAttempt {
    pub endpoint: WebhookId,
    pub delivery: i64,
    pub owner: String,
    pub at: DateTime<Utc>,
    pub outcome: WebhookOutcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WebhookOutcome {
    Delivered,
    /// Not delivered: why, and when the endpoint is tried again.
    Failed {
        reason: String,
        retry_at: DateTime<Utc>,
    },
}

/// What recording an attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookRecorded {
    Recorded,
    /// The endpoint had failed for [`GIVE_UP_AFTER`]: it is disabled now.
    Disabled,
    /// Another dispatcher holds the endpoint now (our lease ran out, or
    /// it was deleted): nothing was recorded.
    LeaseLost,
}

/// Which endpoint URLs a deployment accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Plain `http://` too (`--allow-insecure-webhooks`).
    pub allow_insecure: bool,
}

/// Checks what can be checked of a URL without resolving it: the scheme,
/// a host, no credentials. Where it leads is checked at every delivery.
pub fn endpoint_url(text: &str, policy: UrlPolicy) -> Result<String, DomainError> {
    let invalid = |rule: &str| DomainError::invalid(Field::Url, Problem::Rule(rule.to_owned()));
    let text = text.trim();
    if text.is_empty() {
        return Err(DomainError::invalid(Field::Url, Problem::Required));
    }
    if text.chars().count() > MAX_URL_CHARS {
        return Err(DomainError::invalid(
            Field::Url,
            Problem::TooLong {
                max_chars: MAX_URL_CHARS,
            },
        ));
    }
    let url = url::Url::parse(text).map_err(|_| invalid("must be an absolute https:// URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_insecure => {}
        "http" => {
            return Err(invalid(
                "must be https:// (this server does not send events over plain http)",
            ))
        }
        _ => return Err(invalid("must be an absolute https:// URL")),
    }
    if url.host().is_none() {
        return Err(invalid("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not carry credentials: verify the webhook-signature header instead",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid("must not have a #fragment"));
    }
    Ok(url.to_string())
}

/// The event types asked for: comma or space separated names, or none
/// (every type). An unknown name is refused, naming the known ones.
pub fn event_types(text: Option<&str>) -> Result<Vec<EventKind>, DomainError> {
    let mut kinds = Vec::new();
    for name in text
        .unwrap_or_default()
        .split([',', ' '])
        .filter(|name| !name.is_empty())
    {
        if name == "*" {
            return Ok(Vec::new());
        }
        let kind = EventKind::parse(name).ok_or_else(|| {
            let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            DomainError::invalid(
                Field::EventTypes,
                Problem::Rule(format!(
                    "names an unknown event type {name:?}; known: {}",
                    known.join(", ")
                )),
            )
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

pub fn new_secret_salt() -> Vec<u8> {
    let mut salt = vec![0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    salt
}

/// The endpoint's signing key. It is derived from the server's hash key and
/// the salt the database keeps, so a copy of the database cannot sign.
pub fn signing_key(hasher: &SecretHasher, salt: &[u8]) -> Vec<u8> {
    hasher.hash("webhook_secret", &hex::encode(salt))
}

/// The secret as Standard Webhooks writes it, for the receiver: shown once.
pub fn secret_text(hasher: &SecretHasher, salt: &[u8]) -> String {
    format!("whsec_{}", STANDARD.encode(signing_key(hasher, salt)))
}

/// `v1,<base64 signature>` of one key.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// One delivery's request, signed.
#[derive(Debug, Clone)]
pub struct SignedDelivery {
    pub url: String,
    pub webhook_id: String,
    pub timestamp: i64,
    /// Space-separated signatures: the current secret's, and during a
    /// rotation the previous one's.
    pub signature: String,
    pub body: Vec<u8>,
}

impl SignedDelivery {
    pub fn new(
        hasher: &SecretHasher,
        webhook: &Webhook,
        event: &Event,
        now: DateTime<Utc>,
    ) -> Self {
        let id = event.public_id();
        let body = event.to_json().to_string().into_bytes();
        let timestamp = now.timestamp();
        let mut signatures = vec![sign(
            &signing_key(hasher, &webhook.secret_salt),
            &id,
            timestamp,
            &body,
        )];
        if let Some((salt, until)) = &webhook.previous_salt {
            if *until > now {
                signatures.push(sign(&signing_key(hasher, salt), &id, timestamp, &body));
            }
        }
        SignedDelivery {
            url: webhook.url.clone(),
            webhook_id: id,
            timestamp,
            signature: signatures.join(" "),
            body,
        }
    }
}

/// How long to wait after the `attempt`-th failure in a row (1-based):
/// seconds at first, then hours, as Standard Webhooks suggests; `jitter`
/// in [0, 1) stretches each wait by up to a fifth, so that endpoints that
/// failed together do not retry together.
pub fn retry_delay(attempt: u32, jitter: f64) -> Duration {
    const SCHEDULE: [i64; 8] = [5, 30, 300, 1800, 7200, 18000, 36000, 36000];
    let index = (attempt.max(1) as usize - 1).min(SCHEDULE.len() - 1);
    let base = SCHEDULE[index];
    let stretched = base as f64 * (1.0 + 0.2 * jitter.clamp(0.0, 1.0));
    Duration::milliseconds((stretched * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_with_a_host_and_no_credentials() {
        let strict = UrlPolicy::default();
        assert_eq!(
            endpoint_url(" https://example.org/hook ", strict).ok(),
            Some("https://example.org/hook".to_owned())
        );
        for refused in [
            "http://example.org/hook",
            "ftp://example.org",
            "https://user:pw@example.org/",
            "example.org/hook",
            "",
        ] {
            assert!(endpoint_url(refused, strict).is_err(), "{refused}");
        }
        let insecure = UrlPolicy {
            allow_insecure: true,
        };
        assert!(endpoint_url("http://example.org/hook", insecure).is_ok());
    }

    #[test]
    fn event_types_are_known_names_or_all() {
        assert_eq!(event_types(None).ok(), Some(vec![]));
        assert_eq!(event_types(Some("*")).ok(), Some(vec![]));
        assert_eq!(
            event_types(Some("ticket.created, ticket.created resident.updated")).ok(),
            Some(vec![EventKind::TicketCreated, EventKind::ResidentUpdated])
        );
        let error = event_types(Some("ticket.deleted"))
            .err()
            .map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("ticket.deleted") && e.contains("ticket.created")));
    }

    #[test]
    fn the_signature_is_standard_webhooks_v1() {
        // The example of the Standard Webhooks specification's test suite.
        let key = STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_or_default();
        let signed = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn retries_back_off_from_seconds_to_hours() {
        assert_eq!(retry_delay(1, 0.0), Duration::seconds(5));
        assert_eq!(retry_delay(4, 0.0), Duration::minutes(30));
        assert_eq!(retry_delay(40, 0.0), Duration::hours(10));
        assert_eq!(retry_delay(1, 1.0), Duration::seconds(6));
    }
}
