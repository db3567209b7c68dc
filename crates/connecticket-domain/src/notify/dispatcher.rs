//! Sends what the outbox holds. One task per configured transport claims
//! due notifications under a lease, sends each within the transport's rate,
//! and records the attempt with its audit entry. Several instances share
//! the work: a lease keeps a notification with one dispatcher, and expires
//! if that instance dies, so another picks it up.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use rand::Rng;

use super::{
    render, AckLinkRecord, AckLinks, Channel, Claimed, SendResult, Transport, TransportHealth,
};
use crate::audit::{Action, AuditEntry, Outcome, RecordRef, RequestContext};
use crate::clock::SharedClock;
use crate::model::{ContactRole, RecipientRole};
use crate::outage::{write_through_outage, Pause};
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
    /// Claimed per round at most; a round claims about one second's worth
    /// of its transport's rate, so that news more urgent than what a round
    /// holds waits a second at most.
    pub batch: u32,
    /// Sends in flight at once per transport (their starts still spaced by
    /// the rate): a slow relay or gateway round trip does not cap the rate.
    pub concurrency: usize,
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
            batch: 64,
            concurrency: 16,
            hold_interval: StdDuration::from_secs(30),
        }
    }
}

fn uuid_like() -> String {
    let mut bytes = [0u8; 8];
    rand::thread_rng().fill(&mut bytes);
    hex::encode(bytes)
}

/// Tries of recording one attempt before its round gives up on it.
const RECORD_TRIES: u64 = 3;

/// Locks the records of attempts are striped over, by ticket.
const RECORD_STRIPES: usize = 16;

pub struct Dispatcher {
    /// Records of one ticket's attempts are made one at a time: each sets
    /// its ticket's `sent_to_*`, and two write batches that each hold one
    /// ticket and wait for another would deadlock (PostgreSQL breaks that
    /// only after a second, by failing one).
    recording: [tokio::sync::Mutex<()>; RECORD_STRIPES],
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
            recording: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
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
        let mut pause = Pause::default();
        loop {
            match self
                .round(transport.as_ref(), interval, &mut next_send)
                .await
            {
                Ok(claimed) => {
                    pause.succeeded("notifications");
                    if claimed == 0 {
                        tokio::time::sleep(self.options.poll).await;
                    }
                }
                Err(error) => {
                    pause.failed("notifications", &error);
                    tokio::time::sleep(self.options.poll).await;
                }
            }
        }
    }

    /// Claims a batch and sends it; answers how many were claimed. The
    /// store hands out the most urgent first, taking turns between
    /// providers, so that one provider's burst cannot hold back another's
    /// emergency for longer than a round.
    pub async fn round(
        &self,
        transport: &dyn Transport,
        interval: StdDuration,
        next_send: &mut tokio::time::Instant,
    ) -> crate::error::StoreResult<usize> {
        let now = self.clock.now();
        let batch = round_batch(transport.max_per_second(), self.options.batch);
        let claimed = self
            .store
            .claim_notifications(
                vec![transport.channel()],
                self.options.owner.clone(),
                now,
                now + self.options.lease,
                batch,
            )
            .await?;
        let count = claimed.len();
        // A link must work the moment its message arrives (a relative who
        // taps it at once, a mail scanner): stored before anything is sent.
        let links: Vec<AckLinkRecord> = claimed
            .iter()
            .filter_map(|item| {
                let token = self.ack_token(item)?;
                Some(AckLinkRecord {
                    notification: item.notification.id,
                    token_hash: self.links.token_hash(&token),
                    expires_at: item
                        .notification
                        .ack_expires_at
                        .unwrap_or_else(|| now + self.links.lifetime),
                })
            })
            .collect();
        if !links.is_empty() {
            self.store
                .publish_ack_links(self.options.owner.clone(), links)
                .await?;
        }
        // Each send takes at most half a lease (the transports' timeout):
        // once half the lease is gone, the rest of the batch is left to
        // expire and be claimed again, so no send can outlive its lease
        // while another instance sends the same notification.
        let claimed_at = tokio::time::Instant::now();
        let lease = self.options.lease.to_std().unwrap_or_default();
        let half_lease = lease / 2;
        // A send that failed to be recorded is kept as an error, but the
        // others in flight go on to be recorded: dropping them half-way
        // would send them again once their lease ran out.
        let mut failed = Ok(());
        let mut in_flight = futures::stream::FuturesUnordered::new();
        for item in claimed {
            while in_flight.len() >= self.options.concurrency.max(1) {
                if let Some(Err(error)) = futures::StreamExt::next(&mut in_flight).await {
                    failed = Err(error);
                }
            }
            tokio::time::sleep_until(*next_send).await;
            // Checked last, just before the send starts: whatever waited
            // before it, a send never starts in the second half of a lease.
            if claimed_at.elapsed() >= half_lease {
                break;
            }
            *next_send = tokio::time::Instant::now() + interval;
            in_flight.push(self.send(transport, item, claimed_at + lease));
        }
        while let Some(sent) = futures::StreamExt::next(&mut in_flight).await {
            if let Err(error) = sent {
                failed = Err(error);
            }
        }
        failed.map(|()| count)
    }

    /// Sends one claimed notification and records the attempt.
    async fn send(
        &self,
        transport: &dyn Transport,
        mut item: Claimed,
        lease_ends: tokio::time::Instant,
    ) -> crate::error::StoreResult<()> {
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
        self.record(&item, result, ack_link, lease_ends).await
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
        lease_ends: tokio::time::Instant,
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
        // A message went out: its record is worth a few tries (two sends
        // recorded at once may meet on their ticket and one be told to try
        // again), since a record lost means a message sent twice.
        let stripe = n.ticket_id.get().rem_euclid(RECORD_STRIPES as i64) as usize;
        let _turn = self.recording[stripe].lock().await;
        // The message is out: its record is kept through a failover until
        // the lease would let another dispatcher send it again. A record
        // that committed before its answer was lost is not made twice:
        // the retry finds the lease released and records nothing.
        let mut tries = 0;
        let recorded = loop {
            let recorded = write_through_outage(lease_ends, || {
                self.store.record_attempt(attempt.clone(), audit.clone())
            })
            .await;
            match recorded {
                Err(error) if tries < RECORD_TRIES && !error.is_outage() => {
                    tries += 1;
                    tracing::warn!(%error, notification = n.id.get(), tries, "recording an attempt failed; trying again");
                    tokio::time::sleep(StdDuration::from_millis(20 * tries)).await;
                }
                other => break other?,
            }
        };
        if !recorded {
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

/// How many to claim in a round: about a second's worth at `per_second`,
/// at least one, at most `most`.
fn round_batch(per_second: f64, most: u32) -> u32 {
    let second = per_second.ceil();
    if second.is_finite() && second >= 1.0 {
        (second.min(f64::from(most)) as u32).max(1)
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::round_batch;

    #[test]
    fn a_round_claims_about_a_second_of_the_rate() {
        assert_eq!(round_batch(10.0, 64), 10);
        assert_eq!(round_batch(400.0, 64), 64);
        assert_eq!(round_batch(0.5, 64), 1);
        assert_eq!(round_batch(f64::NAN, 64), 1);
    }
}
