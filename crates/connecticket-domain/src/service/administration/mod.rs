//! Administration: the use cases that change who may do what and how a
//! provider works (employees and their console accounts, applications,
//! categories, residents, contacts, notification and escalation rules, the
//! audit trail). Each exists once, and every surface calls the same one:
//! the console for a provider's administrators, the command line for
//! operators.
//!
//! Who may administer is a type. A use case here takes an [`AdminCall`],
//! and only two doors make one: [`Connecticket::administer`] turns the
//! console call of one of the provider's administrators into one (staff
//! are refused, and the refusal audited), and an [`Operator`] (whoever
//! runs the command line on the server, with the database and the hash
//! key) gets an [`OperatorCall`] for the whole installation, which
//! [`Connecticket::within`] narrows to one provider. Every call leaves one
//! entry naming who made it: the employee, or the operator's
//! `user@host`; writes record it in their own transaction.
//!
//! What the types refuse, before any test runs: a surface's ordinary call
//! is no administration call,
//!
//! ```compile_fail
//! # use connecticket_domain::{service::Call, Connecticket};
//! async fn staff_adds_a_category(service: &Connecticket, call: Call) {
//!     service.create_category(call, "Falls").await;
//! }
//! ```
//!
//! and a provider's administrator's call is no operator's:
//!
//! ```compile_fail
//! # use connecticket_domain::{service::AdminCall, Connecticket};
//! async fn an_administrator_creates_a_provider(service: &Connecticket, call: AdminCall) {
//!     service.create_provider(call, "Elsewhere", "UTC", "US").await;
//! }
//! ```

mod applications;
mod audit_trail;
mod categories;
mod contacts;
mod databases;
mod displays;
mod employees;
mod escalation;
mod notifications;
mod providers;
mod residents;

use std::time::Instant;

pub use applications::{ApplicationRequest, CreatedApplication, FhirStanding};
pub use audit_trail::{Actors, AuditFilter, AuditVerification, AUDIT_PAGE_LIMIT};
pub use contacts::{contact_from_input, ContactInput};
pub use displays::GrantedDisplay;
pub use employees::{NewEmployeeRequest, RosterEntry};
pub use escalation::{
    escalation_from_input, staff_contact_from_input, EscalationInput, StaffContactInput,
    TicketStory,
};
pub use notifications::{PolicyChange, QUEUE_PAGE_LIMIT};
pub use residents::{resident_from_fields, RESIDENT_FIELDS};

use super::audit::{PendingEntry, Recorded};
use super::{Call, Connecticket};
use crate::audit::{Action, AuditEntry, Outcome, RequestContext};
use crate::console::ConsoleRole;
use crate::error::{DomainError, DomainResult, Entity, Field, Problem};
use crate::model::{EmployeeId, Provider, ProviderId};

/// Who administers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Administrator {
    /// One of the provider's administrators, signed in to the console.
    Employee(EmployeeId),
    /// An operator at the command line (the entry's actor names them).
    Operator,
}

/// What an administration call may reach.
#[derive(Debug, Clone)]
pub enum Scope {
    /// One provider's records.
    Provider(Provider),
    /// Every provider's: an operator's call before it names a provider.
    Installation,
}

/// What a use case knows of the call it runs for.
#[derive(Debug, Clone)]
pub struct AdminScope {
    pub scope: Scope,
    pub by: Administrator,
}

impl AdminScope {
    /// The provider the call administers; a call of an operator that named
    /// none is invalid for a use case that needs one.
    pub fn provider(&self) -> DomainResult<&Provider> {
        match &self.scope {
            Scope::Provider(provider) => Ok(provider),
            Scope::Installation => Err(DomainError::invalid(Field::Provider, Problem::Required)),
        }
    }

    pub fn provider_id(&self) -> DomainResult<ProviderId> {
        self.provider().map(|provider| provider.id)
    }

    /// The provider, if the call is limited to one.
    pub fn limited_to(&self) -> Option<ProviderId> {
        match &self.scope {
            Scope::Provider(provider) => Some(provider.id),
            Scope::Installation => None,
        }
    }
}

/// A call that may administer a provider (or, an operator's, every
/// provider). Made only by [`Connecticket::administer`] and
/// [`Connecticket::within`], and consumed by one use case, which records
/// its one entry.
pub struct AdminCall {
    scope: AdminScope,
    pending: PendingEntry,
    deadline: Option<Instant>,
}

impl AdminCall {
    pub fn scope(&self) -> &AdminScope {
        &self.scope
    }
}

/// A call of an operator over the whole installation: providers, the
/// audit trail's chains, whole databases. Only an [`Operator`] makes one.
pub struct OperatorCall(AdminCall);

impl From<OperatorCall> for AdminCall {
    fn from(call: OperatorCall) -> Self {
        call.0
    }
}

/// Whoever runs the command line: the operating-system user and host, and
/// the name a script gives itself. Every entry of their calls names them,
/// and the entries of one command share one request id.
#[derive(Debug, Clone)]
pub struct Operator {
    context: RequestContext,
}

/// The longest name a script may give itself.
const MAX_SCRIPT_NAME: usize = 64;

impl Operator {
    /// `user` on `host`; `script`, a name a script gives itself
    /// (recorded beside them, never instead).
    pub fn new(user: &str, host: &str, script: Option<&str>) -> DomainResult<Operator> {
        let mut actor = format!("{}@{}", printable(user), printable(host));
        if let Some(script) = script {
            let script = script.trim();
            let acceptable = !script.is_empty()
                && script.chars().count() <= MAX_SCRIPT_NAME
                && !script.chars().any(char::is_control);
            if !acceptable {
                return Err(DomainError::invalid(
                    Field::Actor,
                    Problem::Rule(format!(
                        "must be 1 to {MAX_SCRIPT_NAME} printable characters"
                    )),
                ));
            }
            actor = format!("{actor} ({script})");
        }
        let request_id = format!("cli-{}", crate::auth::generate_access_token());
        Ok(Operator {
            context: RequestContext::operator(request_id, actor),
        })
    }

    /// The server itself acting as its operator (the demo seed, retention).
    pub fn this_server(task: &str) -> Operator {
        Operator {
            context: RequestContext::operator(task.to_owned(), format!("connecticket {task}")),
        }
    }

    /// How entries name this operator.
    pub fn actor(&self) -> &str {
        self.context.actor.as_deref().unwrap_or_default()
    }
}

/// A name the operating system gave, kept to what an entry may hold.
fn printable(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .take(MAX_SCRIPT_NAME)
        .collect();
    if kept.is_empty() {
        "unknown".to_owned()
    } else {
        kept
    }
}

impl Connecticket {
    /// An operator's call over the whole installation, under `action`.
    pub fn operate(&self, operator: &Operator, action: Action) -> OperatorCall {
        let entry = AuditEntry::new(&operator.context, action, Outcome::Success, self.now());
        OperatorCall(AdminCall {
            scope: AdminScope {
                scope: Scope::Installation,
                by: Administrator::Operator,
            },
            pending: PendingEntry::new(entry, self.audit.clone()),
            deadline: None,
        })
    }

    /// Narrows an operator's call to one provider; an unknown provider
    /// ends the call, audited as not found.
    pub async fn within(
        &self,
        call: OperatorCall,
        provider: ProviderId,
    ) -> DomainResult<AdminCall> {
        let AdminCall { scope, pending, .. } = call.0;
        let mut entry = pending.take();
        entry.provider_id = Some(provider);
        let found = match self.store.provider(provider).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                self.append_with_outcome(entry, Outcome::NotFound).await;
                return Err(DomainError::NotFound(Entity::Provider));
            }
            Err(error) => {
                self.append_with_outcome(entry, Outcome::Error).await;
                return Err(error.into());
            }
        };
        Ok(AdminCall {
            scope: AdminScope {
                scope: Scope::Provider(found),
                by: scope.by,
            },
            pending: PendingEntry::new(entry, self.audit.clone()),
            deadline: None,
        })
    }

    /// The administration call of a console call: only one of the
    /// provider's administrators gets one; anyone else is refused, and the
    /// refusal audited under the call's action.
    pub async fn administer(&self, call: Call) -> DomainResult<AdminCall> {
        let (principal, pending, deadline) = call.into_parts();
        if principal.console_role() != Some(ConsoleRole::Administrator) {
            self.append_with_outcome(pending.take(), Outcome::Denied)
                .await;
            return Err(DomainError::Forbidden("This page is for administrators"));
        }
        Ok(AdminCall {
            scope: AdminScope {
                scope: Scope::Provider(principal.provider.clone()),
                by: Administrator::Employee(principal.employee_id),
            },
            pending,
            deadline,
        })
    }

    /// Records that a surface refused an administration call's input
    /// before its use case ran.
    pub async fn reject_admin(&self, call: impl Into<AdminCall>, outcome: Outcome) {
        let call = call.into();
        self.append_with_outcome(call.pending.take(), outcome).await;
    }

    /// Runs one administration use case: its entry is recorded under
    /// `action` (whichever surface asked) with the call's outcome, once.
    pub(crate) async fn administrate<T>(
        &self,
        call: impl Into<AdminCall>,
        action: Action,
        recorded: Recorded,
        work: impl AsyncFnOnce(&AdminScope, &mut AuditEntry) -> DomainResult<T>,
    ) -> DomainResult<T> {
        let AdminCall {
            scope,
            pending,
            deadline,
        } = call.into();
        let mut entry = pending.take();
        entry.action = action;
        if let Scope::Provider(provider) = &scope.scope {
            entry.provider_id = Some(provider.id);
        }
        self.run_recorded(entry, deadline, recorded, async |entry| {
            work(&scope, entry).await
        })
        .await
    }
}
