//! Residents' contacts and providers' notification policies: per provider,
//! each change with its audit entry.

use connecticket_domain::audit::Action;
use connecticket_domain::model::{ContactRole, NewContact, ResidentId};
use connecticket_domain::notify::{NotifyPolicy, QuietHours};
use connecticket_domain::store::Store;
use connecticket_domain::{Entity, StoreError};

use super::audit::entries;
use super::fixtures::{entry, t0, tenant, Fixture, Tenant};

fn kin(resident: ResidentId, name: &str) -> NewContact {
    NewContact {
        id: None,
        resident_id: resident,
        role: ContactRole::Family,
        name: name.to_owned(),
        email: Some(format!("{}@example.org", name.to_lowercase())),
        phone: None,
        email_consent: true,
        sms_consent: false,
        created_at: t0(),
    }
}

async fn add(store: &dyn Store, tenant: &Tenant, contact: NewContact) -> i64 {
    store
        .create_contact(
            tenant.provider.id,
            contact,
            entry(tenant, Action::ManageContacts),
        )
        .await
        .expect("contact")
        .id
        .get()
}

pub async fn contacts_are_listed_corrected_and_removed_within_their_provider(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let ann = add(store, &a, kin(a.residents[0], "Ann")).await;
    let bob = add(store, &a, kin(a.residents[1], "Bob")).await;
    add(store, &b, kin(b.residents[0], "Cy")).await;
    let listed = |resident| async move {
        store
            .contacts(a.provider.id, resident)
            .await
            .expect("contacts")
            .into_iter()
            .map(|c| (c.id.get(), c.name))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed(None).await,
        [(ann, "Ann".to_owned()), (bob, "Bob".to_owned())]
    );
    assert_eq!(
        listed(Some(a.residents[1])).await,
        [(bob, "Bob".to_owned())]
    );
    // Another provider's resident takes no contact of ours.
    let refused = store
        .create_contact(
            a.provider.id,
            kin(b.residents[0], "Eve"),
            entry(&a, Action::ManageContacts),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Resident))),
        "{refused:?}"
    );

    let before = entries(store).await.len();
    let mut corrected = kin(a.residents[0], "Ann");
    corrected.phone = Some("+15555550123".to_owned());
    corrected.sms_consent = true;
    let ann_id = connecticket_domain::model::ContactId(ann);
    for other in [&b] {
        let refused = store
            .update_contact(
                other.provider.id,
                ann_id,
                corrected.clone(),
                entry(other, Action::ManageContacts),
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::NotFound(Entity::Contact))),
            "{refused:?}"
        );
        let refused = store
            .delete_contact(
                other.provider.id,
                ann_id,
                entry(other, Action::ManageContacts),
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::NotFound(_))),
            "{refused:?}"
        );
    }
    store
        .update_contact(
            a.provider.id,
            ann_id,
            corrected,
            entry(&a, Action::ManageContacts),
        )
        .await
        .expect("corrected");
    let now = store
        .contacts(a.provider.id, Some(a.residents[0]))
        .await
        .expect("contacts");
    assert_eq!(
        (now[0].phone.as_deref(), now[0].sms_consent),
        (Some("+15555550123"), true)
    );
    store
        .delete_contact(a.provider.id, ann_id, entry(&a, Action::ManageContacts))
        .await
        .expect("removed");
    assert_eq!(listed(None).await, [(bob, "Bob".to_owned())]);
    // The refused changes wrote nothing; the two made wrote one entry each,
    // naming the contact and its resident.
    let written = entries(store).await.split_off(before);
    assert_eq!(written.len(), 2, "{written:?}");
    for record in &written {
        assert!(
            record.records.contains(&format!("contact:{ann}")),
            "{record:?}"
        );
        assert!(
            record
                .records
                .contains(&format!("resident:{}", a.residents[0])),
            "{record:?}"
        );
    }
}

pub async fn a_notify_policy_is_the_default_until_set_and_belongs_to_its_provider(
    fixture: Fixture,
) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    assert_eq!(
        store.notify_policy(a.provider.id).await.expect("policy"),
        NotifyPolicy::default()
    );
    let policy = NotifyPolicy {
        on_created: vec![ContactRole::Family],
        on_status_change: Vec::new(),
        quiet_hours: QuietHours::parse("20:00-07:30").expect("hours"),
        callback_phone: Some("+15555550142".to_owned()),
        after_hours_phone: Some("+15555550143".to_owned()),
        templates: connecticket_domain::notify::templates::Templates {
            sms: Some("{provider}: call {callback}".to_owned()),
            ..Default::default()
        },
    };
    let before = entries(store).await.len();
    store
        .set_notify_policy(
            a.provider.id,
            policy.clone(),
            entry(&a, Action::NotifyPolicy),
        )
        .await
        .expect("saved");
    assert_eq!(
        store.notify_policy(a.provider.id).await.expect("policy"),
        policy
    );
    assert_eq!(
        store.notify_policy(b.provider.id).await.expect("policy"),
        NotifyPolicy::default()
    );
    let unknown = connecticket_domain::model::ProviderId(999_999);
    let refused = store
        .set_notify_policy(unknown, policy, entry(&a, Action::NotifyPolicy))
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Provider))),
        "{refused:?}"
    );
    let written = entries(store).await.split_off(before);
    assert_eq!(
        written.iter().map(|r| r.action).collect::<Vec<_>>(),
        [Action::NotifyPolicy],
        "the saved policy's entry, and none for the refused one"
    );
}
