//! The API's writes: validated here, then one store transaction that also
//! records the idempotency key and the audit entry.

use chrono::{DateTime, Duration, Utc};

use super::{entry_for, Connecticket, IDEMPOTENCY_WINDOW_HOURS};
use crate::audit::{Action, AuditEntry, RecordRef, RequestContext};
use crate::auth::Principal;
use crate::error::{DomainError, DomainResult};
use crate::params::RequestParams;
use crate::service::ticket_input::{parse_comment, parse_new_ticket, parse_status_update};
use crate::service::MAX_IDEMPOTENCY_KEY;
use crate::store::{IdempotencyClaim, WriteContext, Written};
use crate::time;

impl Connecticket {
    pub async fn create_ticket(
        &self,
        context: &RequestContext,
        principal: &Principal,
        params: &RequestParams,
        idempotency_key: Option<&str>,
    ) -> DomainResult<Written<i64>> {
        let mut entry = entry_for(context, Action::CreateTicket, principal);
        let result = async {
            let now = time::now();
            let ticket = parse_new_ticket(params, principal, now)?;
            entry.touch(RecordRef::Resident(ticket.resident_id));
            let write = self.write_context(principal, params, idempotency_key, now, &entry)?;
            Ok(self
                .store
                .create_ticket(principal.provider.id, ticket, write)
                .await?)
        }
        .await;
        self.finish_write(entry, result).await
    }

    pub async fn create_comment(
        &self,
        context: &RequestContext,
        principal: &Principal,
        params: &RequestParams,
        idempotency_key: Option<&str>,
    ) -> DomainResult<Written<i64>> {
        let mut entry = entry_for(context, Action::CreateComment, principal);
        let result = async {
            let now = time::now();
            let (ticket_id, comment) = parse_comment(params, principal)?;
            entry.touch(RecordRef::Ticket(ticket_id));
            if let Some(category_id) = comment.category_id {
                entry.touch(RecordRef::Category(category_id));
            }
            let write = self.write_context(principal, params, idempotency_key, now, &entry)?;
            Ok(self
                .store
                .create_comment(principal.provider.id, ticket_id, comment, now, write)
                .await?)
        }
        .await;
        self.finish_write(entry, result).await
    }

    pub async fn update_status(
        &self,
        context: &RequestContext,
        principal: &Principal,
        params: &RequestParams,
        idempotency_key: Option<&str>,
    ) -> DomainResult<Written<i64>> {
        let mut entry = entry_for(context, Action::UpdateStatus, principal);
        let result = async {
            let now = time::now();
            let update = parse_status_update(params, principal, now)?;
            entry.touch(RecordRef::Ticket(update.ticket_id));
            let write = self.write_context(principal, params, idempotency_key, now, &entry)?;
            Ok(self
                .store
                .update_status(principal.provider.id, update, write)
                .await?)
        }
        .await;
        self.finish_write(entry, result).await
    }

    /// A successful write recorded its own entry in its transaction; a
    /// failed one is recorded here.
    async fn finish_write(
        &self,
        entry: AuditEntry,
        result: DomainResult<Written<i64>>,
    ) -> DomainResult<Written<i64>> {
        match result {
            Ok(written) => Ok(written),
            Err(error) => self.finish(entry, Err(error)).await,
        }
    }

    /// The claim of the request's `Idempotency-Key` (its fingerprint covers
    /// the call and every parameter) and the audit entry to record.
    fn write_context(
        &self,
        principal: &Principal,
        params: &RequestParams,
        key: Option<&str>,
        now: DateTime<Utc>,
        entry: &AuditEntry,
    ) -> DomainResult<WriteContext> {
        let idempotency = match key {
            None => None,
            Some(key) => {
                if key.is_empty() || key.chars().count() > MAX_IDEMPOTENCY_KEY {
                    return Err(DomainError::invalid(format!(
                        "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
                    )));
                }
                Some(IdempotencyClaim {
                    application_id: principal.application_id,
                    key: key.to_owned(),
                    fingerprint: params.fingerprint(entry.action.as_str()),
                    now,
                    not_before: now - Duration::hours(IDEMPOTENCY_WINDOW_HOURS),
                })
            }
        };
        Ok(WriteContext {
            idempotency,
            audit: entry.clone(),
        })
    }
}
