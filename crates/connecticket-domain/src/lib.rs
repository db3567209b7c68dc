//! Connecticket's domain: what a ticket, a resident and a provider are, the
//! rules that input must satisfy, the ticket workflow, authentication and the
//! tenancy rule.
//!
//! Design: this crate knows neither HTTP nor SQL. A surface (the HTTP API,
//! later the console) turns what its clients send into the typed
//! [`command`]s, authenticates a [`service::Call`] and hands both to a use
//! case on [`service::Connecticket`]. The use case validates, then calls one
//! method of the [`store::Store`] interface, and every such method is
//! exactly one transaction. Every store method that touches tenant data
//! takes the [`model::ProviderId`] of the caller, so a query that forgets
//! the tenant does not compile, and every call leaves one audit entry.

pub mod audit;
pub mod auth;
pub mod clock;
pub mod command;
pub mod console;
pub mod demo;
pub mod error;
pub mod events;
pub mod fhir;
pub mod model;
pub mod notify;
pub mod outage;
pub mod service;
pub mod store;
pub mod text;
pub mod time;
pub mod transfer;
pub mod validate;
pub mod workflow;

pub use error::{DomainError, Entity, Field, Problem, StoreError};
pub use service::Connecticket;
