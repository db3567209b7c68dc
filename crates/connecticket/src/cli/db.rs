use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Subcommand;
use connecticket_domain::audit::Action;
use connecticket_domain::transfer::{self, TableSummary};
use connecticket_domain::Connecticket;
use connecticket_store_sqlite::SqliteOptions;

use super::Cli;
use crate::database::{self, DatabaseUrl};

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy everything from --database into the empty database at --to
    /// (SQLite and PostgreSQL either way), keeping every id, then verify
    /// that both hold the same records. All or nothing: a failed or refused
    /// move leaves the target untouched.
    Move {
        /// The target database URL; it must be empty.
        #[arg(long)]
        to: String,
    },
    /// Compare --database with another database, table by table (row
    /// counts and checksums); fails if they differ.
    Verify {
        #[arg(long)]
        against: String,
    },
    /// Write a consistent copy of a SQLite --database to a new file while
    /// the server keeps serving. (PostgreSQL: use pg_dump, see
    /// docs/OPERATIONS.md.)
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
}

fn table_names(tables: &[transfer::Table]) -> String {
    tables
        .iter()
        .map(|table| table.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_summary(tables: &[TableSummary]) -> std::io::Result<()> {
    say!("table\trows\tsha256");
    for table in tables {
        say!("{}\t{}\t{}", table.table.name(), table.rows, table.checksum);
    }
    Ok(())
}

/// The use cases over the database `--database` names, for the operator
/// running this command: a copy of every record is audited there.
fn service_over(
    cli: &Cli,
    store: &std::sync::Arc<dyn connecticket_domain::store::Store>,
) -> Connecticket {
    Connecticket::new(
        std::sync::Arc::clone(store),
        cli.hasher(),
        connecticket_domain::service::ApiSettings::default(),
        connecticket_domain::clock::system(),
    )
}

pub(super) async fn run(cli: &Cli, command: &DbCommand) -> anyhow::Result<()> {
    let operator = super::operator(cli.actor.as_deref())?;
    let options = cli.store_options(SqliteOptions::default());
    match command {
        DbCommand::Move { to } => {
            if DatabaseUrl::parse(to)? == DatabaseUrl::parse(&cli.database)? {
                bail!("--to names the source database itself");
            }
            let target_kind = DatabaseUrl::parse(to)?.kind();
            let source = database::open(&cli.database, options.clone()).await?;
            let target = database::open(to, options).await?;
            let service = service_over(cli, &source);
            let call = service.operate(&operator, Action::ManageDatabase);
            let progress = super::progress::counter("records copied");
            let counted = progress.clone();
            let copied = std::sync::Arc::new(move |n: u64| counted.inc(n));
            let moved = service
                .move_database(call, target.as_ref(), target_kind, copied)
                .await;
            service.settle().await;
            progress.finish_and_clear();
            let report = moved.context("the move did not happen; the target is unchanged")?;
            print_summary(&report.tables)?;
            if !report.differing.is_empty() {
                bail!(
                    "verification failed: the target differs in {}",
                    table_names(&report.differing)
                );
            }
            say!(
                "moved and verified: source and target hold the same {} records",
                report.records
            );
        }
        DbCommand::Verify { against } => {
            let source = database::open(&cli.database, options.clone()).await?;
            let other = database::open(against, options).await?;
            let ours = transfer::summarize(source.as_ref()).await?;
            let theirs = transfer::summarize(other.as_ref()).await?;
            print_summary(&ours)?;
            let differing = transfer::differences(&ours, &theirs);
            if !differing.is_empty() {
                bail!("the databases differ in: {}", table_names(&differing));
            }
            say!("identical: both databases hold the same records");
        }
        DbCommand::Backup { to } => match DatabaseUrl::parse(&cli.database)? {
            DatabaseUrl::Sqlite(path) => {
                if to.exists() {
                    bail!("{} already exists; name a new file", to.display());
                }
                // Opening migrates the file first, so the copy is current.
                let store = database::open(&cli.database, options).await?;
                let service = service_over(cli, &store);
                let call = service.operate(&operator, Action::ManageDatabase);
                let outcome = service
                    .back_up(call, async || {
                        connecticket_store_sqlite::backup(&path, to)
                            .await
                            .map_err(|error| {
                                connecticket_domain::StoreError::backend("backing up the database", error)
                            })
                    })
                    .await;
                service.settle().await;
                outcome?;
                say!("backed up {} to {}", path.display(), to.display());
            }
            DatabaseUrl::Postgres(_) => bail!(
                "db backup copies SQLite files; back up PostgreSQL with pg_dump or your provider's managed backups (docs/OPERATIONS.md)"
            ),
        },
    }
    Ok(())
}
