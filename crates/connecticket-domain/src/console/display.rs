//! Board displays: a wall screen or nursing-station monitor that shows the
//! board and stays up, so the idle rules for people can stay strict.
//!
//! An administrator grants a display by name; the grant comes with a
//! pairing link, good once and for [`PAIRING_LIFETIME`]. Opening it on the
//! screen exchanges it for a device token the screen keeps in a cookie.
//! The display sees only the board (read-only, no links into records) and
//! works until an administrator revokes it. Only keyed hashes of the
//! pairing code and of the token are stored.

use chrono::{DateTime, Duration, Utc};

use crate::model::{EmployeeId, ProviderId};

/// How long a pairing link works after it is granted.
pub const PAIRING_LIFETIME: Duration = Duration::minutes(30);
/// The longest name a display may have.
pub const MAX_DISPLAY_NAME: usize = 60;

/// A display's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DisplayId(pub i64);

impl std::fmt::Display for DisplayId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A display as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardDisplay {
    pub id: DisplayId,
    pub provider_id: ProviderId,
    pub name: String,
    /// The administrator who granted it; none when an operator did, at the
    /// command line (the audit entry names them).
    pub granted_by: Option<EmployeeId>,
    pub granted_at: DateTime<Utc>,
    /// Until when its pairing link works, while it is not paired.
    pub pairing_expires_at: Option<DateTime<Utc>>,
    pub paired_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where a display stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayState {
    /// Granted; its pairing link still works.
    AwaitingPairing,
    /// Granted, but its pairing link expired unused.
    PairingExpired,
    Paired,
    Revoked,
}

impl DisplayState {
    pub fn describe(self) -> &'static str {
        match self {
            DisplayState::AwaitingPairing => "Waiting to be paired",
            DisplayState::PairingExpired => "Pairing link expired",
            DisplayState::Paired => "Paired",
            DisplayState::Revoked => "Revoked",
        }
    }
}

impl BoardDisplay {
    pub fn state(&self, now: DateTime<Utc>) -> DisplayState {
        if self.revoked_at.is_some() {
            DisplayState::Revoked
        } else if self.paired_at.is_some() {
            DisplayState::Paired
        } else if self.pairing_expires_at.is_some_and(|until| until > now) {
            DisplayState::AwaitingPairing
        } else {
            DisplayState::PairingExpired
        }
    }
}

/// A display to grant: its pairing code's hash and until when it works.
#[derive(Debug, Clone)]
pub struct NewDisplay {
    pub provider_id: ProviderId,
    pub name: String,
    pub granted_by: Option<EmployeeId>,
    pub code_hash: Vec<u8>,
    pub pairing_expires_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_display_is_waiting_then_expired_then_paired_or_revoked() {
        let at = |s| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or_default();
        let mut display = BoardDisplay {
            id: DisplayId(1),
            provider_id: ProviderId(1),
            name: "Station".to_owned(),
            granted_by: None,
            granted_at: at(0),
            pairing_expires_at: Some(at(100)),
            paired_at: None,
            last_seen_at: None,
            revoked_at: None,
        };
        assert_eq!(display.state(at(50)), DisplayState::AwaitingPairing);
        assert_eq!(display.state(at(100)), DisplayState::PairingExpired);
        display.paired_at = Some(at(60));
        assert_eq!(display.state(at(500)), DisplayState::Paired);
        display.revoked_at = Some(at(700));
        assert_eq!(display.state(at(800)), DisplayState::Revoked);
    }
}
