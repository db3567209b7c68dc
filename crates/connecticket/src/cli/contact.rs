use clap::Subcommand;
use connecticket_domain::model::{ContactId, ResidentId};
use connecticket_domain::service::ContactInput;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Add a person told about a resident: family, primary physician or
    /// healthcare professional. Consent is per channel.
    Add {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        resident: i64,
        /// family, primary_physician or healthcare_professional.
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// E.164, e.g. +15555550123.
        #[arg(long)]
        phone: Option<String>,
        /// The contact agreed to email.
        #[arg(long)]
        email_consent: bool,
        /// The contact agreed to SMS.
        #[arg(long)]
        sms_consent: bool,
    },
    /// List a resident's contacts (or all of the provider's).
    List {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        resident: Option<i64>,
    },
    /// Remove a contact; what was sent to it stays on record.
    Remove {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        id: i64,
    },
}

pub(super) async fn run(context: &AdminContext, command: ContactCommand) -> anyhow::Result<()> {
    match command {
        ContactCommand::Add {
            provider,
            resident,
            role,
            name,
            email,
            phone,
            email_consent,
            sms_consent,
        } => {
            let provider = context.provider(provider).await?;
            let input = ContactInput {
                resident_id: resident,
                role,
                name,
                email,
                phone,
                email_consent,
                sms_consent,
            };
            let contact = context.admin.create_contact(provider, input).await?;
            println!("created contact {}", contact.id);
        }
        ContactCommand::List { provider, resident } => {
            let provider = context.provider(provider).await?;
            let contacts = context
                .admin
                .contacts(provider, resident.map(ResidentId))
                .await?;
            println!("id\tresident\trole\tname\temail\tphone\temail_consent\tsms_consent");
            for c in contacts {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    c.id,
                    c.resident_id,
                    c.role.as_str(),
                    c.name,
                    c.email.unwrap_or_default(),
                    c.phone.unwrap_or_default(),
                    c.email_consent,
                    c.sms_consent
                );
            }
        }
        ContactCommand::Remove { provider, id } => {
            let provider = context.provider(provider).await?;
            context
                .admin
                .delete_contact(provider, ContactId(id))
                .await?;
            println!("removed contact {id}");
        }
    }
    Ok(())
}
