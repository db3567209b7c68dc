//! `bench/postgres-ceiling` measures PostgreSQL alone on the statements
//! the server sends for each write, so that the benchmark's ratio of the
//! server to that ceiling means something. These tests make each write of
//! the benchmark through the store, capture what it sends (the
//! `connecticket::sql` trace), and compare it with the script: the same
//! statements, in the same order, differing only in their values
//! (pgbench's literals and variables where the server binds arguments).

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::{Mutex, Once};

use bytes::Bytes;
use connecticket_domain::audit::Action;
use connecticket_domain::model::{NewAttachment, NewCategory, Rating};
use connecticket_domain::store::{StatusUpdate, Store, TicketStore};
use connecticket_domain::workflow::{CategoryRating, TicketStatus};
use connecticket_store::testing::conformance::fixtures::{
    admin_entry, comment, t0, tenant, ticket, write, Tenant,
};
use connecticket_store::testing::TestDatabase;
use connecticket_store_postgres::STATEMENTS;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

mod support;

static SENT: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps the text of every statement traced.
struct Capture;

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != STATEMENTS {
            return;
        }
        struct Message(String);
        impl Visit for Message {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        SENT.lock().unwrap().push(message.0);
    }
}

fn capture() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry()
            .with(Capture.with_filter(tracing_subscriber::filter::LevelFilter::TRACE));
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
    });
}

/// The statements sent since the last call, without the lane's own
/// (`BEGIN`, savepoints, `COMMIT`: the script frames each write with
/// `BEGIN` and `COMMIT`).
fn sent() -> Vec<String> {
    let framing = [
        "BEGIN",
        "RELEASE",
        "SAVEPOINT",
        "SET LOCAL",
        "COMMIT",
        "ROLLBACK",
    ];
    std::mem::take(&mut *SENT.lock().unwrap())
        .into_iter()
        .filter(|sql| !framing.iter().any(|word| sql.starts_with(word)))
        .collect()
}

/// A script's statements between its `BEGIN` and `COMMIT`.
fn script(name: &str) -> Vec<String> {
    let path = format!(
        "{}/../../bench/postgres-ceiling/{name}.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("the ceiling's script");
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with("--") || line.starts_with('\\') {
            continue;
        }
        // `\aset` and `\gset` end the statement they follow.
        let (sql, ends) = match line.find(" \\") {
            Some(at) => (&line[..at], true),
            None => (line.trim_end_matches(';'), line.ends_with(';')),
        };
        current.push_str(sql);
        current.push('\n');
        if ends {
            statements.push(std::mem::take(&mut current));
        }
    }
    statements
        .into_iter()
        .filter(|sql| !matches!(sql.trim(), "BEGIN" | "COMMIT"))
        .collect()
}

/// A statement's tokens: quoted literals, `$n` and `:name` whole, words and
/// numbers, and each other character alone; whitespace dropped.
fn tokens(sql: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let mut token = c.to_string();
        match c {
            c if c.is_whitespace() => continue,
            '\'' => {
                while let Some(c) = chars.next() {
                    token.push(c);
                    if c == '\'' {
                        if chars.peek() == Some(&'\'') {
                            token.extend(chars.next());
                        } else {
                            break;
                        }
                    }
                }
            }
            c if c.is_ascii_alphanumeric() || matches!(c, '$' | ':' | '_') => {
                while let Some(next) = chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_') {
                    token.push(next);
                }
            }
            _ => {}
        }
        tokens.push(token);
    }
    tokens
}

/// A value pgbench sends where the server binds an argument: a literal
/// or one of the script's variables.
fn is_value(token: &str) -> bool {
    token.starts_with(['\'', ':'])
        || token.chars().all(|c| c.is_ascii_digit())
        || ["NULL", "true", "false"].contains(&token)
}

/// Whether the script's statement is the server's, token for token, with
/// a value wherever the server has a placeholder.
fn same_statement(server: &str, script: &str) -> bool {
    let (server, script) = (tokens(server), tokens(script));
    server.len() == script.len()
        && server.iter().zip(&script).all(|(ours, theirs)| {
            if ours.starts_with('$') {
                is_value(theirs)
            } else {
                ours == theirs
            }
        })
}

fn assert_sends(name: &str, sent: Vec<String>) {
    let script = script(name);
    let same = sent.len() == script.len()
        && sent
            .iter()
            .zip(&script)
            .all(|(server, script)| same_statement(server, script));
    assert!(
        same,
        "bench/postgres-ceiling/{name}.sql no longer sends what the server sends; the server sent:\n{}",
        sent.join(";\n")
    );
}

/// The benchmark's tenant: four categories.
async fn benchmark_tenant(store: &dyn Store) -> Tenant {
    let mut tenant = tenant(store, "Ceiling").await;
    for name in ["Medication", "Mood"] {
        let made = store
            .create_category(
                NewCategory {
                    id: None,
                    provider_id: tenant.provider.id,
                    name: name.to_owned(),
                    created_at: t0(),
                },
                admin_entry(),
            )
            .await
            .expect("category");
        tenant.categories.push(made.id);
    }
    tenant
}

/// The benchmark's `create_ticket`: four ratings and a comment, no one
/// asked to be told.
fn benchmark_ticket(tenant: &Tenant) -> connecticket_domain::model::NewTicket {
    let mut new = ticket(tenant, "Fall in room");
    new.sms = None;
    new.sent_to_primary = None;
    let ratings = [
        CategoryRating::Issue,
        CategoryRating::NoIssue,
        CategoryRating::PotentialIssue,
        CategoryRating::NoIssue,
    ];
    new.ratings = tenant
        .categories
        .iter()
        .zip(ratings)
        .map(|(category, rating)| Rating {
            category_id: *category,
            rating,
        })
        .collect();
    new.comments = vec![comment(tenant, None, "Found on the floor")];
    new
}

#[tokio::test]
async fn the_ceiling_benchmark_sends_each_write_as_the_server_does() {
    let Some(database) = TestDatabase::postgres_unmigrated().await else {
        return;
    };
    capture();
    let store = support::open_one_lane(&database.url).await;
    let tenant = benchmark_tenant(&store as &dyn Store).await;
    let provider = tenant.provider.id;
    // The tenant's own writes are not the benchmark's.
    sent();

    let created = store
        .create_ticket(
            provider,
            benchmark_ticket(&tenant),
            write(&tenant, Action::CreateTicket),
        )
        .await
        .expect("create")
        .into_inner();
    assert_sends("create_ticket", sent());

    let mut with_file = ticket(&tenant, "Photo of the bruise");
    with_file.sms = None;
    with_file.sent_to_primary = None;
    with_file.attachments = vec![NewAttachment {
        file_name: "bruise.jpg".to_owned(),
        content_type: "image/jpeg".to_owned(),
        data: Bytes::from_static(&[0xff, 0xd8, 0xff, 0xe0]),
    }];
    store
        .create_ticket(provider, with_file, write(&tenant, Action::CreateTicket))
        .await
        .expect("create with a file");
    assert_sends("create_ticket_file", sent());

    let update = StatusUpdate {
        ticket_id: created,
        status: TicketStatus::InProgress,
        employee_id: tenant.employee.id,
        application_id: Some(tenant.application.id),
        at: t0(),
        notify: Default::default(),
        expected_version: None,
    };
    store
        .update_status(provider, update, write(&tenant, Action::UpdateStatus))
        .await
        .expect("update");
    assert_sends("update_status", sent());

    let remark = comment(&tenant, Some(tenant.categories[0]), "Checked again at noon");
    store
        .create_comment(
            provider,
            created,
            remark,
            write(&tenant, Action::CreateComment),
        )
        .await
        .expect("comment");
    assert_sends("create_comment", sent());
}

#[test]
fn a_script_matches_only_the_server_statement_with_values_for_its_placeholders() {
    let server = "INSERT INTO t (a, b2) VALUES ($1, $2) RETURNING id";
    assert!(same_statement(
        server,
        "INSERT INTO t (a, b2) VALUES (:x, 'it''s')  RETURNING id"
    ));
    assert!(same_statement(
        server,
        "INSERT INTO t (a, b2)\n VALUES (17, NULL) RETURNING id"
    ));
    assert!(!same_statement(
        server,
        "INSERT INTO t (a, b3) VALUES (1, 2) RETURNING id"
    ));
    assert!(!same_statement(
        server,
        "INSERT INTO t (a, b2) VALUES (1, 2)"
    ));
    assert!(!same_statement(
        "UPDATE t SET v = v + 1 WHERE id = $1",
        "UPDATE t SET v = v + 2 WHERE id = 7"
    ));
    assert!(!same_statement("SELECT $1", "SELECT a"));
}
