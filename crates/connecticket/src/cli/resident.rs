use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use connecticket_domain::audit::Action;
use connecticket_domain::audit::Outcome;
use connecticket_domain::service::{
    contact_from_input, resident_from_fields, ContactInput, RESIDENT_FIELDS,
};
use connecticket_domain::text::{parse_bool, BOOLEAN_EXPECTED};
use connecticket_domain::validate::PhoneCountry;
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
            let call = context
                .for_provider(Action::CreateResidents, fields.provider)
                .await?;
            let country = call.scope().provider()?.phone_country();
            let resident = match resident_from_fields(fields.pairs(), [], country) {
                Ok(resident) => resident,
                Err(problem) => {
                    context.service.reject_admin(call, Outcome::Invalid).await;
                    anyhow::bail!(problem);
                }
            };
            let ids = context
                .service
                .create_residents(call, vec![resident])
                .await?;
            if let Some(id) = ids.first() {
                say!("created resident {id}");
            }
        }
        ResidentCommand::Import { provider, file } => {
            let call = context
                .for_provider(Action::CreateResidents, provider)
                .await?;
            let progress = super::progress::counter("rows checked");
            let country = call.scope().provider()?.phone_country();
            let residents = read_csv(&file, country, &progress);
            progress.finish_and_clear();
            let residents = match residents {
                Ok(residents) => residents,
                Err(error) => {
                    // Refused before anything was written: audited so.
                    context.service.reject_admin(call, Outcome::Invalid).await;
                    return Err(error);
                }
            };
            let count = residents.len();
            let writing = super::progress::counter("writing residents (one transaction)");
            let ids = context.service.create_residents(call, residents).await;
            writing.finish_and_clear();
            let ids = ids?;
            match (ids.first(), ids.last()) {
                (Some(first), Some(last)) => {
                    say!("imported {count} residents (ids {first} to {last})")
                }
                _ => say!("imported 0 residents"),
            }
        }
        ResidentCommand::CsvHeader => say!("{}", csv_fields().join(",")),
        ResidentCommand::List { provider } => {
            let call = context.for_provider(Action::AllResidents, provider).await?;
            let mut chunks = context.service.list_residents(call).await?;
            let mut out = csv::Writer::from_writer(std::io::stdout());
            out.write_record(["id", "first_name", "last_name", "location", "state"])?;
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
    country: PhoneCountry,
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
        let row = headers.iter().map(String::as_str).zip(record.iter());
        let resident = split_row(row, country)
            .and_then(|(fields, contacts)| resident_from_fields(fields, contacts, country));
        match resident {
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

/// Up to this many contacts per CSV row, as `contact1_role`, …
const MAX_CSV_CONTACTS: usize = 3;

/// Each contact's fields in a CSV row, after its `contactN_` prefix.
const CONTACT_FIELDS: [&str; 6] = [
    "role",
    "name",
    "email",
    "phone",
    "email_consent",
    "sms_consent",
];

/// Whether a CSV column is one `import` takes.
fn is_csv_field(name: &str) -> bool {
    RESIDENT_FIELDS.contains(&name) || contact_field(name).is_some()
}

/// Every column a CSV may carry, in template order: the resident's
/// fields, then each contact's.
fn csv_fields() -> Vec<String> {
    let mut fields: Vec<String> = RESIDENT_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    for n in 1..=MAX_CSV_CONTACTS {
        fields.extend(CONTACT_FIELDS.iter().map(|f| format!("contact{n}_{f}")));
    }
    fields
}

/// `contact2_phone` -> (2, "phone").
fn contact_field(name: &str) -> Option<(usize, &str)> {
    let rest = name.strip_prefix("contact")?;
    let (number, field) = rest.split_once('_')?;
    let number: usize = number.parse().ok()?;
    ((1..=MAX_CSV_CONTACTS).contains(&number) && CONTACT_FIELDS.contains(&field))
        .then_some((number, field))
}

/// One CSV row, split: the resident's `(column, value)` cells, and the
/// contacts the `contactN_` cells make.
type Row<'a> = (Vec<(&'a str, &'a str)>, Vec<ContactInput>);

/// A CSV row's resident fields, and its contacts (a contact whose cells
/// are all blank is none).
fn split_row<'a>(
    row: impl Iterator<Item = (&'a str, &'a str)>,
    country: PhoneCountry,
) -> Result<Row<'a>, String> {
    let mut fields = Vec::new();
    let mut contacts: std::collections::BTreeMap<usize, ContactInput> = Default::default();
    for (name, value) in row {
        let Some((number, field)) = contact_field(name) else {
            fields.push((name, value));
            continue;
        };
        let text = value.trim();
        if text.is_empty() {
            continue;
        }
        let flag = || {
            parse_bool(text)
                .map(|v| v.unwrap_or(false))
                .map_err(|()| format!("{name} {BOOLEAN_EXPECTED}"))
        };
        let contact = contacts.entry(number).or_default();
        match field {
            "role" => contact.role = text.to_owned(),
            "name" => contact.name = text.to_owned(),
            "email" => contact.email = Some(text.to_owned()),
            "phone" => contact.phone = Some(text.to_owned()),
            "email_consent" => contact.email_consent = flag()?,
            _ => contact.sms_consent = flag()?,
        }
    }
    // Each contact is checked here too, to name its columns in the error.
    for (number, contact) in &contacts {
        contact_from_input(
            contact.clone(),
            country,
            chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        )
        .map_err(|error| format!("contact{number}: {error}"))?;
    }
    Ok((fields, contacts.into_values().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_may_carry_contacts_each_checked() {
        let row = [
            ("first_name", "Ada"),
            ("contact1_role", "family"),
            ("contact1_name", "Ann"),
            ("contact1_phone", "+1 555 555 0123"),
            ("contact1_sms_consent", "yes"),
            ("contact2_role", ""),
            ("contact2_name", ""),
        ];
        let us = PhoneCountry::default();
        let (fields, contacts) = split_row(row.into_iter(), us).expect("valid");
        let resident = resident_from_fields(fields, contacts, us).expect("valid");
        assert_eq!(resident.contacts.len(), 1, "a blank contact is none");
        assert_eq!(resident.contacts[0].phone.as_deref(), Some("+15555550123"));
        assert!(resident.contacts[0].sms_consent && !resident.contacts[0].email_consent);
        let row = [
            ("first_name", "Ada"),
            ("contact2_role", "family"),
            ("contact2_name", "Ann"),
            ("contact2_phone", "0123"),
        ];
        assert_eq!(
            split_row(row.into_iter(), us).err(),
            Some(
                "contact2: phone must be a number like (555) 555-0123 or +44 20 7946 0958 \
                 (without a country code, it is read as a number in US)"
                    .to_owned()
            )
        );
        assert!(is_csv_field("contact3_email") && !is_csv_field("contact4_email"));
        assert_eq!(csv_fields().len(), 19 + 18);
    }
}
