//! Connecticket's domain: what a ticket, a resident and a provider are, the
//! rules that input must satisfy, the ticket workflow, authentication and the
//! tenancy rule.
//!
//! Design: this crate knows neither HTTP nor SQL. The HTTP layer turns a
//! request into [`params::RequestParams`] and calls a use case on
//! [`service::Connecticket`]; the use case validates, then calls one method of
//! the [`store::Store`] trait, and every such method is exactly one
//! transaction. Every store method that touches tenant data takes the
//! [`model::ProviderId`] of the caller, so a query that forgets the tenant does
//! not compile.

pub mod audit;
pub mod auth;
pub mod demo;
pub mod error;
pub mod model;
pub mod params;
pub mod service;
pub mod store;
pub mod time;
pub mod transfer;
pub mod workflow;

pub use error::{DomainError, Entity, StoreError};
pub use service::{AdminService, Connecticket};
