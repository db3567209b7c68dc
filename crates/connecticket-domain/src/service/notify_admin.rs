//! The operator's use cases for contacts, notification policies and the
//! outbox.

use chrono::{DateTime, Utc};

use crate::audit::Action;
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::model::{
    Contact, ContactId, ContactRole, NewContact, NotificationId, ProviderId, ResidentId,
};
use crate::notify::templates;
use crate::notify::{Notification, NotifyPolicy};
use crate::store::NotificationFilter;
use crate::validate::{e164_phone, email_address, required_text, MAX_SHORT_TEXT};

use super::AdminService;

/// A contact as an operator types it.
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

impl AdminService {
    /// Checks a contact (see [`contact_from_input`]).
    pub fn new_contact(&self, input: ContactInput) -> DomainResult<NewContact> {
        contact_from_input(input, self.now())
    }

    pub async fn create_contact(
        &self,
        provider: ProviderId,
        input: ContactInput,
    ) -> DomainResult<Contact> {
        let contact = self.new_contact(input)?;
        let audit = self.operator_entry(Action::ManageContacts, provider);
        Ok(self.store.create_contact(provider, contact, audit).await?)
    }

    pub async fn contacts(
        &self,
        provider: ProviderId,
        resident: Option<ResidentId>,
    ) -> DomainResult<Vec<Contact>> {
        Ok(self.store.contacts(provider, resident).await?)
    }

    pub async fn delete_contact(
        &self,
        provider: ProviderId,
        contact: ContactId,
    ) -> DomainResult<()> {
        let audit = self.operator_entry(Action::ManageContacts, provider);
        Ok(self.store.delete_contact(provider, contact, audit).await?)
    }

    pub async fn notify_policy(&self, provider: ProviderId) -> DomainResult<NotifyPolicy> {
        self.provider(provider).await?;
        Ok(self.store.notify_policy(provider).await?)
    }

    pub async fn set_notify_policy(
        &self,
        provider: ProviderId,
        policy: NotifyPolicy,
    ) -> DomainResult<()> {
        let policy = NotifyPolicy {
            callback_phone: policy.callback_phone.map(|p| e164_phone(&p)).transpose()?,
            templates: templates::check_all(policy.templates)?,
            ..policy
        };
        Ok(self.store.set_notify_policy(provider, policy, None).await?)
    }

    pub async fn notifications(
        &self,
        filter: NotificationFilter,
    ) -> DomainResult<Vec<Notification>> {
        Ok(self.store.notifications(filter).await?)
    }

    pub async fn retry_notification(&self, id: NotificationId) -> DomainResult<Notification> {
        Ok(self
            .store
            .retry_notification(id, None, self.now(), None)
            .await?)
    }
}

/// Checks a contact: a known role, a name, at least one address, each
/// well formed, and consent only for a channel it has an address for.
pub fn contact_from_input(input: ContactInput, at: DateTime<Utc>) -> DomainResult<NewContact> {
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
        .map(|p| e164_phone(&p))
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
