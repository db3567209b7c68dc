//! The binary as an operator and a crash see it: admin subcommands run as
//! processes, and a server killed mid-write.

#[path = "../support/mod.rs"]
#[macro_use]
mod support;

mod admin;
mod crash;
mod instances;
mod moves;
