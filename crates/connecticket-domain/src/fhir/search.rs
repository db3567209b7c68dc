//! The searches the facade's resources answer, already parsed: the HTTP
//! layer reads FHIR's search parameters into these, the store runs them.

use chrono::{DateTime, NaiveDate, Utc};

use crate::model::{
    AttachmentId, AttachmentMeta, ContactId, ContactRole, NotificationId, ResidentId, TicketId,
};
use crate::workflow::TicketStatus;

/// The most entries one searchset page holds (`_count`).
pub const MAX_COUNT: u32 = 1_000;
/// A page's entries when the client does not say.
pub const DEFAULT_COUNT: u32 = 50;

/// A span of days, each end optional: `from` included, `until` excluded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayRange {
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// A span of instants: `from` included, `until` excluded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstantRange {
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl DayRange {
    /// Both ranges at once (a parameter repeated means "and").
    pub fn and(self, other: DayRange) -> DayRange {
        DayRange {
            from: self.from.max(other.from),
            until: min_some(self.until, other.until),
        }
    }
}

impl InstantRange {
    pub fn and(self, other: InstantRange) -> InstantRange {
        InstantRange {
            from: self.from.max(other.from),
            until: min_some(self.until, other.until),
        }
    }
}

fn min_some<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The resident numbers a Patient carries as identifiers, each under a
/// system URI of its own (docs/FHIR.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierSystem {
    CustomerNumber,
    AccountNumber,
    CaretrackerId,
}

impl IdentifierSystem {
    pub const ALL: [IdentifierSystem; 3] = [
        IdentifierSystem::CustomerNumber,
        IdentifierSystem::AccountNumber,
        IdentifierSystem::CaretrackerId,
    ];

    pub fn uri(self) -> &'static str {
        match self {
            IdentifierSystem::CustomerNumber => {
                "https://connecticket.org/fhir/sid/resident-customer-number"
            }
            IdentifierSystem::AccountNumber => {
                "https://connecticket.org/fhir/sid/resident-account-number"
            }
            IdentifierSystem::CaretrackerId => "https://connecticket.org/fhir/sid/caretracker-id",
        }
    }

    pub fn by_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|system| system.uri() == uri)
    }

    /// The resident's column this system names.
    pub fn column(self) -> &'static str {
        match self {
            IdentifierSystem::CustomerNumber => "customer_number",
            IdentifierSystem::AccountNumber => "account_number",
            IdentifierSystem::CaretrackerId => "caretracker_id",
        }
    }
}

/// `identifier=[system|]value`: without a system, any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierQuery {
    pub system: Option<IdentifierSystem>,
    pub value: String,
}

/// Which page: the rows after `after` (keyset, by id), `count` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub after: Option<i64>,
    pub count: u32,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            after: None,
            count: DEFAULT_COUNT,
        }
    }
}

/// A Patient search. Name parameters match the start of a name, ignoring
/// case, as FHIR's string search does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientSearch {
    pub ids: Option<Vec<ResidentId>>,
    pub name: Option<String>,
    pub family: Option<String>,
    pub given: Option<String>,
    pub identifier: Option<IdentifierQuery>,
    pub birthdate: DayRange,
    pub last_updated: InstantRange,
    pub window: Window,
}

/// A Task search: tickets by patient, workflow status and urgency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskSearch {
    pub ids: Option<Vec<TicketId>>,
    pub patient: Option<ResidentId>,
    /// Any of these (empty: all).
    pub statuses: Vec<TicketStatus>,
    /// Any of these urgency ids (empty: all).
    pub urgencies: Vec<i64>,
    pub last_updated: InstantRange,
    pub window: Window,
}

/// A search of residents' contacts (RelatedPerson for family,
/// Practitioner for physicians and professionals).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactSearch {
    pub ids: Option<Vec<ContactId>>,
    pub patient: Option<ResidentId>,
    /// Any of these roles (never empty: each resource type names its own).
    pub roles: Vec<ContactRole>,
    pub window: Window,
}

/// A search of notifications (Communication).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationSearch {
    pub ids: Option<Vec<NotificationId>>,
    pub patient: Option<ResidentId>,
    pub ticket: Option<TicketId>,
    pub window: Window,
}

/// A search of attachments (DocumentReference).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentSearch {
    pub ids: Option<Vec<AttachmentId>>,
    pub patient: Option<ResidentId>,
    pub ticket: Option<TicketId>,
    pub window: Window,
}

/// An attachment's metadata with where it belongs.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRecord {
    pub meta: AttachmentMeta,
    pub ticket_id: TicketId,
    pub resident_id: ResidentId,
    pub created_at: DateTime<Utc>,
}

/// One page of a search: its rows, whether more follow, and how many
/// match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage<T> {
    pub rows: Vec<T>,
    pub more: bool,
    pub total: u64,
}

/// A record with its version: it grows with every change.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_ranges_narrow_to_both() {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        let since = DayRange {
            from: day("1940-01-01"),
            until: None,
        };
        let before = DayRange {
            from: day("1930-01-01"),
            until: day("1950-01-01"),
        };
        assert_eq!(
            since.and(before),
            DayRange {
                from: day("1940-01-01"),
                until: day("1950-01-01")
            }
        );
    }
}
