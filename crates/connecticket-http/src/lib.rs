//! Connecticket's HTTP layer: the published API's routes, parameter
//! extraction, and the contract's envelope.
//!
//! Design: handlers translate between HTTP and the domain's use cases and
//! hold no rules and no SQL. Every failure, whether from the domain, an
//! extractor or the router, becomes an [`error::HttpError`] and is rendered
//! into the `{"status": false, "message": …}` envelope in exactly one place.

pub mod access_log;
mod console;
pub mod docs;
pub mod envelope;
pub mod error;
pub mod extract;
mod fhir;
pub mod guard;
mod list;
pub mod openapi;
mod router;
mod routes;
pub mod server;
pub mod state;
pub mod wire;

pub use console::administration_paths;
pub use router::{operations_router, router};
pub use server::{serve, serve_app, ReloadingTls, ServeOptions, ShutdownReport, TlsFiles};
pub use state::{AppState, Limits, MetricsSource, Operations};
