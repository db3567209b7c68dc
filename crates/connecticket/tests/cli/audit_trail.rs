//! The audit trail from the operator's side: export with filters, and
//! verification that catches tampering behind the server's back.

use connecticket_domain::audit::{Action, Outcome};
use reqwest::StatusCode;

use crate::support::{
    admin, eventually, send, Backend, Session, TestApp, TestDatabase, TestOptions,
};

/// Runs SQL on the test database directly, as an intruder would.
async fn tamper(app: &TestApp, sql: &str) {
    if app.database_url.starts_with("postgres") {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&app.database_url)
            .await
            .expect("connect");
        sqlx::raw_sql(sql).execute(&mut conn).await.expect("tamper");
    } else {
        let path = app.database_url.trim_start_matches("sqlite://").to_owned();
        let sql = sql.to_owned();
        tokio::task::spawn_blocking(move || {
            let conn = rusqlite::Connection::open(path).expect("open");
            conn.execute_batch(&sql).expect("tamper");
        })
        .await
        .expect("task");
    }
}

fn verify(app: &TestApp) -> (bool, String) {
    let (ok, out, err) = admin(&app.database_url, &["audit", "verify"]);
    (ok, format!("{out}{err}"))
}

async fn app_with_history() -> TestApp {
    let app = TestApp::spawn_on(
        TestDatabase::create(Backend::current()).await,
        TestOptions::default(),
    )
    .await;
    let session = app.example().await;
    let sunrise = app.sunrise().await;
    for call in [
        "tickets",
        "ticket_detail?id=202",
        "ticket_detail?id=201",
        "all_residents",
    ] {
        assert_eq!(send(session.get(call)).await.status, StatusCode::OK);
    }
    send(sunrise.get("ticket_detail?id=202")).await;
    send(session.post("update_status?id=201&status=Closed")).await;
    // A list's "started" entry is durable before its first byte; its
    // outcome follows when the stream ends; and a refusal (Sunrise's read
    // of a ticket not theirs) is appended after its answer, without
    // holding it. Tampering must wait for those last entries, or the
    // server would chain one onto a deleted entry (seen once in CI under
    // load: "entry 26 follows entry 24").
    eventually(
        "the lists' closing and the refusal's audit entries",
        || async {
            let entries: Vec<Vec<connecticket_domain::audit::AuditRecord>> =
                futures::TryStreamExt::try_collect(app.store.audit_entries())
                    .await
                    .expect("audit");
            let ended: Vec<_> = entries
                .iter()
                .flatten()
                .filter(|e| e.outcome != Outcome::Started)
                .map(|e| (e.action, e.outcome))
                .collect();
            let has = |action| ended.iter().any(|(a, _)| *a == action);
            let refused = ended.contains(&(Action::TicketDetail, Outcome::NotFound));
            (has(Action::Tickets) && has(Action::AllResidents) && refused).then_some(())
        },
    )
    .await;
    // Every other call above was answered only once its entry was durable
    // (a write's in its transaction, a read's in the writer's next
    // commit), and this demo has nothing queued for background work to
    // audit: the trail is complete and still.
    app
}

backend_tests! {
    async fn audit_export_filters_and_formats() {
        let app = app_with_history().await;
        let (ok, out, err) = admin(&app.database_url, &["audit", "export", "--ticket", "201"]);
        assert!(ok, "{err}");
        let entries: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
        // tickets (lists 201), ticket_detail 201, update_status 201, plus the demo seed's creation of 201.
        let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().expect("action")).collect();
        assert_eq!(actions, vec!["create_ticket", "tickets", "ticket_detail", "update_status"]);
        assert!(entries.iter().all(|e| e["records"].as_array().expect("records").iter().any(|r| r == "ticket:201")));
        let (ok, out, _) = admin(&app.database_url, &["audit", "export", "--provider", "72136197", "--format", "csv"]);
        assert!(ok);
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some("id,at,request_id,client_addr,provider_id,application_id,employee_id,action,outcome,records,prev_hash,hash,actor"));
        let rows: Vec<&str> = lines.collect();
        assert!(rows.iter().any(|row| row.contains(",ticket_detail,not_found,ticket:202,")), "{out}");
        assert!(rows.iter().all(|row| row.split(',').nth(4) == Some("72136197")));
        let (ok, out, _) = admin(&app.database_url, &["audit", "export", "--resident", "889283349", "--since", "2020-01-01T00:00:00Z"]);
        assert!(ok);
        assert!(out.lines().count() >= 3, "{out}");
        assert!(!out.contains("Test Case"), "no PHI in the audit");
        let (ok, out, _) = admin(&app.database_url, &["audit", "export", "--until", "2020-01-01T00:00:00Z"]);
        assert!(ok);
        assert_eq!(out, "");
    }

    async fn a_csv_export_carries_no_formula_a_client_chose() {
        let app = TestApp::demo().await;
        let session = app.example().await;
        // The request ids a client may choose are letters, digits and
        // `-_.`: one that starts with `-` reads as a formula.
        for request_id in ["-exec", "-1-1", "-5"] {
            let reply = send(session.get("provider_categories").header("x-request-id", request_id)).await;
            assert_eq!(reply.status, StatusCode::OK);
        }
        let (ok, out, err) = admin(&app.database_url, &["audit", "export", "--format", "csv"]);
        assert!(ok, "{err}");
        let cells: Vec<String> = csv::Reader::from_reader(out.as_bytes())
            .records()
            .map(|row| row.expect("a CSV row")[2].to_owned())
            .collect();
        for expected in ["'-exec", "'-1-1", "-5"] {
            assert!(cells.iter().any(|cell| cell == expected), "{expected} not in {cells:?}");
        }
        let formulas: Vec<_> = cells.iter().filter(|cell| cell.starts_with(['=', '+', '-', '@']) && cell.parse::<f64>().is_err()).collect();
        assert!(formulas.is_empty(), "{formulas:?}");
    }

    async fn verification_catches_every_kind_of_tampering() {
        let app = app_with_history().await;
        let (ok, out) = verify(&app);
        assert!(ok, "{out}");
        assert!(out.starts_with("the audit trail is intact:"), "{out}");

        tamper(&app, "UPDATE audit_log SET outcome = 'success' WHERE outcome = 'not_found'").await;
        let (ok, out) = verify(&app);
        assert!(!ok);
        assert!(out.contains("was altered"), "{out}");

        let app = app_with_history().await;
        tamper(&app, "DELETE FROM audit_log WHERE id = 3").await;
        let (ok, out) = verify(&app);
        assert!(!ok);
        assert!(out.contains("entries are missing or were inserted"), "{out}");

        let app = app_with_history().await;
        tamper(&app, "INSERT INTO audit_log (id, chain_id, seq, at, request_id, client_addr, provider_id, application_id, employee_id, action, outcome, records, prev_hash, hash) SELECT id + 1000, chain_id, (SELECT MAX(seq) FROM audit_log a WHERE a.chain_id = audit_log.chain_id) + 1, at, request_id, client_addr, provider_id, application_id, employee_id, action, outcome, records, prev_hash, hash FROM audit_log WHERE id = 2").await;
        let (ok, out) = verify(&app);
        assert!(!ok);
        assert!(out.contains("entries are missing or were inserted"), "{out}");

        let app = app_with_history().await;
        tamper(&app, "DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)").await;
        let (ok, out) = verify(&app);
        assert!(!ok);
        assert!(out.contains("removed from the end"), "{out}");
    }

    async fn verification_catches_tampering_in_every_chain() {
        let app = app_with_history().await;
        let second = app.another_instance(TestOptions::default()).await;
        let on_first = app.example().await;
        let on_second = Session { base: second.base.clone(), ..on_first.clone() };
        // Concurrent calls through both instances, so that every writer
        // (each of PostgreSQL's lanes, each instance) has a chain in use.
        let calls = (0..64).map(|n| {
            let session = if n % 2 == 0 { on_first.clone() } else { on_second.clone() };
            tokio::spawn(async move { send(session.get("ticket_detail?id=202")).await.status })
        });
        for status in futures::future::join_all(calls).await {
            assert_eq!(status.expect("call"), StatusCode::OK);
        }
        let chains: Vec<_> = app.store.audit_chains().await.expect("chains")
            .into_iter()
            .filter(|chain| chain.last_seq > chain.pruned_through_seq)
            .collect();
        assert!(chains.len() >= 2, "{chains:?}");
        for chain in &chains {
            let (id, seq) = (chain.chain_id, chain.last_seq);
            // request_id is never NULL (an entry of background work has no
            // client address, and 'x' || NULL changes nothing).
            tamper(&app, &format!("UPDATE audit_log SET request_id = 'x' || request_id WHERE chain_id = {id} AND seq = {seq}")).await;
            let (ok, out) = verify(&app);
            assert!(!ok, "tampering in chain {id} went unnoticed");
            assert!(out.contains(&format!("chain {id}: entry {seq} was altered")), "{out}");
            tamper(&app, &format!("UPDATE audit_log SET request_id = SUBSTR(request_id, 2) WHERE chain_id = {id} AND seq = {seq}")).await;
            let (ok, out) = verify(&app);
            assert!(ok, "{out}");
        }
    }

    async fn retention_prunes_old_entries_and_the_rest_still_verifies() {
        let app = app_with_history().await;
        tamper(&app, "UPDATE audit_log SET at = 1000 WHERE id <= 5").await;
        // Back-dating broke those hashes; retention removes them anyway,
        // and the chain verifies from the first entry kept.
        let (ok, out, err) = admin(&app.database_url, &["audit", "prune", "--older-than-days", "30"]);
        assert!(ok, "{err}");
        assert_eq!(out.trim(), "removed 5 audit entries older than 30 days");
        let (ok, out) = verify(&app);
        assert!(ok, "{out}");
        // New entries keep chaining after a prune.
        let session = app.example().await;
        send(session.get("provider_categories")).await;
        let (ok, out) = verify(&app);
        assert!(ok, "{out}");
    }
}
