//! The operator's part in console accounts: the first administrator of a
//! provider is made from the command line (`employee invite`), and an
//! operator can set a password directly (`employee set-password`), for
//! example to replace the demo's published one. Both are audited as the
//! operator's.

use super::admin::AdminService;
use crate::audit::{Action, RecordRef};
use crate::console::{email_field, invite, password, ConsoleAccount, ConsoleRole, Invitation};
use crate::error::{DomainError, DomainResult, Entity, Field, Problem};
use crate::model::{EmployeeId, ProviderId};

impl AdminService {
    /// Gives an employee a console account (or a fresh invitation to the
    /// one they have: their password and second factor are cleared and
    /// their sessions end), and returns the one-time link's token.
    pub async fn invite_to_console(
        &self,
        provider: ProviderId,
        employee: EmployeeId,
        email: Option<&str>,
        role: Option<ConsoleRole>,
    ) -> DomainResult<Invitation> {
        let now = self.now();
        let roster = self.store.console_roster(provider).await?;
        let Some((found, existing)) = roster.into_iter().find(|(e, _)| e.id == employee) else {
            return Err(DomainError::NotFound(Entity::Employee));
        };
        let mut account = match existing {
            Some(mut account) => {
                if let Some(email) = email {
                    account.email = email_field(email)?;
                }
                account
            }
            None => {
                let email = email
                    .or(found.email.as_deref())
                    .ok_or_else(|| DomainError::invalid(Field::Email, Problem::Required))?;
                ConsoleAccount::new(
                    employee,
                    provider,
                    email_field(email)?,
                    ConsoleRole::Staff,
                    now,
                )
            }
        };
        if let Some(role) = role {
            account.role = role;
        }
        let invitation = invite(self.hasher(), &mut account, now);
        let mut entry = self.operator_entry(Action::ManageEmployees, provider);
        entry.touch(RecordRef::Employee(employee));
        entry.records.insert("invitation:issued".to_owned());
        self.store
            .save_console_account(account, true, Some(entry))
            .await?;
        Ok(invitation)
    }

    /// Sets the password of the account with this address (its sessions
    /// end, a pending invitation stops working).
    pub async fn set_console_password(&self, email: &str, new_password: &str) -> DomainResult<()> {
        let email = email_field(email)?;
        let Some(holder) = self.store.console_account_by_email(&email).await? else {
            return Err(DomainError::NotFound(Entity::Employee));
        };
        // One operator command hashes one password.
        let hash = password::HashingGate::new(1, 1)
            .hash_new(new_password)
            .await?;
        let mut account = holder.account;
        account.password_hash = Some(hash);
        account.invite_hash = None;
        account.invite_expires_at = None;
        account.updated_at = self.now();
        let mut entry = self.operator_entry(Action::ConsoleAccount, account.provider_id);
        entry.touch(RecordRef::Employee(account.employee_id));
        entry.records.insert("password:set".to_owned());
        self.store
            .save_console_account(account, true, Some(entry))
            .await?;
        Ok(())
    }
}
