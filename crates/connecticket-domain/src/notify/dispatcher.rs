//! Sends what the outbox holds. One task per configured transport claims
//! due notifications under a lease, sends each within the transport's rate,
//! and records the attempt with its audit entry. Several instances share
//! the work: a lease keeps a notification with one dispatcher, and expires
//! if that instance dies, so another picks it up.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use rand::Rng;

use super::{render, AckLinks, Channel, Claimed, SendResult, Transport, TransportHealth};
use crate::audit::{Action, AuditEntry, Outcome, RecordRef, RequestContext};
use crate::clock::SharedClock;
use crate::model::{ContactRole, RecipientRole};
use crate::store::{Attempt, AttemptResult, Store};

#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    /// Names this dispatcher in leases (unique per process).
    pub owner: String,
    /// How long a claim is kept from other dispatchers.
    pub lease: Duration,
    /// How often to look for due notifications when there were none.
    pub poll: StdDuration,
    /// Attempts before a notification fails for good.
    pub max_attempts: i64,
    /// The first retry's delay, doubled per attempt up to `backoff_cap`
    /// (each delay then scaled by a random 50 to 100 %).
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Claimed per round.
    pub batch: u32,
    /// How often notifications of a channel without a transport are told
    /// why they wait.
    pub hold_interval: StdDuration,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        DispatcherOptions {
            owner: format!("dispatcher-{}", uuid_like()),
            lease: Duration::seconds(120),
            poll: StdDuration::from_millis(500),
            max_attempts: 10,
            backoff_base: Duration::seconds(10),
            backoff_cap: Duration::minutes(30),
            batch: 16,
            hold_interval: StdDuration::from_secs(30),
        }
    }
}

fn uuid_like() -> String {
    let mut bytes = [0u8; 8];
    rand::thread_rng().fill(&mut bytes);
    hex::encode(bytes)
}

pub struct Dispatcher {
    store: Arc<dyn Store>,
    clock: SharedClock,
    transports: Vec<Arc<dyn Transport>>,
    options: DispatcherOptions,
    links: AckLinks,
    health: Arc<TransportHealth>,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        clock: SharedClock,
        transports: Vec<Arc<dyn Transport>>,
        options: DispatcherOptions,
        links: AckLinks,
        health: Arc<TransportHealth>,
    ) -> Self {
        Dispatcher {
            store,
            clock,
            transports,
            options,
            links,
            health,
        }
    }

    /// Runs until the returned task is aborted: one loop per transport,
    /// and a note on every channel that has none.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let dispatcher = Arc::new(self);
        tokio::spawn(async move {
            let mut loops = tokio::task::JoinSet::new();
            for transport in dispatcher.transports.clone() {
                let dispatcher = Arc::clone(&dispatcher);
                loops.spawn(async move { dispatcher.serve(transport).await });
            }
            let missing: Vec<Channel> = Channel::ALL
                .into_iter()
                .filter(|c| !dispatcher.transports.iter().any(|t| t.channel() == *c))
                .collect();
            loop {
                for channel in &missing {
                    let reason =
                        format!("waiting: no {} transport is configured", channel.as_str());
                    if let Err(error) = dispatcher.store.hold_notifications(*channel, reason).await
                    {
                        tracing::warn!(%error, "could not mark notifications without a transport");
                    }
                }
                tokio::time::sleep(dispatcher.options.hold_interval).await;
            }
        })
    }

    async fn serve(&self, transport: Arc<dyn Transport>) {
        let interval = StdDuration::from_secs_f64(1.0 / transport.max_per_second().max(0.001));
        let mut next_send = tokio::time::Instant::now();
        loop {
            match self
                .round(transport.as_ref(), interval, &mut next_send)
                .await
            {
                Ok(0) => tokio::time::sleep(self.options.poll).await,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, channel = transport.channel().as_str(), "notification round failed");
                    tokio::time::sleep(self.options.poll).await;
                }
            }
        }
    }

    /// Claims a batch and sends it; answers how many were claimed.
    pub async fn round(
        &self,
        transport: &dyn Transport,
        interval: StdDuration,
        next_send: &mut tokio::time::Instant,
    ) -> crate::error::StoreResult<usize> {
        let now = self.clock.now();
        let claimed = self
            .store
            .claim_notifications(
                vec![transport.channel()],
                self.options.owner.clone(),
                now,
                now + self.options.lease,
                self.options.batch,
            )
            .await?;
        let count = claimed.len();
        // Each send takes at most half a lease (the transports' timeout):
        // once half the lease is gone, the rest of the batch is left to
        // expire and be claimed again, so no send can outlive its lease
        // while another instance sends the same notification.
        let claimed_at = tokio::time::Instant::now();
        let half_lease = self.options.lease.to_std().unwrap_or_default() / 2;
        for mut item in claimed {
            tokio::time::sleep_until(*next_send).await;
            if claimed_at.elapsed() >= half_lease {
                break;
            }
            *next_send = tokio::time::Instant::now() + interval;
            let token = self.ack_token(&item);
            item.ack_link = token.as_deref().and_then(|t| self.links.link(t));
            let result = transport.send(&render(&item)).await;
            let ack_link = token.map(|token| {
                let expires = item
                    .notification
                    .ack_expires_at
                    .unwrap_or_else(|| self.clock.now() + self.links.lifetime);
                (self.links.token_hash(&token), expires)
            });
            self.record(&item, result, ack_link).await?;
        }
        Ok(count)
    }

    /// The acknowledgment token of a notification that needs an answer.
    fn ack_token(&self, item: &Claimed) -> Option<String> {
        let n = &item.notification;
        match (&n.ack_salt, n.ack_required) {
            (Some(salt), true) => Some(self.links.token(n.id, salt)),
            _ => None,
        }
    }

    async fn record(
        &self,
        item: &Claimed,
        result: SendResult,
        ack_link: Option<(Vec<u8>, chrono::DateTime<chrono::Utc>)>,
    ) -> crate::error::StoreResult<()> {
        let n = &item.notification;
        let at = self.clock.now();
        let attempts = n.attempts + 1;
        let (result, outcome) = match result {
            SendResult::Accepted { external_id } => {
                (AttemptResult::Delivered { external_id }, Outcome::Success)
            }
            SendResult::Transient(reason) if attempts < self.options.max_attempts => (
                AttemptResult::Retry {
                    reason,
                    next_at: at + self.backoff(attempts),
                },
                Outcome::Error,
            ),
            SendResult::Transient(reason) => (
                AttemptResult::Failed {
                    reason: format!("gave up after {attempts} attempts: {reason}"),
                },
                Outcome::Error,
            ),
            SendResult::Permanent(reason) => (AttemptResult::Failed { reason }, Outcome::Invalid),
        };
        let counted = match &result {
            AttemptResult::Delivered { .. } => "delivered",
            AttemptResult::Retry { .. } => "retry",
            AttemptResult::Failed { .. } => "failed",
        };
        metrics::counter!(
            "connecticket_notification_attempts_total",
            "channel" => n.channel.as_str(),
            "outcome" => counted,
        )
        .increment(1);
        match &result {
            AttemptResult::Delivered { .. } => self.health.delivered(n.channel, at),
            AttemptResult::Retry { reason, .. } | AttemptResult::Failed { reason } => {
                self.health.failed(n.channel, at, reason)
            }
        }
        match &result {
            AttemptResult::Delivered { .. } => {
                tracing::info!(
                    notification = n.id.get(),
                    channel = n.channel.as_str(),
                    "notification delivered"
                )
            }
            AttemptResult::Retry { reason, .. } | AttemptResult::Failed { reason } => {
                tracing::warn!(notification = n.id.get(), channel = n.channel.as_str(), attempts, %reason, "notification not delivered")
            }
        }
        let mut audit = AuditEntry::new(
            &RequestContext::dispatcher(),
            Action::DeliverNotification,
            outcome,
            at,
        );
        audit.provider_id = Some(n.provider_id);
        audit.touch(RecordRef::Notification(n.id));
        audit.touch(RecordRef::Ticket(n.ticket_id));
        audit.touch(RecordRef::Resident(n.resident_id));
        let attempt = Attempt {
            notification: n.id,
            owner: self.options.owner.clone(),
            at,
            result,
            ack_link,
        };
        if !self.store.record_attempt(attempt, audit).await? {
            tracing::warn!(
                notification = n.id.get(),
                "lease lost before the attempt was recorded"
            );
        }
        Ok(())
    }

    /// Capped exponential backoff with jitter.
    fn backoff(&self, attempts: i64) -> Duration {
        let doublings = (attempts - 1).clamp(0, 20) as u32;
        let base = self.options.backoff_base.num_milliseconds().max(1);
        let delay = base
            .saturating_mul(1i64 << doublings)
            .min(self.options.backoff_cap.num_milliseconds());
        let jitter = rand::thread_rng().gen_range(0.5..=1.0);
        Duration::milliseconds((delay as f64 * jitter) as i64)
    }
}

/// The ticket field a delivery to this role sets; staff have none.
pub fn sent_field(role: &RecipientRole) -> Option<&'static str> {
    match role {
        RecipientRole::Resident(ContactRole::Family) => Some("sent_to_family"),
        RecipientRole::Resident(ContactRole::PrimaryPhysician) => Some("sent_to_primary"),
        RecipientRole::Resident(ContactRole::HealthcareProfessional) => {
            Some("sent_to_healthcare_pro")
        }
        RecipientRole::Staff(_) => None,
    }
}
