//! What an SMS gateway tells us afterwards: a message's final status.
//! Gateway requests carry no token: they are believed only when signed.

/// Checks a gateway's signature over the URL it called and its form
/// parameters (the Twilio scheme lives in `connecticket-notify`).
pub trait GatewaySignature: Send + Sync + 'static {
    fn verify(&self, url: &str, params: &[(String, String)], signature: &str) -> bool;
}

/// A status callback as the HTTP surface received it.
#[derive(Debug, Clone)]
pub struct GatewayCallback {
    /// The public URL the gateway called (what it signed).
    pub url: String,
    pub params: Vec<(String, String)>,
    pub signature: Option<String>,
}

impl GatewayCallback {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// What a reported status means for the notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportedStatus {
    /// The handset received it.
    Delivered,
    /// The gateway gave up: the notification fails, with this reason.
    Undelivered(String),
    /// On its way (queued, sent, …): nothing changes.
    InTransit,
}

impl ReportedStatus {
    /// `MessageStatus` (and `ErrorCode`) as the gateway spells them.
    pub fn parse(status: &str, error_code: Option<&str>) -> ReportedStatus {
        match status.to_ascii_lowercase().as_str() {
            "delivered" | "read" => ReportedStatus::Delivered,
            "undelivered" | "failed" | "canceled" => {
                let code = error_code
                    .filter(|c| c.chars().all(|c| c.is_ascii_digit()) && !c.is_empty())
                    .map(|c| format!(" (error {c})"))
                    .unwrap_or_default();
                ReportedStatus::Undelivered(format!("the SMS gateway reported it {status}{code}"))
            }
            _ => ReportedStatus::InTransit,
        }
    }
}
