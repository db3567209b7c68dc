//! The hash-chained audit trail.

use std::sync::Arc;

use connecticket_domain::audit::{Action, AuditAnchor, AuditRecord, ChainCheck, Outcome};
use connecticket_domain::store::Store;

use super::fixtures::{collect, entry, keyed, later, t0, tenant, ticket, write, Fixture};

async fn verify(store: &dyn Store) -> Result<u64, String> {
    let anchor = store.audit_anchor().await.expect("anchor");
    let mut check = ChainCheck::new(&anchor);
    for record in collect(store.audit_entries()).await {
        check.next(&record)?;
    }
    check.finish(&anchor)
}

async fn entries(store: &dyn Store) -> Vec<AuditRecord> {
    collect(store.audit_entries()).await
}

pub async fn appended_entries_chain_and_verify(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    assert_eq!(
        store.audit_anchor().await.expect("anchor"),
        AuditAnchor::genesis()
    );
    for action in [Action::Tickets, Action::TicketDetail, Action::Authorize] {
        store.append_audit(entry(&a, action)).await.expect("append");
    }
    let records = entries(store).await;
    assert_eq!(
        records.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(records[1].action, Action::TicketDetail);
    assert_eq!(records[1].provider_id, Some(a.provider.id.get()));
    assert_eq!(records[1].prev_hash, records[0].hash);
    let anchor = store.audit_anchor().await.expect("anchor");
    assert_eq!(anchor.last_id, 3);
    assert_eq!(anchor.last_hash, records[2].hash);
    assert_eq!(verify(store).await, Ok(3));
}

pub async fn a_write_records_its_entry_and_a_failed_write_none(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let id = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "t"),
            write(&a, Action::CreateTicket),
        )
        .await
        .expect("create")
        .into_inner();
    let mut foreign = ticket(&a, "x");
    foreign.resident_id = b.residents[0];
    let _ = store
        .create_ticket(a.provider.id, foreign, write(&a, Action::CreateTicket))
        .await
        .expect_err("refused");
    let records = entries(store).await;
    assert_eq!(
        records.len(),
        1,
        "the failed write recorded nothing: {records:?}"
    );
    assert_eq!(records[0].action, Action::CreateTicket);
    assert_eq!(records[0].outcome, Outcome::Success);
    assert!(records[0].records.contains(&format!("ticket:{id}")));
    // A replay is recorded as one.
    store
        .create_ticket(
            a.provider.id,
            ticket(&a, "k"),
            keyed(&a, Action::CreateTicket, "k", b"f", t0()),
        )
        .await
        .expect("keyed");
    store
        .create_ticket(
            a.provider.id,
            ticket(&a, "k"),
            keyed(&a, Action::CreateTicket, "k", b"f", t0()),
        )
        .await
        .expect("replay");
    let last = entries(store).await.pop().expect("entry");
    assert_eq!(last.outcome, Outcome::Replayed);
    assert_eq!(verify(store).await, Ok(3));
}

pub async fn concurrent_appends_never_fork_the_chain(fixture: Fixture) {
    let store = fixture.store.clone();
    let a = Arc::new(tenant(store.as_ref(), "a").await);
    let mut tasks = Vec::new();
    for n in 0..40 {
        let store = store.clone();
        let a = Arc::clone(&a);
        tasks.push(tokio::spawn(async move {
            if n % 4 == 0 {
                store
                    .create_ticket(
                        a.provider.id,
                        ticket(&a, "t"),
                        write(&a, Action::CreateTicket),
                    )
                    .await
                    .map(|_| ())
            } else {
                store.append_audit(entry(&a, Action::TicketDetail)).await
            }
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("append");
    }
    assert_eq!(verify(store.as_ref()).await, Ok(40));
}

pub async fn pruning_keeps_the_chain_verifiable(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    for seconds in [0, 10, 20, 30] {
        let mut old = entry(&a, Action::Tickets);
        old.at = later(seconds);
        store.append_audit(old).await.expect("append");
    }
    let removed = store.prune_audit(later(15)).await.expect("prune");
    assert_eq!(removed, 2);
    let remaining = entries(store).await;
    assert_eq!(
        remaining.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![3, 4]
    );
    let anchor = store.audit_anchor().await.expect("anchor");
    assert_eq!(anchor.pruned_through_id, 2);
    assert_eq!(verify(store).await, Ok(2));
    assert_eq!(store.prune_audit(later(15)).await.expect("again"), 0);
}

pub async fn a_chain_altered_behind_the_store_fails_to_verify(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    for _ in 0..3 {
        store
            .append_audit(entry(&a, Action::Tickets))
            .await
            .expect("append");
    }
    let mut records = entries(store).await;
    records[1].outcome = Outcome::Denied;
    let anchor = store.audit_anchor().await.expect("anchor");
    let mut check = ChainCheck::new(&anchor);
    let broken = records.iter().try_for_each(|record| check.next(record));
    assert_eq!(broken, Err("entry 2 was altered".to_owned()));
}
