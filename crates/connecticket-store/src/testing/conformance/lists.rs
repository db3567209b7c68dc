//! Streamed lists: order, chunks, filters, paging, tenancy.

use connecticket_domain::audit::Action;
use connecticket_domain::model::{Page, TicketId, TicketQuery};
use connecticket_domain::store::{StatusUpdate, Store, STREAM_CHUNK_ROWS};
use connecticket_domain::workflow::TicketStatus;
use futures::StreamExt;

use super::fixtures::{collect, later, tenant, ticket, write, Fixture, Tenant};

async fn raise_many(store: &dyn Store, tenant: &Tenant, count: usize) -> Vec<TicketId> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let id = store
            .create_ticket(
                tenant.provider.id,
                ticket(tenant, &format!("t{n}")),
                write(tenant, Action::CreateTicket),
            )
            .await
            .expect("create")
            .into_inner();
        ids.push(id);
    }
    ids
}

pub async fn tickets_stream_in_id_order_across_chunks(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let count = STREAM_CHUNK_ROWS + 7;
    let mine = raise_many(store, &a, count).await;
    raise_many(store, &b, 3).await;
    let mut rows = store.tickets(a.provider.id, TicketQuery::default());
    let mut chunks = Vec::new();
    while let Some(chunk) = rows.next().await {
        chunks.push(chunk.expect("chunk"));
    }
    assert!(chunks.len() >= 2, "a long list arrives in several chunks");
    assert!(chunks.iter().all(|chunk| chunk.len() <= STREAM_CHUNK_ROWS));
    let ids: Vec<_> = chunks.into_iter().flatten().map(|t| t.id).collect();
    assert_eq!(
        ids, mine,
        "every ticket of the provider, in id order, none of another's"
    );
}

pub async fn ticket_filters_narrow_the_list(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let ids = raise_many(store, &a, 3).await;
    let mut other = ticket(&a, "other resident");
    other.resident_id = a.residents[1];
    let other = store
        .create_ticket(a.provider.id, other, write(&a, Action::CreateTicket))
        .await
        .expect("create")
        .into_inner();
    store
        .update_status(
            a.provider.id,
            StatusUpdate {
                ticket_id: ids[1],
                status: TicketStatus::Closed,
                employee_id: a.employee.id,
                application_id: None,
                at: later(100),
                notify: Default::default(),
                expected_version: None,
            },
            write(&a, Action::UpdateStatus),
        )
        .await
        .expect("close");
    let closed = collect(store.tickets(
        a.provider.id,
        TicketQuery {
            ticket_status: Some(TicketStatus::Closed),
            ..TicketQuery::default()
        },
    ))
    .await;
    assert_eq!(
        closed.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![ids[1]]
    );
    let by_resident = collect(store.tickets(
        a.provider.id,
        TicketQuery {
            resident_id: Some(a.residents[1]),
            ..TicketQuery::default()
        },
    ))
    .await;
    assert_eq!(
        by_resident.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![other]
    );
    let recent = collect(store.tickets(
        a.provider.id,
        TicketQuery {
            updated_since: Some(later(100)),
            ..TicketQuery::default()
        },
    ))
    .await;
    assert_eq!(
        recent.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![ids[1]],
        "inclusive"
    );
}

pub async fn pages_and_cursors_select_windows(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let ids = raise_many(store, &a, 7).await;
    let page = |number, per_page, after_id| TicketQuery {
        page: Some(Page {
            number,
            per_page,
            after_id,
        }),
        ..TicketQuery::default()
    };
    let second = collect(store.tickets(a.provider.id, page(2, 3, None))).await;
    assert_eq!(
        second.iter().map(|t| t.id).collect::<Vec<_>>(),
        ids[3..6].to_vec()
    );
    let last = collect(store.tickets(a.provider.id, page(3, 3, None))).await;
    assert_eq!(last.len(), 1);
    let beyond = collect(store.tickets(a.provider.id, page(4, 3, None))).await;
    assert!(beyond.is_empty());
    let after = collect(store.tickets(a.provider.id, page(1, 2, Some(ids[4].get())))).await;
    assert_eq!(
        after.iter().map(|t| t.id).collect::<Vec<_>>(),
        ids[5..7].to_vec()
    );
}

pub async fn residents_stream_per_provider_in_id_order(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let listed = collect(store.residents(a.provider.id, None)).await;
    assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), a.residents);
    assert!(listed.iter().all(|r| r.provider_id == a.provider.id));
    let paged = collect(store.residents(
        b.provider.id,
        Some(Page {
            number: 2,
            per_page: 1,
            after_id: None,
        }),
    ))
    .await;
    assert_eq!(
        paged.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![b.residents[1]]
    );
}

pub async fn a_reader_that_stops_early_leaves_the_store_usable(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    raise_many(store, &a, STREAM_CHUNK_ROWS * 2 + 1).await;
    for _ in 0..20 {
        let mut rows = store.tickets(a.provider.id, TicketQuery::default());
        let first = rows.next().await.expect("a chunk").expect("rows");
        assert_eq!(first.len(), STREAM_CHUNK_ROWS);
        drop(rows);
    }
    let all = collect(store.tickets(a.provider.id, TicketQuery::default())).await;
    assert_eq!(all.len(), STREAM_CHUNK_ROWS * 2 + 1);
    raise_many(store, &a, 1).await;
}
