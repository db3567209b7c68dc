//! The console at 3 a.m., in Debian's Chromium: a tired nurse on a ward
//! tablet must tell two residents apart, keep what they typed through the
//! idle logoff, and read the board across a room; an administrator's
//! refresh must repeat nothing and destruction must ask first; every page
//! must pass axe-core in the light and the dark theme.

use chrono::{Duration, NaiveDate};
use connecticket_domain::audit::Action;
use connecticket_domain::clock::ManualClock;
use connecticket_domain::demo::DEMO_PROVIDER_ID;
use connecticket_domain::model::{NewResident, ResidentId};
use fantoccini::{Client, Locator};

use super::console_browser::{
    fill, heading, inspect, path, sign_in, submit, ticket_id, DESKTOP, TABLET,
};
use crate::support::browser::{accessibility_violations, browser, driver, prefer_color_scheme};
use crate::support::{send, TestApp, TestOptions};
use reqwest::StatusCode;

const NURSE: &str = "nurse@example.org";
const ADMIN: &str = "sample@example.org";

/// Two residents a first name and last initial cannot tell apart.
async fn two_margarets(app: &TestApp) -> (ResidentId, ResidentId) {
    let margaret = |last: &str, dob: (i32, u32, u32), room: &str| NewResident {
        last_name: Some(last.to_owned()),
        dob: NaiveDate::from_ymd_opt(dob.0, dob.1, dob.2),
        location: Some(room.to_owned()),
        ..NewResident::named("Margaret")
    };
    let ids = app
        .api
        .create_residents(
            app.admin
                .within(Action::CreateResidents, DEMO_PROVIDER_ID)
                .await,
            vec![
                margaret("Olsen", (1938, 2, 1), "Room 12"),
                margaret("O'Connor-Whitfield", (1941, 7, 19), "Room 14"),
            ],
        )
        .await
        .expect("residents");
    (ids[0], ids[1])
}

use crate::support::browser::text_of;

/// What a form field holds now.
async fn value_of(client: &Client, css: &str) -> Option<String> {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .prop("value")
        .await
        .expect("value")
}

/// The demo provider's applications, as they are stored.
async fn applications(app: &TestApp) -> Vec<connecticket_domain::model::Application> {
    app.api
        .list_applications(
            app.admin
                .within(Action::Applications, DEMO_PROVIDER_ID)
                .await,
        )
        .await
        .expect("applications")
}

async fn number(client: &Client, script: &str) -> f64 {
    client
        .execute(script, vec![])
        .await
        .expect("script")
        .as_f64()
        .expect("a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_residents_of_one_name_are_told_apart() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = TestApp::demo().await;
    let (olsen, other) = two_margarets(&app).await;
    let api = app.example().await;
    for (resident, title) in [
        (olsen, "Fell in the bathroom"),
        (other, "Missed the evening dose"),
    ] {
        api.create_ticket(&[
            ("title", title),
            ("resident_id", &resident.to_string()),
            ("urgency_status", "High"),
        ])
        .await;
    }
    let nurse = browser(&driver, true).await;
    nurse
        .set_window_size(TABLET.0, TABLET.1)
        .await
        .expect("tablet");
    sign_in(&nurse, &app, NURSE).await;

    // On the board: full names, a date of birth and a room on each card.
    let cards = nurse.find_all(Locator::Css(".card")).await.expect("cards");
    let mut read = Vec::new();
    for card in cards {
        read.push(card.text().await.expect("text"));
    }
    let fell = read
        .iter()
        .find(|c| c.contains("Fell in the bathroom"))
        .expect("Olsen's card");
    let dose = read
        .iter()
        .find(|c| c.contains("Missed the evening dose"))
        .expect("the other card");
    assert!(
        fell.contains("Olsen, Margaret")
            && fell.contains("Feb 1, 1938")
            && fell.contains("Room 12"),
        "{fell}"
    );
    assert!(
        dose.contains("O'Connor-Whitfield, Margaret")
            && dose.contains("Jul 19, 1941")
            && dose.contains("Room 14"),
        "{dose}"
    );
    assert!(
        !fell.contains("Margaret O."),
        "never shortened in the console: {fell}"
    );

    // On the ticket page: the resident's banner comes first.
    submit(&nurse, ".card a[href^='/console/tickets/']").await;
    let banner = text_of(&nurse, ".banner").await;
    ticket_id(&nurse).await;
    let (about, expected) = match heading(&nurse).await.as_str() {
        "Fell in the bathroom" => (olsen, "Olsen, Margaret"),
        _ => (other, "O'Connor-Whitfield, Margaret"),
    };
    assert!(
        banner.contains(expected) && banner.contains("Born") && banner.contains(&about.to_string()),
        "{banner}"
    );

    // Search: any order, any part of the names, a room, a birth date.
    for (query, finds_olsen, finds_other) in [
        ("Margaret Olsen", true, false),
        ("olsen marg", true, false),
        ("Room 14", false, true),
        ("1941-07", false, true),
        ("margaret", true, true),
    ] {
        nurse
            .goto(&app.url("/console/residents"))
            .await
            .expect("residents");
        fill(&nurse, "#q", query).await;
        submit(&nurse, "main form button").await;
        let found = nurse.source().await.expect("page");
        assert_eq!(found.contains("Olsen, Margaret"), finds_olsen, "{query}");
        assert_eq!(
            found.contains("O&#x27;Connor-Whitfield, Margaret")
                || found.contains("O'Connor-Whitfield, Margaret"),
            finds_other,
            "{query}"
        );
    }
    nurse.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn typed_work_survives_the_idle_logoff() {
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
    let ticket = api
        .create_ticket(&[
            ("title", "Weight gain of 2 kg"),
            (
                "resident_id",
                &connecticket_domain::demo::DEMO_RESIDENT_IDS[0].to_string(),
            ),
        ])
        .await;
    let nurse = browser(&driver, true).await;
    sign_in(&nurse, &app, NURSE).await;
    nurse
        .goto(&app.url(&format!("/console/tickets/{ticket}")))
        .await
        .expect("ticket");
    let typed = "Weighed again at 03:10: 71.4 kg. Daughter asked to be told in the morning.";
    fill(&nurse, "#comment", typed).await;

    // Sixteen minutes at the bedside, then Send.
    clock.advance(Duration::minutes(16));
    submit(&nurse, "form[action$='/comments'] button").await;
    assert!(
        path(&nurse)
            .await
            .starts_with("/console/sign-in?reason=idle"),
        "{}",
        path(&nurse).await
    );
    let reason = text_of(&nurse, "#flash").await;
    assert!(
        reason.contains("15 minutes without activity")
            && reason.contains("What you were typing is kept"),
        "{reason}"
    );
    let unsent = app.example().await.detail(ticket).await.body;
    assert_eq!(
        unsent["ticket_with_details"]["general_comments"]
            .as_array()
            .map(Vec::len),
        Some(0),
        "nothing is sent behind the person's back"
    );

    // Signing in again leads back to the ticket, the comment in its box.
    fill(&nurse, "#email", NURSE).await;
    fill(&nurse, "#password", crate::support::DEMO_PASSWORD).await;
    submit(&nurse, "form button[type=submit]").await;
    assert_eq!(path(&nurse).await, format!("/console/tickets/{ticket}"));
    let kept = value_of(&nurse, "#comment").await;
    assert_eq!(kept.as_deref(), Some(typed));
    assert!(text_of(&nurse, "#flash").await.contains("back below"));
    inspect(&nurse, "ticket-restored").await;
    submit(&nurse, "form[action$='/comments'] button").await;
    let sent = app.example().await.detail(ticket).await.body;
    assert_eq!(
        sent["ticket_with_details"]["general_comments"][0]["title"],
        typed
    );

    // Given back once: the ticket's page after that has an empty box.
    nurse
        .goto(&app.url(&format!("/console/tickets/{ticket}")))
        .await
        .expect("ticket");
    let empty = value_of(&nurse, "#comment").await;
    assert_eq!(empty.as_deref(), Some(""));
    nurse.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_repeats_nothing_and_destruction_asks_first() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = TestApp::demo().await;
    let count = || async { applications(&app).await.len() };
    let admin = browser(&driver, true).await;
    sign_in(&admin, &app, ADMIN).await;
    admin
        .goto(&app.url("/console/admin/applications"))
        .await
        .expect("applications");
    let before = count().await;
    fill(&admin, "#app-name", "Night tablet").await;
    submit(&admin, "form[action='/console/admin/applications'] button").await;
    assert_eq!(path(&admin).await, "/console/shown-once");
    assert!(text_of(&admin, "main").await.contains("api_secret"));
    assert_eq!(count().await, before + 1);

    // Refreshing the page that showed the secret registers nothing.
    admin.refresh().await.expect("refresh");
    assert_eq!(heading(&admin).await, "Already shown");
    assert_eq!(count().await, before + 1, "a refresh registered nothing");

    // Revoking asks first, naming the application; only the answer acts.
    admin
        .goto(&app.url("/console/admin/applications"))
        .await
        .expect("applications");
    submit(&admin, "button[aria-label='Revoke Night tablet']").await;
    assert_eq!(heading(&admin).await, "Revoke “Night tablet”?");
    inspect(&admin, "confirm-revoke").await;
    let active = applications(&app).await;
    assert!(
        active
            .iter()
            .any(|a| a.name == "Night tablet" && a.revoked_at.is_none()),
        "asking revoked nothing"
    );
    submit(&admin, "form.confirm button").await;
    let after = applications(&app).await;
    assert!(after
        .iter()
        .any(|a| a.name == "Night tablet" && a.revoked_at.is_some()));
    admin.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_duplicate_category_is_refused_beside_its_field_with_the_value_kept() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = TestApp::demo().await;
    let admin = browser(&driver, true).await;
    sign_in(&admin, &app, ADMIN).await;
    admin
        .goto(&app.url("/console/admin/categories"))
        .await
        .expect("categories");
    fill(&admin, "#cat-name", "Night falls").await;
    submit(&admin, "form[action='/console/admin/categories'] button").await;
    admin
        .goto(&app.url("/console/admin/categories"))
        .await
        .expect("categories");
    fill(&admin, "#cat-name", "night  FALLS").await;
    submit(&admin, "form[action='/console/admin/categories'] button").await;
    let error = text_of(&admin, "#cat-error").await;
    assert_eq!(
        error,
        "name “night FALLS” is already used by another category"
    );
    let kept = value_of(&admin, "#cat-name").await;
    assert_eq!(kept.as_deref(), Some("night  FALLS"));
    let invalid = admin
        .find(Locator::Css("#cat-name"))
        .await
        .expect("field")
        .attr("aria-invalid")
        .await
        .expect("attr");
    assert_eq!(invalid.as_deref(), Some("true"));
    inspect(&admin, "category-refused").await;
    admin.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_board_reads_on_a_ward_tablet() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = TestApp::demo().await;
    let api = app.example().await;
    for (urgency, title) in [
        ("Exception", "Unresponsive"),
        ("High", "Fall"),
        ("Normal", "Weight"),
        ("Low", "Appetite"),
        ("No Issue", "Routine check"),
    ] {
        api.create_ticket(&[
            ("title", title),
            (
                "resident_id",
                &connecticket_domain::demo::DEMO_RESIDENT_IDS[0].to_string(),
            ),
            ("urgency_status", urgency),
        ])
        .await;
    }
    let nurse = browser(&driver, true).await;
    nurse
        .set_window_size(TABLET.0, TABLET.1)
        .await
        .expect("tablet");
    sign_in(&nurse, &app, NURSE).await;
    let viewport = number(&nurse, "return document.documentElement.clientWidth").await;
    let scroll = number(&nurse, "return document.documentElement.scrollWidth").await;
    assert!(
        scroll <= viewport,
        "no sideways scrolling: {scroll} > {viewport}"
    );
    let columns = nurse
        .find_all(Locator::Css(".column h2"))
        .await
        .expect("columns");
    assert_eq!(columns.len(), 4, "New, Open, In Progress, Reopen");
    for index in 0..columns.len() {
        let right = number(&nurse, &format!("return document.querySelectorAll('.column')[{index}].getBoundingClientRect().right")).await;
        assert!(
            right <= viewport,
            "status column {index} on screen: {right} > {viewport}"
        );
    }
    let first_card = number(
        &nurse,
        "return document.querySelector('.card').getBoundingClientRect().top",
    )
    .await;
    assert!(
        first_card <= 250.0,
        "the first card starts {first_card} px down"
    );

    // Urgency reads by word, shape and colour, each level its own.
    let marks: Vec<serde_json::Value> = serde_json::from_value(
        nurse
            .execute(
                "return [...document.querySelectorAll('.card .urgency-tag')].map(t => {
                   const m = getComputedStyle(t.querySelector('.mark'));
                   return [t.textContent.trim(), getComputedStyle(t).color, m.clipPath + '|' + m.borderRadius + '|' + m.width];
                 })",
                vec![],
            )
            .await
            .expect("marks"),
    )
    .expect("a list");
    let words: std::collections::BTreeSet<String> =
        marks.iter().map(|m| m[0].to_string()).collect();
    let colours: std::collections::BTreeSet<String> =
        marks.iter().map(|m| m[1].to_string()).collect();
    let shapes: std::collections::BTreeSet<String> =
        marks.iter().map(|m| m[2].to_string()).collect();
    assert_eq!(
        (words.len(), colours.len(), shapes.len()),
        (5, 5, 5),
        "{marks:?}"
    );
    inspect(&nurse, "board-ward").await;
    nurse.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_reflow_at_twice_the_zoom() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = TestApp::demo().await;
    let api = app.example().await;
    let ticket = api
        .create_ticket(&[
            ("title", "Fell in the corridor"),
            (
                "resident_id",
                &connecticket_domain::demo::DEMO_RESIDENT_IDS[0].to_string(),
            ),
            ("urgency_status", "High"),
            ("email", "1"),
            ("sent_to_family", "1"),
        ])
        .await;
    let nurse = browser(&driver, true).await;
    sign_in(&nurse, &app, NURSE).await;
    // A 1366-pixel-wide desktop at 200 % zoom lays out 683 CSS pixels.
    nurse
        .set_window_size(DESKTOP.0 / 2, DESKTOP.1)
        .await
        .expect("resize");
    for page in [
        "/console".to_owned(),
        format!("/console/tickets/{ticket}"),
        "/console/tickets/new".to_owned(),
        "/console/residents".to_owned(),
    ] {
        nurse.goto(&app.url(&page)).await.expect("page");
        let viewport = number(&nurse, "return document.documentElement.clientWidth").await;
        let scroll = number(&nurse, "return document.documentElement.scrollWidth").await;
        assert!(
            scroll <= viewport,
            "{page} scrolls sideways at 200 %: {scroll} > {viewport}"
        );
    }
    nurse.close().await.expect("close");
}

/// WCAG's contrast ratio between the text colour and the background of
/// every urgency marker, on the page as the browser draws it.
const CONTRAST: &str = "
  const lum = c => { const [r, g, b] = c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map(v => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  return [...document.querySelectorAll('.urgency-tag')].map(t => {
    const s = getComputedStyle(t); const a = lum(s.color), b = lum(s.backgroundColor);
    return [t.textContent.trim(), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });";

/// A wall screen: granted with a link (and its QR code) an administrator
/// opens on the screen, paired with one button, then the board read-only
/// at a monitor's size, its urgencies told apart, passing axe.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wall_display_is_paired_and_reads_across_the_room() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = TestApp::demo().await;
    let api = app.example().await;
    let resident = connecticket_domain::demo::DEMO_RESIDENT_IDS[0].to_string();
    for (title, urgency) in [
        ("Fell in the corridor", "Exception"),
        ("Missed evening dose", "High"),
    ] {
        api.create_ticket(&[
            ("title", title),
            ("resident_id", &resident),
            ("urgency_status", urgency),
        ])
        .await;
    }
    let admin = browser(&driver, true).await;
    sign_in(&admin, &app, ADMIN).await;
    admin
        .goto(&app.url("/console/admin/displays"))
        .await
        .expect("displays");
    fill(&admin, "#display-name", "Nurses' station").await;
    submit(&admin, "form[action='/console/admin/displays'] button").await;
    assert_eq!(path(&admin).await, "/console/shown-once");
    assert!(
        admin.find(Locator::Css("figure.qr svg")).await.is_ok(),
        "a QR code"
    );
    inspect(&admin, "display-granted").await;
    let link = text_of(&admin, "dd .secret").await;

    let screen = browser(&driver, true).await;
    screen.goto(&link).await.expect("the pairing link");
    assert_eq!(
        heading(&screen).await,
        "Pair this screen as a board display"
    );
    inspect(&screen, "display-pair").await;
    submit(&screen, "form button").await;
    assert_eq!(path(&screen).await, "/console/display");
    let board = text_of(&screen, "main").await;
    assert!(board.contains("Fell in the corridor") && board.contains("Missed evening dose"));
    assert!(
        screen
            .find(Locator::Css("main a[href^='/console/tickets/']"))
            .await
            .is_err(),
        "nothing on a wall screen opens a record"
    );
    inspect(&screen, "display").await;
    screen.close().await.expect("close");
    admin.close().await.expect("close");
}

/// With JavaScript, the new-ticket form's summary follows the urgency and
/// the boxes as they change: High ticks everyone and names them; unticking
/// every role says nobody will be told and asks for a confirmation before
/// anything is raised.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_new_ticket_form_says_who_will_be_told_as_choices_change() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = TestApp::demo().await;
    let resident = connecticket_domain::demo::DEMO_RESIDENT_IDS[0].to_string();
    let nurse = browser(&driver, true).await;
    sign_in(&nurse, &app, NURSE).await;
    nurse
        .goto(&app.url("/console/tickets/new"))
        .await
        .expect("form");
    fill(&nurse, "#title", "Found on the floor").await;
    let choose = |css: &'static str, value: String| {
        let nurse = &nurse;
        async move {
            nurse
                .find(Locator::Css(css))
                .await
                .expect(css)
                .select_by_value(&value)
                .await
                .expect("choose");
        }
    };
    choose("#resident_id", resident.clone()).await;
    super::console_browser::summary_for(&nurse, &resident).await;
    assert!(
        text_of(&nurse, ".telling")
            .await
            .contains("Nobody will be told"),
        "Normal tells nobody unasked"
    );
    choose("#urgency_status", "4".to_owned()).await;
    let summary = crate::support::eventually("the High summary", || async {
        let text = nurse
            .find(Locator::Css(".telling"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.contains("(family) by SMS and email").then_some(text)
    })
    .await;
    assert!(
        summary.contains(&format!("Family of resident {resident}")),
        "{summary}"
    );
    assert!(
        summary.contains("it escalates to the on call nurse"),
        "{summary}"
    );
    nurse
        .execute(
            "document.getElementById('telling').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    inspect(&nurse, "new-ticket-telling").await;
    // Untick every role: nobody, and a confirmation to tick.
    for name in [
        "sent_to_family",
        "sent_to_primary",
        "sent_to_healthcare_pro",
    ] {
        let css = format!("input[name={name}]");
        crate::support::eventually("the box to be redrawn", || async {
            let found = nurse.find(Locator::Css(&css)).await.ok()?;
            let ticked = found.prop("checked").await.ok()?? == "true";
            if ticked {
                found.click().await.ok()?;
            }
            let now = nurse
                .find(Locator::Css(&css))
                .await
                .ok()?
                .prop("checked")
                .await
                .ok()??;
            (now == "false").then_some(())
        })
        .await;
    }
    crate::support::eventually("the nobody summary", || async {
        let text = nurse
            .find(Locator::Css(".telling"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let asked = nurse.find(Locator::Css("#confirm_nobody")).await.is_ok();
        (text.contains("Nobody will be told") && asked).then_some(())
    })
    .await;
    submit(&nurse, "main form > p button[type=submit]").await;
    assert_eq!(
        path(&nurse).await,
        "/console/tickets/new",
        "nothing raised without the confirmation"
    );
    assert!(text_of(&nurse, ".notice.error")
        .await
        .contains("This High ticket tells nobody"));
    crate::support::browser::click(&nurse, "#confirm_nobody").await;
    submit(&nurse, "main form > p button[type=submit]").await;
    let raised = ticket_id(&nurse).await;
    assert!(raised > 0);
    nurse.close().await.expect("close");
}

/// The changed pages with the keyboard alone: a display granted by typing
/// its name and pressing Enter; the new ticket's urgency moved with the
/// arrow keys redraws who will be told, and Space unticks a role.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_new_pages_work_with_the_keyboard_alone() {
    const ENTER: &str = "\u{E007}";
    const DOWN: &str = "\u{E015}";
    const SPACE: &str = " ";
    let Some(driver) = driver().await else {
        return;
    };
    let app = TestApp::demo().await;
    let admin = browser(&driver, true).await;
    sign_in(&admin, &app, ADMIN).await;
    admin
        .goto(&app.url("/console/admin/displays"))
        .await
        .expect("displays");
    let page = admin.find(Locator::Css("html")).await.expect("page");
    let name = admin
        .find(Locator::Css("#display-name"))
        .await
        .expect("name");
    name.send_keys(&format!("Day room{ENTER}"))
        .await
        .expect("type");
    crate::support::eventually("the pairing link", || async {
        page.is_displayed().await.is_err().then_some(())
    })
    .await;
    assert_eq!(path(&admin).await, "/console/shown-once");
    assert!(text_of(&admin, "main")
        .await
        .contains("Board display granted: Day room"));

    let resident = connecticket_domain::demo::DEMO_RESIDENT_IDS[0].to_string();
    admin
        .goto(&app.url(&format!("/console/tickets/new?resident_id={resident}")))
        .await
        .expect("form");
    let urgency = admin
        .find(Locator::Css("#urgency_status"))
        .await
        .expect("urgency");
    // Normal, then one down the list: High.
    urgency.send_keys(DOWN).await.expect("arrow");
    crate::support::eventually("the High summary", || async {
        let text = admin
            .find(Locator::Css(".telling"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.contains("(family) by SMS and email").then_some(())
    })
    .await;
    let family = admin
        .find(Locator::Css("input[name=sent_to_family]"))
        .await
        .expect("family");
    family.send_keys(SPACE).await.expect("space");
    crate::support::eventually("family left out", || async {
        let text = admin
            .find(Locator::Css(".telling"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (!text.contains("(family) by") && text.contains("(primary physician) by")).then_some(())
    })
    .await;
    admin.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_page_passes_axe_in_both_themes() {
    let Some(driver) = driver().await else {
        return;
    };
    let app = TestApp::demo().await;
    let api = app.example().await;
    let resident = connecticket_domain::demo::DEMO_RESIDENT_IDS[0].to_string();
    let mut tickets = Vec::new();
    for urgency in ["Exception", "High", "Normal", "Low", "No Issue"] {
        tickets.push(
            api.create_ticket(&[
                ("title", urgency),
                ("resident_id", &resident),
                ("urgency_status", urgency),
                ("email", "1"),
                ("sent_to_family", "1"),
            ])
            .await,
        );
    }
    // A webhook that works and one that cannot be reached, for their page.
    let receiver = crate::support::WebhookReceiver::start().await;
    for url in [receiver.url.as_str(), "http://127.0.0.1:9/connecticket"] {
        let reply = send(api.post("webhooks").form(&[("url", url)])).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    api.create_ticket(&[("title", "For the webhooks"), ("resident_id", &resident)])
        .await;
    crate::support::eventually("a webhook failing", || async {
        let listed = send(api.get("webhooks")).await;
        listed.body["webhooks"][1]["last_error"]
            .is_string()
            .then_some(())
    })
    .await;
    let admin = browser(&driver, true).await;
    sign_in(&admin, &app, ADMIN).await;
    // This browser is a board display too, for the display's own page.
    let granted = app
        .api
        .grant_display(
            app.admin
                .within(Action::ManageDisplays, DEMO_PROVIDER_ID)
                .await,
            "Station",
        )
        .await
        .expect("a display");
    admin
        .goto(&app.url(&format!("/console/display/pair/{}", granted.pairing_code)))
        .await
        .expect("pairing page");
    let violations = accessibility_violations(&admin).await;
    assert!(violations.is_empty(), "pairing page: {violations:#?}");
    submit(&admin, "form button").await;
    assert_eq!(path(&admin).await, "/console/display");
    let pages = [
        "/console".to_owned(),
        format!("/console/tickets/{}", tickets[0]),
        "/console/tickets/new".to_owned(),
        "/console/residents".to_owned(),
        format!("/console/residents/{resident}"),
        "/console/account".to_owned(),
        "/console/admin".to_owned(),
        "/console/admin/employees".to_owned(),
        "/console/admin/applications".to_owned(),
        "/console/admin/categories".to_owned(),
        "/console/admin/escalation".to_owned(),
        "/console/admin/notifications".to_owned(),
        "/console/admin/templates".to_owned(),
        "/console/admin/audit".to_owned(),
        "/console/admin/displays".to_owned(),
        "/console/admin/webhooks".to_owned(),
        "/console/display".to_owned(),
        "/console/display/pair/not-a-code".to_owned(),
        "/console/shown-once".to_owned(),
    ];
    for scheme in ["light", "dark"] {
        prefer_color_scheme(&driver, &admin, scheme).await;
        for (size, label) in [(TABLET, "tablet"), (DESKTOP, "desktop")] {
            admin.set_window_size(size.0, size.1).await.expect("resize");
            for page in &pages {
                admin.goto(&app.url(page)).await.expect("page");
                let violations = accessibility_violations(&admin).await;
                assert!(
                    violations.is_empty(),
                    "{page} ({scheme}, {label}): {violations:#?}"
                );
            }
        }
        admin
            .goto(&app.url("/console/admin/webhooks"))
            .await
            .expect("webhooks");
        for (size, label) in [(TABLET, "tablet"), (DESKTOP, "desktop")] {
            admin.set_window_size(size.0, size.1).await.expect("resize");
            let png = admin.screenshot().await.expect("screenshot");
            std::fs::write(
                super::console_browser::screenshots()
                    .join(format!("webhooks-{scheme}-{label}.png")),
                png,
            )
            .expect("save");
        }
        admin.goto(&app.url("/console")).await.expect("board");
        let ratios: Vec<(String, f64)> =
            serde_json::from_value(admin.execute(CONTRAST, vec![]).await.expect("contrast"))
                .expect("ratios");
        let levels: std::collections::BTreeSet<&str> =
            ratios.iter().map(|(marker, _)| marker.as_str()).collect();
        assert_eq!(levels.len(), 5, "every urgency is on the board: {ratios:?}");
        for (marker, ratio) in &ratios {
            assert!(
                *ratio >= 4.5,
                "{marker} ({scheme}): contrast {ratio:.2} is under WCAG AA's 4.5"
            );
        }
        admin
            .goto(&app.url(&format!("/console/tickets/{}", tickets[0])))
            .await
            .expect("ticket");
        let png = admin.screenshot().await.expect("screenshot");
        std::fs::write(
            super::console_browser::screenshots().join(format!("ticket-{scheme}.png")),
            png,
        )
        .expect("save");
    }
    admin.close().await.expect("close");
}
