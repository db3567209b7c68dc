//! Abuse resistance: throttling failed `authorize` attempts, and a request
//! budget per application (not per token: minting tokens buys nothing).
//!
//! Failed attempts are counted in the database (so every instance sees the
//! same counts) per client address, and per (api_key, client address). An
//! attacker who knows an application's public api_key can exhaust only the
//! budgets of the addresses it attacks from, never the application's own.
//! Request budgets are counted in memory, per instance.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::model::ApplicationId;

#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    /// Length of a counting window, in seconds.
    pub window_secs: i64,
    /// Failed authorize attempts allowed per client address per window.
    pub failures_per_address: u64,
    /// Failed authorize attempts allowed per (api_key, address) per window.
    pub failures_per_key_and_address: u64,
    /// Requests one application may make per budget window, whatever
    /// tokens it uses (0: no limit).
    pub token_requests: u64,
    pub token_window_secs: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings {
            window_secs: 900,
            failures_per_address: 50,
            failures_per_key_and_address: 10,
            token_requests: 6_000,
            token_window_secs: 60,
        }
    }
}

/// The start of the fixed window `now` falls in, and seconds until its end.
pub(crate) fn window(now: DateTime<Utc>, length: i64) -> (i64, u64) {
    let length = length.max(1);
    let seconds = now.timestamp();
    let start = seconds - seconds.rem_euclid(length);
    (
        start,
        u64::try_from(start + length - seconds).unwrap_or(1).max(1),
    )
}

/// The counters a failed attempt from `address` with `api_key` touches:
/// `[per address, per (key, address)]`. Keys are hashed so that whatever a
/// client sends stays short.
pub(crate) fn failure_scopes(api_key: Option<&str>, address: &str) -> [String; 2] {
    let key = hex::encode(&Sha256::digest(api_key.unwrap_or("").as_bytes())[..12]);
    [format!("addr:{address}"), format!("key:{key}@{address}")]
}

/// Per-application request counts for the current window, in memory.
#[derive(Default)]
pub(crate) struct TokenBudgets {
    windows: Mutex<HashMap<ApplicationId, (i64, u64)>>,
}

/// Entries kept before stale windows are swept.
const SWEEP_AT: usize = 10_000;

impl TokenBudgets {
    /// Counts one request; `Err(retry_after)` once the budget is spent.
    pub(crate) fn spend(
        &self,
        application: ApplicationId,
        settings: &ThrottleSettings,
        now: DateTime<Utc>,
    ) -> Result<(), u64> {
        if settings.token_requests == 0 {
            return Ok(());
        }
        let (start, retry_after) = window(now, settings.token_window_secs);
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(());
        };
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (window_start, _)| *window_start == start);
        }
        let slot = windows.entry(application).or_insert((start, 0));
        if slot.0 != start {
            *slot = (start, 0);
        }
        if slot.1 >= settings.token_requests {
            return Err(retry_after);
        }
        slot.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::from_epoch;

    #[test]
    fn windows_are_fixed_and_say_when_they_end() {
        assert_eq!(window(from_epoch(1_000), 300), (900, 200));
        assert_eq!(window(from_epoch(1_199), 300), (900, 1));
    }

    #[test]
    fn a_token_budget_refuses_then_resets() {
        let settings = ThrottleSettings {
            token_requests: 2,
            token_window_secs: 60,
            ..ThrottleSettings::default()
        };
        let budgets = TokenBudgets::default();
        let now = from_epoch(6_000);
        assert_eq!(budgets.spend(ApplicationId(1), &settings, now), Ok(()));
        assert_eq!(budgets.spend(ApplicationId(1), &settings, now), Ok(()));
        assert_eq!(budgets.spend(ApplicationId(1), &settings, now), Err(60));
        assert_eq!(
            budgets.spend(ApplicationId(2), &settings, now),
            Ok(()),
            "budgets are per application"
        );
        assert_eq!(
            budgets.spend(ApplicationId(1), &settings, from_epoch(6_060)),
            Ok(())
        );
    }

    #[test]
    fn scopes_separate_addresses_and_keys() {
        let [address, pair] = failure_scopes(Some("k"), "10.0.0.1");
        assert_eq!(address, "addr:10.0.0.1");
        assert!(pair.ends_with("@10.0.0.1"));
        assert_ne!(pair, failure_scopes(Some("other"), "10.0.0.1")[1]);
    }
}
