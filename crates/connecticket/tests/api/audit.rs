//! Every call leaves exactly one audit entry, asserted field by field.

use std::collections::BTreeSet;

use connecticket_domain::audit::{Action, AuditRecord, Outcome};
use connecticket_domain::demo::{
    DEMO_API_KEY, DEMO_EMPLOYEE_ID, DEMO_PROVIDER_ID, SUNRISE_PROVIDER_ID,
};
use futures::TryStreamExt;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::support::{eventually, send, Reply, TestApp, TestOptions};

/// The whole trail, the counts of refusals so far written first.
async fn entries(app: &TestApp) -> Vec<AuditRecord> {
    crate::support::audit_entries(app).await
}

/// The one entry written since `after` (waiting for it: a list's entry is
/// written when its stream ends).
async fn only_entry_since(app: &TestApp, after: i64) -> AuditRecord {
    eventually("the call's audit entry", || async {
        let new: Vec<_> = entries(app)
            .await
            .into_iter()
            .filter(|e| e.id > after)
            .collect();
        match new.len() {
            0 => None,
            1 => new.into_iter().next(),
            n => panic!("{n} entries for one call: {new:?}"),
        }
    })
    .await
}

/// A list's two entries written since `after`: the one recorded before its
/// first byte, and the one recorded when it ended.
async fn list_entries_since(app: &TestApp, after: i64) -> (AuditRecord, AuditRecord) {
    eventually("the list's two audit entries", || async {
        let new: Vec<_> = entries(app)
            .await
            .into_iter()
            .filter(|e| e.id > after)
            .collect();
        match <[AuditRecord; 2]>::try_from(new) {
            Ok([started, ended]) => {
                assert_eq!(started.outcome, Outcome::Started, "{started:?}");
                assert_eq!(started.action, ended.action);
                assert_eq!(started.request_id, ended.request_id);
                Some((started, ended))
            }
            Err(new) if new.len() > 2 => panic!("{} entries for one list: {new:?}", new.len()),
            Err(_) => None,
        }
    })
    .await
}

/// How many rows a list's closing entry says went out.
fn rows_sent(entry: &AuditRecord) -> u64 {
    let rows: Vec<u64> = entry
        .records
        .iter()
        .filter_map(|record| record.strip_prefix("rows:")?.parse().ok())
        .collect();
    assert_eq!(rows.len(), 1, "one row count in {entry:?}");
    rows[0]
}

async fn last_id(app: &TestApp) -> i64 {
    entries(app).await.last().map_or(0, |entry| entry.id)
}

fn records(items: &[&str]) -> Vec<String> {
    items
        .iter()
        .map(|s| s.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

struct Expect {
    provider: Option<i64>,
    application: Option<i64>,
    employee: Option<i64>,
    action: Action,
    outcome: Outcome,
    records: Vec<String>,
}

fn check(entry: &AuditRecord, reply: &Reply, expect: Expect) {
    assert_eq!(entry.provider_id, expect.provider, "provider of {entry:?}");
    assert_eq!(
        entry.application_id, expect.application,
        "application of {entry:?}"
    );
    assert_eq!(entry.employee_id, expect.employee, "employee of {entry:?}");
    assert_eq!(entry.action, expect.action);
    assert_eq!(entry.outcome, expect.outcome, "outcome of {entry:?}");
    assert_eq!(entry.records, expect.records, "records of {entry:?}");
    assert_eq!(entry.client_addr.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        Some(entry.request_id.as_str()),
        reply.header("x-request-id")
    );
    let age = chrono::Utc::now() - entry.at;
    assert!(age.num_seconds().abs() < 30, "timestamp {}", entry.at);
    assert_eq!(entry.hash, entry.computed_hash());
}

backend_tests! {
    async fn every_call_is_audited_field_by_field() {
        let app = TestApp::demo().await;
        let provider = DEMO_PROVIDER_ID;
        let application = app.api.list_applications(app.admin.within(Action::Applications, provider).await).await.expect("apps")[0].id;
        let app_id = Some(application.get());
        let demo = |action, outcome, records: Vec<String>| Expect {
            provider: Some(DEMO_PROVIDER_ID.get()),
            application: app_id,
            employee: Some(DEMO_EMPLOYEE_ID.get()),
            action,
            outcome,
            records,
        };

        // authorize: success, wrong secret, unknown key.
        let before = last_id(&app).await;
        let reply = send(app.http.post(app.url("/api/authorize"))
            .header("api_key", DEMO_API_KEY).header("api_secret", "wrong")).await;
        check(&only_entry_since(&app, before).await, &reply, Expect {
            employee: None,
            ..demo(Action::Authorize, Outcome::Denied, vec![])
        });
        let before = last_id(&app).await;
        let reply = send(app.http.post(app.url("/api/authorize"))
            .header("api_key", "nobody").header("api_secret", "x")).await;
        check(&only_entry_since(&app, before).await, &reply, Expect {
            provider: None, application: None, employee: None,
            ..demo(Action::Authorize, Outcome::Denied, vec![])
        });
        let before = last_id(&app).await;
        let session = app.example().await;
        let entry = only_entry_since(&app, before).await;
        assert_eq!(entry.action, Action::Authorize);
        assert_eq!(entry.outcome, Outcome::Success);
        assert_eq!(entry.records, records(&[&format!("application:{application}")]));

        // The reads: lists leave a started entry, then one naming every
        // record sent and how many rows went out.
        let lists: Vec<(&str, Action, Vec<String>)> = vec![
            ("tickets", Action::Tickets, records(&["ticket:201", "ticket:202", "resident:501333996", "resident:889283349", "rows:2"])),
            ("all_residents", Action::AllResidents, records(&["resident:501333996", "resident:889283349", "rows:2"])),
        ];
        for (call, action, touched) in lists {
            let before = last_id(&app).await;
            let reply = send(session.get(call)).await;
            assert_eq!(reply.status, StatusCode::OK);
            let (started, ended) = list_entries_since(&app, before).await;
            check(&started, &reply, demo(action, Outcome::Started, vec![]));
            check(&ended, &reply, demo(action, Outcome::Success, touched));
        }
        let calls: Vec<(&str, Action, Vec<String>)> = vec![
            ("ticket_detail?id=202", Action::TicketDetail, records(&["ticket:202", "resident:889283349"])),
            ("provider_categories", Action::ProviderCategories, records(&["category:19", "category:22", "category:33", "category:34"])),
        ];
        for (call, action, touched) in calls {
            let before = last_id(&app).await;
            let reply = send(session.get(call)).await;
            assert_eq!(reply.status, StatusCode::OK);
            check(&only_entry_since(&app, before).await, &reply, demo(action, Outcome::Success, touched));
        }

        // The writes.
        let before = last_id(&app).await;
        let reply = send(session.post("update_status?id=202&status=Open")).await;
        check(&only_entry_since(&app, before).await, &reply,
            demo(Action::UpdateStatus, Outcome::Success, records(&["ticket:202", "resident:889283349"])));
        let form = Form::new().text("title", "Audited").text("resident_id", "501333996")
            .part("attachment", Part::bytes(vec![1, 2]).file_name("a.bin"));
        let before = last_id(&app).await;
        let reply = send(session.post("create_ticket").header("Idempotency-Key", "audit-1").multipart(form)).await;
        let ticket = reply.body["ticket_id"].as_i64().expect("id");
        let detail = session.detail(ticket).await;
        let attachment = detail.body["ticket_with_details"]["ticket_attachments"][0]["id"].as_i64().expect("attachment");
        let created = entries(&app).await.into_iter().find(|e| e.id == before + 1).expect("entry");
        check(&created, &reply, demo(Action::CreateTicket, Outcome::Success, records(&[
            &format!("ticket:{ticket}"), "resident:501333996", &format!("attachment:{attachment}")])));
        let before = last_id(&app).await;
        let again = Form::new().text("title", "Audited").text("resident_id", "501333996")
            .part("attachment", Part::bytes(vec![1, 2]).file_name("a.bin"));
        let reply = send(session.post("create_ticket").header("Idempotency-Key", "audit-1").multipart(again)).await;
        check(&only_entry_since(&app, before).await, &reply, demo(Action::CreateTicket, Outcome::Replayed,
            records(&[&format!("ticket:{ticket}"), "resident:501333996"])));
        let before = last_id(&app).await;
        let reply = send(session.post("create_comment").form(&[("ticket_id", "202"), ("comment", "x"), ("category_id", "19")])).await;
        let comment = reply.body["comment_id"].as_i64().expect("comment");
        check(&only_entry_since(&app, before).await, &reply, demo(Action::CreateComment, Outcome::Success,
            records(&["ticket:202", "resident:889283349", "category:19", &format!("comment:{comment}")])));
        let before = last_id(&app).await;
        let reply = send(session.get(&format!("attachments/{attachment}"))).await;
        check(&only_entry_since(&app, before).await, &reply, demo(Action::Attachment, Outcome::Success,
            records(&[&format!("attachment:{attachment}"), &format!("ticket:{ticket}"), "resident:501333996"])));

        // Invalid, not found, denied and cross-tenant attempts.
        let before = last_id(&app).await;
        let reply = send(session.post("create_ticket").form(&[("resident_id", "501333996")])).await;
        check(&only_entry_since(&app, before).await, &reply, demo(Action::CreateTicket, Outcome::Invalid, vec![]));
        let before = last_id(&app).await;
        let reply = send(session.get("ticket_detail?id=999999")).await;
        check(&only_entry_since(&app, before).await, &reply, demo(Action::TicketDetail, Outcome::NotFound, records(&["ticket:999999"])));
        let mut bogus = session.clone();
        bogus.token = "notarealtoken0000000000000".to_owned();
        let before = last_id(&app).await;
        let reply = send(bogus.get("all_residents")).await;
        // Nobody could be named: counted into one entry per source and
        // action (written every minute), here of one refusal.
        check(&only_entry_since(&app, before).await, &reply, Expect {
            provider: None, application: None, employee: None,
            ..demo(Action::AllResidents, Outcome::Denied, records(&["refusals:1"]))
        });
        let sunrise = app.sunrise().await;
        let sunrise_app = app.api.list_applications(app.admin.within(Action::Applications, SUNRISE_PROVIDER_ID).await).await.expect("apps")[0].clone();
        let before = last_id(&app).await;
        let reply = send(sunrise.get("ticket_detail?id=202")).await;
        check(&only_entry_since(&app, before).await, &reply, Expect {
            provider: Some(SUNRISE_PROVIDER_ID.get()),
            application: Some(sunrise_app.id.get()),
            employee: Some(sunrise_app.employee_id.get()),
            action: Action::TicketDetail,
            outcome: Outcome::NotFound,
            records: records(&["ticket:202"]),
        });
        let before = last_id(&app).await;
        let reply = send(sunrise.get(&format!("attachments/{attachment}"))).await;
        let entry = only_entry_since(&app, before).await;
        assert_eq!((entry.provider_id, entry.outcome), (Some(SUNRISE_PROVIDER_ID.get()), Outcome::NotFound));
        assert_eq!(entry.records, records(&[&format!("attachment:{attachment}")]));
        assert_eq!(reply.status, StatusCode::NOT_FOUND);

        // And the whole chain verifies.
        let written = entries(&app).await.len() as u64;
        let verified = app.api.verify_audit(app.admin.call(Action::AuditTrail)).await.expect("verify");
        assert_eq!(verified, Ok(written));
    }

    async fn a_client_that_stops_reading_a_list_is_audited_as_aborted() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let provider = DEMO_PROVIDER_ID;
        let many: Vec<_> = (0..10_000)
            .map(|n| connecticket_domain::model::NewResident::named(format!("R{n}")))
            .collect();
        app.api.create_residents(app.admin.within(Action::CreateResidents, provider).await, many).await.expect("residents");
        let before = last_id(&app).await;
        let response = session.get("all_residents").send().await.expect("sent");
        let mut body = response.bytes_stream();
        let first = futures::StreamExt::next(&mut body).await;
        assert!(first.is_some());
        drop(body);
        let (started, entry) = list_entries_since(&app, before).await;
        assert_eq!(started.action, Action::AllResidents);
        // Far more than socket buffers hold, so the server cannot have sent
        // it all: the entry says the list was cut short, and counts only the
        // residents that went out.
        assert_eq!(entry.outcome, Outcome::Aborted);
        let sent = rows_sent(&entry);
        assert!(sent > 0 && sent < 10_002, "{sent} rows");
        assert!(entry.records.len() <= connecticket_domain::service::MAX_LISTED_RECORDS + 1);
    }

    async fn a_page_of_a_list_is_one_entry_naming_what_it_sent() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let before = last_id(&app).await;
        let reply = send(session.get("tickets?per_page=1&page=2")).await;
        let tickets = reply.body["ticket"].as_array().cloned().unwrap_or_default();
        assert_eq!(tickets.len(), 1, "{:?}", reply.body);
        let entry = only_entry_since(&app, before).await;
        assert_eq!((entry.action, entry.outcome), (Action::Tickets, Outcome::Success));
        assert_eq!(rows_sent(&entry), 1);
        assert_eq!(entry.records.len(), 3, "one ticket, its resident, the count: {entry:?}");
        for ticket in &tickets {
            let id = &ticket["id"];
            let resident = &ticket["resident_id"];
            assert!(entry.records.contains(&format!("ticket:{id}")), "{entry:?} lacks {id}");
            assert!(entry.records.contains(&format!("resident:{resident}")), "{entry:?}");
        }
    }

    async fn a_long_list_names_a_bounded_number_of_records_and_counts_them_all() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        let many: Vec<_> = (0..5_000)
            .map(|n| connecticket_domain::model::NewResident::named(format!("R{n}")))
            .collect();
        app.api.create_residents(app.admin.within(Action::CreateResidents, DEMO_PROVIDER_ID).await, many).await.expect("residents");
        let before = last_id(&app).await;
        let reply = send(session.get("all_residents")).await;
        assert_eq!(reply.body["residents"].as_array().map(Vec::len), Some(5_002));
        let (_, ended) = list_entries_since(&app, before).await;
        assert_eq!(ended.outcome, Outcome::Success);
        assert_eq!(rows_sent(&ended), 5_002);
        let limit = connecticket_domain::service::MAX_LISTED_RECORDS;
        assert_eq!(ended.records.len(), limit + 1, "the cap and the row count");
    }

    async fn retention_runs_inside_the_server() {
        let clock = connecticket_domain::clock::ManualClock::new();
        let app = TestApp::spawn(TestOptions {
            audit_retention: Some(chrono::Duration::days(30)),
            audit_prune_interval: std::time::Duration::from_millis(20),
            clock: clock.clone(),
            ..TestOptions::default()
        })
        .await;
        let session = app.example().await;
        send(session.get("provider_categories")).await;
        let before = entries(&app).await.len();
        assert!(before >= 2);
        clock.advance(chrono::Duration::days(31));
        send(session.get("provider_categories")).await;
        let pruned = eventually("retention to prune the month-old entries", || async {
            let chains = app.store.audit_chains().await.expect("chains");
            let pruned: i64 = chains.iter().map(|chain| chain.pruned_through_seq).sum();
            (pruned > 0).then_some(pruned)
        })
        .await;
        assert_eq!(pruned, before as i64, "everything older than 30 days");
        // What remains: the read made after, and the pruning's own entry,
        // naming the server's retention as who pruned.
        let remaining = entries(&app).await;
        let pruning = remaining.iter().find(|e| e.action == Action::PruneAudit).expect("the pruning's entry");
        assert_eq!(pruning.actor.as_deref(), Some("connecticket audit-retention"));
        assert!(pruning.records.contains(&format!("pruned:{before}")), "{pruning:?}");
        let verified = app.api.verify_audit(app.admin.call(Action::AuditTrail)).await.expect("verify");
        assert_eq!(verified, Ok(remaining.len() as u64));
    }

    async fn operators_reading_and_writing_residents_are_audited() {
        let app = TestApp::demo().await;
        let before = last_id(&app).await;
        let call = app.admin.within(Action::CreateResidents, DEMO_PROVIDER_ID).await;
        let ids = app
            .api
            .create_residents(call, vec![connecticket_domain::model::NewResident::named("Op")])
            .await
            .expect("create");
        let created = only_entry_since(&app, before).await;
        assert_eq!((created.action, created.outcome), (Action::CreateResidents, Outcome::Success));
        assert!(created.request_id.starts_with("cli-"), "{created:?}");
        assert_eq!(created.actor.as_deref(), Some(crate::support::TEST_OPERATOR));
        assert_eq!(created.records, records(&[&format!("resident:{}", ids[0])]));
        let before = last_id(&app).await;
        let listed: Vec<Vec<_>> = app.api.list_residents(app.admin.within(Action::AllResidents, DEMO_PROVIDER_ID).await).await.expect("list").try_collect().await.expect("list");
        assert_eq!(listed.concat().len(), 3);
        let (_, read) = list_entries_since(&app, before).await;
        assert_eq!((read.action, read.actor.as_deref()), (Action::AllResidents, Some(crate::support::TEST_OPERATOR)));
        assert_eq!(rows_sent(&read), 3);
        assert_eq!(read.records.len(), 4, "three residents and the row count");
    }
}
