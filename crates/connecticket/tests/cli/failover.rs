//! PostgreSQL failover (issue 30), on a replicated cluster of the test's
//! own: two instances whose URL names both nodes, 16 writers with
//! idempotency keys, the primary killed (`pg_ctl stop -m immediate`), the
//! standby promoted. Checked from outside: every write answered 2xx is in
//! the database once, nothing answered 500, both instances serve again,
//! every notification reaches a real SMTP receiver once, and `audit
//! verify` passes; on asynchronous replication what was lost is reported.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connecticket_domain::demo::{DEMO_API_KEY, DEMO_API_SECRET};
use reqwest::StatusCode;

use crate::support::cluster::Cluster;
use crate::support::{admin, eventually, eventually_within, MailCatcher, ServerProcess};

const WRITERS: usize = 16;
/// The server's request timeout in this test: no answer may take longer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn a_synchronous_standby_keeps_an_acknowledged_write_through_a_promotion() {
    let Some(cluster) = Cluster::start(true) else {
        return;
    };
    let (primary, standby) = (cluster.primary_port, cluster.standby_port);
    cluster.sql(primary, "CREATE TABLE marks (n integer)");
    cluster.sql(primary, "INSERT INTO marks VALUES (1)");
    assert_eq!(cluster.sql(standby, "SELECT pg_is_in_recovery()"), "t");
    assert_eq!(
        cluster.sql(primary, "SELECT sync_state FROM pg_stat_replication"),
        "sync",
        "the commit above waited for the standby"
    );

    cluster.stop_primary_immediately();
    cluster.promote_standby();
    assert_eq!(cluster.sql(standby, "SELECT pg_is_in_recovery()"), "f");
    assert_eq!(
        cluster.sql(standby, "SELECT count(*) FROM marks"),
        "1",
        "the acknowledged write survived the primary"
    );
    cluster.sql(standby, "INSERT INTO marks VALUES (2)");
    assert_eq!(cluster.sql(standby, "SELECT count(*) FROM marks"), "2");
}

/// What the writers saw.
#[derive(Default)]
struct Seen {
    /// key -> ticket id, for every write answered 2xx.
    acknowledged: BTreeMap<String, i64>,
    /// Answers by status, retries included.
    statuses: BTreeMap<u16, usize>,
    /// 503s that said the write's outcome was unknown.
    outcome_unknown: usize,
    /// 503s without `Retry-After`.
    without_retry_after: usize,
    slowest: Duration,
    /// Answers that were not a status at all (connection refused, …).
    transport_errors: usize,
}

struct Instances {
    bases: Vec<String>,
    http: reqwest::Client,
}

impl Instances {
    async fn readiness(&self, base: &str) -> StatusCode {
        let ready = self.http.get(format!("{base}/readyz")).send().await;
        ready.expect("readyz").status()
    }

    async fn token(&self, base: &str) -> Option<String> {
        let reply = self
            .http
            .post(format!("{base}/api/authorize"))
            .header("api_key", DEMO_API_KEY)
            .header("api_secret", DEMO_API_SECRET)
            .send()
            .await
            .ok()?;
        if !reply.status().is_success() {
            return None;
        }
        let body: serde_json::Value = reply.json().await.ok()?;
        body["access_token"].as_str().map(str::to_owned)
    }

    /// One write, retried on 503 (and, should a token not survive, with a
    /// new token) under the same key until an answer other than 503.
    async fn write(&self, writer: usize, n: usize, token: &mut String, seen: &Mutex<Seen>) {
        let key = format!("failover-{writer}-{n}");
        // Every fourth write tells the family: messages to count.
        let email = if n.is_multiple_of(4) { "1" } else { "0" };
        for attempt in 0.. {
            let base = &self.bases[(writer + attempt) % self.bases.len()];
            let started = Instant::now();
            let reply = self
                .http
                .post(format!("{base}/api/{token}/create_ticket"))
                .header("api_key", DEMO_API_KEY)
                .header("api_secret", DEMO_API_SECRET)
                .header("Idempotency-Key", &key)
                .form(&[
                    ("title", key.as_str()),
                    ("resident_id", "889283349"),
                    ("urgency_status", "High"),
                    ("email", email),
                ])
                .send()
                .await;
            let took = started.elapsed();
            {
                let mut seen = seen.lock().unwrap();
                seen.slowest = seen.slowest.max(took);
            }
            let Ok(reply) = reply else {
                seen.lock().unwrap().transport_errors += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            let status = reply.status();
            let says_when = reply.headers().get("retry-after").is_some();
            let outcome_unknown = reply.headers().get("connecticket-write-outcome").is_some();
            {
                let mut seen = seen.lock().unwrap();
                *seen.statuses.entry(status.as_u16()).or_default() += 1;
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    seen.without_retry_after += usize::from(!says_when);
                    seen.outcome_unknown += usize::from(outcome_unknown);
                }
            }
            match status {
                StatusCode::OK => {
                    let body: serde_json::Value = reply.json().await.expect("json");
                    let id = body["ticket_id"].as_i64().expect("ticket_id");
                    seen.lock().unwrap().acknowledged.insert(key, id);
                    return;
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                StatusCode::UNAUTHORIZED => {
                    // The token's own row was lost (asynchronous only).
                    if let Some(fresh) = self.token(base).await {
                        *token = fresh;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => {
                    let body = reply.text().await.unwrap_or_default();
                    panic!("write {key} answered {other}: {body}");
                }
            }
        }
    }
}

/// What the probes of reads and readiness saw, per instance.
#[derive(Default, Debug)]
struct Probed {
    read_statuses: BTreeSet<u16>,
    read_503_without_retry_after: usize,
    /// When `/readyz` last said not ready, and first said ready after.
    not_ready_seen: bool,
    ready_again: Option<Instant>,
}

async fn probe(
    http: reqwest::Client,
    base: String,
    token: String,
    stop: Arc<AtomicBool>,
    killed: Arc<Mutex<Option<Instant>>>,
) -> Probed {
    let mut probed = Probed::default();
    while !stop.load(Ordering::Acquire) {
        let outage = killed.lock().unwrap().is_some();
        let read = http
            .get(format!("{base}/api/{token}/tickets?per_page=1"))
            .header("api_key", DEMO_API_KEY)
            .header("api_secret", DEMO_API_SECRET);
        if let Ok(reply) = read.send().await {
            let status = reply.status().as_u16();
            if outage {
                probed.read_statuses.insert(status);
            }
            if status == 503 && reply.headers().get("retry-after").is_none() {
                probed.read_503_without_retry_after += 1;
            }
        }
        if outage {
            if let Ok(reply) = http.get(format!("{base}/readyz")).send().await {
                if reply.status() == StatusCode::SERVICE_UNAVAILABLE {
                    probed.not_ready_seen = true;
                    probed.ready_again = None;
                } else if reply.status() == StatusCode::OK
                    && probed.not_ready_seen
                    && probed.ready_again.is_none()
                {
                    probed.ready_again = Some(Instant::now());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    probed
}

/// How one failover went.
struct Failover {
    cluster: Cluster,
    url: String,
    seen: Seen,
    probed: Vec<Probed>,
    promoted_at: Instant,
    mail: MailCatcher,
    bases: Vec<String>,
    probe_http: reqwest::Client,
    _servers: Vec<ServerProcess>,
}

/// Runs the writers through both instances, kills the primary after
/// `before` of writing, promotes the standby `outage` later (having made
/// the standby lag behind first when `cut_standby_off`), and writes on
/// for a while after both instances are back.
async fn fail_over(synchronous: bool, cut_standby_off: bool) -> Option<Failover> {
    let cluster = Cluster::start(synchronous)?;
    cluster.sql(cluster.primary_port, "CREATE DATABASE care");
    let url = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/care?target_session_attrs=read-write",
        cluster.primary_port, cluster.standby_port
    );
    let mail = MailCatcher::start().await;
    let args = [
        "--demo",
        "--smtp-url",
        &mail.url,
        "--smtp-max-per-second",
        "1000",
        "--notification-retry-base-ms",
        "50",
        // Long enough for a record kept through the outage to be written
        // before another instance may send its message again.
        "--notification-lease-secs",
        "20",
        "--request-timeout-secs",
        &REQUEST_TIMEOUT.as_secs().to_string(),
        "--metrics-token",
        "scraper-token",
        "--token-requests-per-minute",
        "0",
    ];
    let servers = ServerProcess::start_together_with(&url, 2, &args);
    let instances = Arc::new(Instances {
        bases: servers.iter().map(|server| server.base.clone()).collect(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client"),
    });
    let token = instances.token(&instances.bases[0]).await.expect("a token");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let killed = Arc::new(Mutex::new(None));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (instances, seen, stop, mut token) = (
            Arc::clone(&instances),
            Arc::clone(&seen),
            Arc::clone(&stop),
            token.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Acquire) {
                instances.write(writer, n, &mut token, &seen).await;
                n += 1;
            }
        }));
    }
    let probes: Vec<_> = instances
        .bases
        .iter()
        .map(|base| {
            tokio::spawn(probe(
                instances.http.clone(),
                base.clone(),
                token.clone(),
                Arc::clone(&stop),
                Arc::clone(&killed),
            ))
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(3)).await;
    if cut_standby_off {
        // The standby stops receiving: what the primary commits from now
        // on exists only there, as when an asynchronous standby lags.
        cluster.cut_standby_off();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let writes_before = seen.lock().unwrap().acknowledged.len();
    *killed.lock().unwrap() = Some(Instant::now());
    cluster.stop_primary_immediately();
    // The outage: no primary at all.
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Recovery is timed from the moment the promotion starts.
    let promoted_at = Instant::now();
    cluster.promote_standby();
    // Both instances serve again, then write on for a while.
    eventually("both instances to write again", || async {
        let seen = seen.lock().unwrap();
        (seen.acknowledged.len() > writes_before + 200).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Release);
    for writer in writers {
        writer.await.expect("a writer");
    }
    let mut probed = Vec::new();
    for probe in probes {
        probed.push(probe.await.expect("a probe"));
    }
    let seen = Arc::try_unwrap(seen)
        .ok()
        .expect("writers done")
        .into_inner()
        .unwrap();
    let bases = instances.bases.clone();
    let probe_http = instances.http.clone();
    Some(Failover {
        cluster,
        url,
        seen,
        probed,
        promoted_at,
        mail,
        bases,
        probe_http,
        _servers: servers,
    })
}

impl Failover {
    fn new_primary(&self, statement: &str) -> String {
        self.cluster
            .sql_in(self.cluster.standby_port, "care", statement)
    }

    /// key -> how many tickets carry it, for every ticket the writers made.
    fn tickets_by_key(&self) -> BTreeMap<String, usize> {
        let mut counted = BTreeMap::new();
        let listing = self.cluster.sql_in(
            self.cluster.standby_port,
            "care",
            "SELECT title FROM tickets WHERE title LIKE 'failover-%'",
        );
        for title in listing.lines() {
            *counted.entry(title.to_owned()).or_insert(0) += 1;
        }
        counted
    }

    fn lost_and_duplicated(&self) -> (Vec<String>, Vec<String>) {
        let present = self.tickets_by_key();
        let lost = self
            .seen
            .acknowledged
            .keys()
            .filter(|key| !present.contains_key(*key))
            .cloned()
            .collect();
        let duplicated = present
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(key, _)| key.clone())
            .collect();
        (lost, duplicated)
    }

    fn recovery(&self) -> Duration {
        self.probed
            .iter()
            .map(|probed| {
                probed.ready_again.map_or(Duration::MAX, |at| {
                    at.saturating_duration_since(self.promoted_at)
                })
            })
            .max()
            .unwrap_or(Duration::MAX)
    }

    fn report(&self, replication: &str, lost: usize, duplicated: usize) {
        let seen = &self.seen;
        println!(
            "failover ({replication}): {} writes acknowledged, {lost} lost, {duplicated} duplicated, \
             {} answered 503 ({} of them 'outcome unknown'), {} transport errors, answers by status {:?}, \
             slowest answer {:?}, both instances ready {:?} after the promotion began",
            seen.acknowledged.len(),
            seen.statuses.get(&503).copied().unwrap_or(0),
            seen.outcome_unknown,
            seen.transport_errors,
            seen.statuses,
            seen.slowest,
            self.recovery(),
        );
    }

    /// Every message the database holds reaches the receiver exactly once.
    async fn every_message_once(&self) -> usize {
        let expected: usize = self
            .new_primary("SELECT count(*) FROM notifications WHERE channel = 'email'")
            .parse()
            .expect("a count");
        assert!(expected > 0, "the writers queued messages");
        // Claims whose commit's answer was lost wait out their lease.
        let arrived = eventually_within(
            Duration::from_secs(90),
            "every queued message to arrive",
            || async {
                let mut seen = BTreeMap::new();
                for message in self.mail.mails() {
                    *seen
                        .entry(message.header("Message-ID").expect("Message-ID"))
                        .or_insert(0) += 1;
                }
                (seen.len() >= expected).then_some(seen)
            },
        )
        .await;
        assert_eq!(arrived.len(), expected);
        let twice: Vec<_> = arrived.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "sent more than once: {twice:?}");
        eventually("every message recorded as delivered", || async {
            let pending =
                self.new_primary("SELECT count(*) FROM notifications WHERE state <> 'delivered'");
            (pending == "0").then_some(())
        })
        .await;
        expected
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_write_is_lost_when_the_primary_fails_over_to_a_synchronous_standby() {
    let Some(failover) = fail_over(true, false).await else {
        return;
    };
    let (lost, duplicated) = failover.lost_and_duplicated();
    failover.report("synchronous", lost.len(), duplicated.len());
    let seen = &failover.seen;
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(duplicated.is_empty(), "written twice: {duplicated:?}");
    assert!(!seen.statuses.contains_key(&500), "{:?}", seen.statuses);
    assert!(
        seen.statuses.get(&503).is_some_and(|n| *n > 0),
        "the outage was seen: {:?}",
        seen.statuses
    );
    assert_eq!(seen.without_retry_after, 0, "every 503 says when to retry");
    assert!(
        seen.slowest < REQUEST_TIMEOUT,
        "an answer took {:?}",
        seen.slowest
    );
    assert_eq!(seen.statuses.get(&401), None, "the tokens survived");
    for probed in &failover.probed {
        assert!(
            probed.read_statuses.contains(&503),
            "reads during the outage: {probed:?}"
        );
        assert!(!probed.read_statuses.contains(&500), "{probed:?}");
        assert_eq!(probed.read_503_without_retry_after, 0);
        assert!(probed.not_ready_seen, "/readyz said not ready: {probed:?}");
    }
    assert!(
        failover.recovery() <= Duration::from_secs(10),
        "recovered in {:?}",
        failover.recovery()
    );
    let messages = failover.every_message_once().await;
    println!("failover (synchronous): {messages} messages, each received once");

    // What an operator's dashboard shows: the promoted node in use as the
    // primary, the old one unreachable, the connections lost and reopened.
    let metrics = failover
        .probe_http
        .get(format!("{}/metrics", failover.bases[0]))
        .bearer_auth("scraper-token")
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let series = |name: &str, labels: &[&str]| -> Option<f64> {
        metrics
            .lines()
            .filter(|line| {
                line.starts_with(name) && labels.iter().all(|label| line.contains(label))
            })
            .find_map(|line| line.rsplit(' ').next()?.parse().ok())
    };
    let (old, new) = (
        format!("host=\"127.0.0.1:{}\"", failover.cluster.primary_port),
        format!("host=\"127.0.0.1:{}\"", failover.cluster.standby_port),
    );
    assert_eq!(
        series(
            "connecticket_database_host_role",
            &[&new, "role=\"primary\""]
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        series(
            "connecticket_database_host_role",
            &[&old, "role=\"unreachable\""]
        ),
        Some(1.0),
        "{metrics}"
    );
    assert!(
        series("connecticket_database_failovers_total", &[]).is_some_and(|n| n >= 1.0),
        "{metrics}"
    );
    assert!(
        series("connecticket_database_disconnects_total", &[]).is_some_and(|n| n >= 1.0),
        "{metrics}"
    );
    assert!(
        series("connecticket_database_reconnects_total", &[]).is_some_and(|n| n >= 1.0),
        "{metrics}"
    );

    let (ok, out, err) = admin(&failover.url, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("the audit trail is intact"), "{out}");
    assert!(
        !out.contains("lost in a database failover"),
        "nothing was lost: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_asynchronous_standby_that_lags_loses_writes_and_the_audit_trail_says_so() {
    let Some(failover) = fail_over(false, true).await else {
        return;
    };
    let (lost, duplicated) = failover.lost_and_duplicated();
    failover.report(
        "asynchronous, standby cut off 1 s before the kill",
        lost.len(),
        duplicated.len(),
    );
    let seen = &failover.seen;
    // What asynchronous replication allows: writes acknowledged in the
    // standby's last second are gone. Never a 500, never a duplicate.
    assert!(!lost.is_empty(), "the lagging standby missed writes");
    assert!(duplicated.is_empty(), "written twice: {duplicated:?}");
    assert!(!seen.statuses.contains_key(&500), "{:?}", seen.statuses);
    assert!(
        seen.slowest < REQUEST_TIMEOUT,
        "an answer took {:?}",
        seen.slowest
    );

    // The writers that lost entries said so, on new chains, and the trail
    // verifies: reported, not hidden, and not taken for tampering.
    let (ok, out, err) = admin(&failover.url, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    let losses: Vec<&str> = out
        .lines()
        .filter(|line| line.starts_with("lost in a database failover"))
        .collect();
    assert!(!losses.is_empty(), "{out}");
    let lost_entries: usize = losses
        .iter()
        .filter_map(|line| {
            line.split(" (")
                .nth(1)?
                .split(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert!(
        lost_entries >= lost.len(),
        "each lost write's entry is counted: {lost_entries} < {}: {out}",
        lost.len()
    );
    println!(
        "failover (asynchronous): audit verify reports {lost_entries} entries lost on {} chains",
        losses.len()
    );
}

/// One demo instance on the cluster's database `care` at `hosts`, with
/// its request timeout, a client and a token.
async fn one_instance(
    cluster: &Cluster,
    hosts: &str,
    request_timeout_secs: &str,
) -> (ServerProcess, Instances, String) {
    cluster.sql(cluster.primary_port, "CREATE DATABASE care");
    let url = format!("postgres://postgres@{hosts}/care");
    let server = ServerProcess::start(
        &url,
        &["--demo", "--request-timeout-secs", request_timeout_secs],
    );
    let instances = Instances {
        bases: vec![server.base.clone()],
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client"),
    };
    let token = instances.token(&server.base).await.expect("a token");
    (server, instances, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commit_without_an_answer_is_never_called_failed_and_its_retry_returns_the_original() {
    let Some(cluster) = Cluster::start(true) else {
        return;
    };
    let both = format!(
        "127.0.0.1:{},127.0.0.1:{}",
        cluster.primary_port, cluster.standby_port
    );
    let (server, instances, token) = one_instance(&cluster, &both, "30").await;
    let create = |key: &'static str| {
        instances
            .http
            .post(format!("{}/api/{token}/create_ticket", server.base))
            .header("api_key", DEMO_API_KEY)
            .header("api_secret", DEMO_API_SECRET)
            .header("Idempotency-Key", key)
            .form(&[("title", "unanswered commit"), ("resident_id", "889283349")])
            .send()
    };

    // The synchronous standby stops listening: the primary commits locally
    // and waits for it, so the write's COMMIT gets no answer...
    cluster.cut_standby_off();
    let pending = tokio::spawn(create("unanswered-1"));
    eventually("the commit to wait for the standby", || async {
        cluster.commit_waits_for_standby().then_some(())
    })
    .await;
    assert!(!pending.is_finished(), "the commit waits for the standby");
    // ... and the primary dies with the COMMIT unanswered.
    cluster.stop_primary_immediately();
    let reply = pending.await.expect("the request").expect("an answer");
    assert_eq!(reply.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.headers()["connecticket-write-outcome"], "unknown");
    assert_eq!(reply.headers()["retry-after"], "2");
    let body: serde_json::Value = reply.json().await.expect("json");
    assert_eq!(body["status"], false);
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("may have been saved") && message.contains("Idempotency-Key"),
        "{message}"
    );

    // While no primary answers: 503 with Retry-After, and not ready.
    let retried = create("unanswered-1").await.expect("an answer");
    assert_eq!(retried.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(retried.headers().contains_key("retry-after"));
    assert!(
        !retried.headers().contains_key("connecticket-write-outcome"),
        "nothing was sent this time"
    );
    assert_eq!(
        instances.readiness(&server.base).await,
        StatusCode::SERVICE_UNAVAILABLE
    );

    // The old primary comes back: it had committed the write, and the
    // retry with the same key returns that write rather than a second one.
    cluster.restart_primary_alone();
    let replayed = eventually("the write's retry to be answered", || async {
        let reply = create("unanswered-1").await.ok()?;
        (reply.status() == StatusCode::OK).then_some(reply)
    })
    .await;
    let body: serde_json::Value = replayed.json().await.expect("json");
    let id = body["ticket_id"].as_i64().expect("ticket_id");
    let stored = cluster.sql_in(
        cluster.primary_port,
        "care",
        "SELECT id FROM tickets WHERE title = 'unanswered commit'",
    );
    assert_eq!(
        stored,
        id.to_string(),
        "one ticket, the one the retry named"
    );
    assert_eq!(instances.readiness(&server.base).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commit_waiting_for_a_lost_synchronous_standby_answers_by_the_request_timeout() {
    let Some(cluster) = Cluster::start(true) else {
        return;
    };
    let primary = format!("127.0.0.1:{}", cluster.primary_port);
    let (server, instances, token) = one_instance(&cluster, &primary, "3").await;
    let create = || {
        instances
            .http
            .post(format!("{}/api/{token}/create_ticket", server.base))
            .header("api_key", DEMO_API_KEY)
            .header("api_secret", DEMO_API_SECRET)
            .header("Idempotency-Key", "waits-for-the-standby")
            .form(&[
                ("title", "waits for the standby"),
                ("resident_id", "889283349"),
            ])
            .send()
    };

    // The synchronous standby is gone: the primary commits locally and
    // waits for it. The caller is not kept past its time, and is not told
    // the write failed: it may yet be saved.
    cluster.cut_standby_off();
    let started = Instant::now();
    let reply = create().await.expect("an answer");
    let took = started.elapsed();
    assert_eq!(reply.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.headers()["connecticket-write-outcome"], "unknown");
    assert!(took < Duration::from_secs(5), "answered after {took:?}");

    // The standby returns, the commit completes, and the retry with the
    // same key finds the write.
    cluster.reconnect_standby();
    let replayed = eventually("the retry to find the write", || async {
        let reply = create().await.ok()?;
        (reply.status() == StatusCode::OK).then_some(reply)
    })
    .await;
    assert_eq!(
        replayed
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap_or_default()),
        Some("true")
    );
    let body: serde_json::Value = replayed.json().await.expect("json");
    let stored = cluster.sql_in(
        cluster.primary_port,
        "care",
        "SELECT id FROM tickets WHERE title = 'waits for the standby'",
    );
    assert_eq!(
        stored,
        body["ticket_id"].as_i64().expect("ticket_id").to_string()
    );
}

/// The console at the moment the database goes: a nurse's comment is
/// refused with a page that says nothing was saved and how to get the
/// text back, and the browser's Back button has it; sent again once the
/// database is back, it is saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nurse_typing_through_a_database_outage_keeps_her_text() {
    use crate::support::browser::{browser, driver, fill, heading, submit, text_of};
    use crate::support::DEMO_PASSWORD;
    use fantoccini::Locator;

    let Some(cluster) = Cluster::start(true) else {
        return;
    };
    let Some(driver) = driver().await else {
        return;
    };
    cluster.sql(cluster.primary_port, "CREATE DATABASE care");
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/care",
        cluster.primary_port
    );
    let server = ServerProcess::start(&url, &["--demo"]);
    let nurse = browser(&driver, true).await;

    nurse
        .goto(&format!("{}/console", server.base))
        .await
        .expect("console");
    fill(&nurse, "#email", "nurse@example.org").await;
    fill(&nurse, "#password", DEMO_PASSWORD).await;
    submit(&nurse, "form button[type=submit]:not(.secondary)").await;
    nurse
        .goto(&format!("{}/console/tickets/201", server.base))
        .await
        .expect("a ticket");
    let typed = "Found on the floor at 03:10, no visible injury; vitals normal.";
    fill(&nurse, "#comment", typed).await;

    cluster.stop_primary_immediately();
    submit(&nurse, "form[action$=\"/comments\"] button[type=submit]").await;
    assert_eq!(
        heading(&nurse).await,
        "Not saved: the database is switching over"
    );
    let said = text_of(&nurse, "[role=alert]").await;
    assert!(
        said.contains("Nothing was saved") && said.contains("Back"),
        "{said}"
    );
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&shots).expect("a screenshot directory");
    for (size, (width, height)) in [("tablet", (768, 1024)), ("desktop", (1366, 768))] {
        nurse.set_window_size(width, height).await.expect("resize");
        let png = nurse.screenshot().await.expect("screenshot");
        std::fs::write(shots.join(format!("database-outage-{size}.png")), png).expect("saved");
    }
    // The way on, by keyboard alone: a few Tabs (past the skip link)
    // reach the board link.
    let mut reached = Vec::new();
    for _ in 0..4 {
        let focus = nurse.active_element().await.expect("focus");
        focus.send_keys("\u{E004}").await.expect("tab");
        let focused = nurse.active_element().await.expect("focus");
        reached.push(focused.text().await.expect("text"));
    }
    assert!(
        reached.iter().any(|text| text == "Back to the board"),
        "{reached:?}"
    );

    // Back: the text is still in the form; sent again once the database
    // is back, it is saved.
    nurse.back().await.expect("back");
    let kept = eventually("the form to be back", || async {
        nurse
            .find(Locator::Css("#comment"))
            .await
            .ok()?
            .prop("value")
            .await
            .ok()?
    })
    .await;
    assert_eq!(kept, typed);
    cluster.restart_primary_alone();
    eventually("the console to answer again", || async {
        let ready = reqwest::get(format!("{}/readyz", server.base)).await.ok()?;
        (ready.status() == StatusCode::OK).then_some(())
    })
    .await;
    submit(&nurse, "form[action$=\"/comments\"] button[type=submit]").await;
    let saved = cluster.sql_in(
        cluster.primary_port,
        "care",
        &format!("SELECT count(*) FROM comments WHERE body = '{typed}'"),
    );
    assert_eq!(
        saved,
        "1",
        "the comment was saved once: {}",
        heading(&nurse).await
    );
}
