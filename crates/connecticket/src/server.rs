//! Wiring the layers together and running the server.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use chrono::Duration;
use connecticket_domain::auth::SecretHasher;
use connecticket_domain::demo::{self, DemoSeed};
use connecticket_domain::store::Store;
use connecticket_domain::{AdminService, Connecticket};
use connecticket_http::{AppState, Limits};
use tokio::net::TcpListener;

/// Everything the server needs besides a listener.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub hash_key: String,
    pub token_lifetime: Duration,
    pub limits: Limits,
    pub demo: bool,
}

pub fn hasher(hash_key: &str) -> SecretHasher {
    SecretHasher::new(hash_key)
}

pub fn app_state(store: Arc<dyn Store>, config: &ServerConfig) -> AppState {
    let api = Connecticket::new(store, hasher(&config.hash_key), config.token_lifetime);
    AppState::new(Arc::new(api), config.limits)
}

/// Seeds the demo data when asked, and says loudly that this is a demo.
pub async fn prepare(store: &Arc<dyn Store>, config: &ServerConfig) -> anyhow::Result<()> {
    if !config.demo {
        return Ok(());
    }
    let admin = AdminService::new(Arc::clone(store), hasher(&config.hash_key));
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

/// Runs until Ctrl-C or SIGTERM, then finishes in-flight requests.
pub async fn run(
    listener: TcpListener,
    store: Arc<dyn Store>,
    config: ServerConfig,
) -> anyhow::Result<()> {
    prepare(&store, &config).await?;
    let address: SocketAddr = listener.local_addr()?;
    tracing::info!(%address, "listening");
    // Tests and scripts read the bound address (useful with port 0) here.
    println!("connecticket listening on http://{address}");
    connecticket_http::serve(listener, app_state(store, &config), shutdown_signal())
        .await
        .context("the server stopped with an error")
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
