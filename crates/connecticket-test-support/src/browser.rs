//! A real browser for the tests: Debian's Chromium, headless, driven over
//! WebDriver by Debian's chromedriver (nothing downloaded). Where they are
//! missing the browser tests are skipped with a message, unless
//! `CONNECTICKET_TEST_BROWSER_REQUIRED` is set (CI sets it).

use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::eventually;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// axe-core, vendored from npm (see `assets/VENDORED.md`).
const AXE: &str = include_str!("../assets/axe.min.js");
const AXE_SUMS: &str = include_str!("../assets/SHA256SUMS");

/// A chromedriver process, stopped when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts chromedriver on a free port, or says why not.
pub async fn driver() -> Option<Driver> {
    let present =
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
    if !present {
        assert!(
            std::env::var("CONNECTICKET_TEST_BROWSER_REQUIRED").is_err(),
            "chromium and chromium-driver are required (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: {CHROMEDRIVER} or {CHROMIUM} is not installed");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("addr")
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    eventually("chromedriver to be ready", || async {
        let status = http
            .get(format!("{}/status", driver.url))
            .send()
            .await
            .ok()?;
        let body: serde_json::Value = status.json().await.ok()?;
        (body["value"]["ready"] == true).then_some(())
    })
    .await;
    Some(driver)
}

/// A headless browser window; `javascript: false` turns scripts off as a
/// user's setting would.
pub async fn browser(driver: &Driver, javascript: bool) -> Client {
    let mut options = json!({
        "binary": CHROMIUM,
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1366,768"],
    });
    if !javascript {
        options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".to_owned(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".to_owned(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// Makes pages see `prefers-color-scheme: dark` or `light`, as a device's
/// setting would (Chromium's DevTools protocol, through chromedriver).
pub async fn prefer_color_scheme(driver: &Driver, client: &Client, scheme: &str) {
    let session = client
        .session_id()
        .await
        .expect("a session")
        .expect("a session id");
    let answer = reqwest::Client::new()
        .post(format!("{}/session/{session}/goog/cdp/execute", driver.url))
        .json(&json!({
            "cmd": "Emulation.setEmulatedMedia",
            "params": {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
        }))
        .send()
        .await
        .expect("chromedriver answers");
    assert!(
        answer.status().is_success(),
        "{}",
        answer.text().await.unwrap_or_default()
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// axe-core's serious and critical violations on the current page, each
/// as `rule: targets`.
pub async fn accessibility_violations(client: &Client) -> Vec<String> {
    let recorded = AXE_SUMS
        .split_whitespace()
        .next()
        .expect("axe.min.js's checksum");
    assert_eq!(
        sha256_hex(AXE.as_bytes()),
        recorded,
        "the vendored axe-core changed"
    );
    client
        .execute(&format!("{AXE}\nreturn typeof axe;"), vec![])
        .await
        .expect("axe-core loads");
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    serde_json::from_value(found).expect("a list of violations")
}

/// Types `text` into the field `css` names, replacing what it held.
pub async fn fill(client: &Client, css: &str, text: &str) {
    let field = client.find(Locator::Css(css)).await.expect(css);
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .click()
        .await
        .expect("click");
}

/// Clicks a link or a form's button and waits until the next page has
/// replaced this one (a click returns when the browser has begun to
/// navigate).
pub async fn submit(client: &Client, css: &str) {
    let page = client.find(Locator::Css("html")).await.expect("a page");
    click(client, css).await;
    eventually("the next page", || async {
        let replaced = page.is_displayed().await.is_err();
        let ready = client
            .execute("return document.readyState", vec![])
            .await
            .ok()?
            == "complete";
        (replaced && ready).then_some(())
    })
    .await;
}

/// The text of the element `css` names.
pub async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .expect(css)
        .text()
        .await
        .expect("text")
}

/// The page's `h1`.
pub async fn heading(client: &Client) -> String {
    text_of(client, "h1").await
}
