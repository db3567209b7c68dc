//! What a provider's administrators do in the console: employees' accounts
//! and the applications that use the API. Every call is refused to staff,
//! scoped to the administrator's provider, and audited under their name in
//! the write's own transaction.

use chrono::{DateTime, Utc};

use super::call::{Call, Recorded};
use super::console_session::ConsoleCall;
use super::Connecticket;
use crate::audit::{AuditEntry, RecordRef, RequestContext};
use crate::auth::{generate_api_secret, Principal};
use crate::console::{
    email_field, invite, invite_hash, totp, AccountHolder, ConsoleAccount, ConsoleRole, Invitation,
};
use crate::error::{DomainError, DomainResult, Entity, Field, Problem};
use crate::model::{Application, ApplicationId, Employee, EmployeeId, NewEmployee};
use crate::service::admin::new_application;
use crate::service::CreatedApplication;
use crate::validate::{required_text, MAX_SHORT_TEXT};

/// An employee as the administration page lists them.
pub type RosterEntry = (Employee, Option<ConsoleAccount>);

pub(crate) fn require_administrator(principal: &Principal) -> DomainResult<()> {
    match principal.console_role() {
        Some(ConsoleRole::Administrator) => Ok(()),
        _ => Err(DomainError::Forbidden("This page is for administrators")),
    }
}

impl Connecticket {
    /// The provider's employees and their console accounts.
    pub async fn roster(&self, call: Call) -> DomainResult<Vec<RosterEntry>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            require_administrator(principal)?;
            let roster = self.store.console_roster(principal.provider.id).await?;
            for (employee, _) in &roster {
                entry.touch(RecordRef::Employee(employee.id));
            }
            Ok(roster)
        })
        .await
    }

    /// A new employee with a console account and an invitation to set a
    /// password.
    pub async fn invite_employee(
        &self,
        call: Call,
        name: &str,
        email: &str,
        role: ConsoleRole,
    ) -> DomainResult<Invitation> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            let now = self.now();
            let name = required_text(Field::Name, name, MAX_SHORT_TEXT)?;
            let email = email_field(email)?;
            let mut account = ConsoleAccount::new(
                EmployeeId(0),
                principal.provider.id,
                email.clone(),
                role,
                now,
            );
            let mut invitation = invite(&self.hasher, &mut account, now);
            let employee = NewEmployee {
                id: None,
                provider_id: principal.provider.id,
                name,
                email: Some(email),
                created_at: now,
            };
            invitation.employee_id = self
                .store
                .create_console_employee(employee, account, Some(entry.clone()))
                .await?;
            Ok(invitation)
        })
        .await
    }

    /// A new invitation for an employee: their password and second factor
    /// are cleared and their sessions end. An employee without an account
    /// gets one (`email` required then), as staff unless `role` says.
    pub async fn reset_console_account(
        &self,
        call: Call,
        employee: EmployeeId,
        email: Option<&str>,
        role: Option<ConsoleRole>,
    ) -> DomainResult<Invitation> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            entry.touch(RecordRef::Employee(employee));
            let now = self.now();
            let mut account = self.account_of(principal, employee, email, now).await?;
            if let Some(role) = role {
                account.role = role;
            }
            let invitation = invite(&self.hasher, &mut account, now);
            self.store
                .save_console_account(account, true, Some(entry.clone()))
                .await?;
            Ok(invitation)
        })
        .await
    }

    /// Changes an employee's role; their sessions end, so the new role
    /// holds from their next sign-in. An administrator cannot change their
    /// own role (a provider is never left without one by accident).
    pub async fn set_console_role(
        &self,
        call: Call,
        employee: EmployeeId,
        role: ConsoleRole,
    ) -> DomainResult<()> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            entry.touch(RecordRef::Employee(employee));
            if employee == principal.employee_id {
                return Err(DomainError::invalid(
                    Field::Role,
                    Problem::Rule("cannot be changed on your own account".to_owned()),
                ));
            }
            let now = self.now();
            let mut account = self.account_of(principal, employee, None, now).await?;
            account.role = role;
            account.updated_at = now;
            self.store
                .save_console_account(account, true, Some(entry.clone()))
                .await
                .map_err(DomainError::from)
        })
        .await
    }

    /// Whether every account of the provider must use a second factor.
    pub async fn require_second_factor(&self, call: Call, required: bool) -> DomainResult<()> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            entry.records.insert(format!("require_totp:{required}"));
            self.store
                .set_console_totp_required(principal.provider.id, required, entry.clone())
                .await
                .map_err(DomainError::from)
        })
        .await
    }

    /// The employee's account, or a new one (with `email`) for an employee
    /// of the provider who has none.
    async fn account_of(
        &self,
        principal: &Principal,
        employee: EmployeeId,
        email: Option<&str>,
        now: DateTime<Utc>,
    ) -> DomainResult<ConsoleAccount> {
        let roster = self.store.console_roster(principal.provider.id).await?;
        let Some((found, account)) = roster.into_iter().find(|(e, _)| e.id == employee) else {
            return Err(DomainError::NotFound(Entity::Employee));
        };
        if let Some(account) = account {
            return Ok(account);
        }
        let email = match email.or(found.email.as_deref()) {
            Some(email) => email_field(email)?,
            None => return Err(DomainError::invalid(Field::Email, Problem::Required)),
        };
        Ok(ConsoleAccount::new(
            employee,
            principal.provider.id,
            email,
            ConsoleRole::Staff,
            now,
        ))
    }

    pub async fn console_applications(&self, call: Call) -> DomainResult<Vec<Application>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            require_administrator(principal)?;
            let applications = self.store.applications(principal.provider.id).await?;
            for application in &applications {
                entry.touch(RecordRef::Application(application.id));
            }
            Ok(applications)
        })
        .await
    }

    /// Registers an application acting as the administrator; its secret
    /// is in the answer and nowhere else.
    pub async fn register_application(
        &self,
        call: Call,
        name: &str,
    ) -> DomainResult<CreatedApplication> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            let (new, api_secret) = new_application(
                &self.hasher,
                principal.provider.id,
                principal.employee_id,
                name,
                self.now(),
            )?;
            let application = self
                .store
                .create_application(new, Some(entry.clone()))
                .await?;
            Ok(CreatedApplication {
                application,
                api_secret,
            })
        })
        .await
    }

    /// Revokes an application and every token it holds.
    pub async fn revoke_console_application(
        &self,
        call: Call,
        id: ApplicationId,
    ) -> DomainResult<Application> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            entry.touch(RecordRef::Application(id));
            Ok(self
                .store
                .revoke_application(principal.provider.id, id, self.now(), Some(entry.clone()))
                .await?)
        })
        .await
    }

    /// A new secret (shown once); the old one and its tokens stop working.
    pub async fn rotate_console_application(
        &self,
        call: Call,
        id: ApplicationId,
    ) -> DomainResult<CreatedApplication> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            entry.touch(RecordRef::Application(id));
            let api_secret = generate_api_secret();
            let application = self
                .store
                .rotate_secret(
                    principal.provider.id,
                    id,
                    self.hasher.hash_api_secret(&api_secret),
                    self.now(),
                    Some(entry.clone()),
                )
                .await?;
            Ok(CreatedApplication {
                application,
                api_secret,
            })
        })
        .await
    }

    /// The account an invitation link names, if it still works. Audited:
    /// the link is a credential.
    pub async fn invitation(
        &self,
        context: &RequestContext,
        token: &str,
    ) -> DomainResult<Option<AccountHolder>> {
        let now = self.now();
        self.refuse_a_guesser(context, crate::audit::Action::ConsoleAccount)?;
        let mut entry = AuditEntry::new(
            context,
            crate::audit::Action::ConsoleAccount,
            crate::audit::Outcome::Success,
            now,
        );
        let holder = self
            .store
            .console_account_by_invite(&invite_hash(&self.hasher, token), now)
            .await?;
        let Some(holder) = holder else {
            // A guessed or spent link: counted with the other refusals.
            return match self.refuse::<()>(entry, DomainError::NotFound(Entity::Employee)) {
                Err(DomainError::NotFound(_)) => Ok(None),
                other => other.map(|()| None),
            };
        };
        entry.provider_id = Some(holder.provider.id);
        entry.employee_id = Some(holder.account.employee_id);
        super::record(&self.store, entry, Ok(holder))
            .await
            .map(Some)
    }

    /// Sets the password of the account an invitation link names; the
    /// link then stops working and the account's sessions end.
    pub async fn accept_invitation(
        &self,
        context: &RequestContext,
        token: &str,
        new_password: &str,
    ) -> DomainResult<AccountHolder> {
        let Some(mut holder) = self.invitation(context, token).await? else {
            return Err(DomainError::NotFound(Entity::Employee));
        };
        let hash = self.passwords.hash_new(new_password).await?;
        let now = self.now();
        let mut entry = AuditEntry::new(
            context,
            crate::audit::Action::ConsoleAccount,
            crate::audit::Outcome::Success,
            now,
        );
        entry.provider_id = Some(holder.provider.id);
        entry.employee_id = Some(holder.account.employee_id);
        entry.records.insert("password:set".to_owned());
        holder.account.password_hash = Some(hash);
        holder.account.invite_hash = None;
        holder.account.invite_expires_at = None;
        holder.account.updated_at = now;
        self.store
            .save_console_account(holder.account.clone(), true, Some(entry))
            .await?;
        Ok(holder)
    }

    /// Enrols the signed-in person's authenticator: `secret_text` is the
    /// base32 secret their page showed, `code` what the app shows now.
    /// A new second-factor secret offered to this session's page: the
    /// secret as people type it, and a field the form sends back, signed
    /// for this session, so that no other secret can be enrolled.
    pub fn totp_offer(&self, console: &ConsoleCall, secret: &[u8]) -> (String, String) {
        let text = totp::secret_text(secret);
        let mac = hex::encode(
            &self
                .hasher
                .hash("totp_offer", &format!("{}.{text}", console.session.0))[..16],
        );
        (text.clone(), format!("{text}.{mac}"))
    }

    fn secret_of_offer(&self, console: &ConsoleCall, offer: &str) -> Option<Vec<u8>> {
        let (text, mac) = offer.rsplit_once('.')?;
        let expected = hex::encode(
            &self
                .hasher
                .hash("totp_offer", &format!("{}.{text}", console.session.0))[..16],
        );
        crate::auth::constant_time_eq(expected.as_bytes(), mac.as_bytes())
            .then(|| totp::secret_from_text(text))
            .flatten()
    }

    /// Sets up (or replaces) the signed-in person's second factor: the
    /// secret this server offered, a code from it, and the password;
    /// replacing one also takes a current code of the old. The new code's
    /// step counts as used.
    pub async fn enrol_second_factor(
        &self,
        console: &ConsoleCall,
        enrolment: SecondFactorEnrolment<'_>,
    ) -> DomainResult<()> {
        let holder = &console.holder;
        self.run(
            console.call(crate::audit::Action::ConsoleAccount),
            Recorded::ByTheWrite,
            async |_, entry| {
                let secret = self
                    .secret_of_offer(console, enrolment.offer)
                    .ok_or_else(|| {
                        DomainError::invalid(
                            Field::Code,
                            Problem::Rule(
                                "belongs to an older page; use the code of the secret shown now"
                                    .to_owned(),
                            ),
                        )
                    })?;
                let stored = holder.account.password_hash.clone();
                let lane = crate::console::password::HashLane::KnownDevice;
                if !self
                    .passwords
                    .verify(enrolment.password, stored, lane)
                    .await?
                {
                    return Err(DomainError::invalid(
                        Field::Password,
                        Problem::Rule("is not your current password".to_owned()),
                    ));
                }
                let now = self.now();
                if let Some(old) = &holder.account.totp_secret {
                    let current = enrolment.current_code.unwrap_or_default();
                    if totp::step_of(old, current, now).is_none() {
                        return Err(DomainError::invalid(
                            Field::CurrentCode,
                            Problem::Rule(
                                "does not match the authenticator you use now".to_owned(),
                            ),
                        ));
                    }
                }
                let step = totp::step_of(&secret, enrolment.code, now).ok_or_else(|| {
                    DomainError::invalid(
                        Field::Code,
                        Problem::Rule(
                            "does not match the authenticator; try the next one".to_owned(),
                        ),
                    )
                })?;
                let replaced = holder.account.totp_secret.is_some();
                let mut account = holder.account.clone();
                account.totp_secret = Some(secret);
                account.updated_at = now;
                entry.records.insert(
                    match replaced {
                        true => "totp:replaced",
                        false => "totp:enrolled",
                    }
                    .to_owned(),
                );
                self.store
                    .enrol_second_factor(account, step, entry.clone())
                    .await
                    .map_err(DomainError::from)
            },
        )
        .await
    }
}

/// What a person sends to set up or replace their second factor.
pub struct SecondFactorEnrolment<'a> {
    /// The signed secret the page was offered (`totp_offer`).
    pub offer: &'a str,
    /// A code of the new secret.
    pub code: &'a str,
    /// The account's password.
    pub password: &'a str,
    /// A code of the second factor already set up, when replacing it.
    pub current_code: Option<&'a str>,
}
