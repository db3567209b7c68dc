//! The staff console over HTTP, without a browser, on both backends:
//! sessions (cookie attributes, idle and absolute logoff, sign-out on
//! every instance, throttled failures, the second factor), CSRF, roles,
//! tenancy, and every console action seen through the API and the audit
//! trail.

use std::sync::Arc;

use chrono::Duration;
use connecticket_domain::audit::{Action, Outcome};
use connecticket_domain::clock::{Clock, ManualClock};
use connecticket_domain::console::totp;
use connecticket_domain::demo::{
    DEMO_EMPLOYEE_ID, DEMO_NURSE_EMPLOYEE_ID, DEMO_PROVIDER_ID, DEMO_RESIDENT_IDS,
};
use connecticket_domain::service::throttle::ThrottleSettings;
use reqwest::StatusCode;

use crate::support::{
    audit_entries, eventually, field_value, send, Console, TestApp, TestOptions, DEMO_PASSWORD,
};

const ADMIN: &str = "sample@example.org";
const NURSE: &str = "nurse@example.org";
const SUNRISE: &str = "sunrise@example.org";

fn clocked(clock: &Arc<ManualClock>) -> TestOptions {
    TestOptions {
        clock: Arc::clone(clock) as _,
        ..TestOptions::default()
    }
}

fn has(records: &[String], record: impl AsRef<str>) -> bool {
    records.iter().any(|r| r == record.as_ref())
}

/// The `/console/...` path a redirect's location names.
fn path_of(location: &str) -> &str {
    location
        .find("/console")
        .map_or(location, |at| &location[at..])
}

/// The value shown after `label` on a "shown once" page.
fn shown(body: &str, label: &str) -> String {
    let marker = format!("<dt>{label}</dt><dd><span class=\"secret\">");
    let start = body.find(&marker).expect(label) + marker.len();
    let end = body[start..].find('<').expect("end") + start;
    body[start..end].to_owned()
}

backend_tests! {
    /// Signing in sets a session cookie no script can read and no other
    /// site sends; pages carry the security headers; signing out ends the
    /// session, on every instance.
    async fn sign_in_and_out() {
        let app = TestApp::demo().await;
        let other = app.another_instance(TestOptions::default()).await;
        let anonymous = Console::of(&app);
        let page = anonymous.get("/console").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), Some("/console/sign-in"));
        let root = anonymous.get("/").await;
        assert_eq!(root.location(), Some("/console"));

        let mut wrong = Console::of(&app);
        let refused = wrong.sign_in(NURSE, "not the password", None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(refused.alert().as_deref(), Some("Wrong email, password or code"));
        assert!(wrong.session.is_none());
        let unknown = wrong.sign_in("nobody@example.org", DEMO_PASSWORD, None).await;
        assert_eq!(unknown.alert().as_deref(), Some("Wrong email, password or code"));

        let mut nurse = Console::of(&app);
        let signed_in = nurse.sign_in(NURSE, DEMO_PASSWORD, None).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
        let cookie = signed_in.set_cookie("ct_session").expect("a session cookie");
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

        let board = nurse.get("/console").await;
        assert_eq!(board.status, StatusCode::OK);
        let csp = board.header("content-security-policy").expect("CSP");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(board.header("cache-control"), Some("no-store"));
        assert!(board.body.contains("Weight gain of 2 kg this week"));

        // The same session works on another instance of the same database,
        let elsewhere = nurse.at(&other.base);
        assert_eq!(elsewhere.get("/console").await.status, StatusCode::OK);
        // and signing out on one ends it on both.
        let out = nurse.submit("/console", "/console/sign-out", &[]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert!(out.set_cookie("ct_session").expect("cleared").contains("Max-Age=0"));
        assert_eq!(nurse.get("/console").await.status, StatusCode::SEE_OTHER);
        assert_eq!(elsewhere.get("/console").await.status, StatusCode::SEE_OTHER);

        // Refusals are recorded without holding up their answers.
        let entries = eventually("both failed sign-ins audited", || async {
            let entries = audit_entries(&app).await;
            let denied = entries
                .iter()
                .filter(|e| e.action == Action::SignIn && e.outcome == Outcome::Denied)
                .count();
            (denied == 2).then_some(entries)
        })
        .await;
        let sign_ins: Vec<_> = entries.iter().filter(|e| e.action == Action::SignIn).collect();
        assert!(sign_ins.iter().any(|e| e.outcome == Outcome::Success
            && e.employee_id == Some(DEMO_NURSE_EMPLOYEE_ID.get())));
        assert!(entries.iter().any(|e| e.action == Action::SignOut
            && e.employee_id == Some(DEMO_NURSE_EMPLOYEE_ID.get())
            && has(&e.records, "reason:signed_out")));
    }

    /// 15 idle minutes end a session; the board refreshing itself does not
    /// count as activity; 12 hours end it however busy.
    async fn idle_and_absolute_logoff() {
        let clock = ManualClock::new();
        let app = TestApp::spawn(clocked(&clock)).await;
        let nurse = Console::demo(&app, NURSE).await;
        clock.advance(Duration::minutes(10));
        let refresh = [("x-console-refresh", "1")];
        assert_eq!(nurse.get_with("/console", &refresh).await.status, StatusCode::OK);
        clock.advance(Duration::minutes(6));
        let page = nurse.get("/console").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "16 minutes without a person's request");
        // Told why, and brought back to the page asked for.
        assert_eq!(page.location(), Some("/console/sign-in?reason=idle"));
        let resident_page = nurse.get(&format!("/console/residents/{}", DEMO_RESIDENT_IDS[0])).await;
        assert_eq!(resident_page.location(), Some(format!("/console/sign-in?reason=idle&next=%2Fconsole%2Fresidents%2F{}", DEMO_RESIDENT_IDS[0]).as_str()));
        let entries = audit_entries(&app).await;
        assert!(entries.iter().any(|e| e.action == Action::SignOut
            && has(&e.records, "reason:idle")));
        // The board's self-refresh, redirected to the sign-in form, tells
        // htmx to take the whole window there.
        let followed = nurse.get_with("/console/sign-in", &[("hx-request", "true")]).await;
        assert_eq!(followed.header("hx-redirect"), Some("/console/sign-in"));

        // "Stay signed in" (the warning's button) counts as activity.
        let staying = Console::demo(&app, NURSE).await;
        let csrf = staying.get("/console").await.csrf().expect("token");
        clock.advance(Duration::minutes(14));
        let kept = staying.post("/console/keep-alive", &[("csrf", &csrf)]).await;
        assert_eq!(kept.status, StatusCode::NO_CONTENT);
        assert_eq!(staying.post("/console/keep-alive", &[("csrf", "forged")]).await.status, StatusCode::FORBIDDEN);
        clock.advance(Duration::minutes(14));
        assert_eq!(staying.get("/console").await.status, StatusCode::OK, "28 minutes, but active at 14");

        let busy = Console::demo(&app, NURSE).await;
        for _ in 0..(12 * 6 - 1) {
            clock.advance(Duration::minutes(10));
            assert_eq!(busy.get("/console/residents").await.status, StatusCode::OK);
        }
        clock.advance(Duration::minutes(10));
        assert_eq!(busy.get("/console/residents").await.status, StatusCode::SEE_OTHER);
        let entries = audit_entries(&app).await;
        assert!(entries.iter().any(|e| e.action == Action::SignOut
            && has(&e.records, "reason:too_old")));
    }

    /// A form without this session's CSRF token is refused and changes
    /// nothing.
    async fn forms_need_their_csrf_token() {
        let app = TestApp::demo().await;
        let nurse = Console::demo(&app, NURSE).await;
        let admin = Console::demo(&app, ADMIN).await;
        let ticket = "/console/tickets/201";
        let before = app.example().await.detail(201).await.body;
        let missing = nurse.post("/console/tickets/201/comments", &[("comment", "forged")]).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN);
        let theirs = admin.get(ticket).await.csrf().expect("admin's token");
        let foreign = nurse
            .post("/console/tickets/201/status", &[("status", "Closed"), ("csrf", &theirs)])
            .await;
        assert_eq!(foreign.status, StatusCode::FORBIDDEN);
        assert!(foreign.alert().expect("said why").contains("reload the page"));
        let after = app.example().await.detail(201).await.body;
        assert_eq!(before["ticket_with_details"]["ticket"]["ticket_status"], after["ticket_with_details"]["ticket"]["ticket_status"]);
        assert_eq!(before["ticket_with_details"]["general_comments"], after["ticket_with_details"]["general_comments"]);
        let denied = audit_entries(&app)
            .await
            .into_iter()
            .filter(|e| e.outcome == Outcome::Denied
                && e.employee_id == Some(DEMO_NURSE_EMPLOYEE_ID.get())
                && matches!(e.action, Action::CreateComment | Action::UpdateStatus))
            .count();
        assert_eq!(denied, 2);
    }

    /// Staff work tickets but every administration page and form refuses
    /// them, whatever they send.
    async fn staff_are_refused_administration() {
        let app = TestApp::demo().await;
        let nurse = Console::demo(&app, NURSE).await;
        for path in ["/console/admin", "/console/admin/employees", "/console/admin/applications"] {
            let page = nurse.get(path).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(page.alert().as_deref(), Some("This page is for administrators"));
        }
        let applications = app.api.list_applications(app.admin.within(Action::Applications, DEMO_PROVIDER_ID).await).await.expect("apps").len();
        let csrf = nurse.get("/console").await.csrf().expect("token");
        let register = nurse
            .post("/console/admin/applications", &[("name", "sneaky"), ("csrf", &csrf)])
            .await;
        assert_eq!(register.status, StatusCode::FORBIDDEN);
        let invite = nurse
            .post(
                "/console/admin/employees",
                &[("name", "Mallory"), ("email", "m@example.org"), ("role", "administrator"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(invite.status, StatusCode::FORBIDDEN);
        assert_eq!(app.api.list_applications(app.admin.within(Action::Applications, DEMO_PROVIDER_ID).await).await.expect("apps").len(), applications);
        assert!(!nurse.get("/console").await.body.contains("/console/admin"), "no link to it either");
    }

    /// Another provider's ticket, resident and attachment answer exactly
    /// like ids that exist nowhere.
    async fn another_providers_records_are_missing() {
        let app = TestApp::demo().await;
        let example = app.example().await;
        let id = example
            .create_ticket(&[
                ("title", "Bruise on the left arm"),
                ("resident_id", &DEMO_RESIDENT_IDS[0].to_string()),
            ])
            .await;
        let form = reqwest::multipart::Form::new()
            .text("title", "With a photo")
            .text("resident_id", DEMO_RESIDENT_IDS[0].to_string())
            .part("attachment", reqwest::multipart::Part::bytes(b"%PDF-1.4".to_vec()).file_name("scan.pdf").mime_str("application/pdf").expect("mime"));
        let created = send(example.post("create_ticket").multipart(form)).await;
        let with_file = created.body["ticket_id"].as_i64().expect("id");
        let detail = example.detail(with_file).await;
        let attachment = detail.body["ticket_with_details"]["ticket_attachments"][0]["id"].as_i64().expect("attachment");
        let sunrise = Console::demo(&app, SUNRISE).await;
        let missing = sunrise.get("/console/tickets/999999999").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        for (theirs, nowhere) in [
            (format!("/console/tickets/{id}"), "/console/tickets/999999999".to_owned()),
            (format!("/console/residents/{}", DEMO_RESIDENT_IDS[0]), "/console/residents/999999999".to_owned()),
            (format!("/console/attachments/{attachment}"), "/console/attachments/999999999".to_owned()),
        ] {
            let foreign = sunrise.get(&theirs).await;
            let absent = sunrise.get(&nowhere).await;
            assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{theirs}");
            assert_eq!(foreign.body, absent.body, "{theirs} answers like a missing id");
        }
        let board = sunrise.get("/console").await;
        assert!(!board.body.contains("Bruise on the left arm"));
        // The owner's staff do see and download them.
        let nurse = Console::demo(&app, NURSE).await;
        let file = nurse.get(&format!("/console/attachments/{attachment}")).await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(file.body, "%PDF-1.4");
        assert!(file.header("content-disposition").expect("disposition").starts_with("attachment"));
        assert!(file.header("content-security-policy").expect("csp").contains("sandbox"));
    }

    /// A ticket raised, commented and moved in the console is the API's
    /// ticket; each step is audited under the nurse, through no application.
    async fn a_ticket_worked_in_the_console() {
        let app = TestApp::demo().await;
        let nurse = Console::demo(&app, NURSE).await;
        let new = nurse.get("/console/tickets/new").await;
        assert_eq!(new.status, StatusCode::OK);
        for rating in ["Issue", "Potential Issue", "No Issue"] {
            assert!(new.body.contains(&format!("name=\"category_19\" value=\"{rating}\"")), "radio groups");
        }
        let csrf = new.csrf().expect("token");
        // The API's rules: a title is required; the form keeps what was typed.
        let refused = nurse
            .post_multipart(
                "/console/tickets/new",
                reqwest::multipart::Form::new()
                    .text("csrf", csrf.clone())
                    .text("title", "")
                    .text("resident_id", DEMO_RESIDENT_IDS[1].to_string())
                    .text("general_comments", "kept when refused"),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        // In the form's words, not the API's parameter names.
        assert_eq!(refused.alert().as_deref(), Some("Give the ticket a title: what happened, in a few words."));
        assert!(refused.body.contains("kept when refused"));
        let created = nurse
            .post_multipart(
                "/console/tickets/new",
                reqwest::multipart::Form::new()
                    .text("csrf", csrf)
                    .text("title", "Fell in the bathroom")
                    .text("resident_id", DEMO_RESIDENT_IDS[1].to_string())
                    .text("urgency_status", "4")
                    .text("category_19", "Issue")
                    .text("category_comments_19", "Bruised hip")
                    .text("category_22", "")
                    // Who will be told, as the page showed it: nobody, on a
                    // High ticket, confirmed.
                    .text("told", format!("{}-4-00000", DEMO_RESIDENT_IDS[1]))
                    .text("confirm_nobody", "1")
                    // An empty file input, as a browser sends it.
                    .part("attachment", reqwest::multipart::Part::bytes(Vec::new()).file_name("").mime_str("application/octet-stream").expect("mime")),
            )
            .await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        let location = created.location().expect("to the ticket").to_owned();
        assert!(location.ends_with("?done=raised"), "{location}");
        let location = location.trim_end_matches("?done=raised").to_owned();
        let id: i64 = location.rsplit('/').next().expect("id").parse().expect("an id");

        let comment = nurse.submit(&location, &format!("/console/tickets/{id}/comments"), &[("comment", "Family informed by phone")]).await;
        assert_eq!(comment.status, StatusCode::SEE_OTHER);
        let status = nurse.submit(&location, &format!("/console/tickets/{id}/status"), &[("status", "In Progress")]).await;
        assert_eq!(status.status, StatusCode::SEE_OTHER);
        let page = nurse.get(&location).await;
        assert!(page.body.contains("Family informed by phone") && page.body.contains("Status <strong>In Progress</strong>"));
        // Files added later, as a browser sends them; none chosen is refused.
        let csrf = page.csrf().expect("token");
        let file = |name: &str, bytes: &[u8]| {
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()).mime_str("image/png").expect("mime")
        };
        let uploaded = nurse
            .post_multipart(
                &format!("/console/tickets/{id}/attachments"),
                reqwest::multipart::Form::new().text("csrf", csrf.clone()).part("attachment", file("bruise.png", b"\x89PNG one")).part("attachment", file("hip.png", b"\x89PNG two")),
            )
            .await;
        assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
        let nothing = nurse
            .post_multipart(
                &format!("/console/tickets/{id}/attachments"),
                reqwest::multipart::Form::new().text("csrf", csrf).part("attachment", file("", b"")),
            )
            .await;
        assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(nothing.alert().as_deref(), Some("attachments required"));

        let api = app.example().await.detail(id).await.body;
        let details = &api["ticket_with_details"];
        assert_eq!(details["ticket"]["title"], "Fell in the bathroom");
        assert_eq!(details["ticket"]["ticket_status"], "In Progress");
        assert_eq!(details["ticket"]["urgency_status_id"], 4);
        assert_eq!(details["general_comments"][0]["title"], "Family informed by phone");
        let files: Vec<&str> = details["ticket_attachments"].as_array().expect("attachments").iter().map(|a| a["file_name"].as_str().expect("name")).collect();
        assert_eq!(files, ["bruise.png", "hip.png"], "the empty file input at creation added nothing");

        let entries = audit_entries(&app).await;
        for action in [Action::CreateTicket, Action::CreateComment, Action::UpdateStatus, Action::AttachFiles] {
            let entry = entries
                .iter()
                .find(|e| e.action == action && e.outcome == Outcome::Success && has(&e.records, format!("ticket:{id}")))
                .unwrap_or_else(|| panic!("{action:?} audited"));
            assert_eq!(entry.employee_id, Some(DEMO_NURSE_EMPLOYEE_ID.get()));
            assert_eq!(entry.application_id, None);
        }
        assert!(entries.iter().any(|e| e.action == Action::TicketDetail
            && e.employee_id == Some(DEMO_NURSE_EMPLOYEE_ID.get())
            && has(&e.records, format!("ticket:{id}"))));
    }

    /// An urgent ticket's notifications wait for an answer: the board says
    /// so, and a nurse records the family's answer on their behalf.
    async fn acknowledging_on_someones_behalf() {
        let app = TestApp::demo().await;
        let id = app
            .example()
            .await
            .create_ticket(&[
                ("title", "Unresponsive after lunch"),
                ("resident_id", &DEMO_RESIDENT_IDS[0].to_string()),
                ("urgency_status", "Exception"),
                ("email", "1"),
                ("sent_to_family", "1"),
            ])
            .await;
        let nurse = Console::demo(&app, NURSE).await;
        let board = nurse.get("/console?needs_ack=1").await;
        assert!(board.body.contains("Unresponsive after lunch") && board.body.contains("Awaiting acknowledgment"));
        assert!(!board.body.contains("Weight gain of 2 kg"), "the filter keeps only tickets awaiting an answer");
        let page = nurse.get(&format!("/console/tickets/{id}")).await;
        let start = page.body.find("/console/notifications/").expect("an acknowledge form");
        let rest = &page.body[start + "/console/notifications/".len()..];
        let notification: i64 = rest[..rest.find('/').expect("id")].parse().expect("id");
        let empty = nurse
            .submit(&format!("/console/tickets/{id}"), &format!("/console/notifications/{notification}/acknowledge"), &[("ticket_id", &id.to_string()), ("note", " ")])
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(empty.alert().as_deref(), Some("note required"));
        let done = nurse
            .submit(&format!("/console/tickets/{id}"), &format!("/console/notifications/{notification}/acknowledge"), &[("ticket_id", &id.to_string()), ("note", "Daughter called back")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let api = app.example().await.detail(id).await.body;
        let notice = api["ticket_with_details"]["notifications"]
            .as_array()
            .expect("notifications")
            .iter()
            .find(|n| n["id"] == notification)
            .expect("the notification")
            .clone();
        assert_eq!(notice["acknowledged_via"], "staff");
        assert_eq!(notice["acknowledged_by"], DEMO_NURSE_EMPLOYEE_ID.get());
        let board = nurse.get("/console?needs_ack=1").await;
        assert!(!board.body.contains("Unresponsive after lunch"), "answered: no longer waiting");
    }

    /// An administrator registers an application whose credentials work
    /// against the API at once, sees the secret once, rotates and revokes it.
    async fn applications_from_the_console() {
        let app = TestApp::demo().await;
        let admin = Console::demo(&app, ADMIN).await;
        let answer = admin
            .submit("/console/admin/applications", "/console/admin/applications", &[("name", "Ward tablet")])
            .await;
        // Post, redirect, get: the secret is shown by a page a refresh
        // cannot register again, and only once.
        assert_eq!(answer.location(), Some("/console/shown-once"));
        let registered = admin.follow(&answer).await;
        assert_eq!(registered.status, StatusCode::OK, "{}", registered.body);
        assert!(registered.set_cookie("ct_shown_once").is_some_and(|c| c.contains("Max-Age=0")));
        let again = admin.follow(&answer).await;
        assert_eq!(again.status, StatusCode::OK, "the cookie was set for the first GET");
        let refreshed = admin.get("/console/shown-once").await;
        assert_eq!(refreshed.status, StatusCode::GONE);
        assert!(refreshed.body.contains("shown once"), "{}", refreshed.body);
        let api_key = shown(&registered.body, "api_key");
        let api_secret = shown(&registered.body, "api_secret");
        let session = app.login(&api_key, &api_secret).await;
        let listed = send(session.get("tickets?page=1&per_page=5")).await;
        assert_eq!(listed.status, StatusCode::OK);
        let list = admin.get("/console/admin/applications").await;
        assert!(list.body.contains(&api_key) && !list.body.contains(&api_secret), "the secret is shown once");

        let apps = app.api.list_applications(app.admin.within(Action::Applications, DEMO_PROVIDER_ID).await).await.expect("apps");
        let tablet = apps.iter().find(|a| a.api_key == api_key).expect("registered");
        assert_eq!(tablet.employee_id, DEMO_EMPLOYEE_ID, "acts as the administrator who registered it");
        let rotate = format!("/console/admin/applications/{}/rotate", tablet.id);
        let asked = admin.submit("/console/admin/applications", &rotate, &[]).await;
        assert_eq!(asked.status, StatusCode::OK, "a question, not an action");
        assert!(asked.body.contains("Give “Ward tablet” a new secret?"), "{}", asked.body);
        app.login(&api_key, &api_secret).await;
        let rotated = admin.follow(&admin.submit("/console/admin/applications", &rotate, &[("confirmed", "yes")]).await).await;
        let new_secret = shown(&rotated.body, "api_secret");
        let old = send(app.http.post(app.url("/api/authorize")).header("api_key", &api_key).header("api_secret", &api_secret)).await;
        assert_eq!(old.status, StatusCode::UNAUTHORIZED);
        app.login(&api_key, &new_secret).await;
        let revoke = format!("/console/admin/applications/{}/revoke", tablet.id);
        let asked = admin.submit("/console/admin/applications", &revoke, &[]).await;
        assert!(asked.body.contains("Revoke “Ward tablet”?"), "{}", asked.body);
        app.login(&api_key, &new_secret).await;
        let revoked = admin.submit("/console/admin/applications", &revoke, &[("confirmed", "yes")]).await;
        assert_eq!(revoked.status, StatusCode::SEE_OTHER);
        let after = send(app.http.post(app.url("/api/authorize")).header("api_key", &api_key).header("api_secret", &new_secret)).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
        let entries = audit_entries(&app).await;
        let managed = entries
            .iter()
            .filter(|e| e.action == Action::ManageApplications
                && e.outcome == Outcome::Success
                && has(&e.records, format!("application:{}", tablet.id)))
            .count();
        assert_eq!(managed, 3, "registered, rotated, revoked");
    }

    /// An invitation link sets a password once; the new staff member signs
    /// in with it; a role change ends their sessions.
    async fn inviting_an_employee() {
        let app = TestApp::demo().await;
        let admin = Console::demo(&app, ADMIN).await;
        let invited = admin
            .submit("/console/admin/employees", "/console/admin/employees", &[("name", "Rosa Diaz"), ("email", "Rosa@Example.org"), ("role", "staff")])
            .await;
        let invited = admin.follow(&invited).await;
        assert_eq!(invited.status, StatusCode::OK, "{}", invited.body);
        let link = shown(&invited.body, "Link");
        let path = path_of(&link).to_owned();
        let visitor = Console::of(&app);
        let short = visitor.accept_invitation(&path, "too short").await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(short.alert().as_deref(), Some("password must be at least 12 characters"));
        let set = visitor.accept_invitation(&path, "a long and memorable phrase").await;
        assert_eq!(set.status, StatusCode::OK);
        assert_eq!(visitor.get(&path).await.status, StatusCode::NOT_FOUND, "the link works once");
        let mut rosa = Console::of(&app);
        let signed_in = rosa.sign_in("rosa@example.org", "a long and memorable phrase", None).await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
        assert_eq!(rosa.get("/console").await.status, StatusCode::OK);

        let roster = admin.get("/console/admin/employees").await;
        let call = app.admin.within(Action::Employees, DEMO_PROVIDER_ID).await;
        let rosa_id = app
            .api
            .roster(call)
            .await
            .expect("employees")
            .into_iter()
            .map(|(employee, _)| employee)
            .find(|e| e.name == "Rosa Diaz")
            .expect("created")
            .id;
        assert!(roster.body.contains("Rosa Diaz"));
        let promoted = admin
            .submit("/console/admin/employees", &format!("/console/admin/employees/{rosa_id}/role"), &[("role", "administrator")])
            .await;
        assert_eq!(promoted.status, StatusCode::SEE_OTHER);
        assert_eq!(rosa.get("/console").await.status, StatusCode::SEE_OTHER, "a new role starts with a new sign-in");
        let own = admin
            .submit("/console/admin/employees", &format!("/console/admin/employees/{}/role", DEMO_EMPLOYEE_ID), &[("role", "staff")])
            .await;
        assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY);
        let taken = admin
            .submit("/console/admin/employees", "/console/admin/employees", &[("name", "Copy"), ("email", NURSE)])
            .await;
        assert_eq!(taken.status, StatusCode::CONFLICT);
    }

    /// Failed sign-ins are throttled per address like authorize.
    async fn sign_in_failures_are_throttled() {
        let app = TestApp::spawn(TestOptions {
            throttle: ThrottleSettings {
                failures_per_key_and_address: 3,
                ..ThrottleSettings::default()
            },
            ..TestOptions::default()
        })
        .await;
        let mut guesser = Console::of(&app);
        for _ in 0..3 {
            let page = guesser.sign_in(NURSE, "guess", None).await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        }
        let page = guesser.sign_in(NURSE, DEMO_PASSWORD, None).await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
        assert!(page.header("retry-after").is_some());
        eventually("the throttled attempt audited", || async {
            let entries = audit_entries(&app).await;
            entries
                .iter()
                .any(|e| e.action == Action::SignIn && e.outcome == Outcome::RateLimited)
                .then_some(())
        })
        .await;
    }

    /// A provider that requires a second factor sends each account to set
    /// one up first; then sign-in asks for its code.
    async fn a_required_second_factor() {
        let clock = ManualClock::new();
        let app = TestApp::spawn(clocked(&clock)).await;
        let admin = Console::demo(&app, ADMIN).await;
        let set = admin.submit("/console/admin/employees", "/console/admin/second-factor", &[("require_totp", "1")]).await;
        assert_eq!(set.status, StatusCode::SEE_OTHER);
        let nurse = Console::demo(&app, NURSE).await;
        let board = nurse.get("/console").await;
        assert_eq!(board.location(), Some("/console/account"));
        let (offer, secret) = offered_secret(&nurse).await;
        let wrong = nurse.submit("/console/account", "/console/account/second-factor", &[("offer", &offer), ("code", "000000"), ("password", DEMO_PASSWORD)]).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        let code = totp::code_at(&secret, clock.now()).expect("code");
        let enrolled = nurse.submit("/console/account", "/console/account/second-factor", &[("offer", &offer), ("code", &code), ("password", DEMO_PASSWORD)]).await;
        assert_eq!(enrolled.status, StatusCode::SEE_OTHER);
        assert_eq!(nurse.get("/console").await.status, StatusCode::OK);

        let mut again = Console::of(&app);
        let without = again.sign_in(NURSE, DEMO_PASSWORD, None).await;
        assert_eq!(without.status, StatusCode::UNAUTHORIZED);
        clock.advance(Duration::seconds(60));
        let code = totp::code_at(&secret, clock.now()).expect("code");
        let with = again.sign_in(NURSE, DEMO_PASSWORD, Some(&code)).await;
        assert_eq!(with.status, StatusCode::SEE_OTHER);
    }

    /// A one-time code is good once: the same code again, from another
    /// device, within its 30 seconds, opens nothing.
    async fn a_second_factor_code_signs_in_once() {
        let clock = ManualClock::new();
        let app = TestApp::spawn(clocked(&clock)).await;
        let nurse = Console::demo(&app, NURSE).await;
        let secret = enrol(&nurse, &clock, None).await;
        clock.advance(Duration::seconds(60));
        let code = totp::code_at(&secret, clock.now()).expect("code");
        let mut first = Console::of(&app);
        assert_eq!(first.sign_in(NURSE, DEMO_PASSWORD, Some(&code)).await.status, StatusCode::SEE_OTHER);
        let mut second = Console::of(&app).from_address("127.0.0.2".parse().expect("ip"));
        let replay = second.sign_in(NURSE, DEMO_PASSWORD, Some(&code)).await;
        assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.body);
        // An older code of the same account is no good either; the next is.
        clock.advance(Duration::seconds(30));
        let next = totp::code_at(&secret, clock.now()).expect("code");
        assert_eq!(second.sign_in(NURSE, DEMO_PASSWORD, Some(&next)).await.status, StatusCode::SEE_OTHER);
        let entries = audit_entries(&app).await;
        assert!(entries.iter().any(|e| e.action == Action::SignIn && e.outcome == Outcome::Denied && e.records.iter().any(|r| r == "reason:code_reused")), "the replay is audited as such");
    }

    /// Someone holding a signed-in session cannot swap the second factor
    /// for one of their own: replacing it takes the password and a current
    /// code, and only a secret this server offered to this session.
    async fn a_second_factor_is_replaced_only_with_the_password_and_a_current_code() {
        let clock = ManualClock::new();
        let app = TestApp::spawn(clocked(&clock)).await;
        let nurse = Console::demo(&app, NURSE).await;
        let old = enrol(&nurse, &clock, None).await;
        clock.advance(Duration::seconds(60));
        let (offer, new) = offered_secret(&nurse).await;
        let new_code = totp::code_at(&new, clock.now()).expect("code");
        let old_code = totp::code_at(&old, clock.now()).expect("code");
        for (fields, refused) in [
            (vec![("offer", offer.as_str()), ("code", new_code.as_str())], "without the password or a current code"),
            (vec![("offer", offer.as_str()), ("code", new_code.as_str()), ("password", DEMO_PASSWORD)], "without a current code"),
            (vec![("offer", offer.as_str()), ("code", new_code.as_str()), ("current_code", old_code.as_str()), ("password", "not the password")], "with a wrong password"),
        ] {
            let page = nurse.submit("/console/account", "/console/account/second-factor", &fields).await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "replaced {refused}");
        }
        // A secret of the client's own choosing, whatever it signs it with.
        let chosen = totp::secret_text(&[7u8; 20]);
        let forged = format!("{chosen}.00000000000000000000000000000000");
        let chosen_code = totp::code_at(&[7u8; 20], clock.now()).expect("code");
        let page = nurse.submit("/console/account", "/console/account/second-factor", &[("offer", forged.as_str()), ("code", chosen_code.as_str()), ("current_code", old_code.as_str()), ("password", DEMO_PASSWORD)]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "a client-chosen secret was enrolled");
        // With both, it is replaced, and the old authenticator stops working.
        let page = nurse.submit("/console/account", "/console/account/second-factor", &[("offer", offer.as_str()), ("code", new_code.as_str()), ("current_code", old_code.as_str()), ("password", DEMO_PASSWORD)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        clock.advance(Duration::seconds(60));
        let mut later = Console::of(&app);
        let with_old = totp::code_at(&old, clock.now()).expect("code");
        assert_eq!(later.sign_in(NURSE, DEMO_PASSWORD, Some(&with_old)).await.status, StatusCode::UNAUTHORIZED);
        let with_new = totp::code_at(&new, clock.now()).expect("code");
        assert_eq!(later.sign_in(NURSE, DEMO_PASSWORD, Some(&with_new)).await.status, StatusCode::SEE_OTHER);
    }

    /// Signing out everywhere ends every session of the person, on every
    /// device; other people's sessions go on.
    async fn signing_out_everywhere_ends_every_session_of_the_person() {
        let app = TestApp::demo().await;
        let tablet = Console::demo(&app, NURSE).await;
        let desk = Console::demo(&app, NURSE).await;
        let admin = Console::demo(&app, ADMIN).await;
        let page = tablet.submit("/console/account", "/console/sign-out-everywhere", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), Some("/console/sign-in?signed-out"));
        for console in [&tablet, &desk] {
            assert_eq!(console.get("/console").await.location(), Some("/console/sign-in"));
        }
        assert_eq!(admin.get("/console").await.status, StatusCode::OK);
    }

    /// The board says what to do next when nothing is open, and every page
    /// a signed-in person can open renders.
    async fn every_page_renders() {
        let app = TestApp::demo().await;
        let sunrise = Console::demo(&app, SUNRISE).await;
        let status = sunrise.submit("/console/tickets/301", "/console/tickets/301/status", &[("status", "Resolved")]).await;
        assert_eq!(status.status, StatusCode::SEE_OTHER);
        let board = sunrise.get("/console").await;
        assert!(board.body.contains("No open tickets.") && board.body.contains("raise a ticket"), "{}", board.body);
        let admin = Console::demo(&app, ADMIN).await;
        for path in [
            "/console", "/console?urgency=3&category=19", "/console/tickets/new", "/console/tickets/201",
            "/console/residents", "/console/residents?q=doc", &format!("/console/residents/{}", DEMO_RESIDENT_IDS[0]),
            "/console/admin", "/console/admin/employees", "/console/admin/applications", "/console/account",
        ] {
            let page = admin.get(path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            assert!(page.body.starts_with("<!doctype html>") && page.body.contains("<main"), "{path}");
        }
        let search = admin.get("/console/residents?q=DOC").await;
        assert!(search.body.contains("Test Doctor") && !search.body.contains("Test Case"), "search ignores case");
        let odd = admin.get("/console/residents?q=%25_").await;
        assert!(odd.body.contains("No resident"), "LIKE wildcards are searched for literally");
        for bad in ["/console/tickets/abc", "/console/tickets/-1", "/console/residents/99999999999999999999", "/console/nothing-here"] {
            assert_eq!(admin.get(bad).await.status, StatusCode::NOT_FOUND, "{bad}");
        }
    }

    /// Escalation rules, contacts, categories, the audit trail and the
    /// notification queue, managed by an administrator with the same
    /// checks as the commands; refused to staff and to other providers.
    async fn administration_of_the_provider() {
        let app = TestApp::demo().await;
        let admin = Console::demo(&app, ADMIN).await;
        let nurse = Console::demo(&app, NURSE).await;
        for path in ["/console/admin/audit", "/console/admin/audit.csv", "/console/admin/notifications", "/console/admin/escalation", "/console/admin/categories"] {
            assert_eq!(nurse.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(admin.get(path).await.status, StatusCode::OK, "{path}");
        }

        // Escalation: the same rules as `escalation set`.
        let set = admin.submit("/console/admin/escalation", "/console/admin/escalation", &[("urgency", "4"), ("ack_within", "30m"), ("renotify_after", ""), ("then", "on_call_nurse")]).await;
        assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
        let policy = app.api.escalation_policy(app.admin.within(Action::ProviderSettings, DEMO_PROVIDER_ID).await).await.expect("policy");
        assert_eq!(policy.rules[&4].ack_within, Duration::minutes(30));
        let bad = admin.submit("/console/admin/escalation", "/console/admin/escalation", &[("urgency", "4"), ("ack_within", "soon")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.alert().expect("why").contains("must be a duration"), "{:?}", bad.alert());
        // A tier nobody holds is refused beside its rule, still chosen.
        let unheld = admin.submit("/console/admin/escalation", "/console/admin/escalation", &[("form", "rule-4"), ("urgency", "4"), ("ack_within", "20m"), ("then", "oncall_nurse"), ("then", "")]).await;
        assert_eq!(unheld.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unheld.alert().expect("why").starts_with("tier “oncall_nurse” is held by no staff contact"), "{:?}", unheld.alert());
        assert!(unheld.body.contains("<option value=\"oncall_nurse\" selected>oncall nurse (nobody holds this role)</option>"), "the choice is kept");
        assert!(unheld.body.contains("value=\"20m\""), "the deadline typed is kept");
        let policy = app.api.escalation_policy(app.admin.within(Action::ProviderSettings, DEMO_PROVIDER_ID).await).await.expect("policy");
        assert_eq!(policy.rules[&4].ack_within, Duration::minutes(30), "nothing saved");
        let off = admin.submit("/console/admin/escalation", "/console/admin/escalation", &[("urgency", "3"), ("ack_within", "off")]).await;
        assert_eq!(off.status, StatusCode::SEE_OTHER);
        // The staff its tiers reach.
        let staffed = admin.submit("/console/admin/escalation", "/console/admin/escalation/staff", &[("role", "on_call_nurse"), ("name", "Pat Lee"), ("phone", "+15555550199")]).await;
        assert_eq!(staffed.status, StatusCode::SEE_OTHER, "{}", staffed.body);
        let unnamed = admin.submit("/console/admin/escalation", "/console/admin/escalation/staff", &[("role", "family"), ("name", "Not staff"), ("phone", "+15555550198")]).await;
        assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY, "a resident's role is no staff role");
        let staff = app.api.list_staff_contacts(app.admin.within(Action::ProviderSettings, DEMO_PROVIDER_ID).await).await.expect("staff");
        let pat = staff.iter().find(|c| c.name == "Pat Lee").expect("added");
        let sunrise_admin = Console::demo(&app, SUNRISE).await;
        let foreign = sunrise_admin.submit("/console/admin/escalation", &format!("/console/admin/escalation/staff/{}/remove", pat.id), &[("confirmed", "yes")]).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        let removed = admin.submit("/console/admin/escalation", &format!("/console/admin/escalation/staff/{}/remove", pat.id), &[("confirmed", "yes")]).await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        assert!(!app.api.list_staff_contacts(app.admin.within(Action::ProviderSettings, DEMO_PROVIDER_ID).await).await.expect("staff").iter().any(|c| c.name == "Pat Lee"));

        // Contacts, on the resident's page.
        let resident = DEMO_RESIDENT_IDS[1];
        let page = format!("/console/residents/{resident}");
        let added = admin.submit(&page, &format!("{page}/contacts"), &[("name", "Ann Olsen"), ("role", "family"), ("email", "ann@example.org"), ("email_consent", "1")]).await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        let refused = admin.submit(&page, &format!("{page}/contacts"), &[("name", "No Address"), ("role", "family"), ("sms_consent", "1")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.alert().as_deref(), Some("contact needs an email address or a phone number"));
        let contacts = app.api.list_contacts(app.admin.within(Action::ResidentContacts, DEMO_PROVIDER_ID).await, Some(resident)).await.expect("contacts");
        let ann = contacts.iter().find(|c| c.name == "Ann Olsen").expect("added");
        assert!(ann.email_consent && !ann.sms_consent);
        assert!(!contacts.iter().any(|c| c.name == "No Address"));
        // Corrected: an SMS number added and consented to, by the same
        // checks; another provider's administrator cannot touch it.
        let edited = admin.submit(&page, &format!("{page}/contacts/{}", ann.id), &[("name", "Ann Olsen"), ("role", "family"), ("email", "ann@example.org"), ("phone", "+15555550123"), ("email_consent", "1"), ("sms_consent", "1")]).await;
        assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
        let emptied = admin.submit(&page, &format!("{page}/contacts/{}", ann.id), &[("name", "Ann Olsen"), ("role", "family")]).await;
        assert_eq!(emptied.status, StatusCode::UNPROCESSABLE_ENTITY);
        let sunrise_edit = Console::demo(&app, SUNRISE).await;
        let theirs = sunrise_edit.submit("/console", &format!("{page}/contacts/{}", ann.id), &[("name", "Mallory"), ("role", "family"), ("email", "m@example.org")]).await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
        let contacts = app.api.list_contacts(app.admin.within(Action::ResidentContacts, DEMO_PROVIDER_ID).await, Some(resident)).await.expect("contacts");
        let ann = contacts.iter().find(|c| c.name == "Ann Olsen").expect("still there");
        assert_eq!(ann.phone.as_deref(), Some("+15555550123"));
        assert!(ann.email_consent && ann.sms_consent);
        let staff_add = nurse.submit(&page, &format!("{page}/contacts"), &[("name", "X"), ("role", "family"), ("email", "x@example.org")]).await;
        assert_eq!(staff_add.status, StatusCode::FORBIDDEN);
        let remove = format!("{page}/contacts/{}/remove", ann.id);
        let asked = admin.submit(&page, &remove, &[]).await;
        assert!(asked.body.contains("Remove Ann"), "asks first: {}", asked.body);
        assert!(admin.get(&page).await.body.contains(&ann.name), "asking removed nothing");
        let removed = admin.submit(&page, &remove, &[("confirmed", "yes")]).await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        let contacts = app.api.list_contacts(app.admin.within(Action::ResidentContacts, DEMO_PROVIDER_ID).await, Some(resident)).await.expect("contacts");
        assert!(!contacts.iter().any(|c| c.name == "Ann Olsen"));

        // Categories.
        let category = admin.submit("/console/admin/categories", "/console/admin/categories", &[("name", "Falls")]).await;
        assert_eq!(category.status, StatusCode::SEE_OTHER);
        let blank = admin.submit("/console/admin/categories", "/console/admin/categories", &[("name", "  ")]).await;
        assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
        let falls = app.api.list_categories(app.admin.within(Action::ProviderCategories, DEMO_PROVIDER_ID).await).await.expect("categories").into_iter().find(|c| c.name == "Falls").expect("added");
        let entries = audit_entries(&app).await;
        assert!(entries.iter().any(|e| e.action == Action::ManageCategories
            && e.outcome == Outcome::Success
            && e.employee_id == Some(DEMO_EMPLOYEE_ID.get())
            && has(&e.records, format!("category:{}", falls.id))));
        let renamed = admin.submit("/console/admin/categories", &format!("/console/admin/categories/{}", falls.id), &[("name", "Falls and near-falls")]).await;
        assert_eq!(renamed.status, StatusCode::SEE_OTHER);
        let theirs = sunrise_admin.submit("/console/admin/escalation", &format!("/console/admin/categories/{}", falls.id), &[("name", "Mine now")]).await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
        let names: Vec<String> = app.api.list_categories(app.admin.within(Action::ProviderCategories, DEMO_PROVIDER_ID).await).await.expect("categories").into_iter().map(|c| c.name).collect();
        assert!(names.contains(&"Falls and near-falls".to_owned()) && !names.contains(&"Mine now".to_owned()), "{names:?}");

        // Templates: a preview fills a sample, never a resident's data; an
        // unknown placeholder is refused; saving keeps what was checked.
        let sms = "{provider}: news about {resident}. Call {callback}.";
        let preview = admin.submit("/console/admin/templates", "/console/admin/templates", &[("sms", sms), ("preview", "1")]).await;
        assert_eq!(preview.status, StatusCode::OK);
        assert!(preview.body.contains("Example Provider: news about Jane D. Call +15555550100."), "one period after the initial: {}", preview.body);
        // Parts left empty preview the default wording itself.
        assert!(preview.body.contains("Update about Jane D. from Example Provider") && !preview.body.contains("(the default wording)"), "{}", preview.body);
        assert!(app.api.notify_policy(app.admin.within(Action::ProviderSettings, DEMO_PROVIDER_ID).await).await.expect("policy").templates.sms.is_none(), "a preview saves nothing");
        let unknown = admin.submit("/console/admin/templates", "/console/admin/templates", &[("sms", "{diagnosis} for {resident}")]).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        let saved = admin.submit("/console/admin/templates", "/console/admin/templates", &[("sms", sms)]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        assert_eq!(app.api.notify_policy(app.admin.within(Action::ProviderSettings, DEMO_PROVIDER_ID).await).await.expect("policy").templates.sms.as_deref(), Some(sms));
        assert_eq!(nurse.get("/console/admin/templates").await.status, StatusCode::FORBIDDEN);
        // Who is told: only the family of new tickets now, nobody of status
        // changes, quieter evenings; the templates stay.
        let rules = admin.submit("/console/admin/templates", "/console/admin/notify-rules", &[("created", "family"), ("quiet_hours", "20:00-07:30"), ("callback_phone", "+15555550100")]).await;
        assert_eq!(rules.status, StatusCode::SEE_OTHER, "{}", rules.body);
        let policy = app.api.notify_policy(app.admin.within(Action::ProviderSettings, DEMO_PROVIDER_ID).await).await.expect("policy");
        assert_eq!(policy.on_created.iter().map(|r| r.as_str()).collect::<Vec<_>>(), ["family"]);
        assert!(policy.on_status_change.is_empty());
        assert_eq!(policy.quiet_hours.render(), "20:00-07:30");
        assert_eq!(policy.callback_phone.as_deref(), Some("+15555550100"));
        assert_eq!(policy.templates.sms.as_deref(), Some(sms));
        let bad = admin.submit("/console/admin/templates", "/console/admin/notify-rules", &[("quiet_hours", "evenings")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.alert().as_deref(), Some("quiet hours must be two times like 21:00-08:00"));

        // The notification queue: retry one of ours; another provider's
        // answers like a missing one.
        let ticket = app.example().await.create_ticket(&[("title", "Needs a call"), ("resident_id", &DEMO_RESIDENT_IDS[0].to_string()), ("email", "1"), ("sent_to_family", "1")]).await;
        let queue = admin.get("/console/admin/notifications?state=pending").await;
        assert!(queue.body.contains(&format!("/console/tickets/{ticket}")));
        // A waiting notification says why (this server has no transport).
        // (At night in the provider's zone, family news of a Normal ticket
        // is held for quiet hours first, and says so.)
        let why = ["held for quiet hours until ", "waiting: no email transport is configured; next try", "queued to be sent"];
        assert!(why.iter().any(|reason| queue.body.contains(reason)), "{}", queue.body);
        let start = queue.body.find("/console/admin/notifications/").expect("a retry form") + "/console/admin/notifications/".len();
        let id: i64 = queue.body[start..start + queue.body[start..].find('/').expect("id")].parse().expect("id");
        let retried = admin.submit("/console/admin/notifications", &format!("/console/admin/notifications/{id}/retry"), &[]).await;
        assert_eq!(retried.status, StatusCode::SEE_OTHER);
        let sunrise = Console::demo(&app, SUNRISE).await;
        let foreign = sunrise.submit("/console/admin/notifications", &format!("/console/admin/notifications/{id}/retry"), &[]).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);

        // The audit trail: this provider's entries only, and all of them
        // in the export.
        let export = admin.get(&format!("/console/admin/audit.csv?ticket={ticket}")).await;
        assert_eq!(export.header("content-type"), Some("text/csv; charset=utf-8"));
        let mut lines = export.body.lines();
        assert_eq!(lines.next(), Some("id,at,request_id,client_addr,provider_id,application_id,employee_id,action,outcome,records,prev_hash,hash,actor"));
        let rows: Vec<&str> = lines.collect();
        assert!(rows.iter().any(|r| r.contains(",create_ticket,success,")), "{rows:?}");
        assert!(rows.iter().all(|r| r.split(',').nth(4) == Some(&DEMO_PROVIDER_ID.get().to_string()[..])), "{rows:?}");
        let theirs = sunrise.get(&format!("/console/admin/audit.csv?ticket={ticket}")).await;
        assert_eq!(theirs.body.lines().count(), 1, "another provider sees none of it: {}", theirs.body);
        // The export's times are in the provider's zone, with the offset,
        // as the page shows them.
        let at = rows[0].split(',').nth(1).expect("at");
        assert!(at.ends_with(" -0800") || at.ends_with(" -0700"), "Pacific time with its offset: {at}");
        let page = admin.get("/console/admin/audit?since=2000-01-01").await;
        assert!(page.body.contains("sign in") && page.body.contains("manage escalation") && page.body.contains("notify policy"));
        // People by name; narrowed to one by name.
        let roster = app.api.roster(app.admin.within(Action::Employees, DEMO_PROVIDER_ID).await).await.expect("roster");
        let nurse_name = roster.iter().find(|(e, _)| e.id == DEMO_NURSE_EMPLOYEE_ID).expect("nurse").0.name.clone();
        assert!(page.body.contains(&format!("{nurse_name} (employee {})", DEMO_NURSE_EMPLOYEE_ID)), "the nurse is named");
        let narrowed = admin.get(&format!("/console/admin/audit?since=2000-01-01&who={}", nurse_name.to_lowercase())).await;
        let cells: Vec<&str> = narrowed.body.split("<tr><td>").skip(1).collect();
        assert!(!cells.is_empty() && cells.iter().all(|row| row.contains(&nurse_name)), "only the nurse's entries");
        // The export is narrowed the same way, over the whole trail.
        let exported = admin.get(&format!("/console/admin/audit.csv?who={}", nurse_name.to_lowercase())).await;
        let nurse_rows: Vec<&str> = exported.body.lines().skip(1).collect();
        assert!(!nurse_rows.is_empty(), "{}", exported.body);
        assert!(nurse_rows.iter().all(|r| r.split(',').nth(6) == Some(&DEMO_NURSE_EMPLOYEE_ID.get().to_string()[..])), "{nurse_rows:?}");
        let entries = audit_entries(&app).await;
        // (The demo seed's callback number is the operator's entry.)
        let notify = entries.iter().filter(|e| e.action == Action::NotifyPolicy && e.outcome == Outcome::Success && e.employee_id == Some(DEMO_EMPLOYEE_ID.get())).count();
        assert_eq!(notify, 2, "templates and rules, each in its write's transaction");
        assert_eq!(admin.get("/console/admin/audit?since=yesterday").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

/// The secret the account page offers: its signed form field, and the
/// secret itself (what an authenticator app is given).
async fn offered_secret(console: &Console) -> (String, Vec<u8>) {
    let account = console.get("/console/account").await;
    let offer = field_value(&account.body, "offer").expect("a secret to enrol");
    let text = offer.rsplit_once('.').expect("signed").0.to_owned();
    (offer, totp::secret_from_text(&text).expect("base32"))
}

/// Sets up a second factor for the signed-in account; answers its secret.
async fn enrol(console: &Console, clock: &ManualClock, current: Option<&[u8]>) -> Vec<u8> {
    let (offer, secret) = offered_secret(console).await;
    let code = totp::code_at(&secret, clock.now()).expect("code");
    let current = current.map(|old| totp::code_at(old, clock.now()).expect("code"));
    let mut fields = vec![
        ("offer", offer.as_str()),
        ("code", code.as_str()),
        ("password", DEMO_PASSWORD),
    ];
    if let Some(current) = &current {
        fields.push(("current_code", current.as_str()));
    }
    let page = console
        .submit(
            "/console/account",
            "/console/account/second-factor",
            &fields,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    secret
}
