//! Connecticket's HTTP layer: the published API's routes, parameter
//! extraction, and the contract's envelope.
//!
//! Design: handlers translate between HTTP and the domain's use cases and
//! hold no rules and no SQL. Every failure, whether from the domain, an
//! extractor or the router, becomes an [`error::HttpError`] and is rendered
//! into the `{"status": false, "message": …}` envelope in exactly one place.

pub mod access_log;
pub mod envelope;
pub mod error;
pub mod extract;
mod list;
mod router;
mod routes;
pub mod state;
mod wire;

pub use router::router;
pub use state::{AppState, Limits};

use std::future::Future;

use tokio::net::TcpListener;

/// Serves the API on `listener` until `shutdown` resolves, then lets
/// in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
