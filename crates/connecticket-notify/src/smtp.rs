//! Email over SMTP with lettre: `smtp://` (plain, or STARTTLS with
//! `?tls=required`), `smtps://` (implicit TLS), credentials in the URL.

use std::time::Duration;

use async_trait::async_trait;
use connecticket_domain::notify::{Channel, Message, SendResult, Transport};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Tokio1Executor};

use crate::TransportError;

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `smtp://user:pass@host:587?tls=required`, `smtps://…:465`, or
    /// `smtp://127.0.0.1:2525` for a plain local relay.
    pub url: String,
    /// The `From` of every message, e.g. `Maple Court <care@example.org>`.
    pub sender: String,
    pub max_per_second: f64,
    pub timeout: Duration,
    /// Connections kept open to the relay at most (the dispatcher's sends
    /// in flight).
    pub connections: u32,
}

pub struct SmtpTransport {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    sender: Mailbox,
    /// The right-hand side of every `Message-ID`: the sender's domain.
    id_domain: String,
    max_per_second: f64,
}

impl SmtpTransport {
    pub fn new(config: &SmtpConfig) -> Result<Self, TransportError> {
        // Connections are kept and reused (a new one per message costs a
        // handshake, and TLS): as many as the dispatcher has sends in flight.
        let pool = lettre::transport::smtp::PoolConfig::new().max_size(config.connections.max(1));
        let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.url)
            .map_err(|error| TransportError::SmtpUrl(error.to_string()))?
            .timeout(Some(config.timeout))
            .pool_config(pool)
            .build();
        let sender: Mailbox =
            config
                .sender
                .parse()
                .map_err(|error: lettre::address::AddressError| {
                    TransportError::Sender(error.to_string())
                })?;
        let id_domain = sender.email.domain().to_owned();
        Ok(SmtpTransport {
            mailer,
            sender,
            id_domain,
            max_per_second: config.max_per_second,
        })
    }

    fn build(&self, message: &Message) -> Result<lettre::Message, String> {
        let to: Mailbox = message
            .to
            .parse()
            .map_err(|_| "the contact's email address is malformed".to_owned())?;
        lettre::Message::builder()
            .message_id(Some(format!(
                "<{}@{}>",
                message.idempotency_id, self.id_domain
            )))
            .from(self.sender.clone())
            .to(to)
            .subject(message.subject.clone().unwrap_or_default())
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|error| format!("the message could not be built: {error}"))
    }
}

#[async_trait]
impl Transport for SmtpTransport {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    async fn send(&self, message: &Message) -> SendResult {
        let email = match self.build(message) {
            Ok(email) => email,
            Err(reason) => return SendResult::Permanent(reason),
        };
        let message_id = format!("<{}@{}>", message.idempotency_id, self.id_domain);
        match self.mailer.send(email).await {
            // lettre answers Ok only for a positive reply after DATA.
            Ok(_) => SendResult::Accepted {
                external_id: message_id,
            },
            Err(error) => classify(&error),
        }
    }

    fn max_per_second(&self) -> f64 {
        self.max_per_second
    }
}

/// SMTP 5xx is permanent; 4xx, timeouts and connection trouble are worth
/// another try. The reason names the reply code, never the recipient.
fn classify(error: &lettre::transport::smtp::Error) -> SendResult {
    let code = error
        .status()
        .map(|code| format!("SMTP {code}"))
        .unwrap_or_else(|| "SMTP connection".to_owned());
    if error.is_permanent() {
        SendResult::Permanent(format!("{code}: refused for good"))
    } else if error.is_timeout() {
        SendResult::Transient(format!("{code}: timed out"))
    } else if error.is_transient() {
        SendResult::Transient(format!("{code}: try again later"))
    } else {
        SendResult::Transient(format!("{code}: failed ({})", error_kind(error)))
    }
}

fn error_kind(error: &lettre::transport::smtp::Error) -> &'static str {
    if error.is_client() {
        "client"
    } else if error.is_response() {
        "bad response"
    } else if error.is_tls() {
        "TLS"
    } else {
        "network"
    }
}
