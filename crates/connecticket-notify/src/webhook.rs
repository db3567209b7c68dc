//! Webhook deliveries over HTTP, guarded against server-side request
//! forgery: the address a name resolves to is checked at every delivery
//! (a name that changes its answer is caught), an address literal before
//! connecting; redirects are never followed; at most 64 KiB of an answer
//! is read, and none of it kept.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connecticket_domain::events::webhooks::SignedDelivery;
use connecticket_domain::events::{WebhookResult, WebhookSender};
use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::TransportError;

/// The most of a receiver's answer that is read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Which addresses deliveries may reach.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    /// Networks reachable although private (`--webhook-allow-private`).
    pub allowed_private: Vec<IpNet>,
}

impl AddressPolicy {
    /// Why an address may not be reached; none if it may.
    pub fn refusal(&self, address: IpAddr) -> Option<&'static str> {
        if self
            .allowed_private
            .iter()
            .any(|net| net.contains(&address))
        {
            return None;
        }
        forbidden(address)
    }
}

/// The kind of address no delivery reaches by default.
fn forbidden(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("a loopback address")
            } else if v4.is_private() || (a == 100 && (64..128).contains(&b)) {
                Some("a private address")
            } else if v4.is_link_local() {
                Some("a link-local address")
            } else if v4.is_multicast() {
                Some("a multicast address")
            } else if v4.is_unspecified() || v4.is_broadcast() || a == 0 {
                Some("an unroutable address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden(IpAddr::V4(v4));
            }
            // An IPv4 address carried inside IPv6 (NAT64's well-known
            // prefix, 6to4) reaches that IPv4 address.
            let segments = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                IpAddr::V4(std::net::Ipv4Addr::from(
                    (u32::from(hi) << 16) | u32::from(lo),
                ))
            };
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return forbidden(embedded(segments[6], segments[7]));
            }
            if segments[0] == 0x2002 {
                return forbidden(embedded(segments[1], segments[2]));
            }
            let first = segments[0];
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("an unroutable address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a private address")
            } else {
                None
            }
        }
    }
}

/// Why a delivery was refused before anything was sent.
#[derive(Debug, thiserror::Error)]
#[error("refused: {host} resolves to {address}, {kind}; nothing was sent")]
struct Refused {
    host: String,
    address: IpAddr,
    kind: &'static str,
}

/// Resolves names like the system does, then drops every address the
/// policy forbids; a name left with none is refused.
struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|address| match policy.refusal(address.ip()) {
                    Some(kind) => {
                        refused.get_or_insert((address.ip(), kind));
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() {
                if let Some((address, kind)) = refused {
                    let refusal: Box<dyn std::error::Error + Send + Sync> = Box::new(Refused {
                        host,
                        address,
                        kind,
                    });
                    return Err(refusal);
                }
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

pub struct HttpWebhookSender {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

impl HttpWebhookSender {
    pub fn new(policy: AddressPolicy, timeout: Duration) -> Result<Self, TransportError> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve and connect for
            // us, past the address check: deliveries go direct.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: Arc::clone(&policy),
            }))
            .user_agent(concat!("Connecticket-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| TransportError::WebhookClient(error.to_string()))?;
        Ok(HttpWebhookSender { client, policy })
    }

    /// An address literal is never resolved, so it is checked here.
    fn literal_refusal(&self, url: &reqwest::Url) -> Option<String> {
        let address = match url.host()? {
            url::Host::Ipv4(v4) => IpAddr::V4(v4),
            url::Host::Ipv6(v6) => IpAddr::V6(v6),
            url::Host::Domain(_) => return None,
        };
        let kind = self.policy.refusal(address)?;
        Some(format!("refused: {address} is {kind}; nothing was sent"))
    }
}

/// The innermost cause a refusal or a connection failure gives.
fn reason(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return refused.to_string();
        }
        source = cause.source();
    }
    if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn send(&self, delivery: &SignedDelivery) -> WebhookResult {
        let url = match reqwest::Url::parse(&delivery.url) {
            Ok(url) => url,
            Err(_) => return WebhookResult::Failed("the endpoint URL is not valid".to_owned()),
        };
        if let Some(refusal) = self.literal_refusal(&url) {
            return WebhookResult::Failed(refusal);
        }
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.webhook_id)
            .header("webhook-timestamp", delivery.timestamp.to_string())
            .header("webhook-signature", &delivery.signature)
            .body(delivery.body.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => return WebhookResult::Failed(reason(&error)),
        };
        let status = response.status();
        // Read (a little of) the answer so the connection can be reused;
        // what it says is never kept.
        let mut read = 0usize;
        while read < MAX_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        if status.is_success() {
            WebhookResult::Delivered
        } else if status.is_redirection() {
            WebhookResult::Failed(format!("answered {status}: redirects are not followed"))
        } else {
            WebhookResult::Failed(format!("answered {status}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused_unless_allowed() {
        let strict = AddressPolicy::default();
        for address in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::1",
        ] {
            let ip: IpAddr = address.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
            assert!(strict.refusal(ip).is_some(), "{address}");
        }
        for address in ["93.184.216.34", "2606:2800:220:1::1"] {
            let ip: IpAddr = address.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
            assert_eq!(strict.refusal(ip), None, "{address}");
        }
        let allowing = AddressPolicy {
            allowed_private: vec!["127.0.0.1/32".parse().unwrap_or_else(|_| IpNet::default())],
        };
        assert_eq!(
            allowing.refusal("127.0.0.1".parse().unwrap_or(IpAddr::from([0; 4]))),
            None
        );
        assert!(allowing
            .refusal("127.0.0.2".parse().unwrap_or(IpAddr::from([0; 4])))
            .is_some());
    }
}
