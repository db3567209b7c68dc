//! Board displays, phone numbers and who is told, over HTTP on both
//! backends: a wall
//! screen paired with a link an administrator grants shows the board
//! read-only past any idle limit, until it is revoked (audited at every
//! step); numbers are read as people write them, in the provider's
//! country, and the numbers to call reach the acknowledgment page; the
//! new-ticket form says who will be told before anything is raised.

use std::sync::Arc;

use chrono::Duration;
use connecticket_domain::audit::{Action, Outcome};
use connecticket_domain::clock::ManualClock;
use connecticket_domain::demo::{DEMO_EMPLOYEE_ID, DEMO_PROVIDER_ID, DEMO_RESIDENT_IDS};
use reqwest::StatusCode;

use crate::support::{audit_entries, cookie_value, send, Console, TestApp, TestOptions};

const ADMIN: &str = "sample@example.org";
const NURSE: &str = "nurse@example.org";

/// The value shown after `label` on a "shown once" page.
fn shown(body: &str, label: &str) -> String {
    let marker = format!("<dt>{label}</dt><dd><span class=\"secret\">");
    let start = body.find(&marker).expect(label) + marker.len();
    let end = body[start..].find('<').expect("end") + start;
    body[start..end].to_owned()
}

/// How many tickets the API lists for the demo provider.
async fn ticket_count(app: &TestApp) -> usize {
    let listed = send(app.example().await.get("tickets")).await;
    listed.body["ticket"].as_array().map_or(0, Vec::len)
}

fn has(records: &[String], record: &str) -> bool {
    records.iter().any(|r| r == record)
}

backend_tests! {
    /// Granted in the console with a link shown once, paired by the screen
    /// (the GET spends nothing), shown read-only past the people's idle
    /// limit, revoked after a confirmation; every step audited.
    async fn a_wall_display_stays_up_until_revoked() {
        let clock = ManualClock::new();
        let app = TestApp::spawn(TestOptions { clock: Arc::clone(&clock) as _, ..TestOptions::default() }).await;
        let resident = DEMO_RESIDENT_IDS[0].to_string();
        let ticket = app.example().await.create_ticket(&[("title", "Fell in the corridor"), ("resident_id", &resident), ("urgency_status", "High")]).await;
        let admin = Console::demo(&app, ADMIN).await;

        let nurse = Console::demo(&app, NURSE).await;
        let refused = nurse.get("/console/admin/displays").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "staff grant no displays");

        let blank = admin.submit("/console/admin/displays", "/console/admin/displays", &[("name", "  ")]).await;
        assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
        let answer = admin.submit("/console/admin/displays", "/console/admin/displays", &[("name", "Nurses' station, 2nd floor")]).await;
        assert_eq!(answer.location(), Some("/console/shown-once"));
        let granted = admin.follow(&answer).await;
        assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
        assert!(granted.body.contains("<svg role=\"img\" aria-label=\"QR code of the link\""), "a QR code for a tablet's camera");
        let link = shown(&granted.body, "Pairing link");
        let pairing = &link[link.find("/console/display/pair/").expect("a pairing path")..];
        let listed = admin.get("/console/admin/displays").await;
        assert!(listed.body.contains("Waiting to be paired"), "{}", listed.body);

        // The screen: looking at the link spends nothing; pairing does.
        let mut screen = Console::of(&app);
        for _ in 0..2 {
            let offer = screen.get(pairing).await;
            assert_eq!(offer.status, StatusCode::OK, "{}", offer.body);
            assert!(offer.body.contains("Nurses&#39; station, 2nd floor") || offer.body.contains("Nurses&#x27; station, 2nd floor"), "{}", offer.body);
        }
        let paired = screen.post(pairing, &[]).await;
        assert_eq!(paired.status, StatusCode::SEE_OTHER, "{}", paired.body);
        assert_eq!(paired.location(), Some("/console/display"));
        let cookie = paired.set_cookie("ct_display").expect("a device cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Max-Age=34560000"), "{cookie}");
        let again = Console::of(&app).post(pairing, &[]).await;
        assert_eq!(again.status, StatusCode::FORBIDDEN, "a link pairs one screen");
        assert!(again.body.contains("This pairing link does not work"), "{}", again.body);
        screen.display = Some(cookie_value(&cookie));
        // The used link opened again on the paired screen leaves it paired.
        let stale = screen.get(pairing).await;
        assert_eq!(stale.status, StatusCode::FORBIDDEN);
        assert!(stale.set_cookie("ct_display").is_none(), "a stale link unpaired the screen");

        // What it shows: the board, full names, nothing to click into.
        let board = screen.get("/console/display").await;
        assert_eq!(board.status, StatusCode::OK, "{}", board.body);
        assert!(board.body.contains("Fell in the corridor"));
        assert!(board.body.contains("hx-trigger=\"every 30s\""), "it refreshes itself");
        assert!(!board.body.contains("href=\"/console/tickets/"), "read-only: no way into a record");
        assert!(!board.body.contains("sign-out"), "no person is signed in");

        // Past the people's idle limit: the nurse is signed out, the
        // screen is not.
        clock.advance(Duration::minutes(16));
        assert_eq!(nurse.get("/console").await.status, StatusCode::SEE_OTHER);
        let later = screen.get("/console/display").await;
        assert_eq!(later.status, StatusCode::OK, "{}", later.body);
        assert!(later.body.contains("Fell in the corridor"));

        // Revoking asks first, then stops the screen at its next refresh.
        let admin = Console::demo(&app, ADMIN).await;
        let listed = admin.get("/console/admin/displays").await;
        assert!(listed.body.contains("Paired"), "{}", listed.body);
        let id = audit_entries(&app).await.into_iter()
            .find(|e| e.action == Action::ManageDisplays && has(&e.records, "granted"))
            .and_then(|e| e.records.iter().find_map(|r| r.strip_prefix("display:").map(str::to_owned)))
            .expect("the grant names its display");
        let revoke = format!("/console/admin/displays/{id}/revoke");
        let asked = admin.submit("/console/admin/displays", &revoke, &[]).await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(asked.body.contains("Revoke the display “Nurses&#39; station, 2nd floor”?") || asked.body.contains("Revoke the display “Nurses&#x27; station, 2nd floor”?"), "{}", asked.body);
        assert_eq!(screen.get("/console/display").await.status, StatusCode::OK, "asking revoked nothing");
        let done = admin.submit("/console/admin/displays", &revoke, &[("confirmed", "yes")]).await;
        assert_eq!(done.location(), Some("/console/admin/displays?done=display-revoked"));
        let stopped = screen.get("/console/display").await;
        assert_eq!(stopped.status, StatusCode::FORBIDDEN);
        assert!(stopped.body.contains("This screen is not a board display"), "{}", stopped.body);
        assert!(!stopped.body.contains("Fell in the corridor"));
        assert!(stopped.set_cookie("ct_display").is_some_and(|c| c.contains("Max-Age=0")));
        assert_eq!(Console::of(&app).get("/console/display").await.status, StatusCode::FORBIDDEN);
        // The screen's own refresh is told to reload, not to keep the
        // board it last showed.
        let polled = screen.get_with("/console/display", &[("hx-request", "true")]).await;
        assert_eq!(polled.header("hx-refresh"), Some("true"), "{} {:?}", polled.status, polled.headers);

        // The trail: who granted and revoked it, the pairing, each view
        // (with the records it showed), the refusal after revoking.
        let entries = audit_entries(&app).await;
        let of = |action: Action, record: &str| entries.iter().filter(|e| e.action == action && has(&e.records, record)).collect::<Vec<_>>();
        let grant = of(Action::ManageDisplays, "granted");
        assert_eq!(grant.len(), 1);
        assert_eq!(grant[0].employee_id, Some(DEMO_EMPLOYEE_ID.get()));
        let revoked = of(Action::ManageDisplays, "revoked");
        assert_eq!(revoked.len(), 1);
        assert_eq!((revoked[0].employee_id, revoked[0].outcome), (Some(DEMO_EMPLOYEE_ID.get()), Outcome::Success));
        let display = format!("display:{id}");
        assert_eq!(of(Action::BoardDisplay, "paired").len(), 1);
        let views = of(Action::BoardDisplay, &format!("ticket:{ticket}"));
        assert_eq!(views.len(), 3, "each of the three views names the ticket");
        assert!(views.iter().all(|e| has(&e.records, &display) && e.provider_id == Some(DEMO_PROVIDER_ID.get()) && e.employee_id.is_none()));
        assert!(entries.iter().any(|e| e.action == Action::BoardDisplay && e.outcome == Outcome::Denied && has(&e.records, &display)), "the refused view after revoking");
    }

    /// "(555) 555-0199" is a number; so is "020 7946 0958" once the
    /// provider's country is GB (a change audited); both are stored in
    /// E.164, and nonsense is refused beside its field with what was typed.
    async fn phone_numbers_are_read_as_people_write_them() {
        let app = TestApp::demo().await;
        let admin = Console::demo(&app, ADMIN).await;
        let resident = DEMO_RESIDENT_IDS[1];
        let page = format!("/console/residents/{resident}");
        let contacts = || async {
            app.api.list_contacts(app.admin.within(Action::ResidentContacts, DEMO_PROVIDER_ID).await, Some(resident)).await.expect("contacts")
        };
        let added = admin.submit(&page, &format!("{page}/contacts"), &[("form", "add-contact"), ("name", "Ann Olsen"), ("role", "family"), ("phone", "(555) 555-0199"), ("sms_consent", "1")]).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        let ann = contacts().await.into_iter().find(|c| c.name == "Ann Olsen").expect("added");
        assert_eq!(ann.phone.as_deref(), Some("+15555550199"));

        let refused = admin.submit(&page, &format!("{page}/contacts"), &[("form", "add-contact"), ("name", "Bo Olsen"), ("role", "family"), ("phone", "call the desk"), ("sms_consent", "1")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("value=\"call the desk\""), "what was typed is kept");
        assert!(refused.body.contains("(without a country code, it is read as a number in US)"), "{}", refused.body);

        let moved = admin.submit("/console/admin/templates", "/console/admin/phone-country", &[("form", "country"), ("country", "gb")]).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
        let bad = admin.submit("/console/admin/templates", "/console/admin/phone-country", &[("form", "country"), ("country", "Narnia")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let entries = audit_entries(&app).await;
        let change = entries.iter().find(|e| e.action == Action::ManageProviders && has(&e.records, "country:GB")).expect("the change is audited");
        assert_eq!(change.employee_id, Some(DEMO_EMPLOYEE_ID.get()));
        let added = admin.submit(&page, &format!("{page}/contacts"), &[("name", "Cy Olsen"), ("role", "family"), ("phone", "020 7946 0958"), ("sms_consent", "1")]).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        let cy = contacts().await.into_iter().find(|c| c.name == "Cy Olsen").expect("added");
        assert_eq!(cy.phone.as_deref(), Some("+442079460958"));
        let templates = admin.get("/console/admin/templates").await;
        assert!(templates.body.contains("value=\"GB\""), "the page shows the country now in force");
    }

    /// The callback and after-hours numbers are set in the console, shown
    /// in the template preview; without a callback number the templates
    /// page and the board warn.
    async fn the_numbers_to_call_reach_families() {
        let app = TestApp::demo().await;
        let admin = Console::demo(&app, ADMIN).await;
        let cleared = admin.submit("/console/admin/templates", "/console/admin/notify-rules", &[("created", "family"), ("status_change", "family"), ("quiet_hours", "21:00-08:00"), ("callback_phone", ""), ("after_hours_phone", "")]).await;
        assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.body);
        let warned = admin.get("/console/admin/templates").await;
        assert!(warned.body.contains("No number to call is set."), "{}", warned.body);
        let nurse = Console::demo(&app, NURSE).await;
        let board = nurse.get("/console").await;
        assert!(board.body.contains("Families are given no number to call.") && board.body.contains("Ask an administrator to set one."), "{}", board.body);
        let saved = admin.submit("/console/admin/templates", "/console/admin/notify-rules", &[("created", "family"), ("status_change", "family"), ("quiet_hours", "21:00-08:00"), ("callback_phone", "(555) 555-0100"), ("after_hours_phone", "555.555.0111")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let page = admin.get("/console/admin/templates").await;
        assert!(!page.body.contains("No number to call is set."));
        assert!(!nurse.get("/console").await.body.contains("Families are given no number to call."));
        assert!(page.body.contains("value=\"+15555550100\"") && page.body.contains("value=\"+15555550111\""), "{}", page.body);
        assert!(page.body.contains("at +15555550100 (after hours: +15555550111)"), "the preview carries both: {}", page.body);
        let policy = app.api.notify_policy(app.admin.within(Action::ProviderSettings, DEMO_PROVIDER_ID).await).await.expect("policy");
        assert_eq!(policy.after_hours_phone.as_deref(), Some("+15555550111"));
    }

    /// The new-ticket form starts from the policy for the urgency (High
    /// tells everyone), names the people in words, raises nothing until
    /// the summary shown is the one for what is sent, and asks before an
    /// urgent ticket tells nobody (the choice is on the record).
    async fn the_new_ticket_form_says_who_will_be_told() {
        let app = TestApp::demo().await;
        let nurse = Console::demo(&app, NURSE).await;
        let resident = DEMO_RESIDENT_IDS[0].to_string();
        let high = nurse.get(&format!("/console/tickets/new?resident_id={resident}&urgency_status=4")).await;
        assert_eq!(high.status, StatusCode::OK);
        for ticked in ["name=\"email\" value=\"1\" checked", "name=\"sms\" value=\"1\" checked", "name=\"sent_to_family\" value=\"1\" checked"] {
            assert!(high.body.contains(ticked), "High starts ticked: {ticked}");
        }
        let family = format!("<strong>Family of resident {resident}</strong> (family) by SMS and email");
        assert!(high.body.contains(&family), "{}", high.body);
        assert!(high.body.contains("(primary physician) by SMS and email"));
        assert!(high.body.contains("If nobody answers within 2 minutes, it escalates to the on call nurse."), "{}", high.body);
        // Each urgency: No Issue, Low and Normal tell nobody unasked; High
        // and Exception tell the resident's three contacts.
        for (urgency, everyone) in [(1, false), (2, false), (3, false), (4, true), (5, true)] {
            let page = nurse.get(&format!("/console/tickets/new?resident_id={resident}&urgency_status={urgency}")).await;
            let named = ["(family) by", "(primary physician) by", "(healthcare professional) by"].iter().filter(|who| page.body.contains(*who)).count();
            assert_eq!((named, page.body.contains("Nobody will be told.")), (if everyone { 3 } else { 0 }, !everyone), "urgency {urgency}");
        }
        // A choice: the physician by email only.
        let chosen = nurse.get(&format!("/console/tickets/new?resident_id={resident}&urgency_status=3&choices=1&sent_to_primary=1&email=1")).await;
        assert!(chosen.body.contains("(primary physician) by email</li>") && !chosen.body.contains("(family) by"), "{}", chosen.body);

        let before = ticket_count(&app).await;
        let mut fields = vec![("title", "Found on the floor"), ("resident_id", resident.as_str()), ("urgency_status", "4")];
        // Sent without the summary it was shown: nothing is raised, the
        // form comes back with the summary for what was sent.
        let unseen = nurse.submit("/console/tickets/new", "/console/tickets/new", &fields).await;
        assert_eq!(unseen.status, StatusCode::OK);
        assert!(unseen.body.contains("Nothing was raised yet"), "{}", unseen.body);
        assert!(unseen.body.contains("Nobody will be told."), "every box unticked");
        assert!(unseen.body.contains("Yes, tell nobody about this High ticket"));
        let told = format!("{resident}-4-00000");
        fields.push(("told", told.as_str()));
        let unconfirmed = nurse.submit("/console/tickets/new", "/console/tickets/new", &fields).await;
        assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unconfirmed.body.contains("This High ticket tells nobody"), "{}", unconfirmed.body);
        assert!(unconfirmed.body.contains("aria-invalid=\"true\""), "the error sits by the box");
        assert_eq!(ticket_count(&app).await, before, "nothing raised yet");
        fields.push(("confirm_nobody", "1"));
        let raised = nurse.submit("/console/tickets/new", "/console/tickets/new", &fields).await;
        assert_eq!(raised.status, StatusCode::SEE_OTHER, "{}", raised.body);
        let entry = audit_entries(&app).await.into_iter().rev()
            .find(|e| e.action == Action::CreateTicket && e.outcome == Outcome::Success)
            .expect("the ticket's entry");
        assert!(has(&entry.records, "notify:nobody"), "{entry:?}");
    }

    /// The status form says whom the change tells (the policy: family and
    /// physician, on the ways the ticket's creation used) and lets the
    /// person narrow it; what is saved tells exactly that.
    async fn the_status_form_says_whom_the_change_tells() {
        let app = TestApp::demo().await;
        let resident = DEMO_RESIDENT_IDS[0].to_string();
        let ticket = app.example().await.create_ticket(&[("title", "Fell"), ("resident_id", &resident), ("urgency_status", "High"), ("email", "1")]).await;
        let nurse = Console::demo(&app, NURSE).await;
        let page = format!("/console/tickets/{ticket}");
        let shown = nurse.get(&page).await;
        assert!(shown.body.contains("Whom this change tells"), "{}", shown.body);
        for (name, ticked) in [("sent_to_family", true), ("sent_to_primary", true), ("sent_to_healthcare_pro", false), ("email", true), ("sms", false)] {
            let marker = format!("name=\"{name}\" value=\"1\" checked");
            assert_eq!(shown.body.contains(&marker), ticked, "{name}");
        }
        assert!(shown.body.contains("(family) by email</li>") && shown.body.contains("(primary physician) by email</li>"), "{}", shown.body);
        // Narrowed: family only.
        let narrowed = nurse.get(&format!("{page}?choices=1&sent_to_family=1&email=1")).await;
        assert!(narrowed.body.contains("(family) by email</li>") && !narrowed.body.contains("(primary physician) by"), "{}", narrowed.body);
        let saved = nurse.submit(&page, &format!("{page}/status"), &[("status", "Open"), ("choices", "1"), ("sent_to_family", "1"), ("email", "1")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let told: Vec<_> = app.api.outbox(app.admin.call(Action::NotificationQueue), Default::default()).await.expect("outbox")
            .into_iter()
            .filter(|n| n.ticket_id.get() == ticket && n.event == connecticket_domain::notify::NotifyEvent::StatusChanged)
            .map(|n| (n.role.as_str().to_owned(), n.channel))
            .collect();
        assert_eq!(told, vec![("family".to_owned(), connecticket_domain::notify::Channel::Email)]);
        // Every box unticked: the change tells nobody.
        let quiet = nurse.submit(&page, &format!("{page}/status"), &[("status", "In Progress"), ("choices", "1")]).await;
        assert_eq!(quiet.status, StatusCode::SEE_OTHER, "{}", quiet.body);
        let after: usize = app.api.outbox(app.admin.call(Action::NotificationQueue), Default::default()).await.expect("outbox")
            .into_iter()
            .filter(|n| n.ticket_id.get() == ticket && n.event == connecticket_domain::notify::NotifyEvent::StatusChanged)
            .count();
        assert_eq!(after, 1, "nothing more");
    }
}
