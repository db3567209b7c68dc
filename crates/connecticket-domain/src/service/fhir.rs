//! The FHIR facade's use cases: tokens for system clients (OAuth client
//! credentials), their bearer authentication with SMART scopes, and the
//! reads and searches behind its resources. Every call is audited like the
//! API's, under the application.

use crate::audit::{Action, AuditEntry, Outcome, RecordRef, RequestContext};
use crate::auth::{generate_access_token, NewAccessToken, Principal, Via};
use crate::error::{DomainError, DomainResult, Entity};
use crate::fhir::{
    ContactSearch, Interaction, NotificationSearch, PatientSearch, ResourceType, Scopes,
    SearchPage, TaskSearch, Versioned, Window, LIVE_TOKENS_PER_APPLICATION, TOKEN_LIFETIME_SECS,
};
use crate::model::{Category, Contact, Resident, ResidentId, Ticket, TicketDetail, TicketId};
use crate::notify::Notification;
use crate::service::audit::{Call, Recorded};
use crate::service::Connecticket;
use crate::workflow::UrgencyStatus;

/// Tokens longer than this cannot be ours; refused without hashing.
const MAX_TOKEN_LENGTH: usize = 128;

/// How a client proves who it is at the token endpoint.
#[derive(Clone, Copy)]
pub enum ClientAuthentication<'a> {
    /// `client_secret_basic`: the application's api_key and api_secret.
    Secret {
        api_key: Option<&'a str>,
        api_secret: Option<&'a str>,
    },
    /// `private_key_jwt` (SMART Backend Services): a JWT signed with one
    /// of the keys the application registered, meant for `audience` (the
    /// token endpoint's URL).
    Assertion {
        client_id: Option<&'a str>,
        assertion: &'a str,
        audience: &'a str,
    },
}

/// A bearer token as issued: shown once, stored only as its hash.
#[derive(Debug, Clone)]
pub struct FhirAccess {
    pub token: String,
    pub scopes: Scopes,
    pub expires_in_secs: i64,
}

/// A ticket as a Task shows it: its detail and its version.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    pub detail: TicketDetail,
    pub version: i64,
}

/// A page of Tasks, with their patients when `_include` asked for them.
#[derive(Debug, Clone)]
pub struct TaskPage {
    pub page: SearchPage<TaskRecord>,
    pub patients: Vec<Resident>,
}

impl Connecticket {
    /// OAuth 2.0 client credentials: the application's api_key and
    /// api_secret (throttled like `authorize`) for a short-lived bearer
    /// token holding the requested scopes this server offers.
    pub async fn fhir_token(
        &self,
        context: &RequestContext,
        client: ClientAuthentication<'_>,
        scope: Option<&str>,
    ) -> DomainResult<FhirAccess> {
        let mut entry = AuditEntry::new(context, Action::FhirToken, Outcome::Success, self.now());
        let result = async {
            let (application, claim) = match client {
                ClientAuthentication::Secret {
                    api_key,
                    api_secret,
                } => {
                    let application = self
                        .verify_application(context, api_key, api_secret, &mut entry)
                        .await?;
                    (application, None)
                }
                ClientAuthentication::Assertion {
                    client_id,
                    assertion,
                    audience,
                } => {
                    entry.records.insert("client:assertion".to_owned());
                    let (application, claim) = self
                        .verify_assertion(context, client_id, assertion, audience, &mut entry)
                        .await?;
                    (application, Some(claim))
                }
            };
            let mut scopes = Scopes::parse(scope.unwrap_or_default())
                .map_err(|refused| DomainError::InvalidScope(refused.to_string()))?;
            // The audit trail is granted only to applications an
            // administrator allowed; others are given the rest they asked
            // for, as OAuth lets a server do.
            if scopes.allows(ResourceType::AuditEvent, Interaction::Search)
                && !self
                    .store
                    .fhir_audit_reader(application.application_id)
                    .await?
            {
                scopes = scopes.without(ResourceType::AuditEvent).ok_or_else(|| {
                    DomainError::InvalidScope(
                        "system/AuditEvent needs an administrator's leave (app fhir-audit --grant)"
                            .to_owned(),
                    )
                })?;
            }
            entry.records.insert(format!("scope:{scopes}"));
            let token = generate_access_token();
            let now = self.now();
            self.store
                .insert_fhir_token(
                    NewAccessToken {
                        application_id: application.application_id,
                        token_hash: self.hasher.hash("fhir_token", &token),
                        created_at: now,
                        expires_at: now + chrono::Duration::seconds(TOKEN_LIFETIME_SECS),
                    },
                    scopes.to_string(),
                    LIVE_TOKENS_PER_APPLICATION,
                    claim,
                )
                .await
                .map_err(|error| match error {
                    crate::error::StoreError::Duplicate { key: "jti", .. } => {
                        DomainError::InvalidClient(
                            crate::fhir::assertion::AssertionError::Replayed.to_string(),
                        )
                    }
                    other => other.into(),
                })?;
            Ok(FhirAccess {
                token,
                scopes,
                expires_in_secs: TOKEN_LIFETIME_SECS,
            })
        }
        .await;
        self.record(entry, result).await
    }

    /// Establishes who calls with a bearer token, and that its scopes
    /// allow `interaction` on `kind` (403 otherwise); the call counts
    /// against its application's request budget.
    pub async fn authenticate_fhir(
        &self,
        context: &RequestContext,
        action: Action,
        bearer: Option<&str>,
        kind: ResourceType,
        interaction: Interaction,
    ) -> DomainResult<Call> {
        let now = self.now();
        self.refuse_a_guesser(context, action)?;
        let mut entry = AuditEntry::new(context, action, Outcome::Denied, now);
        let principal = match self
            .check_bearer(bearer, kind, interaction, &mut entry)
            .await
        {
            Ok(principal) => principal,
            Err(error) => return self.refuse(entry, error),
        };
        self.admit(context, action, principal, now).await
    }

    async fn check_bearer(
        &self,
        bearer: Option<&str>,
        kind: ResourceType,
        interaction: Interaction,
        entry: &mut AuditEntry,
    ) -> DomainResult<Principal> {
        let token = bearer
            .filter(|token| !token.is_empty() && token.len() <= MAX_TOKEN_LENGTH)
            .ok_or(DomainError::InvalidCredentials)?;
        let hash = self.hasher.hash("fhir_token", token);
        // Found by its keyed hash, as the API's tokens are: the lookup's
        // timing tells nothing about a token nobody can hash.
        let record = self
            .store
            .fhir_token(hash)
            .await?
            .ok_or(DomainError::InvalidCredentials)?;
        let application = record.token.application;
        entry.provider_id = Some(application.provider.id);
        entry.application_id = Some(application.application_id);
        if record.token.revoked || record.token.expires_at <= self.now() {
            return Err(DomainError::InvalidCredentials);
        }
        let scopes = Scopes::parse(&record.scope)
            .map_err(|_| DomainError::Forbidden("the token's scopes allow nothing"))?;
        if !scopes.allows(kind, interaction) {
            return Err(DomainError::Forbidden(
                "the token's scopes do not allow this interaction on this resource type",
            ));
        }
        Ok(Principal {
            provider: application.provider,
            employee_id: application.employee_id,
            via: Via::Application {
                application_id: application.application_id,
                token_id: record.token.token_id,
            },
        })
    }

    /// The provider's residents matching a Patient search, one page.
    pub async fn fhir_patients(
        &self,
        call: Call,
        query: PatientSearch,
    ) -> DomainResult<SearchPage<Resident>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let page = self
                .store
                .search_patients(principal.provider.id, query)
                .await?;
            for resident in &page.rows {
                entry.touch(RecordRef::Resident(resident.id));
            }
            entry.records.insert(format!("rows:{}", page.rows.len()));
            Ok(page)
        })
        .await
    }

    /// One resident as a Patient; another provider's is `NotFound`.
    pub async fn fhir_patient(&self, call: Call, id: ResidentId) -> DomainResult<Resident> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let query = PatientSearch {
                ids: Some(vec![id]),
                window: Window {
                    after: None,
                    count: 1,
                },
                ..PatientSearch::default()
            };
            let page = self
                .store
                .search_patients(principal.provider.id, query)
                .await?;
            let resident = page
                .rows
                .into_iter()
                .next()
                .ok_or(DomainError::NotFound(Entity::Resident))?;
            entry.touch(RecordRef::Resident(resident.id));
            Ok(resident)
        })
        .await
    }

    /// The provider's tickets matching a Task search, one page, each with
    /// its detail; their patients too when `include_patients`.
    pub async fn fhir_tasks(
        &self,
        call: Call,
        query: TaskSearch,
        include_patients: bool,
    ) -> DomainResult<TaskPage> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            self.load_tasks(principal.provider.id, query, include_patients, entry)
                .await
        })
        .await
    }

    /// One ticket as a Task; another provider's is `NotFound`.
    pub async fn fhir_task(&self, call: Call, id: TicketId) -> DomainResult<TaskRecord> {
        let query = TaskSearch {
            ids: Some(vec![id]),
            window: Window {
                after: None,
                count: 1,
            },
            ..TaskSearch::default()
        };
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let page = self
                .load_tasks(principal.provider.id, query, false, entry)
                .await?;
            page.page
                .rows
                .into_iter()
                .next()
                .ok_or(DomainError::NotFound(Entity::Ticket))
        })
        .await
    }

    async fn load_tasks(
        &self,
        provider: crate::model::ProviderId,
        query: TaskSearch,
        include_patients: bool,
        entry: &mut AuditEntry,
    ) -> DomainResult<TaskPage> {
        let found = self.store.search_tasks(provider, query).await?;
        let mut rows = Vec::with_capacity(found.rows.len());
        for ticket in found.rows {
            // The version was read first: a change in between shows
            // newer content under the older version, which only ever
            // makes an If-Match fail, never succeed wrongly.
            let detail = self
                .store
                .ticket_detail(provider, ticket.value.id)
                .await?
                .ok_or(DomainError::NotFound(Entity::Ticket))?;
            entry.touch(RecordRef::Ticket(detail.ticket.id));
            entry.touch(RecordRef::Resident(detail.ticket.resident_id));
            rows.push(TaskRecord {
                detail,
                version: ticket.version,
            });
        }
        entry.records.insert(format!("rows:{}", rows.len()));
        let patients = if include_patients && !rows.is_empty() {
            let mut ids: Vec<ResidentId> = rows
                .iter()
                .map(|row| row.detail.ticket.resident_id)
                .collect();
            ids.sort();
            ids.dedup();
            let count = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            let query = PatientSearch {
                ids: Some(ids),
                window: Window { after: None, count },
                ..PatientSearch::default()
            };
            self.store.search_patients(provider, query).await?.rows
        } else {
            Vec::new()
        };
        Ok(TaskPage {
            page: SearchPage {
                rows,
                more: found.more,
                total: found.total,
            },
            patients,
        })
    }

    /// The provider's categories, for the CodeSystem that Task inputs
    /// name.
    pub async fn fhir_categories(&self, call: Call) -> DomainResult<Vec<Category>> {
        self.run(call, Recorded::Afterwards, async |principal, _| {
            Ok(self.store.categories(principal.provider.id).await?)
        })
        .await
    }
}

impl Connecticket {
    /// The provider's High and Exception tickets as Flags (a search over
    /// tickets with those urgencies).
    pub async fn fhir_flags(
        &self,
        call: Call,
        mut query: TaskSearch,
    ) -> DomainResult<SearchPage<Versioned<Ticket>>> {
        query.urgencies = vec![UrgencyStatus::HIGH.id, UrgencyStatus::EXCEPTION.id];
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let page = self
                .store
                .search_tasks(principal.provider.id, query)
                .await?;
            for ticket in &page.rows {
                entry.touch(RecordRef::Ticket(ticket.value.id));
                entry.touch(RecordRef::Resident(ticket.value.resident_id));
            }
            entry.records.insert(format!("rows:{}", page.rows.len()));
            Ok(page)
        })
        .await
    }

    /// Residents' contacts in the search's roles (RelatedPerson,
    /// Practitioner).
    pub async fn fhir_contacts(
        &self,
        call: Call,
        query: ContactSearch,
    ) -> DomainResult<SearchPage<Contact>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let page = self
                .store
                .search_contacts(principal.provider.id, query)
                .await?;
            for contact in &page.rows {
                entry.touch(RecordRef::Contact(contact.id));
                entry.touch(RecordRef::Resident(contact.resident_id));
            }
            entry.records.insert(format!("rows:{}", page.rows.len()));
            Ok(page)
        })
        .await
    }

    /// Notifications (Communication), with their acknowledgments.
    pub async fn fhir_notifications(
        &self,
        call: Call,
        query: NotificationSearch,
    ) -> DomainResult<SearchPage<Notification>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let page = self
                .store
                .search_notifications(principal.provider.id, query)
                .await?;
            for notification in &page.rows {
                entry.touch(RecordRef::Notification(notification.id));
                entry.touch(RecordRef::Ticket(notification.ticket_id));
                entry.touch(RecordRef::Resident(notification.resident_id));
            }
            entry.records.insert(format!("rows:{}", page.rows.len()));
            Ok(page)
        })
        .await
    }
}

impl Connecticket {
    /// Attachments' metadata (DocumentReference); their bytes are read
    /// through `attachment`, audited as the API's download is.
    pub async fn fhir_documents(
        &self,
        call: Call,
        query: crate::fhir::DocumentSearch,
    ) -> DomainResult<SearchPage<crate::fhir::DocumentRecord>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let page = self
                .store
                .search_documents(principal.provider.id, query)
                .await?;
            for document in &page.rows {
                entry.touch(RecordRef::Attachment(document.meta.id));
                entry.touch(RecordRef::Ticket(document.ticket_id));
                entry.touch(RecordRef::Resident(document.resident_id));
            }
            entry.records.insert(format!("rows:{}", page.rows.len()));
            Ok(page)
        })
        .await
    }
}

impl Connecticket {
    /// The provider's audit trail as AuditEvents, for an application an
    /// administrator allowed (checked at every call: a withdrawn leave
    /// takes effect at once, whatever tokens are still live).
    pub async fn fhir_audit_events(
        &self,
        call: Call,
        range: crate::fhir::InstantRange,
        ids: Option<Vec<i64>>,
        window: Window,
    ) -> DomainResult<SearchPage<crate::audit::AuditRecord>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let allowed = match principal.application_id() {
                Some(application) => self.store.fhir_audit_reader(application).await?,
                None => false,
            };
            if !allowed {
                return Err(DomainError::Forbidden(
                    "this application may not read the audit trail",
                ));
            }
            let page = self
                .store
                .search_audit(principal.provider.id, range.from, range.until, ids, window)
                .await?;
            entry.records.insert(format!("rows:{}", page.rows.len()));
            Ok(page)
        })
        .await
    }
}
