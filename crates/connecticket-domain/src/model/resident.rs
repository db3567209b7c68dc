use chrono::{DateTime, NaiveDate, Utc};

use super::{ProviderId, ResidentId};

/// A person cared for by a provider. The fields are the seed's 31 keys.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Resident {
    pub id: ResidentId,
    pub provider_id: ProviderId,
    pub first_name: String,
    pub last_name: Option<String>,
    pub dob: Option<NaiveDate>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub fax_number: Option<String>,
    pub home_address1: Option<String>,
    pub home_address2: Option<String>,
    pub home_city: Option<String>,
    pub home_state: Option<String>,
    pub home_zip: Option<String>,
    pub location: Option<String>,
    pub state: String,
    pub in_home_care: bool,
    pub demo: bool,
    pub resident_type_id: Option<i64>,
    pub caretracker_id: Option<String>,
    pub customer_number: Option<String>,
    pub account_number: Option<String>,
    pub photo_file_name: String,
    pub photo_content_type: String,
    pub photo_file_size: i64,
    /// The seed's integrators see 0 here for residents made by operators.
    pub creator_id: i64,
    pub updater_id: i64,
    pub review_updates: Option<String>,
    pub last_status_update: Option<DateTime<Utc>>,
    pub next_status_update: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Resident {
    /// A new resident as stored: the operator's fields, and the seed's
    /// defaults for what operators do not set.
    pub fn from_new(
        id: ResidentId,
        provider_id: ProviderId,
        new: NewResident,
        at: DateTime<Utc>,
    ) -> Self {
        let created_at = new.created_at.unwrap_or(at);
        Resident {
            id,
            provider_id,
            first_name: new.first_name,
            last_name: new.last_name,
            dob: new.dob,
            email: new.email,
            phone_number: new.phone_number,
            fax_number: new.fax_number,
            home_address1: new.home_address1,
            home_address2: new.home_address2,
            home_city: new.home_city,
            home_state: new.home_state,
            home_zip: new.home_zip,
            location: new.location,
            state: new.state,
            in_home_care: new.in_home_care,
            demo: new.demo,
            resident_type_id: new.resident_type_id,
            caretracker_id: new.caretracker_id,
            customer_number: new.customer_number,
            account_number: new.account_number,
            photo_file_name: String::new(),
            photo_content_type: String::new(),
            photo_file_size: 0,
            creator_id: 0,
            updater_id: 0,
            review_updates: None,
            last_status_update: None,
            next_status_update: None,
            created_at,
            updated_at: created_at,
        }
    }
}

/// A resident as an operator registers it; the store assigns id and times
/// unless they are fixed (demo seed, data moves).
#[derive(Debug, Clone, PartialEq)]
pub struct NewResident {
    pub id: Option<ResidentId>,
    pub first_name: String,
    pub last_name: Option<String>,
    pub dob: Option<NaiveDate>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub fax_number: Option<String>,
    pub home_address1: Option<String>,
    pub home_address2: Option<String>,
    pub home_city: Option<String>,
    pub home_state: Option<String>,
    pub home_zip: Option<String>,
    pub location: Option<String>,
    pub state: String,
    pub in_home_care: bool,
    pub demo: bool,
    pub resident_type_id: Option<i64>,
    pub caretracker_id: Option<String>,
    pub customer_number: Option<String>,
    pub account_number: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// Stored with the resident, in the same transaction (their
    /// `resident_id` and `created_at` are the resident's).
    pub contacts: Vec<super::NewContact>,
}

impl NewResident {
    /// A resident with just a first name, active, everything else empty.
    pub fn named(first_name: impl Into<String>) -> Self {
        NewResident {
            id: None,
            first_name: first_name.into(),
            last_name: None,
            dob: None,
            email: None,
            phone_number: None,
            fax_number: None,
            home_address1: None,
            home_address2: None,
            home_city: None,
            home_state: None,
            home_zip: None,
            location: None,
            state: "active".to_owned(),
            in_home_care: false,
            demo: false,
            resident_type_id: None,
            caretracker_id: None,
            customer_number: None,
            account_number: None,
            created_at: None,
            contacts: Vec::new(),
        }
    }
}
