//! Applications: the partner programs that use the API, their credentials
//! (a secret shown once, only its hash kept) and their tokens.

use super::{AdminCall, Administrator};
use crate::audit::{Action, RecordRef};
use crate::auth::{generate_api_key, generate_api_secret};
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::model::{Application, ApplicationId, EmployeeId, NewApplication};
use crate::service::audit::Recorded;
use crate::service::Connecticket;
use crate::store::TokenOwner;
use crate::validate::{required_text, MAX_SHORT_TEXT};

/// An application's standing on the FHIR facade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirStanding {
    pub application: ApplicationId,
    /// Public keys registered for signed assertions.
    pub keys: usize,
    /// May read the audit trail as AuditEvent.
    pub audit_trail: bool,
}

/// A new application and its secret, which exists nowhere else: it is shown
/// once and only its hash is stored.
#[derive(Debug)]
pub struct CreatedApplication {
    pub application: Application,
    pub api_secret: String,
}

/// An application to register.
#[derive(Debug, Clone, Copy)]
pub struct ApplicationRequest<'a> {
    pub name: &'a str,
    /// The employee its tickets and comments are made by; none: the
    /// administrator registering it (an operator must name one).
    pub acting_as: Option<EmployeeId>,
}

impl Connecticket {
    /// The provider's applications (never their secrets).
    pub async fn list_applications(&self, call: AdminCall) -> DomainResult<Vec<Application>> {
        self.administrate(
            call,
            Action::Applications,
            Recorded::Afterwards,
            async |scope, entry| {
                let applications = self.store.applications(scope.provider_id()?).await?;
                for application in &applications {
                    entry.touch(RecordRef::Application(application.id));
                }
                Ok(applications)
            },
        )
        .await
    }

    /// Registers an application with fresh random credentials.
    pub async fn create_application(
        &self,
        call: AdminCall,
        request: ApplicationRequest<'_>,
    ) -> DomainResult<CreatedApplication> {
        self.administrate(
            call,
            Action::ManageApplications,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let employee = match (request.acting_as, scope.by) {
                    (Some(employee), _) | (None, Administrator::Employee(employee)) => employee,
                    (None, Administrator::Operator) => {
                        return Err(DomainError::invalid(Field::Employee, Problem::Required))
                    }
                };
                entry.touch(RecordRef::Employee(employee));
                let api_secret = generate_api_secret();
                let new = NewApplication {
                    id: None,
                    provider_id: scope.provider_id()?,
                    employee_id: employee,
                    name: required_text(Field::Name, request.name, MAX_SHORT_TEXT)?,
                    api_key: generate_api_key(),
                    secret_hash: self.hasher.hash_api_secret(&api_secret),
                    created_at: self.now(),
                };
                let application = self.store.create_application(new, entry.clone()).await?;
                Ok(CreatedApplication {
                    application,
                    api_secret,
                })
            },
        )
        .await
    }

    /// Revokes an application: its credentials and every token it holds
    /// stop working at once.
    pub async fn revoke_application(
        &self,
        call: AdminCall,
        id: ApplicationId,
    ) -> DomainResult<Application> {
        self.administrate(
            call,
            Action::ManageApplications,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Application(id));
                entry.records.insert("revoked".to_owned());
                let provider = scope.provider_id()?;
                Ok(self
                    .store
                    .revoke_application(provider, id, self.now(), entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// A new secret (shown once); the old one and every token stop working.
    pub async fn rotate_secret(
        &self,
        call: AdminCall,
        id: ApplicationId,
    ) -> DomainResult<CreatedApplication> {
        self.administrate(
            call,
            Action::ManageApplications,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Application(id));
                entry.records.insert("secret:rotated".to_owned());
                let provider = scope.provider_id()?;
                let api_secret = generate_api_secret();
                let hash = self.hasher.hash_api_secret(&api_secret);
                let application = self
                    .store
                    .rotate_secret(provider, id, hash, self.now(), entry.clone())
                    .await?;
                Ok(CreatedApplication {
                    application,
                    api_secret,
                })
            },
        )
        .await
    }

    /// Registers the public keys (a JWK Set: EC P-384 or RSA) an
    /// application signs SMART client assertions with, replacing any
    /// before; `None` removes them. Answers how many keys it holds.
    pub async fn set_fhir_client_keys(
        &self,
        call: AdminCall,
        id: ApplicationId,
        jwks: Option<&str>,
    ) -> DomainResult<usize> {
        self.administrate(
            call,
            Action::ManageApplications,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Application(id));
                let count = match jwks {
                    Some(text) => crate::fhir::assertion::check_key_set(text)
                        .map_err(|refused| {
                            DomainError::invalid(Field::Jwks, Problem::Rule(refused.to_string()))
                        })?
                        .keys
                        .len(),
                    None => 0,
                };
                entry.records.insert(format!("fhir_keys:{count}"));
                let provider = scope.provider_id()?;
                self.store
                    .set_fhir_client_keys(
                        provider,
                        id,
                        jwks.map(str::to_owned),
                        self.now(),
                        entry.clone(),
                    )
                    .await?;
                Ok(count)
            },
        )
        .await
    }

    /// Each application's standing on the FHIR facade: how many signing
    /// keys it registered, and whether it may read the audit trail.
    pub async fn fhir_access(&self, call: AdminCall) -> DomainResult<Vec<FhirStanding>> {
        self.administrate(
            call,
            Action::Applications,
            Recorded::Afterwards,
            async |scope, _| {
                let provider = scope.provider_id()?;
                let rows = self.store.fhir_access(provider).await?;
                Ok(rows
                    .into_iter()
                    .map(|row| FhirStanding {
                        application: row.application,
                        keys: row
                            .jwks
                            .as_deref()
                            .and_then(|jwks| crate::fhir::assertion::check_key_set(jwks).ok())
                            .map_or(0, |set| set.keys.len()),
                        audit_trail: row.audit_trail,
                    })
                    .collect())
            },
        )
        .await
    }

    /// Allows an application to read the provider's audit trail through
    /// the FHIR facade (AuditEvent), or stops allowing it.
    pub async fn set_fhir_audit_access(
        &self,
        call: AdminCall,
        id: ApplicationId,
        allowed: bool,
    ) -> DomainResult<()> {
        self.administrate(
            call,
            Action::ManageApplications,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Application(id));
                let change = if allowed { "granted" } else { "withdrawn" };
                entry.records.insert(format!("fhir_audit:{change}"));
                let provider = scope.provider_id()?;
                Ok(self
                    .store
                    .set_fhir_audit_reader(provider, id, allowed, self.now(), entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// Revokes every live token of an application, or of the applications
    /// an employee acts through; answers how many.
    pub async fn revoke_tokens(&self, call: AdminCall, owner: TokenOwner) -> DomainResult<u64> {
        self.administrate(
            call,
            Action::ManageApplications,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(match owner {
                    TokenOwner::Application(id) => RecordRef::Application(id),
                    TokenOwner::Employee(id) => RecordRef::Employee(id),
                });
                entry.records.insert("tokens:revoked".to_owned());
                let provider = scope.provider_id()?;
                Ok(self
                    .store
                    .revoke_tokens(provider, owner, self.now(), entry.clone())
                    .await?)
            },
        )
        .await
    }
}
