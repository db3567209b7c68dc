//! Escalation and acknowledgment: rules per provider and urgency, the staff
//! their tiers reach, levels taken once when due, and answers (by link, by
//! staff) that end them.

use chrono::{DateTime, Duration, Utc};
use connecticket_domain::audit::Action;
use connecticket_domain::model::{ContactId, Page, ProviderContact, RecipientRole, StaffRole};
use connecticket_domain::notify::{
    AckLinkRecord, AckRefusal, Channel, DeliveryState, EscalationPolicy, EscalationRule,
    EscalationState,
};
use connecticket_domain::store::{AckBy, Attempt, AttemptResult, NoticeQuery, Store};
use connecticket_domain::workflow::UrgencyStatus;
use connecticket_domain::{Entity, StoreError};

use super::audit::entries;
use super::fixtures::{entry, t0, tenant, Fixture, Tenant};
use super::notifications::{emailed_contact, emailing_ticket};

fn after(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

fn on_call_nurse() -> RecipientRole {
    RecipientRole::parse("on_call_nurse").expect("a staff role")
}

/// A minute to answer, then the same people again, then the on-call nurse.
fn a_minute_then_the_nurse() -> EscalationRule {
    EscalationRule {
        ack_within: Duration::minutes(1),
        renotify_after: Duration::minutes(1),
        tiers: vec![on_call_nurse()],
    }
}

async fn staff(store: &dyn Store, tenant: &Tenant, name: &str) -> ContactId {
    let contact = ProviderContact {
        id: ContactId(0),
        provider_id: tenant.provider.id,
        role: StaffRole::parse("on_call_nurse").expect("role"),
        name: name.to_owned(),
        email: Some(format!("{}@staff.example", name.to_lowercase())),
        phone: None,
        created_at: t0(),
    };
    store
        .create_provider_contact(contact, entry(tenant, Action::ManageEscalation))
        .await
        .expect("staff")
        .id
}

pub async fn escalation_rules_are_the_defaults_overridden_per_provider(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let defaults = EscalationPolicy::defaults();
    assert_eq!(
        store.escalation_policy(a.provider.id).await.expect("rules"),
        defaults
    );
    let exception = UrgencyStatus::EXCEPTION.id;
    let high = UrgencyStatus::parse("High").expect("High").id;
    store
        .set_escalation_rule(
            a.provider.id,
            exception,
            Some(a_minute_then_the_nurse()),
            entry(&a, Action::ManageEscalation),
        )
        .await
        .expect("set");
    store
        .set_escalation_rule(
            a.provider.id,
            high,
            None,
            entry(&a, Action::ManageEscalation),
        )
        .await
        .expect("off");
    let ours = store.escalation_policy(a.provider.id).await.expect("rules");
    assert_eq!(ours.rule(exception), Some(&a_minute_then_the_nurse()));
    assert_eq!(ours.rule(high), None, "High needs no answer now");
    assert_eq!(
        store.escalation_policy(b.provider.id).await.expect("rules"),
        defaults
    );
}

pub async fn staff_contacts_belong_to_their_provider(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let pat = staff(store, &a, "Pat").await;
    let names = |tenant: &Tenant| {
        let provider = tenant.provider.id;
        async move {
            store
                .provider_contacts(provider)
                .await
                .expect("staff")
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(&a).await, ["Pat"]);
    assert!(names(&b).await.is_empty());
    let refused = store
        .delete_provider_contact(b.provider.id, pat, entry(&b, Action::ManageEscalation))
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Contact))),
        "{refused:?}"
    );
    let before = entries(store).await.len();
    store
        .delete_provider_contact(a.provider.id, pat, entry(&a, Action::ManageEscalation))
        .await
        .expect("removed");
    assert!(names(&a).await.is_empty());
    let written = entries(store).await.split_off(before);
    assert_eq!(written.len(), 1);
    assert!(
        written[0].records.contains(&format!("contact:{pat}")),
        "{written:?}"
    );
}

pub async fn an_unanswered_notification_escalates_until_someone_answers(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    emailed_contact(store, &a).await;
    staff(store, &a, "Pat").await;
    let exception = UrgencyStatus::EXCEPTION;
    store
        .set_escalation_rule(
            a.provider.id,
            exception.id,
            Some(a_minute_then_the_nurse()),
            entry(&a, Action::ManageEscalation),
        )
        .await
        .expect("rule");
    let ticket = emailing_ticket(store, &a, exception, "fell").await;
    let escalate = |at| store.escalate_due(at, 10, entry(&a, Action::Escalate));
    assert!(
        escalate(after(30)).await.expect("early").is_empty(),
        "not due yet"
    );
    let renotified = escalate(after(61)).await.expect("due");
    assert_eq!(
        renotified
            .iter()
            .map(|s| (s.ticket_id, s.level, s.kind.as_str()))
            .collect::<Vec<_>>(),
        [(ticket, 1, "renotify")]
    );
    assert!(
        escalate(after(62)).await.expect("again").is_empty(),
        "a level is taken once"
    );
    let tier = escalate(after(122)).await.expect("next");
    assert_eq!(
        (tier[0].level, tier[0].role.as_deref(), tier[0].notified),
        (2, Some("on_call_nurse"), 1)
    );
    let seen = store
        .ticket_escalation(a.provider.id, ticket)
        .await
        .expect("escalation")
        .expect("started");
    assert_eq!(
        (seen.escalation.state, seen.escalation.level),
        (EscalationState::Active, 2)
    );
    assert_eq!(
        seen.steps
            .iter()
            .map(|s| (s.level, s.kind.as_str()))
            .collect::<Vec<_>>(),
        [(1, "renotify"), (2, "tier")]
    );
    assert!(
        store
            .ticket_escalation(b.provider.id, ticket)
            .await
            .expect("theirs")
            .is_none(),
        "another provider's ticket is none of theirs"
    );

    let query = NoticeQuery {
        provider: a.provider.id,
        ticket: Some(ticket),
        filter: None,
        page: Page {
            number: 1,
            per_page: 50,
            after_id: None,
        },
    };
    let notices = store
        .notices(query.clone(), after(130))
        .await
        .expect("notices");
    assert_eq!(
        notices
            .iter()
            .map(|n| n.escalation_level)
            .collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let theirs = NoticeQuery {
        provider: b.provider.id,
        ..query
    };
    assert!(store
        .notices(theirs, after(130))
        .await
        .expect("notices")
        .is_empty());

    // Another provider's employee cannot answer for ours; ours can.
    let staff_answer = |tenant: &Tenant| AckBy::Staff {
        provider: tenant.provider.id,
        notification: notices[0].id,
        employee: tenant.employee.id,
        note: "called the family".to_owned(),
    };
    let refused = store
        .acknowledge(staff_answer(&b), after(140), entry(&b, Action::Acknowledge))
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(_))),
        "{refused:?}"
    );
    let answered = store
        .acknowledge(staff_answer(&a), after(140), entry(&a, Action::Acknowledge))
        .await
        .expect("acknowledge")
        .expect("accepted");
    assert_eq!(answered.notification.id, notices[0].id);
    assert!(
        escalate(after(600)).await.expect("later").is_empty(),
        "answered: no more levels"
    );
    let answered = store
        .ticket_escalation(a.provider.id, ticket)
        .await
        .expect("escalation")
        .expect("kept");
    assert_eq!(answered.escalation.state, EscalationState::Acknowledged);
    // The reminder and the tier's message, not yet sent, are cancelled
    // with the reason; the change's own notification is left alone.
    let after_answer = store
        .notices(query.clone(), after(700))
        .await
        .expect("notices");
    assert_eq!(
        after_answer
            .iter()
            .map(|n| (n.escalation_level, n.state, n.last_error.as_deref()))
            .collect::<Vec<_>>(),
        [
            (0, DeliveryState::Pending, None),
            (
                1,
                DeliveryState::Cancelled,
                Some("cancelled: someone acknowledged")
            ),
            (
                2,
                DeliveryState::Cancelled,
                Some("cancelled: someone acknowledged")
            ),
        ]
    );

    let history = store
        .notification_history(a.provider.id, DateTime::<Utc>::MIN_UTC, after(700))
        .await
        .expect("history");
    assert_eq!(history.notifications.len(), 3);
    assert_eq!(
        history.steps.iter().map(|s| s.level).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        history
            .escalations
            .iter()
            .map(|e| e.state)
            .collect::<Vec<_>>(),
        [EscalationState::Acknowledged]
    );
    let before_start = store
        .notification_history(a.provider.id, after(700), after(800))
        .await
        .expect("history");
    assert!(
        before_start.notifications.is_empty(),
        "nothing queued in that period"
    );
}

pub async fn a_link_acknowledges_once(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    emailed_contact(store, &a).await;
    emailing_ticket(store, &a, UrgencyStatus::EXCEPTION, "fell").await;
    let now = after(10);
    let claimed = store
        .claim_notifications(
            vec![Channel::Email],
            "one".to_owned(),
            now,
            now + Duration::minutes(5),
            10,
        )
        .await
        .expect("claim");
    let token_hash = b"the link's token, hashed".to_vec();
    // Published before the send: the link works before the message is
    // recorded as delivered; another owner's claim is left alone.
    let link = |owner: &str| {
        store.publish_ack_links(
            owner.to_owned(),
            vec![AckLinkRecord {
                notification: claimed[0].notification.id,
                token_hash: token_hash.clone(),
                expires_at: now + Duration::days(3),
            }],
        )
    };
    link("another").await.expect("publish");
    let early = store
        .ack_target(token_hash.clone(), after(11))
        .await
        .expect("target");
    assert_eq!(
        early.err(),
        Some(AckRefusal::Unknown),
        "not the claim of \"another\""
    );
    link("one").await.expect("publish");
    let early = store
        .ack_target(token_hash.clone(), after(11))
        .await
        .expect("target");
    assert!(early.is_ok(), "{early:?}");
    let sent = Attempt {
        notification: claimed[0].notification.id,
        owner: "one".to_owned(),
        at: now,
        result: AttemptResult::Delivered {
            external_id: "<m1@example>".to_owned(),
        },
        ack_link: Some((token_hash.clone(), now + Duration::days(3))),
    };
    assert!(store
        .record_attempt(sent, entry(&a, Action::DeliverNotification))
        .await
        .expect("attempt"));
    let target = store
        .ack_target(token_hash.clone(), after(20))
        .await
        .expect("target")
        .expect("a page");
    assert_eq!(
        (target.notification.id, target.provider_name.as_str()),
        (claimed[0].notification.id, "a")
    );
    let unknown = store
        .ack_target(b"guessed".to_vec(), after(20))
        .await
        .expect("target");
    assert_eq!(unknown.err(), Some(AckRefusal::Unknown));
    let by_link = || AckBy::Link {
        token_hash: token_hash.clone(),
    };
    let first = store
        .acknowledge(by_link(), after(30), entry(&a, Action::Acknowledge))
        .await
        .expect("ack");
    assert!(first.is_ok(), "{first:?}");
    let again = store
        .acknowledge(by_link(), after(40), entry(&a, Action::Acknowledge))
        .await
        .expect("ack");
    assert!(
        matches!(again.err(), Some(AckRefusal::Used { at, .. }) if at == after(30)),
        "used, and when"
    );
}
