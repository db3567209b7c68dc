//! The published API's wire format: how requests spell their parameters
//! and how answers are shaped. Nothing outside this module knows a legacy
//! spelling.

mod body;
pub(crate) mod commands;
pub(crate) mod json;
mod params;
#[cfg(test)]
mod properties;
pub(crate) mod urlencoded;

pub(crate) use body::{declared_length, read_form_fields, read_params, FormFields};
pub(crate) mod answers;
pub(crate) use json::{NoticeJson, ResidentJson, TicketJson, TicketWithDetails};
pub use params::{FilePart, RequestParams};
