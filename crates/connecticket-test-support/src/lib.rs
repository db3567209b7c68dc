//! Shared fixtures for the integration test binaries: a real Connecticket
//! server on an ephemeral port with a fresh database, started exactly as
//! `serve` starts it; sessions that carry credentials; and the binary run
//! as a process.
//!
//! Every scenario written inside `backend_tests! { … }` runs twice, as
//! `<name>::sqlite` and `<name>::postgres`: one set of test sources, both
//! backends. PostgreSQL databases are clones of a migrated template (see
//! `connecticket_store::testing`); without a PostgreSQL server the
//! PostgreSQL half is skipped with a message, unless
//! `CONNECTICKET_TEST_POSTGRES_REQUIRED` is set.

// Test code fails loudly: a failed expectation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod browser;
mod console;
mod locks;
mod operator;
pub mod raw;

pub use operator::{operator_write, TestOperator, TEST_OPERATOR};
mod receivers;

pub use console::{field_value, Console, Page, DEMO_PASSWORD};
pub use locks::{hold_write_lock, WriteLock};
pub use receivers::{transports, Mail, MailCatcher, Sms, SmsReceiver};

pub use connecticket_store::testing::{eventually, Backend, DEADLINE};

/// Expands each `async fn name() { … }` into a module `name` holding the
/// scenario and one test per backend.
#[macro_export]
macro_rules! backend_tests {
    ($( $(#[doc = $doc:literal])* async fn $name:ident() $body:block )*) => {
        $(
            $(#[doc = $doc])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn scenario() $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    $crate::Backend::Sqlite.run(scenario()).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    if $crate::postgres_available().await {
                        $crate::Backend::Postgres.run(scenario()).await
                    }
                }
            }
        )*
    };
}

/// A fresh database for the current backend.
pub struct TestDatabase {
    // Dropping it drops the database.
    _inner: connecticket_store::testing::TestDatabase,
    pub url: String,
    pub backend: Backend,
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        let inner = match backend {
            Backend::Sqlite => connecticket_store::testing::TestDatabase::sqlite(),
            Backend::Postgres => postgres_database()
                .await
                .expect("PostgreSQL answered a moment ago"),
        };
        TestDatabase {
            url: inner.url.clone(),
            backend,
            _inner: inner,
        }
    }

    /// An empty PostgreSQL database, not migrated (for tests of migration
    /// itself); `None` without a PostgreSQL server.
    pub async fn postgres_unmigrated() -> Option<Self> {
        let inner = connecticket_store::testing::TestDatabase::postgres_unmigrated().await?;
        Some(TestDatabase {
            url: inner.url.clone(),
            backend: Backend::Postgres,
            _inner: inner,
        })
    }
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

async fn migrate_template(url: String) -> Result<(), connecticket_domain::StoreError> {
    connecticket_store_postgres::migrate(&url).await
}

/// A clone of the migrated template, or `None` without a PostgreSQL server.
async fn postgres_database() -> Option<connecticket_store::testing::TestDatabase> {
    connecticket_store::testing::TestDatabase::postgres(
        connecticket_store::testing::PostgresTemplate {
            digest: connecticket_store_postgres::schema_digest(),
            migrate: migrate_template,
        },
    )
    .await
}

/// Whether the PostgreSQL half of a scenario can run; says why not.
pub async fn postgres_available() -> bool {
    let answers = connecticket_store::testing::TestDatabase::postgres_answers().await;
    if !answers {
        eprintln!(
            "skipped: no PostgreSQL at CONNECTICKET_TEST_POSTGRES_URL; only the SQLite half of this scenario ran"
        );
    }
    answers
}

/// The key tests hash credentials under when not in demo mode.
pub const TEST_HASH_KEY: &str = "connecticket-test-hash-key-not-for-production";

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use connecticket::database::StoreOptions;
use connecticket::server::{self, ServerConfig};
use connecticket_domain::clock::SharedClock;
use connecticket_domain::demo;
use connecticket_domain::model::ProviderId;
use connecticket_domain::service::throttle::ThrottleSettings;
use connecticket_domain::service::ApiSettings;
use connecticket_domain::store::Store;
use connecticket_http::Limits;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

/// Form parameters, as tests write them.
pub type Fields<'a> = Vec<(&'a str, &'a str)>;

/// How a test server is configured; defaults match `serve`'s.
#[derive(Clone)]
pub struct TestOptions {
    pub demo: bool,
    pub limits: Limits,
    pub token_lifetime: chrono::Duration,
    pub throttle: ThrottleSettings,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub tls: Option<connecticket_http::TlsFiles>,
    pub header_read_timeout: std::time::Duration,
    pub send_timeout: std::time::Duration,
    pub audit_retention: Option<chrono::Duration>,
    pub audit_prune_interval: std::time::Duration,
    pub tls_check_interval: std::time::Duration,
    /// The server's clock; tests move a `ManualClock` instead of waiting.
    pub clock: SharedClock,
    /// Transports (a `MailCatcher`'s or `SmsReceiver`'s URL) and retries.
    pub notifications: connecticket::server::NotifyConfig,
    pub public_url: Option<String>,
    /// Serve `/metrics` and the detail of `/readyz` on a listener of their
    /// own (`TestApp::metrics_base`), as `--metrics-listen` does.
    pub metrics_listener: bool,
    /// As `--metrics-token`.
    pub metrics_token: Option<String>,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            demo: true,
            limits: Limits::default(),
            token_lifetime: chrono::Duration::hours(24),
            throttle: ThrottleSettings::default(),
            trusted_proxies: Vec::new(),
            tls: None,
            header_read_timeout: std::time::Duration::from_secs(10),
            send_timeout: std::time::Duration::from_secs(30),
            audit_retention: None,
            audit_prune_interval: std::time::Duration::from_secs(3600),
            tls_check_interval: std::time::Duration::from_secs(30),
            clock: connecticket_domain::clock::system(),
            // No transports; and the note on waiting notifications is
            // written only at start, so that data moves and comparisons
            // see no background writes.
            notifications: connecticket::server::NotifyConfig {
                dispatcher: connecticket_domain::notify::DispatcherOptions {
                    hold_interval: std::time::Duration::from_secs(3600),
                    ..Default::default()
                },
                ..Default::default()
            },
            public_url: None,
            metrics_listener: false,
            metrics_token: None,
        }
    }
}

/// A running server with its own database, stopped when dropped.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    /// The server's use cases (to write the counts of refusals now).
    pub api: Arc<connecticket_domain::Connecticket>,
    /// The operators' own listener, when `TestOptions::metrics_listener`.
    pub metrics_base: Option<String>,
    pub store: Arc<dyn Store>,
    /// The operator tests act as, on this server's use cases.
    pub admin: TestOperator,
    pub database_url: String,
    _database: Option<TestDatabase>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl TestApp {
    /// A server seeded with the contract's demo data.
    pub async fn demo() -> Self {
        Self::spawn(TestOptions::default()).await
    }

    /// A server on an empty database.
    pub async fn empty() -> Self {
        Self::spawn(TestOptions {
            demo: false,
            ..TestOptions::default()
        })
        .await
    }

    pub async fn spawn(options: TestOptions) -> Self {
        Self::spawn_on(TestDatabase::create(Backend::current()).await, options).await
    }

    /// A server on a database the test prepared.
    pub async fn spawn_on(database: TestDatabase, options: TestOptions) -> Self {
        let mut app = Self::spawn_at(&database.url.clone(), options).await;
        app._database = Some(database);
        app
    }

    /// Another instance on the same database as `self`.
    pub async fn another_instance(&self, options: TestOptions) -> Self {
        Self::spawn_at(&self.database_url, options).await
    }

    async fn spawn_at(database_url: &str, options: TestOptions) -> Self {
        let database_url = database_url.to_owned();
        let store = connecticket::database::open(&database_url, StoreOptions::default())
            .await
            .expect("open the test database");
        let config = ServerConfig {
            // The same key as the processes tests start, so that tokens and
            // credentials work across both.
            hash_key: Some(TEST_HASH_KEY.to_owned()),
            api: ApiSettings {
                token_lifetime: options.token_lifetime,
                throttle: options.throttle,
                ..ApiSettings::default()
            },
            limits: options.limits,
            trusted_proxies: options.trusted_proxies,
            tls: options.tls,
            header_read_timeout: options.header_read_timeout,
            send_timeout: options.send_timeout,
            audit_retention: options.audit_retention,
            audit_prune_interval: options.audit_prune_interval,
            tls_check_interval: options.tls_check_interval,
            shutdown_grace: std::time::Duration::from_secs(5),
            demo: options.demo,
            clock: Arc::clone(&options.clock),
            notifications: options.notifications,
            public_url: options.public_url,
            // Written when a test reads the audit trail (`audit_entries`).
            refusal_audit_interval: std::time::Duration::from_secs(3600),
            metrics_listen: options
                .metrics_listener
                .then(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
            metrics_token: options.metrics_token,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let server = server::start(listener, Arc::clone(&store), config)
            .await
            .expect("start the server");
        let base = format!(
            "{}://{}",
            server.scheme(),
            server.local_addr().expect("address")
        );
        let api = server.api();
        let admin = TestOperator::of(Arc::clone(&api));
        let metrics_base = server
            .metrics_addr()
            .map(|address| format!("http://{address}"));
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.serve(async {
            let _ = stopped.await;
        }));
        TestApp {
            base,
            http: reqwest::Client::new(),
            admin,
            api,
            metrics_base,
            store,
            database_url,
            _database: None,
            shutdown: Some(shutdown),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Authorizes with the given credentials and returns a session.
    pub async fn login(&self, api_key: &str, api_secret: &str) -> Session {
        let reply = send(
            self.http
                .post(self.url("/api/authorize"))
                .header("api_key", api_key)
                .header("api_secret", api_secret),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "authorize: {}", reply.body);
        Session {
            base: self.base.clone(),
            http: self.http.clone(),
            token: reply.body["access_token"]
                .as_str()
                .expect("token")
                .to_owned(),
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
        }
    }

    /// The seed's "Example Provider".
    pub async fn example(&self) -> Session {
        self.login(demo::DEMO_API_KEY, demo::DEMO_API_SECRET).await
    }

    /// The second demo provider, "Sunrise Home Care".
    pub async fn sunrise(&self) -> Session {
        self.login(demo::SUNRISE_API_KEY, demo::SUNRISE_API_SECRET)
            .await
    }

    pub async fn ticket_count(&self, provider: ProviderId) -> usize {
        use futures::TryStreamExt;
        let chunks: Vec<_> = self
            .store
            .tickets(provider, Default::default())
            .try_collect()
            .await
            .expect("list tickets");
        chunks.iter().map(Vec::len).sum()
    }
}

/// An authorized client of one application.
#[derive(Clone)]
pub struct Session {
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    pub api_key: String,
    pub api_secret: String,
}

impl Session {
    /// The same session, its requests sent from `local` (a loopback
    /// address of its own, to be another client to the server).
    pub fn from_address(&self, local: std::net::IpAddr) -> Session {
        Session {
            http: reqwest::Client::builder()
                .local_address(local)
                .build()
                .expect("a client"),
            ..self.clone()
        }
    }

    pub fn url(&self, call: &str) -> String {
        format!("{}/api/{}/{call}", self.base, self.token)
    }

    /// The request target of a call (the path with its token).
    pub fn target(&self, call: &str) -> String {
        format!("/api/{}/{call}", self.token)
    }

    /// The credential headers every call carries.
    pub fn credentials(&self) -> [(&str, &str); 2] {
        [("api_key", &self.api_key), ("api_secret", &self.api_secret)]
    }

    fn signed(&self, request: RequestBuilder) -> RequestBuilder {
        request
            .header("api_key", &self.api_key)
            .header("api_secret", &self.api_secret)
    }

    pub fn get(&self, call: &str) -> RequestBuilder {
        self.signed(self.http.get(self.url(call)))
    }

    pub fn post(&self, call: &str) -> RequestBuilder {
        self.signed(self.http.post(self.url(call)))
    }

    /// Creates a ticket from form parameters and returns its id.
    pub async fn create_ticket(&self, form: &[(&str, &str)]) -> i64 {
        let reply = send(self.post("create_ticket").form(form)).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "create_ticket: {}",
            reply.body
        );
        reply.body["ticket_id"].as_i64().expect("ticket_id")
    }

    pub async fn detail(&self, id: i64) -> Reply {
        send(self.get(&format!("ticket_detail?id={id}"))).await
    }
}

/// A response with its JSON body (or `Value::Null` if it was not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the contract's failure envelope.
    pub fn assert_failure(&self, status: StatusCode, message: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(
            self.body,
            serde_json::json!({"status": false, "message": message}),
            "for status {status}"
        );
    }

    /// Asserts a failure whose message starts with `prefix`.
    pub fn assert_failure_starting(&self, status: StatusCode, prefix: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["status"], Value::Bool(false));
        let message = self.body["message"].as_str().expect("message");
        assert!(
            message.starts_with(prefix),
            "message {message:?} should start with {prefix:?}"
        );
    }
}

pub async fn send(request: RequestBuilder) -> Reply {
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body").to_vec();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        bytes,
    }
}

/// Sends `request()` until the server refuses it, and returns the refusal.
/// Each instance trusts a token record it read for the rest of that clock
/// second (docs/SECURITY.md), so a revocation made by another process takes
/// effect within a second rather than at once.
pub async fn once_refused(request: impl Fn() -> RequestBuilder) -> Reply {
    eventually(
        "the revocation to reach the server's token cache",
        || async {
            let reply = send(request()).await;
            (reply.status != StatusCode::OK).then_some(reply)
        },
    )
    .await
}

/// The `connecticket` binary run as a separate process.
///
/// Cargo tells a test binary where the binary is (`CARGO_BIN_EXE_*`);
/// this crate is built once for all of them, so it is read at run time.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CARGO_BIN_EXE_connecticket") {
        return PathBuf::from(path);
    }
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let deps = test_binary.parent().expect("target/<profile>/deps");
    deps.parent()
        .expect("target/<profile>")
        .join("connecticket")
}

/// Runs an admin command; returns (success, stdout, stderr).
pub fn admin(database_url: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(binary())
        .arg("--database")
        .arg(database_url)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("CONNECTICKET_HASH_KEY", TEST_HASH_KEY)
        .output()
        .expect("run connecticket");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// An admin command given `input` on its standard input (a password).
pub fn admin_with_input(database_url: &str, args: &[&str], input: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(binary())
        .arg("--database")
        .arg(database_url)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("CONNECTICKET_HASH_KEY", TEST_HASH_KEY)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run connecticket");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).expect("write the input");
    }
    let output = child.wait_with_output().expect("finish");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A `connecticket serve` process on an ephemeral port.
pub struct ServerProcess {
    pub child: Child,
    pub base: String,
}

impl ServerProcess {
    /// Its warnings and errors go to a file in the temp directory, so
    /// that a server that fails to start says why.
    pub fn start(database_url: &str, extra: &[&str]) -> Self {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let log = std::env::temp_dir().join(format!(
            "connecticket-test-server-{}-{n}.log",
            std::process::id()
        ));
        let file = std::fs::File::create(&log).expect("log file");
        let server = Self::spawn_noting(database_url, extra, "warn", Stdio::from(file), Some(&log));
        let _ = std::fs::remove_file(&log);
        server
    }

    /// Started with debug logging, its whole stderr written to `log`.
    pub fn start_logged(database_url: &str, extra: &[&str], log: &Path) -> Self {
        let file = std::fs::File::create(log).expect("log file");
        Self::spawn(database_url, extra, "debug", Stdio::from(file))
    }

    fn spawn(database_url: &str, extra: &[&str], level: &str, stderr: Stdio) -> Self {
        Self::spawn_noting(database_url, extra, level, stderr, None)
    }

    fn spawn_noting(
        database_url: &str,
        extra: &[&str],
        level: &str,
        stderr: Stdio,
        log: Option<&Path>,
    ) -> Self {
        let mut child = Command::new(binary())
            .arg("--database")
            .arg(database_url)
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .args(extra)
            .env("RUST_LOG", level)
            .env("CONNECTICKET_HASH_KEY", TEST_HASH_KEY)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start connecticket serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("read the listening line");
        let base = match line.trim().strip_prefix("connecticket listening on ") {
            Some(base) => base.to_owned(),
            None => {
                let _ = child.kill();
                let output = child
                    .wait_with_output()
                    .expect("the failed server's output");
                let logged = log
                    .and_then(|log| std::fs::read_to_string(log).ok())
                    .unwrap_or_default();
                panic!(
                    "the server did not start (first line {line:?}); it said: {}{logged}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        };
        ServerProcess { child, base }
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Several servers started at the same moment, from threads.
    pub fn start_together(database_url: &str, count: usize) -> Vec<Self> {
        Self::start_together_with(database_url, count, &[])
    }

    /// The same, with extra `serve` arguments.
    pub fn start_together_with(database_url: &str, count: usize, extra: &[&str]) -> Vec<Self> {
        let extra: Vec<String> = extra.iter().map(|arg| (*arg).to_owned()).collect();
        let starting: Vec<_> = (0..count)
            .map(|_| {
                let url = database_url.to_owned();
                let extra = extra.clone();
                std::thread::spawn(move || {
                    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
                    ServerProcess::start(&url, &extra)
                })
            })
            .collect();
        starting
            .into_iter()
            .map(|handle| handle.join().expect("server start"))
            .collect()
    }

    /// Sends SIGKILL: no shutdown, no flushing, as in a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An authorized client of a server process, for the demo application.
pub async fn demo_session(http: &reqwest::Client, base: &str) -> Session {
    let reply = send(
        http.post(format!("{base}/api/authorize"))
            .header("api_key", demo::DEMO_API_KEY)
            .header("api_secret", demo::DEMO_API_SECRET),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "authorize: {}", reply.body);
    Session {
        base: base.to_owned(),
        http: http.clone(),
        token: reply.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned(),
        api_key: demo::DEMO_API_KEY.to_owned(),
        api_secret: demo::DEMO_API_SECRET.to_owned(),
    }
}

/// A SQLite URL for a file in `dir`.
pub fn sqlite_path(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("connecticket.db").display())
}

/// Every audit entry of an app's database, in the order written.
/// The whole audit trail, after the counts of refusals so far (which the
/// server writes once a minute) are written.
pub async fn audit_entries(app: &TestApp) -> Vec<connecticket_domain::audit::AuditRecord> {
    app.api
        .flush_refusals()
        .await
        .expect("the counts of refusals");
    let chunks: Vec<Vec<connecticket_domain::audit::AuditRecord>> =
        futures::TryStreamExt::try_collect(app.store.audit_entries())
            .await
            .expect("the audit trail");
    chunks.into_iter().flatten().collect()
}
