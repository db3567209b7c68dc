//! The command line: `serve`, and the operator's admin commands, one file
//! per record kind. Admin commands work on the same `--database` as the
//! server, and may run while it serves.

mod application;
mod audit;
mod category;
mod db;
mod employee;
mod provider;
mod resident;
mod serve;
mod token;

use std::sync::Arc;

use clap::{Parser, Subcommand};
use connecticket_domain::auth::DEFAULT_HASH_KEY;
use connecticket_domain::model::ProviderId;
use connecticket_domain::AdminService;
use connecticket_store_postgres::PostgresOptions;
use connecticket_store_sqlite::SqliteOptions;

use crate::database::{self, StoreOptions, DEFAULT_DATABASE_URL};
use crate::server::hasher;
use crate::telemetry::LogFormat;

#[derive(Debug, Parser)]
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

    /// Key under which api secrets and access tokens are hashed at rest.
    /// Choose it once per deployment: changing it invalidates every stored
    /// credential.
    #[arg(long, env = "CONNECTICKET_HASH_KEY", global = true, default_value = DEFAULT_HASH_KEY, hide_default_value = true, hide_env_values = true)]
    pub hash_key: String,

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

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
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
    Serve(serve::ServeArgs),
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
    /// Revoke access tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Export, verify and prune the audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Move, verify and back up whole databases.
    #[command(subcommand)]
    Db(db::DbCommand),
}

/// What every admin command gets: the operator's use cases.
pub(crate) struct AdminContext {
    pub admin: AdminService,
}

impl AdminContext {
    async fn open(cli: &Cli) -> anyhow::Result<Self> {
        let store =
            database::open(&cli.database, cli.store_options(SqliteOptions::default())).await?;
        Ok(AdminContext {
            admin: AdminService::new(Arc::clone(&store), hasher(&cli.hash_key)),
        })
    }

    /// Resolves `--provider`, so a typo is reported before anything else.
    pub(crate) async fn provider(&self, id: i64) -> anyhow::Result<ProviderId> {
        Ok(self.admin.provider(ProviderId(id)).await?.id)
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(args) => return serve::run(&cli, args).await,
        Command::Db(command) => return db::run(&cli, command).await,
        _ => {}
    }
    let context = AdminContext::open(&cli).await?;
    match cli.command {
        Command::Serve(_) | Command::Db(_) => Ok(()),
        Command::Provider(command) => provider::run(&context, command).await,
        Command::Employee(command) => employee::run(&context, command).await,
        Command::Application(command) => application::run(&context, command).await,
        Command::Resident(command) => resident::run(&context, command).await,
        Command::Category(command) => category::run(&context, command).await,
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
}
