//! The staff console's accounts and sessions (HIPAA 164.312(a), (d)):
//! who may sign in, with which role, and how long a signed-in browser
//! stays trusted.
//!
//! An account belongs to one employee. Its password is hashed with
//! argon2id (`password`): unlike api secrets, people choose passwords, so
//! a slow hash is what stands between a stolen database and them. A
//! session lives in the database, so every instance honours it and a
//! sign-out ends it everywhere; the browser holds only a random token
//! whose keyed hash is stored.

pub mod display;
pub mod password;
pub mod seal;
pub mod totp;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::auth::{generate_api_secret, SecretHasher};
use crate::model::{EmployeeId, Provider, ProviderId};

/// A session ends after this long without a request.
pub const IDLE_LIMIT: Duration = Duration::minutes(15);
/// And after this long in all, however busy.
pub const ABSOLUTE_LIMIT: Duration = Duration::hours(12);
/// How long an invitation (or a reset) link works.
pub const INVITE_LIFETIME: Duration = Duration::hours(72);

/// What an account may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsoleRole {
    /// Works tickets and sees residents.
    Staff,
    /// Also manages employees, applications, categories, contacts,
    /// escalation and templates, and reads the provider's audit trail.
    Administrator,
}

impl ConsoleRole {
    pub const ALL: [ConsoleRole; 2] = [ConsoleRole::Staff, ConsoleRole::Administrator];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsoleRole::Staff => "staff",
            ConsoleRole::Administrator => "administrator",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text))
    }

    /// How the console names the role to people.
    pub fn title(self) -> &'static str {
        match self {
            ConsoleRole::Staff => "Staff",
            ConsoleRole::Administrator => "Administrator",
        }
    }
}

/// A session's id in the store (the cookie's token exists only in the
/// browser; its keyed hash is what the store finds a session by).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SessionId(pub i64);

/// An employee's console account as stored. (Serialized only for data
/// moves' checksums: it holds hashes and the TOTP secret.)
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsoleAccount {
    pub employee_id: EmployeeId,
    pub provider_id: ProviderId,
    /// Lower-cased.
    pub email: String,
    pub role: ConsoleRole,
    /// The argon2id PHC string; none until a password is set.
    pub password_hash: Option<String>,
    /// The TOTP secret of an enrolled second factor.
    #[serde(serialize_with = "crate::transfer::hex_option")]
    pub totp_secret: Option<Vec<u8>>,
    /// The keyed hash of a pending invitation's token, and its expiry.
    #[serde(serialize_with = "crate::transfer::hex_option")]
    pub invite_hash: Option<Vec<u8>>,
    pub invite_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ConsoleAccount {
    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }

    pub fn has_second_factor(&self) -> bool {
        self.totp_secret.is_some()
    }
}

/// An account with who holds it, as sign-in and the administration pages
/// see it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountHolder {
    pub account: ConsoleAccount,
    pub employee_name: String,
    pub provider: Provider,
    /// The provider asks every account for a second factor.
    pub provider_requires_totp: bool,
    /// The provider set a number for families to call (the console warns
    /// while it has none).
    pub provider_has_callback: bool,
}

/// A session as the store finds it by its token's hash.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub holder: AccountHolder,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// Why a session no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    SignedOut,
    Idle,
    TooOld,
}

impl SessionEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEnd::SignedOut => "signed_out",
            SessionEnd::Idle => "idle",
            SessionEnd::TooOld => "too_old",
        }
    }
}

impl SessionRecord {
    /// Whether a session that ended at `ended` had lapsed by then (idle
    /// or too old) rather than being signed out while it worked.
    pub fn lapsed_by(&self, ended: DateTime<Utc>) -> bool {
        ended - self.last_seen_at >= IDLE_LIMIT || ended - self.created_at >= ABSOLUTE_LIMIT
    }

    /// Whether the session still works at `now`, and if not, why.
    pub fn ended(&self, now: DateTime<Utc>) -> Option<SessionEnd> {
        if self.ended_at.is_some() {
            Some(SessionEnd::SignedOut)
        } else if now - self.last_seen_at >= IDLE_LIMIT {
            Some(SessionEnd::Idle)
        } else if now - self.created_at >= ABSOLUTE_LIMIT {
            Some(SessionEnd::TooOld)
        } else {
            None
        }
    }
}

/// A session to store at sign-in.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: Vec<u8>,
    pub employee_id: EmployeeId,
    pub provider_id: ProviderId,
    pub at: DateTime<Utc>,
    /// The step of the second-factor code signed in with, if any.
    pub totp_step: Option<i64>,
}

/// Which open tickets the board shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoardFilter {
    pub resident: Option<crate::model::ResidentId>,
    pub category: Option<crate::model::CategoryId>,
    pub urgency: Option<i64>,
    /// Only tickets whose notifications still wait for an acknowledgment.
    pub needs_ack: bool,
}

/// The most cards the board shows at once; the rest are counted.
pub const BOARD_LIMIT: u32 = 300;

/// One open ticket on the board.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardCard {
    pub ticket: crate::model::Ticket,
    pub resident_first_name: String,
    pub resident_last_name: Option<String>,
    /// The resident's second identifiers, so that two residents with the
    /// same name are told apart on the board.
    pub resident_dob: Option<chrono::NaiveDate>,
    pub resident_location: Option<String>,
    /// The ticket's escalation, when its notifications need an answer.
    pub escalation: Option<BoardEscalation>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoardEscalation {
    pub state: crate::notify::EscalationState,
    /// 0 until the first deadline passes unanswered.
    pub level: i64,
    pub next_at: Option<DateTime<Utc>>,
}

impl BoardCard {
    /// Still waiting for someone to acknowledge.
    pub fn awaiting_ack(&self) -> bool {
        self.escalation
            .is_some_and(|e| e.state == crate::notify::EscalationState::Active)
    }

    /// Waiting, and its first deadline has passed.
    pub fn overdue(&self) -> bool {
        self.awaiting_ack() && self.escalation.is_some_and(|e| e.level > 0)
    }
}

/// The board's cards (at most `BOARD_LIMIT`) and how many matched.
#[derive(Debug, Clone, Default)]
pub struct Board {
    pub cards: Vec<BoardCard>,
    /// Open tickets matching the filter.
    pub total: u64,
    /// Open tickets of the provider, whatever the filter.
    pub all_open: u64,
}

/// A one-time link's token (shown once: only its hash is kept) for an
/// employee to set a password.
pub struct Invitation {
    pub employee_id: EmployeeId,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Invitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invitation")
            .field("employee_id", &self.employee_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The keyed hash an invitation token is stored as.
pub fn invite_hash(hasher: &SecretHasher, token: &str) -> Vec<u8> {
    hasher.hash("console_invite", token)
}

/// A fresh invitation for `account`: its password and second factor are
/// cleared, so only the link's holder can set them again.
pub fn invite(
    hasher: &SecretHasher,
    account: &mut ConsoleAccount,
    now: DateTime<Utc>,
) -> Invitation {
    let token = generate_api_secret();
    account.invite_hash = Some(invite_hash(hasher, &token));
    account.invite_expires_at = Some(now + INVITE_LIFETIME);
    account.password_hash = None;
    account.totp_secret = None;
    account.updated_at = now;
    Invitation {
        employee_id: account.employee_id,
        token,
        expires_at: now + INVITE_LIFETIME,
    }
}

/// A sign-in address as a form gives it, normalized, or the field's error.
pub fn email_field(text: &str) -> crate::error::DomainResult<String> {
    normalize_email(text).ok_or_else(|| {
        crate::error::DomainError::invalid(
            crate::error::Field::Email,
            crate::error::Problem::Rule("must be an email address".to_owned()),
        )
    })
}

impl ConsoleAccount {
    /// A new account without a password (its holder sets one through an
    /// invitation).
    pub fn new(
        employee_id: EmployeeId,
        provider_id: ProviderId,
        email: String,
        role: ConsoleRole,
        now: DateTime<Utc>,
    ) -> Self {
        ConsoleAccount {
            employee_id,
            provider_id,
            email,
            role,
            password_hash: None,
            totp_secret: None,
            invite_hash: None,
            invite_expires_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Lower-cases and trims an address; `None` unless it looks like one.
pub fn normalize_email(text: &str) -> Option<String> {
    let email = text.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    plausible.then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Provider;

    fn session(created: i64, seen: i64, ended: bool) -> SessionRecord {
        let at = |minutes: i64| DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes);
        SessionRecord {
            id: SessionId(1),
            holder: AccountHolder {
                account: ConsoleAccount {
                    employee_id: EmployeeId(1),
                    provider_id: ProviderId(1),
                    email: "a@example.org".to_owned(),
                    role: ConsoleRole::Staff,
                    password_hash: None,
                    totp_secret: None,
                    invite_hash: None,
                    invite_expires_at: None,
                    created_at: at(0),
                    updated_at: at(0),
                },
                employee_name: "A".to_owned(),
                provider: Provider {
                    id: ProviderId(1),
                    name: "P".to_owned(),
                    time_zone: "UTC".to_owned(),
                    country: "US".to_owned(),
                    created_at: at(0),
                },
                provider_requires_totp: false,
                provider_has_callback: true,
            },
            created_at: at(created),
            last_seen_at: at(seen),
            ended_at: ended.then(|| at(seen)),
        }
    }

    #[test]
    fn a_session_ends_when_idle_too_old_or_signed_out() {
        let at = |minutes: i64| DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes);
        assert_eq!(session(0, 0, false).ended(at(14)), None);
        assert_eq!(session(0, 0, false).ended(at(15)), Some(SessionEnd::Idle));
        assert_eq!(
            session(0, 12 * 60 - 1, false).ended(at(12 * 60)),
            Some(SessionEnd::TooOld)
        );
        assert_eq!(
            session(0, 0, true).ended(at(1)),
            Some(SessionEnd::SignedOut)
        );
    }

    #[test]
    fn emails_are_normalized_or_refused() {
        assert_eq!(
            normalize_email(" Nurse@Example.ORG "),
            Some("nurse@example.org".to_owned())
        );
        for bad in [
            "",
            "nurse",
            "@example.org",
            "a@b",
            "a b@example.org",
            "a@.org",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn roles_parse_by_name() {
        assert_eq!(
            ConsoleRole::parse("Administrator"),
            Some(ConsoleRole::Administrator)
        );
        assert_eq!(ConsoleRole::parse("staff"), Some(ConsoleRole::Staff));
        assert_eq!(ConsoleRole::parse("root"), None);
    }
}
