use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use connecticket_domain::service::{csv_fields, is_csv_field, resident_from_fields};
use futures::StreamExt;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum ResidentCommand {
    /// Create one resident; prints its id.
    Create(Box<ResidentFields>),
    /// Import residents from a CSV file whose header row names the fields
    /// (first_name is required). All rows are imported, or none: every bad
    /// row is reported with its line number.
    Import {
        #[arg(long)]
        provider: i64,
        /// The CSV file.
        file: PathBuf,
    },
    /// Print the CSV header that `import` accepts.
    CsvHeader,
    /// List a provider's residents (id, names, location) as CSV.
    List {
        #[arg(long)]
        provider: i64,
    },
}

#[derive(Debug, Args)]
pub struct ResidentFields {
    #[arg(long)]
    provider: i64,
    #[arg(long)]
    first_name: String,
    #[arg(long)]
    last_name: Option<String>,
    /// Date of birth, 1937/01/21 or 1937-01-21.
    #[arg(long)]
    dob: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    phone_number: Option<String>,
    #[arg(long)]
    location: Option<String>,
    #[arg(long)]
    home_address1: Option<String>,
    #[arg(long)]
    home_city: Option<String>,
    #[arg(long)]
    home_state: Option<String>,
    #[arg(long)]
    home_zip: Option<String>,
    #[arg(long)]
    in_home_care: bool,
}

impl ResidentFields {
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        let optional = [
            ("last_name", &self.last_name),
            ("dob", &self.dob),
            ("email", &self.email),
            ("phone_number", &self.phone_number),
            ("location", &self.location),
            ("home_address1", &self.home_address1),
            ("home_city", &self.home_city),
            ("home_state", &self.home_state),
            ("home_zip", &self.home_zip),
        ];
        let mut pairs = vec![
            ("first_name", self.first_name.as_str()),
            (
                "in_home_care",
                if self.in_home_care { "true" } else { "false" },
            ),
        ];
        pairs.extend(
            optional
                .into_iter()
                .filter_map(|(name, value)| value.as_deref().map(|v| (name, v))),
        );
        pairs
    }
}

pub(super) async fn run(context: &AdminContext, command: ResidentCommand) -> anyhow::Result<()> {
    match command {
        ResidentCommand::Create(fields) => {
            let provider = context.provider(fields.provider).await?;
            let resident = resident_from_fields(fields.pairs()).map_err(anyhow::Error::msg)?;
            let ids = context
                .admin
                .create_residents(provider, vec![resident])
                .await?;
            if let Some(id) = ids.first() {
                println!("created resident {id}");
            }
        }
        ResidentCommand::Import { provider, file } => {
            let provider = context.provider(provider).await?;
            let progress = super::progress::counter("rows checked");
            let residents = read_csv(&file, &progress);
            progress.finish_and_clear();
            let residents = residents?;
            let count = residents.len();
            let writing = super::progress::counter("writing residents (one transaction)");
            let ids = context.admin.create_residents(provider, residents).await;
            writing.finish_and_clear();
            let ids = ids?;
            match (ids.first(), ids.last()) {
                (Some(first), Some(last)) => {
                    println!("imported {count} residents (ids {first} to {last})")
                }
                _ => println!("imported 0 residents"),
            }
        }
        ResidentCommand::CsvHeader => println!("{}", csv_fields().join(",")),
        ResidentCommand::List { provider } => {
            let provider = context.provider(provider).await?;
            let mut out = csv::Writer::from_writer(std::io::stdout());
            out.write_record(["id", "first_name", "last_name", "location", "state"])?;
            let mut chunks = context.admin.residents(provider).await?;
            while let Some(chunk) = chunks.next().await {
                for r in chunk? {
                    let cell = connecticket_domain::text::spreadsheet_cell;
                    out.write_record([
                        r.id.to_string().as_str(),
                        &cell(&r.first_name),
                        &cell(r.last_name.as_deref().unwrap_or("")),
                        &cell(r.location.as_deref().unwrap_or("")),
                        &cell(&r.state),
                    ])?;
                }
            }
            out.flush()?;
        }
    }
    Ok(())
}

/// Reads and validates every row before anything is written.
fn read_csv(
    file: &PathBuf,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Vec<connecticket_domain::model::NewResident>> {
    let mut reader =
        csv::Reader::from_path(file).with_context(|| format!("cannot read {}", file.display()))?;
    let headers: Vec<String> = reader
        .headers()
        .context("cannot read the CSV header row")?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let unknown: Vec<&str> = headers
        .iter()
        .map(String::as_str)
        .filter(|h| !is_csv_field(h))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "unknown CSV columns: {} (accepted: {})",
            unknown.join(", "),
            csv_fields().join(",")
        );
    }
    if !headers.iter().any(|h| h == "first_name") {
        bail!("the CSV header must include first_name");
    }
    let mut residents = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        progress.inc(1);
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                problems.push(format!("line {line}: {error}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let pairs = headers.iter().map(String::as_str).zip(record.iter());
        match resident_from_fields(pairs) {
            Ok(resident) => residents.push(resident),
            Err(problem) => problems.push(format!("line {line}: {problem}")),
        }
    }
    if !problems.is_empty() {
        bail!(
            "nothing was imported; {} bad rows:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
    Ok(residents)
}
