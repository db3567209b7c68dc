//! Turning requests into what the use cases take.

mod caller;
mod request;

pub(crate) use caller::request_context;
pub use caller::{token_segment, Context, Credentials};
pub(crate) use request::{within, ApiRequest};
