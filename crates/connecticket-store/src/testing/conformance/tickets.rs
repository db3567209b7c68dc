//! Ticket writes and reads, within one provider.

use connecticket_domain::audit::Action;
use connecticket_domain::model::{
    AttachmentId, CategoryId, NewTicket, Rating, ResidentId, TicketDetail, TicketId,
};
use connecticket_domain::store::StatusUpdate;
use connecticket_domain::workflow::{CategoryRating, TicketStatus};
use connecticket_domain::{Entity, StoreError};

use super::fixtures::{
    collect, comment, full_ticket, later, t0, tenant, ticket, write, Fixture, Tenant,
};
use connecticket_domain::store::Store;

pub(super) async fn raise(store: &dyn Store, tenant: &Tenant, title: &str) -> TicketId {
    store
        .create_ticket(
            tenant.provider.id,
            ticket(tenant, title),
            write(tenant, Action::CreateTicket),
        )
        .await
        .expect("create")
        .into_inner()
}

/// Creates `new` and reads its detail back.
async fn create_and_read(store: &dyn Store, tenant: &Tenant, new: NewTicket) -> TicketDetail {
    let id = store
        .create_ticket(tenant.provider.id, new, write(tenant, Action::CreateTicket))
        .await
        .expect("create")
        .into_inner();
    store
        .ticket_detail(tenant.provider.id, id)
        .await
        .expect("read")
        .expect("found")
}

fn status(tenant: &Tenant, ticket_id: TicketId, to: TicketStatus, at: i64) -> StatusUpdate {
    StatusUpdate {
        ticket_id,
        status: to,
        employee_id: tenant.employee.id,
        application_id: Some(tenant.application.id),
        at: later(at),
        notify: Default::default(),
        expected_version: None,
    }
}

pub async fn a_ticket_is_stored_whole(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let id = store
        .create_ticket(
            a.provider.id,
            full_ticket(&a, "Fall"),
            write(&a, Action::CreateTicket),
        )
        .await
        .expect("create")
        .into_inner();
    let detail = store
        .ticket_detail(a.provider.id, id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(detail.ticket.title, "Fall");
    assert_eq!(detail.ticket.resident_id, a.residents[0]);
    // The flags say who was told: this resident has no contacts, so
    // nobody, whatever the request asked.
    assert_eq!(detail.ticket.sms, Some(false));
    assert_eq!(detail.ticket.sent_to_primary, Some(false));
    assert_eq!(detail.ticket.email, Some(false));
    assert_eq!(detail.ticket.created_at, t0());
    assert_eq!(detail.ticket.updated_at, t0());
    assert_eq!(detail.categories.len(), 1);
    assert_eq!(detail.categories[0].rating, Some(CategoryRating::Issue));
    assert_eq!(detail.categories[0].name, "Falls");
    assert_eq!(detail.categories[0].comments[0].body, "bruised arm");
    assert_eq!(detail.categories[0].comments[0].author_name, "a nurse");
    assert_eq!(detail.general_comments.len(), 1);
    assert_eq!(detail.attachments.len(), 1);
    assert_eq!(detail.attachments[0].file_size, 4);
    let history = store
        .status_history(a.provider.id, id)
        .await
        .expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].from_status, None);
    assert_eq!(history[0].to_status, TicketStatus::New);
}

pub async fn a_ticket_about_another_providers_resident_or_category_is_refused(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let mut foreign_resident = ticket(&a, "x");
    foreign_resident.resident_id = b.residents[0];
    let refused = store
        .create_ticket(
            a.provider.id,
            foreign_resident,
            write(&a, Action::CreateTicket),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Resident))),
        "{refused:?}"
    );
    let mut foreign_category = ticket(&a, "y");
    foreign_category.ratings = vec![Rating {
        category_id: b.categories[0],
        rating: CategoryRating::Issue,
    }];
    let refused = store
        .create_ticket(
            a.provider.id,
            foreign_category,
            write(&a, Action::CreateTicket),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Category))),
        "{refused:?}"
    );
    let mut missing_resident = ticket(&a, "z");
    missing_resident.resident_id = ResidentId(424_242);
    let refused = store
        .create_ticket(
            a.provider.id,
            missing_resident,
            write(&a, Action::CreateTicket),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Resident))),
        "{refused:?}"
    );
    assert!(collect(store.tickets(a.provider.id, Default::default()))
        .await
        .is_empty());
}

pub async fn fixed_ticket_ids_are_kept_and_generated_ones_continue_above(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let mut fixed = ticket(&a, "fixed");
    fixed.id = Some(TicketId(5_000));
    let id = store
        .create_ticket(a.provider.id, fixed, write(&a, Action::CreateTicket))
        .await
        .expect("fixed")
        .into_inner();
    assert_eq!(id, TicketId(5_000));
    let next = raise(store, &a, "next").await;
    assert!(next.get() > 5_000, "{next:?}");
}

pub async fn details_and_attachments_of_another_provider_are_not_found(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let id = store
        .create_ticket(
            a.provider.id,
            full_ticket(&a, "mine"),
            write(&a, Action::CreateTicket),
        )
        .await
        .expect("create")
        .into_inner();
    assert!(store
        .ticket_detail(b.provider.id, id)
        .await
        .expect("read")
        .is_none());
    assert!(store
        .status_history(b.provider.id, id)
        .await
        .expect("history")
        .is_empty());
    let detail = store
        .ticket_detail(a.provider.id, id)
        .await
        .expect("read")
        .expect("found");
    let attachment_id = detail.attachments[0].id;
    let attachment = store
        .attachment(a.provider.id, attachment_id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(attachment.data.as_ref(), &[0xff, 0xd8, 0x00, 0x01]);
    assert_eq!(attachment.ticket_id, id);
    assert_eq!(attachment.resident_id, a.residents[0]);
    assert_eq!(attachment.meta.content_type, "image/jpeg");
    assert!(store
        .attachment(b.provider.id, attachment_id)
        .await
        .expect("read")
        .is_none());
    assert!(store
        .attachment(a.provider.id, AttachmentId(999_999))
        .await
        .expect("read")
        .is_none());
}

pub async fn a_comment_moves_updated_at_forward_never_back(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let id = raise(store, &a, "t").await;
    let mut late = comment(&a, Some(a.categories[1]), "later");
    late.created_at = later(60);
    store
        .create_comment(a.provider.id, id, late, write(&a, Action::CreateComment))
        .await
        .expect("comment");
    let mut early = comment(&a, None, "clock skew");
    early.created_at = later(10);
    store
        .create_comment(a.provider.id, id, early, write(&a, Action::CreateComment))
        .await
        .expect("comment");
    let detail = store
        .ticket_detail(a.provider.id, id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(detail.ticket.updated_at, later(60));
    // A category only commented on is listed without a rating.
    assert_eq!(detail.categories[0].category_id, a.categories[1]);
    assert_eq!(detail.categories[0].rating, None);
    assert_eq!(detail.general_comments[0].body, "clock skew");
}

pub async fn comments_on_foreign_tickets_or_categories_are_not_found(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let id = raise(store, &a, "t").await;
    let refused = store
        .create_comment(
            b.provider.id,
            id,
            comment(&b, None, "x"),
            write(&b, Action::CreateComment),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Ticket))),
        "{refused:?}"
    );
    let refused = store
        .create_comment(
            a.provider.id,
            id,
            comment(&a, Some(b.categories[0]), "x"),
            write(&a, Action::CreateComment),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Category))),
        "{refused:?}"
    );
    let refused = store
        .create_comment(
            a.provider.id,
            id,
            comment(&a, Some(CategoryId(987_654)), "x"),
            write(&a, Action::CreateComment),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Category))),
        "{refused:?}"
    );
    let detail = store
        .ticket_detail(a.provider.id, id)
        .await
        .expect("read")
        .expect("found");
    assert!(detail.general_comments.is_empty() && detail.categories.is_empty());
}

pub async fn status_changes_are_recorded_and_a_repeat_records_nothing(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let id = raise(store, &a, "t").await;
    store
        .update_status(
            a.provider.id,
            status(&a, id, TicketStatus::InProgress, 30),
            write(&a, Action::UpdateStatus),
        )
        .await
        .expect("update");
    store
        .update_status(
            a.provider.id,
            status(&a, id, TicketStatus::InProgress, 90),
            write(&a, Action::UpdateStatus),
        )
        .await
        .expect("same status");
    let history = store
        .status_history(a.provider.id, id)
        .await
        .expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].from_status, Some(TicketStatus::New));
    assert_eq!(history[1].to_status, TicketStatus::InProgress);
    assert_eq!(history[1].changed_at, later(30));
    let ticket = store
        .ticket_detail(a.provider.id, id)
        .await
        .expect("read")
        .expect("found")
        .ticket;
    assert_eq!(ticket.ticket_status, TicketStatus::InProgress);
    assert_eq!(
        ticket.updated_at,
        later(30),
        "a repeated status moves nothing"
    );
}

/// FHIR's versions and `If-Match`: a status change, a comment each raise
/// the ticket's version; a change based on an older one writes nothing.
pub async fn every_change_raises_the_version_and_a_stale_one_is_refused(fixture: Fixture) {
    use connecticket_domain::fhir::{TaskSearch, Window};
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let id = raise(store, &a, "t").await;
    let read = |provider| {
        let query = TaskSearch {
            ids: Some(vec![id]),
            window: Window {
                after: None,
                count: 1,
            },
            ..TaskSearch::default()
        };
        store.search_tasks(provider, query)
    };
    assert_eq!(read(a.provider.id).await.expect("read").rows[0].version, 1);
    let mut change = status(&a, id, TicketStatus::InProgress, 30);
    change.expected_version = Some(1);
    store
        .update_status(a.provider.id, change, write(&a, Action::UpdateStatus))
        .await
        .expect("based on the current version");
    assert_eq!(read(a.provider.id).await.expect("read").rows[0].version, 2);
    let mut stale = status(&a, id, TicketStatus::Closed, 40);
    stale.expected_version = Some(1);
    let refused = store
        .update_status(a.provider.id, stale, write(&a, Action::UpdateStatus))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Stale(Entity::Ticket))),
        "{refused:?}"
    );
    let ticket = store
        .ticket_detail(a.provider.id, id)
        .await
        .expect("detail")
        .expect("ticket");
    assert_eq!(
        ticket.ticket.ticket_status,
        TicketStatus::InProgress,
        "nothing written"
    );
    assert_eq!(read(a.provider.id).await.expect("read").rows[0].version, 2);
}

pub async fn a_status_change_of_a_foreign_ticket_is_not_found(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let id = raise(store, &a, "t").await;
    let refused = store
        .update_status(
            b.provider.id,
            status(&b, id, TicketStatus::Closed, 5),
            write(&b, Action::UpdateStatus),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Ticket))),
        "{refused:?}"
    );
    let ticket = store
        .ticket_detail(a.provider.id, id)
        .await
        .expect("read")
        .expect("found")
        .ticket;
    assert_eq!(ticket.ticket_status, TicketStatus::New);
}

pub async fn concurrent_status_changes_each_see_the_one_before(fixture: Fixture) {
    let store = fixture.store.clone();
    let a = tenant(store.as_ref(), "a").await;
    let id = raise(store.as_ref(), &a, "t").await;
    let statuses = [
        TicketStatus::Open,
        TicketStatus::InProgress,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];
    let mut tasks = Vec::new();
    for (n, to) in statuses.into_iter().cycle().take(16).enumerate() {
        let store = store.clone();
        let update = status(&a, id, to, n as i64);
        let context = write(&a, Action::UpdateStatus);
        let provider = a.provider.id;
        tasks.push(tokio::spawn(async move {
            store.update_status(provider, update, context).await
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("update");
    }
    let history = store
        .status_history(a.provider.id, id)
        .await
        .expect("history");
    for pair in history.windows(2) {
        assert_eq!(
            pair[1].from_status,
            Some(pair[0].to_status),
            "history forked: {history:?}"
        );
    }
}

pub async fn a_detail_embeds_the_newest_comments_and_counts_the_rest(fixture: Fixture) {
    use connecticket_domain::model::MAX_DETAIL_COMMENTS;
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let id = raise(store, &a, "busy").await;
    let total = MAX_DETAIL_COMMENTS + 3;
    for n in 0..total {
        let category = (n % 2 == 1).then_some(a.categories[0]);
        store
            .create_comment(
                a.provider.id,
                id,
                comment(&a, category, &format!("c{n}")),
                write(&a, Action::CreateComment),
            )
            .await
            .expect("comment");
    }
    let detail = store
        .ticket_detail(a.provider.id, id)
        .await
        .expect("read")
        .expect("found");
    let embedded = detail.general_comments.len()
        + detail
            .categories
            .iter()
            .map(|c| c.comments.len())
            .sum::<usize>();
    assert_eq!(embedded, MAX_DETAIL_COMMENTS);
    assert_eq!(detail.comments_omitted, 3);
    let newest = detail.general_comments.last().expect("general");
    assert_eq!(newest.body, format!("c{}", total - 1));
    assert!(
        detail
            .general_comments
            .windows(2)
            .all(|w| w[0].id < w[1].id),
        "oldest first"
    );
}

/// A ticket that notifies no one is read in one statement: every part
/// must come back whole and in order, and a bare ticket with none.
pub async fn a_ticket_that_notifies_no_one_is_read_whole(fixture: Fixture) {
    use bytes::Bytes;
    use connecticket_domain::model::NewAttachment;
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let (falls, weight) = (a.categories[0], a.categories[1]);
    let mut new = ticket(&a, "quiet");
    new.sms = None;
    new.ratings = vec![
        Rating {
            category_id: weight,
            rating: CategoryRating::PotentialIssue,
        },
        Rating {
            category_id: falls,
            rating: CategoryRating::NoIssue,
        },
    ];
    new.comments = vec![
        comment(&a, Some(weight), "gained 2 kg"),
        comment(&a, None, "seen by the doctor"),
        comment(&a, Some(weight), "diet changed"),
    ];
    new.attachments = ["scale.png", "chart.pdf"]
        .into_iter()
        .map(|name| NewAttachment {
            file_name: name.to_owned(),
            content_type: "application/octet-stream".to_owned(),
            data: Bytes::from_static(b"abc"),
        })
        .collect();
    let detail = create_and_read(store, &a, new).await;
    let id = detail.ticket.id;
    assert_eq!(detail.ticket.title, "quiet");
    assert_eq!(
        (detail.ticket.sms, detail.ticket.email),
        (Some(false), Some(false))
    );
    let categories: Vec<_> = detail
        .categories
        .iter()
        .map(|c| {
            let bodies: Vec<_> = c.comments.iter().map(|m| m.body.as_str()).collect();
            (c.category_id, c.name.as_str(), c.rating, bodies)
        })
        .collect();
    assert_eq!(
        categories,
        vec![
            (falls, "Falls", Some(CategoryRating::NoIssue), vec![]),
            (
                weight,
                "Weight",
                Some(CategoryRating::PotentialIssue),
                vec!["gained 2 kg", "diet changed"]
            ),
        ]
    );
    assert_eq!(detail.general_comments.len(), 1);
    assert_eq!(detail.general_comments[0].body, "seen by the doctor");
    assert_eq!(detail.general_comments[0].author_name, "a nurse");
    assert_eq!(detail.general_comments[0].created_at, t0());
    let files: Vec<_> = detail
        .attachments
        .iter()
        .map(|f| (f.file_name.as_str(), f.file_size))
        .collect();
    assert_eq!(files, vec![("scale.png", 3), ("chart.pdf", 3)]);
    assert!(detail.attachments[0].id < detail.attachments[1].id);
    assert_eq!(detail.comments_omitted, 0);
    assert!(detail.notifications.is_empty());
    assert!(store
        .ticket_detail(b.provider.id, id)
        .await
        .expect("read")
        .is_none());

    let mut bare = ticket(&a, "bare");
    bare.sms = None;
    let detail = create_and_read(store, &a, bare).await;
    assert_eq!(detail.ticket.title, "bare");
    assert!(detail.categories.is_empty() && detail.general_comments.is_empty());
    assert!(detail.attachments.is_empty());
    assert_eq!(detail.comments_omitted, 0);
}

/// Files added to a ticket later join it, move its `updated_at` forward,
/// and reach no other provider's ticket.
pub async fn files_added_later_join_the_ticket(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let id = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "Fall"),
            write(&a, Action::CreateTicket),
        )
        .await
        .expect("create")
        .into_inner();
    let file = || connecticket_domain::model::NewAttachment {
        file_name: "x-ray.png".to_owned(),
        content_type: "image/png".to_owned(),
        data: bytes::Bytes::from_static(b"\x89PNG"),
    };
    let refused = store
        .add_attachments(
            b.provider.id,
            id,
            vec![file()],
            later(60),
            write(&b, Action::AttachFiles),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Ticket))),
        "{refused:?}"
    );
    let added = store
        .add_attachments(
            a.provider.id,
            id,
            vec![file(), file()],
            later(60),
            write(&a, Action::AttachFiles),
        )
        .await
        .expect("added");
    assert_eq!(added.into_inner(), id);
    let detail = store
        .ticket_detail(a.provider.id, id)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(detail.attachments.len(), 2);
    assert_eq!(detail.ticket.updated_at, later(60));
}
