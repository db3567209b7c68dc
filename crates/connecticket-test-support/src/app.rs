//! A real server in this process, started as `serve` starts it, on an
//! ephemeral port with a database of its own.

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
use tokio::sync::oneshot;

use reqwest::StatusCode;

use crate::{send, Backend, Session, TestDatabase, TestOperator, TEST_HASH_KEY};

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
    /// The sequencer, webhook delivery and the addresses it may reach
    /// (here loopback, where tests' receivers listen).
    pub events: connecticket::server::EventsConfig,
    /// Which webhook URLs may be registered (here http:// too).
    pub webhook_urls: connecticket_domain::events::webhooks::UrlPolicy,
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
            events: connecticket::server::EventsConfig {
                sequencer: connecticket_domain::events::SequencerOptions {
                    poll: std::time::Duration::from_millis(20),
                    ..Default::default()
                },
                webhooks: connecticket_domain::events::WebhookDispatcherOptions {
                    poll: std::time::Duration::from_millis(50),
                    ..Default::default()
                },
                addresses: connecticket_notify::AddressPolicy {
                    allowed_private: vec![ipnet::IpNet::from(std::net::IpAddr::from([
                        127, 0, 0, 1,
                    ]))],
                },
            },
            webhook_urls: connecticket_domain::events::webhooks::UrlPolicy {
                allow_insecure: true,
            },
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
                webhook_urls: options.webhook_urls,
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
            events: options.events,
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
