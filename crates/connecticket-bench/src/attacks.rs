//! The attacks of issue 24, made from outside against a demo server with
//! production limits, each while a second client (another provider, from
//! another address) keeps calling `ticket_detail`, `create_ticket`, the
//! console's sign-in and `/healthz`: every answer of that client and the
//! server's peak memory are reported. Then the dispatcher: how long one
//! provider's emergency waits behind another's burst of 1,000 tickets,
//! and how fast it sends to a local SMTP server when its limit allows.
//!
//! `bench/attacks` runs them all (about five minutes); `BENCH_ATTACKS=text`
//! only those whose name holds `text` (`none`: only the dispatcher).

use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use connecticket_domain::demo;
use connecticket_test_support::MailCatcher;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::process::Server;

/// How long each attack lasts, the second client calling all along.
const ATTACK: Duration = Duration::from_secs(20);
/// The second client's address: another client to the server.
const VICTIM: [u8; 4] = [127, 0, 0, 2];

#[derive(Debug, Clone, Serialize)]
pub struct Attacks {
    pub scenarios: Vec<Scenario>,
    pub dispatch: Dispatch,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub attack: String,
    /// The second client's calls during the attack.
    pub calls: Vec<CallFigures>,
    /// Before the attack (the demo's data loaded).
    pub rss_before_mib: f64,
    pub peak_rss_mib: f64,
    pub rss_after_mib: f64,
    /// Connections the attackers opened.
    pub attacker_connections: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallFigures {
    pub call: &'static str,
    pub answered: u64,
    pub failed: u64,
    pub max_ms: f64,
    pub median_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dispatch {
    /// Queued for one provider when the other's Exception was raised.
    pub queued_ahead: usize,
    /// From the Exception's answer to its email at the SMTP server.
    pub emergency_handed_over_s: f64,
    pub rate_limit_per_s: f64,
    pub emails: usize,
    pub emails_per_s: f64,
}

/// Every attack, then the dispatcher's figures.
pub async fn run(work_dir: &Path) -> anyhow::Result<Attacks> {
    let mut scenarios = Vec::new();
    // BENCH_ATTACKS=sign-ins (a part of their names) runs only those;
    // BENCH_ATTACKS=none, only the dispatcher's figures.
    let only = std::env::var("BENCH_ATTACKS").unwrap_or_default();
    for attack in Attack::ALL
        .into_iter()
        .filter(|attack| attack.name().contains(only.as_str()))
    {
        let scenario = scenario(work_dir, attack).await?;
        print_scenario(&scenario);
        scenarios.push(scenario);
    }
    let dispatch = dispatch(work_dir).await?;
    println!(
        "dispatch: the other provider's Exception reached the SMTP server {:.2} s after it was raised, \
         behind {} queued emails (limit 10/s)",
        dispatch.emergency_handed_over_s, dispatch.queued_ahead
    );
    println!(
        "dispatch: {} emails at {:.0}/s to a local SMTP server (limit {}/s)",
        dispatch.emails, dispatch.emails_per_s, dispatch.rate_limit_per_s
    );
    Ok(Attacks {
        scenarios,
        dispatch,
    })
}

fn print_scenario(scenario: &Scenario) {
    println!(
        "{}: peak RSS {:.0} MiB (before: {:.0} MiB, after: {:.0} MiB), {} attacker connections",
        scenario.attack,
        scenario.peak_rss_mib,
        scenario.rss_before_mib,
        scenario.rss_after_mib,
        scenario.attacker_connections
    );
    for call in &scenario.calls {
        println!(
            "    second client {:<14} {:>4} answered, {} failed, median {:>6.1} ms, max {:>7.1} ms",
            call.call, call.answered, call.failed, call.median_ms, call.max_ms
        );
    }
}

/// The attacks, at the sizes the issue reports.
#[derive(Debug, Clone, Copy)]
enum Attack {
    /// 512 sockets send a head, `Content-Length: 1000` and 10 bytes.
    SlowBodies(&'static str),
    /// 200 sign-ins at once: from one address (as reported), or each from
    /// an address of its own (no per-address limit helps then).
    SignInBurst { many_addresses: bool },
    /// 2,000 sockets each send 250 KB of headers and never end them.
    UnfinishedHeads,
    /// 64 authenticated `create_ticket` bodies of 25 MB of parameters.
    LargeBodies,
    /// One provider's 512 readers of a long list that stop reading.
    SlowListReaders,
}

impl Attack {
    const ALL: [Attack; 8] = [
        Attack::SlowBodies("/sms/inbound"),
        Attack::SlowBodies("/api/authorize"),
        Attack::SlowBodies("/console/sign-in"),
        Attack::SignInBurst {
            many_addresses: false,
        },
        Attack::SignInBurst {
            many_addresses: true,
        },
        Attack::UnfinishedHeads,
        Attack::LargeBodies,
        Attack::SlowListReaders,
    ];

    fn name(self) -> String {
        match self {
            Attack::SlowBodies(path) => format!("512 slow bodies to {path}"),
            Attack::SignInBurst {
                many_addresses: false,
            } => "200 sign-ins at once from one address".to_owned(),
            Attack::SignInBurst {
                many_addresses: true,
            } => "200 sign-ins at once from 200 addresses".to_owned(),
            Attack::UnfinishedHeads => "2,000 sockets x 250 KB of unfinished headers".to_owned(),
            Attack::LargeBodies => "64 x 25 MB authenticated create_ticket bodies".to_owned(),
            Attack::SlowListReaders => "one provider's 512 slow list readers".to_owned(),
        }
    }
}

/// A fresh demo database in `work_dir`, and a server on it with
/// production limits.
fn demo_server(work_dir: &Path, name: &str, extra: &[&str]) -> anyhow::Result<Server> {
    let dir = work_dir.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let database = format!("sqlite://{}", dir.join("connecticket.db").display());
    let mut args = vec!["--demo"];
    args.extend_from_slice(extra);
    Server::start_as_deployed(&database, &args)
}

async fn scenario(work_dir: &Path, attack: Attack) -> anyhow::Result<Scenario> {
    let server = demo_server(work_dir, "attack", &[])?;
    let base = server.base.clone();
    if let Attack::SlowListReaders = attack {
        many_residents(&server, work_dir)?;
    }
    let victim = Victim::start(&base).await?;
    let memory = server.memory();
    let rss_before_mib = memory.current_mib().unwrap_or(0.0);
    let attacker = Attacker::start(&base, attack).await?;
    // Let the attack take hold before the peak and the second client count.
    tokio::time::sleep(Duration::from_secs(2)).await;
    memory.reset();
    let calls = victim.call_for(ATTACK).await;
    let peak_rss_mib = memory.peak_mib().unwrap_or(0.0);
    let attacker_connections = attacker.stop().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    Ok(Scenario {
        attack: attack.name(),
        calls,
        rss_before_mib,
        peak_rss_mib,
        rss_after_mib: memory.current_mib().unwrap_or(0.0),
        attacker_connections,
    })
}

/// 20,000 more residents for the demo provider: a list long enough that no
/// socket buffer holds it.
fn many_residents(server: &Server, work_dir: &Path) -> anyhow::Result<()> {
    let file = work_dir.join("residents.csv");
    let mut csv = String::from("first_name,last_name\n");
    for n in 0..20_000 {
        csv.push_str(&format!("Resident,Number {n}\n"));
    }
    std::fs::write(&file, csv)?;
    let status = std::process::Command::new(crate::process::connecticket_binary()?)
        .args(["--database", &server.database, "resident", "import"])
        .args(["--provider", &demo::DEMO_PROVIDER_ID.get().to_string()])
        .arg(&file)
        .env("CONNECTICKET_HASH_KEY", crate::process::BENCH_HASH_KEY)
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("could not import the residents");
    }
    Ok(())
}

/// The second client: another provider (Sunrise), from another address.
struct Victim {
    base: String,
    http: reqwest::Client,
    token: String,
    /// The device cookie of the console's browser: it signed in here before.
    device: std::sync::Mutex<String>,
}

impl Victim {
    async fn start(base: &str) -> anyhow::Result<Victim> {
        let http = reqwest::Client::builder()
            .local_address(IpAddr::from(VICTIM))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        let answer: serde_json::Value = http
            .post(format!("{base}/api/authorize"))
            .header("api_key", demo::SUNRISE_API_KEY)
            .header("api_secret", demo::SUNRISE_API_SECRET)
            .send()
            .await?
            .json()
            .await?;
        let token = answer["access_token"]
            .as_str()
            .context("the second client was not authorized")?
            .to_owned();
        let victim = Victim {
            base: base.to_owned(),
            http,
            token,
            device: std::sync::Mutex::new(String::new()),
        };
        // The ward tablet has signed in before (it has its device cookie).
        if !victim.sign_in().await {
            bail!("the second client could not sign in before the attack");
        }
        Ok(victim)
    }

    fn api(&self, call: &str) -> String {
        format!("{}/api/{}/{call}", self.base, self.token)
    }

    /// Calls each of its four calls in turn until `duration` passes.
    async fn call_for(&self, duration: Duration) -> Vec<CallFigures> {
        let names = ["ticket_detail", "create_ticket", "sign-in", "/healthz"];
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
        let mut failed = vec![0u64; names.len()];
        let until = Instant::now() + duration;
        while Instant::now() < until {
            for (n, name) in names.iter().enumerate() {
                let started = Instant::now();
                let ok = self.call(name).await;
                let took = started.elapsed().as_secs_f64() * 1000.0;
                times[n].push(took);
                if !ok {
                    failed[n] += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        names
            .iter()
            .zip(times)
            .zip(failed)
            .map(|((call, mut times), failed)| {
                times.sort_by(f64::total_cmp);
                CallFigures {
                    call,
                    answered: times.len() as u64 - failed,
                    failed,
                    max_ms: times.last().copied().unwrap_or(0.0),
                    median_ms: times.get(times.len() / 2).copied().unwrap_or(0.0),
                }
            })
            .collect()
    }

    /// One call; whether it was answered as it should be.
    async fn call(&self, name: &str) -> bool {
        let headers = |request: reqwest::RequestBuilder| {
            request
                .header("api_key", demo::SUNRISE_API_KEY)
                .header("api_secret", demo::SUNRISE_API_SECRET)
        };
        let status = match name {
            "ticket_detail" => {
                let id = demo::SUNRISE_TICKET_ID.get();
                headers(self.http.get(self.api(&format!("ticket_detail?id={id}"))))
                    .send()
                    .await
                    .map(|r| r.status())
            }
            "create_ticket" => {
                let resident = demo::SUNRISE_RESIDENT_ID.get().to_string();
                headers(self.http.post(self.api("create_ticket")))
                    .form(&[("title", "Checked at night"), ("resident_id", &resident)])
                    .send()
                    .await
                    .map(|r| r.status())
            }
            "sign-in" => return self.sign_in().await,
            _ => self
                .http
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .map(|r| r.status()),
        };
        status.is_ok_and(|status| status.is_success())
    }

    async fn sign_in(&self) -> bool {
        // As a browser does, it sends its cookies with the page's request too.
        let device = self.device.lock().map(|d| d.clone()).unwrap_or_default();
        let Ok(page) = self
            .http
            .get(format!("{}/console/sign-in", self.base))
            .header("cookie", format!("ct_device={device}"))
            .send()
            .await
        else {
            return false;
        };
        let Ok(page) = page.text().await else {
            return false;
        };
        let Some(token) = form_token(&page) else {
            return false;
        };
        let answer = self
            .http
            .post(format!("{}/console/sign-in", self.base))
            .header("cookie", format!("ct_sign_in={token}; ct_device={device}"))
            .form(&[
                ("email", "sunrise@example.org"),
                (
                    "password",
                    connecticket_domain::console::password::DEMO_PASSWORD,
                ),
                ("csrf", token.as_str()),
            ])
            .send()
            .await;
        let Ok(answer) = answer else { return false };
        let set_device = answer
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| value.strip_prefix("ct_device="))
            .and_then(|value| value.split(';').next())
            .map(str::to_owned);
        if let (Some(set), Ok(mut device)) = (set_device, self.device.lock()) {
            *device = set;
        }
        answer.status() == reqwest::StatusCode::SEE_OTHER
    }
}

fn form_token(page: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}

/// The attacking clients, running until stopped.
struct Attacker {
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Attacker {
    async fn start(base: &str, attack: Attack) -> anyhow::Result<Attacker> {
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicU64::new(0));
        let address = base.trim_start_matches("http://").to_owned();
        let token = match attack {
            Attack::LargeBodies | Attack::SlowListReaders => Some(demo_token(base).await?),
            _ => None,
        };
        let count = match attack {
            Attack::SlowBodies(_) | Attack::SlowListReaders => 512,
            Attack::SignInBurst { .. } => 200,
            Attack::UnfinishedHeads => 2_000,
            Attack::LargeBodies => 64,
        };
        let tasks = (0..count)
            .map(|n| {
                let job = Job {
                    address: address.clone(),
                    base: base.to_owned(),
                    token: token.clone(),
                    n,
                    stop: Arc::clone(&stop),
                    connections: Arc::clone(&connections),
                };
                tokio::spawn(async move { job.run(attack).await })
            })
            .collect();
        Ok(Attacker {
            stop,
            connections,
            tasks,
        })
    }

    /// Stops every attacker; answers how many connections they opened.
    async fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Release);
        for task in self.tasks {
            task.abort();
            let _ = task.await;
        }
        self.connections.load(Ordering::Acquire)
    }
}

async fn demo_token(base: &str) -> anyhow::Result<String> {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/authorize"))
        .header("api_key", demo::DEMO_API_KEY)
        .header("api_secret", demo::DEMO_API_SECRET)
        .send()
        .await?
        .json()
        .await?;
    Ok(answer["access_token"]
        .as_str()
        .context("the attacker was not authorized")?
        .to_owned())
}

/// One attacking client.
struct Job {
    address: String,
    base: String,
    token: Option<String>,
    n: usize,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicU64>,
}

impl Job {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    async fn connect(&self, from: Option<IpAddr>) -> Option<TcpStream> {
        self.connections.fetch_add(1, Ordering::Relaxed);
        let socket = TcpSocket::new_v4().ok()?;
        if let Some(from) = from {
            socket.bind(std::net::SocketAddr::new(from, 0)).ok()?;
        }
        // A small receive buffer: a reader that stops fills it soon.
        let _ = socket.set_recv_buffer_size(4096);
        socket.connect(self.address.parse().ok()?).await.ok()
    }

    async fn run(self, attack: Attack) {
        while !self.stopped() {
            let held = match attack {
                Attack::SlowBodies(path) => self.slow_body(path).await,
                Attack::SignInBurst { many_addresses } => self.sign_in(many_addresses).await,
                Attack::UnfinishedHeads => self.unfinished_head().await,
                Attack::LargeBodies => self.large_body().await,
                Attack::SlowListReaders => self.slow_reader().await,
            };
            if !held {
                // Refused at once: come back soon, as an attacker would.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// Until the server answers (or cuts); false if it refused at once.
    async fn drain(stream: &mut TcpStream) -> bool {
        let started = Instant::now();
        let mut buffer = [0u8; 4096];
        while let Ok(read) = stream.read(&mut buffer).await {
            if read == 0 {
                break;
            }
        }
        started.elapsed() > Duration::from_millis(500)
    }

    async fn slow_body(&self, path: &str) -> bool {
        let Some(mut stream) = self.connect(None).await else {
            return false;
        };
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 1000\r\n\r\nFrom=%2B155"
        );
        if stream.write_all(head.as_bytes()).await.is_err() {
            return false;
        }
        Self::drain(&mut stream).await
    }

    async fn sign_in(&self, many_addresses: bool) -> bool {
        let from = match many_addresses {
            true => IpAddr::from([127, 1, (self.n / 250) as u8, (self.n % 250 + 1) as u8]),
            false => IpAddr::from([127, 0, 0, 1]),
        };
        let Ok(http) = reqwest::Client::builder()
            .local_address(from)
            .redirect(reqwest::redirect::Policy::none())
            .build()
        else {
            return false;
        };
        let Ok(page) = http
            .get(format!("{}/console/sign-in", self.base))
            .send()
            .await
        else {
            return false;
        };
        let token = form_token(&page.text().await.unwrap_or_default()).unwrap_or_default();
        self.connections.fetch_add(1, Ordering::Relaxed);
        let _ = http
            .post(format!("{}/console/sign-in", self.base))
            .header("cookie", format!("ct_sign_in={token}"))
            .form(&[
                ("email", format!("someone{}@example.org", self.n)),
                ("password", "a wrong guess, again".to_owned()),
                ("csrf", token),
            ])
            .send()
            .await;
        true
    }

    async fn unfinished_head(&self) -> bool {
        let Some(mut stream) = self.connect(None).await else {
            return false;
        };
        let mut head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ".to_vec();
        head.extend(std::iter::repeat_n(b'p', 250 * 1024));
        for chunk in head.chunks(16 * 1024) {
            if self.stopped() || stream.write_all(chunk).await.is_err() {
                break;
            }
        }
        Self::drain(&mut stream).await
    }

    async fn large_body(&self) -> bool {
        let Some(mut stream) = self.connect(None).await else {
            return false;
        };
        let token = self.token.clone().unwrap_or_default();
        let length = 25 * 1000 * 1000;
        let head = format!(
            "POST /api/{token}/create_ticket HTTP/1.1\r\nHost: x\r\napi_key: {}\r\napi_secret: {}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n",
            demo::DEMO_API_KEY,
            demo::DEMO_API_SECRET
        );
        if stream.write_all(head.as_bytes()).await.is_err() {
            return false;
        }
        let chunk: Vec<u8> = (0..4_000)
            .flat_map(|n| format!("k{n}=v&").into_bytes())
            .collect();
        let mut sent = 0;
        while sent < length && !self.stopped() {
            let take = chunk.len().min(length - sent);
            if stream.write_all(&chunk[..take]).await.is_err() {
                break;
            }
            sent += take;
        }
        Self::drain(&mut stream).await
    }

    async fn slow_reader(&self) -> bool {
        let Some(mut stream) = self
            .connect(Some(IpAddr::from([
                127,
                2,
                (self.n / 250) as u8,
                (self.n % 250 + 1) as u8,
            ])))
            .await
        else {
            return false;
        };
        let token = self.token.clone().unwrap_or_default();
        let request = format!(
            "GET /api/{token}/all_residents HTTP/1.1\r\nHost: x\r\napi_key: {}\r\napi_secret: {}\r\n\r\n",
            demo::DEMO_API_KEY,
            demo::DEMO_API_SECRET
        );
        if stream.write_all(request.as_bytes()).await.is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        if stream.read_exact(&mut head).await.is_err() || !head.starts_with(b"HTTP/1.1 200") {
            return false;
        }
        // Reads nothing more; holds on until stopped.
        while !self.stopped() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        true
    }
}

/// The dispatcher: one provider's emergency behind another's burst, then
/// the rate to a local SMTP server.
async fn dispatch(work_dir: &Path) -> anyhow::Result<Dispatch> {
    let mail = MailCatcher::start().await;
    let server = demo_server(work_dir, "dispatch", &["--smtp-url", &mail.url])?;
    add_sunrise_contact(&server)?;
    raise_burst(&server.base, 1_000).await?;
    let queued_ahead = 3_000usize.saturating_sub(mail.mails().len());
    let victim = Victim::start(&server.base).await?;
    let raised = Instant::now();
    let answer = victim
        .http
        .post(victim.api("create_ticket"))
        .header("api_key", demo::SUNRISE_API_KEY)
        .header("api_secret", demo::SUNRISE_API_SECRET)
        .form(&[
            ("title", "Fall"),
            ("resident_id", &demo::SUNRISE_RESIDENT_ID.get().to_string()),
            ("urgency_status", "Exception"),
            ("email", "1"),
        ])
        .send()
        .await?;
    if !answer.status().is_success() {
        bail!("the Exception was refused: {}", answer.status());
    }
    let emergency_handed_over_s = loop {
        if mail
            .mails()
            .iter()
            .any(|m| m.to.iter().any(|to| to == SUNRISE_FAMILY))
        {
            break raised.elapsed().as_secs_f64();
        }
        if raised.elapsed() > Duration::from_secs(300) {
            bail!("the Exception's email did not arrive in five minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    drop(server);

    let mail = MailCatcher::start().await;
    let rate_limit_per_s = 1_000.0;
    let server = demo_server(
        work_dir,
        "dispatch",
        &["--smtp-url", &mail.url, "--smtp-max-per-second", "1000"],
    )?;
    raise_burst(&server.base, 1_000).await?;
    let emails = 3_000;
    let started = Instant::now();
    let mut first: Option<(Instant, usize)> = None;
    loop {
        let arrived = mail.mails().len();
        if first.is_none() && arrived > 0 {
            first = Some((Instant::now(), arrived));
        }
        if arrived >= emails {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("{arrived} of {emails} emails arrived in ten minutes");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (since, already) = first.unwrap_or((started, 0));
    let emails_per_s = (emails - already) as f64 / since.elapsed().as_secs_f64().max(0.001);
    Ok(Dispatch {
        queued_ahead,
        emergency_handed_over_s,
        rate_limit_per_s,
        emails,
        emails_per_s,
    })
}

const SUNRISE_FAMILY: &str = "family@sunrise.example";

fn add_sunrise_contact(server: &Server) -> anyhow::Result<()> {
    let status = std::process::Command::new(crate::process::connecticket_binary()?)
        .args(["--database", &server.database, "contact", "add"])
        .args(["--provider", &demo::SUNRISE_PROVIDER_ID.get().to_string()])
        .args(["--resident", &demo::SUNRISE_RESIDENT_ID.get().to_string()])
        .args(["--role", "family", "--name", "Family at Sunrise"])
        .args(["--email", SUNRISE_FAMILY, "--email-consent"])
        .env("CONNECTICKET_HASH_KEY", crate::process::BENCH_HASH_KEY)
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("could not add the other provider's contact");
    }
    Ok(())
}

/// `count` High tickets of the demo provider that email its residents'
/// three contacts each, raised sixteen at a time.
async fn raise_burst(base: &str, count: usize) -> anyhow::Result<()> {
    let token = demo_token(base).await?;
    let http = reqwest::Client::new();
    let next = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..16)
        .map(|_| {
            let (http, base, token, next) = (
                http.clone(),
                base.to_owned(),
                token.clone(),
                Arc::clone(&next),
            );
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if n >= count {
                        return Ok::<(), anyhow::Error>(());
                    }
                    let resident = demo::DEMO_RESIDENT_IDS[n % 2].get().to_string();
                    let answer = http
                        .post(format!("{base}/api/{token}/create_ticket"))
                        .header("api_key", demo::DEMO_API_KEY)
                        .header("api_secret", demo::DEMO_API_SECRET)
                        .form(&[
                            ("title", format!("burst {n}").as_str()),
                            ("resident_id", resident.as_str()),
                            ("urgency_status", "High"),
                            ("email", "1"),
                        ])
                        .send()
                        .await?;
                    if !answer.status().is_success() {
                        bail!("a ticket of the burst was refused: {}", answer.status());
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await??;
    }
    Ok(())
}
