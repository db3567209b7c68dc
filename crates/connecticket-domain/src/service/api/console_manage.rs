//! What else administrators manage in the console: the provider's audit
//! trail (read and export), its notification queue (with retry), its
//! escalation rules, residents' contacts and its categories. Each refuses
//! staff, is scoped to the administrator's provider, and is audited under
//! their name (writes in their own transaction where the store allows).

use futures::{StreamExt, TryStreamExt};

use super::call::{Call, Recorded};
use super::console_admin::require_administrator;
use super::Connecticket;
use crate::audit::{AuditRecord, RecordRef};
use crate::error::{DomainError, DomainResult};
use crate::model::ContactRole;
use crate::model::{
    Category, Contact, ContactId, NewCategory, NotificationId, Page, ProviderContact,
};
use crate::notify::templates::Templates;
use crate::notify::{EscalationPolicy, NoticeFilter, NoticeSummary, NotifyPolicy, QuietHours};
use crate::service::audit_admin::AuditFilter;
use crate::service::{
    contact_from_input, escalation_from_input, staff_contact_from_input, ContactInput,
    EscalationInput, StaffContactInput,
};
use crate::store::{NoticeQuery, RowStream};
use crate::validate::{required_text, MAX_SHORT_TEXT};

/// Who is told of what, as an administrator sets it.
#[derive(Debug, Clone)]
pub struct NotifyRules {
    pub on_created: Vec<ContactRole>,
    pub on_status_change: Vec<ContactRole>,
    /// `21:00-08:00`, in the provider's zone.
    pub quiet_hours: String,
    pub callback_phone: Option<String>,
}

/// The most entries the audit page shows (the newest); the export has all.
pub const AUDIT_PAGE_LIMIT: usize = 500;
/// The most notifications the queue page shows (the newest).
pub const QUEUE_PAGE_LIMIT: u32 = 200;

impl Connecticket {
    /// The newest entries of the provider's audit trail that match, at
    /// most `AUDIT_PAGE_LIMIT`. (The filter's provider is always the
    /// caller's.)
    pub async fn provider_audit(
        &self,
        call: Call,
        filter: AuditFilter,
    ) -> DomainResult<Vec<AuditRecord>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            require_administrator(principal)?;
            let filter = AuditFilter {
                provider_id: Some(principal.provider.id.get()),
                ..filter
            };
            let mut newest = std::collections::VecDeque::with_capacity(AUDIT_PAGE_LIMIT);
            let mut entries = self.store.audit_entries();
            while let Some(chunk) = entries.try_next().await? {
                for record in chunk.into_iter().filter(|r| filter.matches(r)) {
                    if newest.len() == AUDIT_PAGE_LIMIT {
                        newest.pop_front();
                    }
                    newest.push_back(record);
                }
            }
            entry.records.insert(format!("rows:{}", newest.len()));
            Ok(newest.into_iter().rev().collect())
        })
        .await
    }

    /// Every entry of the provider's audit trail that matches, in the order
    /// written, streamed (for CSV export).
    pub async fn export_provider_audit(
        &self,
        call: Call,
        filter: AuditFilter,
    ) -> DomainResult<RowStream<AuditRecord>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            require_administrator(principal)?;
            entry.records.insert("export:csv".to_owned());
            let filter = AuditFilter {
                provider_id: Some(principal.provider.id.get()),
                ..filter
            };
            let rows: RowStream<AuditRecord> =
                Box::pin(self.store.audit_entries().map(move |chunk| {
                    chunk.map(|records| records.into_iter().filter(|r| filter.matches(r)).collect())
                }));
            Ok(rows)
        })
        .await
    }

    /// The provider's newest notifications, in a delivery state or
    /// waiting for an answer.
    pub async fn notification_queue(
        &self,
        call: Call,
        filter: Option<NoticeFilter>,
    ) -> DomainResult<Vec<NoticeSummary>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            require_administrator(principal)?;
            let query = NoticeQuery {
                provider: principal.provider.id,
                ticket: None,
                filter,
                page: Page {
                    number: 1,
                    per_page: QUEUE_PAGE_LIMIT,
                    after_id: None,
                },
            };
            let mut found = self.store.notices(query, self.now()).await?;
            found.reverse();
            for n in &found {
                entry.touch(RecordRef::Notification(n.id));
                entry.touch(RecordRef::Ticket(n.ticket_id));
            }
            Ok(found.iter().map(NoticeSummary::from).collect())
        })
        .await
    }

    /// Makes one of the provider's failed or waiting notifications due now.
    pub async fn retry_console_notification(
        &self,
        call: Call,
        id: NotificationId,
    ) -> DomainResult<NoticeSummary> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            entry.touch(RecordRef::Notification(id));
            let retried = self
                .store
                .retry_notification(
                    id,
                    Some(principal.provider.id),
                    self.now(),
                    Some(entry.clone()),
                )
                .await?;
            Ok(NoticeSummary::from(&retried))
        })
        .await
    }

    pub async fn console_escalation_policy(&self, call: Call) -> DomainResult<EscalationPolicy> {
        self.run(call, Recorded::Afterwards, async |principal, _| {
            require_administrator(principal)?;
            Ok(self.store.escalation_policy(principal.provider.id).await?)
        })
        .await
    }

    /// Sets one urgency's rule (the same checks as `escalation set`).
    pub async fn set_console_escalation(
        &self,
        call: Call,
        input: EscalationInput,
    ) -> DomainResult<()> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            let (urgency, rule) = escalation_from_input(&input)?;
            entry.records.insert(format!("urgency:{}", urgency.id));
            self.store
                .set_escalation_rule(principal.provider.id, urgency.id, rule, entry.clone())
                .await
                .map_err(DomainError::from)
        })
        .await
    }

    /// The provider's own staff that escalations reach, by role.
    pub async fn console_staff_contacts(&self, call: Call) -> DomainResult<Vec<ProviderContact>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            require_administrator(principal)?;
            let contacts = self.store.provider_contacts(principal.provider.id).await?;
            for contact in &contacts {
                entry.touch(RecordRef::Contact(contact.id));
            }
            Ok(contacts)
        })
        .await
    }

    /// Adds a member of staff an escalation tier reaches (the same checks
    /// as `escalation contact-add`).
    pub async fn add_console_staff_contact(
        &self,
        call: Call,
        input: StaffContactInput,
    ) -> DomainResult<ProviderContact> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            let contact = staff_contact_from_input(input, principal.provider.id, self.now())?;
            Ok(self
                .store
                .create_provider_contact(contact, entry.clone())
                .await?)
        })
        .await
    }

    pub async fn remove_console_staff_contact(
        &self,
        call: Call,
        id: ContactId,
    ) -> DomainResult<()> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            entry.touch(RecordRef::Contact(id));
            Ok(self
                .store
                .delete_provider_contact(principal.provider.id, id, entry.clone())
                .await?)
        })
        .await
    }

    /// Adds a contact to one of the provider's residents (the same checks
    /// as `contact add`: a role, an address per consented channel).
    pub async fn add_console_contact(
        &self,
        call: Call,
        input: ContactInput,
    ) -> DomainResult<Contact> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            let contact = contact_from_input(input, self.now())?;
            entry.touch(RecordRef::Resident(contact.resident_id));
            Ok(self
                .store
                .create_contact(principal.provider.id, contact, entry.clone())
                .await?)
        })
        .await
    }

    /// Corrects a contact's role, name, addresses or consents (the same
    /// checks as adding one).
    pub async fn update_console_contact(
        &self,
        call: Call,
        id: ContactId,
        input: ContactInput,
    ) -> DomainResult<()> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            entry.touch(RecordRef::Contact(id));
            let contact = contact_from_input(input, self.now())?;
            Ok(self
                .store
                .update_contact(principal.provider.id, id, contact, entry.clone())
                .await?)
        })
        .await
    }

    pub async fn remove_console_contact(&self, call: Call, id: ContactId) -> DomainResult<()> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            entry.touch(RecordRef::Contact(id));
            Ok(self
                .store
                .delete_contact(principal.provider.id, id, entry.clone())
                .await?)
        })
        .await
    }

    /// The provider's categories, for managing them.
    pub async fn console_categories(&self, call: Call) -> DomainResult<Vec<Category>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            require_administrator(principal)?;
            let categories = self.store.categories(principal.provider.id).await?;
            for category in &categories {
                entry.touch(RecordRef::Category(category.id));
            }
            Ok(categories)
        })
        .await
    }

    /// The provider's notification policy (its templates and callback
    /// number), for the templates page.
    pub async fn console_notify_policy(&self, call: Call) -> DomainResult<NotifyPolicy> {
        self.run(call, Recorded::Afterwards, async |principal, _| {
            require_administrator(principal)?;
            Ok(self.store.notify_policy(principal.provider.id).await?)
        })
        .await
    }

    /// Replaces the provider's templates (each part checked as `set-policy`
    /// checks it; an unset part keeps the default wording).
    pub async fn set_console_templates(
        &self,
        call: Call,
        templates: Templates,
    ) -> DomainResult<()> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            let templates = crate::notify::templates::check_all(templates)?;
            let policy = self.store.notify_policy(principal.provider.id).await?;
            entry.records.insert("templates:set".to_owned());
            Ok(self
                .store
                .set_notify_policy(
                    principal.provider.id,
                    NotifyPolicy {
                        templates,
                        ..policy
                    },
                    Some(entry.clone()),
                )
                .await?)
        })
        .await
    }

    /// Sets who is told of what, the quiet hours and the callback number
    /// (the provider's templates are kept).
    pub async fn set_console_notify_rules(
        &self,
        call: Call,
        rules: NotifyRules,
    ) -> DomainResult<()> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            let quiet_hours = QuietHours::parse(&rules.quiet_hours).ok_or_else(|| {
                DomainError::invalid(
                    crate::error::Field::QuietHours,
                    crate::error::Problem::Rule("must be two times like 21:00-08:00".to_owned()),
                )
            })?;
            let callback_phone = rules
                .callback_phone
                .filter(|p| !p.trim().is_empty())
                .map(|p| crate::validate::e164_phone(&p))
                .transpose()?;
            let policy = self.store.notify_policy(principal.provider.id).await?;
            entry.records.insert("rules:set".to_owned());
            let policy = NotifyPolicy {
                on_created: rules.on_created,
                on_status_change: rules.on_status_change,
                quiet_hours,
                callback_phone,
                ..policy
            };
            Ok(self
                .store
                .set_notify_policy(principal.provider.id, policy, Some(entry.clone()))
                .await?)
        })
        .await
    }

    /// A new category.
    pub async fn add_console_category(&self, call: Call, name: &str) -> DomainResult<Category> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            let category = NewCategory {
                id: None,
                provider_id: principal.provider.id,
                name: required_text(crate::error::Field::Name, name, MAX_SHORT_TEXT)?,
                created_at: self.now(),
            };
            Ok(self
                .store
                .create_category(category, Some(entry.clone()))
                .await?)
        })
        .await
    }

    /// Renames one of the provider's categories.
    pub async fn rename_console_category(
        &self,
        call: Call,
        id: crate::model::CategoryId,
        name: &str,
    ) -> DomainResult<Category> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            require_administrator(principal)?;
            entry.touch(RecordRef::Category(id));
            let name = required_text(crate::error::Field::Name, name, MAX_SHORT_TEXT)?;
            Ok(self
                .store
                .rename_category(principal.provider.id, id, name, entry.clone())
                .await?)
        })
        .await
    }
}
