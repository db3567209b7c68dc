//! Whole-database export and import.

use connecticket_domain::audit::Action;
use connecticket_domain::model::TicketQuery;
use connecticket_domain::store::Store;
use connecticket_domain::transfer::{summarize, Table};
use connecticket_domain::StoreError;

use super::fixtures::{collect, entry, full_ticket, keyed, t0, tenant, ticket, write, Fixture};

/// A store holding a bit of everything.
async fn populate(store: &dyn Store) {
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    super::auth::token(store, &a, b"token-a").await;
    for (tenant, title) in [(&a, "one"), (&b, "two")] {
        store
            .create_ticket(
                tenant.provider.id,
                full_ticket(tenant, title),
                write(tenant, Action::CreateTicket),
            )
            .await
            .expect("ticket");
    }
    store
        .create_ticket(
            a.provider.id,
            ticket(&a, "keyed"),
            keyed(&a, Action::CreateTicket, "Key-B", b"f", t0()),
        )
        .await
        .expect("keyed");
    store
        .create_ticket(
            a.provider.id,
            ticket(&a, "keyed2"),
            keyed(&a, Action::CreateTicket, "key-a", b"g", t0()),
        )
        .await
        .expect("keyed");
    store
        .append_audit(entry(&a, Action::Tickets))
        .await
        .expect("audit");
    store
        .claim_auth_attempt(vec!["addr:x".to_owned()], 0)
        .await
        .expect("failure");
}

/// Copies `source` into `target` (an empty store of the same engine).
async fn copy(source: &dyn Store, target: &dyn Store) -> u64 {
    target.import(source.export()).await.expect("import")
}

pub async fn an_export_imports_into_an_empty_store_unchanged(fixture: Fixture, target: Fixture) {
    let source = fixture.store.as_ref();
    populate(source).await;
    let copied = copy(source, target.store.as_ref()).await;
    assert!(copied > 20, "{copied} records");
    let ours = summarize(source).await.expect("source");
    let theirs = summarize(target.store.as_ref()).await.expect("target");
    assert_eq!(ours, theirs);
    let tickets = ours
        .iter()
        .find(|t| t.table == Table::Tickets)
        .expect("tickets");
    assert_eq!(tickets.rows, 4);
    let keys = ours
        .iter()
        .find(|t| t.table == Table::IdempotencyKeys)
        .expect("keys");
    assert_eq!(keys.rows, 2);
}

pub async fn an_import_into_a_store_that_holds_data_is_refused(fixture: Fixture, target: Fixture) {
    let source = fixture.store.as_ref();
    populate(source).await;
    let occupied = target.store.as_ref();
    tenant(occupied, "already here").await;
    let before = summarize(occupied).await.expect("before");
    let refused = occupied.import(source.export()).await;
    assert!(matches!(refused, Err(StoreError::NotEmpty)), "{refused:?}");
    assert_eq!(summarize(occupied).await.expect("after"), before);
}

pub async fn ids_continue_above_imported_ones(fixture: Fixture, target: Fixture) {
    let source = fixture.store.as_ref();
    populate(source).await;
    copy(source, target.store.as_ref()).await;
    let moved = target.store.as_ref();
    let highest = collect(moved.tickets(
        connecticket_domain::model::ProviderId(1),
        TicketQuery::default(),
    ))
    .await
    .into_iter()
    .map(|t| t.id)
    .max()
    .expect("tickets");
    let a = tenant(moved, "c").await;
    let next = moved
        .create_ticket(
            a.provider.id,
            ticket(&a, "after the move"),
            write(&a, Action::CreateTicket),
        )
        .await
        .expect("create")
        .into_inner();
    assert!(next > highest, "{next:?} after {highest:?}");
    let verified = super::audit::verify(moved).await;
    assert!(verified.is_ok(), "{verified:?}");
}

pub async fn an_audit_trail_alone_makes_a_store_not_empty(fixture: Fixture, target: Fixture) {
    let source = fixture.store.as_ref();
    populate(source).await;
    let audited = target.store.as_ref();
    let context = connecticket_domain::audit::RequestContext::default();
    let lone = connecticket_domain::audit::AuditEntry::new(
        &context,
        Action::Authorize,
        connecticket_domain::audit::Outcome::Denied,
        t0(),
    );
    audited.append_audit(lone).await.expect("append");
    let refused = audited.import(source.export()).await;
    assert!(matches!(refused, Err(StoreError::NotEmpty)), "{refused:?}");
}

pub async fn racing_imports_write_once(fixture: Fixture, target: Fixture) {
    let source = fixture.store.clone();
    populate(source.as_ref()).await;
    let first = {
        let (source, target) = (source.clone(), target.store.clone());
        tokio::spawn(async move { target.import(source.export()).await })
    };
    let second = {
        let (source, target) = (source.clone(), target.store.clone());
        tokio::spawn(async move { target.import(source.export()).await })
    };
    let outcomes = [first.await.expect("task"), second.await.expect("task")];
    let written = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(written, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .any(|outcome| matches!(outcome, Err(StoreError::NotEmpty))),
        "the other import found the first one's data: {outcomes:?}"
    );
    assert_eq!(
        summarize(source.as_ref()).await.expect("source"),
        summarize(target.store.as_ref()).await.expect("target")
    );
}
