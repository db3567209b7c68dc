//! The binary as an operator and a crash see it: admin subcommands run as
//! processes, and a server killed mid-write.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[macro_use]
extern crate connecticket_test_support;

/// The shared fixtures, under the name every test module imports them by.
mod support {
    pub use connecticket_test_support::*;
}

mod abuse;
mod admin;
mod administration;
mod audit_trail;
mod crash;
mod deploy;
mod dispatch;
#[cfg(target_os = "linux")]
mod durability;
mod escalation;
mod failover;
mod hygiene;
mod instances;
mod logs;
mod moves;
mod operations;
mod progress;
mod shutdown;
mod tls_reload;
mod webhooks;
