//! The event log and webhook endpoints: events written with their changes
//! get cursors in order once sequenced, the feed stays within its provider,
//! retention removes a prefix and says so, and endpoints are leased whole,
//! retried, disabled and replayed within their provider.

use chrono::Duration;
use connecticket_domain::audit::Action;
use connecticket_domain::events::webhooks::{
    NewWebhook, ReplayRange, WebhookAttempt, WebhookOutcome, WebhookRecorded, GIVE_UP_AFTER,
};
use connecticket_domain::events::EventKind;
use connecticket_domain::store::Store;
use connecticket_domain::{Entity, StoreError};

use super::fixtures::{entry, later, t0, tenant, ticket, write, Fixture, Tenant};

async fn sequenced(store: &dyn Store) -> u64 {
    store
        .sequence_events(1000, later(1))
        .await
        .expect("sequence")
}

fn endpoint(tenant: &Tenant, url: &str, kinds: Vec<EventKind>) -> NewWebhook {
    NewWebhook {
        provider_id: tenant.provider.id,
        application_id: tenant.application.id,
        url: url.to_owned(),
        event_types: kinds,
        secret_salt: vec![7; 16],
        at: t0(),
    }
}

pub async fn events_get_cursors_in_order_and_stay_within_their_provider(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    // Each tenant's two residents were events already.
    assert_eq!(sequenced(store).await, 4);
    assert_eq!(sequenced(store).await, 0, "nothing waits twice");
    let first = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "one"),
            write(&a, Action::CreateTicket),
        )
        .await
        .expect("ticket")
        .into_inner();
    store
        .create_ticket(
            b.provider.id,
            ticket(&b, "other"),
            write(&b, Action::CreateTicket),
        )
        .await
        .expect("ticket");
    // Not in the feed before it is sequenced.
    let page = store.event_feed(a.provider.id, 2, 100).await.expect("feed");
    assert!(page.events.is_empty(), "{page:?}");
    assert_eq!(sequenced(store).await, 2);
    let page = store.event_feed(a.provider.id, 0, 100).await.expect("feed");
    let kinds: Vec<EventKind> = page.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::ResidentCreated,
            EventKind::ResidentCreated,
            EventKind::TicketCreated
        ]
    );
    assert!(page.events.iter().all(|e| e.provider_id == a.provider.id));
    let cursors: Vec<i64> = page.events.iter().map(|e| e.cursor).collect();
    assert_eq!(cursors, [1, 2, 5]);
    assert_eq!(page.last_cursor, 6);
    assert_eq!(page.pruned_through, 0);
    let created = &page.events[2];
    assert_eq!(
        (created.ticket_id, created.status.as_deref()),
        (Some(first), Some("New"))
    );
    // A page of one, after a cursor.
    let page = store.event_feed(a.provider.id, 1, 1).await.expect("feed");
    assert_eq!(
        page.events.iter().map(|e| e.cursor).collect::<Vec<_>>(),
        [2]
    );
}

pub async fn retention_removes_a_prefix_of_the_feed_and_remembers_it(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    sequenced(store).await;
    let mut late = ticket(&a, "late");
    late.created_at = later(86_400);
    store
        .create_ticket(a.provider.id, late, write(&a, Action::CreateTicket))
        .await
        .expect("ticket");
    sequenced(store).await;
    let removed = store
        .prune_events(later(3_600), entry(&a, Action::PruneEvents))
        .await
        .expect("prune");
    assert_eq!(removed, 2);
    let page = store.event_feed(a.provider.id, 0, 100).await.expect("feed");
    assert_eq!(page.pruned_through, 2);
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].kind, EventKind::TicketCreated);
    let again = store
        .prune_events(later(3_600), entry(&a, Action::PruneEvents))
        .await
        .expect("prune");
    assert_eq!(again, 0, "nothing left to remove");
}

pub async fn a_webhook_endpoint_is_leased_whole_retried_disabled_and_replayed(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    sequenced(store).await;
    let hook = store
        .create_webhook(
            endpoint(&a, "https://a.example/hook", vec![EventKind::TicketCreated]),
            entry(&a, Action::ManageWebhooks),
        )
        .await
        .expect("webhook");
    let everything = store
        .create_webhook(
            endpoint(&a, "https://a.example/all", vec![]),
            entry(&a, Action::ManageWebhooks),
        )
        .await
        .expect("webhook");
    for title in ["one", "two"] {
        store
            .create_ticket(
                a.provider.id,
                ticket(&a, title),
                write(&a, Action::CreateTicket),
            )
            .await
            .expect("ticket");
    }
    sequenced(store).await;
    // Another provider neither lists nor touches them.
    assert!(store
        .webhooks(b.provider.id, None)
        .await
        .expect("list")
        .is_empty());
    let foreign = store
        .delete_webhook(
            b.provider.id,
            None,
            hook.id,
            t0(),
            entry(&b, Action::ManageWebhooks),
        )
        .await;
    assert!(
        matches!(foreign, Err(StoreError::NotFound(Entity::Webhook))),
        "{foreign:?}"
    );
    let listed = store
        .webhooks(a.provider.id, Some(a.application.id))
        .await
        .expect("list");
    let pending: Vec<(i64, u64)> = listed.iter().map(|w| (w.id.get(), w.pending)).collect();
    // The tenant's residents came before the endpoints: not queued.
    assert_eq!(pending, [(hook.id.get(), 2), (everything.id.get(), 2)]);

    // One dispatcher holds an endpoint; another gets the other one.
    let now = later(10);
    let first = store
        .claim_webhooks("one".to_owned(), now, now + Duration::seconds(60), 1, 10)
        .await
        .expect("claim");
    let second = store
        .claim_webhooks("two".to_owned(), now, now + Duration::seconds(60), 5, 10)
        .await
        .expect("claim");
    assert_eq!((first.len(), second.len()), (1, 1));
    assert_ne!(first[0].webhook.id, second[0].webhook.id);
    // The oldest due first.
    assert_eq!(first[0].webhook.id, hook.id);
    let (holder, batch) = ("one".to_owned(), first[0].clone());
    assert_eq!(batch.deliveries.len(), 2);
    assert!(
        batch.deliveries[0].2.cursor < batch.deliveries[1].2.cursor,
        "in feed order"
    );
    // Only the holder records; a failure schedules the retry.
    let (delivery, _, _) = batch.deliveries[0].clone();
    let attempt = |owner: &str, at, outcome| WebhookAttempt {
        endpoint: hook.id,
        delivery,
        owner: owner.to_owned(),
        at,
        outcome,
    };
    let failed = |at: chrono::DateTime<chrono::Utc>| WebhookOutcome::Failed {
        reason: "answered 500 Internal Server Error".to_owned(),
        retry_at: at + Duration::seconds(5),
    };
    let stranger = store
        .record_webhook_attempt(
            attempt("stranger", now, failed(now)),
            entry(&a, Action::ManageWebhooks),
        )
        .await
        .expect("record");
    assert_eq!(stranger, WebhookRecorded::LeaseLost);
    let recorded = store
        .record_webhook_attempt(
            attempt(&holder, now, failed(now)),
            entry(&a, Action::ManageWebhooks),
        )
        .await
        .expect("record");
    assert_eq!(recorded, WebhookRecorded::Recorded);
    let listed = store.webhooks(a.provider.id, None).await.expect("list");
    let failing = listed.iter().find(|w| w.id == hook.id).expect("hook");
    assert_eq!(failing.failing_since, Some(now));
    assert_eq!(failing.next_attempt_at, now + Duration::seconds(5));
    // Not due before its retry; due after, with the same delivery first.
    let early = store
        .claim_webhooks("three".to_owned(), now, now + Duration::seconds(60), 5, 10)
        .await
        .expect("claim");
    assert!(early.iter().all(|b| b.webhook.id != hook.id));
    // Three days of failures later, it is disabled.
    let end = now + GIVE_UP_AFTER;
    let retried = store
        .claim_webhooks("three".to_owned(), end, end + Duration::seconds(60), 5, 10)
        .await
        .expect("claim");
    let again = retried
        .iter()
        .find(|b| b.webhook.id == hook.id)
        .expect("due again");
    assert_eq!(again.deliveries[0].0, delivery);
    assert_eq!(again.deliveries[0].1, 1, "one attempt so far");
    let disabled = store
        .record_webhook_attempt(
            attempt("three", end, failed(end)),
            entry(&a, Action::ManageWebhooks),
        )
        .await
        .expect("record");
    assert_eq!(disabled, WebhookRecorded::Disabled);
    let later_claim = store
        .claim_webhooks(
            "four".to_owned(),
            end + GIVE_UP_AFTER,
            end + GIVE_UP_AFTER,
            5,
            10,
        )
        .await
        .expect("claim");
    assert!(
        later_claim.iter().all(|b| b.webhook.id != hook.id),
        "a disabled endpoint rests"
    );
    // A replay re-enables it and queues the range again.
    let page = store.event_feed(a.provider.id, 0, 100).await.expect("feed");
    let cursors: Vec<i64> = page
        .events
        .iter()
        .filter(|e| e.kind == EventKind::TicketCreated)
        .map(|e| e.cursor)
        .collect();
    let range = ReplayRange::Cursors {
        from: cursors[0],
        through: cursors[1],
    };
    let queued = store
        .replay_webhook_events(
            a.provider.id,
            None,
            hook.id,
            range,
            end,
            entry(&a, Action::ManageWebhooks),
        )
        .await
        .expect("replay");
    assert_eq!(queued, 2);
    let listed = store.webhooks(a.provider.id, None).await.expect("list");
    let back = listed.iter().find(|w| w.id == hook.id).expect("hook");
    assert_eq!(
        (back.disabled_at, back.failing_since, back.pending),
        (None, None, 2)
    );
    // A replay leaves an event the sequencer has not published yet to it:
    // queued twice, its delivery would stop the sequencer for good.
    store
        .create_ticket(
            a.provider.id,
            ticket(&a, "three"),
            write(&a, Action::CreateTicket),
        )
        .await
        .expect("ticket");
    let queued = store
        .replay_webhook_events(
            a.provider.id,
            None,
            hook.id,
            ReplayRange::Since(t0() - Duration::days(1)),
            end,
            entry(&a, Action::ManageWebhooks),
        )
        .await
        .expect("replay");
    assert_eq!(queued, 2, "only published events are replayed");
    assert_eq!(sequenced(store).await, 1);
    let listed = store.webhooks(a.provider.id, None).await.expect("list");
    let back = listed.iter().find(|w| w.id == hook.id).expect("hook");
    assert_eq!(back.pending, 3);
    // Rotation keeps the previous salt for the overlap; deletion ends it.
    let rotated = store
        .rotate_webhook_secret(
            a.provider.id,
            Some(a.application.id),
            hook.id,
            vec![9; 16],
            later(86_400),
            entry(&a, Action::ManageWebhooks),
        )
        .await
        .expect("rotate");
    assert_eq!(rotated.secret_salt, vec![9; 16]);
    assert_eq!(rotated.previous_salt, Some((vec![7; 16], later(86_400))));
    store
        .release_webhook(hook.id, "three".to_owned())
        .await
        .expect("release");
    // "four" took over the other endpoint when "three"'s lease ran out,
    // and gives it back.
    let released = store
        .release_webhook_claims("four".to_owned())
        .await
        .expect("release all");
    assert_eq!(released, 1);
    store
        .delete_webhook(
            a.provider.id,
            Some(a.application.id),
            hook.id,
            end,
            entry(&a, Action::ManageWebhooks),
        )
        .await
        .expect("delete");
    let queue = store.webhook_queue().await.expect("queue");
    assert_eq!(
        queue.iter().map(|w| w.id).collect::<Vec<_>>(),
        [everything.id]
    );
}
