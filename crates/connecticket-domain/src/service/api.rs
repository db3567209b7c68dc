use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::ticket_input::{parse_comment, parse_new_ticket, parse_status_update};
use super::{DEFAULT_PER_PAGE, MAX_IDEMPOTENCY_KEY, MAX_PER_PAGE};
use crate::auth::{
    constant_time_eq, generate_access_token, NewAccessToken, Principal, SecretHasher,
};
use crate::error::{DomainError, DomainResult, Entity};
use crate::model::{
    Attachment, Category, Page, Provider, Resident, Ticket, TicketDetail, TicketQuery,
};
use crate::params::{optional_id, parse_id, required_id, RequestParams};
use crate::store::{IdempotencyClaim, RowStream, Store, Written};
use crate::time::{self, parse_timestamp};
use crate::workflow::TicketStatus;

/// How long a write's `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;
/// Tokens longer than this cannot be ours; refuse them without hashing.
const MAX_TOKEN_LENGTH: usize = 128;

/// The published API's use cases.
pub struct Connecticket {
    store: Arc<dyn Store>,
    hasher: SecretHasher,
    token_lifetime: Duration,
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

impl Connecticket {
    pub fn new(store: Arc<dyn Store>, hasher: SecretHasher, token_lifetime: Duration) -> Self {
        Connecticket {
            store,
            hasher,
            token_lifetime,
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Checks an application's key and secret and issues an access token.
    pub async fn authorize(
        &self,
        api_key: Option<&str>,
        api_secret: Option<&str>,
    ) -> DomainResult<IssuedToken> {
        let (Some(api_key), Some(api_secret)) = (api_key, api_secret) else {
            return Err(DomainError::InvalidApiCredentials);
        };
        let application = self.store.application_by_key(api_key).await?;
        let Some(application) = application else {
            return Err(DomainError::InvalidApiCredentials);
        };
        if application.revoked
            || !self
                .hasher
                .verify_api_secret(api_secret, &application.secret_hash)
        {
            return Err(DomainError::InvalidApiCredentials);
        }
        let token = generate_access_token();
        let now = time::now();
        let expires_at = now + self.token_lifetime;
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
    /// application whose key and secret came with the request.
    pub async fn authenticate(
        &self,
        token: &str,
        api_key: Option<&str>,
        api_secret: Option<&str>,
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

    pub fn tickets(
        &self,
        principal: &Principal,
        params: &RequestParams,
    ) -> DomainResult<ListRequest<Ticket>> {
        let page = parse_page(params)?;
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
        let query = TicketQuery {
            ticket_status,
            resident_id: optional_id(params, "resident_id")?,
            updated_since,
            page,
        };
        Ok(ListRequest {
            page,
            rows: self.store.tickets(principal.provider.id, query),
        })
    }

    pub fn residents(
        &self,
        principal: &Principal,
        params: &RequestParams,
    ) -> DomainResult<ListRequest<Resident>> {
        let page = parse_page(params)?;
        Ok(ListRequest {
            page,
            rows: self.store.residents(principal.provider.id, page),
        })
    }

    pub async fn categories(&self, principal: &Principal) -> DomainResult<Vec<Category>> {
        Ok(self.store.categories(principal.provider.id).await?)
    }

    pub async fn ticket_detail(
        &self,
        principal: &Principal,
        params: &RequestParams,
    ) -> DomainResult<TicketDetail> {
        let id = required_id(params, "id")?;
        self.store
            .ticket_detail(principal.provider.id, id)
            .await?
            .ok_or(DomainError::NotFound(Entity::Ticket))
    }

    /// `id` comes from the path, so a malformed one names no attachment.
    pub async fn attachment(&self, principal: &Principal, id: &str) -> DomainResult<Attachment> {
        let id = parse_id("id", id).map_err(|_| DomainError::NotFound(Entity::Attachment))?;
        self.store
            .attachment(principal.provider.id, id)
            .await?
            .ok_or(DomainError::NotFound(Entity::Attachment))
    }

    pub async fn create_ticket(
        &self,
        principal: &Principal,
        params: &RequestParams,
        idempotency_key: Option<&str>,
    ) -> DomainResult<Written<i64>> {
        let now = time::now();
        let ticket = parse_new_ticket(params, principal, now)?;
        let claim = self.claim(principal, params, "create_ticket", idempotency_key, now)?;
        Ok(self
            .store
            .create_ticket(principal.provider.id, ticket, claim)
            .await?)
    }

    pub async fn create_comment(
        &self,
        principal: &Principal,
        params: &RequestParams,
        idempotency_key: Option<&str>,
    ) -> DomainResult<Written<i64>> {
        let now = time::now();
        let (ticket_id, comment) = parse_comment(params, principal)?;
        let claim = self.claim(principal, params, "create_comment", idempotency_key, now)?;
        Ok(self
            .store
            .create_comment(principal.provider.id, ticket_id, comment, now, claim)
            .await?)
    }

    pub async fn update_status(
        &self,
        principal: &Principal,
        params: &RequestParams,
        idempotency_key: Option<&str>,
    ) -> DomainResult<Written<i64>> {
        let now = time::now();
        let update = parse_status_update(params, principal, now)?;
        let claim = self.claim(principal, params, "update_status", idempotency_key, now)?;
        Ok(self
            .store
            .update_status(principal.provider.id, update, claim)
            .await?)
    }

    fn claim(
        &self,
        principal: &Principal,
        params: &RequestParams,
        action: &str,
        key: Option<&str>,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<IdempotencyClaim>> {
        let Some(key) = key else { return Ok(None) };
        if key.is_empty() || key.chars().count() > MAX_IDEMPOTENCY_KEY {
            return Err(DomainError::invalid(format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
            )));
        }
        Ok(Some(IdempotencyClaim {
            application_id: principal.application_id,
            key: key.to_owned(),
            fingerprint: params.fingerprint(action),
            now,
            not_before: now - Duration::hours(IDEMPOTENCY_WINDOW_HOURS),
        }))
    }
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
