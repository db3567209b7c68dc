//! Acknowledgment and escalation, end to end: links followed from the
//! emails a real SMTP server received, replies signed like the gateway's,
//! staff answering on a recipient's behalf, and escalation levels taken
//! when a moved clock passes their deadlines.

use std::sync::Arc;

use chrono::Duration;
use connecticket_domain::audit::{Action, Outcome};
use connecticket_domain::clock::ManualClock;
use connecticket_domain::demo::{DEMO_PROVIDER_ID, DEMO_RESIDENT_IDS};
use connecticket_domain::notify::{AckVia, EscalationState, Notification, NotifyEvent};
use connecticket_domain::store::NotificationFilter;
use reqwest::StatusCode;

use crate::support::{
    eventually, send, transports, Mail, MailCatcher, Session, SmsReceiver, TestApp, TestOptions,
};

const PUBLIC_URL: &str = "https://care.example.org";

async fn app(
    mail: Option<&MailCatcher>,
    sms: Option<&SmsReceiver>,
    clock: Option<Arc<ManualClock>>,
) -> TestApp {
    let mut options = TestOptions {
        notifications: transports(mail, sms),
        public_url: Some(PUBLIC_URL.to_owned()),
        ..TestOptions::default()
    };
    if let Some(clock) = clock {
        options.clock = clock;
    }
    TestApp::spawn(options).await
}

/// Raises a ticket of this urgency about the first demo resident.
async fn raise(session: &Session, urgency: &str, email: bool, sms: bool) -> i64 {
    session
        .create_ticket(&[
            ("title", "Found on the floor at night"),
            ("resident_id", &DEMO_RESIDENT_IDS[0].to_string()),
            ("urgency_status", urgency),
            ("email", if email { "1" } else { "0" }),
            ("sms", if sms { "1" } else { "0" }),
        ])
        .await
}

async fn queue(app: &TestApp) -> Vec<Notification> {
    let mut all = app
        .api
        .outbox(
            app.admin.call(Action::NotificationQueue),
            NotificationFilter {
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .expect("the queue");
    all.reverse();
    all
}

/// The mails received once there are `count`.
async fn mails(mail: &MailCatcher, count: usize) -> Vec<Mail> {
    eventually(&format!("{count} emails"), || async {
        let mails = mail.mails();
        (mails.len() >= count).then_some(mails)
    })
    .await
}

fn mail_to<'a>(mails: &'a [Mail], address: &str) -> Vec<&'a Mail> {
    mails
        .iter()
        .filter(|m| m.to.iter().any(|to| to == address))
        .collect()
}

/// The token of the acknowledgment link in a message.
fn token_in(text: &str) -> String {
    let start = text.find(&format!("{PUBLIC_URL}/ack/")).expect("a link") + PUBLIC_URL.len() + 5;
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn get_page(app: &TestApp, token: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = app
        .http
        .get(app.url(&format!("/ack/{token}")))
        .send()
        .await
        .expect("GET");
    (
        response.status(),
        response.headers().clone(),
        response.text().await.expect("body"),
    )
}

async fn post_page(app: &TestApp, token: &str) -> (StatusCode, String) {
    let response = app
        .http
        .post(app.url(&format!("/ack/{token}")))
        .send()
        .await
        .expect("POST");
    (response.status(), response.text().await.expect("body"))
}

fn physician_mail(resident: i64) -> String {
    format!("primary_physician.{resident}@example.org")
}

backend_tests! {
    async fn the_emailed_link_acknowledges_through_its_form_and_a_bare_get_does_not() {
        let mail = MailCatcher::start().await;
        let app = app(Some(&mail), None, None).await;
        let session = app.example().await;
        let ticket = raise(&session, "Exception", true, false).await;
        let received = mails(&mail, 3).await;
        let physician = mail_to(&received, &physician_mail(DEMO_RESIDENT_IDS[0].get()));
        let body = physician[0].body();
        assert!(body.contains("Please confirm that you read this message"), "{body}");
        let token = token_in(&body);
        assert_eq!(token.len(), 43, "{body}");

        // A GET (a mail scanner, a preview) shows the page and changes nothing.
        for _ in 0..2 {
            let (status, headers, html) = get_page(&app, &token).await;
            assert_eq!(status, StatusCode::OK);
            assert!(html.contains("<form method=\"post\">") && html.contains(">Acknowledge</button>"), "{html}");
            assert!(html.contains("Example Provider"), "{html}");
            assert!(!html.contains("Found on the floor"), "the ticket's title is not on the page");
            // Nothing is loaded and nothing links away; the one link is the
            // provider's number, to call.
            assert!(!html.contains("<script") && !html.contains("src="), "{html}");
            assert_eq!(html.matches("href=").count(), html.matches("href=\"tel:").count(), "{html}");
            assert!(html.contains("please call Example Provider at <a href=\"tel:+15555550100\">+15555550100</a>"), "{html}");
            assert!(html.contains("(after hours: <a href=\"tel:+15555550101\">+15555550101</a>)"), "{html}");
            let csp = headers["content-security-policy"].to_str().expect("csp");
            assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"), "{csp}");
            assert!(csp.contains("form-action 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
            assert_eq!(headers["referrer-policy"], "no-referrer");
        }
        assert!(queue(&app).await.iter().all(|n| n.acknowledgment.is_none()), "a GET acknowledged");

        let (status, html) = post_page(&app, &token).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Thank you"), "{html}");
        let acknowledged: Vec<_> = queue(&app).await.into_iter().filter(|n| n.acknowledgment.is_some()).collect();
        assert_eq!(acknowledged.len(), 1);
        assert_eq!(acknowledged[0].address, physician_mail(DEMO_RESIDENT_IDS[0].get()));
        assert_eq!(acknowledged[0].acknowledgment.as_ref().map(|a| a.via), Some(AckVia::Link));

        // The ticket shows who answered, how, and at which level.
        let detail = session.detail(ticket).await;
        let notices = detail.body["ticket_with_details"]["notifications"].as_array().expect("notifications").clone();
        let answered: Vec<_> = notices.iter().filter(|n| !n["acknowledged_at"].is_null()).collect();
        assert_eq!(answered.len(), 1, "{notices:?}");
        assert_eq!(answered[0]["acknowledged_via"], "link");
        assert_eq!(answered[0]["escalation_level"], 0);
        assert_eq!(answered[0]["role"], "primary_physician");
        assert!(notices.iter().all(|n| n.get("address").is_none()));

        // Used once: opened again, it thanks (with the time alone) instead
        // of alarming; it acts no more, and says nothing of the ticket.
        let (status, _, used) = get_page(&app, &token).await;
        assert_eq!(status, StatusCode::OK);
        assert!(used.contains("Already confirmed, thank you") && used.contains("This message was confirmed at "), "{used}");
        assert!(!used.contains("<form") && !used.contains("Test") && !used.contains("Example Provider"), "{used}");
        let (status, reused) = post_page(&app, &token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(reused, used);
        let (status, _, unknown) = get_page(&app, &"A".repeat(43)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(unknown.contains("This link is not valid"), "{unknown}");

        // Every view and acknowledgment is in the audit trail.
        let entries = crate::support::audit_entries(&app).await;
        let of = |action| entries.iter().filter(|e| e.action == action).map(|e| e.outcome).collect::<Vec<_>>();
        // The refusals (a used link, twice shown; an unknown one) name
        // nobody: each kind is one entry counting them.
        assert_eq!(of(Action::AcknowledgmentPage), vec![Outcome::Success, Outcome::Success, Outcome::NotFound]);
        assert_eq!(of(Action::Acknowledge), vec![Outcome::Success, Outcome::NotFound]);
        let refused = entries.iter().find(|e| e.action == Action::AcknowledgmentPage && e.outcome == Outcome::NotFound).expect("refusals");
        assert!(refused.records.iter().any(|r| r == "refusals:2"), "{refused:?}");
    }

    async fn an_expired_or_foreign_token_is_refused_like_an_unknown_one() {
        let mail = MailCatcher::start().await;
        let clock = ManualClock::new();
        let app = app(Some(&mail), None, Some(Arc::clone(&clock))).await;
        let session = app.example().await;
        raise(&session, "High", true, false).await;
        let received = mails(&mail, 3).await;
        let tokens: Vec<String> = received.iter().map(|m| token_in(&m.body())).collect();
        let (_, _, unknown) = get_page(&app, &"B".repeat(43)).await;

        // A token made under another server's key, for these very
        // notifications, opens nothing.
        let notifications = queue(&app).await;
        let foreign = connecticket_domain::notify::AckLinks::new(
            connecticket_domain::auth::SecretHasher::new("another server's key"),
            None,
            Duration::days(7),
        );
        for n in &notifications {
            let token = foreign.token(n.id, n.ack_salt.as_deref().expect("a salt"));
            assert!(!tokens.contains(&token));
            let (status, _, html) = get_page(&app, &token).await;
            assert_eq!((status, html.as_str()), (StatusCode::NOT_FOUND, unknown.as_str()));
        }
        // Malformed and oversized tokens are refused before any lookup.
        for token in ["a%20b", &"C".repeat(200)] {
            let (status, _, html) = get_page(&app, token).await;
            assert_eq!((status, html.as_str()), (StatusCode::NOT_FOUND, unknown.as_str()));
        }
        // Seven days after the first send, the links expire.
        assert_eq!(get_page(&app, &tokens[0]).await.0, StatusCode::OK);
        clock.advance(Duration::days(7) + Duration::seconds(1));
        for token in &tokens {
            let (status, _, html) = get_page(&app, token).await;
            assert_eq!((status, html.as_str()), (StatusCode::NOT_FOUND, unknown.as_str()));
            assert_eq!(post_page(&app, token).await.0, StatusCode::NOT_FOUND);
        }
        assert!(queue(&app).await.iter().all(|n| n.acknowledgment.is_none()));
    }

    async fn an_unanswered_exception_reminds_then_escalates_once_each_until_staff_answer() {
        let mail = MailCatcher::start().await;
        let clock = ManualClock::new();
        let app = app(Some(&mail), None, Some(Arc::clone(&clock))).await;
        let session = app.example().await;
        let ticket = raise(&session, "Exception", true, false).await;
        mails(&mail, 3).await;

        // The demo's two minutes pass: the same three are reminded, once.
        clock.advance(Duration::minutes(2) + Duration::seconds(1));
        let received = mails(&mail, 6).await;
        let reminders: Vec<_> = received[3..].iter().collect();
        for reminder in &reminders {
            let subject = reminder.header("Subject").expect("subject");
            assert!(subject.starts_with("Reminder: Update about "), "{subject}");
        }
        let mut first: Vec<_> = received[..3].iter().flat_map(|m| m.to.clone()).collect();
        let mut again: Vec<_> = reminders.iter().flat_map(|m| m.to.clone()).collect();
        first.sort();
        again.sort();
        assert_eq!(first, again);

        // Two minutes more: the first tier, the on-call nurse.
        clock.advance(Duration::minutes(2) + Duration::seconds(1));
        let received = mails(&mail, 7).await;
        assert_eq!(received[6].to, vec!["oncall@example.org".to_owned()]);
        assert!(received[6].body().contains(&format!("{PUBLIC_URL}/ack/")));

        // The physician called back; a nurse records it.
        let open = send(session.get("notifications").query(&[("state", "unacknowledged"), ("ticket_id", &ticket.to_string())])).await;
        assert_eq!(open.status, StatusCode::OK, "{:?}", open.body);
        let rows = open.body["notifications"].as_array().expect("rows").clone();
        // Three, three reminders, and the nurse by email and SMS (staff are
        // reached on every channel they have).
        assert_eq!(rows.len(), 8);
        assert!(!open.body.to_string().contains("@example.org"), "an address in the list");
        let unknown = send(session.get("notifications").query(&[("state", "late")])).await;
        unknown.assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "state must be one of pending, delivered, failed, cancelled, unacknowledged, overdue");
        let overdue = send(session.get("notifications").query(&[("state", "overdue")])).await;
        assert_eq!(overdue.body["notifications"].as_array().map(Vec::len), Some(8));
        let physician = rows.iter().find(|n| n["role"] == "primary_physician" && n["escalation_level"] == 0).expect("the physician's");
        let id = physician["id"].as_i64().expect("id").to_string();

        let missing_note = send(session.post("acknowledge").form(&[("notification_id", id.as_str())])).await;
        missing_note.assert_failure(StatusCode::UNPROCESSABLE_ENTITY, "note required");
        let foreign = send(app.sunrise().await.post("acknowledge").form(&[("notification_id", id.as_str()), ("note", "x")])).await;
        foreign.assert_failure(StatusCode::NOT_FOUND, "Invalid Notification ID");

        let done = send(session.post("acknowledge").form(&[("notification_id", id.as_str()), ("note", "Dr. Ames called back at 02:10")])).await;
        assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
        let employee = session.detail(ticket).await.body["ticket_with_details"]["ticket"]["employee_id"].clone();
        assert_eq!(done.body["notification"]["acknowledged_via"], "staff");
        assert_eq!(done.body["notification"]["acknowledged_by"], employee);
        let again = send(session.post("acknowledge").form(&[("notification_id", id.as_str()), ("note", "twice")])).await;
        again.assert_failure(StatusCode::CONFLICT, "notification_id is acknowledged already");

        // Answered: nothing more goes out, and nothing is open.
        clock.advance(Duration::minutes(10));
        let story = app.api.notification_report(app.admin.within(Action::NotificationReport, DEMO_PROVIDER_ID).await, chrono::DateTime::<chrono::Utc>::MIN_UTC, clock_now(&clock)).await.expect("report");
        assert_eq!(story.len(), 1);
        let story = &story[0];
        assert_eq!(story.escalation.as_ref().map(|e| e.state), Some(EscalationState::Acknowledged));
        let steps: Vec<_> = story.steps.iter().map(|s| (s.level, s.kind.as_str(), s.role.as_deref(), s.notified)).collect();
        assert_eq!(steps, vec![(1, "renotify", None, 3), (2, "tier", Some("on_call_nurse"), 2)]);
        let events: Vec<_> = story.notifications.iter().map(|n| (n.escalation_level, n.event)).collect();
        assert_eq!(events.iter().filter(|(_, e)| *e == NotifyEvent::Reminder).count(), 3);
        assert_eq!(events.iter().filter(|(level, _)| *level == 2).count(), 2, "the nurse by email and SMS");
        let open = send(session.get("notifications").query(&[("state", "unacknowledged")])).await;
        assert_eq!(open.body["notifications"].as_array().map(Vec::len), Some(0));
        // The nurse's SMS (no SMS transport here) was still waiting: the
        // answer cancelled it, and nothing more reached the mail server.
        let cancelled = send(session.get("notifications").query(&[("state", "cancelled"), ("ticket_id", &ticket.to_string())])).await;
        let cancelled = cancelled.body["notifications"].as_array().expect("rows").clone();
        assert_eq!(cancelled.iter().map(|n| (n["channel"].as_str(), n["escalation_level"].as_i64())).collect::<Vec<_>>(), vec![(Some("sms"), Some(2))], "{cancelled:?}");
        assert_eq!(mail.mails().len(), 7, "no message after the answer");
        let entries = crate::support::audit_entries(&app).await;
        assert_eq!(entries.iter().filter(|e| e.action == Action::Escalate).count(), 2);
        let staff = eventually("four acknowledge entries", || async {
            let entries = crate::support::audit_entries(&app).await;
            let staff: Vec<_> = entries.into_iter().filter(|e| e.action == Action::Acknowledge).collect();
            (staff.len() == 4).then_some(staff)
        })
        .await;
        // Refusals are recorded as they end, so their order may vary.
        let mut outcomes: Vec<_> = staff.iter().map(|e| e.outcome.as_str()).collect();
        outcomes.sort();
        assert_eq!(outcomes, vec!["invalid", "invalid", "not_found", "success"]);
        assert!(staff.iter().any(|e| e.outcome == Outcome::Success && e.employee_id == employee.as_i64()));
    }

    async fn a_resolution_stops_the_escalation_and_two_instances_escalate_once() {
        let mail = MailCatcher::start().await;
        let clock = ManualClock::new();
        let first = app(Some(&mail), None, Some(Arc::clone(&clock))).await;
        let second = first
            .another_instance(TestOptions {
                notifications: transports(Some(&mail), None),
                public_url: Some(PUBLIC_URL.to_owned()),
                clock: Arc::clone(&clock) as _,
                ..TestOptions::default()
            })
            .await;
        let session = first.example().await;
        let resolved = raise(&session, "Exception", true, false).await;
        let open = raise(&session, "High", true, false).await;
        mails(&mail, 6).await;
        let update = send(session.post("update_status").form(&[("id", resolved.to_string().as_str()), ("status", "Resolved")])).await;
        assert_eq!(update.status, StatusCode::OK, "{:?}", update.body);
        mails(&mail, 8).await; // family and physician hear of the resolution

        // Both instances look every 50 ms; the deadline passes for both.
        clock.advance(Duration::minutes(2) + Duration::seconds(1));
        mails(&mail, 11).await;
        let stories = second.api.notification_report(second.admin.within(Action::NotificationReport, DEMO_PROVIDER_ID).await, chrono::DateTime::<chrono::Utc>::MIN_UTC, clock_now(&clock)).await.expect("report");
        let of = |ticket: i64| stories.iter().find(|s| s.ticket_id.get() == ticket).expect("story");
        assert_eq!(of(resolved).escalation.as_ref().map(|e| e.state), Some(EscalationState::Stopped));
        assert!(of(resolved).steps.is_empty());
        assert_eq!(of(open).steps.len(), 1, "one reminder level, taken by one instance");
        let reminders = queue(&first).await.into_iter().filter(|n| n.event == NotifyEvent::Reminder).count();
        assert_eq!(reminders, 3);
        // The resolution's own notifications asked nobody to answer.
        let resolution: Vec<_> = queue(&first).await.into_iter().filter(|n| n.ticket_id.get() == resolved && n.event == NotifyEvent::StatusChanged).collect();
        assert_eq!(resolution.len(), 2);
        assert!(resolution.iter().all(|n| !n.ack_required));
    }

    async fn a_signed_sms_reply_acknowledges_the_oldest_open_notification() {
        let sms = SmsReceiver::start().await;
        let app = app(None, Some(&sms), None).await;
        let session = app.example().await;
        let older = raise(&session, "Exception", false, true).await;
        let newer = raise(&session, "High", false, true).await;
        eventually("six delivered SMS", || async {
            let all = queue(&app).await;
            (all.len() == 6 && all.iter().all(|n| n.state == connecticket_domain::notify::DeliveryState::Delivered)).then_some(())
        })
        .await;
        let physician = queue(&app).await.into_iter().find(|n| n.role.as_str() == "primary_physician").expect("physician").address;
        let texts = sms.received();
        let to_physician = texts.iter().find(|t| t.to == physician).expect("a text");
        assert!(to_physician.body.contains("Reply OK to confirm you read this, or open https://care.example.org/ack/"), "{}", to_physician.body);

        let url = format!("{PUBLIC_URL}/sms/inbound");
        let signer = connecticket_notify::TwilioSignature::new("secret");
        let reply = |body: &str| vec![("From".to_owned(), physician.clone()), ("Body".to_owned(), body.to_owned()), ("To".to_owned(), "+15555550199".to_owned())];
        let post = |params: Vec<(String, String)>, signature: Option<String>| {
            let mut request = app.http.post(app.url("/sms/inbound")).form(&params);
            if let Some(signature) = signature {
                request = request.header("X-Twilio-Signature", signature);
            }
            async move { request.send().await.expect("POST") }
        };
        // Unsigned and wrongly signed replies are refused and change nothing.
        assert_eq!(post(reply("OK"), None).await.status(), StatusCode::UNAUTHORIZED);
        let forged = connecticket_notify::TwilioSignature::new("guess").sign(&url, &reply("OK"));
        assert_eq!(post(reply("OK"), Some(forged)).await.status(), StatusCode::UNAUTHORIZED);
        assert!(queue(&app).await.iter().all(|n| n.acknowledgment.is_none()));

        let unclear = post(reply("maybe"), Some(signer.sign(&url, &reply("maybe")))).await;
        assert_eq!(unclear.status(), StatusCode::OK);
        let unclear = unclear.text().await.expect("xml");
        assert!(unclear.contains("Example Provider: to confirm an update, reply OK. For anything else, please call +15555550100."), "{unclear}");

        let answer = post(reply(" yes "), Some(signer.sign(&url, &reply(" yes ")))).await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert!(answer.headers()["content-type"].to_str().expect("type").starts_with("text/xml"));
        let xml = answer.text().await.expect("xml");
        assert!(xml.starts_with("<?xml") && xml.contains("<Response><Message>Thank you. You confirmed the update about "), "{xml}");
        assert!(xml.contains("from Example Provider sent "), "{xml}");
        assert!(xml.contains("One more update waits for your answer: reply OK again to confirm it."), "{xml}");
        let acknowledged: Vec<_> = queue(&app).await.into_iter().filter(|n| n.acknowledgment.is_some()).collect();
        assert_eq!(acknowledged.len(), 1);
        assert_eq!(acknowledged[0].ticket_id.get(), older, "the oldest open one");
        assert_eq!(acknowledged[0].acknowledgment.as_ref().map(|a| a.via), Some(AckVia::Sms));

        // The next reply answers the newer ticket; then nothing is open.
        post(reply("1"), Some(signer.sign(&url, &reply("1")))).await;
        let newer_acked = queue(&app).await.into_iter().any(|n| n.ticket_id.get() == newer && n.acknowledgment.is_some());
        assert!(newer_acked);
        let none = post(reply("ok"), Some(signer.sign(&url, &reply("ok")))).await;
        assert!(none.text().await.expect("xml").contains("No update is waiting"));

        let entries = crate::support::audit_entries(&app).await;
        let outcomes: Vec<_> = entries.iter().filter(|e| e.action == Action::SmsReply).map(|e| e.outcome).collect();
        // The unsigned and forged replies, and the one that found nothing
        // open, named nobody: counted, one entry for each kind.
        assert_eq!(outcomes, vec![Outcome::Invalid, Outcome::Success, Outcome::Success, Outcome::Denied, Outcome::NotFound]);
        let denied = entries.iter().find(|e| e.action == Action::SmsReply && e.outcome == Outcome::Denied).expect("denied");
        assert!(denied.records.iter().any(|r| r == "refusals:2"), "{denied:?}");
    }

    /// The words people send, table-driven from the gateway's side: each
    /// acknowledging word answers one update (and says how many still
    /// wait); every carrier opt-out word withdraws the number's SMS
    /// consent (audited, and nothing more is texted to it); START gives it
    /// back; anything else is told whom to call.
    async fn sms_reply_words_are_read_as_people_write_them() {
        let sms = SmsReceiver::start().await;
        let app = app(None, Some(&sms), None).await;
        let session = app.example().await;
        let words = ["ok", "OK.", "Yes!", "received", "\u{1F44D}", "1"];
        for _ in words {
            raise(&session, "Exception", false, true).await;
        }
        let physician = eventually("every SMS delivered", || async {
            let all = queue(&app).await;
            (all.len() == 3 * words.len() && all.iter().all(|n| n.state == connecticket_domain::notify::DeliveryState::Delivered))
                .then(|| all.into_iter().find(|n| n.role.as_str() == "primary_physician").map(|n| n.address))
                .flatten()
        })
        .await;
        let url = format!("{PUBLIC_URL}/sms/inbound");
        let signer = connecticket_notify::TwilioSignature::new("secret");
        let reply = |body: &str| {
            let params = vec![("From".to_owned(), physician.clone()), ("Body".to_owned(), body.to_owned()), ("To".to_owned(), "+15555550199".to_owned())];
            let signature = signer.sign(&url, &params);
            let request = app.http.post(app.url("/sms/inbound")).header("X-Twilio-Signature", signature).form(&params);
            let body = body.to_owned();
            async move {
                let answer = request.send().await.expect("POST");
                let status = answer.status();
                let text = answer.text().await.expect("xml");
                assert_eq!(status, StatusCode::OK, "{body:?}: {text}");
                text
            }
        };
        let answered = || async { queue(&app).await.into_iter().filter(|n| n.address == physician && n.acknowledgment.is_some()).count() };
        for (n, word) in words.iter().enumerate() {
            let xml = reply(word).await;
            assert!(xml.contains("Thank you. You confirmed the update about "), "{word:?}: {xml}");
            let left = words.len() - n - 1;
            let said = match left {
                0 => !xml.contains("wait"),
                1 => xml.contains("One more update waits"),
                more => xml.contains(&format!("{more} more updates wait")),
            };
            assert!(said, "{word:?} with {left} left: {xml}");
            assert_eq!(answered().await, n + 1, "{word:?} answered one");
        }

        let consent = || async {
            app.api
                .list_contacts(app.admin.within(Action::ResidentContacts, DEMO_PROVIDER_ID).await, None)
                .await
                .expect("contacts")
                .into_iter()
                .find(|c| c.phone.as_deref() == Some(physician.as_str()))
                .map(|c| (c.id, c.sms_consent))
                .expect("the physician")
        };
        let (contact, given) = consent().await;
        assert!(given);
        for stop in ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT"] {
            let xml = reply(stop).await;
            assert!(xml.contains("Example Provider: you will get no more texts from us. Reply START to get them again."), "{stop}: {xml}");
            assert_eq!(consent().await, (contact, false), "{stop}");
        }
        // Withdrawn: a new ticket texts everyone else, not this number.
        let before = sms.received().len();
        raise(&session, "Exception", false, true).await;
        eventually("two more SMS", || async { (sms.received().len() == before + 2).then_some(()) }).await;
        assert!(sms.received()[before..].iter().all(|t| t.to != physician), "texted after STOP");

        let xml = reply("START").await;
        assert!(xml.contains("Example Provider: texts are on again. Reply STOP to stop them."), "{xml}");
        assert_eq!(consent().await, (contact, true));
        let xml = reply("Is she all right?").await;
        assert!(xml.contains("Example Provider: to confirm an update, reply OK. For anything else, please call +15555550100."), "{xml}");

        // Every consent change is on the record, naming the contact.
        let entries = crate::support::audit_entries(&app).await;
        let changes: Vec<_> = entries
            .iter()
            .filter(|e| e.action == Action::SmsReply && e.outcome == Outcome::Success)
            .filter_map(|e| e.records.iter().find(|r| r.starts_with("sms_consent:")).map(|r| (r.clone(), e.records.contains(&format!("contact:{contact}")), e.provider_id)))
            .collect();
        let mut expected = vec![("sms_consent:withdrawn".to_owned(), true, Some(DEMO_PROVIDER_ID.get())); 6];
        expected.push(("sms_consent:given".to_owned(), true, Some(DEMO_PROVIDER_ID.get())));
        assert_eq!(changes, expected);
    }

    /// With a five-second deadline on the real clock: reminders are queued
    /// (the SMS ones held by a failing gateway), the family answers by SMS,
    /// and from then on nothing about the ticket reaches the mail server
    /// or the gateway, even once the gateway recovers and the next tier
    /// falls due; the SMS reminders still waiting are listed as cancelled
    /// with the reason.
    async fn after_an_answer_nothing_more_about_the_event_goes_out() {
        let mail = MailCatcher::start().await;
        let sms = SmsReceiver::start().await;
        // A failed SMS is tried again only after 10 s, as in production.
        let mut notifications = transports(Some(&mail), Some(&sms));
        notifications.dispatcher.backoff_base = Duration::seconds(10);
        notifications.dispatcher.backoff_cap = Duration::seconds(30);
        let app = TestApp::spawn(TestOptions {
            notifications,
            public_url: Some(PUBLIC_URL.to_owned()),
            ..TestOptions::default()
        })
        .await;
        let rule = connecticket_domain::service::EscalationInput {
            urgency: "Exception".to_owned(),
            ack_within: Some("5s".to_owned()),
            renotify_after: Some("8s".to_owned()),
            then: vec!["on_call_nurse".to_owned()],
        };
        app.api.set_escalation(app.admin.within(Action::ManageEscalation, DEMO_PROVIDER_ID).await, rule).await.expect("rule");
        let session = app.example().await;
        let ticket = raise(&session, "Exception", true, true).await;
        eventually("the first six messages", || async { (mail.mails().len() + sms.received().len() >= 6).then_some(()) }).await;
        // The gateway fails from now on: the SMS reminders will wait.
        sms.fail_next(1_000);
        let reminders = eventually("six reminders queued", || async {
            let reminders: Vec<_> = queue(&app).await.into_iter().filter(|n| n.ticket_id.get() == ticket && n.event == NotifyEvent::Reminder).collect();
            let sms_waiting = reminders.iter().filter(|n| n.channel == connecticket_domain::notify::Channel::Sms && n.attempts >= 1 && n.state == connecticket_domain::notify::DeliveryState::Pending).count();
            let mailed = reminders.iter().filter(|n| n.channel == connecticket_domain::notify::Channel::Email && n.state == connecticket_domain::notify::DeliveryState::Delivered).count();
            (reminders.len() == 6 && sms_waiting == 3 && mailed == 3 && mail.mails().len() >= 6).then_some(reminders)
        })
        .await;
        assert_eq!(reminders.len(), 6);
        let family = queue(&app).await.into_iter().find(|n| n.role.as_str() == "family" && n.channel == connecticket_domain::notify::Channel::Sms).expect("family").address;

        let url = format!("{PUBLIC_URL}/sms/inbound");
        let params = vec![("From".to_owned(), family.clone()), ("Body".to_owned(), "OK".to_owned()), ("To".to_owned(), "+15555550199".to_owned())];
        let signature = connecticket_notify::TwilioSignature::new("secret").sign(&url, &params);
        let answer = app.http.post(app.url("/sms/inbound")).header("X-Twilio-Signature", signature).form(&params).send().await.expect("POST");
        assert_eq!(answer.status(), StatusCode::OK);
        let (mails_at_answer, texts_at_answer) = (mail.mails().len(), sms.received().len());

        // The gateway recovers; the next tier would have been due 8 s after
        // the reminders, and a failed SMS retries after 10 s.
        sms.fail_next(0);
        tokio::time::sleep(std::time::Duration::from_secs(14)).await;
        assert_eq!(mail.mails().len(), mails_at_answer, "no email after the answer");
        assert_eq!(sms.received().len(), texts_at_answer, "no SMS after the answer");
        let cancelled = send(session.get("notifications").query(&[("state", "cancelled"), ("ticket_id", &ticket.to_string())])).await;
        let cancelled = cancelled.body["notifications"].as_array().expect("rows").clone();
        let states: Vec<_> = queue(&app).await.into_iter().filter(|n| n.ticket_id.get() == ticket).map(|n| (n.event, n.channel, n.state, n.attempts, n.last_error)).collect();
        assert_eq!(cancelled.len(), 3, "the three SMS reminders that waited: {cancelled:?} {states:#?}");
        for row in &cancelled {
            assert_eq!(row["channel"], "sms");
            assert_eq!(row["event"], "reminder");
            assert_eq!(row["reason"], "cancelled: someone acknowledged", "{row}");
        }
    }

    /// One reply acknowledges one notification, however often the gateway
    /// (or anyone replaying its signed request) sends it again.
    async fn a_replayed_sms_reply_acknowledges_once() {
        let sms = SmsReceiver::start().await;
        let app = app(None, Some(&sms), None).await;
        let session = app.example().await;
        let older = raise(&session, "Exception", false, true).await;
        let newer = raise(&session, "Exception", false, true).await;
        eventually("six delivered SMS", || async {
            let all = queue(&app).await;
            (all.len() == 6 && all.iter().all(|n| n.state == connecticket_domain::notify::DeliveryState::Delivered)).then_some(())
        })
        .await;
        let physician = queue(&app).await.into_iter().find(|n| n.role.as_str() == "primary_physician").expect("physician").address;
        let url = format!("{PUBLIC_URL}/sms/inbound");
        let signer = connecticket_notify::TwilioSignature::new("secret");
        let params = vec![
            ("MessageSid".to_owned(), "SM0000000000000000000000000000reply".to_owned()),
            ("From".to_owned(), physician.clone()),
            ("Body".to_owned(), "OK".to_owned()),
            ("To".to_owned(), "+15555550199".to_owned()),
        ];
        let signature = signer.sign(&url, &params);
        let mut answers = Vec::new();
        for _ in 0..3 {
            let answer = app.http.post(app.url("/sms/inbound")).header("X-Twilio-Signature", &signature).form(&params).send().await.expect("POST");
            assert_eq!(answer.status(), StatusCode::OK);
            answers.push(answer.text().await.expect("xml"));
        }
        assert!(answers[0].contains("You confirmed the update"), "{}", answers[0]);
        for repeated in &answers[1..] {
            assert!(repeated.contains("<Response></Response>"), "a repeat sends nothing back: {repeated}");
        }
        let acknowledged: Vec<i64> = queue(&app).await.into_iter().filter(|n| n.acknowledgment.is_some()).map(|n| n.ticket_id.get()).collect();
        assert_eq!(acknowledged, vec![older], "only the oldest, once");
        assert!(!acknowledged.contains(&newer));
        let entries = crate::support::audit_entries(&app).await;
        let outcomes: Vec<_> = entries.iter().filter(|e| e.action == Action::SmsReply).map(|e| e.outcome).collect();
        assert_eq!(outcomes, vec![Outcome::Success, Outcome::Replayed, Outcome::Replayed]);
    }
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<chrono::Utc> {
    connecticket_domain::clock::Clock::now(clock)
}

/// The escalator looks every second on every instance; a look that finds
/// nothing due must not take SQLite's one write lock (nor rewrite the
/// audit chain's anchor). With the lock held by someone else, it still
/// answers at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idle_escalation_look_writes_nothing() {
    crate::support::Backend::Sqlite
        .run(async {
            let app = TestApp::spawn(TestOptions::default()).await;
            let lock =
                crate::support::hold_write_lock(&app.database_url, crate::support::Backend::Sqlite)
                    .await;
            let entry = connecticket_domain::audit::AuditEntry::new(
                &connecticket_domain::audit::RequestContext::escalator(),
                Action::Escalate,
                Outcome::Success,
                chrono::Utc::now(),
            );
            let look = app.store.escalate_due(chrono::Utc::now(), 10, entry);
            let steps = tokio::time::timeout(std::time::Duration::from_secs(5), look)
                .await
                .expect("an idle look waited for the write lock")
                .expect("the look");
            assert!(steps.is_empty());
            lock.release().await;
        })
        .await;
}
