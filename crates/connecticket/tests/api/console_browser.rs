//! The staff console in a real browser (Debian's Chromium over WebDriver):
//! a nurse's shift and an administrator's errand walked through as people
//! click and type, every page checked by axe-core and photographed at
//! ward-tablet and desktop size, the essential actions repeated with
//! JavaScript off, and the rules (idle logoff, CSRF, roles, tenancy) seen
//! from the browser's side.

use std::path::PathBuf;

use chrono::Duration;
use connecticket_domain::clock::ManualClock;
use connecticket_domain::demo::DEMO_RESIDENT_IDS;
use fantoccini::{Client, Locator};
use reqwest::StatusCode;

use crate::support::browser::{accessibility_violations, browser, driver};
use crate::support::{eventually, send, TestApp, TestOptions, DEMO_PASSWORD};

pub(crate) const TABLET: (u32, u32) = (768, 1024);
pub(crate) const DESKTOP: (u32, u32) = (1366, 768);

/// Where screenshots go: under the build's test output.
pub(crate) fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("a screenshot directory");
    dir
}

/// Checks the page with axe-core and saves it at both sizes.
pub(crate) async fn inspect(client: &Client, name: &str) {
    let violations = accessibility_violations(client).await;
    assert!(violations.is_empty(), "{name}: {violations:#?}");
    for (label, (width, height)) in [("tablet", TABLET), ("desktop", DESKTOP)] {
        client.set_window_size(width, height).await.expect("resize");
        let png = client.screenshot().await.expect("screenshot");
        std::fs::write(screenshots().join(format!("{name}-{label}.png")), png).expect("save");
    }
    client
        .set_window_size(DESKTOP.0, DESKTOP.1)
        .await
        .expect("resize");
}

pub(crate) use crate::support::browser::{click, fill, heading, submit, text_of};

pub(crate) async fn path(client: &Client) -> String {
    let url = client.current_url().await.expect("url");
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

pub(crate) async fn sign_in(client: &Client, app: &TestApp, email: &str) {
    client.goto(&app.url("/console")).await.expect("console");
    assert_eq!(path(client).await, "/console/sign-in");
    fill(client, "#email", email).await;
    fill(client, "#password", DEMO_PASSWORD).await;
    submit(client, "form button[type=submit]:not(.secondary)").await;
    assert_eq!(
        path(client).await,
        "/console",
        "signed in: {}",
        heading(client).await
    );
}

pub(crate) async fn sign_out(client: &Client) {
    submit(client, ".sign-out button").await;
    assert_eq!(path(client).await, "/console/sign-in?signed-out");
}

/// Waits until the new-ticket form's summary of who will be told is the
/// one for the resident chosen (htmx redraws it as the choices change).
pub(crate) async fn summary_for(client: &Client, resident: &str) {
    eventually("the summary for the resident chosen", || async {
        let told = client
            .find(Locator::Css("input[name=told]"))
            .await
            .ok()?
            .prop("value")
            .await
            .ok()??;
        told.starts_with(&format!("{resident}-")).then_some(())
    })
    .await;
}

/// The ticket id in the current `/console/tickets/{id}` address.
pub(crate) async fn ticket_id(client: &Client) -> i64 {
    path(client)
        .await
        .trim_start_matches("/console/tickets/")
        .split(['#', '?'])
        .next()
        .expect("id")
        .parse()
        .expect("a ticket page")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shift_in_the_console() {
    let Some(driver) = driver().await else {
        return;
    };
    let clock = ManualClock::new();
    let app = TestApp::spawn(TestOptions {
        clock: clock.clone(),
        ..TestOptions::default()
    })
    .await;
    let api = app.example().await;
    // An urgent ticket raised by a partner application, waiting for the
    // family's answer.
    let urgent = api
        .create_ticket(&[
            ("title", "Unresponsive after lunch"),
            ("resident_id", &DEMO_RESIDENT_IDS[0].to_string()),
            ("urgency_status", "Exception"),
            ("email", "1"),
            ("sent_to_family", "1"),
        ])
        .await;

    let nurse = browser(&driver, true).await;
    nurse.goto(&app.url("/console")).await.expect("console");
    inspect(&nurse, "sign-in").await;
    sign_in(&nurse, &app, "nurse@example.org").await;
    assert_eq!(heading(&nurse).await, "Open tickets");
    let board = nurse.source().await.expect("board");
    assert!(
        board.contains("Unresponsive after lunch") && board.contains("Awaiting acknowledgment")
    );
    inspect(&nurse, "board").await;

    // Raise a ticket.
    submit(&nurse, "nav a[href='/console/tickets/new']").await;
    inspect(&nurse, "new-ticket").await;
    fill(&nurse, "#title", "Fell in the bathroom").await;
    nurse
        .find(Locator::Css("#resident_id"))
        .await
        .expect("resident")
        .select_by_value(&DEMO_RESIDENT_IDS[1].to_string())
        .await
        .expect("choose");
    click(&nurse, "input[name=category_19][value=Issue]").await;
    summary_for(&nurse, &DEMO_RESIDENT_IDS[1].to_string()).await;
    submit(&nurse, "main form > p button[type=submit]").await;
    let created = ticket_id(&nurse).await;
    assert_eq!(heading(&nurse).await, "Fell in the bathroom");
    inspect(&nurse, "ticket").await;

    // Comment, and move it along.
    fill(&nurse, "#comment", "Family informed by phone").await;
    submit(&nurse, "form[action$='/comments'] button").await;
    nurse
        .find(Locator::Css("#status"))
        .await
        .expect("status")
        .select_by_value("In Progress")
        .await
        .expect("choose");
    submit(&nurse, "form[action$='/status'] button").await;
    let detail = api.detail(created).await.body;
    assert_eq!(
        detail["ticket_with_details"]["ticket"]["ticket_status"],
        "In Progress"
    );
    assert_eq!(
        detail["ticket_with_details"]["general_comments"][0]["title"],
        "Family informed by phone"
    );

    // Acknowledge the urgent one on the family's behalf.
    nurse
        .goto(&app.url(&format!("/console/tickets/{urgent}")))
        .await
        .expect("urgent ticket");
    inspect(&nurse, "ticket-escalating").await;
    click(&nurse, ".person details summary").await;
    fill(
        &nurse,
        "form[action$='/acknowledge'] input[name=note]",
        "Daughter called back",
    )
    .await;
    inspect(&nurse, "acknowledge-on-behalf").await;
    submit(&nurse, "form[action$='/acknowledge'] button").await;
    inspect(&nurse, "ticket-acknowledged").await;
    let detail = api.detail(urgent).await.body;
    let notices = detail["ticket_with_details"]["notifications"]
        .as_array()
        .expect("notifications");
    assert!(
        notices.iter().any(|n| n["acknowledged_via"] == "staff"),
        "{notices:?}"
    );

    submit(&nurse, "nav a[href='/console/residents']").await;
    inspect(&nurse, "residents").await;
    fill(&nurse, "#q", "doctor").await;
    submit(&nurse, "main form button").await;
    submit(&nurse, "main table a").await;
    assert_eq!(heading(&nurse).await, "Test Doctor");
    inspect(&nurse, "resident").await;
    submit(&nurse, "nav a[href='/console/account']").await;
    inspect(&nurse, "account").await;

    // Staff are refused administration, even by typing its address.
    nurse.goto(&app.url("/console/admin")).await.expect("admin");
    assert_eq!(heading(&nurse).await, "Not allowed");
    inspect(&nurse, "refused").await;

    // A form whose CSRF token was tampered with changes nothing.
    nurse
        .goto(&app.url(&format!("/console/tickets/{created}")))
        .await
        .expect("ticket");
    nurse
        .execute(
            "document.querySelector(\"form[action$='/status'] input[name=csrf]\").value = 'forged'; return true;",
            vec![],
        )
        .await
        .expect("tamper");
    nurse
        .find(Locator::Css("#status"))
        .await
        .expect("status")
        .select_by_value("Closed")
        .await
        .expect("choose");
    submit(&nurse, "form[action$='/status'] button").await;
    assert_eq!(heading(&nurse).await, "Not allowed");
    let detail = api.detail(created).await.body;
    assert_eq!(
        detail["ticket_with_details"]["ticket"]["ticket_status"],
        "In Progress"
    );
    submit(&nurse, "main a[href='/console']").await;
    sign_out(&nurse).await;

    // The administrator registers the ward's tablet application and hands
    // its credentials over; they work against the API at once.
    sign_in(&nurse, &app, "sample@example.org").await;
    submit(&nurse, "nav a[href='/console/admin']").await;
    inspect(&nurse, "admin").await;
    submit(&nurse, "main a[href='/console/admin/applications']").await;
    inspect(&nurse, "applications").await;
    fill(&nurse, "#app-name", "Ward 3 tablet").await;
    submit(&nurse, "form[action='/console/admin/applications'] button").await;
    let values = nurse
        .find_all(Locator::Css("dd .secret"))
        .await
        .expect("credentials");
    let api_key = values[0].text().await.expect("key");
    let api_secret = values[1].text().await.expect("secret");
    inspect(&nurse, "application-registered").await;
    let tablet = app.login(&api_key, &api_secret).await;
    assert_eq!(
        send(tablet.get("provider_categories")).await.status,
        StatusCode::OK
    );
    submit(&nurse, "main a[href='/console/admin/applications']").await;
    submit(&nurse, "nav a[href='/console/admin']").await;
    submit(&nurse, "main a[href='/console/admin/employees']").await;
    inspect(&nurse, "employees").await;
    // An invitation: its link shown once, then the form that sets a
    // password, then the confirmation.
    fill(&nurse, "#name", "Rosa Diaz").await;
    fill(&nurse, "#email", "rosa@example.org").await;
    submit(&nurse, "form[action='/console/admin/employees'] button").await;
    inspect(&nurse, "invitation").await;
    let link = text_of(&nurse, "dd .secret").await;
    let invitee = browser(&driver, true).await;
    invitee.goto(&link).await.expect("the invitation");
    assert_eq!(heading(&invitee).await, "Set your password");
    inspect(&invitee, "set-password").await;
    fill(&invitee, "#password", "a long and memorable phrase").await;
    submit(&invitee, "main form button").await;
    assert_eq!(heading(&invitee).await, "Password set");
    inspect(&invitee, "password-set").await;
    invitee.close().await.expect("close");
    for (page, name) in [
        ("/console/admin/escalation", "escalation"),
        ("/console/admin/notifications", "notifications"),
        ("/console/admin/categories", "categories"),
        ("/console/admin/templates", "templates"),
        ("/console/admin/audit", "audit"),
    ] {
        nurse.goto(&app.url(page)).await.expect(page);
        inspect(&nurse, name).await;
    }
    sign_out(&nurse).await;

    // Provider B's administrator cannot open provider A's records by URL.
    sign_in(&nurse, &app, "sunrise@example.org").await;
    let attachment = {
        let form = reqwest::multipart::Form::new()
            .text("title", "With a photo")
            .text("resident_id", DEMO_RESIDENT_IDS[0].to_string())
            .part(
                "attachment",
                reqwest::multipart::Part::bytes(b"\x89PNG".to_vec())
                    .file_name("photo.png")
                    .mime_str("image/png")
                    .expect("mime"),
            );
        let created = send(api.post("create_ticket").multipart(form)).await;
        let id = created.body["ticket_id"].as_i64().expect("id");
        api.detail(id).await.body["ticket_with_details"]["ticket_attachments"][0]["id"]
            .as_i64()
            .expect("attachment")
    };
    for foreign in [
        format!("/console/tickets/{created}"),
        format!("/console/residents/{}", DEMO_RESIDENT_IDS[1]),
        format!("/console/attachments/{attachment}"),
    ] {
        nurse.goto(&app.url(&foreign)).await.expect("page");
        assert_eq!(heading(&nurse).await, "Not found", "{foreign}");
    }

    // Fifteen idle minutes later the next page is the sign-in form, which
    // says why.
    clock.advance(Duration::minutes(16));
    nurse.goto(&app.url("/console")).await.expect("board");
    assert_eq!(path(&nurse).await, "/console/sign-in?reason=idle");
    let why = nurse
        .find(Locator::Css("#flash"))
        .await
        .expect("a reason")
        .text()
        .await
        .expect("text");
    assert!(why.contains("15 minutes without activity"), "{why}");
    nurse.close().await.expect("close");
}

/// With JavaScript off every essential action still works: the forms are
/// plain HTML.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_console_works_without_javascript() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = TestApp::demo().await;
    let plain = browser(&driver, false).await;
    sign_in(&plain, &app, "nurse@example.org").await;
    // From the keyboard: the first Tab reaches "Skip to content", then the
    // navigation, in order.
    const TAB: &str = "\u{E004}";
    let body = plain.find(Locator::Css("body")).await.expect("body");
    body.send_keys(TAB).await.expect("Tab");
    let focused = plain.active_element().await.expect("focus");
    assert_eq!(focused.text().await.expect("text"), "Skip to content");
    let mut order = Vec::new();
    for _ in 0..5 {
        plain
            .active_element()
            .await
            .expect("focus")
            .send_keys(TAB)
            .await
            .expect("Tab");
        order.push(
            plain
                .active_element()
                .await
                .expect("focus")
                .text()
                .await
                .expect("text"),
        );
    }
    assert_eq!(
        order,
        ["Connecticket", "Board", "New ticket", "Residents", "Nurse"]
    );
    submit(&plain, "nav a[href='/console/tickets/new']").await;
    fill(&plain, "#title", "Missed the evening medication").await;
    plain
        .find(Locator::Css("#resident_id"))
        .await
        .expect("resident")
        .select_by_value(&DEMO_RESIDENT_IDS[0].to_string())
        .await
        .expect("choose");
    submit(&plain, "main form > p button[type=submit]").await;
    // Without JavaScript the summary could not follow the resident chosen:
    // the form comes back with it, having raised nothing, and is sent
    // again once read.
    assert_eq!(path(&plain).await, "/console/tickets/new");
    let notice = plain
        .find(Locator::Css("#flash"))
        .await
        .expect("a notice")
        .text()
        .await
        .expect("text");
    assert!(notice.contains("Nothing was raised yet"), "{notice}");
    let summary = plain
        .find(Locator::Css(".telling"))
        .await
        .expect("a summary")
        .text()
        .await
        .expect("text");
    assert!(
        summary.contains("Nobody will be told"),
        "a Normal ticket tells nobody unasked: {summary}"
    );
    submit(&plain, "main form > p button[type=submit]").await;
    let id = ticket_id(&plain).await;
    fill(&plain, "#comment", "Given at 21:10").await;
    submit(&plain, "form[action$='/comments'] button").await;
    plain
        .find(Locator::Css("#status"))
        .await
        .expect("status")
        .select_by_value("Resolved")
        .await
        .expect("choose");
    submit(&plain, "form[action$='/status'] button").await;
    // The board's filters apply with their button.
    plain.goto(&app.url("/console")).await.expect("board");
    plain
        .find(Locator::Css("#f-urgency"))
        .await
        .expect("urgency")
        .select_by_value("3")
        .await
        .expect("choose");
    submit(&plain, "form.filters button").await;
    assert_eq!(path(&plain).await, "/console?resident=&category=&urgency=3");
    sign_out(&plain).await;
    plain.close().await.expect("close");
    let detail = app.example().await.detail(id).await.body;
    assert_eq!(
        detail["ticket_with_details"]["ticket"]["ticket_status"],
        "Resolved"
    );
    assert_eq!(
        detail["ticket_with_details"]["general_comments"][0]["title"],
        "Given at 21:10"
    );
}
