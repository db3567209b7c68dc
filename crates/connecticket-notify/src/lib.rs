//! The ways Connecticket's notifications leave the building: email over
//! SMTP and SMS through an HTTP gateway in the Twilio Messages form (and
//! events to webhook receivers). Each
//! implements the domain's `Transport` and classifies what went wrong as
//! worth retrying or not; neither logs an address or a message's text.

mod signature;
mod sms;
mod smtp;
mod webhook;

pub use signature::TwilioSignature;
pub use sms::{SmsGateway, SmsGatewayConfig};
pub use smtp::{SmtpConfig, SmtpTransport};
pub use webhook::{AddressPolicy, HttpWebhookSender};

/// A transport's configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("the SMTP URL is not usable: {0}")]
    SmtpUrl(String),
    #[error("the sender address is not usable: {0}")]
    Sender(String),
    #[error("the SMS gateway URL is not usable: {0}")]
    GatewayUrl(String),
    #[error("the webhook client could not be built: {0}")]
    WebhookClient(String),
}
