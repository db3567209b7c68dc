//! Limits every request must pass before routing does any work, each
//! breach answered in the contract's envelope: a head without `Host` or
//! with bare line feeds (400), oversized headers (431), a body declared
//! larger than the limit (413, before any of it is read, so no
//! `100 Continue` invites it), too many requests in flight (503 in all or
//! without credentials, 429 from one address or, once authenticated, of
//! one provider; health checks never wait). Sets the request's deadline
//! (408 beyond it, never for a write that started) and holds its body to
//! a pace and to the memory budget for bodies. Says `Connection: close`
//! whenever a body was left unread, so that a keep-alive client is never
//! cut off without warning. Keeps what the request took until the last
//! byte of its answer is sent (or the connection is cut), so a streamed
//! list counts for as long as it streams. Also establishes the client's
//! address, believing `X-Forwarded-For` only from trusted proxies.

mod bodies;
mod budgets;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Version};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use connecticket_domain::model::ProviderId;
use ipnet::IpNet;

pub use self::bodies::{BodyStop, RequestHold};
use self::bodies::{Holding, Pace, Tracked};
pub(crate) use self::budgets::{Budgets, RouteClass};
use crate::envelope::failure;
use crate::error::HttpError;
use crate::server::StrictFraming;
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
    if let Some(refused) = malformed_head(&request) {
        let mut response = refused.into_response();
        close_connection(&mut response);
        return response;
    }
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
    let addr = peer.map(|peer| client_addr(peer, request.headers(), &state.trusted_proxies));
    if let Some(addr) = addr {
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
    let class = match RouteClass::of(request.uri().path()) {
        // A browser an account signed in on before is no stranger to the
        // sign-in form: a crowd without credentials does not keep it out.
        RouteClass::Anonymous if known_device(&state, &request) => RouteClass::Authenticated,
        class => class,
    };
    let held = match state.budgets.admit(class, addr) {
        Ok(held) => held,
        Err(refused) => {
            let mut response = refused.into_response();
            if declared.any {
                close_connection(&mut response);
            }
            return response;
        }
    };
    let deadline = Instant::now() + limits.request_timeout;
    request.extensions_mut().insert(Deadline(deadline));
    let hold = Arc::new(RequestHold::default());
    request.extensions_mut().insert(Arc::clone(&hold));
    let (parts, body) = request.into_parts();
    let pace = Pace {
        idle: limits.body_idle_timeout,
        deadline: tokio::time::Instant::from_std(deadline),
        budget: Arc::clone(&state.body_bytes),
    };
    let body = Body::new(Tracked::new(body, Arc::clone(&hold), declared.length, pace));
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if declared.any && !hold.finished() {
        close_connection(&mut response);
    }
    response.map(|body| Body::new(Holding::new(body, (held, hold))))
}

/// Whether a sign-in request comes from a browser with a device cookie
/// this server issued.
fn known_device(state: &AppState, request: &Request) -> bool {
    request.uri().path() == "/console/sign-in"
        && crate::console::device_cookie(request.headers())
            .is_some_and(|cookie| state.api.device_cookie_valid(&cookie))
}

/// Refuses a head hyper accepted but a strict reader must not: an HTTP/1.1
/// request without `Host`, or one on a connection whose heads ended lines
/// with a bare line feed (where a proxy in front may read them otherwise,
/// the way requests are smuggled).
fn malformed_head(request: &Request) -> Option<HttpError> {
    let lax = request
        .extensions()
        .get::<StrictFraming>()
        .is_some_and(|framing| framing.violated());
    if lax {
        return Some(HttpError::MalformedRequest(
            "request lines must end with CR LF",
        ));
    }
    let needs_host = request.version() == Version::HTTP_11;
    if needs_host && !request.headers().contains_key(header::HOST) {
        return Some(HttpError::MalformedRequest(
            "an HTTP/1.1 request must carry a Host header",
        ));
    }
    None
}

/// Takes a slot of `provider`'s share of the server for this request, now
/// that it is known to be the provider's; 429 when the provider already
/// has its share in flight. The slot is held until the answer is sent.
pub(crate) fn claim_provider(
    parts: &Parts,
    provider: ProviderId,
    state: &AppState,
) -> Result<(), HttpError> {
    let Some(hold) = parts.extensions.get::<Arc<RequestHold>>() else {
        return Ok(());
    };
    let slot = state.budgets.provider_slot(provider)?;
    hold.keep_provider_slot(slot);
    Ok(())
}

/// What a failed body read means for the client: the reason the guard
/// stopped it, if it did; otherwise `fallback`.
pub(crate) fn body_failure(
    parts: &Parts,
    limits: &crate::state::Limits,
    fallback: HttpError,
) -> HttpError {
    match parts
        .extensions
        .get::<Arc<RequestHold>>()
        .and_then(|hold| hold.stop())
    {
        Some(BodyStop::Stalled) => {
            HttpError::BodyStalled(limits.body_idle_timeout.as_secs().max(1))
        }
        Some(BodyStop::Deadline) => HttpError::Timeout(limits.request_timeout.as_secs()),
        Some(BodyStop::Busy) => HttpError::Overloaded(
            "the server is at its limit of request bodies in memory; retry shortly",
        ),
        None => fallback,
    }
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
