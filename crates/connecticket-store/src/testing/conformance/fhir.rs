//! The FHIR facade's storage: its tokens and assertion claims, the keys
//! and audit leave of applications, and searches that page by id within
//! one provider.

use chrono::Duration;
use connecticket_domain::audit::Action;
use connecticket_domain::auth::NewAccessToken;
use connecticket_domain::fhir::{
    AssertionClaim, ContactSearch, DocumentSearch, IdentifierQuery, IdentifierSystem, InstantRange,
    NotificationSearch, PatientSearch, TaskSearch, Window,
};
use connecticket_domain::model::{ContactRole, NewResident, TicketId};
use connecticket_domain::store::TokenOwner;
use connecticket_domain::{Entity, StoreError};

use super::audit::entries;
use super::fixtures::{admin_entry, entry, full_ticket, t0, tenant, write, Fixture, Tenant};

fn fhir_token(tenant: &Tenant, hash: &[u8]) -> NewAccessToken {
    NewAccessToken {
        application_id: tenant.application.id,
        token_hash: hash.to_vec(),
        created_at: t0(),
        expires_at: t0() + Duration::minutes(5),
    }
}

fn window(after: Option<i64>, count: u32) -> Window {
    Window { after, count }
}

/// FHIR tokens are found by hash with their scope and application, keep
/// apart from the API's, and die with the application's tokens.
pub async fn fhir_tokens_are_found_by_hash_with_their_scope_and_revoked_with_the_api_s(
    fixture: Fixture,
) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let scope = "system/Patient.rs".to_owned();
    store
        .insert_fhir_token(fhir_token(&a, b"fhir-a"), scope.clone(), 50, None)
        .await
        .expect("token");
    store
        .insert_fhir_token(fhir_token(&b, b"fhir-b"), scope.clone(), 50, None)
        .await
        .expect("token");
    let found = store
        .fhir_token(b"fhir-a".to_vec())
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.scope, scope);
    assert_eq!(found.token.application.provider.id, a.provider.id);
    assert!(!found.token.revoked);
    assert!(
        store
            .access_token(b"fhir-a".to_vec())
            .await
            .expect("lookup")
            .is_none(),
        "no API token"
    );
    // Only the newest `keep_live` stay live.
    store
        .insert_fhir_token(fhir_token(&a, b"fhir-a2"), scope.clone(), 1, None)
        .await
        .expect("token");
    let first = store
        .fhir_token(b"fhir-a".to_vec())
        .await
        .expect("lookup")
        .expect("found");
    assert!(first.token.revoked, "pushed out by the newer one");
    store
        .revoke_tokens(
            a.provider.id,
            TokenOwner::Application(a.application.id),
            t0(),
            admin_entry(),
        )
        .await
        .expect("revoke");
    let second = store
        .fhir_token(b"fhir-a2".to_vec())
        .await
        .expect("lookup")
        .expect("found");
    assert!(
        second.token.revoked,
        "revoked with the application's tokens"
    );
    let theirs = store
        .fhir_token(b"fhir-b".to_vec())
        .await
        .expect("lookup")
        .expect("found");
    assert!(!theirs.token.revoked, "another provider's untouched");
}

/// A client assertion's `jti` buys one token; once it expires it is
/// forgotten.
pub async fn a_client_assertion_is_claimed_once(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let claim = |jti: &str, minutes| AssertionClaim {
        jti: jti.to_owned(),
        expires_at: t0() + Duration::minutes(minutes),
    };
    let scope = || "system/Task.rs".to_owned();
    store
        .insert_fhir_token(fhir_token(&a, b"one"), scope(), 50, Some(claim("jti-1", 5)))
        .await
        .expect("first use");
    let replay = store
        .insert_fhir_token(fhir_token(&a, b"two"), scope(), 50, Some(claim("jti-1", 5)))
        .await;
    assert!(
        matches!(replay, Err(StoreError::Duplicate { key: "jti", .. })),
        "{replay:?}"
    );
    assert!(
        store
            .fhir_token(b"two".to_vec())
            .await
            .expect("lookup")
            .is_none(),
        "the refused token was not stored"
    );
    // An expired claim is forgotten when the next is made.
    store
        .insert_fhir_token(
            fhir_token(&a, b"three"),
            scope(),
            50,
            Some(claim("old", -10)),
        )
        .await
        .expect("another jti");
    store
        .insert_fhir_token(fhir_token(&a, b"four"), scope(), 50, Some(claim("old", 5)))
        .await
        .expect("the expired claim was forgotten");
}

/// Keys and audit leave belong to one application of one provider, each
/// change audited; another provider's application is not found.
pub async fn client_keys_and_audit_leave_are_kept_per_application(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let app = a.application.id;
    let before = entries(store).await.len();
    store
        .set_fhir_client_keys(
            a.provider.id,
            app,
            Some("{\"keys\":[]}".to_owned()),
            t0(),
            entry(&a, Action::ManageApplications),
        )
        .await
        .expect("keys");
    store
        .set_fhir_audit_reader(
            a.provider.id,
            app,
            true,
            t0(),
            entry(&a, Action::ManageApplications),
        )
        .await
        .expect("leave");
    assert_eq!(
        store.fhir_client_keys(app).await.expect("keys").as_deref(),
        Some("{\"keys\":[]}")
    );
    assert!(store.fhir_audit_reader(app).await.expect("leave"));
    let standing = store.fhir_access(a.provider.id).await.expect("standing");
    assert_eq!(standing.len(), 1);
    assert!(standing[0].audit_trail && standing[0].jwks.is_some());
    assert!(!store.fhir_access(b.provider.id).await.expect("standing")[0].audit_trail);
    for refused in [
        store
            .set_fhir_client_keys(
                b.provider.id,
                app,
                None,
                t0(),
                entry(&b, Action::ManageApplications),
            )
            .await,
        store
            .set_fhir_audit_reader(
                b.provider.id,
                app,
                false,
                t0(),
                entry(&b, Action::ManageApplications),
            )
            .await,
    ] {
        assert!(
            matches!(refused, Err(StoreError::NotFound(Entity::Application))),
            "{refused:?}"
        );
    }
    assert!(
        store.fhir_audit_reader(app).await.expect("leave"),
        "untouched"
    );
    store
        .set_fhir_client_keys(
            a.provider.id,
            app,
            None,
            t0(),
            entry(&a, Action::ManageApplications),
        )
        .await
        .expect("removed");
    store
        .set_fhir_audit_reader(
            a.provider.id,
            app,
            false,
            t0(),
            entry(&a, Action::ManageApplications),
        )
        .await
        .expect("withdrawn");
    assert!(store.fhir_client_keys(app).await.expect("keys").is_none());
    assert!(!store.fhir_audit_reader(app).await.expect("leave"));
    assert_eq!(
        entries(store).await.len(),
        before + 4,
        "each change audited"
    );
}

/// Every FHIR search answers only the provider's records, in id order, a
/// page after the cursor with whether more follow and the total.
pub async fn fhir_searches_page_by_id_within_their_provider(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let mut lovelace = NewResident::named("Ada");
    lovelace.last_name = Some("Lovelace".to_owned());
    lovelace.customer_number = Some("C-1815".to_owned());
    lovelace.dob = chrono::NaiveDate::from_ymd_opt(1936, 12, 10);
    let ids = store
        .create_residents(a.provider.id, vec![lovelace], t0(), admin_entry())
        .await
        .expect("resident");
    let ada = ids[0];
    // Patients: by name (start, any case), identifier, birthdate, page.
    let patients = |query: PatientSearch| store.search_patients(a.provider.id, query);
    let named = patients(PatientSearch {
        family: Some("love".into()),
        ..PatientSearch::default()
    })
    .await
    .expect("search");
    assert_eq!(
        named.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ada]
    );
    let numbered = patients(PatientSearch {
        identifier: Some(IdentifierQuery {
            system: Some(IdentifierSystem::CustomerNumber),
            value: "C-1815".into(),
        }),
        ..PatientSearch::default()
    })
    .await
    .expect("search");
    assert_eq!(numbered.total, 1);
    let born = patients(PatientSearch {
        birthdate: connecticket_domain::fhir::DayRange {
            from: chrono::NaiveDate::from_ymd_opt(1936, 1, 1),
            until: chrono::NaiveDate::from_ymd_opt(1937, 1, 1),
        },
        ..PatientSearch::default()
    })
    .await
    .expect("search");
    assert_eq!(born.rows.len(), 1);
    let first = patients(PatientSearch {
        window: window(None, 2),
        ..PatientSearch::default()
    })
    .await
    .expect("page");
    assert_eq!((first.rows.len(), first.more, first.total), (2, true, 3));
    let rest = patients(PatientSearch {
        window: window(Some(first.rows[1].id.get()), 2),
        ..PatientSearch::default()
    })
    .await
    .expect("page");
    assert_eq!((rest.rows.len(), rest.more), (1, false));
    assert_eq!(rest.rows[0].id, ada);
    let theirs = store
        .search_patients(
            b.provider.id,
            PatientSearch {
                ids: Some(vec![ada]),
                ..PatientSearch::default()
            },
        )
        .await
        .expect("search");
    assert_eq!((theirs.rows.len(), theirs.total), (0, 0));

    // Tasks, contacts, notifications and documents of a full ticket.
    super::notifications::family_and_physician(store, &a).await;
    let mut new = full_ticket(&a, "fell");
    new.sent_to_family = Some(true);
    new.email = Some(true);
    let ticket: TicketId = store
        .create_ticket(a.provider.id, new, write(&a, Action::CreateTicket))
        .await
        .expect("ticket")
        .into_inner();
    let tasks = store
        .search_tasks(
            a.provider.id,
            TaskSearch {
                patient: Some(a.residents[0]),
                ..TaskSearch::default()
            },
        )
        .await
        .expect("tasks");
    assert_eq!(
        tasks.rows.iter().map(|t| t.value.id).collect::<Vec<_>>(),
        vec![ticket]
    );
    let later = store
        .search_tasks(
            a.provider.id,
            TaskSearch {
                last_updated: InstantRange {
                    from: Some(t0() + Duration::days(1)),
                    until: None,
                },
                ..TaskSearch::default()
            },
        )
        .await
        .expect("tasks");
    assert_eq!(later.total, 0);
    let family = store
        .search_contacts(
            a.provider.id,
            ContactSearch {
                roles: vec![ContactRole::Family],
                ..ContactSearch::default()
            },
        )
        .await
        .expect("contacts");
    assert_eq!(family.rows.len(), 1);
    assert_eq!(family.rows[0].role, ContactRole::Family);
    let told = store
        .search_notifications(
            a.provider.id,
            NotificationSearch {
                ticket: Some(ticket),
                ..NotificationSearch::default()
            },
        )
        .await
        .expect("notifications");
    assert!(told.total >= 1, "{told:?}");
    let documents = store
        .search_documents(
            a.provider.id,
            DocumentSearch {
                ticket: Some(ticket),
                ..DocumentSearch::default()
            },
        )
        .await
        .expect("documents");
    assert_eq!(documents.rows.len(), 1);
    assert_eq!(documents.rows[0].meta.file_name, "photo.jpg");
    assert_eq!(documents.rows[0].resident_id, a.residents[0]);
    // Another provider sees none of them.
    assert_eq!(
        store
            .search_tasks(
                b.provider.id,
                TaskSearch {
                    ids: Some(vec![ticket]),
                    ..TaskSearch::default()
                }
            )
            .await
            .expect("tasks")
            .total,
        0
    );
    let roles = vec![ContactRole::Family, ContactRole::PrimaryPhysician];
    assert_eq!(
        store
            .search_contacts(
                b.provider.id,
                ContactSearch {
                    roles,
                    ..ContactSearch::default()
                }
            )
            .await
            .expect("contacts")
            .total,
        0
    );
    assert_eq!(
        store
            .search_notifications(
                b.provider.id,
                NotificationSearch {
                    ticket: Some(ticket),
                    ..NotificationSearch::default()
                }
            )
            .await
            .expect("notifications")
            .total,
        0
    );
    assert_eq!(
        store
            .search_documents(
                b.provider.id,
                DocumentSearch {
                    ticket: Some(ticket),
                    ..DocumentSearch::default()
                }
            )
            .await
            .expect("documents")
            .total,
        0
    );

    // The audit trail: the provider's entries only, paged by id.
    let trail = store
        .search_audit(a.provider.id, None, None, None, window(None, 1000))
        .await
        .expect("audit");
    assert!(!trail.rows.is_empty() && !trail.more);
    assert!(trail
        .rows
        .iter()
        .all(|r| r.provider_id == Some(a.provider.id.get())));
    assert!(trail.rows.windows(2).all(|w| w[0].id < w[1].id));
    let page = store
        .search_audit(
            a.provider.id,
            None,
            None,
            None,
            window(Some(trail.rows[0].id), 1),
        )
        .await
        .expect("audit");
    assert_eq!(page.rows[0].id, trail.rows[1].id);
    let none = store
        .search_audit(
            a.provider.id,
            Some(t0() + Duration::days(365)),
            None,
            None,
            window(None, 10),
        )
        .await
        .expect("audit");
    assert!(none.rows.is_empty());
}
