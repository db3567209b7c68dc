//! Notifications, end to end: a ticket change records them, the dispatcher
//! sends them to a real SMTP server and a real SMS endpoint on loopback,
//! and what arrives is checked from the receivers' side.

use std::collections::BTreeSet;

use connecticket::server::NotifyConfig;
use connecticket_domain::audit::{Action, AuditRecord};
use connecticket_domain::demo::{DEMO_PROVIDER_ID, DEMO_RESIDENT_IDS};
use connecticket_domain::notify::DeliveryState;
use connecticket_domain::service::PolicyChange;
use connecticket_domain::store::NotificationFilter;
use reqwest::StatusCode;

use crate::support::{
    eventually, send, transports, MailCatcher, SmsReceiver, TestApp, TestOptions,
};

const TITLE: &str = "Fell in the hallway at night";

async fn app_with(notifications: NotifyConfig) -> TestApp {
    TestApp::spawn(TestOptions {
        notifications,
        ..TestOptions::default()
    })
    .await
}

/// Raises an Exception-urgency ticket (no quiet hours) about the first
/// demo resident, asking for email and SMS; answers its id.
async fn raise(session: &crate::support::Session, email: bool, sms: bool) -> i64 {
    let reply = send(session.post("create_ticket").form(&[
        ("title", TITLE),
        ("resident_id", &DEMO_RESIDENT_IDS[0].to_string()),
        ("urgency_status", "Exception"),
        ("email", if email { "1" } else { "0" }),
        ("sms", if sms { "1" } else { "0" }),
    ]))
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["ticket_id"].as_i64().expect("ticket id")
}

/// A server whose gateway signs its callbacks for care.example.org, and
/// the three SMS of one ticket it sent.
async fn three_sms_sent(
    sms: &SmsReceiver,
) -> (TestApp, Vec<connecticket_domain::notify::Notification>) {
    let app = TestApp::spawn(TestOptions {
        notifications: transports(None, Some(sms)),
        public_url: Some("https://care.example.org".to_owned()),
        ..TestOptions::default()
    })
    .await;
    let session = app.example().await;
    raise(&session, false, true).await;
    let sent = eventually("three SMS delivered", || async {
        let all = queue(&app).await;
        (all.len() == 3 && all.iter().all(|n| n.state == DeliveryState::Delivered)).then_some(all)
    })
    .await;
    (app, sent)
}

/// Every notification, newest first.
async fn queue(app: &TestApp) -> Vec<connecticket_domain::notify::Notification> {
    app.api
        .outbox(
            app.admin.call(Action::NotificationQueue),
            NotificationFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("the queue")
}

/// Every notification once none is pending any more.
async fn settled(app: &TestApp, count: usize) -> Vec<connecticket_domain::notify::Notification> {
    eventually("every notification settled", || async {
        let all = queue(app).await;
        (all.len() == count && all.iter().all(|n| n.state != DeliveryState::Pending)).then_some(all)
    })
    .await
}

/// The audit entries of one action, in the order written.
async fn audit_of(app: &TestApp, action: Action) -> Vec<AuditRecord> {
    crate::support::audit_entries(app)
        .await
        .into_iter()
        .filter(|entry| entry.action == action)
        .collect()
}

fn resident_addresses(role_filter: &[&str]) -> BTreeSet<String> {
    role_filter
        .iter()
        .map(|role| format!("{role}.{}@example.org", DEMO_RESIDENT_IDS[0]))
        .collect()
}

backend_tests! {
    async fn a_new_ticket_reaches_every_contact_once_by_email_and_sms_without_its_title() {
        let mail = MailCatcher::start().await;
        let sms = SmsReceiver::start().await;
        let app = app_with(transports(Some(&mail), Some(&sms))).await;
        let session = app.example().await;
        let ticket = raise(&session, true, true).await;
        let mails = eventually("three emails", || async {
            let mails = mail.mails();
            (mails.len() >= 3).then_some(mails)
        })
        .await;
        let texts = eventually("three SMS", || async {
            let texts = sms.received();
            (texts.len() >= 3).then_some(texts)
        })
        .await;
        let recipients: BTreeSet<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
        assert_eq!(
            recipients,
            resident_addresses(&["family", "primary_physician", "healthcare_professional"])
        );
        let ids: BTreeSet<_> = mails.iter().map(|m| m.header("Message-ID").expect("Message-ID")).collect();
        assert_eq!(ids.len(), 3, "one Message-ID per notification: {ids:?}");
        for mail in &mails {
            let id = mail.header("Message-ID").expect("id");
            assert!(id.starts_with("<connecticket-notification-") && id.ends_with("@example.org>"), "{id}");
            let subject = mail.header("Subject").expect("subject");
            assert!(subject.starts_with("Update about ") && subject.ends_with(" from Example Provider"), "{subject}");
            assert!(!mail.data.contains(TITLE), "the ticket's title left in an email");
            assert!(mail.body().contains("Please call Example Provider"), "{}", mail.body());
        }
        let numbers: BTreeSet<_> = texts.iter().map(|t| t.to.clone()).collect();
        assert_eq!(numbers.len(), 3);
        for text in &texts {
            assert!(!text.body.contains(TITLE));
            assert!(text.body.starts_with("Example Provider: there is an update about "), "{}", text.body);
            assert_eq!(text.from, "+15555550199");
            assert!(text.idempotency_token.as_deref().is_some_and(|t| t.starts_with("connecticket-notification-")));
            assert!(text.authorization.as_deref().is_some_and(|a| a.starts_with("Basic ")));
        }
        // The ticket says who was told, without an address.
        let detail = eventually("the ticket to show six deliveries", || async {
            let detail = session.detail(ticket).await;
            let delivered = detail.body["ticket_with_details"]["notifications"]
                .as_array()
                .map(|list| list.iter().filter(|n| n["status"] == "delivered").count());
            (delivered == Some(6)).then_some(detail)
        })
        .await;
        let shown = detail.body["ticket_with_details"].to_string();
        assert!(!shown.contains("@example.org") && !shown.contains("+1555555"), "{shown}");
        let fields = &detail.body["ticket_with_details"]["ticket"];
        assert_eq!(
            (&fields["sent_to_family"], &fields["sentsent_to_primary"], &fields["sent_to_healthcare_pro"]),
            (&serde_json::json!(true), &serde_json::json!(true), &serde_json::json!(true))
        );
        assert_eq!(fields.as_object().map(|o| o.len()), Some(17));
        // Nothing more arrives: one message per contact and channel.
        assert_eq!((mail.mails().len(), sms.received().len()), (3, 3));
    }

    /// The flags are the choice: `sent_to_primary=1&email=1` emails only
    /// the physician; `email=1` alone emails the policy's roles; the
    /// ticket's flags answer who was told; `update_status` takes the same
    /// flags.
    async fn the_flags_choose_who_is_told() {
        let mail = MailCatcher::start().await;
        let sms = SmsReceiver::start().await;
        let app = app_with(transports(Some(&mail), Some(&sms))).await;
        let session = app.example().await;
        let resident = DEMO_RESIDENT_IDS[0].to_string();
        let create = |flags: &'static [(&'static str, &'static str)]| {
            let mut form = vec![("title", TITLE), ("resident_id", resident.as_str()), ("urgency_status", "Exception")];
            form.extend_from_slice(flags);
            let request = session.post("create_ticket").form(&form);
            async move {
                let reply = send(request).await;
                assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
                reply.body["ticket_id"].as_i64().expect("ticket id")
            }
        };
        let mailed_to = || mail.mails().iter().flat_map(|m| m.to.clone()).collect::<Vec<_>>();

        let physician_only = create(&[("sent_to_primary", "1"), ("email", "1")]).await;
        eventually("the physician's email", || async { (!mailed_to().is_empty()).then_some(()) }).await;
        let fields = session.detail(physician_only).await.body["ticket_with_details"]["ticket"].clone();
        assert_eq!(
            (&fields["sent_to_family"], &fields["sentsent_to_primary"], &fields["sent_to_healthcare_pro"], &fields["email"], &fields["sms"]),
            (&serde_json::json!(false), &serde_json::json!(true), &serde_json::json!(false), &serde_json::json!(true), &serde_json::json!(false)),
            "the flags answer who was told"
        );
        let by_policy = create(&[("email", "1")]).await;
        let mails = eventually("four emails", || async {
            let to = mailed_to();
            (to.len() >= 4).then_some(to)
        })
        .await;
        let mut expected: Vec<String> = resident_addresses(&["primary_physician"]).into_iter().collect();
        expected.extend(resident_addresses(&["family", "primary_physician", "healthcare_professional"]));
        let (mut got, mut want) = (mails.clone(), expected);
        got.sort();
        want.sort();
        assert_eq!(got, want, "the physician alone, then the policy's three");
        let fields = session.detail(by_policy).await.body["ticket_with_details"]["ticket"].clone();
        assert_eq!((&fields["sent_to_family"], &fields["sms"]), (&serde_json::json!(true), &serde_json::json!(false)));

        // update_status: asked for family by SMS, that is all it sends.
        let reply = send(session.post(&format!("update_status?id={physician_only}&status=Open&sent_to_family=1&sms=1"))).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let texts = eventually("one SMS", || async {
            let texts = sms.received();
            (!texts.is_empty()).then_some(texts)
        })
        .await;
        assert_eq!(texts.len(), 1);
        assert_eq!(texts[0].to, "+15555550100", "the family member's number");
        assert_eq!(mail.mails().len(), 4, "no email for the status change");
    }

    async fn a_ticket_without_flags_or_a_rolled_back_change_notifies_nobody() {
        let mail = MailCatcher::start().await;
        let app = app_with(transports(Some(&mail), None)).await;
        let session = app.example().await;
        raise(&session, false, false).await;
        // A change that fails (a resident of another provider) records none.
        let reply = send(session.post("create_ticket").form(&[
            ("title", TITLE), ("resident_id", "424242"), ("email", "1"),
        ])).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        let all = queue(&app).await;
        assert!(all.is_empty(), "{all:?}");
    }

    async fn a_refusing_mail_server_gets_every_message_exactly_once_when_it_recovers() {
        let mail = MailCatcher::start().await;
        mail.refuse_next(4);
        let app = app_with(transports(Some(&mail), None)).await;
        let session = app.example().await;
        raise(&session, true, false).await;
        let mails = eventually("three emails after the refusals", || async {
            let mails = mail.mails();
            (mails.len() >= 3).then_some(mails)
        })
        .await;
        let delivered = eventually("three deliveries recorded", || async {
            let all = queue(&app).await;
            all.iter().all(|n| n.state == DeliveryState::Delivered).then_some(all)
        })
        .await;
        assert_eq!(mails.len(), 3, "each message once");
        let attempts: i64 = delivered.iter().map(|n| n.attempts).sum();
        assert_eq!(attempts, 3 + 4, "four refusals, each retried");
    }

    async fn a_failing_gateway_is_retried_and_a_bad_number_fails_alone() {
        let sms = SmsReceiver::start().await;
        sms.fail_next(2);
        let family_number = "+15555550100";
        sms.reject_number(family_number);
        let app = app_with(transports(None, Some(&sms))).await;
        let session = app.example().await;
        raise(&session, false, true).await;
        let all = settled(&app, 3).await;
        let failed: Vec<_> = all.iter().filter(|n| n.state == DeliveryState::Failed).collect();
        assert_eq!(failed.len(), 1, "{all:?}");
        assert_eq!(failed[0].address, family_number);
        assert_eq!(failed[0].last_error.as_deref(), Some("SMS gateway: HTTP 400"));
        let numbers: Vec<_> = sms.received().into_iter().map(|t| t.to).collect();
        assert_eq!(numbers.len(), 2, "the others arrived once each: {numbers:?}");
        // Once the number works, an operator's retry delivers it.
        sms.accept_number(family_number);
        let retried = app.api.retry_notification(app.admin.call(Action::ManageNotifications), failed[0].id).await.expect("retry");
        assert_eq!((retried.state, retried.attempts), (DeliveryState::Pending, 0));
        eventually("the retried SMS to arrive", || async {
            sms.received().iter().any(|t| t.to == family_number).then_some(())
        })
        .await;
        let after = eventually("the retry recorded", || async {
            let all = queue(&app).await;
            let n = all.into_iter().find(|n| n.id == failed[0].id)?;
            (n.state == DeliveryState::Delivered).then_some(n)
        })
        .await;
        assert_eq!(after.attempts, 1);
        // A delivered notification is not sent again by a retry.
        let again = app.api.retry_notification(app.admin.call(Action::ManageNotifications), after.id).await.expect("retry");
        assert_eq!(again.state, DeliveryState::Delivered);
        assert_eq!(sms.received().len(), 3);
    }

    async fn a_rejected_mailbox_fails_alone_with_its_reason() {
        let mail = MailCatcher::start().await;
        let family = format!("family.{}@example.org", DEMO_RESIDENT_IDS[0]);
        mail.reject_recipient(&family);
        let app = app_with(transports(Some(&mail), None)).await;
        let session = app.example().await;
        raise(&session, true, false).await;
        let all = settled(&app, 3).await;
        let failed: Vec<_> = all.iter().filter(|n| n.state == DeliveryState::Failed).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].attempts, 1, "a 550 is not retried");
        assert!(failed[0].last_error.as_deref().is_some_and(|e| e.starts_with("SMTP 550")), "{failed:?}");
        assert!(!failed[0].last_error.as_deref().unwrap_or_default().contains('@'));
        assert_eq!(mail.mails().len(), 2);
    }

    async fn without_a_transport_notifications_wait_and_say_why() {
        // No transport, and the note on waiting notifications written
        // every 50 ms (not the 30 s a server waits), so the test does not
        // race the note.
        let app = app_with(transports(None, None)).await;
        let session = app.example().await;
        raise(&session, true, true).await;
        let all = eventually("the queue to say why", || async {
            let all = queue(&app).await;
            (all.len() == 6 && all.iter().all(|n| n.last_error.is_some())).then_some(all)
        })
        .await;
        for notification in &all {
            assert_eq!(notification.state, DeliveryState::Pending);
            let reason = notification.last_error.clone().unwrap_or_default();
            assert_eq!(reason, format!("waiting: no {} transport is configured", notification.channel.as_str()));
        }
        // The API's list says the same, as `reason`.
        let listed = send(session.get("notifications")).await;
        let rows = listed.body["notifications"].as_array().expect("rows").clone();
        assert_eq!(rows.len(), 6);
        for row in &rows {
            assert_eq!(row["reason"], format!("waiting: no {} transport is configured", row["channel"].as_str().unwrap_or_default()), "{row}");
        }
    }

    async fn a_status_change_notifies_family_and_physician_and_every_attempt_is_audited() {
        let mail = MailCatcher::start().await;
        let app = app_with(transports(Some(&mail), None)).await;
        let session = app.example().await;
        let ticket = raise(&session, true, false).await;
        eventually("the first three", || async { (mail.mails().len() == 3).then_some(()) }).await;
        let reply = send(session.post(&format!("update_status?id={ticket}&status=Closed"))).await;
        assert_eq!(reply.status, StatusCode::OK);
        let mails = eventually("two more", || async {
            let mails = mail.mails();
            (mails.len() == 5).then_some(mails)
        })
        .await;
        let later: BTreeSet<String> = mails[3..].iter().flat_map(|m| m.to.clone()).collect();
        assert_eq!(later, resident_addresses(&["family", "primary_physician"]));
        let entries = eventually("five delivery entries", || async {
            let entries = audit_of(&app, Action::DeliverNotification).await;
            (entries.len() == 5).then_some(entries)
        })
        .await;
        for entry in &entries {
            assert_eq!(entry.provider_id, Some(DEMO_PROVIDER_ID.get()));
            assert!(entry.records.contains(&format!("ticket:{ticket}")));
            assert!(entry.records.iter().all(|r| !r.contains('@')));
        }
    }

    async fn the_api_lists_a_residents_contacts_within_the_tenant() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let resident = DEMO_RESIDENT_IDS[0];
        let reply = send(session.get(&format!("resident_contacts?resident_id={resident}"))).await;
        assert_eq!(reply.status, StatusCode::OK);
        let contacts = reply.body["contacts"].as_array().expect("contacts");
        let roles: BTreeSet<_> = contacts.iter().map(|c| c["role"].as_str().unwrap_or_default().to_owned()).collect();
        assert_eq!(roles, ["family", "healthcare_professional", "primary_physician"].map(String::from).into());
        assert_eq!(contacts[0]["resident_id"], serde_json::json!(resident.get()));
        // Another provider's token sees no such resident.
        let sunrise = app.sunrise().await;
        let reply = send(sunrise.get(&format!("resident_contacts?resident_id={resident}"))).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        let reply = send(session.get("resident_contacts")).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", reply.body);
    }

    async fn signed_gateway_reports_are_recorded_and_unsigned_ones_refused_and_audited() {
        let sms = SmsReceiver::start().await;
        let (app, sent) = three_sms_sent(&sms).await;
        let sid = |n: usize| sent[n].external_id.clone().expect("the gateway's sid");
        let report = |sid: String, status: &str| {
            vec![
                ("MessageSid".to_owned(), sid),
                ("MessageStatus".to_owned(), status.to_owned()),
                ("ErrorCode".to_owned(), "30003".to_owned()),
                ("AccountSid".to_owned(), "AC_TEST".to_owned()),
            ]
        };
        let url = "https://care.example.org/sms/status";
        let post = |params: Vec<(String, String)>, signature: Option<String>| {
            let mut request = app.http.post(format!("{}/sms/status", app.base)).form(&params);
            if let Some(signature) = signature {
                request = request.header("X-Twilio-Signature", signature);
            }
            send(request)
        };
        let signer = connecticket_notify::TwilioSignature::new("secret");
        // Unsigned, and signed with another token: refused, nothing changes.
        let unsigned = post(report(sid(0), "undelivered"), None).await;
        assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
        let forged = connecticket_notify::TwilioSignature::new("guess").sign(url, &report(sid(0), "undelivered"));
        assert_eq!(post(report(sid(0), "undelivered"), Some(forged)).await.status, StatusCode::UNAUTHORIZED);
        // Signed: the first is undelivered, the second delivered.
        let signature = signer.sign(url, &report(sid(0), "undelivered"));
        assert_eq!(post(report(sid(0), "undelivered"), Some(signature)).await.status, StatusCode::NO_CONTENT);
        let signature = signer.sign(url, &report(sid(1), "delivered"));
        assert_eq!(post(report(sid(1), "delivered"), Some(signature)).await.status, StatusCode::NO_CONTENT);
        // A signed report about no message of ours changes nothing.
        let signature = signer.sign(url, &report("SM_unknown".to_owned(), "delivered"));
        assert_eq!(post(report("SM_unknown".to_owned(), "delivered"), Some(signature)).await.status, StatusCode::NO_CONTENT);
        // Signed but incomplete: refused in the envelope, changing nothing.
        let partial = vec![("MessageSid".to_owned(), sid(2))];
        let reply = post(partial.clone(), Some(signer.sign(url, &partial))).await;
        reply.assert_failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "delivery report needs MessageSid and MessageStatus",
        );
        let all = queue(&app).await;
        let by_id = |id| all.iter().find(|n| n.id == id).expect("notification");
        let failed = by_id(sent[0].id);
        assert_eq!(failed.state, DeliveryState::Failed);
        assert_eq!(failed.last_error.as_deref(), Some("the SMS gateway reported it undelivered (error 30003)"));
        assert_eq!(by_id(sent[1].id).state, DeliveryState::Delivered);
        assert_eq!(by_id(sent[2].id).state, DeliveryState::Delivered);
        // Every report is audited: two applied, one unknown, one
        // incomplete; the two refused named nobody, and are counted in one
        // entry.
        let entries = eventually("five sms_status entries", || async {
            let entries = audit_of(&app, Action::SmsStatus).await;
            (entries.len() == 5).then_some(entries)
        })
        .await;
        use connecticket_domain::audit::Outcome;
        let outcomes: Vec<_> = entries.iter().map(|entry| entry.outcome).collect();
        assert_eq!(
            outcomes,
            vec![
                Outcome::Success,
                Outcome::Success,
                Outcome::NotFound,
                Outcome::Invalid,
                Outcome::Denied,
            ]
        );
        assert!(entries[4].records.iter().any(|r| r == "refusals:2"), "{:?}", entries[4]);
    }

    /// A report is acted on once, and only forward: a replayed or retried
    /// report changes nothing, and a message reported delivered is never
    /// turned back into a failure.
    async fn gateway_reports_count_once_and_never_undo_a_delivery() {
        let sms = SmsReceiver::start().await;
        let (app, sent) = three_sms_sent(&sms).await;
        let sid = sent[0].external_id.clone().expect("the gateway's sid");
        let url = "https://care.example.org/sms/status";
        let signer = connecticket_notify::TwilioSignature::new("secret");
        let report = |status: &str| {
            let params = vec![
                ("MessageSid".to_owned(), sid.clone()),
                ("MessageStatus".to_owned(), status.to_owned()),
                ("ErrorCode".to_owned(), "30003".to_owned()),
            ];
            let signature = signer.sign(url, &params);
            send(app.http.post(format!("{}/sms/status", app.base)).header("X-Twilio-Signature", signature).form(&params))
        };
        assert_eq!(report("delivered").await.status, StatusCode::NO_CONTENT);
        assert_eq!(report("delivered").await.status, StatusCode::NO_CONTENT, "a retry is answered");
        assert_eq!(report("failed").await.status, StatusCode::NO_CONTENT);
        let after = queue(&app).await;
        let message = after.iter().find(|n| n.id == sent[0].id).expect("notification");
        assert_eq!(message.state, DeliveryState::Delivered, "a delivered message was turned into a failure");
        assert_eq!(message.last_error, None);
        use connecticket_domain::audit::Outcome;
        let outcomes: Vec<_> = audit_of(&app, Action::SmsStatus).await.into_iter().map(|e| e.outcome).collect();
        assert_eq!(outcomes, vec![Outcome::Success, Outcome::Replayed, Outcome::Success]);
    }

    async fn a_providers_own_wording_is_used_and_checked_when_saved() {
        let mail = MailCatcher::start().await;
        let sms = SmsReceiver::start().await;
        let app = app_with(transports(Some(&mail), Some(&sms))).await;
        let wording = PolicyChange {
            callback_phone: Some("+15555550142".to_owned()),
            sms_template: Some("{provider}: news about {resident}, call {callback}".to_owned()),
            email_subject_template: Some("{resident}: a note from {provider}".to_owned()),
            ..PolicyChange::default()
        };
        app.api.change_notify_policy(app.admin.within(Action::NotifyPolicy, DEMO_PROVIDER_ID).await, wording).await.expect("saved");
        // A template that would leak a ticket's title is refused on saving.
        let leaky = PolicyChange { sms_template: Some("{provider}: {title}".to_owned()), ..PolicyChange::default() };
        let refused = app.api.change_notify_policy(app.admin.within(Action::NotifyPolicy, DEMO_PROVIDER_ID).await, leaky).await.err().map(|e| e.to_string());
        assert!(refused.as_deref().is_some_and(|e| e.contains("uses {title}")), "{refused:?}");
        let session = app.example().await;
        raise(&session, true, true).await;
        let mails = eventually("three emails", || async {
            let mails = mail.mails();
            (mails.len() == 3).then_some(mails)
        })
        .await;
        let texts = eventually("three SMS", || async {
            let texts = sms.received();
            (texts.len() == 3).then_some(texts)
        })
        .await;
        let subject = mails[0].header("Subject").expect("subject");
        assert!(subject.ends_with(": a note from Example Provider"), "{subject}");
        assert!(texts[0].body.starts_with("Example Provider: news about "), "{}", texts[0].body);
        // An Exception ticket needs an answer: the request follows the wording.
        assert!(texts[0].body.ends_with(", call +15555550142 Reply OK to confirm you read this."), "{}", texts[0].body);
        // The body keeps the default wording, with the callback number and
        // the demo's after-hours one.
        assert!(mails[0].body().contains("Please call Example Provider at +15555550142 (after hours: +15555550101)."), "{}", mails[0].body());
    }

    /// One provider's burst does not hold back another's news of the same
    /// urgency: the providers take turns (and the most urgent go first:
    /// the store's conformance suite shows that).
    async fn one_providers_burst_does_not_hold_back_anothers_emergency() {
        let mail = MailCatcher::start().await;
        let mut notify = transports(Some(&mail), None);
        if let Some(smtp) = notify.smtp.as_mut() {
            // Slow enough that the burst is still queued when the emergency comes.
            smtp.max_per_second = 40.0;
        }
        let app = app_with(notify).await;
        let example = app.example().await;
        let burst: Vec<_> = (0..40)
            .map(|n| {
                let session = example.clone();
                tokio::spawn(async move {
                    let reply = send(session.post("create_ticket").form(&[
                        ("title", format!("burst {n}").as_str()),
                        ("resident_id", &DEMO_RESIDENT_IDS[n % 2].to_string()),
                        // High goes at once, whatever the hour (no quiet hours).
                        ("urgency_status", "High"),
                        ("email", "1"),
                    ]))
                    .await;
                    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
                })
            })
            .collect();
        for ticket in burst {
            ticket.await.expect("ticket");
        }
        let queued = queue(&app).await.len();
        assert!(queued >= 80, "the burst queued {queued} messages");
        let received_before = mail.mails().len();
        assert!(received_before < queued / 2, "the burst went out too fast to test: {received_before} of {queued}");
        let call = app.admin.within(Action::ManageContacts, connecticket_domain::demo::SUNRISE_PROVIDER_ID).await;
        app.api
            .add_contact(
                call,
                connecticket_domain::service::ContactInput {
                    resident_id: connecticket_domain::demo::SUNRISE_RESIDENT_ID.get(),
                    role: "family".to_owned(),
                    name: "Family at Sunrise".to_owned(),
                    email: Some("family@sunrise.example".to_owned()),
                    phone: None,
                    email_consent: true,
                    sms_consent: false,
                },
            )
            .await
            .expect("a contact at the other provider");
        let sunrise = app.sunrise().await;
        let reply = send(sunrise.post("create_ticket").form(&[
            ("title", "Fall"),
            ("resident_id", &connecticket_domain::demo::SUNRISE_RESIDENT_ID.to_string()),
            // As urgent as the burst: the providers take turns.
            ("urgency_status", "High"),
            ("email", "1"),
        ]))
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let arrived_at = eventually("the other provider's emergency email", || async {
            mail.mails()
                .iter()
                .position(|m| m.to.iter().any(|to| to == "family@sunrise.example"))
        })
        .await;
        // It went out with the round after the one under way (about one
        // second of the rate), not after the whole burst.
        assert!(
            arrived_at < received_before + 2 * 40 + 8,
            "the emergency was message {arrived_at}, {received_before} had arrived when it was raised, of a burst of {queued}"
        );
        assert!(arrived_at < queued, "it waited for the whole burst");
    }
}
