//! Limits every request must pass before routing does any work, each
//! breach answered in the contract's envelope: oversized headers (431), a
//! body declared larger than the limit (413, before any of it is read, so
//! no `100 Continue` invites it), too many requests in flight (503). Sets
//! the request's deadline (408 beyond it, never for a write that started).
//! Says `Connection: close` whenever a body was left unread, so that a
//! keep-alive client is never cut off without warning. Holds the request's
//! concurrency permit until the last byte of its answer is sent (or the
//! connection is cut), so a streamed list counts for as long as it streams.
//! Also establishes the client's address, believing `X-Forwarded-For` only
//! from trusted proxies.

mod bodies;

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use self::bodies::{BodyRead, Holding, Tracked};
use crate::envelope::failure;
use crate::state::AppState;

/// The client's address, as far as it can be trusted.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// When the server stops waiting on this request.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(pub Instant);

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
    let declared = declared_body(request.headers());
    if declared
        .length
        .is_some_and(|length| length > limits.max_request_bytes as u64)
    {
        let mut response = failure(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "request body is larger than the limit of {} bytes",
                limits.max_request_bytes
            ),
        );
        close_connection(&mut response);
        return response;
    }
    let Ok(permit) = state.in_flight.clone().try_acquire_owned() else {
        metrics::counter!("connecticket_throttled_requests_total", "reason" => "concurrency")
            .increment(1);
        let mut response = failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is at its limit of concurrent requests; retry shortly",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    request
        .extensions_mut()
        .insert(Deadline(Instant::now() + limits.request_timeout));
    let (parts, body) = request.into_parts();
    let read = BodyRead::default();
    let body = Body::new(Tracked::new(body, read.clone(), declared.length));
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if declared.any && !read.finished() {
        close_connection(&mut response);
    }
    response.map(|body| Body::new(Holding::new(body, permit)))
}

fn close_connection(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
}

/// What a request's headers say of its body.
struct Declared {
    length: Option<u64>,
    /// Whether there is a body at all.
    any: bool,
}

fn declared_body(headers: &HeaderMap) -> Declared {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    Declared {
        length,
        any: chunked || length.is_some_and(|length| length > 0),
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
