//! The fixed vocabularies of a ticket: workflow statuses, urgency statuses and
//! category ratings.

use std::fmt;

/// A ticket's place in its workflow. Any status may follow any other: the
/// seed's own example reopens a `New` ticket, and care staff move tickets the
/// way the day requires; every change is kept in the ticket's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    New,
    Open,
    InProgress,
    Resolved,
    Closed,
    Reopen,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 6] = [
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::InProgress,
        TicketStatus::Resolved,
        TicketStatus::Closed,
        TicketStatus::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::New => "New",
            TicketStatus::Open => "Open",
            TicketStatus::InProgress => "In Progress",
            TicketStatus::Resolved => "Resolved",
            TicketStatus::Closed => "Closed",
            TicketStatus::Reopen => "Reopen",
        }
    }

    /// Matches case-insensitively, ignoring surrounding spaces.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(text))
    }

    pub fn valid_list() -> String {
        Self::ALL.map(|status| status.as_str()).join(", ")
    }
}

impl serde::Serialize for TicketStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl serde::Serialize for CategoryRating {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent a ticket is. The list and its ids are part of the published
/// contract (docs/API-DECISIONS.md); never renumber them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrgencyStatus {
    pub id: i64,
    pub name: &'static str,
}

impl UrgencyStatus {
    pub const ALL: [UrgencyStatus; 5] = [
        UrgencyStatus {
            id: 1,
            name: "No Issue",
        },
        UrgencyStatus { id: 2, name: "Low" },
        UrgencyStatus {
            id: 3,
            name: "Normal",
        },
        UrgencyStatus {
            id: 4,
            name: "High",
        },
        UrgencyStatus {
            id: 5,
            name: "Exception",
        },
    ];
    /// What a ticket gets when the client sends no urgency (the seed's
    /// example ticket carries 3).
    pub const DEFAULT: UrgencyStatus = UrgencyStatus {
        id: 3,
        name: "Normal",
    };

    pub const HIGH: UrgencyStatus = UrgencyStatus {
        id: 4,
        name: "High",
    };
    pub const EXCEPTION: UrgencyStatus = UrgencyStatus {
        id: 5,
        name: "Exception",
    };

    pub fn by_id(id: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|urgency| urgency.id == id)
    }

    /// Accepts the id (`3`) or the name (`normal`).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL.into_iter().find(|urgency| {
            urgency.name.eq_ignore_ascii_case(text) || text.parse::<i64>() == Ok(urgency.id)
        })
    }

    pub fn valid_list() -> String {
        Self::ALL
            .map(|urgency| format!("{} ({})", urgency.name, urgency.id))
            .join(", ")
    }
}

/// A ticket's rating of one of the provider's categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryRating {
    Issue,
    NoIssue,
    PotentialIssue,
}

impl CategoryRating {
    pub const ALL: [CategoryRating; 3] = [
        CategoryRating::Issue,
        CategoryRating::NoIssue,
        CategoryRating::PotentialIssue,
    ];

    /// The spelling clients send and the store keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            CategoryRating::Issue => "Issue",
            CategoryRating::NoIssue => "No Issue",
            CategoryRating::PotentialIssue => "Potential Issue",
        }
    }

    /// The lower-case spelling `ticket_detail` answers with.
    pub fn as_detail_str(self) -> &'static str {
        match self {
            CategoryRating::Issue => "issue",
            CategoryRating::NoIssue => "no issue",
            CategoryRating::PotentialIssue => "potential issue",
        }
    }

    /// Case and surrounding spaces are ignored.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|rating| rating.as_str().eq_ignore_ascii_case(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_match_case_insensitively() {
        assert_eq!(
            TicketStatus::parse(" in progress "),
            Some(TicketStatus::InProgress)
        );
        assert_eq!(TicketStatus::parse("REOPEN"), Some(TicketStatus::Reopen));
        assert_eq!(TicketStatus::parse("Done"), None);
    }

    #[test]
    fn urgency_accepts_name_or_id() {
        assert_eq!(UrgencyStatus::parse("exception").map(|u| u.id), Some(5));
        assert_eq!(UrgencyStatus::parse("3").map(|u| u.name), Some("Normal"));
        assert_eq!(UrgencyStatus::parse("9"), None);
    }

    #[test]
    fn ratings_ignore_case_and_spaces() {
        assert_eq!(
            CategoryRating::parse("  no ISSUE "),
            Some(CategoryRating::NoIssue)
        );
        assert_eq!(CategoryRating::parse("Maybe"), None);
    }
}
