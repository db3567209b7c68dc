//! Residents' contacts: who is told about a resident (family, the primary
//! physician, healthcare professionals), by which channel, with consent.

use chrono::{DateTime, Utc};

use super::AdminCall;
use crate::audit::{Action, RecordRef};
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::model::{Contact, ContactId, ContactRole, NewContact, ResidentId};
use crate::service::audit::Recorded;
use crate::service::Connecticket;
use crate::validate::{email_address, phone_number, required_text, PhoneCountry, MAX_SHORT_TEXT};

/// A contact as an administrator enters it.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub resident_id: i64,
    pub role: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub email_consent: bool,
    pub sms_consent: bool,
}

impl Connecticket {
    /// A resident's contacts, or every contact of the provider, by id.
    pub async fn list_contacts(
        &self,
        call: AdminCall,
        resident: Option<ResidentId>,
    ) -> DomainResult<Vec<Contact>> {
        self.administrate(
            call,
            Action::ResidentContacts,
            Recorded::Afterwards,
            async |scope, entry| {
                let contacts = self.store.contacts(scope.provider_id()?, resident).await?;
                for contact in &contacts {
                    entry.touch(RecordRef::Contact(contact.id));
                    entry.touch(RecordRef::Resident(contact.resident_id));
                }
                Ok(contacts)
            },
        )
        .await
    }

    /// Adds a contact to one of the provider's residents: a role, a name,
    /// an address per consented channel.
    pub async fn add_contact(&self, call: AdminCall, input: ContactInput) -> DomainResult<Contact> {
        self.administrate(
            call,
            Action::ManageContacts,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Resident(ResidentId(input.resident_id)));
                let provider = scope.provider()?;
                let contact = contact_from_input(input, provider.phone_country(), self.now())?;
                let provider = provider.id;
                Ok(self
                    .store
                    .create_contact(provider, contact, entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// Corrects a contact's role, name, addresses or consents (the same
    /// checks as adding one); what was sent to it stays as it was.
    pub async fn update_contact(
        &self,
        call: AdminCall,
        id: ContactId,
        input: ContactInput,
    ) -> DomainResult<()> {
        self.administrate(
            call,
            Action::ManageContacts,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Contact(id));
                entry.touch(RecordRef::Resident(ResidentId(input.resident_id)));
                let provider = scope.provider()?;
                let contact = contact_from_input(input, provider.phone_country(), self.now())?;
                let provider = provider.id;
                Ok(self
                    .store
                    .update_contact(provider, id, contact, entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// Removes a contact; what was sent to it stays on record.
    pub async fn remove_contact(&self, call: AdminCall, id: ContactId) -> DomainResult<()> {
        self.administrate(
            call,
            Action::ManageContacts,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Contact(id));
                let provider = scope.provider_id()?;
                Ok(self
                    .store
                    .delete_contact(provider, id, entry.clone())
                    .await?)
            },
        )
        .await
    }
}

/// Checks a contact: a known role, a name, at least one address, each
/// well formed (a phone number read in `country` unless it says
/// otherwise), and consent only for a channel it has an address for.
pub fn contact_from_input(
    input: ContactInput,
    country: PhoneCountry,
    at: DateTime<Utc>,
) -> DomainResult<NewContact> {
    let role = ContactRole::parse(&input.role).ok_or_else(|| {
        DomainError::invalid(
            Field::Contact,
            Problem::Rule(format!(
                "role must be family, primary_physician or healthcare_professional, not {:?}",
                input.role
            )),
        )
    })?;
    let name = required_text(Field::Name, &input.name, MAX_SHORT_TEXT)?;
    let email = input
        .email
        .filter(|e| !e.trim().is_empty())
        .map(|e| email_address(&e))
        .transpose()?;
    let phone = input
        .phone
        .filter(|p| !p.trim().is_empty())
        .map(|p| phone_number(&p, country))
        .transpose()?;
    if email.is_none() && phone.is_none() {
        return Err(DomainError::invalid(
            Field::Contact,
            Problem::Rule("needs an email address or a phone number".to_owned()),
        ));
    }
    Ok(NewContact {
        id: None,
        resident_id: ResidentId(input.resident_id),
        role,
        name,
        email_consent: input.email_consent && email.is_some(),
        sms_consent: input.sms_consent && phone.is_some(),
        email,
        phone,
        created_at: at,
    })
}
