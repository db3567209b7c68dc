//! Delivers queued events to webhook endpoints. Each endpoint is leased
//! whole to one dispatcher (on any instance), which sends its deliveries
//! one at a time in feed order and stops at the first failure, so order
//! holds. Endpoints are served side by side: one that hangs holds only its
//! own queue.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::Duration;
use rand::Rng;
use tokio::task::JoinSet;

use super::webhooks::{
    retry_delay, SignedDelivery, Webhook, WebhookAttempt, WebhookBatch, WebhookOutcome,
    WebhookRecorded,
};
use crate::audit::{Action, AuditEntry, Outcome, RequestContext};
use crate::auth::SecretHasher;
use crate::clock::SharedClock;
use crate::console::ConsoleRole;
use crate::notify::{Channel, Message, Transport};
use crate::store::Store;

/// What became of one request to a receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookResult {
    /// A 2xx answer in time.
    Delivered,
    /// Anything else, said for the endpoint's `last_error` (never with
    /// the receiver's body).
    Failed(String),
}

/// Sends one signed delivery over HTTP (`connecticket-notify`), refusing
/// addresses the deployment does not allow.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    async fn send(&self, delivery: &SignedDelivery) -> WebhookResult;
}

#[derive(Debug, Clone)]
pub struct WebhookDispatcherOptions {
    /// Names this dispatcher in leases (unique per process).
    pub owner: String,
    /// How long an endpoint is kept from other dispatchers per claim.
    pub lease: Duration,
    /// The longest one request may take (the receiver's answer included).
    pub timeout: StdDuration,
    /// How often to look for due deliveries when there were none.
    pub poll: StdDuration,
    /// Endpoints served at once.
    pub concurrency: usize,
    /// Deliveries taken per endpoint per claim.
    pub per_endpoint: u32,
}

impl Default for WebhookDispatcherOptions {
    fn default() -> Self {
        WebhookDispatcherOptions {
            owner: format!("webhooks-{:016x}", rand::thread_rng().gen::<u64>()),
            lease: Duration::seconds(60),
            timeout: StdDuration::from_secs(10),
            poll: StdDuration::from_millis(200),
            concurrency: 32,
            per_endpoint: 20,
        }
    }
}

pub struct WebhookDispatcher {
    store: Arc<dyn Store>,
    clock: SharedClock,
    hasher: SecretHasher,
    sender: Arc<dyn WebhookSender>,
    /// Tells a provider's administrators that an endpoint was disabled
    /// (none without an SMTP relay: the console's banner still does).
    email: Option<Arc<dyn Transport>>,
    options: WebhookDispatcherOptions,
}

impl WebhookDispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        clock: SharedClock,
        hasher: SecretHasher,
        sender: Arc<dyn WebhookSender>,
        options: WebhookDispatcherOptions,
    ) -> Self {
        WebhookDispatcher {
            store,
            clock,
            hasher,
            sender,
            email: None,
            options,
        }
    }

    /// Emails administrators through this transport when an endpoint is
    /// disabled.
    pub fn telling_administrators_by(mut self, email: Option<Arc<dyn Transport>>) -> Self {
        self.email = email;
        self
    }

    /// Runs until the returned task is aborted.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let this = Arc::new(self);
        tokio::spawn(async move {
            let mut serving: JoinSet<()> = JoinSet::new();
            let mut last_gauges = std::time::Instant::now() - StdDuration::from_secs(60);
            let mut pause = crate::outage::Pause::default();
            loop {
                while serving.try_join_next().is_some() {}
                if last_gauges.elapsed() >= StdDuration::from_secs(10) {
                    last_gauges = std::time::Instant::now();
                    this.report_queue().await;
                }
                let free = this.options.concurrency.saturating_sub(serving.len());
                let claimed = if free == 0 {
                    Ok(Vec::new())
                } else {
                    this.claim(free as u32).await
                };
                match claimed {
                    Ok(batches) if !batches.is_empty() => {
                        pause.succeeded("webhooks");
                        for batch in batches {
                            let this = Arc::clone(&this);
                            serving.spawn(async move { this.serve(batch).await });
                        }
                        continue;
                    }
                    Ok(_) => pause.succeeded("webhooks"),
                    Err(error) => pause.failed("webhooks", &error),
                }
                tokio::select! {
                    _ = tokio::time::sleep(this.options.poll) => {}
                    Some(_) = serving.join_next(), if !serving.is_empty() => {}
                }
            }
        })
    }

    async fn claim(&self, limit: u32) -> crate::error::StoreResult<Vec<WebhookBatch>> {
        let now = self.clock.now();
        self.store
            .claim_webhooks(
                self.options.owner.clone(),
                now,
                now + self.options.lease,
                limit,
                self.options.per_endpoint,
            )
            .await
    }

    /// Sends one endpoint's batch in order, stopping at the first failure
    /// (which schedules the endpoint's retry) or when the lease is too
    /// short for another request.
    pub async fn serve(&self, batch: WebhookBatch) {
        let endpoint = batch.webhook.id;
        let claimed_at = std::time::Instant::now();
        let lease = self
            .options
            .lease
            .to_std()
            .unwrap_or(StdDuration::from_secs(60));
        for (delivery, attempts, event) in &batch.deliveries {
            if claimed_at.elapsed() + self.options.timeout + StdDuration::from_secs(2) > lease {
                break;
            }
            let signed = SignedDelivery::new(&self.hasher, &batch.webhook, event, self.clock.now());
            let started = std::time::Instant::now();
            let result =
                match tokio::time::timeout(self.options.timeout, self.sender.send(&signed)).await {
                    Ok(result) => result,
                    Err(_) => WebhookResult::Failed(format!(
                        "no answer within {} s",
                        self.options.timeout.as_secs()
                    )),
                };
            metrics::histogram!("connecticket_webhook_request_seconds")
                .record(started.elapsed().as_secs_f64());
            let now = self.clock.now();
            let outcome = match &result {
                WebhookResult::Delivered => WebhookOutcome::Delivered,
                WebhookResult::Failed(reason) => {
                    let jitter = rand::thread_rng().gen::<f64>();
                    let attempt = u32::try_from(attempts + 1).unwrap_or(u32::MAX);
                    WebhookOutcome::Failed {
                        reason: reason.clone(),
                        retry_at: now + retry_delay(attempt, jitter),
                    }
                }
            };
            let label = if result == WebhookResult::Delivered {
                "delivered"
            } else {
                "failed"
            };
            metrics::counter!("connecticket_webhook_deliveries_total", "outcome" => label)
                .increment(1);
            let attempt = WebhookAttempt {
                endpoint,
                delivery: *delivery,
                owner: self.options.owner.clone(),
                at: now,
                outcome,
            };
            let disable_audit = AuditEntry {
                provider_id: Some(batch.webhook.provider_id),
                application_id: Some(batch.webhook.application_id),
                ..AuditEntry::new(
                    &RequestContext::background("webhooks"),
                    Action::ManageWebhooks,
                    Outcome::Success,
                    now,
                )
            };
            // Sent already: the record is kept through a failover for as
            // long as the lease holds the endpoint.
            let lease_ends = tokio::time::Instant::from_std(claimed_at + lease);
            let recorded = crate::outage::write_through_outage(lease_ends, || {
                self.store
                    .record_webhook_attempt(attempt.clone(), disable_audit.clone())
            })
            .await;
            match recorded {
                Ok(WebhookRecorded::Recorded) if result == WebhookResult::Delivered => continue,
                Ok(WebhookRecorded::Recorded) => {
                    tracing::info!(endpoint = endpoint.get(), reason = ?result, "webhook delivery failed; will retry");
                    return;
                }
                Ok(WebhookRecorded::Disabled) => {
                    metrics::counter!("connecticket_webhook_endpoints_disabled_total").increment(1);
                    tracing::warn!(
                        endpoint = endpoint.get(),
                        "webhook endpoint failed for three days and is disabled"
                    );
                    let reason = match &result {
                        WebhookResult::Failed(reason) => reason.as_str(),
                        WebhookResult::Delivered => "",
                    };
                    self.tell_administrators(&batch.webhook, reason).await;
                    return;
                }
                Ok(WebhookRecorded::LeaseLost) => return,
                Err(error) => {
                    tracing::warn!(%error, endpoint = endpoint.get(), "could not record a webhook delivery");
                    return;
                }
            }
        }
        if let Err(error) = self
            .store
            .release_webhook(endpoint, self.options.owner.clone())
            .await
        {
            tracing::warn!(%error, endpoint = endpoint.get(), "could not release a webhook endpoint");
        }
    }

    /// Emails the provider's console administrators that an endpoint was
    /// disabled: which, whose, why, and what to do. Best effort: the audit
    /// entry, the console's banner and `GET webhooks` say it durably.
    async fn tell_administrators(&self, webhook: &Webhook, reason: &str) {
        let Some(email) = &self.email else {
            return;
        };
        let provider = webhook.provider_id;
        let roster = match self.store.console_roster(provider).await {
            Ok(roster) => roster,
            Err(error) => {
                tracing::warn!(%error, "could not read the administrators to tell");
                return;
            }
        };
        let application = self
            .store
            .applications(provider)
            .await
            .ok()
            .and_then(|apps| apps.into_iter().find(|a| a.id == webhook.application_id))
            .map_or_else(|| format!("#{}", webhook.application_id), |a| a.name);
        let since = webhook
            .failing_since
            .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        let body = format!(
            "Connecticket stopped sending events to a webhook of the application \"{application}\":\n\n  {url}\n\nEvery delivery to it has failed since {since} (the last answer: {reason}). Nothing more is sent to it, so that application no longer learns of changes as they happen; it can still read them from the change feed.\n\nOnce its team has fixed the receiver, send its events again from Administration → Webhooks in the console; that turns it back on.\n",
            url = webhook.url,
        );
        let administrators = roster.iter().filter_map(|(_, account)| {
            account
                .as_ref()
                .filter(|a| a.role == ConsoleRole::Administrator)
                .map(|a| a.email.clone())
        });
        for (n, to) in administrators.enumerate() {
            let message = Message {
                notification_id: None,
                idempotency_id: format!(
                    "webhook-{}-disabled-{}-{n}",
                    webhook.id,
                    self.clock.now().timestamp()
                ),
                channel: Channel::Email,
                to,
                subject: Some("A webhook was disabled after three days of failures".to_owned()),
                body: body.clone(),
            };
            if let crate::notify::SendResult::Transient(error)
            | crate::notify::SendResult::Permanent(error) = email.send(&message).await
            {
                tracing::warn!(%error, "could not tell an administrator of a disabled webhook");
            }
        }
    }

    /// Deliveries waiting and the oldest one's age, per endpoint.
    async fn report_queue(&self) {
        let Ok(endpoints) = self.store.webhook_queue().await else {
            return;
        };
        let now = self.clock.now();
        for endpoint in endpoints {
            let id = endpoint.id.get().to_string();
            let age = endpoint.oldest_pending_at.map_or(0.0, |at| {
                (now - at).num_milliseconds().max(0) as f64 / 1000.0
            });
            metrics::gauge!("connecticket_webhook_queue_depth", "endpoint" => id.clone())
                .set(endpoint.pending as f64);
            metrics::gauge!("connecticket_webhook_queue_age_seconds", "endpoint" => id).set(age);
        }
    }
}
