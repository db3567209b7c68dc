//! Refusals of requests nobody could be named for (a bogus token, a
//! console page without a session, a guessed acknowledgment or invitation
//! link, an unsigned gateway callback) are audited in aggregate: one entry
//! per source, action and outcome for each interval (a minute by default),
//! counting them, instead of one durable row per request, which anyone
//! could make the server write at line rate. A source that is refused
//! more than its share in a minute is answered 429 before any lookup.
//!
//! The counts live in memory until they are written (at every interval and
//! at shutdown): a crash loses at most one interval's counts of refusals,
//! never an entry about a record.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::audit::{Action, AuditEntry, Outcome};

/// Distinct (source, action, outcome) counted before further ones share
/// one entry without a source: a crowd of addresses cannot grow memory.
const MAX_SOURCES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    addr: Option<String>,
    action: Action,
    outcome: Outcome,
}

/// The first refusal of a key in an interval, and how many followed.
struct Tally {
    first: AuditEntry,
    count: u64,
    /// When it was first counted, among the others: entries are written
    /// in that order.
    order: u64,
}

#[derive(Default)]
struct Counts {
    tallies: HashMap<Key, Tally>,
    noted: u64,
    /// Refusals per address in the current minute: (minute, count).
    per_address: HashMap<String, (i64, u64)>,
}

pub struct RefusalLog {
    /// Refusals one address may have in a minute before it is answered
    /// 429 (0: never).
    per_minute: u64,
    counts: Mutex<Counts>,
}

impl RefusalLog {
    pub fn new(per_minute: u64) -> Self {
        RefusalLog {
            per_minute,
            counts: Mutex::new(Counts::default()),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Err(retry_after_secs)` when `addr` was refused more than its share
    /// this minute: it is answered 429 before anything is looked up.
    pub fn check(&self, addr: Option<IpAddr>, now: DateTime<Utc>) -> Result<(), u64> {
        let (Some(addr), true) = (addr, self.per_minute > 0) else {
            return Ok(());
        };
        let minute = now.timestamp().div_euclid(60);
        match self.counts().per_address.get(&addr.to_string()) {
            Some((at, count)) if *at == minute && *count >= self.per_minute => {
                Err(u64::try_from(60 - now.timestamp().rem_euclid(60)).unwrap_or(60))
            }
            _ => Ok(()),
        }
    }

    /// Counts a refusal for the next aggregate entry.
    pub fn note(&self, entry: &AuditEntry) {
        let minute = entry.at.timestamp().div_euclid(60);
        let mut counts = self.counts();
        if let Some(addr) = entry.client_addr.clone() {
            if counts.per_address.len() >= MAX_SOURCES {
                counts.per_address.retain(|_, (at, _)| *at == minute);
            }
            let slot = counts.per_address.entry(addr).or_insert((minute, 0));
            if slot.0 != minute {
                *slot = (minute, 0);
            }
            slot.1 += 1;
        }
        let mut key = Key {
            addr: entry.client_addr.clone(),
            action: entry.action,
            outcome: entry.outcome,
        };
        if !counts.tallies.contains_key(&key) && counts.tallies.len() >= MAX_SOURCES {
            key.addr = None;
        }
        counts.noted += 1;
        let order = counts.noted;
        counts
            .tallies
            .entry(key)
            .and_modify(|tally| tally.count += 1)
            .or_insert_with(|| Tally {
                first: entry.clone(),
                count: 1,
                order,
            });
    }

    /// The aggregate entries of everything counted since the last call:
    /// each the first refusal's entry (its request id, time, action and
    /// outcome), with `refusals:N` among its records.
    pub fn drain(&self) -> Vec<AuditEntry> {
        let tallies = std::mem::take(&mut self.counts().tallies);
        let mut tallies: Vec<(Key, Tally)> = tallies.into_iter().collect();
        tallies.sort_by_key(|(_, tally)| tally.order);
        tallies
            .into_iter()
            .map(|(key, tally)| {
                let mut entry = tally.first;
                entry.client_addr = key.addr;
                entry.records.insert(format!("refusals:{}", tally.count));
                entry
            })
            .collect()
    }
}

/// Whether an entry records a refusal of someone who could not be named.
pub(crate) fn is_anonymous_refusal(entry: &AuditEntry) -> bool {
    entry.provider_id.is_none()
        && matches!(
            entry.outcome,
            Outcome::Denied | Outcome::NotFound | Outcome::Invalid | Outcome::RateLimited
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::RequestContext;

    fn refusal(addr: &str, action: Action, at: i64) -> AuditEntry {
        let context = RequestContext {
            client_addr: addr.parse().ok(),
            request_id: format!("r{at}"),
            ..RequestContext::default()
        };
        AuditEntry::new(
            &context,
            action,
            Outcome::Denied,
            crate::time::from_epoch(at),
        )
    }

    #[test]
    fn refusals_are_counted_per_source_and_action_into_one_entry_each() {
        let log = RefusalLog::new(0);
        for n in 0..50 {
            log.note(&refusal("10.0.0.1", Action::Tickets, 6_000 + n));
        }
        log.note(&refusal("10.0.0.2", Action::Tickets, 6_001));
        log.note(&refusal("10.0.0.1", Action::AcknowledgmentPage, 6_002));
        let entries = log.drain();
        assert_eq!(entries.len(), 3);
        let first = &entries[0];
        assert_eq!(first.request_id, "r6000", "the first refusal's entry");
        assert!(first.records.contains("refusals:50"));
        assert!(log.drain().is_empty(), "counted once");
    }

    #[test]
    fn an_address_over_its_share_is_refused_until_the_minute_ends() {
        let log = RefusalLog::new(3);
        let addr = "10.0.0.1".parse().ok();
        for n in 0..3 {
            assert_eq!(log.check(addr, crate::time::from_epoch(6_000 + n)), Ok(()));
            log.note(&refusal("10.0.0.1", Action::Tickets, 6_000 + n));
        }
        assert_eq!(log.check(addr, crate::time::from_epoch(6_010)), Err(50));
        assert_eq!(
            log.check("10.0.0.2".parse().ok(), crate::time::from_epoch(6_010)),
            Ok(())
        );
        assert_eq!(
            log.check(addr, crate::time::from_epoch(6_060)),
            Ok(()),
            "a new minute"
        );
    }
}
