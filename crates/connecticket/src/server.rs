//! Wiring the layers together and running the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use connecticket_domain::auth::SecretHasher;
use connecticket_domain::demo::{self, DemoSeed};
use connecticket_domain::service::ApiSettings;
use connecticket_domain::store::Store;
use connecticket_domain::{AdminService, Connecticket};
use connecticket_http::{AppState, Limits, ReloadingTls, ServeOptions, TlsFiles};
use ipnet::IpNet;
use tokio::net::TcpListener;

/// Everything the server needs besides a listener and a store.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub hash_key: String,
    pub api: ApiSettings,
    pub limits: Limits,
    pub trusted_proxies: Vec<IpNet>,
    pub tls: Option<TlsFiles>,
    pub header_read_timeout: Duration,
    /// Audit entries older than this are removed (None: kept forever).
    pub audit_retention: Option<chrono::Duration>,
    pub demo: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hash_key: connecticket_domain::auth::DEFAULT_HASH_KEY.to_owned(),
            api: ApiSettings::default(),
            limits: Limits::default(),
            trusted_proxies: Vec::new(),
            tls: None,
            header_read_timeout: ServeOptions::default().header_read_timeout,
            audit_retention: None,
            demo: false,
        }
    }
}

pub fn hasher(hash_key: &str) -> SecretHasher {
    SecretHasher::new(hash_key)
}

pub fn app_state(store: Arc<dyn Store>, config: &ServerConfig) -> AppState {
    let api = Connecticket::new(store, hasher(&config.hash_key), config.api);
    AppState::new(Arc::new(api), config.limits, config.trusted_proxies.clone())
}

/// Seeds the demo data when asked, and says loudly that this is a demo;
/// without `--demo`, refuses a database that still accepts the published
/// demo credentials.
pub async fn prepare(store: &Arc<dyn Store>, config: &ServerConfig) -> anyhow::Result<()> {
    let admin = AdminService::new(Arc::clone(store), hasher(&config.hash_key));
    if !config.demo {
        if admin.demo_credentials_active().await? {
            bail!(
                "this database accepts the published demo credentials; run it with --demo, \
                 or revoke the demo applications (connecticket app revoke) before serving real data"
            );
        }
        return Ok(());
    }
    let outcome = demo::seed(&admin)
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
pub fn serve_options(config: &ServerConfig) -> anyhow::Result<ServeOptions> {
    let tls = match &config.tls {
        Some(files) => Some(Arc::new(
            ReloadingTls::load(files.clone()).context("cannot load the TLS certificate")?,
        )),
        None => None,
    };
    Ok(ServeOptions {
        tls,
        header_read_timeout: config.header_read_timeout,
        // Heads between the configured limit and this are answered 431 in
        // the envelope; only beyond it does hyper cut the connection.
        max_head_bytes: (config.limits.max_header_bytes * 4).max(256 * 1024),
        ..ServeOptions::default()
    })
}

/// Runs until Ctrl-C or SIGTERM, then finishes in-flight requests.
pub async fn run(
    listener: TcpListener,
    store: Arc<dyn Store>,
    config: ServerConfig,
) -> anyhow::Result<()> {
    prepare(&store, &config).await?;
    let options = serve_options(&config)?;
    if let Some(tls) = &options.tls {
        tokio::spawn(reload_certificates(Arc::clone(tls)));
    }
    if let Some(retention) = config.audit_retention {
        let admin = AdminService::new(Arc::clone(&store), hasher(&config.hash_key));
        tokio::spawn(prune_audit(admin, retention));
    }
    let address: SocketAddr = listener.local_addr()?;
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(%address, scheme, "listening");
    // Tests and scripts read the bound address (useful with port 0) here.
    println!("connecticket listening on {scheme}://{address}");
    connecticket_http::serve(
        listener,
        app_state(store, &config),
        options,
        shutdown_signal(),
    )
    .await
    .context("the server stopped with an error")
}

/// Replaces the certificate on SIGHUP, or when its files change (checked
/// every 30 s), without touching established connections.
async fn reload_certificates(tls: Arc<ReloadingTls>) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(Duration::from_secs(30));
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

/// Applies the audit retention now and then every hour.
async fn prune_audit(admin: AdminService, retention: chrono::Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match admin.prune_audit(chrono::Utc::now() - retention).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "pruned the audit trail"),
            Err(error) => tracing::error!(%error, "could not prune the audit trail"),
        }
    }
}

async fn shutdown_signal() {
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
