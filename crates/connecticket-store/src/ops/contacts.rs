//! Residents' contacts and providers' notification policies.

use connecticket_domain::audit::{AuditEntry, RecordRef};
use connecticket_domain::model::{Contact, ContactId, NewContact, ProviderId, ResidentId};
use connecticket_domain::notify::NotifyPolicy;
use connecticket_domain::transfer::StoredNotifyPolicy;
use connecticket_domain::{Entity, StoreError};

use super::{audit, require_owned};
use crate::engine::Executor;
use crate::rows;
use crate::sql::{execute, fetch_all, fetch_optional, insert, insert_returning_id, Result};

pub(crate) async fn create_contact(
    tx: &mut dyn Executor,
    provider: ProviderId,
    new: NewContact,
    audit_entry: AuditEntry,
) -> Result<Contact> {
    require_owned(
        tx,
        "residents",
        new.resident_id.get(),
        provider,
        Entity::Resident,
    )
    .await?;
    let mut contact = Contact {
        id: new.id.unwrap_or(ContactId(0)),
        provider_id: provider,
        resident_id: new.resident_id,
        role: new.role,
        name: new.name,
        email: new.email,
        phone: new.phone,
        email_consent: new.email_consent,
        sms_consent: new.sms_consent,
        created_at: new.created_at,
    };
    let columns = rows::contact_columns(&contact);
    contact.id = match new.id {
        Some(id) => {
            insert(tx, "contacts", columns).await?;
            tx.advance_identity("contacts").await?;
            id
        }
        None => ContactId(insert_returning_id(tx, "contacts", columns.without("id")).await?),
    };
    let mut entry = audit_entry;
    entry.touch(RecordRef::Contact(contact.id));
    entry.touch(RecordRef::Resident(contact.resident_id));
    resident_updated(tx, provider, contact.resident_id, entry.at).await?;
    audit::append(tx, vec![entry]).await?;
    Ok(contact)
}

pub(crate) async fn contacts(
    tx: &mut dyn Executor,
    provider: ProviderId,
    resident: Option<ResidentId>,
) -> Result<Vec<Contact>> {
    match resident {
        Some(resident) => {
            require_owned(tx, "residents", resident.get(), provider, Entity::Resident).await?;
            fetch_all(
                tx,
                "SELECT * FROM contacts WHERE provider_id = $1 AND resident_id = $2 ORDER BY id",
                &[provider.into(), resident.into()],
                rows::contact,
            )
            .await
        }
        None => {
            fetch_all(
                tx,
                "SELECT * FROM contacts WHERE provider_id = $1 ORDER BY id",
                &[provider.into()],
                rows::contact,
            )
            .await
        }
    }
}

pub(crate) async fn delete_contact(
    tx: &mut dyn Executor,
    provider: ProviderId,
    contact: ContactId,
    audit_entry: AuditEntry,
) -> Result<()> {
    let resident: Option<ResidentId> = fetch_optional(
        tx,
        "SELECT resident_id FROM contacts WHERE id = $1 AND provider_id = $2",
        &[contact.into(), provider.into()],
        |row| row.get("resident_id"),
    )
    .await?;
    let resident = resident.ok_or(StoreError::NotFound(Entity::Contact))?;
    execute(
        tx,
        "DELETE FROM contacts WHERE id = $1 AND provider_id = $2",
        &[contact.into(), provider.into()],
    )
    .await?;
    let mut entry = audit_entry;
    entry.touch(RecordRef::Contact(contact));
    entry.touch(RecordRef::Resident(resident));
    resident_updated(tx, provider, resident, entry.at).await?;
    audit::append(tx, vec![entry]).await
}

/// A resident's contacts are part of the resident's record.
async fn resident_updated(
    tx: &mut dyn Executor,
    provider: ProviderId,
    resident: ResidentId,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let kind = connecticket_domain::events::EventKind::ResidentUpdated;
    let event = connecticket_domain::events::NewEvent::resident(provider, kind, resident, at);
    super::events::record(tx, event).await
}

/// Replaces a contact's role, name, addresses and consents; it stays the
/// same resident's.
pub(crate) async fn update_contact(
    tx: &mut dyn Executor,
    provider: ProviderId,
    contact: ContactId,
    new: NewContact,
    audit_entry: AuditEntry,
) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE contacts SET role = $3, name = $4, email = $5, phone = $6,
             email_consent = $7, sms_consent = $8
         WHERE id = $1 AND provider_id = $2 AND resident_id = $9",
        &[
            contact.into(),
            provider.into(),
            new.role.into(),
            (&new.name).into(),
            (&new.email).into(),
            (&new.phone).into(),
            new.email_consent.into(),
            new.sms_consent.into(),
            new.resident_id.into(),
        ],
    )
    .await?;
    if changed == 0 {
        return Err(StoreError::NotFound(Entity::Contact));
    }
    let mut entry = audit_entry;
    entry.touch(RecordRef::Contact(contact));
    entry.touch(RecordRef::Resident(new.resident_id));
    resident_updated(tx, provider, new.resident_id, entry.at).await?;
    audit::append(tx, vec![entry]).await
}

pub(crate) async fn notify_policy(
    tx: &mut dyn Executor,
    provider: ProviderId,
) -> Result<NotifyPolicy> {
    let stored = fetch_optional(
        tx,
        "SELECT * FROM notification_policies WHERE provider_id = $1",
        &[provider.into()],
        rows::notify_policy,
    )
    .await?;
    Ok(stored.unwrap_or_default())
}

pub(crate) async fn set_notify_policy(
    tx: &mut dyn Executor,
    provider: ProviderId,
    policy: NotifyPolicy,
    audit_entry: AuditEntry,
) -> Result<()> {
    require_owned_provider(tx, provider).await?;
    execute(
        tx,
        "DELETE FROM notification_policies WHERE provider_id = $1",
        &[provider.into()],
    )
    .await?;
    let stored = StoredNotifyPolicy {
        provider_id: provider,
        on_created: rows::roles_text(&policy.on_created),
        on_status_change: rows::roles_text(&policy.on_status_change),
        quiet_hours: policy.quiet_hours.render(),
        callback_phone: policy.callback_phone.clone(),
        after_hours_phone: policy.after_hours_phone.clone(),
        sms_template: policy.templates.sms.clone(),
        email_subject_template: policy.templates.email_subject.clone(),
        email_body_template: policy.templates.email_body.clone(),
    };
    insert(
        tx,
        "notification_policies",
        rows::stored_notify_policy_columns(&stored),
    )
    .await?;
    audit::append(tx, vec![audit_entry]).await
}

async fn require_owned_provider(tx: &mut dyn Executor, provider: ProviderId) -> Result<()> {
    fetch_optional(
        tx,
        "SELECT 1 AS found FROM providers WHERE id = $1",
        &[provider.into()],
        |_| Ok(()),
    )
    .await?
    .ok_or(StoreError::NotFound(Entity::Provider))
}
