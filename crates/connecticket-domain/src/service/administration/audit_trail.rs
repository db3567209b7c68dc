//! The audit trail as administrators read it (a provider's own entries,
//! on a page or exported whole) and as operators keep it (verifying every
//! chain, pruning by retention). Reading and keeping it are audited too.

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};

use super::{AdminCall, OperatorCall};
use crate::audit::{Action, AuditRecord, ChainCheck, ChainLoss};
use crate::error::DomainResult;
use crate::service::audit::Recorded;
use crate::service::Connecticket;
use crate::store::RowStream;

/// The most entries the audit page shows (the newest); the export has all.
pub const AUDIT_PAGE_LIMIT: usize = 500;

/// Which entries an export keeps; unset fields match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub provider_id: Option<i64>,
    pub application_id: Option<i64>,
    pub resident_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only entries made by these employees or applications (a search by
    /// name, resolved to ids by the surface).
    pub by: Option<Actors>,
}

/// Who made the entries wanted.
#[derive(Debug, Clone, Default)]
pub struct Actors {
    pub employees: std::collections::BTreeSet<i64>,
    pub applications: std::collections::BTreeSet<i64>,
}

/// What `audit verify` found on an intact trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    pub entries: u64,
    /// Entries committed before a database failover that the database no
    /// longer holds (asynchronous replication), as their writers recorded.
    pub losses: Vec<ChainLoss>,
}

impl Actors {
    fn made(&self, record: &AuditRecord) -> bool {
        record
            .employee_id
            .is_some_and(|id| self.employees.contains(&id))
            || record
                .application_id
                .is_some_and(|id| self.applications.contains(&id))
    }
}

impl AuditFilter {
    pub fn matches(&self, record: &AuditRecord) -> bool {
        let touched = |kind: &str, id: Option<i64>| {
            id.is_none_or(|id| record.records.iter().any(|r| *r == format!("{kind}:{id}")))
        };
        self.provider_id
            .is_none_or(|id| record.provider_id == Some(id))
            && self
                .application_id
                .is_none_or(|id| record.application_id == Some(id))
            && self.since.is_none_or(|since| record.at >= since)
            && self.until.is_none_or(|until| record.at < until)
            && touched("resident", self.resident_id)
            && touched("ticket", self.ticket_id)
            && self.by.as_ref().is_none_or(|by| by.made(record))
    }
}

impl Connecticket {
    /// The newest entries that match, at most `AUDIT_PAGE_LIMIT`, newest
    /// first. A call for one provider sees only that provider's.
    pub async fn audit_page(
        &self,
        call: AdminCall,
        filter: AuditFilter,
    ) -> DomainResult<Vec<AuditRecord>> {
        self.administrate(
            call,
            Action::AuditTrail,
            Recorded::Afterwards,
            async |scope, entry| {
                let filter = AuditFilter {
                    provider_id: scope.limited_to().map(|p| p.get()).or(filter.provider_id),
                    ..filter
                };
                let mut newest = std::collections::VecDeque::with_capacity(AUDIT_PAGE_LIMIT);
                let mut entries = self.store.audit_entries();
                while let Some(chunk) = entries.try_next().await? {
                    for record in chunk.into_iter().filter(|r| filter.matches(r)) {
                        if newest.len() == AUDIT_PAGE_LIMIT {
                            newest.pop_front();
                        }
                        newest.push_back(record);
                    }
                }
                entry.records.insert(format!("rows:{}", newest.len()));
                Ok(newest.into_iter().rev().collect())
            },
        )
        .await
    }

    /// Every entry that matches, in the order written, streamed. A call
    /// for one provider sees only that provider's. (An empty trail
    /// discloses nothing: exporting it records nothing, and a fresh
    /// database stays fresh.)
    pub async fn export_audit(
        &self,
        call: impl Into<AdminCall>,
        filter: AuditFilter,
    ) -> DomainResult<RowStream<AuditRecord>> {
        self.administrate(
            call,
            Action::AuditTrail,
            Recorded::WhenDisclosed,
            async |scope, entry| {
                entry.records.insert("export".to_owned());
                let chains = self.store.audit_chains().await?;
                let written = chains.iter().any(|chain| chain.last_seq > 0);
                if written || scope.limited_to().is_some() {
                    self.record(entry.clone(), Ok(())).await?;
                }
                let filter = AuditFilter {
                    provider_id: scope.limited_to().map(|p| p.get()).or(filter.provider_id),
                    ..filter
                };
                let rows: RowStream<AuditRecord> =
                    Box::pin(self.store.audit_entries().map(move |chunk| {
                        chunk.map(|records| {
                            records.into_iter().filter(|r| filter.matches(r)).collect()
                        })
                    }));
                Ok(rows)
            },
        )
        .await
    }

    /// Walks every chain; `Ok(n)` when all `n` entries are intact, `Err`
    /// naming the first break.
    pub async fn verify_audit(&self, call: OperatorCall) -> DomainResult<Result<u64, String>> {
        let report = self.verify_audit_report(call).await?;
        Ok(report.map(|verified| verified.entries))
    }

    /// Walks every chain; `Ok` when all entries are intact, with the
    /// entries a database failover lost (recorded by the writers that
    /// found the loss: not tampering, but worth knowing), `Err` naming the
    /// first break. (The verification's own entry is written after it, so
    /// it is never part of what it checked.)
    pub async fn verify_audit_report(
        &self,
        call: OperatorCall,
    ) -> DomainResult<Result<AuditVerification, String>> {
        self.administrate(
            call,
            Action::AuditTrail,
            Recorded::WhenDisclosed,
            async |_, entry| {
                let verdict = self.walk_chains().await?;
                entry.records.insert(match &verdict {
                    Ok(verified) => format!("verified:{}", verified.entries),
                    Err(_) => "verified:broken".to_owned(),
                });
                // An empty trail: nothing was read, and nothing recorded.
                if verdict
                    .as_ref()
                    .map_or(true, |verified| verified.entries > 0)
                {
                    self.record(entry.clone(), Ok(())).await?;
                }
                Ok(verdict)
            },
        )
        .await
    }

    /// Retention: removes entries older than `before`; answers how many.
    pub async fn prune_audit(
        &self,
        call: OperatorCall,
        before: DateTime<Utc>,
    ) -> DomainResult<u64> {
        self.administrate(
            call,
            Action::PruneAudit,
            Recorded::ByTheWrite,
            async |_, entry| {
                entry
                    .records
                    .insert(format!("before:{}", before.timestamp()));
                Ok(self.store.prune_audit(before, entry.clone()).await?)
            },
        )
        .await
    }

    /// Walks every chain; `Ok(n)` when all `n` entries are intact, `Err`
    /// naming the first break.
    async fn walk_chains(&self) -> DomainResult<Result<AuditVerification, String>> {
        let mut verified = 0;
        let mut losses = Vec::new();
        for anchor in self.store.audit_chains().await? {
            let mut check = ChainCheck::new(&anchor);
            // Every entry of the chain: those up to the anchor must chain;
            // any beyond it must be ones a writer appended meanwhile.
            let mut beyond = Vec::new();
            let mut entries = self.store.chain_entries(anchor.chain_id, i64::MAX);
            while let Some(chunk) = entries.try_next().await? {
                for record in &chunk {
                    losses.extend(ChainLoss::from_record(record));
                    if record.seq > anchor.last_seq {
                        beyond.push(record.seq);
                    } else if let Err(broken) = check.next(record) {
                        return Ok(Err(broken));
                    }
                }
            }
            match check.finish(&anchor) {
                Ok(count) => verified += count,
                Err(broken) => return Ok(Err(broken)),
            }
            if let Some(intruder) = self.beyond_the_end(&anchor, &beyond).await? {
                return Ok(Err(intruder));
            }
        }
        Ok(Ok(AuditVerification {
            entries: verified,
            losses,
        }))
    }

    /// Entries past a chain's head that its anchor, read again now, still
    /// does not cover: nobody appended those through the store.
    async fn beyond_the_end(
        &self,
        anchor: &crate::audit::ChainAnchor,
        beyond: &[i64],
    ) -> DomainResult<Option<String>> {
        if beyond.is_empty() {
            return Ok(None);
        }
        let now = self.store.audit_chains().await?;
        let head = now
            .iter()
            .find(|chain| chain.chain_id == anchor.chain_id)
            .map_or(anchor.last_seq, |chain| chain.last_seq);
        Ok(beyond.iter().find(|seq| **seq > head).map(|seq| {
            format!(
                "chain {}: entry {seq} lies beyond the chain's end: entries are missing or were inserted",
                anchor.chain_id
            )
        }))
    }
}
