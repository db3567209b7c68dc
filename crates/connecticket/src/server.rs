//! Wiring the layers together and running the server. `serve` and the
//! integration tests start it through the same two calls ([`start`], then
//! [`Server::serve`]), so what the tests exercise is what runs.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use connecticket_domain::audit::Action;
use connecticket_domain::auth::{SecretHasher, DEMO_HASH_KEY};
use connecticket_domain::clock::SharedClock;
use connecticket_domain::demo::{self, DemoSeed};
use connecticket_domain::service::ApiSettings;
use connecticket_domain::service::Operator;
use connecticket_domain::store::Store;
use connecticket_domain::Connecticket;
use connecticket_http::{AppState, Limits, ReloadingTls, ServeOptions, TlsFiles};
use ipnet::IpNet;
use tokio::net::TcpListener;

use crate::cli::HASH_KEY_REQUIRED;
use connecticket_domain::events::{
    Sequencer, SequencerOptions, WebhookDispatcher, WebhookDispatcherOptions,
};
use connecticket_domain::notify::{
    AckLinks, Dispatcher, DispatcherOptions, Escalator, EscalatorOptions, Transport,
    TransportHealth, DEFAULT_ACK_LINK_LIFETIME,
};
use connecticket_notify::{
    AddressPolicy, HttpWebhookSender, SmsGateway, SmsGatewayConfig, SmtpConfig, SmtpTransport,
    TwilioSignature,
};

/// Everything the server needs besides a listener and a store.
#[derive(Clone)]
pub struct ServerConfig {
    /// The key secrets and tokens are hashed under; only a demo may run
    /// without one (it then uses the published demo key).
    pub hash_key: Option<String>,
    pub api: ApiSettings,
    pub limits: Limits,
    pub trusted_proxies: Vec<IpNet>,
    pub tls: Option<TlsFiles>,
    pub header_read_timeout: Duration,
    /// How long a write may wait for a client that stopped reading.
    pub send_timeout: Duration,
    /// Audit entries older than this are removed (None: kept forever).
    pub audit_retention: Option<chrono::Duration>,
    /// How often retention runs.
    pub audit_prune_interval: Duration,
    /// How often the counts of refused requests nobody could be named for
    /// are written to the audit trail, one entry per source and action.
    pub refusal_audit_interval: Duration,
    /// How often the certificate files are checked for changes.
    pub tls_check_interval: Duration,
    /// How long a shutdown waits for in-flight requests and streams.
    pub shutdown_grace: Duration,
    pub demo: bool,
    pub clock: SharedClock,
    pub notifications: NotifyConfig,
    /// Where clients and gateways reach this server, e.g.
    /// `https://care.example.org` (gateways sign callbacks for it).
    pub public_url: Option<String>,
    /// The operators' own listener: `/metrics` and `/readyz` in full.
    pub metrics_listen: Option<SocketAddr>,
    /// A token that shows `/metrics` and the detail of `/readyz` on the
    /// public listener too (`Authorization: Bearer …`).
    pub metrics_token: Option<String>,
    pub events: EventsConfig,
}

/// The change feed's sequencer and retention, and webhook delivery.
#[derive(Clone, Default)]
pub struct EventsConfig {
    pub sequencer: SequencerOptions,
    pub webhooks: WebhookDispatcherOptions,
    /// Which addresses webhook deliveries may reach.
    pub addresses: AddressPolicy,
}

/// The notification transports and how the dispatcher retries. With no
/// transport for a channel, its notifications wait, saying why.
#[derive(Clone)]
pub struct NotifyConfig {
    pub smtp: Option<SmtpConfig>,
    pub sms: Option<SmsGatewayConfig>,
    pub dispatcher: DispatcherOptions,
    pub escalator: EscalatorOptions,
    /// How long an acknowledgment link works after its first send.
    pub ack_link_lifetime: chrono::Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            smtp: None,
            sms: None,
            dispatcher: DispatcherOptions::default(),
            escalator: EscalatorOptions::default(),
            ack_link_lifetime: DEFAULT_ACK_LINK_LIFETIME,
        }
    }
}

impl NotifyConfig {
    /// The transports, built now so a bad URL stops the server at start.
    fn transports(&self) -> anyhow::Result<Vec<Arc<dyn Transport>>> {
        let mut transports: Vec<Arc<dyn Transport>> = Vec::new();
        if let Some(smtp) = &self.smtp {
            transports.push(Arc::new(SmtpTransport::new(smtp)?));
        }
        if let Some(sms) = &self.sms {
            transports.push(Arc::new(SmsGateway::new(sms)?));
        }
        Ok(transports)
    }
}

impl std::fmt::Debug for ServerConfig {
    // The hash key protects every stored credential: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("hash_key", &self.hash_key.as_ref().map(|_| "<redacted>"))
            .field("api", &self.api)
            .field("limits", &self.limits)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("tls", &self.tls)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("audit_retention", &self.audit_retention)
            .field("demo", &self.demo)
            .field("metrics_listen", &self.metrics_listen)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            // Transport URLs carry passwords: only whether each is set.
            .field("smtp", &self.notifications.smtp.is_some())
            .field("sms", &self.notifications.sms.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hash_key: None,
            api: ApiSettings::default(),
            limits: Limits::default(),
            trusted_proxies: Vec::new(),
            tls: None,
            header_read_timeout: ServeOptions::default().header_read_timeout,
            send_timeout: ServeOptions::default().send_timeout,
            audit_retention: None,
            audit_prune_interval: Duration::from_secs(3600),
            refusal_audit_interval: Duration::from_secs(60),
            tls_check_interval: Duration::from_secs(30),
            shutdown_grace: ServeOptions::default().shutdown_grace,
            demo: false,
            clock: connecticket_domain::clock::system(),
            notifications: NotifyConfig::default(),
            public_url: None,
            metrics_listen: None,
            metrics_token: None,
            events: EventsConfig::default(),
        }
    }
}

impl ServerConfig {
    /// The hasher this configuration allows: its own key, or the demo key
    /// for a demo. Refuses to serve real data under the published key.
    pub fn hasher(&self) -> anyhow::Result<SecretHasher> {
        match (&self.hash_key, self.demo) {
            (Some(key), false) if SecretHasher::new(key).is_demo_key() => bail!(HASH_KEY_REQUIRED),
            (Some(key), _) => Ok(SecretHasher::new(key)),
            (None, true) => Ok(SecretHasher::new(DEMO_HASH_KEY)),
            (None, false) => bail!(HASH_KEY_REQUIRED),
        }
    }
}

/// A server ready to serve: its database prepared, its certificate loaded.
pub struct Server {
    listener: TcpListener,
    /// The operators' own listener, if configured.
    metrics_listener: Option<TcpListener>,
    store: Arc<dyn Store>,
    transports: Vec<Arc<dyn Transport>>,
    transport_health: Arc<TransportHealth>,
    state: AppState,
    options: ServeOptions,
    config: ServerConfig,
}

/// Prepares everything `serve` needs and fails early on what is wrong: the
/// hash key, the demo seed, the certificate.
pub async fn start(
    listener: TcpListener,
    store: Arc<dyn Store>,
    config: ServerConfig,
) -> anyhow::Result<Server> {
    let options = serve_options(&config)?;
    let transports = config.notifications.transports()?;
    let channels: Vec<_> = transports.iter().map(|t| t.channel()).collect();
    let transport_health = Arc::new(TransportHealth::new(&channels));
    let mut api = Connecticket::new(
        Arc::clone(&store),
        config.hasher()?,
        config.api,
        Arc::clone(&config.clock),
    )
    .with_transport_health(Arc::clone(&transport_health));
    // The gateway's callbacks are believed when signed with its auth token
    // (the password of its URL).
    if let Some(signature) = config
        .notifications
        .sms
        .as_ref()
        .and_then(|sms| TwilioSignature::from_gateway_url(&sms.url))
    {
        api = api.with_gateway(Arc::new(signature));
    }
    prepare(&api, &config).await?;
    let metrics_listener = match config.metrics_listen {
        Some(address) => Some(
            TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen for metrics on {address}"))?,
        ),
        None => None,
    };
    let mut state = AppState::new(Arc::new(api), config.limits, config.trusted_proxies.clone())
        .with_public_url(config.public_url.clone())
        .with_demo(config.demo)
        .with_operations(connecticket_http::Operations::with_token(
            config.metrics_token.as_deref(),
        ))
        .with_secure_cookies(
            config.tls.is_some()
                || config
                    .public_url
                    .as_deref()
                    .is_some_and(|url| url.starts_with("https://")),
        );
    if let Some(metrics) = crate::metrics::ServerMetrics::install(Arc::clone(&store)) {
        state = state.with_metrics(metrics);
    }
    Ok(Server {
        listener,
        metrics_listener,
        store,
        transports,
        transport_health,
        state,
        options,
        config,
    })
}

impl Server {
    /// The use cases this server serves.
    pub fn api(&self) -> Arc<Connecticket> {
        Arc::clone(&self.state.api)
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where the operators' own listener listens, if there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    pub fn scheme(&self) -> &'static str {
        if self.options.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    /// Certificate reloading and audit retention run alongside.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let mut background = tokio::task::JoinSet::new();
        if let Some(tls) = &self.options.tls {
            background.spawn(reload_certificates(
                Arc::clone(tls),
                self.config.tls_check_interval,
            ));
        }
        if let Some(retention) = self.config.audit_retention {
            background.spawn(prune_audit(
                Arc::clone(&self.state.api),
                retention,
                self.config.audit_prune_interval,
                Arc::clone(&self.config.clock),
            ));
        }
        background.spawn(write_refusals(
            Arc::clone(&self.state.api),
            self.config.refusal_audit_interval,
        ));
        let api = Arc::clone(&self.state.api);
        let links = AckLinks::new(
            self.config.hasher()?,
            self.config.public_url.clone(),
            self.config.notifications.ack_link_lifetime,
        );
        let email = self
            .transports
            .iter()
            .find(|transport| transport.channel() == connecticket_domain::notify::Channel::Email)
            .cloned();
        let dispatcher = Dispatcher::new(
            Arc::clone(&self.store),
            Arc::clone(&self.config.clock),
            self.transports,
            self.config.notifications.dispatcher.clone(),
            links,
            Arc::clone(&self.transport_health),
        )
        .spawn();
        let escalator = Escalator::new(
            Arc::clone(&self.store),
            Arc::clone(&self.config.clock),
            self.config.notifications.escalator.clone(),
        )
        .spawn();
        let events = &self.config.events;
        let sequencer = Sequencer::new(
            Arc::clone(&self.store),
            Arc::clone(&self.config.clock),
            events.sequencer.clone(),
        )
        .spawn();
        let webhooks = WebhookDispatcher::new(
            Arc::clone(&self.store),
            Arc::clone(&self.config.clock),
            self.config.hasher()?,
            Arc::new(HttpWebhookSender::new(
                events.addresses.clone(),
                events.webhooks.timeout,
            )?),
            events.webhooks.clone(),
        )
        .telling_administrators_by(email)
        .spawn();
        let address = self.listener.local_addr()?;
        let scheme = if self.options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!(%address, scheme, "listening");
        // Both listeners stop together, on the one shutdown signal.
        let (stop, stopping) = tokio::sync::watch::channel(false);
        if let Some(metrics) = self.metrics_listener {
            let address = metrics.local_addr()?;
            tracing::info!(%address, "listening for metrics and readiness");
            let mut stopping = stopping.clone();
            let app = connecticket_http::operations_router(self.state.clone());
            background.spawn(async move {
                let options = ServeOptions::default();
                let stopped = async move {
                    let _ = stopping.wait_for(|stop| *stop).await;
                };
                if let Err(error) =
                    connecticket_http::serve_app(metrics, app, options, stopped).await
                {
                    tracing::error!(%error, "the metrics listener stopped with an error");
                }
            });
        }
        let shutdown = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        drop(stopping);
        let served = connecticket_http::serve(self.listener, self.state, self.options, shutdown)
            .await
            .context("the server stopped with an error");
        // Every request has ended (or was cut): stop the background work,
        // give this instance's notification claims back so that another
        // instance sends them now rather than after the lease, and close
        // the database.
        background.abort_all();
        if let Err(error) = api.flush_refusals().await {
            tracing::warn!(%error, "could not write the last counts of refused requests");
        }
        // Refused calls' entries, written without holding up their answers.
        api.settle().await;
        dispatcher.abort();
        escalator.abort();
        sequencer.abort();
        webhooks.abort();
        let _ = dispatcher.await;
        let _ = webhooks.await;
        let released = self
            .store
            .release_notification_claims(self.config.notifications.dispatcher.owner.clone())
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "could not release notification claims");
                0
            });
        let released_webhooks = self
            .store
            .release_webhook_claims(self.config.events.webhooks.owner.clone())
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "could not release webhook endpoints");
                0
            });
        if tokio::time::timeout(Duration::from_secs(10), self.store.close())
            .await
            .is_err()
        {
            tracing::warn!("the database did not close within 10 s; exiting anyway");
        }
        let report = served?;
        tracing::info!(
            connections_open = report.open_at_shutdown,
            connections_cut = report.cut,
            notification_claims_released = released,
            webhook_endpoints_released = released_webhooks,
            "stopped"
        );
        Ok(())
    }
}

/// Seeds the demo data when asked, and says loudly that this is a demo;
/// without `--demo`, refuses a database that still accepts the published
/// demo credentials.
async fn prepare(service: &Connecticket, config: &ServerConfig) -> anyhow::Result<()> {
    if !config.demo {
        if service.demo_credentials_active().await? {
            bail!(
                "this database accepts the published demo credentials; run it with --demo, \
                 or revoke the demo applications (connecticket app revoke) before serving real data"
            );
        }
        if service.demo_passwords_active().await? {
            bail!(
                "this database has console accounts that open with the published demo password; \
                 run it with --demo, or set new passwords (connecticket employee set-password) \
                 before serving real data"
            );
        }
        return Ok(());
    }
    let outcome = demo::seed(service)
        .await
        .context("cannot seed the demo data")?;
    tracing::warn!(
        seeded = matches!(outcome, DemoSeed::Seeded),
        "DEMO MODE: this server holds demo data and publicly known demo credentials; never use it for real residents"
    );
    eprintln!(
        "*** DEMO MODE: demo data and the published demo credentials are active. Do not enter real patient data. ***"
    );
    Ok(())
}

/// The connection-level options, loading the TLS certificate if any.
fn serve_options(config: &ServerConfig) -> anyhow::Result<ServeOptions> {
    let tls = match &config.tls {
        Some(files) => Some(Arc::new(
            ReloadingTls::load(files.clone()).context("cannot load the TLS certificate")?,
        )),
        None => None,
    };
    Ok(ServeOptions {
        tls,
        header_read_timeout: config.header_read_timeout,
        send_timeout: config.send_timeout,
        // Heads between the configured limit and this are answered 431 in
        // the envelope; only beyond it does hyper answer (without the
        // envelope) and close. Each open connection may buffer this much.
        max_head_bytes: (config.limits.max_header_bytes * 2).max(16 * 1024),
        shutdown_grace: config.shutdown_grace,
    })
}

/// Replaces the certificate on SIGHUP, or when its files change, without
/// touching established connections.
async fn reload_certificates(tls: Arc<ReloadingTls>, every: Duration) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(every);
    loop {
        #[cfg(unix)]
        let forced = async {
            match hangup.as_mut() {
                Some(signal) => signal.recv().await.is_some(),
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let forced = std::future::pending::<bool>();
        let outcome = tokio::select! {
            true = forced => tls.reload().map(|()| true),
            _ = tick.tick() => tls.reload_if_changed(),
        };
        match outcome {
            Ok(true) => tracing::info!("reloaded the TLS certificate"),
            Ok(false) => {}
            Err(error) => {
                tracing::error!(%error, "could not reload the TLS certificate; keeping the current one")
            }
        }
    }
}

/// Applies the audit retention now and then at every interval, audited as
/// the server's own operator.
async fn prune_audit(
    service: Arc<Connecticket>,
    retention: chrono::Duration,
    every: Duration,
    clock: SharedClock,
) {
    let retainer = Operator::this_server("audit-retention");
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let call = service.operate(&retainer, Action::PruneAudit);
        match service.prune_audit(call, clock.now() - retention).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "pruned the audit trail"),
            Err(error) => tracing::error!(%error, "could not prune the audit trail"),
        }
    }
}

/// Writes the counts of refused requests nobody could be named for, one
/// audit entry per source and action, at every interval.
async fn write_refusals(api: Arc<Connecticket>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(error) = api.flush_refusals().await {
            tracing::error!(%error, "could not write the counts of refused requests");
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
