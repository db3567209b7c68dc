use clap::{Args, Subcommand};
use connecticket_domain::audit::Action;
use connecticket_domain::model::{ContactId, ResidentId};
use connecticket_domain::service::ContactInput;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Add a person told about a resident: family, primary physician or
    /// healthcare professional. Consent is per channel.
    Add(Box<ContactFields>),
    /// Correct a contact: every field is replaced by what is given (what
    /// was sent to the contact stays as it was).
    Update {
        /// The contact's id (see `contact list`).
        #[arg(long)]
        id: i64,
        #[command(flatten)]
        fields: Box<ContactFields>,
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

/// A contact as the flags give it.
#[derive(Debug, Args)]
pub struct ContactFields {
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
}

impl ContactFields {
    fn input(self) -> ContactInput {
        ContactInput {
            resident_id: self.resident,
            role: self.role,
            name: self.name,
            email: self.email,
            phone: self.phone,
            email_consent: self.email_consent,
            sms_consent: self.sms_consent,
        }
    }
}

pub(super) async fn run(context: &AdminContext, command: ContactCommand) -> anyhow::Result<()> {
    match command {
        ContactCommand::Add(fields) => {
            let call = context
                .for_provider(Action::ManageContacts, fields.provider)
                .await?;
            let contact = context.service.add_contact(call, fields.input()).await?;
            say!("created contact {}", contact.id);
        }
        ContactCommand::Update { id, fields } => {
            let call = context
                .for_provider(Action::ManageContacts, fields.provider)
                .await?;
            context
                .service
                .update_contact(call, ContactId(id), fields.input())
                .await?;
            say!("updated contact {id}");
        }
        ContactCommand::List { provider, resident } => {
            let call = context
                .for_provider(Action::ResidentContacts, provider)
                .await?;
            let contacts = context
                .service
                .list_contacts(call, resident.map(ResidentId))
                .await?;
            say!("id\tresident\trole\tname\temail\tphone\temail_consent\tsms_consent");
            for c in contacts {
                say!(
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
            let call = context
                .for_provider(Action::ManageContacts, provider)
                .await?;
            context.service.remove_contact(call, ContactId(id)).await?;
            say!("removed contact {id}");
        }
    }
    Ok(())
}
