//! Employees and their console accounts: who works for a provider, who
//! may sign in, as what, and whether a second factor is required.

use chrono::{DateTime, Utc};

use super::{AdminCall, AdminScope, Administrator, OperatorCall};
use crate::audit::{Action, RecordRef};
use crate::console::{email_field, invite, ConsoleAccount, ConsoleRole, Invitation};
use crate::error::{DomainError, DomainResult, Entity, Field, Problem};
use crate::model::{Employee, EmployeeId, NewEmployee};
use crate::service::audit::Recorded;
use crate::service::Connecticket;
use crate::validate::{required_text, MAX_SHORT_TEXT};

/// An employee as the administration lists them: with their console
/// account, if they have one.
pub type RosterEntry = (Employee, Option<ConsoleAccount>);

/// A new employee as an administrator enters them.
#[derive(Debug, Clone, Copy)]
pub struct NewEmployeeRequest<'a> {
    /// Shown as `commented_by` on their comments.
    pub name: &'a str,
    pub email: Option<&'a str>,
    /// A console account with this role, and an invitation to it (the
    /// address is then required); none: no account yet.
    pub console_role: Option<ConsoleRole>,
}

impl Connecticket {
    /// The provider's employees with their console accounts, by id.
    pub async fn roster(&self, call: AdminCall) -> DomainResult<Vec<RosterEntry>> {
        self.administrate(
            call,
            Action::Employees,
            Recorded::Afterwards,
            async |scope, entry| {
                let roster = self.store.console_roster(scope.provider_id()?).await?;
                for (employee, _) in &roster {
                    entry.touch(RecordRef::Employee(employee.id));
                }
                Ok(roster)
            },
        )
        .await
    }

    /// A new employee; with a console role, also their account and its
    /// invitation (whose link is in the answer and nowhere else).
    pub async fn create_employee(
        &self,
        call: AdminCall,
        request: NewEmployeeRequest<'_>,
    ) -> DomainResult<(Employee, Option<Invitation>)> {
        self.administrate(
            call,
            Action::ManageEmployees,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let provider = scope.provider_id()?;
                let now = self.now();
                let name = required_text(Field::Name, request.name, MAX_SHORT_TEXT)?;
                let email = match (request.email, request.console_role) {
                    (Some(email), _) => Some(email_field(email)?),
                    (None, Some(_)) => {
                        return Err(DomainError::invalid(Field::Email, Problem::Required))
                    }
                    (None, None) => None,
                };
                let new = NewEmployee {
                    id: None,
                    provider_id: provider,
                    name,
                    email: email.clone(),
                    created_at: now,
                };
                let Some((role, email)) = request.console_role.zip(email) else {
                    let employee = self.store.create_employee(new, entry.clone()).await?;
                    return Ok((employee, None));
                };
                let mut account = ConsoleAccount::new(EmployeeId(0), provider, email, role, now);
                let mut invitation = invite(&self.hasher, &mut account, now);
                entry.records.insert("invitation:issued".to_owned());
                let id = self
                    .store
                    .create_console_employee(new.clone(), account, entry.clone())
                    .await?;
                invitation.employee_id = id;
                let employee = Employee {
                    id,
                    provider_id: new.provider_id,
                    name: new.name,
                    email: new.email,
                    created_at: new.created_at,
                };
                Ok((employee, Some(invitation)))
            },
        )
        .await
    }

    /// A console account for an employee, or a fresh invitation to the one
    /// they have: their password and second factor are cleared and their
    /// sessions end. `email` replaces the account's address (and is
    /// required for an employee with neither account nor address); `role`
    /// replaces its role (a new account is staff unless it says).
    pub async fn invite_to_console(
        &self,
        call: AdminCall,
        employee: EmployeeId,
        email: Option<&str>,
        role: Option<ConsoleRole>,
    ) -> DomainResult<Invitation> {
        self.administrate(
            call,
            Action::ManageEmployees,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Employee(employee));
                entry.records.insert("invitation:issued".to_owned());
                let now = self.now();
                let mut account = self.account_of(scope, employee, email, now).await?;
                if let Some(role) = role {
                    account.role = role;
                }
                let invitation = invite(&self.hasher, &mut account, now);
                self.store
                    .save_console_account(account, true, entry.clone())
                    .await?;
                Ok(invitation)
            },
        )
        .await
    }

    /// Changes an employee's console role; their sessions end, so the new
    /// role holds from their next sign-in. An administrator cannot change
    /// their own (a provider is never left without one by accident).
    pub async fn set_console_role(
        &self,
        call: AdminCall,
        employee: EmployeeId,
        role: ConsoleRole,
    ) -> DomainResult<()> {
        self.administrate(
            call,
            Action::ManageEmployees,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Employee(employee));
                entry.records.insert(format!("role:{}", role.as_str()));
                if scope.by == Administrator::Employee(employee) {
                    return Err(DomainError::invalid(
                        Field::Role,
                        Problem::Rule("cannot be changed on your own account".to_owned()),
                    ));
                }
                let now = self.now();
                let mut account = self.account_of(scope, employee, None, now).await?;
                account.role = role;
                account.updated_at = now;
                Ok(self
                    .store
                    .save_console_account(account, true, entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// Whether every console account of the provider must use a second
    /// factor.
    pub async fn require_second_factor(&self, call: AdminCall, required: bool) -> DomainResult<()> {
        self.administrate(
            call,
            Action::ManageEmployees,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.records.insert(format!("require_totp:{required}"));
                Ok(self
                    .store
                    .set_console_totp_required(scope.provider_id()?, required, entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// Sets the password of the console account with this address, of any
    /// provider (an operator's way in, e.g. to replace the demo's published
    /// one): its sessions end and a pending invitation stops working.
    pub async fn set_console_password(
        &self,
        call: OperatorCall,
        email: &str,
        new_password: &str,
    ) -> DomainResult<()> {
        self.administrate(
            call,
            Action::ConsoleAccount,
            Recorded::ByTheWrite,
            async |_, entry| {
                entry.records.insert("password:set".to_owned());
                let email = email_field(email)?;
                let Some(holder) = self.store.console_account_by_email(email).await? else {
                    return Err(DomainError::NotFound(Entity::Employee));
                };
                let mut account = holder.account;
                entry.provider_id = Some(account.provider_id);
                entry.touch(RecordRef::Employee(account.employee_id));
                let hash = self.passwords.hash_new(new_password).await?;
                account.password_hash = Some(hash);
                account.invite_hash = None;
                account.invite_expires_at = None;
                account.updated_at = self.now();
                Ok(self
                    .store
                    .save_console_account(account, true, entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// The employee's account (its address replaced by `email`, if
    /// given), or a new staff account for an employee of the provider who
    /// has none.
    async fn account_of(
        &self,
        scope: &AdminScope,
        employee: EmployeeId,
        email: Option<&str>,
        now: DateTime<Utc>,
    ) -> DomainResult<ConsoleAccount> {
        let provider = scope.provider_id()?;
        let roster = self.store.console_roster(provider).await?;
        let Some((found, account)) = roster.into_iter().find(|(e, _)| e.id == employee) else {
            return Err(DomainError::NotFound(Entity::Employee));
        };
        if let Some(mut account) = account {
            if let Some(email) = email {
                account.email = email_field(email)?;
            }
            return Ok(account);
        }
        let email = match email.or(found.email.as_deref()) {
            Some(email) => email_field(email)?,
            None => return Err(DomainError::invalid(Field::Email, Problem::Required)),
        };
        Ok(ConsoleAccount::new(
            employee,
            provider,
            email,
            ConsoleRole::Staff,
            now,
        ))
    }
}
