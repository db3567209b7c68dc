//! [`EscalationStore`] over any engine: each method one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use connecticket_domain::audit::AuditEntry;
use connecticket_domain::model::{ContactId, ProviderContact, ProviderId};
use connecticket_domain::notify::{
    AckRefusal, EscalationPolicy, EscalationRule, EscalationStep, Notification,
};
use connecticket_domain::store::{
    AckBy, AckTarget, EscalationStore, NoticeQuery, NotificationHistory,
};
use connecticket_domain::StoreError;

use crate::engine::Engine;
use crate::ops::{acknowledgments, escalations};
use crate::store::SqlStore;

type Result<T> = std::result::Result<T, StoreError>;

#[async_trait]
impl<E: Engine> EscalationStore for SqlStore<E> {
    async fn escalation_policy(&self, provider: ProviderId) -> Result<EscalationPolicy> {
        self.engine
            .read(move |tx| Box::pin(escalations::policy(tx, provider)))
            .await
    }

    async fn set_escalation_rule(
        &self,
        provider: ProviderId,
        urgency_status_id: i64,
        rule: Option<EscalationRule>,
        audit: AuditEntry,
    ) -> Result<()> {
        self.engine
            .write(move |tx| {
                Box::pin(escalations::set_rule(
                    tx,
                    provider,
                    urgency_status_id,
                    rule,
                    audit,
                ))
            })
            .await
    }

    async fn create_provider_contact(
        &self,
        contact: ProviderContact,
        audit: AuditEntry,
    ) -> Result<ProviderContact> {
        self.engine
            .write(move |tx| Box::pin(escalations::create_staff(tx, contact, audit)))
            .await
    }

    async fn provider_contacts(&self, provider: ProviderId) -> Result<Vec<ProviderContact>> {
        self.engine
            .read(move |tx| Box::pin(escalations::staff(tx, provider)))
            .await
    }

    async fn delete_provider_contact(
        &self,
        provider: ProviderId,
        contact: ContactId,
        audit: AuditEntry,
    ) -> Result<()> {
        self.engine
            .write(move |tx| Box::pin(escalations::delete_staff(tx, provider, contact, audit)))
            .await
    }

    async fn escalate_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        audit: AuditEntry,
    ) -> Result<Vec<EscalationStep>> {
        // Most looks find nothing due; they cost one indexed read.
        let due = self
            .engine
            .read(move |tx| Box::pin(escalations::any_due(tx, now)))
            .await?;
        if !due {
            return Ok(Vec::new());
        }
        self.engine
            .write(move |tx| Box::pin(escalations::escalate_due(tx, now, limit, audit)))
            .await
    }

    async fn ack_target(
        &self,
        token_hash: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<std::result::Result<AckTarget, AckRefusal>> {
        self.engine
            .read(move |tx| {
                Box::pin(
                    async move { acknowledgments::ack_target(tx, &token_hash, now, false).await },
                )
            })
            .await
    }

    async fn acknowledge(
        &self,
        by: AckBy,
        now: DateTime<Utc>,
        audit: AuditEntry,
    ) -> Result<std::result::Result<AckTarget, AckRefusal>> {
        self.engine
            .write(move |tx| Box::pin(acknowledgments::acknowledge(tx, by, now, audit)))
            .await
    }

    async fn notices(&self, query: NoticeQuery, now: DateTime<Utc>) -> Result<Vec<Notification>> {
        self.engine
            .read(move |tx| {
                Box::pin(async move { acknowledgments::notices(tx, &query, now).await })
            })
            .await
    }

    async fn notification_history(
        &self,
        provider: ProviderId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<NotificationHistory> {
        self.engine
            .read(move |tx| Box::pin(acknowledgments::history(tx, provider, since, until)))
            .await
    }
}
