use std::io::Write;

use anyhow::bail;
use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};
use connecticket_domain::audit::{Action, AuditRecord};
use connecticket_domain::service::AuditFilter;
use connecticket_domain::time::parse_timestamp;
use futures::TryStreamExt;

use super::AdminContext;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write audit entries to stdout, oldest first.
    Export {
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        #[arg(long)]
        provider: Option<i64>,
        #[arg(long)]
        application: Option<i64>,
        /// Entries that touched this resident.
        #[arg(long)]
        resident: Option<i64>,
        /// Entries that touched this ticket.
        #[arg(long)]
        ticket: Option<i64>,
        /// From this time on (`2026/11/27 00:00:00 +0000` or RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Before this time.
        #[arg(long)]
        until: Option<String>,
    },
    /// Check the hash chain: fails if any entry was altered, inserted or
    /// removed behind the server's back.
    Verify,
    /// Remove entries older than N days (what `serve --audit-retention-days`
    /// does hourly).
    Prune {
        #[arg(long)]
        older_than_days: u32,
    },
}

pub(super) fn time(name: &str, text: Option<String>) -> anyhow::Result<Option<DateTime<Utc>>> {
    text.map(|text| match parse_timestamp(&text) {
        Some(at) => Ok(at),
        None => bail!("--{name} must be a timestamp like 2026/11/27 00:00:00 +0000"),
    })
    .transpose()
}

pub(super) async fn run(context: &AdminContext, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Export {
            format,
            provider,
            application,
            resident,
            ticket,
            since,
            until,
        } => {
            let filter = AuditFilter {
                provider_id: provider,
                application_id: application,
                resident_id: resident,
                ticket_id: ticket,
                since: time("since", since)?,
                until: time("until", until)?,
                by: None,
            };
            let call = match provider {
                Some(id) => context.for_provider(Action::AuditTrail, id).await?,
                None => context.call(Action::AuditTrail).into(),
            };
            let mut entries = context.service.export_audit(call, filter).await?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            match format {
                ExportFormat::Jsonl => {
                    let progress = super::progress::counter("audit entries exported");
                    while let Some(chunk) = entries.try_next().await? {
                        for record in &chunk {
                            serde_json::to_writer(&mut out, record)?;
                            out.write_all(b"\n")?;
                        }
                        progress.inc(chunk.len() as u64);
                    }
                    out.flush()?;
                    progress.finish_and_clear();
                }
                ExportFormat::Csv => {
                    let progress = super::progress::counter("audit entries exported");
                    let mut csv = csv::Writer::from_writer(out);
                    csv.write_record(AuditRecord::CSV_HEADER)?;
                    while let Some(chunk) = entries.try_next().await? {
                        for record in &chunk {
                            csv.write_record(record.csv_fields())?;
                        }
                        progress.inc(chunk.len() as u64);
                    }
                    csv.flush()?;
                    progress.finish_and_clear();
                }
            }
        }
        AuditCommand::Verify => match context
            .service
            .verify_audit_report(context.call(Action::AuditTrail))
            .await?
        {
            Ok(verified) => {
                say!(
                    "the audit trail is intact: {} entries verified",
                    verified.entries
                );
                // Not tampering: what a failover on asynchronous
                // replication took, as the writer that found it recorded.
                for loss in &verified.losses {
                    say!("lost in a database failover: {loss}");
                }
            }
            Err(broken) => bail!("the audit trail was tampered with: {broken}"),
        },
        AuditCommand::Prune { older_than_days } => {
            let cutoff = Utc::now() - chrono::Duration::days(i64::from(older_than_days));
            let call = context.call(Action::PruneAudit);
            let removed = context.service.prune_audit(call, cutoff).await?;
            say!("removed {removed} audit entries older than {older_than_days} days");
        }
    }
    Ok(())
}
