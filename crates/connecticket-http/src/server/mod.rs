//! The connection layer: accepting TCP (optionally TLS) connections and
//! serving HTTP/1.1 on them with the limits a public endpoint needs.
//!
//! `header_read_timeout` closes a connection whose request headers do not
//! arrive in time, and, since hyper restarts it whenever a connection goes
//! idle, one that sits idle between requests: slow-loris clients cannot hold
//! connections open. `send_timeout` cuts a connection whose client stops
//! reading: every write to the socket must make progress within it, so a
//! client that reads slowly is served at its pace, and one that stalls
//! gives its request's resources back. Shutdown stops accepting, then lets
//! in-flight requests finish.

mod framing;
mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

pub use framing::StrictFraming;
pub use tls::{ReloadingTls, TlsError, TlsFiles};

use framing::FramingWatch;

use crate::router::router;
use crate::state::AppState;

/// hyper refuses heads with more headers than this on its own (without the
/// envelope); it is set far above what the byte limit lets through anyway.
const MAX_HEADER_COUNT: usize = 1000;

/// The smallest connection buffer hyper accepts.
const MIN_BUFFER_BYTES: usize = 8192;

/// How connections are served.
#[derive(Clone)]
pub struct ServeOptions {
    /// Terminate TLS with this (reloadable) certificate; plain HTTP if None.
    pub tls: Option<std::sync::Arc<ReloadingTls>>,
    /// Time allowed for a request's headers (and for a TLS handshake), and
    /// for an idle connection to start its next request.
    pub header_read_timeout: Duration,
    /// Time a write to a client's socket may wait for the client to read
    /// before the connection is cut.
    pub send_timeout: Duration,
    /// Hard cap on a request head, and on what a connection buffers: heads
    /// beyond it are answered 431 by hyper itself and the connection
    /// closed (the configurable, enveloped limit is lower: see
    /// `Limits::max_header_bytes`). Every open connection may hold this
    /// much, so it bounds what unfinished heads can cost.
    pub max_head_bytes: usize,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            tls: None,
            header_read_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
            max_head_bytes: 32 * 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Serves the API on `listener` until `shutdown` resolves.
/// How a shutdown went: connections still open when the grace period
/// ended were cut.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    pub open_at_shutdown: usize,
    pub cut: usize,
}

/// Counts a connection while its task lives.
struct Open(Arc<AtomicUsize>);

impl Open {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Open(Arc::clone(count))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub async fn serve(
    listener: TcpListener,
    state: AppState,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<ShutdownReport> {
    serve_app(listener, router(state), options, shutdown).await
}

/// Serves `app` (the API's router, or the operators' own) on `listener`
/// until `shutdown` resolves.
pub async fn serve_app(
    listener: TcpListener,
    app: axum::Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<ShutdownReport> {
    let open = Arc::new(AtomicUsize::new(0));
    let head_bytes = options.max_head_bytes.max(MIN_BUFFER_BYTES);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(head_bytes)
        .max_header_size(head_bytes)
        .max_headers(MAX_HEADER_COUNT)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(options.send_timeout));
        let stream = Box::pin(stream);
        let framing = StrictFraming::default();
        let watched = framing.clone();
        let service = TowerToHyperService::new(app.clone().map_request(
            move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(watched.clone());
                request
            },
        ));
        let http = http.clone();
        let watcher = graceful.watcher();
        let tls = options.tls.clone();
        let handshake_timeout = options.header_read_timeout;
        let counted = Open::new(&open);
        tokio::spawn(async move {
            let _counted = counted;
            let outcome = match tls {
                None => {
                    let stream = FramingWatch::new(stream, framing, head_bytes);
                    watcher
                        .watch(http.serve_connection(TokioIo::new(stream), service))
                        .await
                }
                Some(tls) => {
                    let Some(stream) = handshake(&tls, stream, peer, handshake_timeout).await
                    else {
                        return;
                    };
                    let stream = FramingWatch::new(stream, framing, head_bytes);
                    watcher
                        .watch(http.serve_connection(TokioIo::new(stream), service))
                        .await
                }
            };
            if let Err(error) = outcome {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let open_at_shutdown = open.load(Ordering::SeqCst);
    let cut = tokio::select! {
        () = graceful.shutdown() => 0,
        () = tokio::time::sleep(options.shutdown_grace) => {
            let cut = open.load(Ordering::SeqCst);
            tracing::warn!(cut, "shutdown grace period over; dropping remaining connections");
            cut
        }
    };
    Ok(ShutdownReport {
        open_at_shutdown,
        cut,
    })
}

/// A client's socket, with its send deadline.
type Socket = std::pin::Pin<Box<TimeoutStream<TcpStream>>>;

async fn handshake(
    tls: &ReloadingTls,
    stream: Socket,
    peer: SocketAddr,
    timeout: Duration,
) -> Option<tokio_rustls::server::TlsStream<Socket>> {
    match tokio::time::timeout(timeout, tls.acceptor().accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(error)) => {
            tracing::debug!(%error, peer.port = peer.port(), "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}
