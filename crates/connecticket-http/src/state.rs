//! What every handler can reach.

use std::sync::Arc;

use connecticket_domain::Connecticket;

/// Size limits on what clients may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, all parts together.
    pub max_request_bytes: usize,
    /// Largest single attachment.
    pub max_file_bytes: usize,
    /// Most attachments in one request.
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 25 * 1024 * 1024,
            max_file_bytes: 10 * 1024 * 1024,
            max_files: 20,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub api: Arc<Connecticket>,
    pub limits: Limits,
}

impl AppState {
    pub fn new(api: Arc<Connecticket>, limits: Limits) -> Self {
        AppState { api, limits }
    }
}
