//! Providers, employees, applications, residents and categories.

use connecticket_domain::model::{
    ApplicationId, CategoryId, EmployeeId, NewApplication, NewCategory, NewEmployee, NewProvider,
    NewResident, ProviderId,
};
use connecticket_domain::store::TokenOwner;
use connecticket_domain::{Entity, StoreError};

use super::fixtures::{admin_entry, collect, t0, tenant, Fixture};

fn provider(id: Option<i64>, name: &str) -> NewProvider {
    NewProvider {
        id: id.map(ProviderId),
        name: name.to_owned(),
        time_zone: "UTC".to_owned(),
        country: "US".to_owned(),
        created_at: t0(),
    }
}

pub async fn is_empty_until_a_provider_exists(fixture: Fixture) {
    let store = fixture.store.as_ref();
    assert!(store.is_empty().await.expect("empty"));
    store
        .create_provider(provider(None, "A"), admin_entry())
        .await
        .expect("create");
    assert!(!store.is_empty().await.expect("not empty"));
}

pub async fn providers_keep_fixed_ids_and_generated_ids_continue_above(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let fixed = store
        .create_provider(provider(Some(500), "Fixed"), admin_entry())
        .await
        .expect("fixed");
    assert_eq!(fixed.id, ProviderId(500));
    let generated = store
        .create_provider(provider(None, "Next"), admin_entry())
        .await
        .expect("generated");
    assert!(generated.id.get() > 500, "{:?}", generated.id);
    let listed = store.providers().await.expect("list");
    assert_eq!(
        listed.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![fixed.id, generated.id]
    );
    assert_eq!(store.provider(fixed.id).await.expect("find"), Some(fixed));
    assert_eq!(
        store.provider(ProviderId(9_999)).await.expect("missing"),
        None
    );
}

pub async fn a_taken_id_is_a_duplicate(fixture: Fixture) {
    let store = fixture.store.as_ref();
    store
        .create_provider(provider(Some(7), "First"), admin_entry())
        .await
        .expect("first");
    let again = store
        .create_provider(provider(Some(7), "Second"), admin_entry())
        .await;
    assert!(
        matches!(
            again,
            Err(StoreError::Duplicate {
                entity: Entity::Provider,
                ..
            })
        ),
        "{again:?}"
    );
    assert_eq!(store.providers().await.expect("list").len(), 1);
}

pub async fn a_providers_country_is_set_and_read_back(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let created = store
        .create_provider(provider(None, "A"), admin_entry())
        .await
        .expect("create");
    assert_eq!(created.country, "US");
    store
        .set_provider_country(created.id, "GB".to_owned(), admin_entry())
        .await
        .expect("set");
    let found = store.provider(created.id).await.expect("find");
    assert_eq!(found.map(|p| p.country).as_deref(), Some("GB"));
    let missing = store
        .set_provider_country(ProviderId(9_999), "GB".to_owned(), admin_entry())
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(Entity::Provider))),
        "{missing:?}"
    );
}

pub async fn employees_need_an_existing_provider(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let missing = store
        .create_employee(
            NewEmployee {
                id: None,
                provider_id: ProviderId(404),
                name: "Nobody".to_owned(),
                email: None,
                created_at: t0(),
            },
            admin_entry(),
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(Entity::Provider))),
        "{missing:?}"
    );
    let a = tenant(store, "a").await;
    let listed = store.employees(a.provider.id).await.expect("employees");
    assert_eq!(listed, vec![a.employee.clone()]);
}

pub async fn applications_need_an_employee_of_their_provider(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let foreign = store
        .create_application(
            NewApplication {
                id: None,
                provider_id: a.provider.id,
                employee_id: b.employee.id,
                name: "x".to_owned(),
                api_key: "key-x".to_owned(),
                secret_hash: vec![9],
                created_at: t0(),
            },
            admin_entry(),
        )
        .await;
    assert!(
        matches!(foreign, Err(StoreError::NotFound(Entity::Employee))),
        "{foreign:?}"
    );
    let missing = store
        .create_application(
            NewApplication {
                id: None,
                provider_id: a.provider.id,
                employee_id: EmployeeId(77_777),
                name: "y".to_owned(),
                api_key: "key-y".to_owned(),
                secret_hash: vec![9],
                created_at: t0(),
            },
            admin_entry(),
        )
        .await;
    // A missing employee is NotFound, never mistaken for a duplicate.
    assert!(
        matches!(missing, Err(StoreError::NotFound(Entity::Employee))),
        "{missing:?}"
    );
    assert_eq!(
        store.applications(a.provider.id).await.expect("apps"),
        vec![a.application.clone()]
    );
}

pub async fn a_taken_api_key_is_a_duplicate(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let again = store
        .create_application(
            NewApplication {
                id: None,
                provider_id: a.provider.id,
                employee_id: a.employee.id,
                name: "copy".to_owned(),
                api_key: a.application.api_key.clone(),
                secret_hash: vec![9],
                created_at: t0(),
            },
            admin_entry(),
        )
        .await;
    assert!(
        matches!(
            again,
            Err(StoreError::Duplicate {
                entity: Entity::Application,
                ..
            })
        ),
        "{again:?}"
    );
}

pub async fn residents_are_created_all_or_none(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let mut fixed = NewResident::named("Fixed");
    fixed.id = Some(a.residents[0]);
    let refused = store
        .create_residents(
            a.provider.id,
            vec![NewResident::named("New"), fixed],
            t0(),
            admin_entry(),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Duplicate {
                entity: Entity::Resident,
                ..
            })
        ),
        "{refused:?}"
    );
    let listed = collect(store.residents(a.provider.id, None)).await;
    assert_eq!(
        listed.len(),
        2,
        "the first resident of the refused batch was not kept"
    );
    let missing = store
        .create_residents(
            ProviderId(404),
            vec![NewResident::named("X")],
            t0(),
            admin_entry(),
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(Entity::Provider))),
        "{missing:?}"
    );
}

pub async fn residents_keep_every_field(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let mut full = NewResident::named("Full");
    full.last_name = Some("Name".to_owned());
    full.dob = chrono::NaiveDate::from_ymd_opt(1937, 1, 21);
    full.email = Some("f@example.org".to_owned());
    full.phone_number = Some("+15555550100".to_owned());
    full.home_address1 = Some("1 Lane".to_owned());
    full.home_address2 = Some(String::new());
    full.location = Some("Apt 1".to_owned());
    full.in_home_care = true;
    full.demo = true;
    full.resident_type_id = Some(42);
    full.caretracker_id = Some("ct".to_owned());
    let ids = store
        .create_residents(a.provider.id, vec![full.clone()], t0(), admin_entry())
        .await
        .expect("create");
    let listed = collect(store.residents(a.provider.id, None)).await;
    let stored = listed.iter().find(|r| r.id == ids[0]).expect("stored");
    assert_eq!(stored.last_name, full.last_name);
    assert_eq!(stored.dob, full.dob);
    assert_eq!(stored.home_address2.as_deref(), Some(""));
    assert!(stored.in_home_care && stored.demo);
    assert_eq!(stored.resident_type_id, Some(42));
    assert_eq!(stored.created_at, t0());
    assert_eq!(stored.photo_file_name, "");
}

pub async fn categories_are_listed_per_provider_in_id_order(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let fixed = store
        .create_category(
            NewCategory {
                id: Some(CategoryId(1_000)),
                provider_id: a.provider.id,
                name: "Fixed".to_owned(),
                created_at: t0(),
            },
            admin_entry(),
        )
        .await
        .expect("fixed");
    let listed = store.categories(a.provider.id).await.expect("list");
    let ids: Vec<_> = listed.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![a.categories[0], a.categories[1], fixed.id]);
    assert!(listed.iter().all(|c| c.provider_id == a.provider.id));
    assert!(!ids.contains(&b.categories[0]));
}

pub async fn revoking_an_application_revokes_its_tokens(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    super::auth::token(store, &a, b"t1").await;
    let foreign = store
        .revoke_application(b.provider.id, a.application.id, t0(), admin_entry())
        .await;
    assert!(
        matches!(foreign, Err(StoreError::NotFound(Entity::Application))),
        "{foreign:?}"
    );
    let revoked = store
        .revoke_application(a.provider.id, a.application.id, t0(), admin_entry())
        .await
        .expect("revoke");
    assert_eq!(revoked.revoked_at, Some(t0()));
    let token = store
        .access_token(b"t1".to_vec())
        .await
        .expect("token")
        .expect("found");
    assert!(token.revoked && token.application.revoked);
}

pub async fn tokens_are_revoked_by_application_or_employee(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    super::auth::token(store, &a, b"t1").await;
    super::auth::token(store, &a, b"t2").await;
    super::auth::token(store, &b, b"t3").await;
    let by_app = store
        .revoke_tokens(
            a.provider.id,
            TokenOwner::Application(a.application.id),
            t0(),
            admin_entry(),
        )
        .await
        .expect("revoke");
    assert_eq!(by_app, 2);
    let again = store
        .revoke_tokens(
            a.provider.id,
            TokenOwner::Employee(a.employee.id),
            t0(),
            admin_entry(),
        )
        .await
        .expect("revoke again");
    assert_eq!(again, 0, "already revoked tokens are not counted twice");
    let foreign = store
        .revoke_tokens(
            a.provider.id,
            TokenOwner::Employee(b.employee.id),
            t0(),
            admin_entry(),
        )
        .await;
    assert!(
        matches!(foreign, Err(StoreError::NotFound(Entity::Employee))),
        "{foreign:?}"
    );
    let missing = store
        .revoke_tokens(
            a.provider.id,
            TokenOwner::Application(ApplicationId(9_999)),
            t0(),
            admin_entry(),
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(Entity::Application))),
        "{missing:?}"
    );
    let untouched = store
        .access_token(b"t3".to_vec())
        .await
        .expect("t3")
        .expect("found");
    assert!(!untouched.revoked);
}

pub async fn rotating_a_secret_replaces_it_and_revokes_tokens(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    super::auth::token(store, &a, b"t1").await;
    store
        .rotate_secret(
            a.provider.id,
            a.application.id,
            vec![7, 7],
            t0(),
            admin_entry(),
        )
        .await
        .expect("rotate");
    let found = store
        .application_by_key(a.application.api_key.clone())
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.secret_hash, vec![7, 7]);
    assert!(
        store
            .access_token(b"t1".to_vec())
            .await
            .expect("t1")
            .expect("found")
            .revoked
    );
    let missing = store
        .rotate_secret(
            a.provider.id,
            ApplicationId(9_999),
            vec![1],
            t0(),
            admin_entry(),
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(Entity::Application))),
        "{missing:?}"
    );
}

/// A category is renamed within its provider; its ratings keep pointing
/// at it.
pub async fn a_category_is_renamed_within_its_provider(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let falls = a.categories[0];
    let refused = store
        .rename_category(b.provider.id, falls, "Mine now".to_owned(), admin_entry())
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Category))),
        "{refused:?}"
    );
    let renamed = store
        .rename_category(
            a.provider.id,
            falls,
            "Falls and trips".to_owned(),
            admin_entry(),
        )
        .await
        .expect("renamed");
    assert_eq!(
        (renamed.id, renamed.name.as_str()),
        (falls, "Falls and trips")
    );
    let listed = store.categories(a.provider.id).await.expect("categories");
    assert_eq!(listed[0].name, "Falls and trips");
}
