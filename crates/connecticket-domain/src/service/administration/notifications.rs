//! Notifications as administrators run them: the provider's policy (who is
//! told of what, quiet hours, the callback number, the wording), the queue
//! and its retries.

use super::AdminCall;
use crate::audit::{Action, RecordRef};
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::model::{ContactRole, NotificationId, Page};
use crate::notify::templates::{self, Templates};
use crate::notify::{NoticeFilter, NoticeSummary, Notification, NotifyPolicy, QuietHours};
use crate::service::audit::Recorded;
use crate::service::Connecticket;
use crate::store::{NoticeQuery, NotificationFilter};
use crate::validate::{phone_number, PhoneCountry};

/// The most notifications the queue shows (the newest).
pub const QUEUE_PAGE_LIMIT: u32 = 200;

/// A change to a provider's notification policy: each part given replaces
/// the current one, the rest are kept.
#[derive(Debug, Clone, Default)]
pub struct PolicyChange {
    /// Who is told of a new ticket.
    pub on_created: Option<Vec<ContactRole>>,
    /// Who is told of a status change.
    pub on_status_change: Option<Vec<ContactRole>>,
    /// When family hears of Low and Normal news only after, like
    /// `21:00-08:00` in the provider's zone.
    pub quiet_hours: Option<String>,
    /// The number messages ask recipients to call; blank: none.
    pub callback_phone: Option<String>,
    /// The number to call out of hours (quiet hours), if another; blank:
    /// none.
    pub after_hours_phone: Option<String>,
    /// Each part of the wording; blank restores the default.
    pub sms_template: Option<String>,
    pub email_subject_template: Option<String>,
    pub email_body_template: Option<String>,
}

impl PolicyChange {
    /// The policy with this change, each part checked.
    fn applied_to(self, policy: NotifyPolicy, country: PhoneCountry) -> DomainResult<NotifyPolicy> {
        let quiet_hours = match self.quiet_hours {
            Some(text) => QuietHours::parse(&text).ok_or_else(|| {
                DomainError::invalid(
                    Field::QuietHours,
                    Problem::Rule("must be two times like 21:00-08:00".to_owned()),
                )
            })?,
            None => policy.quiet_hours,
        };
        let number = |given: Option<String>, kept: Option<String>| match given {
            Some(phone) if phone.trim().is_empty() => Ok(None),
            Some(phone) => phone_number(&phone, country).map(Some),
            None => Ok(kept),
        };
        let callback_phone = number(self.callback_phone, policy.callback_phone)?;
        let after_hours_phone = number(self.after_hours_phone, policy.after_hours_phone)?;
        let wording = |given: Option<String>, kept: Option<String>| match given {
            Some(text) => Some(text).filter(|t| !t.trim().is_empty()),
            None => kept,
        };
        let templates = templates::check_all(Templates {
            sms: wording(self.sms_template, policy.templates.sms),
            email_subject: wording(self.email_subject_template, policy.templates.email_subject),
            email_body: wording(self.email_body_template, policy.templates.email_body),
        })?;
        Ok(NotifyPolicy {
            on_created: self.on_created.unwrap_or(policy.on_created),
            on_status_change: self.on_status_change.unwrap_or(policy.on_status_change),
            quiet_hours,
            callback_phone,
            after_hours_phone,
            templates,
        })
    }

    /// The parts it changes, for the audit entry (never their text).
    fn parts(&self) -> impl Iterator<Item = &'static str> {
        [
            ("on_created", self.on_created.is_some()),
            ("on_status_change", self.on_status_change.is_some()),
            ("quiet_hours", self.quiet_hours.is_some()),
            ("callback_phone", self.callback_phone.is_some()),
            ("after_hours_phone", self.after_hours_phone.is_some()),
            ("sms_template", self.sms_template.is_some()),
            (
                "email_subject_template",
                self.email_subject_template.is_some(),
            ),
            ("email_body_template", self.email_body_template.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
    }
}

impl Connecticket {
    /// The provider's notification policy, or the default.
    pub async fn notify_policy(&self, call: AdminCall) -> DomainResult<NotifyPolicy> {
        self.administrate(
            call,
            Action::ProviderSettings,
            Recorded::Afterwards,
            async |scope, entry| {
                entry.records.insert("notify_policy".to_owned());
                Ok(self.store.notify_policy(scope.provider_id()?).await?)
            },
        )
        .await
    }

    /// Changes the parts of the provider's policy that `change` gives.
    pub async fn change_notify_policy(
        &self,
        call: AdminCall,
        change: PolicyChange,
    ) -> DomainResult<NotifyPolicy> {
        self.administrate(
            call,
            Action::NotifyPolicy,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let country = scope.provider()?.phone_country();
                let provider = scope.provider_id()?;
                for part in change.parts() {
                    entry.records.insert(format!("policy:{part}"));
                }
                let current = self.store.notify_policy(provider).await?;
                let policy = change.applied_to(current, country)?;
                self.store
                    .set_notify_policy(provider, policy.clone(), entry.clone())
                    .await?;
                Ok(policy)
            },
        )
        .await
    }

    /// The provider's newest notifications, in a delivery state or
    /// waiting for an answer, at most `QUEUE_PAGE_LIMIT`.
    pub async fn notification_queue(
        &self,
        call: AdminCall,
        filter: Option<NoticeFilter>,
    ) -> DomainResult<Vec<NoticeSummary>> {
        self.administrate(
            call,
            Action::NotificationQueue,
            Recorded::Afterwards,
            async |scope, entry| {
                let query = NoticeQuery {
                    provider: scope.provider_id()?,
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
                for notice in &found {
                    entry.touch(RecordRef::Notification(notice.id));
                    entry.touch(RecordRef::Ticket(notice.ticket_id));
                }
                Ok(found.iter().map(NoticeSummary::from).collect())
            },
        )
        .await
    }

    /// The outbox as the operator watches it, newest first, with each
    /// notification's attempts and last error (never its text); a call
    /// for one provider sees only that provider's.
    pub async fn outbox(
        &self,
        call: impl Into<AdminCall>,
        filter: NotificationFilter,
    ) -> DomainResult<Vec<Notification>> {
        self.administrate(
            call,
            Action::NotificationQueue,
            Recorded::WhenDisclosed,
            async |scope, entry| {
                let filter = NotificationFilter {
                    provider: scope.limited_to().or(filter.provider),
                    ..filter
                };
                let found = self.store.notifications(filter).await?;
                for notification in &found {
                    entry.touch(RecordRef::Notification(notification.id));
                    entry.touch(RecordRef::Ticket(notification.ticket_id));
                }
                // An empty outbox of the whole installation discloses
                // nothing (and a fresh database stays fresh).
                if !found.is_empty() || scope.limited_to().is_some() {
                    self.record(entry.clone(), Ok(())).await?;
                }
                Ok(found)
            },
        )
        .await
    }

    /// Makes a failed or waiting notification due now, with fresh
    /// attempts (one already delivered is left as it is). A call for one
    /// provider reaches only that provider's.
    pub async fn retry_notification(
        &self,
        call: impl Into<AdminCall>,
        id: NotificationId,
    ) -> DomainResult<Notification> {
        self.administrate(
            call,
            Action::ManageNotifications,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Notification(id));
                entry.records.insert("retry".to_owned());
                Ok(self
                    .store
                    .retry_notification(id, scope.limited_to(), self.now(), entry.clone())
                    .await?)
            },
        )
        .await
    }
}
