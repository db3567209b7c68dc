use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::MAX_SHORT_TEXT;
use crate::audit::{Action, AuditEntry, Outcome, RequestContext};
use crate::auth::{generate_api_key, generate_api_secret, SecretHasher};
use crate::error::{DomainError, DomainResult, Entity};
use crate::model::{
    Application, Category, Employee, Fixed, NewApplication, NewCategory, NewComment, NewEmployee,
    NewProvider, NewResident, NewTicket, Provider, ProviderId, Resident,
};
use crate::params::check_length;
use crate::store::{RowStream, Store, TokenOwner, WriteContext};
use crate::time;

/// The operator's use cases, behind the admin subcommands and the demo seed.
pub struct AdminService {
    store: Arc<dyn Store>,
    hasher: SecretHasher,
}

/// A new application and its secret, which exists nowhere else: it is shown
/// once and only its hash is stored.
#[derive(Debug)]
pub struct CreatedApplication {
    pub application: Application,
    pub api_secret: String,
}

impl AdminService {
    pub fn new(store: Arc<dyn Store>, hasher: SecretHasher) -> Self {
        AdminService { store, hasher }
    }

    pub async fn create_provider(
        &self,
        name: &str,
        time_zone: &str,
        fixed: Fixed,
    ) -> DomainResult<Provider> {
        let name = required_text("name", name)?;
        let zone: Tz = time_zone.trim().parse().map_err(|_| {
            DomainError::invalid(format!(
                "time zone {time_zone:?} is not an IANA time zone name (e.g. America/New_York)"
            ))
        })?;
        Ok(self
            .store
            .create_provider(NewProvider {
                fixed,
                name,
                time_zone: zone.name().to_owned(),
            })
            .await?)
    }

    pub async fn providers(&self) -> DomainResult<Vec<Provider>> {
        Ok(self.store.providers().await?)
    }

    pub async fn provider(&self, id: ProviderId) -> DomainResult<Provider> {
        self.store
            .provider(id)
            .await?
            .ok_or(DomainError::NotFound(Entity::Provider))
    }

    pub async fn create_employee(
        &self,
        provider_id: ProviderId,
        name: &str,
        email: Option<&str>,
        fixed: Fixed,
    ) -> DomainResult<Employee> {
        Ok(self
            .store
            .create_employee(NewEmployee {
                fixed,
                provider_id,
                name: required_text("name", name)?,
                email: email.map(str::to_owned),
            })
            .await?)
    }

    pub async fn employees(&self, provider_id: ProviderId) -> DomainResult<Vec<Employee>> {
        Ok(self.store.employees(provider_id).await?)
    }

    /// Registers an application with fresh random credentials.
    pub async fn create_application(
        &self,
        provider_id: ProviderId,
        employee_id: i64,
        name: &str,
    ) -> DomainResult<CreatedApplication> {
        let api_secret = generate_api_secret();
        let application = self
            .register_application(
                provider_id,
                employee_id,
                name,
                &generate_api_key(),
                &api_secret,
                Fixed::default(),
            )
            .await?;
        Ok(CreatedApplication {
            application,
            api_secret,
        })
    }

    /// Registers an application with given credentials (the demo seed's
    /// published ones); only the secret's hash is stored.
    pub async fn register_application(
        &self,
        provider_id: ProviderId,
        employee_id: i64,
        name: &str,
        api_key: &str,
        api_secret: &str,
        fixed: Fixed,
    ) -> DomainResult<Application> {
        Ok(self
            .store
            .create_application(NewApplication {
                fixed,
                provider_id,
                employee_id,
                name: required_text("name", name)?,
                api_key: api_key.to_owned(),
                secret_hash: self.hasher.hash_api_secret(api_secret),
            })
            .await?)
    }

    pub async fn applications(&self, provider_id: ProviderId) -> DomainResult<Vec<Application>> {
        Ok(self.store.applications(provider_id).await?)
    }

    pub async fn revoke_application(
        &self,
        provider_id: ProviderId,
        application_id: i64,
    ) -> DomainResult<Application> {
        Ok(self
            .store
            .revoke_application(provider_id, application_id, time::now())
            .await?)
    }

    /// Gives an application a new secret (shown once) and revokes its
    /// tokens; the old secret stops working at once.
    pub async fn rotate_secret(
        &self,
        provider_id: ProviderId,
        application_id: i64,
    ) -> DomainResult<CreatedApplication> {
        let api_secret = generate_api_secret();
        let application = self
            .store
            .rotate_secret(
                provider_id,
                application_id,
                self.hasher.hash_api_secret(&api_secret),
                time::now(),
            )
            .await?;
        Ok(CreatedApplication {
            application,
            api_secret,
        })
    }

    /// Revokes the live tokens of an application or of an employee.
    pub async fn revoke_tokens(
        &self,
        provider_id: ProviderId,
        owner: TokenOwner,
    ) -> DomainResult<u64> {
        Ok(self
            .store
            .revoke_tokens(provider_id, owner, time::now())
            .await?)
    }

    /// True when an unrevoked application still accepts the published demo
    /// credentials.
    pub async fn demo_credentials_active(&self) -> DomainResult<bool> {
        let demo = [
            (crate::demo::DEMO_API_KEY, crate::demo::DEMO_API_SECRET),
            (
                crate::demo::SUNRISE_API_KEY,
                crate::demo::SUNRISE_API_SECRET,
            ),
        ];
        for (key, secret) in demo {
            if let Some(application) = self.store.application_by_key(key).await? {
                if !application.revoked
                    && self
                        .hasher
                        .verify_api_secret(secret, &application.secret_hash)
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Creates all residents or none.
    pub async fn create_residents(
        &self,
        provider_id: ProviderId,
        residents: Vec<NewResident>,
    ) -> DomainResult<Vec<i64>> {
        Ok(self
            .store
            .create_residents(provider_id, residents, time::now())
            .await?)
    }

    /// Streams a provider's residents, ordered by id.
    pub fn residents(&self, provider_id: ProviderId) -> RowStream<Resident> {
        self.store.residents(provider_id, None)
    }

    pub async fn create_category(
        &self,
        provider_id: ProviderId,
        name: &str,
        fixed: Fixed,
    ) -> DomainResult<Category> {
        Ok(self
            .store
            .create_category(NewCategory {
                fixed,
                provider_id,
                name: required_text("name", name)?,
            })
            .await?)
    }

    pub async fn categories(&self, provider_id: ProviderId) -> DomainResult<Vec<Category>> {
        Ok(self.store.categories(provider_id).await?)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Writes a ticket exactly as given (fixed id and times): for the demo
    /// seed and data moves, not for clients.
    pub(crate) async fn create_ticket(
        &self,
        provider_id: ProviderId,
        ticket: NewTicket,
    ) -> DomainResult<i64> {
        Ok(self
            .store
            .create_ticket(provider_id, ticket, operator_write(Action::CreateTicket))
            .await?
            .into_inner())
    }

    pub(crate) async fn create_comment(
        &self,
        provider_id: ProviderId,
        ticket_id: i64,
        comment: NewComment,
        at: DateTime<Utc>,
    ) -> DomainResult<i64> {
        Ok(self
            .store
            .create_comment(
                provider_id,
                ticket_id,
                comment,
                at,
                operator_write(Action::CreateComment),
            )
            .await?
            .into_inner())
    }
}

/// Operator writes are audited too, as made by no application.
fn operator_write(action: Action) -> WriteContext {
    let context = RequestContext {
        request_id: "operator".to_owned(),
        client_addr: None,
    };
    WriteContext {
        idempotency: None,
        audit: AuditEntry::new(&context, action, Outcome::Success),
    }
}

fn required_text(name: &str, value: &str) -> DomainResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(format!("{name} required")));
    }
    check_length(name, value, MAX_SHORT_TEXT)?;
    Ok(value.to_owned())
}
