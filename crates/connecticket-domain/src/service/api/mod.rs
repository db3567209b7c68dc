//! The published API's use cases: authentication (`auth`), reads (`reads`)
//! and writes (`writes`). Every call, allowed or not, leaves one audit entry.

mod auth;
mod reads;
mod writes;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::audited::outcome_of;
use super::throttle::{ThrottleSettings, TokenBudgets};
use super::{DEFAULT_PER_PAGE, MAX_PER_PAGE};
use crate::audit::{Action, AuditEntry, Outcome, RequestContext};
use crate::auth::{Principal, SecretHasher};
use crate::error::{DomainError, DomainResult};
use crate::model::{Page, Provider, TicketQuery};
use crate::params::{optional_id, RequestParams};
use crate::store::{RowStream, Store};
use crate::time::parse_timestamp;
use crate::workflow::TicketStatus;

/// How long a write's `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;
/// Tokens longer than this cannot be ours; refuse them without hashing.
pub(super) const MAX_TOKEN_LENGTH: usize = 128;

/// Settings of the API's use cases.
#[derive(Debug, Clone, Copy)]
pub struct ApiSettings {
    pub token_lifetime: Duration,
    pub throttle: ThrottleSettings,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            token_lifetime: Duration::hours(24),
            throttle: ThrottleSettings::default(),
        }
    }
}

/// The published API's use cases. Every call, allowed or not, leaves one
/// audit entry.
pub struct Connecticket {
    store: Arc<dyn Store>,
    hasher: SecretHasher,
    settings: ApiSettings,
    budgets: TokenBudgets,
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
) -> AuditEntry {
    let mut entry = AuditEntry::new(context, action, Outcome::Success);
    entry.provider_id = Some(principal.provider.id);
    entry.application_id = Some(principal.application_id);
    entry.employee_id = Some(principal.employee_id);
    entry
}

impl Connecticket {
    pub fn new(store: Arc<dyn Store>, hasher: SecretHasher, settings: ApiSettings) -> Self {
        Connecticket {
            store,
            hasher,
            settings,
            budgets: TokenBudgets::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Records `entry` with the outcome of `result`. An audit that cannot be
    /// written fails a call that would have succeeded: no PHI leaves
    /// unrecorded.
    async fn finish<T>(&self, mut entry: AuditEntry, result: DomainResult<T>) -> DomainResult<T> {
        entry.outcome = outcome_of(&result);
        match self.store.append_audit(entry).await {
            Ok(()) => result,
            Err(error) => {
                tracing::error!(%error, "could not record an audit entry");
                result.and(Err(DomainError::Storage(error)))
            }
        }
    }
}

pub(super) fn ticket_query(params: &RequestParams) -> DomainResult<TicketQuery> {
    let ticket_status = params
        .non_blank("ticket_status")
        .map(|text| TicketStatus::parse(text).ok_or_else(|| invalid_status("ticket_status")))
        .transpose()?;
    let updated_since = params
        .non_blank("updated_since")
        .map(|text| {
            parse_timestamp(text).ok_or_else(|| {
                DomainError::invalid(
                    "updated_since must be a timestamp like 2016/02/12 03:00:34 -0800",
                )
            })
        })
        .transpose()?;
    Ok(TicketQuery {
        ticket_status,
        resident_id: optional_id(params, "resident_id")?,
        updated_since,
        page: parse_page(params)?,
    })
}

fn invalid_status(name: &str) -> DomainError {
    DomainError::invalid(format!(
        "{name} must be one of: {}",
        TicketStatus::valid_list()
    ))
}

/// `page`/`per_page`/`after_id`; none of them means the whole list.
pub(super) fn parse_page(params: &RequestParams) -> DomainResult<Option<Page>> {
    let number = positive_u32(params, "page")?;
    let per_page = positive_u32(params, "per_page")?;
    let after_id = optional_id(params, "after_id")?;
    if number.is_none() && per_page.is_none() && after_id.is_none() {
        return Ok(None);
    }
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if per_page > MAX_PER_PAGE {
        return Err(DomainError::invalid(format!(
            "per_page must be at most {MAX_PER_PAGE}"
        )));
    }
    Ok(Some(Page {
        number: number.unwrap_or(1),
        per_page,
        after_id,
    }))
}

fn positive_u32(params: &RequestParams, name: &str) -> DomainResult<Option<u32>> {
    params
        .non_blank(name)
        .map(|text| match text.trim().parse::<u32>() {
            Ok(value) if value > 0 => Ok(value),
            _ => Err(DomainError::invalid(format!(
                "{name} must be a positive integer"
            ))),
        })
        .transpose()
}
