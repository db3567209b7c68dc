//! The outbox after a claim: attempts recorded by whoever holds the lease,
//! leases given back, waiting notifications held with their reason,
//! retries within a provider, and the gateway's reports.

use chrono::Duration;
use connecticket_domain::audit::Action;
use connecticket_domain::model::{ContactRole, NewContact, TicketId};
use connecticket_domain::notify::{Channel, Claimed, DeliveryState, ReportedStatus};
use connecticket_domain::store::{Attempt, AttemptResult, NotificationFilter, Store};
use connecticket_domain::workflow::UrgencyStatus;
use connecticket_domain::{Entity, StoreError};

use super::audit::entries;
use super::fixtures::{entry, t0, tenant, ticket, write, Fixture, Tenant};
use super::notifications::{emailed_contact, emailing_ticket};

fn soon() -> chrono::DateTime<chrono::Utc> {
    t0() + Duration::hours(1)
}

async fn claim(store: &dyn Store, channel: Channel, owner: &str) -> Vec<Claimed> {
    store
        .claim_notifications(
            vec![channel],
            owner.to_owned(),
            soon(),
            soon() + Duration::minutes(10),
            10,
        )
        .await
        .expect("claim")
}

fn attempt(claimed: &Claimed, owner: &str, result: AttemptResult) -> Attempt {
    Attempt {
        notification: claimed.notification.id,
        owner: owner.to_owned(),
        at: soon(),
        result,
        ack_link: None,
    }
}

async fn outbox(
    store: &dyn Store,
    tenant: &Tenant,
) -> Vec<connecticket_domain::notify::Notification> {
    store
        .notifications(NotificationFilter {
            provider: Some(tenant.provider.id),
            limit: 100,
            ..NotificationFilter::default()
        })
        .await
        .expect("outbox")
}

pub async fn only_the_lease_holder_records_an_attempt(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    emailed_contact(store, &a).await;
    emailing_ticket(store, &a, UrgencyStatus::DEFAULT, "fell").await;
    let claimed = claim(store, Channel::Email, "one").await;
    assert_eq!(claimed.len(), 1);
    let delivered = AttemptResult::Delivered {
        external_id: "<m1@example>".to_owned(),
    };
    let stranger = store
        .record_attempt(
            attempt(&claimed[0], "two", delivered.clone()),
            entry(&a, Action::DeliverNotification),
        )
        .await
        .expect("attempt");
    assert!(!stranger, "someone else's lease");
    let before = entries(store).await.len();
    let holder = store
        .record_attempt(
            attempt(&claimed[0], "one", delivered),
            entry(&a, Action::DeliverNotification),
        )
        .await
        .expect("attempt");
    assert!(holder);
    let sent = &outbox(store, &a).await[0];
    assert_eq!(
        (sent.state, sent.external_id.as_deref()),
        (DeliveryState::Delivered, Some("<m1@example>"))
    );
    let written = entries(store).await.split_off(before);
    assert_eq!(
        written.iter().map(|r| r.action).collect::<Vec<_>>(),
        [Action::DeliverNotification],
        "the holder's attempt with its entry; none for the stranger's"
    );
}

pub async fn given_back_claims_go_to_the_next_claimant_at_once(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    emailed_contact(store, &a).await;
    emailing_ticket(store, &a, UrgencyStatus::DEFAULT, "one").await;
    emailing_ticket(store, &a, UrgencyStatus::DEFAULT, "two").await;
    assert_eq!(claim(store, Channel::Email, "stopping").await.len(), 2);
    assert!(
        claim(store, Channel::Email, "next").await.is_empty(),
        "still leased"
    );
    let released = store
        .release_notification_claims("stopping".to_owned())
        .await
        .expect("release");
    assert_eq!(released, 2);
    assert_eq!(claim(store, Channel::Email, "next").await.len(), 2);
}

/// Gives the tenant's first resident a contact who takes SMS, and raises a
/// ticket that texts them.
async fn texting_ticket(store: &dyn Store, a: &Tenant) -> TicketId {
    store
        .create_contact(
            a.provider.id,
            NewContact {
                id: None,
                resident_id: a.residents[0],
                role: ContactRole::Family,
                name: "Ann".to_owned(),
                email: None,
                phone: Some("+15555550123".to_owned()),
                email_consent: false,
                sms_consent: true,
                created_at: t0(),
            },
            entry(a, Action::ManageContacts),
        )
        .await
        .expect("contact");
    let mut texted = ticket(a, "texted");
    texted.sms = Some(true);
    texted.sent_to_family = Some(true);
    store
        .create_ticket(a.provider.id, texted, write(a, Action::CreateTicket))
        .await
        .expect("ticket")
        .into_inner()
}

pub async fn waiting_notifications_are_held_with_their_reason(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    texting_ticket(store, &a).await;
    let held = store
        .hold_notifications(Channel::Sms, "no SMS gateway is configured".to_owned())
        .await
        .expect("hold");
    assert_eq!(held, 1);
    let waiting = &outbox(store, &a).await[0];
    assert_eq!(waiting.state, DeliveryState::Pending);
    assert_eq!(
        waiting.last_error.as_deref(),
        Some("no SMS gateway is configured")
    );
    assert_eq!(
        store
            .hold_notifications(Channel::Email, "none".to_owned())
            .await
            .expect("hold"),
        0,
        "no email waits"
    );
}

pub async fn a_retry_makes_a_failed_notification_due_within_its_provider(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    emailed_contact(store, &a).await;
    emailing_ticket(store, &a, UrgencyStatus::DEFAULT, "fell").await;
    let claimed = claim(store, Channel::Email, "one").await;
    let failed = AttemptResult::Failed {
        reason: "550 no such mailbox".to_owned(),
    };
    store
        .record_attempt(
            attempt(&claimed[0], "one", failed),
            entry(&a, Action::DeliverNotification),
        )
        .await
        .expect("attempt");
    let id = claimed[0].notification.id;
    assert_eq!(outbox(store, &a).await[0].state, DeliveryState::Failed);
    let refused = store
        .retry_notification(
            id,
            Some(b.provider.id),
            soon(),
            entry(&b, Action::ManageNotifications),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Notification))),
        "{refused:?}"
    );
    let before = entries(store).await.len();
    let mut operator = entry(&a, Action::ManageNotifications);
    operator.provider_id = None;
    let retried = store
        .retry_notification(id, None, soon(), operator)
        .await
        .expect("retried");
    assert_eq!(
        (retried.state, retried.attempts, retried.next_attempt_at),
        (DeliveryState::Pending, 0, soon())
    );
    let written = entries(store).await.split_off(before);
    assert_eq!(written.len(), 1);
    assert_eq!(
        written[0].provider_id,
        Some(a.provider.id.get()),
        "the notification's provider, for an operator's retry"
    );
    assert!(written[0]
        .records
        .contains(&format!("ticket:{}", retried.ticket_id)));
}

pub async fn a_gateway_report_applies_to_the_message_it_names(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let ticket = texting_ticket(store, &a).await;
    let claimed = claim(store, Channel::Sms, "one").await;
    let sent = AttemptResult::Delivered {
        external_id: "SM123".to_owned(),
    };
    store
        .record_attempt(
            attempt(&claimed[0], "one", sent),
            entry(&a, Action::DeliverNotification),
        )
        .await
        .expect("attempt");
    let before = entries(store).await.len();
    let undelivered =
        ReportedStatus::Undelivered("the SMS gateway reported it undelivered".to_owned());
    store
        .record_gateway_status(
            "SM123".to_owned(),
            undelivered.clone(),
            soon(),
            entry(&a, Action::SmsStatus),
        )
        .await
        .expect("report");
    store
        .record_gateway_status(
            "SM-unknown".to_owned(),
            undelivered,
            soon(),
            entry(&a, Action::SmsStatus),
        )
        .await
        .expect("an unknown message changes nothing");
    let written = entries(store).await.split_off(before);
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(
        written[0].records.contains(&format!("ticket:{ticket}")),
        "{written:?}"
    );
    assert_eq!(
        written[1].outcome,
        connecticket_domain::audit::Outcome::NotFound,
        "{written:?}"
    );
    let failed = &outbox(store, &a).await[0];
    assert_eq!(
        (failed.state, failed.last_error.as_deref()),
        (
            DeliveryState::Failed,
            Some("the SMS gateway reported it undelivered")
        )
    );
}
