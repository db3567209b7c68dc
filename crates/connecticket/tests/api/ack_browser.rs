//! The acknowledgment page in a real browser: Debian's Chromium, driven
//! over WebDriver by Debian's chromedriver. With JavaScript off, the
//! page's form acknowledges with the keyboard alone; with it on, the page
//! has loaded nothing from anywhere else.

use connecticket_domain::audit::Action;
use connecticket_domain::demo::DEMO_RESIDENT_IDS;
use connecticket_domain::notify::AckVia;
use connecticket_domain::store::NotificationFilter;
use fantoccini::Locator;
use serde_json::json;

use crate::support::browser::{browser, driver};
use crate::support::{eventually, transports, MailCatcher, TestApp, TestOptions};

fn token_in(body: &str) -> String {
    let start = body.find("/ack/").expect("a link") + 5;
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_acknowledgment_page_works_without_javascript_and_loads_nothing_else() {
    let Some(driver) = driver().await else {
        return;
    };
    let mail = MailCatcher::start().await;
    let app = TestApp::spawn(TestOptions {
        notifications: transports(Some(&mail), None),
        public_url: Some("https://care.example.org".to_owned()),
        ..TestOptions::default()
    })
    .await;
    let session = app.example().await;
    session
        .create_ticket(&[
            ("title", "Fell in the garden"),
            ("resident_id", &DEMO_RESIDENT_IDS[0].to_string()),
            ("urgency_status", "Exception"),
            ("email", "1"),
        ])
        .await;
    let mails = eventually("three emails", || async {
        let mails = mail.mails();
        (mails.len() >= 3).then_some(mails)
    })
    .await;
    let tokens: Vec<String> = mails.iter().map(|m| token_in(&m.body())).collect();

    // JavaScript on: the page fetched nothing but itself.
    let inspecting = browser(&driver, true).await;
    inspecting
        .goto(&app.url(&format!("/ack/{}", tokens[1])))
        .await
        .expect("page");
    let resources = inspecting
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(resources, json!([]), "the page loaded other resources");
    let embedded = inspecting
        .execute("return document.querySelectorAll('script,link,img,iframe,object,embed,[style]').length", vec![])
        .await
        .expect("script");
    assert_eq!(embedded, json!(0));
    inspecting.close().await.expect("close");

    // JavaScript off: the form still acknowledges.
    let plain = browser(&driver, false).await;
    plain
        .goto(&app.url(&format!("/ack/{}", tokens[0])))
        .await
        .expect("page");
    let title = plain.title().await.expect("title");
    assert_eq!(title, "Please confirm you read this update");
    // With the keyboard alone: Tab reaches the button, Enter presses it.
    const TAB: &str = "\u{E004}";
    const ENTER: &str = "\u{E007}";
    plain
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .send_keys(TAB)
        .await
        .expect("Tab");
    let focused = plain.active_element().await.expect("focus");
    assert_eq!(
        focused.text().await.expect("text"),
        "Acknowledge",
        "Tab reaches the button first"
    );
    focused.send_keys(ENTER).await.expect("Enter");
    assert_eq!(crate::support::browser::heading(&plain).await, "Thank you");
    // The numbers to call are tap-to-call links.
    let numbers: Vec<String> = {
        let mut found = Vec::new();
        for link in plain
            .find_all(Locator::Css("a[href^='tel:']"))
            .await
            .expect("links")
        {
            found.push(link.attr("href").await.expect("href").unwrap_or_default());
        }
        found
    };
    assert_eq!(
        numbers,
        vec!["tel:+15555550100".to_owned(), "tel:+15555550101".to_owned()],
        "the callback and after-hours numbers"
    );
    // Opened again, the used link thanks; it does not alarm.
    plain
        .goto(&app.url(&format!("/ack/{}", tokens[0])))
        .await
        .expect("page again");
    let again = plain
        .find(Locator::Css("h1"))
        .await
        .expect("heading")
        .text()
        .await
        .expect("text");
    assert_eq!(again, "Already confirmed, thank you");
    plain.close().await.expect("close");

    let acknowledged: Vec<_> = app
        .api
        .outbox(
            app.admin.call(Action::NotificationQueue),
            NotificationFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("queue")
        .into_iter()
        .filter_map(|n| n.acknowledgment.map(|a| (n.address, a.via)))
        .collect();
    assert_eq!(acknowledged, vec![(mails[0].to[0].clone(), AckVia::Link)]);
}
