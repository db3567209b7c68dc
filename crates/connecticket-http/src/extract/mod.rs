//! Turning requests into what the use cases take.

mod caller;
mod params;
#[cfg(test)]
mod properties;
mod urlencoded;

pub use caller::{token_segment, Caller, Context, Credentials, IdempotencyKey};
pub use params::Params;
