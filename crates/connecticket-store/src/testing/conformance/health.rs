//! What readiness and metrics ask of a store, and its orderly end.

use connecticket_domain::audit::Action;
use connecticket_domain::notify::DeliveryState;
use connecticket_domain::workflow::UrgencyStatus;

use super::fixtures::{entry, tenant, Fixture};
use super::notifications::{emailed_contact, emailing_ticket};

pub async fn health_reports_the_schema_the_outbox_and_closes_last(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let schema = store.schema_status().await.expect("schema");
    assert!(
        schema.current > 0 && schema.current == schema.expected,
        "{schema:?}"
    );
    let a = tenant(store, "a").await;
    emailed_contact(store, &a).await;
    emailing_ticket(store, &a, UrgencyStatus::DEFAULT, "quiet").await;
    emailing_ticket(store, &a, UrgencyStatus::EXCEPTION, "fell").await;
    let counts = store.notification_counts().await.expect("counts");
    assert_eq!(counts.by_state, vec![(DeliveryState::Pending, 2)]);
    assert_eq!(
        counts.open_escalations, 1,
        "the Exception waits for an answer"
    );
    let _ = store.load();
    // A second store on the database closes (its pool ends its sessions;
    // SQLite has none to end); the first serves on.
    let second = fixture.reopen().await;
    second.close().await;
    store
        .append_audit(entry(&a, Action::Tickets))
        .await
        .expect("the first store still writes");
}
