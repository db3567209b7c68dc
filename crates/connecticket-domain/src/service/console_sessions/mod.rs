//! The console's sign-in, sessions and sign-out.
//!
//! A session is a random token in an `HttpOnly` cookie; the store keeps
//! its keyed hash, so a stolen database opens no session. Every request
//! finds the session in the database (no cache: a sign-out on one
//! instance ends it on all at once) and restarts its idle clock. The
//! CSRF token of a session is derived from its token under the server's
//! key, so it needs no storage and changes with every sign-in.

mod account;
mod display;

pub use account::SecondFactorEnrolment;
pub use display::{DisplayBoard, PairingOffer};

use chrono::{DateTime, Utc};

use crate::audit::{Action, AuditEntry, Outcome, RecordRef, RequestContext};
use crate::auth::{constant_time_eq, Principal, Via};
use crate::console::password::HashLane;
use crate::console::{normalize_email, totp, AccountHolder, NewSession, SessionEnd, SessionId};
use crate::error::{DomainError, DomainResult};
use crate::service::access::sign_in_scopes;
use crate::service::audit::{Call, Recorded};
use crate::service::connecticket::entry_for;
use crate::service::Connecticket;

/// Tokens longer than this cannot be ours; refuse them without hashing.
const MAX_SESSION_TOKEN: usize = 128;

/// How long a sign-in or invitation form's token is good for: a form may
/// sit open on a ward tablet for a while, but not for days.
const FORM_TOKEN_SECS: i64 = 2 * 60 * 60;

/// How long a device stays known to an account after a sign-in on it.
pub const DEVICE_COOKIE_SECS: i64 = 180 * 24 * 60 * 60;

/// A new session: its token goes into the cookie, once; and the device
/// cookie that marks this browser as one the account signed in on.
pub struct SignedIn {
    pub token: String,
    pub holder: AccountHolder,
    pub device: String,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("employee", &self.holder.account.employee_id)
            .finish_non_exhaustive()
    }
}

/// What a person sends to sign in, and the device cookie their browser
/// carries, if any.
#[derive(Clone, Copy)]
pub struct SignInAttempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub code: Option<&'a str>,
    pub device: Option<&'a str>,
}

/// A console request whose session checked out: who is signed in, the
/// session's CSRF token (for the forms the page renders and to check the
/// one a form brings back), and the calls its page makes. A page may show
/// what several use cases read; each is its own audited call.
pub struct ConsoleCall {
    pub holder: AccountHolder,
    pub session: SessionId,
    principal: Principal,
    context: RequestContext,
    audit: crate::service::audit::AuditSink,
    at: DateTime<Utc>,
    csrf: String,
}

impl ConsoleCall {
    /// A call of one use case on this request's behalf.
    pub fn call(&self, action: Action) -> Call {
        let entry = entry_for(&self.context, action, &self.principal, self.at);
        Call::new(
            self.principal.clone(),
            entry,
            self.context.deadline,
            self.audit.clone(),
        )
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Records that the surface refused what the page would do, under
    /// `action` (a form without its CSRF token, a malformed body).
    pub async fn refuse(&self, action: Action, outcome: Outcome) {
        let mut entry = entry_for(&self.context, action, &self.principal, self.at);
        entry.outcome = outcome;
        if let Err(error) = self.audit.store.append_audit(entry).await {
            tracing::error!(%error, "could not record a refused console request");
        }
    }

    pub fn csrf_token(&self) -> &str {
        &self.csrf
    }

    /// Whether a form brought this session's CSRF token (constant time).
    pub fn csrf_matches(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|token| constant_time_eq(token.as_bytes(), self.csrf.as_bytes()))
    }
}

/// A person whose session ran out (too long idle, or too old) rather than
/// being signed out: what they were sending when it did may be kept for
/// them until they sign in again.
pub struct Lapsed {
    employee_id: crate::model::EmployeeId,
    csrf: String,
}

impl std::fmt::Debug for Lapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the session's CSRF token.
        f.debug_struct("Lapsed")
            .field("employee_id", &self.employee_id)
            .finish_non_exhaustive()
    }
}

impl Lapsed {
    /// Whether a form came from a page of the lapsed session (constant
    /// time): only such a form's fields are kept.
    pub fn csrf_matches(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|token| constant_time_eq(token.as_bytes(), self.csrf.as_bytes()))
    }
}

/// How long after a session lapsed what its person was typing is kept.
pub const DRAFT_KEPT_FOR: chrono::Duration = chrono::Duration::hours(1);

impl Connecticket {
    /// The session `token` names, if it lapsed (and did not end by signing
    /// out) within `DRAFT_KEPT_FOR`.
    pub async fn lapsed_session(&self, token: Option<&str>) -> DomainResult<Option<Lapsed>> {
        let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= MAX_SESSION_TOKEN) else {
            return Ok(None);
        };
        let Some(session) = self.store.console_session(self.session_hash(token)).await? else {
            return Ok(None);
        };
        let now = self.now();
        let lapsed_at = match session.ended_at {
            // Ended when a later request found it lapsed.
            Some(ended) if session.lapsed_by(ended) => ended,
            Some(_) => return Ok(None),
            None if session.ended(now).is_some() => now,
            None => return Ok(None),
        };
        if now - lapsed_at > DRAFT_KEPT_FOR {
            return Ok(None);
        }
        Ok(Some(Lapsed {
            employee_id: session.holder.account.employee_id,
            csrf: self.csrf_for(token),
        }))
    }

    /// What a lapsed session's person was sending, sealed so that only
    /// their next session can open it.
    pub fn seal_draft(&self, lapsed: &Lapsed, plain: &[u8]) -> String {
        let owner = format!("employee:{}", lapsed.employee_id);
        crate::console::seal::seal(&self.hasher, &owner, "draft", plain)
    }

    /// A draft `seal_draft` sealed for this session's person.
    pub fn open_draft(&self, console: &ConsoleCall, sealed: &str) -> Option<Vec<u8>> {
        let owner = format!("employee:{}", console.holder.account.employee_id);
        crate::console::seal::open(&self.hasher, &owner, "draft", sealed)
    }

    /// `plain` sealed for this session alone (see `console::seal`).
    pub fn seal_for(&self, console: &ConsoleCall, purpose: &str, plain: &[u8]) -> String {
        crate::console::seal::seal(&self.hasher, &console.csrf, purpose, plain)
    }

    /// What `seal_for` sealed for this session and purpose.
    pub fn open_for(&self, console: &ConsoleCall, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        crate::console::seal::open(&self.hasher, &console.csrf, purpose, sealed)
    }

    fn session_hash(&self, token: &str) -> Vec<u8> {
        self.hasher.hash("console_session", token)
    }

    fn csrf_for(&self, token: &str) -> String {
        hex::encode(&self.hasher.hash("console_csrf", token)[..20])
    }

    /// A token for a form shown before anyone signed in (sign-in,
    /// invitation): issued by this server, under its key, and good for
    /// two hours. The form brings it back in a cookie and a field; only a
    /// token this server issued is accepted, so no one can post the form
    /// without having fetched it.
    pub fn issue_form_token(&self) -> String {
        let nonce = crate::auth::generate_api_secret();
        let issued = self.now().timestamp();
        let body = format!("{nonce}.{issued}");
        let mac = hex::encode(&self.hasher.hash("console_form", &body)[..16]);
        format!("{body}.{mac}")
    }

    /// Whether this server issued `token` in the last two hours.
    pub fn form_token_valid(&self, token: &str) -> bool {
        let Some((body, mac)) = token.rsplit_once('.') else {
            return false;
        };
        let Some(issued) = body
            .split_once('.')
            .and_then(|(_, issued)| issued.parse::<i64>().ok())
        else {
            return false;
        };
        let expected = hex::encode(&self.hasher.hash("console_form", body)[..16]);
        let age = self.now().timestamp() - issued;
        constant_time_eq(expected.as_bytes(), mac.as_bytes())
            && (0..=FORM_TOKEN_SECS).contains(&age)
    }

    /// The device cookie for a browser `email` just signed in on: the
    /// address's keyed hash and the time, signed under the server's key.
    fn device_cookie(&self, email: &str) -> String {
        let account = hex::encode(&self.hasher.hash("console_device_account", email)[..16]);
        let body = format!("{account}.{}", self.now().timestamp());
        let mac = hex::encode(&self.hasher.hash("console_device", &body)[..16]);
        format!("{body}.{mac}")
    }

    /// Whether `cookie` is a device cookie this server issued in the last
    /// 180 days, to whichever account.
    pub fn device_cookie_valid(&self, cookie: &str) -> bool {
        let Some((body, mac)) = cookie.rsplit_once('.') else {
            return false;
        };
        let Some((_, issued)) = body.split_once('.') else {
            return false;
        };
        let expected = hex::encode(&self.hasher.hash("console_device", body)[..16]);
        let age = issued
            .parse::<i64>()
            .map(|issued| self.now().timestamp() - issued);
        constant_time_eq(expected.as_bytes(), mac.as_bytes())
            && age.is_ok_and(|age| (0..=DEVICE_COOKIE_SECS).contains(&age))
    }

    /// Whether `cookie` says this browser signed in as `email` within the
    /// last 180 days.
    fn known_device(&self, cookie: Option<&str>, email: &str) -> bool {
        let Some(cookie) = cookie.filter(|cookie| self.device_cookie_valid(cookie)) else {
            return false;
        };
        let account = cookie.split('.').next().unwrap_or_default();
        let ours = hex::encode(&self.hasher.hash("console_device_account", email)[..16]);
        constant_time_eq(ours.as_bytes(), account.as_bytes())
    }

    /// Checks an address, password and (for an account that has one, or
    /// whose provider requires one) second-factor code, and opens a
    /// session. Attempts are throttled per client address, per (address,
    /// account) and per account, counted before the password is checked;
    /// a code is good once; every attempt is audited.
    pub async fn sign_in(
        &self,
        context: &RequestContext,
        attempt: SignInAttempt<'_>,
    ) -> DomainResult<SignedIn> {
        let now = self.now();
        let mut entry = AuditEntry::new(context, Action::SignIn, Outcome::Success, now);
        let result = self.try_sign_in(context, attempt, now, &mut entry).await;
        match result {
            // The session's row and its entry were written together.
            Ok(signed_in) => Ok(signed_in),
            Err(error) => self.record(entry, Err(error)).await,
        }
    }

    async fn try_sign_in(
        &self,
        context: &RequestContext,
        attempt: SignInAttempt<'_>,
        now: DateTime<Utc>,
        entry: &mut AuditEntry,
    ) -> DomainResult<SignedIn> {
        let SignInAttempt {
            email,
            password: password_text,
            code,
            device,
        } = attempt;
        let address = context
            .client_addr
            .map_or_else(|| "unknown".to_owned(), |addr| addr.to_string());
        let email = normalize_email(email).unwrap_or_default();
        let known_device = self.known_device(device, &email);
        if known_device {
            entry.records.insert("device:known".to_owned());
        }
        let scopes = sign_in_scopes(&email, &address, known_device, &self.settings.throttle);
        let claimed = self.claim_attempt(scopes, now).await?;
        let holder = match email.is_empty() {
            true => None,
            false => self.store.console_account_by_email(email.clone()).await?,
        };
        let stored_hash = holder
            .as_ref()
            .and_then(|holder| holder.account.password_hash.clone());
        let lane = match known_device {
            true => HashLane::KnownDevice,
            false => HashLane::Ordinary,
        };
        let password_ok = match self
            .passwords
            .verify(password_text, stored_hash, lane)
            .await
        {
            Ok(matched) => matched,
            Err(busy) => {
                // Never checked: not a failure of this account.
                claimed.forgive(&self.store).await?;
                return Err(busy);
            }
        };
        if let Some(holder) = &holder {
            entry.provider_id = Some(holder.provider.id);
            entry.employee_id = Some(holder.account.employee_id);
        }
        let totp_step = holder
            .as_ref()
            .and_then(|h| h.account.totp_secret.as_ref())
            .map(|secret| code.and_then(|code| totp::step_of(secret, code, now)));
        let second_factor_ok = !matches!(totp_step, Some(None));
        let Some(holder) = holder.filter(|_| password_ok && second_factor_ok) else {
            // The attempt was counted before it was checked.
            return Err(DomainError::InvalidSignIn);
        };
        let token = crate::auth::generate_api_secret();
        let session = NewSession {
            token_hash: self.session_hash(&token),
            employee_id: holder.account.employee_id,
            provider_id: holder.provider.id,
            at: now,
            totp_step: totp_step.flatten(),
        };
        entry.touch(RecordRef::Employee(holder.account.employee_id));
        let created = self
            .store
            .create_console_session(session, entry.clone())
            .await?;
        if created.is_none() {
            // The code was right, but used already: a replay.
            entry.records.insert("reason:code_reused".to_owned());
            return Err(DomainError::InvalidSignIn);
        }
        claimed.forgive(&self.store).await?;
        let device = self.device_cookie(&email);
        Ok(SignedIn {
            token,
            holder,
            device,
        })
    }

    /// Finds the session a console request's cookie names, for `action`.
    /// A missing, ended, idle (15 minutes) or too old (12 hours) session
    /// is `SignInRequired`; the first request that finds one past its
    /// limit ends it and audits why. `active`: a person made this request,
    /// so the idle clock restarts (a page refreshing itself is not one).
    pub async fn console_call(
        &self,
        context: &RequestContext,
        action: Action,
        token: Option<&str>,
        active: bool,
    ) -> DomainResult<ConsoleCall> {
        let now = self.now();
        self.refuse_a_guesser(context, action)?;
        let mut entry = AuditEntry::new(context, action, Outcome::Denied, now);
        let found = match token.filter(|t| !t.is_empty() && t.len() <= MAX_SESSION_TOKEN) {
            Some(token) => self
                .store
                .console_session(self.session_hash(token))
                .await?
                .map(|session| (token, session)),
            None => None,
        };
        let Some((token, session)) = found else {
            return self.refuse(entry, DomainError::SignInRequired);
        };
        let holder = session.holder.clone();
        entry.provider_id = Some(holder.provider.id);
        entry.employee_id = Some(holder.account.employee_id);
        if let Some(end) = session.ended(now) {
            if end != SessionEnd::SignedOut {
                let mut ended = AuditEntry::new(context, Action::SignOut, Outcome::Success, now);
                ended.provider_id = entry.provider_id;
                ended.employee_id = entry.employee_id;
                ended.records.insert(format!("reason:{}", end.as_str()));
                self.store
                    .end_console_session(session.id, now, ended)
                    .await?;
            }
            return self.record(entry, Err(DomainError::SignInRequired)).await;
        }
        if active {
            self.store.touch_console_session(session.id, now).await?;
        }
        let principal = Principal {
            provider: holder.provider.clone(),
            employee_id: holder.account.employee_id,
            via: Via::Console {
                session: session.id,
                role: holder.account.role,
            },
        };
        let needs_enrolment = holder.provider_requires_totp && !holder.account.has_second_factor();
        if needs_enrolment && action != Action::ConsoleAccount && action != Action::SignOut {
            return self
                .record(entry, Err(DomainError::SecondFactorRequired))
                .await;
        }
        Ok(ConsoleCall {
            holder,
            session: session.id,
            principal,
            context: context.clone(),
            audit: self.audit.clone(),
            at: now,
            csrf: self.csrf_for(token),
        })
    }

    /// Ends every session of the call's employee, on every device: for a
    /// lost tablet, or a password someone may have seen.
    pub async fn sign_out_everywhere(&self, call: Call) -> DomainResult<u64> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            if !matches!(principal.via, Via::Console { .. }) {
                return Err(DomainError::Forbidden("only a console session signs out"));
            }
            entry
                .records
                .insert("reason:signed_out_everywhere".to_owned());
            Ok(self
                .store
                .end_sessions_of(principal.employee_id, self.now(), entry.clone())
                .await?)
        })
        .await
    }

    /// Ends the call's session (everywhere: it is the database's row).
    pub async fn sign_out(&self, call: Call) -> DomainResult<()> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            let Via::Console { session, .. } = principal.via else {
                return Err(DomainError::Forbidden("only a console session signs out"));
            };
            entry.records.insert("reason:signed_out".to_owned());
            self.store
                .end_console_session(session, self.now(), entry.clone())
                .await?;
            Ok(())
        })
        .await
    }
}
