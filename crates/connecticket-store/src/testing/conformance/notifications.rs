//! The outbox: what a claim hands out, in which order.

use chrono::{DateTime, Utc};
use connecticket_domain::audit::Action;
use connecticket_domain::model::{ContactRole, NewContact, Page, TicketId};
use connecticket_domain::notify::{Channel, NotifyEvent, NotifyRequest};
use connecticket_domain::store::{NoticeQuery, NotificationFilter, StatusUpdate};
use connecticket_domain::workflow::{TicketStatus, UrgencyStatus};

use super::fixtures::{entry, later, t0, tenant, ticket, write, Fixture, Tenant};

/// Gives the tenant's first resident a contact who takes email.
pub(crate) async fn emailed_contact(
    store: &dyn connecticket_domain::store::Store,
    tenant: &Tenant,
) {
    store
        .create_contact(
            tenant.provider.id,
            NewContact {
                id: None,
                resident_id: tenant.residents[0],
                role: ContactRole::Family,
                name: "Ann Olsen".to_owned(),
                email: Some(format!("ann@{}.example", tenant.provider.id)),
                phone: None,
                email_consent: true,
                sms_consent: false,
                created_at: t0(),
            },
            entry(tenant, Action::ManageContacts),
        )
        .await
        .expect("contact");
}

/// A ticket of `urgency` that emails the resident's family.
pub(crate) async fn emailing_ticket(
    store: &dyn connecticket_domain::store::Store,
    tenant: &Tenant,
    urgency: UrgencyStatus,
    title: &str,
) -> TicketId {
    let mut new = ticket(tenant, title);
    new.urgency = urgency;
    new.email = Some(true);
    new.sms = None;
    new.sent_to_family = Some(true);
    store
        .create_ticket(tenant.provider.id, new, write(tenant, Action::CreateTicket))
        .await
        .expect("ticket")
        .into_inner()
}

/// Claims hand out the most urgent first, and within an urgency the
/// providers take turns: one provider's burst never queues another's news
/// behind all of it.
pub async fn claims_are_most_urgent_first_and_providers_take_turns(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let busy = tenant(store, "Busy").await;
    let quiet = tenant(store, "Quiet").await;
    emailed_contact(store, &busy).await;
    emailed_contact(store, &quiet).await;
    let mut busy_tickets = Vec::new();
    for n in 0..5 {
        busy_tickets.push(
            emailing_ticket(store, &busy, UrgencyStatus::DEFAULT, &format!("burst {n}")).await,
        );
    }
    let quiet_normal = emailing_ticket(store, &quiet, UrgencyStatus::DEFAULT, "quiet").await;
    let quiet_exception = emailing_ticket(store, &quiet, UrgencyStatus::EXCEPTION, "fall").await;
    let now = t0() + chrono::Duration::hours(1);
    let claimed = store
        .claim_notifications(
            vec![Channel::Email],
            "owner".to_owned(),
            now,
            now + chrono::Duration::minutes(2),
            4,
        )
        .await
        .expect("claim");
    let order: Vec<TicketId> = claimed.iter().map(|c| c.notification.ticket_id).collect();
    assert_eq!(
        order,
        vec![
            quiet_exception,
            busy_tickets[0],
            quiet_normal,
            busy_tickets[1]
        ],
        "the Exception first, then each provider's oldest in turn"
    );
    // The rest go to the next claim, still in order; the claimed ones are
    // leased and handed to no one else.
    let rest = store
        .claim_notifications(
            vec![Channel::Email],
            "another".to_owned(),
            now,
            now + chrono::Duration::minutes(2),
            10,
        )
        .await
        .expect("claim");
    let order: Vec<TicketId> = rest.iter().map(|c| c.notification.ticket_id).collect();
    assert_eq!(order, busy_tickets[2..].to_vec());
}

/// A family message of a low-urgency ticket raised in quiet hours waits
/// for morning and says so; an urgent one goes at once.
pub async fn a_message_held_for_quiet_hours_says_until_when(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    emailed_contact(store, &a).await;
    // 23:30 in New York, inside the default quiet hours (21:00-08:00).
    let night = DateTime::parse_from_rfc3339("2023-11-15T04:30:00Z")
        .expect("a time")
        .with_timezone(&Utc);
    let raise = |urgency: UrgencyStatus, title: &str| {
        let mut new = ticket(&a, title);
        new.urgency = urgency;
        new.email = Some(true);
        new.sms = None;
        new.sent_to_family = Some(true);
        new.created_at = night;
        store.create_ticket(a.provider.id, new, write(&a, Action::CreateTicket))
    };
    let normal = raise(UrgencyStatus::DEFAULT, "appetite")
        .await
        .expect("ticket")
        .into_inner();
    let urgent = raise(UrgencyStatus::EXCEPTION, "fall")
        .await
        .expect("ticket")
        .into_inner();
    let query = |ticket| NoticeQuery {
        provider: a.provider.id,
        ticket: Some(ticket),
        filter: None,
        page: Page {
            number: 1,
            per_page: 10,
            after_id: None,
        },
    };
    let held = store.notices(query(normal), night).await.expect("notices");
    assert_eq!(
        held.iter()
            .map(|n| (n.last_error.as_deref(), n.next_attempt_at > night))
            .collect::<Vec<_>>(),
        [(Some("held for quiet hours until 08:00"), true)]
    );
    let sent = store.notices(query(urgent), night).await.expect("notices");
    assert_eq!(
        sent.iter()
            .map(|n| (n.last_error.as_deref(), n.next_attempt_at))
            .collect::<Vec<_>>(),
        [(None, night)]
    );
}

/// A resident with a family member (email and SMS) and a primary
/// physician (email only).
pub(super) async fn family_and_physician(
    store: &dyn connecticket_domain::store::Store,
    tenant: &Tenant,
) {
    for (role, name, phone, sms) in [
        (ContactRole::Family, "Ann Olsen", Some("+15555550101"), true),
        (ContactRole::PrimaryPhysician, "Dr Kim", None, false),
    ] {
        store
            .create_contact(
                tenant.provider.id,
                NewContact {
                    id: None,
                    resident_id: tenant.residents[0],
                    role,
                    name: name.to_owned(),
                    email: Some(format!("{}@example.org", name.replace(' ', "."))),
                    phone: phone.map(str::to_owned),
                    email_consent: true,
                    sms_consent: sms,
                    created_at: t0(),
                },
                entry(tenant, Action::ManageContacts),
            )
            .await
            .expect("contact");
    }
}

/// The (role, channel) pairs a ticket's notifications of `event` went to.
async fn told(
    store: &dyn connecticket_domain::store::Store,
    tenant: &Tenant,
    ticket: TicketId,
    event: NotifyEvent,
) -> Vec<(String, Channel)> {
    let mut told: Vec<_> = store
        .notifications(NotificationFilter {
            provider: Some(tenant.provider.id),
            ticket: Some(ticket),
            limit: 100,
            ..NotificationFilter::default()
        })
        .await
        .expect("notifications")
        .into_iter()
        .filter(|n| n.event == event)
        .map(|n| (n.role.as_str().to_owned(), n.channel))
        .collect();
    told.sort();
    told
}

/// Flags named in a request are exactly who is told, on those channels;
/// none named leave it to the policy and the urgency; the stored flags
/// say who was told; a status change follows the same rule.
pub async fn a_request_tells_exactly_whom_it_names(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    family_and_physician(store, &a).await;
    let a = &a;
    let raise = |title: &str, urgency, flags: [Option<bool>; 5]| {
        let mut new = ticket(a, title);
        new.urgency = urgency;
        [
            new.sent_to_family,
            new.sent_to_primary,
            new.sent_to_healthcare_pro,
            new.email,
            new.sms,
        ] = flags;
        async move {
            let id = store
                .create_ticket(a.provider.id, new, write(a, Action::CreateTicket))
                .await
                .expect("ticket")
                .into_inner();
            let detail = store
                .ticket_detail(a.provider.id, id)
                .await
                .expect("read")
                .expect("found");
            (id, detail.ticket)
        }
    };
    let physician = || ("primary_physician".to_owned(), Channel::Email);
    let family = |channel| ("family".to_owned(), channel);

    // sent_to_primary=1&email=1: only the physician, by email.
    let (id, flags) = raise(
        "physician",
        UrgencyStatus::DEFAULT,
        [None, Some(true), None, Some(true), None],
    )
    .await;
    assert_eq!(
        told(store, a, id, NotifyEvent::TicketCreated).await,
        vec![physician()]
    );
    assert_eq!(
        (
            flags.sent_to_family,
            flags.sent_to_primary,
            flags.email,
            flags.sms
        ),
        (Some(false), Some(true), Some(true), Some(false)),
        "the flags say who was told"
    );
    // Family alone, no channel: every channel family consented to.
    let (id, _) = raise(
        "family",
        UrgencyStatus::DEFAULT,
        [Some(true), None, None, None, None],
    )
    .await;
    assert_eq!(
        told(store, a, id, NotifyEvent::TicketCreated).await,
        vec![family(Channel::Email), family(Channel::Sms)]
    );
    // No flag on a Normal ticket: nobody. On a High one: the policy's
    // roles, every consented channel.
    let (id, flags) = raise("quiet", UrgencyStatus::DEFAULT, [None; 5]).await;
    assert!(told(store, a, id, NotifyEvent::TicketCreated)
        .await
        .is_empty());
    assert_eq!(
        (flags.sent_to_family, flags.email),
        (Some(false), Some(false))
    );
    let (high, _) = raise("high", UrgencyStatus::HIGH, [None; 5]).await;
    assert_eq!(
        told(store, a, high, NotifyEvent::TicketCreated).await,
        vec![family(Channel::Email), family(Channel::Sms), physician()]
    );
    // Every role false: nobody, even on an Exception.
    let (id, _) = raise(
        "nobody",
        UrgencyStatus::EXCEPTION,
        [Some(false), Some(false), Some(false), None, None],
    )
    .await;
    assert!(told(store, a, id, NotifyEvent::TicketCreated)
        .await
        .is_empty());

    // A status change: unasked, the policy's roles (family and physician)
    // on the channels creation used; asked, exactly that.
    let change = |ticket, to, notify, at| StatusUpdate {
        ticket_id: ticket,
        status: to,
        employee_id: a.employee.id,
        application_id: None,
        at: later(at),
        notify,
        expected_version: None,
    };
    store
        .update_status(
            a.provider.id,
            change(high, TicketStatus::Open, NotifyRequest::default(), 10),
            write(a, Action::UpdateStatus),
        )
        .await
        .expect("status");
    assert_eq!(
        told(store, a, high, NotifyEvent::StatusChanged).await,
        vec![family(Channel::Email), family(Channel::Sms), physician()]
    );
    let only_family_by_sms = NotifyRequest {
        family: Some(true),
        sms: Some(true),
        ..NotifyRequest::default()
    };
    store
        .update_status(
            a.provider.id,
            change(high, TicketStatus::InProgress, only_family_by_sms, 20),
            write(a, Action::UpdateStatus),
        )
        .await
        .expect("status");
    assert_eq!(
        told(store, a, high, NotifyEvent::StatusChanged).await.len(),
        4,
        "one more: family by SMS"
    );
}

/// A number's correspondent is the provider that last texted it; STOP
/// withdraws that provider's consent for the number (and cancels what
/// still waits to be texted to it), START gives it back.
pub async fn a_numbers_sms_consent_follows_its_replies(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    family_and_physician(store, &a).await;
    family_and_physician(store, &b).await;
    let phone = "+15555550101".to_owned();
    assert_eq!(
        store
            .sms_correspondent(phone.clone(), t0())
            .await
            .expect("read"),
        None,
        "nobody texted it yet"
    );
    let mut texting = ticket(&a, "texting");
    texting.urgency = UrgencyStatus::HIGH;
    texting.sms = Some(true);
    texting.sent_to_family = Some(true);
    store
        .create_ticket(a.provider.id, texting, write(&a, Action::CreateTicket))
        .await
        .expect("ticket");
    let found = store
        .sms_correspondent(phone.clone(), t0())
        .await
        .expect("read")
        .expect("a correspondent");
    assert_eq!(found.provider_id, a.provider.id);
    assert_eq!(
        found.awaiting, 0,
        "nothing delivered yet, so nothing to answer"
    );
    let consenting = |tenant: &Tenant| {
        let provider = tenant.provider.id;
        async move {
            store
                .contacts(provider, None)
                .await
                .expect("contacts")
                .into_iter()
                .filter(|c| c.phone.as_deref() == Some("+15555550101"))
                .map(|c| c.sms_consent)
                .collect::<Vec<_>>()
        }
    };
    let changed = store
        .set_sms_consent(
            a.provider.id,
            phone.clone(),
            false,
            entry(&a, Action::SmsReply),
        )
        .await
        .expect("withdrawn");
    assert_eq!(changed, 1);
    assert_eq!(consenting(&a).await, vec![false]);
    assert_eq!(
        consenting(&b).await,
        vec![true],
        "another provider's consent stands"
    );
    let waiting: Vec<_> = store
        .notifications(NotificationFilter {
            provider: Some(a.provider.id),
            limit: 100,
            ..NotificationFilter::default()
        })
        .await
        .expect("outbox")
        .into_iter()
        .filter(|n| n.address == phone)
        .map(|n| (n.state, n.last_error))
        .collect();
    assert_eq!(
        waiting,
        vec![(
            connecticket_domain::notify::DeliveryState::Cancelled,
            Some("cancelled: the recipient replied STOP".to_owned())
        )]
    );
    store
        .set_sms_consent(a.provider.id, phone, true, entry(&a, Action::SmsReply))
        .await
        .expect("given");
    assert_eq!(consenting(&a).await, vec![true]);
}
