//! Limits every request must pass before routing does any work, each
//! breach answered in the contract's envelope: oversized headers (431), too
//! many requests in flight (503), a request that takes too long (408). Also
//! establishes the client's address, believing `X-Forwarded-For` only from
//! trusted proxies.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::envelope::failure;
use crate::state::AppState;

/// The client's address, as far as it can be trusted.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// The address the request came from: the peer, unless the peer is a
/// trusted proxy, in which case the right-most untrusted `X-Forwarded-For`
/// entry (entries further left are whatever the client claimed).
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |addr: &IpAddr| trusted.iter().any(|net| net.contains(addr));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|entry| entry.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|addr| !is_trusted(addr))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
}

fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let limits = state.limits;
    if header_bytes(request.headers()) > limits.max_header_bytes {
        return failure(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &format!(
                "request headers are larger than the limit of {} bytes",
                limits.max_header_bytes
            ),
        );
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(peer) = peer {
        let addr = client_addr(peer, request.headers(), &state.trusted_proxies);
        request.extensions_mut().insert(ClientAddr(addr));
    }
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        let mut response = failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is at its limit of concurrent requests; retry shortly",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => failure(
            StatusCode::REQUEST_TIMEOUT,
            &format!(
                "the request took longer than {} seconds",
                limits.request_timeout.as_secs()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", forwarded.parse().expect("header"));
        headers
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.5".parse().expect("ip");
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let spoofed = headers("6.6.6.6, 203.0.113.7, 10.0.0.9");
        assert_eq!(
            client_addr(proxy, &spoofed, &trusted).to_string(),
            "203.0.113.7"
        );
        let stranger: IpAddr = "198.51.100.1".parse().expect("ip");
        assert_eq!(client_addr(stranger, &spoofed, &trusted), stranger);
        assert_eq!(client_addr(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(client_addr(proxy, &spoofed, &[]), proxy);
    }
}
