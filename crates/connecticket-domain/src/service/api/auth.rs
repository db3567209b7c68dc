//! Authentication: `authorize` issues tokens (throttled), `authenticate`
//! checks them on every call (and spends the token's budget).

use chrono::Utc;

use super::{entry_for, Connecticket, IssuedToken, MAX_TOKEN_LENGTH};
use crate::audit::{Action, AuditEntry, Outcome, RecordRef, RequestContext};
use crate::auth::{constant_time_eq, generate_access_token, NewAccessToken, Principal};
use crate::error::{DomainError, DomainResult};
use crate::service::throttle::{failure_scopes, window};
use crate::time;

impl Connecticket {
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
}
