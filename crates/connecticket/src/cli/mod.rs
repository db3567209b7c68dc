//! The command line: `serve`, and the operator's admin commands, one file
//! per record kind. Admin commands work on the same `--database` as the
//! server, and may run while it serves.

/// `println!` that hands a failed write back instead of panicking: a reader
/// that stops reading (`connecticket audit export | head`) is not a crash,
/// and `main` ends quietly on it.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?;
    }};
}

mod application;
mod audit;
mod category;
pub mod config;
mod contact;
mod db;
mod display;
mod employee;
mod escalation;
mod notifications;
mod progress;
mod provider;
mod report;
mod resident;
mod serve;
mod token;
mod webhook;

use std::sync::Arc;

use clap::{Parser, Subcommand};
use connecticket_domain::audit::Action;
use connecticket_domain::auth::{SecretHasher, DEMO_HASH_KEY};
use connecticket_domain::model::ProviderId;
use connecticket_domain::service::{AdminCall, Operator, OperatorCall};
use connecticket_domain::Connecticket;
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

    /// Who runs the command, as the audit trail records it beside the
    /// operating-system user and host (a script's name, a ticket number):
    /// every entry of an admin command names both.
    #[arg(long, env = "CONNECTICKET_ACTOR", global = true)]
    pub actor: Option<String>,

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
    /// Grant, list and revoke board displays (wall screens).
    #[command(subcommand)]
    Display(display::DisplayCommand),
    /// Set escalation rules and the staff they reach.
    #[command(subcommand)]
    Escalation(escalation::EscalationCommand),
    /// Reports: who was told about each ticket and who answered.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Revoke access tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Watch applications' webhook endpoints; replay events; delete one.
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
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

/// What every admin command gets: the use cases, and the operator they
/// run for.
pub(crate) struct AdminContext {
    pub service: Connecticket,
    pub operator: Operator,
    /// Credentials made now would be hashed under the published demo key.
    pub demo_key: bool,
}

/// Whoever runs this command: the operating-system user and host, and the
/// name `--actor` gives.
pub(crate) fn operator(actor: Option<&str>) -> anyhow::Result<Operator> {
    let user = whoami::fallible::username().unwrap_or_else(|_| "unknown".to_owned());
    let host = whoami::fallible::hostname().unwrap_or_else(|_| "unknown".to_owned());
    Operator::new(&user, &host, actor).map_err(|error| anyhow::anyhow!("--{}", flag_error(&error)))
}

impl AdminContext {
    async fn open(cli: &Cli) -> anyhow::Result<Self> {
        let operator = operator(cli.actor.as_deref())?;
        let store =
            database::open(&cli.database, cli.store_options(SqliteOptions::default())).await?;
        Ok(AdminContext {
            service: Connecticket::new(
                Arc::clone(&store),
                cli.hasher(),
                connecticket_domain::service::ApiSettings::default(),
                connecticket_domain::clock::system(),
            ),
            operator,
            demo_key: cli.hasher().is_demo_key(),
        })
    }

    /// An operator's call over the whole installation, under `action`.
    pub(crate) fn call(&self, action: Action) -> OperatorCall {
        self.service.operate(&self.operator, action)
    }

    /// An operator's call for the provider `--provider` names: an unknown
    /// provider is reported (and audited) before anything else.
    pub(crate) async fn for_provider(&self, action: Action, id: i64) -> anyhow::Result<AdminCall> {
        Ok(self
            .service
            .within(self.call(action), ProviderId(id))
            .await?)
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
}

/// A domain error as the command line says it: an invalid field by the flag
/// that carries it.
pub(crate) fn flag_error(error: &connecticket_domain::DomainError) -> String {
    use connecticket_domain::{DomainError, Field};
    let DomainError::Invalid(invalid) = error else {
        return error.to_string();
    };
    let flag = match invalid.field {
        Field::AckWithin => "ack-within".to_owned(),
        Field::RenotifyAfter => "renotify-after".to_owned(),
        Field::QuietHours => "quiet-hours".to_owned(),
        Field::TimeZone => "time-zone".to_owned(),
        Field::Escalation | Field::Tier => "then".to_owned(),
        Field::Contact => "contact (--email or --phone)".to_owned(),
        Field::Phone => "phone".to_owned(),
        other => other.name().replace(' ', "-"),
    };
    format!("{flag} {}", invalid.problem)
}

/// Whether a command failed only because its reader went away (`| head`).
pub fn reader_went_away(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<csv::Error>()
                .is_some_and(|csv| matches!(csv.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe))
    })
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(args) => return serve::run(&cli, args).await,
        Command::Config(ConfigCommand::Print) => {
            say!("setting\tvalue\tsource");
            for setting in &cli.settings {
                say!("{}\t{}\t{}", setting.name, setting.value, setting.source);
            }
            return Ok(());
        }
        Command::Db(command) => return db::run(&cli, command).await,
        _ => {}
    }
    let context = AdminContext::open(&cli).await?;
    let ran = run_admin(&context, cli.command).await;
    // A refused command's entry was written without holding up its error:
    // the process ends only once it is durable.
    context.service.settle().await;
    // Invalid input is said by the flag that carried it.
    ran.map_err(
        |error| match error.downcast::<connecticket_domain::DomainError>() {
            Ok(invalid @ connecticket_domain::DomainError::Invalid(_)) => {
                anyhow::anyhow!("--{}", flag_error(&invalid))
            }
            Ok(other) => anyhow::Error::from(other),
            Err(other) => other,
        },
    )
}

async fn run_admin(context: &AdminContext, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) | Command::Db(_) | Command::Config(_) => Ok(()),
        Command::Provider(command) => provider::run(context, command).await,
        Command::Employee(command) => employee::run(context, command).await,
        Command::Application(command) => application::run(context, command).await,
        Command::Resident(command) => resident::run(context, command).await,
        Command::Category(command) => category::run(context, command).await,
        Command::Display(command) => display::run(context, command).await,
        Command::Webhook(command) => webhook::run(context, command).await,
        Command::Contact(command) => contact::run(context, command).await,
        Command::Notifications(command) => notifications::run(context, command).await,
        Command::Escalation(command) => escalation::run(context, command).await,
        Command::Report(command) => report::run(context, command).await,
        Command::Token(command) => token::run(context, command).await,
        Command::Audit(command) => audit::run(context, command).await,
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
