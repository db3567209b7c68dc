//! The published API, driven over HTTP against a real server with a fresh
//! database per test. Modules mirror the contract's calls.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[macro_use]
extern crate connecticket_test_support;

/// The shared fixtures, under the name every test module imports them by.
mod support {
    pub use connecticket_test_support::*;
}

mod abuse;
mod ack_browser;
mod acknowledgments;
mod administration;
mod attachments;
mod audit;
mod authorize;
mod bad_input;
mod budgets;
mod categories;
mod concurrency;
mod console;
mod console_browser;
mod console_display;
mod console_night;
mod create_comment;
mod create_ticket;
mod docs;
mod events;
mod fhir;
mod idempotency;
mod limits;
mod notifications;
mod openapi;
mod operations;
mod residents;
mod sign_in_abuse;
mod slow_clients;
mod tenancy;
mod throttling;
mod ticket_detail;
mod tickets;
mod transport;
mod update_status;
