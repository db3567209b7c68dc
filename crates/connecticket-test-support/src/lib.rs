//! Shared fixtures for the integration test binaries: a real Connecticket
//! server on an ephemeral port with a fresh database, started exactly as
//! `serve` starts it; sessions that carry credentials; and the binary run
//! as a process.
//!
//! Every scenario written inside `backend_tests! { … }` runs twice, as
//! `<name>::sqlite` and `<name>::postgres`: one set of test sources, both
//! backends. PostgreSQL databases are clones of a migrated template (see
//! `connecticket_store::testing`); without a PostgreSQL server the
//! PostgreSQL half is skipped with a message, unless
//! `CONNECTICKET_TEST_POSTGRES_REQUIRED` is set.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod app;
pub mod browser;
mod client;
pub mod cluster;
mod console;
mod database;
pub mod fhir;
mod locks;
mod operator;
mod process;
pub mod raw;
mod receivers;
pub mod tls;
mod webhooks;

pub use app::{audit_entries, TestApp, TestOptions};
pub use client::{demo_session, once_refused, send, Fields, Reply, Session};
pub use database::{postgres_available, sqlite_path, TestDatabase};
pub use fhir::{FhirClient, ALL_READS};
pub use operator::{operator_write, TestOperator, TEST_OPERATOR};
pub use process::{admin, admin_with_input, binary, ServerProcess};

pub use console::{cookie_value, field_value, Console, Page, DEMO_PASSWORD};
pub use locks::{hold_write_lock, WriteLock};
pub use receivers::{transports, Mail, MailCatcher, Sms, SmsReceiver};
pub use webhooks::{Answer, Delivery, WebhookReceiver};

pub use connecticket_store::testing::{eventually, eventually_within, Backend, DEADLINE};

/// Expands each `async fn name() { … }` into a module `name` holding the
/// scenario and one test per backend.
#[macro_export]
macro_rules! backend_tests {
    ($( $(#[doc = $doc:literal])* async fn $name:ident() $body:block )*) => {
        $(
            $(#[doc = $doc])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn scenario() $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    $crate::Backend::Sqlite.run(scenario()).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    if $crate::postgres_available().await {
                        $crate::Backend::Postgres.run(scenario()).await
                    }
                }
            }
        )*
    };
}

/// The key tests hash credentials under when not in demo mode.
pub const TEST_HASH_KEY: &str = "connecticket-test-hash-key-not-for-production";
