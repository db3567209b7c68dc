//! How every call leaves its one audit entry: the call skeleton (`call`),
//! streamed lists recorded when they end (`streams`), and refusals of
//! callers nobody can be named for, recorded in aggregate (`refusals`).

mod call;
mod refusals;
mod streams;

pub use call::Call;
pub(crate) use call::{AuditSink, PendingEntry, Recorded};
pub(crate) use refusals::{is_anonymous_refusal, RefusalLog};
pub use streams::MAX_LISTED_RECORDS;
pub(crate) use streams::{record_list_start, AuditedStream};
