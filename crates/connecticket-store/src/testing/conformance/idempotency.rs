//! `Idempotency-Key` windows, recorded inside the write's transaction.

use chrono::Duration;
use connecticket_domain::audit::Action;
use connecticket_domain::model::TicketQuery;
use connecticket_domain::store::Written;
use connecticket_domain::StoreError;

use super::fixtures::{collect, keyed, t0, tenant, ticket, Fixture};

pub async fn a_repeated_key_replays_and_writes_nothing(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let first = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "once"),
            keyed(&a, Action::CreateTicket, "k1", b"fp", t0()),
        )
        .await
        .expect("first");
    let again = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "once"),
            keyed(
                &a,
                Action::CreateTicket,
                "k1",
                b"fp",
                t0() + Duration::hours(1),
            ),
        )
        .await
        .expect("again");
    assert!(matches!(first, Written::Fresh(_)));
    assert_eq!(again, Written::Replayed(first.into_inner()));
    assert_eq!(
        collect(store.tickets(a.provider.id, TicketQuery::default()))
            .await
            .len(),
        1
    );
}

pub async fn a_key_reused_with_other_parameters_is_refused(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    store
        .create_ticket(
            a.provider.id,
            ticket(&a, "one"),
            keyed(&a, Action::CreateTicket, "k", b"one", t0()),
        )
        .await
        .expect("first");
    let refused = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "two"),
            keyed(&a, Action::CreateTicket, "k", b"two", t0()),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::IdempotencyKeyReused)),
        "{refused:?}"
    );
    assert_eq!(
        collect(store.tickets(a.provider.id, TicketQuery::default()))
            .await
            .len(),
        1
    );
}

pub async fn a_key_is_forgotten_after_its_window(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let first = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "day one"),
            keyed(&a, Action::CreateTicket, "k", b"fp", t0()),
        )
        .await
        .expect("first");
    let just_inside = t0() + Duration::hours(24);
    let replay = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "day one"),
            keyed(&a, Action::CreateTicket, "k", b"fp", just_inside),
        )
        .await
        .expect("within");
    assert_eq!(replay, Written::Replayed(first.into_inner()));
    let after = t0() + Duration::hours(24) + Duration::seconds(1);
    let fresh = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "day two"),
            keyed(&a, Action::CreateTicket, "k", b"other", after),
        )
        .await
        .expect("after the window");
    assert!(
        matches!(fresh, Written::Fresh(id) if id != first.into_inner()),
        "{fresh:?}"
    );
}

pub async fn keys_belong_to_one_application(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let mine = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "a"),
            keyed(&a, Action::CreateTicket, "shared", b"fp", t0()),
        )
        .await
        .expect("a");
    let theirs = store
        .create_ticket(
            b.provider.id,
            ticket(&b, "b"),
            keyed(&b, Action::CreateTicket, "shared", b"fp", t0()),
        )
        .await
        .expect("b");
    assert!(matches!(theirs, Written::Fresh(id) if id != mine.into_inner()));
}

pub async fn a_failed_write_leaves_its_key_unclaimed(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let mut foreign = ticket(&a, "bad");
    foreign.resident_id = b.residents[0];
    let failed = store
        .create_ticket(
            a.provider.id,
            foreign,
            keyed(&a, Action::CreateTicket, "k", b"fp", t0()),
        )
        .await;
    assert!(failed.is_err());
    let retried = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "good"),
            keyed(&a, Action::CreateTicket, "k", b"fp2", t0()),
        )
        .await
        .expect("the key was not taken by the failed write");
    assert!(matches!(retried, Written::Fresh(_)));
}

pub async fn racing_retries_write_once(fixture: Fixture) {
    let store = fixture.store.clone();
    let a = tenant(store.as_ref(), "a").await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let store = store.clone();
        let new = ticket(&a, "raced");
        let context = keyed(&a, Action::CreateTicket, "race", b"fp", t0());
        let provider = a.provider.id;
        tasks.push(tokio::spawn(async move {
            store.create_ticket(provider, new, context).await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.expect("task").expect("write").into_inner());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry answers the one ticket");
    assert_eq!(
        collect(store.tickets(a.provider.id, TicketQuery::default()))
            .await
            .len(),
        1
    );
}
