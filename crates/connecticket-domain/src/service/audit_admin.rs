//! The operator's view of the audit trail: export with filters, chain
//! verification, retention.

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};

use super::AdminService;
use crate::audit::{AuditRecord, ChainCheck};
use crate::error::DomainResult;
use crate::store::RowStream;

/// Which entries an export keeps; unset fields match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub provider_id: Option<i64>,
    pub application_id: Option<i64>,
    pub resident_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
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
    }
}

impl AdminService {
    /// Every matching entry, in chain order.
    pub fn export_audit(&self, filter: AuditFilter) -> RowStream<AuditRecord> {
        Box::pin(self.store.audit_entries().map(move |chunk| {
            chunk.map(|records| {
                records
                    .into_iter()
                    .filter(|record| filter.matches(record))
                    .collect()
            })
        }))
    }

    /// Walks every chain; `Ok(n)` when all `n` entries are intact, `Err`
    /// naming the first break.
    pub async fn verify_audit(&self) -> DomainResult<Result<u64, String>> {
        let mut verified = 0;
        for anchor in self.store.audit_chains().await? {
            let mut check = ChainCheck::new(&anchor);
            // Every entry of the chain: those up to the anchor must chain;
            // any beyond it must be ones a writer appended meanwhile.
            let mut beyond = Vec::new();
            let mut entries = self.store.chain_entries(anchor.chain_id, i64::MAX);
            while let Some(chunk) = entries.try_next().await? {
                for record in &chunk {
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
        Ok(Ok(verified))
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

    /// Retention: removes entries older than `before`.
    pub async fn prune_audit(&self, before: DateTime<Utc>) -> DomainResult<u64> {
        Ok(self.store.prune_audit(before).await?)
    }
}
