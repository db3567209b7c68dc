//! `/docs`: every example on the page runs, in the shell (curl), Ruby
//! (net/http) and Python (requests), against a live demo server, and
//! answers what the page shows (values that differ run to run, such as
//! new ids, tokens and clocks, only have to be there).

use std::process::Command;

use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET};
use connecticket_http::docs::{EXAMPLES, VOLATILE_KEYS};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::TestApp;

/// Where `real` differs from `shown`.
fn differences(shown: &Value, real: &Value, at: &str, out: &mut Vec<String>) {
    match (shown, real) {
        (Value::Object(a), Value::Object(b)) => {
            let keys_a: Vec<_> = a.keys().collect();
            let keys_b: Vec<_> = b.keys().collect();
            if keys_a != keys_b {
                out.push(format!("{at}: keys {keys_a:?} shown, {keys_b:?} answered"));
                return;
            }
            for (key, value) in a {
                let inner = format!("{at}.{key}");
                if VOLATILE_KEYS.contains(&key.as_str()) {
                    if value.is_null() != b[key].is_null() {
                        out.push(format!("{inner}: {value} shown, {} answered", b[key]));
                    }
                } else {
                    differences(value, &b[key], &inner, out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (n, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{at}[{n}]"), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{at}: {a} shown, {b} answered")),
    }
}

/// Runs every example in one language, in order, as a reader would.
fn run_all(language: &str, base: &str) -> Vec<String> {
    let mut env: Vec<(String, String)> = vec![
        ("BASE".to_owned(), base.to_owned()),
        ("API_KEY".to_owned(), DEMO_API_KEY.to_owned()),
        ("API_SECRET".to_owned(), DEMO_API_SECRET.to_owned()),
    ];
    let mut problems = Vec::new();
    for example in EXAMPLES {
        let (program, flag, code) = match language {
            "shell" => ("sh", "-c", example.shell()),
            "ruby" => ("ruby", "-e", example.ruby()),
            _ => ("python3", "-c", example.python()),
        };
        let output = Command::new(program)
            .arg(flag)
            .arg(&code)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap_or_else(|error| panic!("{program}: {error}"));
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{language} {}: {printed}{}",
            example.id,
            String::from_utf8_lossy(&output.stderr)
        );
        let real: Value = match serde_json::from_str(printed.trim()) {
            Ok(real) => real,
            Err(_) => {
                problems.push(format!("{language} {}: not JSON: {printed}", example.id));
                continue;
            }
        };
        let shown: Value = serde_json::from_str(example.answer).expect("the shown answer is JSON");
        let mut found = Vec::new();
        differences(&shown, &real, example.id, &mut found);
        if !found.is_empty() {
            problems.push(format!(
                "{language} {}: {}\n  answered: {real}",
                example.id,
                found.join("; ")
            ));
        }
        if let Some((variable, key)) = example.exports {
            let value = match &real[key] {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            env.push((variable.to_owned(), value));
        }
    }
    problems
}

fn available(program: &str, probe: &[&str]) -> bool {
    Command::new(program)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_example_of_the_docs_page_runs_in_three_languages_and_answers_as_shown() {
    let languages = [
        ("shell", available("curl", &["--version"])),
        ("ruby", available("ruby", &["-e", "require 'net/http'"])),
        ("python", available("python3", &["-c", "import requests"])),
    ];
    let mut problems = Vec::new();
    for (language, present) in languages {
        if !present {
            assert!(
                std::env::var("CONNECTICKET_TEST_DOCS_REQUIRED").is_err(),
                "{language} is required to run the docs' examples"
            );
            eprintln!("skipped the {language} examples: no interpreter");
            continue;
        }
        // A fresh demo per language: each reader starts from the same data.
        let app = TestApp::demo().await;
        let base = app.base.clone();
        let found = tokio::task::spawn_blocking(move || run_all(language, &base))
            .await
            .expect("join");
        problems.extend(found);
    }
    assert!(
        problems.is_empty(),
        "the docs' examples differ:\n{}",
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_is_self_contained_and_shows_every_call() {
    let app = TestApp::demo().await;
    let page = app
        .http
        .get(app.url("/docs"))
        .send()
        .await
        .expect("GET /docs");
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let html = page.text().await.expect("html");
    for example in EXAMPLES {
        assert!(
            html.contains(&format!("id=\"{}\"", example.id)),
            "{} missing",
            example.id
        );
    }
    // Nothing to fetch: no script, stylesheet, image, frame or font.
    for needle in [
        "<script", "src=", "<link", "url(", "@import", "<img", "<iframe",
    ] {
        assert!(
            !html.contains(needle),
            "{needle} on a page that must load nothing"
        );
    }
    // The code as a reader sees it (the page escapes it as HTML).
    let text = html
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    for example in EXAMPLES {
        for code in [example.shell(), example.ruby(), example.python()] {
            assert!(
                text.contains(&code),
                "{} not shown as run:\n{code}",
                example.id
            );
        }
    }
    assert!(
        text.contains("curl -s -X POST \"$BASE/api/authorize\""),
        "the shell example"
    );
    assert!(
        html.contains("Net::HTTP::Post.new(uri)"),
        "the Ruby example"
    );
    assert!(text.contains("requests.post("), "the Python example");
}

/// The published demo credentials are on a demo server's page only: a real
/// deployment's page never suggests them.
#[tokio::test]
async fn the_demo_credentials_are_shown_by_a_demo_server_only() {
    use crate::support::{TestApp, TestOptions};
    use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET};
    let demo = TestApp::spawn(TestOptions::default()).await;
    let page = reqwest::get(demo.url("/docs"))
        .await
        .expect("docs")
        .text()
        .await
        .expect("page");
    assert!(page.contains(DEMO_API_KEY) && page.contains(DEMO_API_SECRET));
    let real = TestApp::spawn(TestOptions {
        demo: false,
        ..TestOptions::default()
    })
    .await;
    let page = reqwest::get(real.url("/docs"))
        .await
        .expect("docs")
        .text()
        .await
        .expect("page");
    assert!(
        !page.contains(DEMO_API_KEY) && !page.contains(DEMO_API_SECRET),
        "{page}"
    );
    assert!(page.contains("your application's own credentials"));
}
