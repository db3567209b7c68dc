//! The people told about a resident: family, the primary physician,
//! healthcare professionals. Each contact consents per channel.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ContactId, ProviderId, ResidentId};

/// Who a contact is to the resident. The spellings are those of the API
/// and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRole {
    /// Family or the resident's representative.
    Family,
    PrimaryPhysician,
    HealthcareProfessional,
}

impl ContactRole {
    pub const ALL: [ContactRole; 3] = [
        ContactRole::Family,
        ContactRole::PrimaryPhysician,
        ContactRole::HealthcareProfessional,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactRole::Family => "family",
            ContactRole::PrimaryPhysician => "primary_physician",
            ContactRole::HealthcareProfessional => "healthcare_professional",
        }
    }

    /// The API's spelling, and the short forms an operator types.
    pub fn parse(text: &str) -> Option<ContactRole> {
        match text.trim().to_ascii_lowercase().as_str() {
            "family" | "representative" => Some(ContactRole::Family),
            "primary_physician" | "physician" | "primary" => Some(ContactRole::PrimaryPhysician),
            "healthcare_professional" | "healthcare_pro" | "professional" => {
                Some(ContactRole::HealthcareProfessional)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: ContactId,
    pub provider_id: ProviderId,
    pub resident_id: ResidentId,
    pub role: ContactRole,
    pub name: String,
    pub email: Option<String>,
    /// E.164, e.g. `+15555550123`.
    pub phone: Option<String>,
    pub email_consent: bool,
    pub sms_consent: bool,
    pub created_at: DateTime<Utc>,
}

/// A contact as an operator enters it; validated by `validate::new_contact`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub id: Option<ContactId>,
    pub resident_id: ResidentId,
    pub role: ContactRole,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub email_consent: bool,
    pub sms_consent: bool,
    pub created_at: DateTime<Utc>,
}

/// A provider's own name for a person it escalates to when nobody answers
/// (`on_call_nurse`, `director_of_nursing`): lowercase letters, digits and
/// `_`, 2 to 40 characters, and never one of a resident's contact roles.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct StaffRole(String);

impl StaffRole {
    pub fn parse(text: &str) -> Option<StaffRole> {
        let text = text.trim();
        let well_formed = (2..=40).contains(&text.len())
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        (well_formed && ContactRole::parse(text).is_none()).then(|| StaffRole(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whom a notification addresses: a resident's contacts of a role, or a
/// provider's staff of a role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecipientRole {
    Resident(ContactRole),
    Staff(StaffRole),
}

impl RecipientRole {
    /// A resident's role by any of its spellings, else a staff role.
    pub fn parse(text: &str) -> Option<RecipientRole> {
        ContactRole::parse(text)
            .map(RecipientRole::Resident)
            .or_else(|| StaffRole::parse(text).map(RecipientRole::Staff))
    }

    pub fn as_str(&self) -> &str {
        match self {
            RecipientRole::Resident(role) => role.as_str(),
            RecipientRole::Staff(role) => role.as_str(),
        }
    }
}

impl From<ContactRole> for RecipientRole {
    fn from(role: ContactRole) -> Self {
        RecipientRole::Resident(role)
    }
}

impl Serialize for RecipientRole {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for RecipientRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Someone of the provider's own staff, reached when an escalation gets
/// to their role. Staff are reached on every channel they have an address
/// for: being on call is their consent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderContact {
    pub id: ContactId,
    pub provider_id: ProviderId,
    pub role: StaffRole,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staff_role_is_a_lowercase_name_that_is_not_a_resident_role() {
        assert_eq!(
            StaffRole::parse(" on_call_nurse ").map(|r| r.0),
            Some("on_call_nurse".to_owned())
        );
        for bad in [
            "",
            "x",
            "On_Call",
            "on-call",
            "1st_shift",
            "family",
            "physician",
        ] {
            assert!(StaffRole::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            RecipientRole::parse("physician"),
            Some(RecipientRole::Resident(ContactRole::PrimaryPhysician))
        );
        assert_eq!(
            RecipientRole::parse("director_of_nursing").map(|r| r.to_string()),
            Some("director_of_nursing".to_owned())
        );
    }
}
