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
