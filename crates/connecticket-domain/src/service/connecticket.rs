//! The service every surface holds: its store, keys, settings and the
//! in-memory state of throttles and refusals. Its use cases live in the
//! modules of their capability.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::access::{ThrottleSettings, TokenBudgets};
use crate::audit::{Action, AuditEntry, Outcome, RequestContext};
use crate::auth::{Principal, SecretHasher};
use crate::clock::SharedClock;
use crate::model::{Page, Provider};
use crate::store::{RowStream, Store};

/// Settings of the use cases.
#[derive(Debug, Clone, Copy)]
pub struct ApiSettings {
    pub token_lifetime: Duration,
    /// Unrevoked tokens an application keeps; authorizing beyond this
    /// revokes its oldest.
    pub live_tokens_per_application: u32,
    pub throttle: ThrottleSettings,
    /// Which webhook endpoint URLs may be registered.
    pub webhook_urls: crate::events::webhooks::UrlPolicy,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            token_lifetime: Duration::hours(24),
            live_tokens_per_application: 100,
            throttle: ThrottleSettings::default(),
            webhook_urls: crate::events::webhooks::UrlPolicy::default(),
        }
    }
}

/// The use cases. Every call, allowed or not, leaves one audit entry.
pub struct Connecticket {
    pub(super) store: Arc<dyn Store>,
    /// Where entries go, now or (refusals') later.
    pub(super) audit: super::audit::AuditSink,
    pub(super) hasher: SecretHasher,
    pub(super) settings: ApiSettings,
    pub(super) budgets: TokenBudgets,
    pub(super) tokens: super::access::TokenCache,
    pub(super) clock: SharedClock,
    /// Checks the SMS gateway's callbacks; none: every callback refused.
    pub(super) gateway: Option<Arc<dyn crate::notify::GatewaySignature>>,
    /// What the notification transports last did.
    pub(super) transports: Option<Arc<crate::notify::TransportHealth>>,
    /// Password hashing, a few at a time (anyone can ask for one).
    pub(super) passwords: crate::console::password::HashingGate,
    /// Turns of sign-in and authorize attempts per narrow scope.
    pub(super) attempt_locks: super::access::AttemptLocks,
    /// Refusals of requests nobody could be named for, audited in
    /// aggregate.
    pub(super) refusals: super::audit::RefusalLog,
}

/// What a partner application presents: its token (from the path) and its
/// key and secret (from headers). Any may be missing.
#[derive(Clone, Copy, Default)]
pub struct ApiCredentials<'a> {
    pub token: Option<&'a str>,
    pub api_key: Option<&'a str>,
    pub api_secret: Option<&'a str>,
}

impl std::fmt::Debug for ApiCredentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCredentials")
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub provider: Provider,
    pub expires_at: DateTime<Utc>,
}

/// A list call's paging (echoed in the envelope) and its rows.
pub struct ListRequest<T> {
    pub page: Option<Page>,
    pub rows: RowStream<T>,
}

pub(super) fn entry_for(
    context: &RequestContext,
    action: Action,
    principal: &Principal,
    at: DateTime<Utc>,
) -> AuditEntry {
    let mut entry = AuditEntry::new(context, action, Outcome::Success, at);
    entry.provider_id = Some(principal.provider.id);
    entry.application_id = principal.application_id();
    entry.employee_id = Some(principal.employee_id);
    entry
}

impl Connecticket {
    pub fn new(
        store: Arc<dyn Store>,
        hasher: SecretHasher,
        settings: ApiSettings,
        clock: SharedClock,
    ) -> Self {
        Connecticket {
            audit: super::audit::AuditSink::new(Arc::clone(&store)),
            store,
            hasher,
            settings,
            budgets: TokenBudgets::default(),
            tokens: super::access::TokenCache::default(),
            clock,
            gateway: None,
            transports: None,
            passwords: crate::console::password::HashingGate::for_this_machine(),
            attempt_locks: super::access::AttemptLocks::default(),
            refusals: super::audit::RefusalLog::new(
                settings.throttle.anonymous_refusals_per_minute,
            ),
        }
    }

    /// Audits a refusal: one of someone nobody could name is counted into
    /// the next aggregate entry (`flush_refusals`); any other is appended
    /// as it is, without holding up the answer.
    pub(super) fn audit_refusal(&self, entry: AuditEntry) {
        if super::audit::is_anonymous_refusal(&entry) {
            self.refusals.note(&entry);
            return;
        }
        self.audit.append_later(entry);
    }

    /// Audits `entry` as refused with `error`, and answers the error.
    pub(super) fn refuse<T>(
        &self,
        mut entry: AuditEntry,
        error: crate::error::DomainError,
    ) -> crate::error::DomainResult<T> {
        entry.outcome = Outcome::of_error(&error);
        self.audit_refusal(entry);
        Err(error)
    }

    /// Refuses at once (429) a source refused more than its share of times
    /// this minute, before anything is looked up for it; the refusal is
    /// counted under `action`.
    pub(super) fn refuse_a_guesser(
        &self,
        context: &RequestContext,
        action: Action,
    ) -> crate::error::DomainResult<()> {
        match self.refusals.check(context.client_addr, self.now()) {
            Ok(()) => Ok(()),
            Err(retry_after_secs) => {
                let entry = AuditEntry::new(context, action, Outcome::RateLimited, self.now());
                self.refuse(
                    entry,
                    crate::error::DomainError::RateLimited { retry_after_secs },
                )
            }
        }
    }

    /// Writes the aggregate entries of the refusals counted since the last
    /// time; answers how many entries. The server calls it every minute
    /// and when it stops.
    pub async fn flush_refusals(&self) -> crate::error::StoreResult<usize> {
        let entries = self.refusals.drain();
        let count = entries.len();
        for entry in entries {
            self.store.append_audit(entry).await?;
        }
        Ok(count)
    }

    pub(crate) fn hasher(&self) -> &SecretHasher {
        &self.hasher
    }

    /// Writes records, ids kept, into an empty database in one transaction
    /// (the demo seed, whose records carry their own audit trail).
    pub(crate) async fn import_records(
        &self,
        records: Vec<crate::transfer::Record>,
    ) -> crate::error::DomainResult<u64> {
        let stream = futures::stream::once(async move { Ok(records) });
        Ok(self.store.import(Box::pin(stream)).await?)
    }

    /// A provider as stored, unaudited: only its name and zone, which are
    /// not patient data (for the demo seed's check).
    pub(crate) async fn stored_provider(
        &self,
        id: crate::model::ProviderId,
    ) -> crate::error::DomainResult<Option<Provider>> {
        Ok(self.store.provider(id).await?)
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
