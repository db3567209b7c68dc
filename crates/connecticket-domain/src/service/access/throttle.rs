//! Abuse resistance: throttling failed `authorize` and sign-in attempts,
//! and a request budget per application (not per token: minting tokens
//! buys nothing).
//!
//! Attempts are counted in the database (so every instance sees the same
//! counts) per client address, and per (api_key or account, client
//! address); a console account also across all addresses, since a
//! password or a six-digit code must not fall to a crowd of addresses.
//! An attempt is counted before it is checked, in one statement, so that
//! concurrent attempts each see the ones before them; one that succeeds is
//! taken back. An attacker who knows an application's public api_key can
//! exhaust only the budgets of the addresses it attacks from, never the
//! application's own. Request budgets are counted in memory, per instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::model::ApplicationId;

#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    /// Length of a counting window, in seconds.
    pub window_secs: i64,
    /// Failed authorize attempts allowed per client address per window.
    pub failures_per_address: u64,
    /// Failed authorize attempts allowed per (api_key, address) per window,
    /// and failed sign-ins per (account, address).
    pub failures_per_key_and_address: u64,
    /// Failed sign-ins allowed per console account per window, from all
    /// addresses together; beyond, the account is refused (the right
    /// password too) until the window ends.
    pub failures_per_account: u64,
    /// Refused requests nobody could be named for (bogus tokens, guessed
    /// links, console pages without a session, unsigned gateway calls) one
    /// address may make in a minute before it is answered 429 (0: no limit).
    pub anonymous_refusals_per_minute: u64,
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
            failures_per_account: 20,
            anonymous_refusals_per_minute: 120,
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

/// The counters one attempt draws on, each with its limit per window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttemptScopes {
    pub names: Vec<String>,
    pub limits: Vec<u64>,
}

/// Keys are hashed so that whatever a client sends stays short.
fn short_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..12])
}

/// An `authorize` from `address` with `api_key`: per address, and per
/// (key, address).
pub(crate) fn authorize_scopes(
    api_key: Option<&str>,
    address: &str,
    settings: &ThrottleSettings,
) -> AttemptScopes {
    let key = short_hash(api_key.unwrap_or(""));
    AttemptScopes {
        names: vec![format!("addr:{address}"), format!("key:{key}@{address}")],
        limits: vec![
            settings.failures_per_address,
            settings.failures_per_key_and_address,
        ],
    }
}

/// A console sign-in from `address` as `email`: per address (shared with
/// `authorize`), per (account, address), and per account, unless the
/// attempt comes from a device the account signed in on before: strangers'
/// failures then cannot lock its owner out (OWASP's device cookies).
pub(crate) fn sign_in_scopes(
    email: &str,
    address: &str,
    known_device: bool,
    settings: &ThrottleSettings,
) -> AttemptScopes {
    let account = short_hash(&format!("console:{email}"));
    let mut scopes = AttemptScopes {
        names: vec![
            format!("addr:{address}"),
            format!("key:{account}@{address}"),
        ],
        limits: vec![
            settings.failures_per_address,
            settings.failures_per_key_and_address,
        ],
    };
    if !known_device {
        scopes.names.push(format!("account:{account}"));
        scopes.limits.push(settings.failures_per_account);
    }
    scopes
}

/// Serialises the attempts of one narrow scope (an api_key or account from
/// an address, an account) within this instance. An attempt is counted
/// before it is checked, so attempts in flight together would see each
/// other's counts: 32 workers of one partner authorizing at once would be
/// refused as if they had failed. Taking turns per narrow scope keeps the
/// count of what is in flight at one (per instance), while the per-address
/// counter, limited far higher, is shared without waiting.
#[derive(Default)]
pub(crate) struct AttemptLocks {
    held: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The turn of one attempt; the next attempt of its scopes goes when it
/// is dropped.
pub(crate) struct AttemptTurn<'a> {
    locks: &'a AttemptLocks,
    guards: Vec<(String, tokio::sync::OwnedMutexGuard<()>)>,
}

impl AttemptLocks {
    /// Waits for the turn of `scopes`' narrow scopes (all but the
    /// per-address one), taken in one order so that two attempts never
    /// wait on each other.
    pub(crate) async fn turn(&self, scopes: &AttemptScopes) -> AttemptTurn<'_> {
        let mut names: Vec<&String> = scopes
            .names
            .iter()
            .filter(|name| !name.starts_with("addr:"))
            .collect();
        names.sort();
        names.dedup();
        let mut guards = Vec::with_capacity(names.len());
        for name in names {
            let lock = {
                let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
                Arc::clone(held.entry(name.clone()).or_default())
            };
            guards.push((name.clone(), lock.lock_owned().await));
        }
        AttemptTurn {
            locks: self,
            guards,
        }
    }
}

impl Drop for AttemptTurn<'_> {
    fn drop(&mut self) {
        let mut held = self
            .locks
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (name, guard) in self.guards.drain(..) {
            drop(guard);
            // Forgotten once no one holds or waits for it.
            if held
                .get(&name)
                .is_some_and(|lock| Arc::strong_count(lock) == 1)
            {
                held.remove(&name);
            }
        }
    }
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
    fn scopes_separate_addresses_keys_and_accounts() {
        let settings = ThrottleSettings::default();
        let scopes = authorize_scopes(Some("k"), "10.0.0.1", &settings);
        assert_eq!(scopes.names[0], "addr:10.0.0.1");
        assert!(scopes.names[1].ends_with("@10.0.0.1"));
        assert_ne!(
            scopes.names[1],
            authorize_scopes(Some("other"), "10.0.0.1", &settings).names[1]
        );
        let here = sign_in_scopes("a@example.org", "10.0.0.1", false, &settings);
        let there = sign_in_scopes("a@example.org", "10.0.0.2", false, &settings);
        assert_eq!(here.names[0], scopes.names[0], "the address is shared");
        assert_ne!(here.names[1], there.names[1]);
        assert_eq!(
            here.names[2], there.names[2],
            "the account is one, wherever from"
        );
        assert_eq!(here.limits, vec![50, 10, 20]);
        let known = sign_in_scopes("a@example.org", "10.0.0.1", true, &settings);
        assert_eq!(
            known.names,
            here.names[..2].to_vec(),
            "no account-wide lock for a known device"
        );
    }
}
