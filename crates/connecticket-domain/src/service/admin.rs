//! The operator's use cases, behind the admin subcommands and the demo seed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::audit::{Action, AuditEntry, Outcome, RecordRef, RequestContext};
use crate::auth::{generate_api_key, generate_api_secret, SecretHasher};
use crate::clock::SharedClock;
use crate::error::{DomainError, DomainResult, Entity, Field, Problem};
use crate::model::{
    Application, ApplicationId, Category, CategoryId, Employee, EmployeeId, NewApplication,
    NewCategory, NewEmployee, NewProvider, NewResident, Provider, ProviderId, Resident, ResidentId,
};
use crate::store::{RowStream, Store, TokenOwner};
use crate::transfer::Record;
use crate::validate::{required_text, MAX_SHORT_TEXT};

use super::audited::{record_list_start, AuditedStream};

/// The operator's use cases.
pub struct AdminService {
    pub(super) store: Arc<dyn Store>,
    hasher: SecretHasher,
    clock: SharedClock,
}

/// A new application and its secret, which exists nowhere else: it is shown
/// once and only its hash is stored.
#[derive(Debug)]
pub struct CreatedApplication {
    pub application: Application,
    pub api_secret: String,
}

/// A new application's record and its secret (only the secret's hash is
/// in the record).
pub(crate) fn new_application(
    hasher: &SecretHasher,
    provider_id: ProviderId,
    employee_id: EmployeeId,
    name: &str,
    now: DateTime<Utc>,
) -> DomainResult<(NewApplication, String)> {
    let api_secret = generate_api_secret();
    let new = NewApplication {
        id: None,
        provider_id,
        employee_id,
        name: required_text(Field::Name, name, MAX_SHORT_TEXT)?,
        api_key: generate_api_key(),
        secret_hash: hasher.hash_api_secret(&api_secret),
        created_at: now,
    };
    Ok((new, api_secret))
}

impl AdminService {
    pub fn new(store: Arc<dyn Store>, hasher: SecretHasher, clock: SharedClock) -> Self {
        AdminService {
            store,
            hasher,
            clock,
        }
    }

    pub(crate) fn hasher(&self) -> &SecretHasher {
        &self.hasher
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn create_provider(&self, name: &str, time_zone: &str) -> DomainResult<Provider> {
        let name = required_text(Field::Name, name, MAX_SHORT_TEXT)?;
        let zone = parse_zone(time_zone)?;
        Ok(self
            .store
            .create_provider(NewProvider {
                id: None,
                name,
                time_zone: zone.name().to_owned(),
                created_at: self.now(),
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
    ) -> DomainResult<Employee> {
        Ok(self
            .store
            .create_employee(NewEmployee {
                id: None,
                provider_id,
                name: required_text(Field::Name, name, MAX_SHORT_TEXT)?,
                email: email.map(str::to_owned),
                created_at: self.now(),
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
        employee_id: EmployeeId,
        name: &str,
    ) -> DomainResult<CreatedApplication> {
        let (new, api_secret) =
            new_application(&self.hasher, provider_id, employee_id, name, self.now())?;
        let application = self.store.create_application(new, None).await?;
        Ok(CreatedApplication {
            application,
            api_secret,
        })
    }

    pub async fn applications(&self, provider_id: ProviderId) -> DomainResult<Vec<Application>> {
        Ok(self.store.applications(provider_id).await?)
    }

    pub async fn revoke_application(
        &self,
        provider_id: ProviderId,
        application_id: ApplicationId,
    ) -> DomainResult<Application> {
        Ok(self
            .store
            .revoke_application(provider_id, application_id, self.now(), None)
            .await?)
    }

    /// Gives an application a new secret (shown once) and revokes its
    /// tokens; the old secret stops working at once.
    pub async fn rotate_secret(
        &self,
        provider_id: ProviderId,
        application_id: ApplicationId,
    ) -> DomainResult<CreatedApplication> {
        let api_secret = generate_api_secret();
        let application = self
            .store
            .rotate_secret(
                provider_id,
                application_id,
                self.hasher.hash_api_secret(&api_secret),
                self.now(),
                None,
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
            .revoke_tokens(provider_id, owner, self.now())
            .await?)
    }

    /// True when a demo console account still opens with the published
    /// demo password.
    pub async fn demo_passwords_active(&self) -> DomainResult<bool> {
        for (email, ..) in crate::demo::DEMO_CONSOLE_ACCOUNTS {
            let Some(holder) = self.store.console_account_by_email(email).await? else {
                continue;
            };
            let Some(hash) = holder.account.password_hash else {
                continue;
            };
            let opens = tokio::task::spawn_blocking(move || {
                crate::console::password::verify_password(
                    crate::console::password::DEMO_PASSWORD,
                    &hash,
                )
            })
            .await
            .unwrap_or(true);
            if opens {
                return Ok(true);
            }
        }
        Ok(false)
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

    /// Operators handle patient data too: their reads and writes of it are
    /// audited like anyone's.
    pub(super) fn operator_entry(&self, action: Action, provider_id: ProviderId) -> AuditEntry {
        let mut entry = AuditEntry::new(
            &RequestContext::operator(),
            action,
            Outcome::Success,
            self.now(),
        );
        entry.provider_id = Some(provider_id);
        entry
    }

    /// Creates all residents or none.
    pub async fn create_residents(
        &self,
        provider_id: ProviderId,
        residents: Vec<NewResident>,
    ) -> DomainResult<Vec<ResidentId>> {
        let mut entry = self.operator_entry(Action::CreateResidents, provider_id);
        let created = self
            .store
            .create_residents(provider_id, residents, self.now())
            .await
            .map_err(DomainError::from);
        if let Ok(ids) = &created {
            for id in ids {
                entry.touch(RecordRef::Resident(*id));
            }
        }
        super::api::record(&self.store, entry, created).await
    }

    /// Streams a provider's residents, ordered by id; audited when the
    /// stream ends.
    pub async fn residents(&self, provider_id: ProviderId) -> DomainResult<RowStream<Resident>> {
        let entry = self.operator_entry(Action::AllResidents, provider_id);
        record_list_start(self.store.as_ref(), &entry).await?;
        Ok(AuditedStream::wrap(
            self.store.residents(provider_id, None),
            Arc::clone(&self.store),
            entry,
            |resident: &Resident| [RecordRef::Resident(resident.id)],
        ))
    }

    pub async fn create_category(
        &self,
        provider_id: ProviderId,
        name: &str,
    ) -> DomainResult<Category> {
        Ok(self
            .store
            .create_category(
                NewCategory {
                    id: None,
                    provider_id,
                    name: required_text(Field::Name, name, MAX_SHORT_TEXT)?,
                    created_at: self.now(),
                },
                None,
            )
            .await?)
    }

    pub async fn categories(&self, provider_id: ProviderId) -> DomainResult<Vec<Category>> {
        Ok(self.store.categories(provider_id).await?)
    }

    /// A category by id, within a provider.
    pub async fn category(
        &self,
        provider_id: ProviderId,
        id: CategoryId,
    ) -> DomainResult<Category> {
        self.categories(provider_id)
            .await?
            .into_iter()
            .find(|category| category.id == id)
            .ok_or(DomainError::NotFound(Entity::Category))
    }

    /// Whether the database holds no provider yet.
    pub async fn is_empty(&self) -> DomainResult<bool> {
        Ok(self.store.is_empty().await?)
    }

    /// Writes records, ids kept, into an empty database in one transaction.
    pub(crate) async fn import(&self, records: Vec<Record>) -> DomainResult<u64> {
        let stream = futures::stream::once(async move { Ok(records) });
        Ok(self.store.import(Box::pin(stream)).await?)
    }
}

fn parse_zone(time_zone: &str) -> DomainResult<Tz> {
    time_zone.trim().parse().map_err(|_| {
        DomainError::invalid(
            Field::TimeZone,
            Problem::Rule(format!(
                "{time_zone:?} is not an IANA time zone name (e.g. America/New_York)"
            )),
        )
    })
}
