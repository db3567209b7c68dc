//! SMS through an HTTP gateway in the de-facto Twilio Messages form: a
//! form POST of `To`, `From`, `Body` with basic auth, answered with JSON
//! carrying the message's `sid`. Each request carries the notification's
//! idempotency id (`I-Twilio-Idempotency-Token`, and `Idempotency-Key`).

use std::time::Duration;

use async_trait::async_trait;
use connecticket_domain::notify::{Channel, Message, SendResult, Transport};

use crate::TransportError;

#[derive(Debug, Clone)]
pub struct SmsGatewayConfig {
    /// `https://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com/2010-04-01/Accounts/ACCOUNT_SID/Messages.json`,
    /// or any gateway speaking that form.
    pub url: String,
    /// The `From` number, E.164.
    pub from: String,
    pub max_per_second: f64,
    pub timeout: Duration,
}

pub struct SmsGateway {
    client: reqwest::Client,
    endpoint: url::Url,
    user: String,
    password: Option<String>,
    from: String,
    max_per_second: f64,
}

impl SmsGateway {
    pub fn new(config: &SmsGatewayConfig) -> Result<Self, TransportError> {
        let mut endpoint = url::Url::parse(&config.url)
            .map_err(|error| TransportError::GatewayUrl(error.to_string()))?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(TransportError::GatewayUrl(
                "must be an http:// or https:// URL".to_owned(),
            ));
        }
        let user = endpoint.username().to_owned();
        let password = endpoint.password().map(str::to_owned);
        // Credentials travel in the Authorization header, not the URL.
        let _ = endpoint.set_username("");
        let _ = endpoint.set_password(None);
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|error| TransportError::GatewayUrl(error.to_string()))?;
        Ok(SmsGateway {
            client,
            endpoint,
            user,
            password,
            from: config.from.clone(),
            max_per_second: config.max_per_second,
        })
    }
}

#[async_trait]
impl Transport for SmsGateway {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &Message) -> SendResult {
        let mut request = self
            .client
            .post(self.endpoint.clone())
            .header("I-Twilio-Idempotency-Token", &message.idempotency_id)
            .header("Idempotency-Key", &message.idempotency_id)
            .form(&[
                ("To", message.to.as_str()),
                ("From", self.from.as_str()),
                ("Body", message.body.as_str()),
            ]);
        if !self.user.is_empty() {
            request = request.basic_auth(&self.user, self.password.as_deref());
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                return SendResult::Transient("SMS gateway: timed out".to_owned())
            }
            Err(_) => return SendResult::Transient("SMS gateway: unreachable".to_owned()),
        };
        let status = response.status();
        if status.is_success() {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            let sid = body["sid"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| message.idempotency_id.clone());
            return SendResult::Accepted { external_id: sid };
        }
        let reason = format!("SMS gateway: HTTP {}", status.as_u16());
        if status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408 {
            SendResult::Transient(reason)
        } else {
            SendResult::Permanent(reason)
        }
    }

    fn max_per_second(&self) -> f64 {
        self.max_per_second
    }
}
