//! Connecticket's one storage layer. The SQL of every operation, the column
//! lists and the row mappings are written here once, against a small
//! driver-neutral interface ([`Executor`]); only what truly differs between
//! the engines ([`Dialect`]: locking, `GREATEST`, collation, identity
//! sequences) is spelled twice. An engine crate supplies connections and
//! transactions ([`Engine`]) and its migrations; [`SqlStore`] implements
//! the domain's storage interface on top.

mod appender;
mod engine;
mod error;
mod ops;
mod rows;
mod sql;
mod store;
mod value;

#[cfg(feature = "testing")]
pub mod testing;

pub use engine::{chunk_channel, ChunkSender, Dialect, Engine, Executor, Job, StreamJob};
pub use error::{SqlError, SqlErrorKind};
pub use store::SqlStore;
pub use value::{FromValue, Row, Value, ValueRef, ISO_DATE};
