//! The records Connecticket keeps. Every record belongs to one provider.

mod contact;
mod ids;
mod resident;
mod ticket;

pub use contact::{Contact, ContactRole, NewContact, ProviderContact, RecipientRole, StaffRole};
pub use ids::{
    AccessTokenId, ApplicationId, AttachmentId, CategoryId, CommentId, ContactId, EmployeeId,
    EventId, NotificationId, ProviderId, ResidentId, TicketId, WebhookId,
};
pub use resident::{NewResident, Resident};
pub use ticket::{
    Attachment, AttachmentMeta, Comment, NewAttachment, NewComment, NewTicket, Rating,
    StatusChange, Ticket, TicketCategory, TicketDetail, TicketQuery, MAX_DETAIL_COMMENTS,
};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provider {
    pub id: ProviderId,
    pub name: String,
    /// An IANA name, validated when the provider is created.
    pub time_zone: String,
    /// ISO 3166 alpha-2: phone numbers written without a country code are
    /// read as this country's.
    pub country: String,
    pub created_at: DateTime<Utc>,
}

impl Provider {
    /// The zone to render this provider's timestamps in.
    pub fn zone(&self) -> Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// The country numbers without a country code are read in.
    pub fn phone_country(&self) -> crate::validate::PhoneCountry {
        crate::validate::PhoneCountry::parse(&self.country).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Employee {
    pub id: EmployeeId,
    pub provider_id: ProviderId,
    pub name: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A registered client program. Its secret exists only as a hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Application {
    pub id: ApplicationId,
    pub provider_id: ProviderId,
    pub employee_id: EmployeeId,
    pub name: String,
    pub api_key: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Category {
    pub id: CategoryId,
    pub provider_id: ProviderId,
    pub name: String,
}

/// New records made by operators. `id` is set only by the demo seed and
/// data moves, which keep published ids; otherwise the store assigns one.
#[derive(Debug, Clone)]
pub struct NewProvider {
    pub id: Option<ProviderId>,
    pub name: String,
    pub time_zone: String,
    pub country: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewEmployee {
    pub id: Option<EmployeeId>,
    pub provider_id: ProviderId,
    pub name: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewApplication {
    pub id: Option<ApplicationId>,
    pub provider_id: ProviderId,
    pub employee_id: EmployeeId,
    pub name: String,
    pub api_key: String,
    pub secret_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewCategory {
    pub id: Option<CategoryId>,
    pub provider_id: ProviderId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// One `page`/`per_page` window over a list, ordered by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: u32,
    pub per_page: u32,
    /// Keyset cursor: only rows with a larger id.
    pub after_id: Option<i64>,
}

impl Page {
    pub fn offset(&self) -> i64 {
        i64::from(self.number.saturating_sub(1)) * i64::from(self.per_page)
    }
}
