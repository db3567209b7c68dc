//! Token checks from memory. A token's record, once read, is trusted for
//! the rest of the clock second it was read in, and read again after: at
//! most one second old, so a revocation made on any instance reaches every
//! instance within one second, while a busy client's calls cost no
//! database read for authentication.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::auth::TokenRecord;

/// Entries kept before the cache starts over (each is a few hundred bytes).
const MAX_ENTRIES: usize = 10_000;

struct Cached {
    record: TokenRecord,
    /// The clock second (Unix time) the record was read in.
    second: i64,
}

#[derive(Default)]
pub(crate) struct TokenCache {
    by_hash: Mutex<HashMap<Vec<u8>, Cached>>,
}

impl TokenCache {
    /// The record of the token with this hash, if read within the second.
    pub(crate) fn get(&self, hash: &[u8], now: DateTime<Utc>) -> Option<TokenRecord> {
        let by_hash = self.by_hash.lock().ok()?;
        let cached = by_hash.get(hash)?;
        (cached.second == now.timestamp()).then(|| cached.record.clone())
    }

    pub(crate) fn put(&self, hash: Vec<u8>, record: TokenRecord, now: DateTime<Utc>) {
        if let Ok(mut by_hash) = self.by_hash.lock() {
            if by_hash.len() >= MAX_ENTRIES {
                by_hash.clear();
            }
            let second = now.timestamp();
            by_hash.insert(hash, Cached { record, second });
        }
    }
}
