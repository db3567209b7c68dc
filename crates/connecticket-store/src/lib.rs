//! Connecticket's one storage layer. The SQL of every operation, the column
//! lists and the row mappings are written here once, against a small
//! driver-neutral interface ([`Executor`]); only what truly differs between
//! the engines ([`Dialect`]: locking, `GREATEST`, collation, identity
//! sequences) is spelled twice. An engine crate supplies connections and
//! transactions ([`Engine`]) and its migrations; [`SqlStore`] implements
//! the domain's storage interface on top: each operation is declared once,
//! with the statement that does it, in the domain's `store::roles`, and
//! `roles` here asks for those implementations (`custom` holds the few
//! written by hand).

// The domain's role declarations implement themselves here, naming this
// crate by its own name.
extern crate self as connecticket_store;

mod audit_chain;
mod audit_queue;
mod custom;
mod engine;
mod error;
mod one_statement;
mod ops;
mod queued_write;
mod roles;
mod rows;
mod sql;
mod store;
mod value;

#[cfg(feature = "testing")]
pub mod testing;

pub use audit_chain::AuditChain;
pub use audit_queue::{append_batch, append_waiting, AuditWaiter, Delivery};
pub use engine::{chunk_channel, ChunkSender, Dialect, Engine, Executor, Job, StreamJob};
pub use queued_write::{queue_and_wait, WriteTurn};

/// Creates a writer's own audit chain in the caller's transaction and
/// answers its id; engines call it before a writer's first write.
pub async fn create_audit_chain(
    tx: &mut dyn Executor,
    label: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<i64, connecticket_domain::StoreError> {
    ops::audit::create_chain(tx, label, at).await
}

/// After a writer lost its connection: whether the database still holds
/// its chain as far as the writer committed it, and the loss if not (the
/// old primary took the newest entries with it).
pub async fn audit_chain_loss(
    tx: &mut dyn Executor,
    chain: &AuditChain,
) -> Result<Option<connecticket_domain::audit::ChainLoss>, connecticket_domain::StoreError> {
    ops::audit::chain_loss(tx, chain).await
}

/// Records `loss` as an entry of the transaction's writer's (new) chain.
pub async fn record_audit_chain_loss(
    tx: &mut dyn Executor,
    loss: &connecticket_domain::audit::ChainLoss,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), connecticket_domain::StoreError> {
    ops::audit::append(tx, vec![loss.entry(at)]).await
}

/// Names a writer's chain for people reading `audit verify`: which process
/// (on which host) and which of its writers.
pub fn writer_label(writer: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "unknown host".to_owned());
    format!("{host} pid {} {writer}", std::process::id())
}

/// Records how many calls one write batch served, under its writer's fixed
/// name (`sqlite`, `write_lane`, `audit_lane`): every batch costs a commit,
/// so this is what group commit yields, and what `--sqlite-commit-delay-us`
/// tunes.
pub fn record_batch(writer: &'static str, calls: usize) {
    metrics::histogram!("connecticket_db_batch_calls", "writer" => writer).record(calls as f64);
}

pub use error::{is_disconnected, unreachable_if_disconnected, SqlError, SqlErrorKind};
pub use store::SqlStore;
pub use value::{FromValue, Row, Value, ValueRef, ISO_DATE};
