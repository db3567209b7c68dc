//! Test support for the engine crates and the server's tests: fresh
//! databases per test, a deadline helper for waiting without sleeping
//! blindly, and the store conformance suite.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod conformance;
mod database;
pub mod old_data;
mod wait;

pub use database::{Backend, PostgresTemplate, TestDatabase};
pub use wait::{eventually, eventually_within, DEADLINE};
