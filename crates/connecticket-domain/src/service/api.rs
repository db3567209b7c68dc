use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::audited::{outcome_of, AuditedStream};
use super::throttle::{failure_scopes, window, ThrottleSettings, TokenBudgets};
use super::ticket_input::{parse_comment, parse_new_ticket, parse_status_update};
use super::{DEFAULT_PER_PAGE, MAX_IDEMPOTENCY_KEY, MAX_PER_PAGE};
use crate::audit::{Action, AuditEntry, Outcome, RecordRef, RequestContext};
use crate::auth::{
    constant_time_eq, generate_access_token, NewAccessToken, Principal, SecretHasher,
};
use crate::error::{DomainError, DomainResult, Entity};
use crate::model::{
    Attachment, Category, Page, Provider, Resident, Ticket, TicketDetail, TicketQuery,
};
use crate::params::{optional_id, parse_id, required_id, RequestParams};
use crate::store::{IdempotencyClaim, RowStream, Store, WriteContext, Written};
use crate::time::{self, parse_timestamp};
use crate::workflow::TicketStatus;

/// How long a write's `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;
/// Tokens longer than this cannot be ours; refuse them without hashing.
const MAX_TOKEN_LENGTH: usize = 128;

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

fn entry_for(context: &RequestContext, action: Action, principal: &Principal) -> AuditEntry {
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

    /// Checks an application's key and secret and issues an access token.
    /// Failed attempts are throttled per client address and per (api_key,
    /// client address).
    pub async fn authorize(
        &self,
        context: &RequestContext,
        api_key: Option<&str>,
        api_secret: Option<&str>,
    ) -> DomainResult<IssuedToken> {
        let mut entry = AuditEntry::new(context, Action::Authorize, Outcome::Success);
        let result = self
            .try_authorize(context, api_key, api_secret, &mut entry)
            .await;
        self.finish(entry, result).await
    }

    async fn try_authorize(
        &self,
        context: &RequestContext,
        api_key: Option<&str>,
        api_secret: Option<&str>,
        entry: &mut AuditEntry,
    ) -> DomainResult<IssuedToken> {
        let settings = &self.settings.throttle;
        let now = time::now();
        let (window_start, retry_after_secs) = window(now, settings.window_secs);
        let address = context
            .client_addr
            .map_or_else(|| "unknown".to_owned(), |addr| addr.to_string());
        let scopes = failure_scopes(api_key, &address);
        let failures = self.store.auth_failures(&scopes, window_start).await?;
        let limits = [
            settings.failures_per_address,
            settings.failures_per_key_and_address,
        ];
        if failures
            .iter()
            .zip(limits)
            .any(|(count, limit)| *count >= limit)
        {
            return Err(DomainError::RateLimited { retry_after_secs });
        }
        let application = match api_key {
            Some(key) => self.store.application_by_key(key).await?,
            None => None,
        };
        if let Some(application) = &application {
            entry.provider_id = Some(application.provider.id);
            entry.application_id = Some(application.application_id);
        }
        let verified = match (&application, api_secret) {
            (Some(application), Some(secret)) => {
                !application.revoked
                    && self
                        .hasher
                        .verify_api_secret(secret, &application.secret_hash)
            }
            _ => false,
        };
        let Some(application) = application.filter(|_| verified) else {
            self.store
                .record_auth_failure(scopes.to_vec(), window_start)
                .await?;
            return Err(DomainError::InvalidApiCredentials);
        };
        entry.employee_id = Some(application.employee_id);
        entry.touch(RecordRef::Application(application.application_id));
        let token = generate_access_token();
        let expires_at = now + self.settings.token_lifetime;
        self.store
            .insert_access_token(NewAccessToken {
                application_id: application.application_id,
                token_hash: self.hasher.hash_token(&token),
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(IssuedToken {
            token,
            provider: application.provider,
            expires_at,
        })
    }

    /// Establishes who calls: the token must be live and belong to the
    /// application whose key and secret came with the request, and within
    /// its request budget. A refusal is audited as `action`.
    pub async fn authenticate(
        &self,
        context: &RequestContext,
        action: Action,
        token: &str,
        api_key: Option<&str>,
        api_secret: Option<&str>,
    ) -> DomainResult<Principal> {
        let mut entry = AuditEntry::new(context, action, Outcome::Denied);
        match self
            .try_authenticate(token, api_key, api_secret, &mut entry)
            .await
        {
            Ok(principal) => {
                let spent =
                    self.budgets
                        .spend(principal.token_id, &self.settings.throttle, Utc::now());
                match spent {
                    Ok(()) => Ok(principal),
                    Err(retry_after_secs) => {
                        let entry = entry_for(context, action, &principal);
                        self.finish(entry, Err(DomainError::RateLimited { retry_after_secs }))
                            .await
                    }
                }
            }
            Err(error) => self.finish(entry, Err(error)).await,
        }
    }

    async fn try_authenticate(
        &self,
        token: &str,
        api_key: Option<&str>,
        api_secret: Option<&str>,
        entry: &mut AuditEntry,
    ) -> DomainResult<Principal> {
        let (Some(api_key), Some(api_secret)) = (api_key, api_secret) else {
            return Err(DomainError::InvalidCredentials);
        };
        if token.is_empty() || token.len() > MAX_TOKEN_LENGTH {
            return Err(DomainError::InvalidCredentials);
        }
        let record = self
            .store
            .access_token(&self.hasher.hash_token(token))
            .await?;
        let Some(record) = record else {
            return Err(DomainError::InvalidCredentials);
        };
        let application = record.application;
        entry.provider_id = Some(application.provider.id);
        entry.application_id = Some(application.application_id);
        let key_matches = constant_time_eq(api_key.as_bytes(), application.api_key.as_bytes());
        let secret_matches = self
            .hasher
            .verify_api_secret(api_secret, &application.secret_hash);
        let live = !record.revoked && !application.revoked && record.expires_at > Utc::now();
        if !(key_matches && secret_matches && live) {
            return Err(DomainError::InvalidCredentials);
        }
        Ok(Principal {
            provider: application.provider,
            application_id: application.application_id,
            employee_id: application.employee_id,
            token_id: record.token_id,
        })
    }

    /// Streams the provider's tickets; the audit entry, with every ticket
    /// and resident id sent, is written when the stream ends.
    pub async fn tickets(
        &self,
        context: &RequestContext,
        principal: &Principal,
        params: &RequestParams,
    ) -> DomainResult<ListRequest<Ticket>> {
        let mut entry = entry_for(context, Action::Tickets, principal);
        let query = match ticket_query(params) {
            Ok(query) => query,
            Err(error) => return self.finish(entry, Err(error)).await,
        };
        if let Some(resident_id) = query.resident_id {
            entry.touch(RecordRef::Resident(resident_id));
        }
        let rows = self.store.tickets(principal.provider.id, query.clone());
        Ok(ListRequest {
            page: query.page,
            rows: AuditedStream::wrap(rows, Arc::clone(&self.store), entry, |ticket: &Ticket| {
                [
                    RecordRef::Ticket(ticket.id),
                    RecordRef::Resident(ticket.resident_id),
                ]
            }),
        })
    }

    pub async fn residents(
        &self,
        context: &RequestContext,
        principal: &Principal,
        params: &RequestParams,
    ) -> DomainResult<ListRequest<Resident>> {
        let entry = entry_for(context, Action::AllResidents, principal);
        let page = match parse_page(params) {
            Ok(page) => page,
            Err(error) => return self.finish(entry, Err(error)).await,
        };
        let rows = self.store.residents(principal.provider.id, page);
        Ok(ListRequest {
            page,
            rows: AuditedStream::wrap(
                rows,
                Arc::clone(&self.store),
                entry,
                |resident: &Resident| [RecordRef::Resident(resident.id)],
            ),
        })
    }

    pub async fn categories(
        &self,
        context: &RequestContext,
        principal: &Principal,
    ) -> DomainResult<Vec<Category>> {
        let mut entry = entry_for(context, Action::ProviderCategories, principal);
        let result = self.store.categories(principal.provider.id).await;
        if let Ok(categories) = &result {
            for category in categories {
                entry.touch(RecordRef::Category(category.id));
            }
        }
        self.finish(entry, result.map_err(DomainError::from)).await
    }

    pub async fn ticket_detail(
        &self,
        context: &RequestContext,
        principal: &Principal,
        params: &RequestParams,
    ) -> DomainResult<TicketDetail> {
        let mut entry = entry_for(context, Action::TicketDetail, principal);
        let result = async {
            let id = required_id(params, "id")?;
            entry.touch(RecordRef::Ticket(id));
            let detail = self
                .store
                .ticket_detail(principal.provider.id, id)
                .await?
                .ok_or(DomainError::NotFound(Entity::Ticket))?;
            entry.touch(RecordRef::Resident(detail.ticket.resident_id));
            for attachment in &detail.attachments {
                entry.touch(RecordRef::Attachment(attachment.id));
            }
            Ok(detail)
        }
        .await;
        self.finish(entry, result).await
    }

    /// `id` comes from the path, so a malformed one names no attachment.
    pub async fn attachment(
        &self,
        context: &RequestContext,
        principal: &Principal,
        id: &str,
    ) -> DomainResult<Attachment> {
        let mut entry = entry_for(context, Action::Attachment, principal);
        let result = async {
            let id = parse_id("id", id).map_err(|_| DomainError::NotFound(Entity::Attachment))?;
            entry.touch(RecordRef::Attachment(id));
            let attachment = self
                .store
                .attachment(principal.provider.id, id)
                .await?
                .ok_or(DomainError::NotFound(Entity::Attachment))?;
            entry.touch(RecordRef::Ticket(attachment.ticket_id));
            entry.touch(RecordRef::Resident(attachment.resident_id));
            Ok(attachment)
        }
        .await;
        self.finish(entry, result).await
    }

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
            let write = self.write_context(
                principal,
                params,
                "create_ticket",
                idempotency_key,
                now,
                &entry,
            )?;
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
            let write = self.write_context(
                principal,
                params,
                "create_comment",
                idempotency_key,
                now,
                &entry,
            )?;
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
            let write = self.write_context(
                principal,
                params,
                "update_status",
                idempotency_key,
                now,
                &entry,
            )?;
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

    fn write_context(
        &self,
        principal: &Principal,
        params: &RequestParams,
        action: &str,
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
                    fingerprint: params.fingerprint(action),
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

fn ticket_query(params: &RequestParams) -> DomainResult<TicketQuery> {
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
fn parse_page(params: &RequestParams) -> DomainResult<Option<Page>> {
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
