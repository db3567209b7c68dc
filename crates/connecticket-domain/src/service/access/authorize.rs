//! Authentication: `authorize` issues tokens (throttled), `authenticate`
//! checks them on every call (and spends the token's budget).

use crate::service::audit::Call;
use crate::service::connecticket::entry_for;
use crate::service::{ApiCredentials, Connecticket, IssuedToken};

/// Tokens longer than this cannot be ours; refuse them without hashing.
const MAX_TOKEN_LENGTH: usize = 128;
use super::throttle::{authorize_scopes, window, AttemptScopes, AttemptTurn};
use crate::audit::{Action, AuditEntry, Outcome, RecordRef, RequestContext};
use crate::auth::{constant_time_eq, generate_access_token, NewAccessToken, Principal, Via};
use crate::error::{DomainError, DomainResult};

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
        let mut entry = AuditEntry::new(context, Action::Authorize, Outcome::Success, self.now());
        let result = self
            .try_authorize(context, api_key, api_secret, &mut entry)
            .await;
        self.record(entry, result).await
    }

    async fn try_authorize(
        &self,
        context: &RequestContext,
        api_key: Option<&str>,
        api_secret: Option<&str>,
        entry: &mut AuditEntry,
    ) -> DomainResult<IssuedToken> {
        let application = self
            .verify_application(context, api_key, api_secret, entry)
            .await?;
        let now = self.now();
        let token = generate_access_token();
        let expires_at = now + self.settings.token_lifetime;
        self.store
            .insert_access_token(
                NewAccessToken {
                    application_id: application.application_id,
                    token_hash: self.hasher.hash_token(&token),
                    created_at: now,
                    expires_at,
                },
                self.settings.live_tokens_per_application,
            )
            .await?;
        Ok(IssuedToken {
            token,
            provider: application.provider,
            expires_at,
        })
    }

    /// Checks an application's key and secret, throttled like every
    /// attempt to authorize (failures per client address and per key),
    /// and names the application in `entry`.
    pub(in crate::service) async fn verify_application(
        &self,
        context: &RequestContext,
        api_key: Option<&str>,
        api_secret: Option<&str>,
        entry: &mut AuditEntry,
    ) -> DomainResult<crate::auth::ApplicationCredentials> {
        let address = context
            .client_addr
            .map_or_else(|| "unknown".to_owned(), |addr| addr.to_string());
        let scopes = authorize_scopes(api_key, &address, &self.settings.throttle);
        let now = self.now();
        let attempt = self.claim_attempt(scopes, now).await?;
        let application = match api_key {
            Some(key) => self.store.application_by_key(key.to_owned()).await?,
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
            // The attempt was counted before it was checked.
            return Err(DomainError::InvalidApiCredentials);
        };
        attempt.forgive(&self.store).await?;
        entry.employee_id = Some(application.employee_id);
        entry.touch(RecordRef::Application(application.application_id));
        Ok(application)
    }

    /// Checks a SMART client assertion (a JWT signed with a key the
    /// application registered), throttled like a key and secret, and
    /// names the application in `entry`. `client_id`, when sent, must be
    /// the assertion's issuer.
    pub(in crate::service) async fn verify_assertion(
        &self,
        context: &RequestContext,
        client_id: Option<&str>,
        assertion: &str,
        audience: &str,
        entry: &mut AuditEntry,
    ) -> DomainResult<(
        crate::auth::ApplicationCredentials,
        crate::fhir::AssertionClaim,
    )> {
        use crate::fhir::assertion::{self, AssertionError};
        let refused = |error: AssertionError| DomainError::InvalidClient(error.to_string());
        let claimed = assertion::claimed_client(assertion);
        let client = match (client_id, claimed.as_deref()) {
            (Some(sent), Some(claimed)) if sent != claimed => {
                return Err(refused(AssertionError::WrongIssuer))
            }
            (_, Some(claimed)) => claimed.to_owned(),
            (_, None) => return Err(refused(AssertionError::Malformed)),
        };
        let address = context
            .client_addr
            .map_or_else(|| "unknown".to_owned(), |addr| addr.to_string());
        let scopes = authorize_scopes(Some(&client), &address, &self.settings.throttle);
        let now = self.now();
        let attempt = self.claim_attempt(scopes, now).await?;
        let application = self
            .store
            .application_by_key(client.clone())
            .await?
            .filter(|application| !application.revoked)
            .ok_or_else(|| refused(AssertionError::WrongKey))?;
        entry.provider_id = Some(application.provider.id);
        entry.application_id = Some(application.application_id);
        let keys = self
            .store
            .fhir_client_keys(application.application_id)
            .await?
            .ok_or_else(|| refused(AssertionError::NoKeys))?;
        let keys = assertion::check_key_set(&keys).map_err(|_| refused(AssertionError::NoKeys))?;
        let verified =
            assertion::verify(assertion, &client, &keys, audience, now).map_err(refused)?;
        attempt.forgive(&self.store).await?;
        entry.employee_id = Some(application.employee_id);
        entry.touch(RecordRef::Application(application.application_id));
        Ok((
            application,
            crate::fhir::AssertionClaim {
                jti: verified.jti,
                expires_at: verified.expires_at,
            },
        ))
    }

    /// Counts an attempt in each of `scopes` before it is checked, and
    /// refuses it (`RateLimited`) when any is then over its limit in the
    /// current window. Counting first, in one statement, holds a burst of
    /// concurrent attempts to the limit too; the attempts of one narrow
    /// scope take turns in this instance (the answer holds the turn), so
    /// that concurrent good attempts do not see each other as failures.
    /// A successful attempt is then forgiven (`Claimed::forgive`).
    pub(in crate::service) async fn claim_attempt<'a>(
        &'a self,
        scopes: AttemptScopes,
        now: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<Claimed<'a>> {
        let turn = self.attempt_locks.turn(&scopes).await;
        let (window_start, retry_after_secs) = window(now, self.settings.throttle.window_secs);
        let counts = self
            .store
            .claim_auth_attempt(scopes.names.clone(), window_start)
            .await?;
        let over = counts
            .iter()
            .zip(&scopes.limits)
            .any(|(count, limit)| count > limit);
        let claimed = Claimed {
            scopes,
            window_start,
            _turn: turn,
        };
        if over {
            // Refused unchecked: only failures count.
            claimed.forgive(&self.store).await?;
            return Err(DomainError::RateLimited { retry_after_secs });
        }
        Ok(claimed)
    }

    /// Establishes who calls: the token must be live and belong to the
    /// application whose key and secret came with the request, and within
    /// its request budget. `action` is the call the surface is about to
    /// make; a refusal is audited under it.
    pub async fn authenticate(
        &self,
        context: &RequestContext,
        action: Action,
        credentials: ApiCredentials<'_>,
    ) -> DomainResult<Call> {
        let now = self.now();
        self.refuse_a_guesser(context, action)?;
        let mut entry = AuditEntry::new(context, action, Outcome::Denied, now);
        let principal = match self.try_authenticate(credentials, &mut entry).await {
            Ok(principal) => principal,
            Err(error) => return self.refuse(entry, error),
        };
        self.admit(context, action, principal, now).await
    }

    /// Lets an authenticated principal's call in, within its
    /// application's request budget.
    pub(in crate::service) async fn admit(
        &self,
        context: &RequestContext,
        action: Action,
        principal: Principal,
        now: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<Call> {
        let entry = entry_for(context, action, &principal, now);
        let spent = match principal.via {
            Via::Application { application_id, .. } => {
                self.budgets
                    .spend(application_id, &self.settings.throttle, now)
            }
            Via::Console { .. } => Ok(()),
        };
        if let Err(retry_after_secs) = spent {
            let refused = Err(DomainError::RateLimited { retry_after_secs });
            return self.record(entry, refused).await;
        }
        Ok(Call::new(
            principal,
            entry,
            context.deadline,
            self.audit.clone(),
        ))
    }

    async fn try_authenticate(
        &self,
        credentials: ApiCredentials<'_>,
        entry: &mut AuditEntry,
    ) -> DomainResult<Principal> {
        let (Some(token), Some(api_key), Some(api_secret)) = (
            credentials.token,
            credentials.api_key,
            credentials.api_secret,
        ) else {
            return Err(DomainError::InvalidCredentials);
        };
        if token.is_empty() || token.len() > MAX_TOKEN_LENGTH {
            return Err(DomainError::InvalidCredentials);
        }
        let hash = self.hasher.hash_token(token);
        let now = self.now();
        let record = match self.tokens.get(&hash, now) {
            Some(record) => Some(record),
            None => {
                let record = self.store.access_token(hash.clone()).await?;
                if let Some(record) = &record {
                    self.tokens.put(hash, record.clone(), now);
                }
                record
            }
        };
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
        let live = !record.revoked && !application.revoked && record.expires_at > self.now();
        if !(key_matches && secret_matches && live) {
            return Err(DomainError::InvalidCredentials);
        }
        Ok(Principal {
            provider: application.provider,
            employee_id: application.employee_id,
            via: Via::Application {
                application_id: application.application_id,
                token_id: record.token_id,
            },
        })
    }
}

/// An attempt counted against its scopes, holding its turn.
pub(in crate::service) struct Claimed<'a> {
    scopes: AttemptScopes,
    window_start: i64,
    _turn: AttemptTurn<'a>,
}

impl Claimed<'_> {
    /// Takes the attempt back: it succeeded (or was never checked), and
    /// only failures count.
    pub(in crate::service) async fn forgive(
        self,
        store: &std::sync::Arc<dyn crate::store::Store>,
    ) -> DomainResult<()> {
        Ok(store
            .forgive_auth_attempt(self.scopes.names, self.window_start)
            .await?)
    }
}
