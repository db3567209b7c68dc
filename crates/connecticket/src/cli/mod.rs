//! The command line: `serve`, and the operator's admin commands, one file
//! per record kind. Admin commands work on the same `--database` as the
//! server, and may run while it serves.

mod application;
mod audit;
mod category;
pub mod config;
mod contact;
mod db;
mod employee;
mod escalation;
mod notifications;
mod progress;
mod provider;
mod report;
mod resident;
mod serve;
mod token;

use std::sync::Arc;

use clap::{Parser, Subcommand};
use connecticket_domain::auth::{SecretHasher, DEMO_HASH_KEY};
use connecticket_domain::model::ProviderId;
use connecticket_domain::AdminService;
use connecticket_store_postgres::PostgresOptions;
use connecticket_store_sqlite::SqliteOptions;

use crate::database::{self, StoreOptions, DEFAULT_DATABASE_URL};
use crate::telemetry::LogFormat;

#[derive(Parser)]
#[command(
    name = "connecticket",
    version,
    about = "Care-coordination tickets about residents: the server and its admin commands"
)]
pub struct Cli {
    /// Database URL: sqlite://PATH (created on first start) or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.
    /// (The environment's value is never echoed: it may hold a password.)
    #[arg(long = "database", env = "CONNECTICKET_DATABASE_URL", global = true, default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database: String,

    /// Key under which api secrets and access tokens are hashed at rest: a
    /// long random string (`openssl rand -hex 32`), the same on every
    /// instance. Choose it once per deployment: changing it invalidates
    /// every stored credential. Only `serve --demo` may run without it.
    #[arg(
        long,
        env = "CONNECTICKET_HASH_KEY",
        global = true,
        hide_env_values = true
    )]
    pub hash_key: Option<String>,

    /// Most PostgreSQL connections this process keeps open.
    #[arg(
        long,
        env = "CONNECTICKET_PG_POOL_SIZE",
        global = true,
        default_value_t = 10
    )]
    pub pg_pool_size: u32,

    /// Log line format (on stderr).
    #[arg(
        long,
        env = "CONNECTICKET_LOG_FORMAT",
        global = true,
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,

    /// A TOML file with any of these settings under their flags' names
    /// (`listen = "0.0.0.0:3000"`); the environment and flags override it.
    #[arg(long, env = "CONNECTICKET_CONFIG", global = true)]
    pub config: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: Command,

    /// Every effective setting with its source (filled by `config::parse`).
    #[arg(skip)]
    pub settings: Vec<config::Setting>,
}

/// What `serve` says when it would run on the published demo key.
pub const HASH_KEY_REQUIRED: &str = "serve needs its own hash key outside demo mode: set CONNECTICKET_HASH_KEY (or --hash-key) to a long random string, the same on every instance, e.g. `openssl rand -hex 32`";

impl std::fmt::Debug for Cli {
    // The database URL may hold a password and the hash key protects every
    // credential: neither is ever printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cli")
            .field("database", &database::redact(&self.database))
            .field("hash_key", &self.hash_key.as_ref().map(|_| "<redacted>"))
            .field("pg_pool_size", &self.pg_pool_size)
            .field("log_format", &self.log_format)
            .field("command", &self.command)
            .finish()
    }
}

impl Cli {
    /// The hasher for commands that tolerate the demo key (admin commands
    /// on a demo database); `serve` decides for itself.
    pub(crate) fn hasher(&self) -> SecretHasher {
        SecretHasher::new(self.hash_key.as_deref().unwrap_or(DEMO_HASH_KEY))
    }

    pub(crate) fn store_options(&self, sqlite: SqliteOptions) -> StoreOptions {
        StoreOptions {
            sqlite,
            postgres: PostgresOptions {
                pool_size: self.pg_pool_size,
                ..PostgresOptions::default()
            },
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server.
    Serve(Box<serve::ServeArgs>),
    /// Manage providers (tenants).
    #[command(subcommand)]
    Provider(provider::ProviderCommand),
    /// Manage a provider's employees.
    #[command(subcommand)]
    Employee(employee::EmployeeCommand),
    /// Manage client applications and their credentials.
    #[command(subcommand, name = "app", alias = "application")]
    Application(application::ApplicationCommand),
    /// Manage a provider's residents.
    #[command(subcommand)]
    Resident(resident::ResidentCommand),
    /// Manage a provider's categories.
    #[command(subcommand)]
    Category(category::CategoryCommand),
    /// Manage residents' contacts (who is told about them).
    #[command(subcommand)]
    Contact(contact::ContactCommand),
    /// Watch and retry the notification queue; set notification policies.
    #[command(subcommand, name = "notifications")]
    Notifications(notifications::NotificationCommand),
    /// Set escalation rules and the staff they reach.
    #[command(subcommand)]
    Escalation(escalation::EscalationCommand),
    /// Reports: who was told about each ticket and who answered.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Revoke access tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Export, verify and prune the audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Move, verify and back up whole databases.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Show the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Every setting of `serve` and the global flags, where each came from
    /// (flag, env, file, default), secrets masked.
    Print,
}

/// What every admin command gets: the operator's use cases.
pub(crate) struct AdminContext {
    pub admin: AdminService,
    /// Credentials made now would be hashed under the published demo key.
    pub demo_key: bool,
}

impl AdminContext {
    async fn open(cli: &Cli) -> anyhow::Result<Self> {
        let store =
            database::open(&cli.database, cli.store_options(SqliteOptions::default())).await?;
        Ok(AdminContext {
            admin: AdminService::new(
                Arc::clone(&store),
                cli.hasher(),
                connecticket_domain::clock::system(),
            ),
            demo_key: cli.hasher().is_demo_key(),
        })
    }

    /// Credentials hashed under the published key only work with a demo
    /// server; say so before printing them.
    pub(crate) fn warn_if_demo_key(&self) {
        if self.demo_key {
            eprintln!(
                "warning: no CONNECTICKET_HASH_KEY is set; these credentials are hashed under the demo key and only work with `serve --demo`"
            );
        }
    }

    /// Resolves `--provider`, so a typo is reported before anything else.
    pub(crate) async fn provider(&self, id: i64) -> anyhow::Result<ProviderId> {
        Ok(self.admin.provider(ProviderId(id)).await?.id)
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(args) => return serve::run(&cli, args).await,
        Command::Config(ConfigCommand::Print) => {
            println!("setting\tvalue\tsource");
            for setting in &cli.settings {
                println!("{}\t{}\t{}", setting.name, setting.value, setting.source);
            }
            return Ok(());
        }
        Command::Db(command) => return db::run(&cli, command).await,
        _ => {}
    }
    let context = AdminContext::open(&cli).await?;
    match cli.command {
        Command::Serve(_) | Command::Db(_) | Command::Config(_) => Ok(()),
        Command::Provider(command) => provider::run(&context, command).await,
        Command::Employee(command) => employee::run(&context, command).await,
        Command::Application(command) => application::run(&context, command).await,
        Command::Resident(command) => resident::run(&context, command).await,
        Command::Category(command) => category::run(&context, command).await,
        Command::Contact(command) => contact::run(&context, command).await,
        Command::Notifications(command) => notifications::run(&context, command).await,
        Command::Escalation(command) => escalation::run(&context, command).await,
        Command::Report(command) => report::run(&context, command).await,
        Command::Token(command) => token::run(&context, command).await,
        Command::Audit(command) => audit::run(&context, command).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn configuration_never_prints_a_secret() {
        let cli = Cli::parse_from([
            "connecticket",
            "--database",
            "postgres://app:db-password@db/ct",
            "--hash-key",
            "the-hash-key",
            "serve",
            "--demo",
        ]);
        let shown = format!("{cli:?}");
        assert!(
            !shown.contains("db-password") && !shown.contains("the-hash-key"),
            "{shown}"
        );
        let config = crate::server::ServerConfig {
            hash_key: Some("the-hash-key".to_owned()),
            ..crate::server::ServerConfig::default()
        };
        assert!(!format!("{config:?}").contains("the-hash-key"));
    }
}
