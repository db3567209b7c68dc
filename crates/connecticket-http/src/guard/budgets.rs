//! Concurrency budgets: how many requests may be in flight at once, in all,
//! per route class, per client address and per provider, so that no
//! anonymous crowd and no single client or tenant can take what the others
//! need. Every budget is taken without waiting (a request over one is
//! answered at once) and given back when the answer's last byte is sent.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use connecticket_domain::model::ProviderId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::HttpError;
use crate::state::Limits;

/// In-flight requests counted per key, each key up to `limit`.
pub(crate) struct KeyedBudget<K> {
    limit: usize,
    counts: Mutex<HashMap<K, usize>>,
}

impl<K: Hash + Eq + Clone> KeyedBudget<K> {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(KeyedBudget {
            limit: limit.max(1),
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `key`, unless `key` already holds `limit` of them.
    pub(crate) fn try_take(self: &Arc<Self>, key: K) -> Option<KeyedPermit<K>> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(key.clone()).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(KeyedPermit {
            budget: Arc::clone(self),
            key,
        })
    }

    #[cfg(test)]
    fn held(&self, key: &K) -> usize {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.get(key).copied().unwrap_or(0)
    }
}

/// One slot of a [`KeyedBudget`], given back when dropped.
pub(crate) struct KeyedPermit<K: Hash + Eq> {
    budget: Arc<KeyedBudget<K>>,
    key: K,
}

impl<K: Hash + Eq> Drop for KeyedPermit<K> {
    fn drop(&mut self) {
        let mut counts = self
            .budget
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Which budget a route draws on, known from its path alone (before any
/// work is done for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RouteClass {
    /// `/health`, `/healthz`, `/readyz`: never wait behind anyone, so that
    /// a load balancer sees a live process as live under any load.
    Health,
    /// Reachable without credentials: authorize, sign-in and invitation
    /// forms, board displays' pairing links, acknowledgment links, the SMS gateway's callbacks, the docs.
    Anonymous,
    /// Calls that carry a token or a console session.
    Authenticated,
}

impl RouteClass {
    pub(crate) fn of(path: &str) -> RouteClass {
        match path {
            "/health" | "/healthz" | "/readyz" => return RouteClass::Health,
            "/api/authorize" | "/console/sign-in" => return RouteClass::Anonymous,
            _ => {}
        }
        let fhir_anonymous = path.starts_with("/fhir/R4/auth/")
            || path.starts_with("/fhir/R4/metadata")
            || path.starts_with("/fhir/R4/.well-known/");
        let authenticated = (path.starts_with("/api/") && path.len() > "/api/".len())
            || (path.starts_with("/fhir/") && !fhir_anonymous)
            || (path.starts_with("/console")
                && !path.starts_with("/console/invite/")
                && !path.starts_with("/console/display/pair/")
                && !path.starts_with("/console/assets/"));
        if authenticated {
            RouteClass::Authenticated
        } else {
            RouteClass::Anonymous
        }
    }
}

/// Client addresses are counted as themselves (IPv4) or by their /64
/// (IPv6), the block one subscriber is usually given: an attacker does
/// not get a fresh budget from every address of its own block.
pub(crate) fn address_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::from(octets)
            }
        },
    }
}

/// Every budget of one server.
pub(crate) struct Budgets {
    all: Arc<Semaphore>,
    anonymous: Arc<Semaphore>,
    per_address: Arc<KeyedBudget<IpAddr>>,
    /// Requests without credentials per address: far below the share of
    /// all of them, so that no one address holds that share.
    anonymous_per_address: Arc<KeyedBudget<IpAddr>>,
    per_provider: Arc<KeyedBudget<ProviderId>>,
}

/// What a request holds while it runs: released with the last byte of its
/// answer.
pub(crate) struct Held {
    _all: OwnedSemaphorePermit,
    _class: Option<OwnedSemaphorePermit>,
    _address: Option<KeyedPermit<IpAddr>>,
    _anonymous_address: Option<KeyedPermit<IpAddr>>,
}

impl Budgets {
    pub(crate) fn new(limits: &Limits) -> Self {
        Budgets {
            all: Arc::new(Semaphore::new(limits.max_concurrent_requests.max(1))),
            anonymous: Arc::new(Semaphore::new(limits.max_concurrent_anonymous.max(1))),
            per_address: KeyedBudget::new(limits.max_concurrent_per_address),
            anonymous_per_address: KeyedBudget::new(limits.max_concurrent_anonymous_per_address),
            per_provider: KeyedBudget::new(limits.max_concurrent_per_provider),
        }
    }

    /// Takes what a request of `class` from `addr` needs, or says which
    /// budget it is over. (Health checks take nothing.)
    pub(crate) fn admit(
        &self,
        class: RouteClass,
        addr: Option<IpAddr>,
    ) -> Result<Option<Held>, HttpError> {
        if class == RouteClass::Health {
            return Ok(None);
        }
        let address = match addr {
            Some(addr) => Some(self.per_address.try_take(address_key(addr)).ok_or(
                HttpError::TooManyInFlight(
                    "too many requests from your address are in flight; retry shortly",
                ),
            )?),
            None => None,
        };
        let anonymous_address = match (class, addr) {
            (RouteClass::Anonymous, Some(addr)) => Some(
                self.anonymous_per_address
                    .try_take(address_key(addr))
                    .ok_or(HttpError::TooManyInFlight(
                        "too many requests from your address are in flight; retry shortly",
                    ))?,
            ),
            _ => None,
        };
        let class = match class {
            RouteClass::Anonymous => Some(Arc::clone(&self.anonymous).try_acquire_owned().map_err(
                |_| HttpError::Overloaded("the server is at its limit of requests without credentials; retry shortly"),
            )?),
            _ => None,
        };
        let all = Arc::clone(&self.all).try_acquire_owned().map_err(|_| {
            HttpError::Overloaded(
                "the server is at its limit of concurrent requests; retry shortly",
            )
        })?;
        Ok(Some(Held {
            _all: all,
            _class: class,
            _address: address,
            _anonymous_address: anonymous_address,
        }))
    }

    /// A slot of `provider`'s share, taken once a request is known to be
    /// the provider's (after authentication).
    pub(crate) fn provider_slot(
        &self,
        provider: ProviderId,
    ) -> Result<KeyedPermit<ProviderId>, HttpError> {
        self.per_provider
            .try_take(provider)
            .ok_or(HttpError::TooManyInFlight(
                "too many requests of your organisation are in flight; retry shortly",
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyed_budget_counts_per_key_and_gives_back_on_drop() {
        let budget = KeyedBudget::new(2);
        let first = budget.try_take("a").expect("first");
        let _second = budget.try_take("a").expect("second");
        assert!(budget.try_take("a").is_none(), "a third is over the limit");
        let _other = budget.try_take("b").expect("another key has its own");
        drop(first);
        assert_eq!(budget.held(&"a"), 1);
        assert!(budget.try_take("a").is_some());
    }

    #[test]
    fn routes_fall_into_classes_by_path() {
        assert_eq!(RouteClass::of("/healthz"), RouteClass::Health);
        assert_eq!(RouteClass::of("/readyz"), RouteClass::Health);
        assert_eq!(RouteClass::of("/api/authorize"), RouteClass::Anonymous);
        assert_eq!(RouteClass::of("/sms/inbound"), RouteClass::Anonymous);
        assert_eq!(RouteClass::of("/ack/abc"), RouteClass::Anonymous);
        assert_eq!(RouteClass::of("/console/sign-in"), RouteClass::Anonymous);
        assert_eq!(RouteClass::of("/console/invite/x"), RouteClass::Anonymous);
        assert_eq!(
            RouteClass::of("/console/display/pair/x"),
            RouteClass::Anonymous
        );
        assert_eq!(RouteClass::of("/metrics"), RouteClass::Anonymous);
        assert_eq!(
            RouteClass::of("/api/tok/tickets"),
            RouteClass::Authenticated
        );
        assert_eq!(RouteClass::of("/console"), RouteClass::Authenticated);
        assert_eq!(
            RouteClass::of("/console/tickets/1"),
            RouteClass::Authenticated
        );
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(address_key(one), address_key(other));
        assert_ne!(address_key(one), address_key(elsewhere));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().expect("ip");
        assert_eq!(
            address_key(mapped),
            "10.0.0.1".parse::<IpAddr>().expect("ip")
        );
    }
}
