//! Use cases. `Connecticket` serves the published API; `AdminService` serves
//! the operator's subcommands. Both validate input, then make exactly one
//! store call per write.

mod admin;
mod api;
mod audit_admin;
mod audited;
#[cfg(test)]
mod properties;
mod resident_input;
pub mod throttle;
mod ticket_input;

pub use admin::{AdminService, CreatedApplication};
pub use api::{ApiSettings, Connecticket, IssuedToken, ListRequest};
pub use audit_admin::AuditFilter;
pub use resident_input::{resident_from_fields, RESIDENT_FIELDS};

/// Longest accepted single-line text (titles, names, types).
pub const MAX_SHORT_TEXT: usize = 255;
/// Longest accepted comment.
pub const MAX_COMMENT_TEXT: usize = 20_000;
/// Longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// Largest accepted `per_page`.
pub const MAX_PER_PAGE: u32 = 1_000;
/// `per_page` when only `page` is given.
pub const DEFAULT_PER_PAGE: u32 = 100;
