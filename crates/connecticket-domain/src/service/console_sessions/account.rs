//! A console account in its holder's hands: the invitation link that sets
//! its first password, and the second factor its holder sets up.

use super::ConsoleCall;
use crate::audit::{AuditEntry, RequestContext};
use crate::console::{invite_hash, totp, AccountHolder};
use crate::error::{DomainError, DomainResult, Entity, Field, Problem};
use crate::service::audit::Recorded;
use crate::service::Connecticket;

impl Connecticket {
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
            .console_account_by_invite(invite_hash(&self.hasher, token), now)
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
        self.record(entry, Ok(holder)).await.map(Some)
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
            .save_console_account(holder.account.clone(), true, entry)
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
