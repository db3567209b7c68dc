//! The hash-chained audit trail: one chain per writer, verified together.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use connecticket_domain::audit::{Action, AuditRecord, ChainCheck, Outcome};
use connecticket_domain::store::{AuditStore, Store, TicketStore};
use connecticket_domain::{Entity, StoreError};

use crate::{append_waiting, AuditWaiter, Engine, SqlStore};

use super::fixtures::{
    admin_entry, collect, entry, keyed, later, t0, tenant, ticket, write, Fixture,
};

/// Checks every chain; `Ok(entries)` when all are intact.
pub(crate) async fn verify(store: &dyn Store) -> Result<u64, String> {
    let mut verified = 0;
    for anchor in store.audit_chains().await.expect("chains") {
        let mut check = ChainCheck::new(&anchor);
        for record in collect(store.chain_entries(anchor.chain_id, anchor.last_seq)).await {
            check.next(&record)?;
        }
        verified += check.finish(&anchor)?;
    }
    Ok(verified)
}

pub(crate) async fn entries(store: &dyn Store) -> Vec<AuditRecord> {
    collect(store.audit_entries()).await
}

pub async fn appended_entries_chain_and_verify(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let setup = entries(store).await.len();
    for action in [Action::Tickets, Action::TicketDetail, Action::Authorize] {
        store.append_audit(entry(&a, action)).await.expect("append");
    }
    let all = entries(store).await;
    let records = &all[setup..];
    assert_eq!(records.len(), 3);
    assert!(
        records.windows(2).all(|w| w[0].id < w[1].id),
        "in the order written"
    );
    assert_eq!(records[1].action, Action::TicketDetail);
    assert_eq!(records[1].provider_id, Some(a.provider.id.get()));
    // Each chain (a store may write through several) numbers its entries
    // from 1, each linked to the one before, its anchor on the last.
    let chains = store.audit_chains().await.expect("chains");
    for chain in chains.iter().filter(|c| c.last_seq > 0) {
        let own: Vec<_> = all
            .iter()
            .filter(|r| r.chain_id == chain.chain_id)
            .collect();
        let seqs: Vec<i64> = own.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, (1..=own.len() as i64).collect::<Vec<_>>());
        assert!(own.windows(2).all(|w| w[1].prev_hash == w[0].hash));
        let last = own.last().expect("entries");
        assert_eq!(
            (chain.last_seq, chain.last_hash.as_str()),
            (last.seq, last.hash.as_str())
        );
    }
    assert_eq!(verify(store).await, Ok(setup as u64 + 3));
}

pub async fn a_write_records_its_entry_and_a_failed_write_none(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let setup = entries(store).await.len();
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
    let records = entries(store).await.split_off(setup);
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
    assert_eq!(verify(store).await, Ok(setup as u64 + 3));
}

pub async fn concurrent_appends_never_fork_a_chain(fixture: Fixture) {
    let store = fixture.store.clone();
    let a = Arc::new(tenant(store.as_ref(), "a").await);
    let setup = entries(store.as_ref()).await.len() as u64;
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
    assert_eq!(verify(store.as_ref()).await, Ok(setup + 40));
}

/// More entries arrive at once than one multi-row insert takes (SQLite
/// inserts them in several statements, PostgreSQL sends a batch as one
/// JSON parameter): each comes back as it was written, and the chains
/// verify.
pub async fn a_burst_of_entries_chains_across_statements(fixture: Fixture) {
    let store = fixture.store.clone();
    let a = Arc::new(tenant(store.as_ref(), "a").await);
    let setup = entries(store.as_ref()).await.len();
    // Text that JSON must escape, and text beyond ASCII.
    let request_id = |n: usize| format!("burst {n} \"quoted\" back\\slash\ttab é ✓");
    let tasks: Vec<_> = (0..150)
        .map(|n| {
            let store = store.clone();
            let a = Arc::clone(&a);
            let mut entry = entry(&a, Action::Tickets);
            entry.request_id = request_id(n);
            tokio::spawn(async move { store.append_audit(entry).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("append");
    }
    let mut written: Vec<String> = entries(store.as_ref())
        .await
        .split_off(setup)
        .into_iter()
        .map(|record| record.request_id)
        .collect();
    written.sort();
    let mut sent: Vec<String> = (0..150).map(request_id).collect();
    sent.sort();
    assert_eq!(written, sent);
    assert_eq!(verify(store.as_ref()).await, Ok(setup as u64 + 150));
}

pub async fn two_writers_on_one_database_append_to_chains_of_their_own(fixture: Fixture) {
    let first = fixture.store.clone();
    let second = fixture.reopen().await;
    let a = Arc::new(tenant(first.as_ref(), "a").await);
    let setup = entries(first.as_ref()).await.len();
    let mut tasks = Vec::new();
    for n in 0..30 {
        let store = if n % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let a = Arc::clone(&a);
        tasks.push(tokio::spawn(async move {
            store.append_audit(entry(&a, Action::Tickets)).await
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("append");
    }
    let records = entries(first.as_ref()).await.split_off(setup);
    assert_eq!(records.len(), 30);
    let mut chains: Vec<i64> = records.iter().map(|r| r.chain_id).collect();
    chains.sort_unstable();
    chains.dedup();
    assert!(
        chains.len() >= 2,
        "each writer has a chain of its own: {chains:?}"
    );
    assert_eq!(verify(first.as_ref()).await, Ok(setup as u64 + 30));
}

pub async fn pruning_keeps_every_chain_verifiable(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    // The tenant's own entries, made at the start, are old too.
    let setup = entries(store).await.len() as u64;
    for seconds in [0, 10, 20, 30] {
        let mut old = entry(&a, Action::Tickets);
        old.at = later(seconds);
        store.append_audit(old).await.expect("append");
    }
    // The pruning's own entry, recorded with it, is new.
    let pruning = || {
        let mut entry = admin_entry();
        entry.action = Action::PruneAudit;
        entry.at = later(40);
        entry
    };
    let removed = store
        .prune_audit(later(15), pruning())
        .await
        .expect("prune");
    assert_eq!(removed, setup + 2);
    let remaining = entries(store).await;
    assert_eq!(remaining.len(), 3);
    assert!(
        remaining.iter().all(|r| r.at >= later(15)),
        "only the old ones went"
    );
    let recorded = remaining.last().expect("the pruning's entry");
    assert_eq!(recorded.action, Action::PruneAudit);
    assert!(
        recorded.records.contains(&format!("pruned:{removed}")),
        "{recorded:?}"
    );
    let chains = store.audit_chains().await.expect("chains");
    let pruned: i64 = chains.iter().map(|c| c.pruned_through_seq).sum();
    assert_eq!(
        pruned as u64, removed,
        "each chain remembers where it was pruned"
    );
    assert_eq!(verify(store).await, Ok(3));
    assert_eq!(
        store
            .prune_audit(later(15), pruning())
            .await
            .expect("again"),
        0
    );
    assert_eq!(
        entries(store).await.len(),
        3,
        "a pruning that removed nothing changed nothing and records nothing"
    );
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
    let chains = store.audit_chains().await.expect("chains");
    let anchor = chains
        .iter()
        .find(|c| c.last_seq > 0)
        .expect("a written chain");
    let mut records = collect(store.chain_entries(anchor.chain_id, anchor.last_seq)).await;
    let altered = records.len() - 1;
    records[altered].outcome = Outcome::Denied;
    let mut check = ChainCheck::new(anchor);
    let broken = records.iter().try_for_each(|record| check.next(record));
    assert_eq!(
        broken,
        Err(format!(
            "chain {}: entry {} was altered",
            anchor.chain_id,
            altered + 1
        ))
    );
}

/// A writer keeps its chain's head between transactions. A write that
/// appended to the chain and then failed is undone, entry and all: the
/// writer's next entries must follow the last committed one, not the
/// undone one. Needs the engine itself, to run a job that fails after it
/// appended; on PostgreSQL open the store with one write lane, so that
/// both writes run on the same chain.
pub async fn a_write_undone_after_it_appended_leaves_its_chain_whole<E: Engine>(
    store: &SqlStore<E>,
) {
    let a = tenant(store, "a").await;
    let setup = entries(store).await.len();
    store
        .create_ticket(
            a.provider.id,
            ticket(&a, "before"),
            write(&a, Action::CreateTicket),
        )
        .await
        .expect("a first write sets the head");
    let (waiter, _never_durable) = AuditWaiter::new(entry(&a, Action::CreateTicket));
    let appended = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&appended);
    let undone = store
        .engine()
        .write(move |tx| {
            Box::pin(async move {
                let (_, intact) = append_waiting(tx, vec![waiter]).await;
                seen.store(intact, Ordering::SeqCst);
                Err::<(), _>(StoreError::NotFound(Entity::Ticket))
            })
        })
        .await;
    assert!(undone.is_err(), "the job failed: {undone:?}");
    assert!(appended.load(Ordering::SeqCst), "it had appended its entry");
    store
        .create_ticket(
            a.provider.id,
            ticket(&a, "after"),
            write(&a, Action::CreateTicket),
        )
        .await
        .expect("the next write appends after the last committed entry");
    let records = entries(store).await.split_off(setup);
    assert_eq!(records.len(), 2, "the undone entry is gone: {records:?}");
    assert_eq!(verify(store).await, Ok(setup as u64 + 2));
}

/// An append whose chain is no longer where its writer left it writes
/// nothing, entries included: on PostgreSQL the audit lane appends in one
/// statement without a transaction, so the statement itself must refuse.
/// Needs the engine, to move the anchors behind the writers' backs.
pub async fn an_append_onto_a_moved_anchor_writes_nothing<E: Engine>(store: &SqlStore<E>) {
    let a = tenant(store, "a").await;
    store
        .append_audit(entry(&a, Action::Tickets))
        .await
        .expect("a first entry sets the head");
    let before = entries(store).await.len();
    store
        .engine()
        .write(|tx| {
            Box::pin(async move {
                tx.execute(
                    "UPDATE audit_chains SET last_seq = last_seq + 100 WHERE last_seq > 0",
                    &[],
                )
                .await
                .map_err(|error| error.into_store())
            })
        })
        .await
        .expect("the anchors moved");
    let refused = store.append_audit(entry(&a, Action::Tickets)).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(ref message)) if message.contains("not where its writer left it")),
        "{refused:?}"
    );
    assert_eq!(entries(store).await.len(), before, "nothing was written");
}

/// Writes that share a batch each keep or lose only their own work: a job
/// that wrote a row and appended an entry, then failed, leaves neither,
/// while the jobs around it keep both, and the chain runs on unbroken.
/// Needs the engine itself; on PostgreSQL open the store with one write
/// lane, so that the jobs queue up for the same one.
pub async fn a_failed_job_undoes_only_its_own_writes_in_a_shared_batch<E: Engine>(
    store: &SqlStore<E>,
) {
    shared_batch(store, |n| match n % 3 {
        1 => Ending::Refused,
        _ => Ending::Succeeds,
    })
    .await;
}

/// The first jobs of a batch may run outside a savepoint (nothing before
/// them needs protecting); when they fail, by a refusal or by a statement
/// that aborts the transaction, the jobs after them must still be written,
/// and the ones before a failure kept.
pub async fn failed_first_jobs_of_a_batch_undo_only_their_own_writes<E: Engine>(
    store: &SqlStore<E>,
) {
    shared_batch(store, |n| match n {
        0 | 5 => Ending::Broken,
        1 | 8 => Ending::Refused,
        _ => Ending::Succeeds,
    })
    .await;
}

/// How a job of [`shared_batch`] ends.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ending {
    Succeeds,
    /// Refused after writing its row and entry (the transaction is fine).
    Refused,
    /// A statement fails after its row and entry: on PostgreSQL the whole
    /// transaction is aborted until it, or a savepoint, is rolled back.
    Broken,
}

/// Queues nine jobs at once, each writing a category and appending an
/// entry before it ends as `ending` says; then checks that exactly the
/// jobs that succeeded left their row and entry, that each failed one
/// heard its own error, and that the chain verifies.
async fn shared_batch<E: Engine>(store: &SqlStore<E>, ending: fn(usize) -> Ending) {
    let a = tenant(store, "a").await;
    let provider = a.provider.id;
    let before = entries(store).await.len();
    let jobs = (0..9).map(|n| {
        let (waiter, _durable) = AuditWaiter::new(entry(&a, Action::CreateComment));
        store.engine().write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "INSERT INTO categories (provider_id, name, created_at) VALUES ($1, $2, 0)",
                    &[provider.into(), format!("batch {n}").as_str().into()],
                )
                .await
                .map_err(|error| error.into_store())?;
                let (_, appended) = append_waiting(tx, vec![waiter]).await;
                if !appended {
                    return Err(StoreError::Unavailable(format!("job {n} could not append")));
                }
                match ending(n) {
                    Ending::Succeeds => Ok(n),
                    Ending::Refused => Err(StoreError::NotFound(Entity::Category)),
                    Ending::Broken => match tx
                        .execute("SELECT no_such_column FROM categories", &[])
                        .await
                    {
                        Err(error) => Err(error.into_store()),
                        Ok(_) => Err(StoreError::Corrupt("a broken statement ran".to_owned())),
                    },
                }
            })
        })
    });
    let outcomes = futures::future::join_all(jobs).await;
    for (n, outcome) in outcomes.iter().enumerate() {
        match ending(n) {
            Ending::Succeeds => assert_eq!(outcome.as_ref().ok(), Some(&n), "job {n}"),
            Ending::Refused => assert!(
                matches!(outcome, Err(StoreError::NotFound(_))),
                "job {n} hears its own refusal: {outcome:?}"
            ),
            Ending::Broken => assert!(
                matches!(outcome, Err(StoreError::Backend { .. })),
                "job {n} hears its statement's failure: {outcome:?}"
            ),
        }
    }
    let kept: Vec<String> = store
        .categories(provider)
        .await
        .expect("categories")
        .into_iter()
        .map(|category| category.name)
        .filter(|name| name.starts_with("batch"))
        .collect();
    let expected: Vec<String> = (0..9)
        .filter(|&n| ending(n) == Ending::Succeeds)
        .map(|n| format!("batch {n}"))
        .collect();
    assert_eq!(kept, expected);
    assert_eq!(entries(store).await.len(), before + expected.len());
    assert!(verify(store).await.is_ok(), "{:?}", verify(store).await);
}

/// A batch of one job that fails: nothing is written, and its caller hears
/// its own error, not the batch's.
pub async fn a_batch_whose_only_job_fails_writes_nothing<E: Engine>(store: &SqlStore<E>) {
    let a = tenant(store, "a").await;
    let provider = a.provider.id;
    let before = entries(store).await.len();
    let (waiter, _durable) = AuditWaiter::new(entry(&a, Action::CreateComment));
    let outcome: Result<(), StoreError> = store
        .engine()
        .write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "INSERT INTO categories (provider_id, name, created_at) VALUES ($1, 'alone', 0)",
                    &[provider.into()],
                )
                .await
                .map_err(|error| error.into_store())?;
                let _ = append_waiting(tx, vec![waiter]).await;
                Err(StoreError::NotFound(Entity::Category))
            })
        })
        .await;
    assert!(
        matches!(outcome, Err(StoreError::NotFound(_))),
        "{outcome:?}"
    );
    assert_eq!(entries(store).await.len(), before);
    assert!(verify(store).await.is_ok(), "{:?}", verify(store).await);
    // The lane goes on: the next write is committed, by itself.
    let created = store
        .engine()
        .write(move |tx| {
            Box::pin(async move {
                tx.execute(
                    "INSERT INTO categories (provider_id, name, created_at) VALUES ($1, 'after', 0)",
                    &[provider.into()],
                )
                .await
                .map_err(|error| error.into_store())
            })
        })
        .await;
    assert_eq!(created.ok(), Some(1));
    let names: Vec<String> = store
        .categories(provider)
        .await
        .expect("categories")
        .into_iter()
        .map(|category| category.name)
        .filter(|name| ["alone", "after"].contains(&name.as_str()))
        .collect();
    assert_eq!(names, ["after"]);
}
