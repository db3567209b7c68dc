use std::net::SocketAddr;

use anyhow::Context;
use clap::Args;
use connecticket_http::Limits;
use connecticket_store_sqlite::SqliteOptions;
use tokio::net::TcpListener;

use super::Cli;
use crate::database;
use crate::server::{self, ServerConfig};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CONNECTICKET_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Seed the contract's demo data (only into an empty database) and run
    /// with the published demo credentials.
    #[arg(long)]
    pub demo: bool,

    /// How long an access token lives, in seconds.
    #[arg(long, env = "CONNECTICKET_TOKEN_LIFETIME_SECS", default_value_t = 86_400, value_parser = clap::value_parser!(u32).range(1..))]
    pub token_lifetime_secs: u32,

    /// Largest request body, in bytes (413 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_REQUEST_BYTES", default_value_t = Limits::default().max_request_bytes)]
    pub max_request_bytes: usize,

    /// Largest single attachment, in bytes (413 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_FILE_BYTES", default_value_t = Limits::default().max_file_bytes)]
    pub max_file_bytes: usize,

    /// Most attachments in one request (413 beyond).
    #[arg(long, env = "CONNECTICKET_MAX_FILES", default_value_t = Limits::default().max_files)]
    pub max_files: usize,

    /// SQLite read connections.
    #[arg(long, env = "CONNECTICKET_SQLITE_READERS", default_value_t = SqliteOptions::default().read_connections)]
    pub sqlite_readers: usize,
}

pub(super) async fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let sqlite = SqliteOptions {
        read_connections: args.sqlite_readers,
    };
    let store = database::open(&cli.database, cli.store_options(sqlite)).await?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let config = ServerConfig {
        hash_key: cli.hash_key.clone(),
        token_lifetime: chrono::Duration::seconds(i64::from(args.token_lifetime_secs)),
        limits: Limits {
            max_request_bytes: args.max_request_bytes,
            max_file_bytes: args.max_file_bytes,
            max_files: args.max_files,
        },
        demo: args.demo,
    };
    server::run(listener, store, config).await
}
