//! The `connecticket` binary's library: command-line interface, wiring of
//! the layers, and logging setup. Kept in a library so that tests can start
//! the exact server the binary runs.

pub mod cli;
pub mod database;
pub mod metrics;
pub mod server;
pub mod telemetry;
