//! `connecticket escalation`: how long each urgency may wait for an
//! answer, whom it escalates to, and the provider's staff in those roles.

use clap::Subcommand;
use connecticket_domain::audit::Action;
use connecticket_domain::model::ContactId;
use connecticket_domain::notify::escalation::format_duration;
use connecticket_domain::notify::EscalationPolicy;
use connecticket_domain::service::{EscalationInput, StaffContactInput};
use connecticket_domain::workflow::UrgencyStatus;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum EscalationCommand {
    /// Set one urgency's rule.
    Set {
        #[arg(long)]
        provider: i64,
        /// An urgency's name or id (Exception, High, 4, …).
        #[arg(long)]
        urgency: String,
        /// How long until the same recipients are told again, like 15m;
        /// `off`: this urgency needs no acknowledgment.
        #[arg(long)]
        ack_within: String,
        /// Between each later level (default: --ack-within).
        #[arg(long)]
        renotify_after: Option<String>,
        /// The tiers told in turn after that: resident roles
        /// (primary_physician, …) or staff roles (on_call_nurse, …).
        #[arg(long, value_delimiter = ',')]
        then: Vec<String>,
    },
    /// Print a provider's rules, urgency by urgency.
    Show {
        #[arg(long)]
        provider: i64,
    },
    /// Add a member of staff an escalation reaches by role.
    #[command(name = "contact-add")]
    ContactAdd {
        #[arg(long)]
        provider: i64,
        /// e.g. on_call_nurse, director_of_nursing.
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// E.164, e.g. +15555550123.
        #[arg(long)]
        phone: Option<String>,
    },
    /// List the provider's staff contacts.
    Contacts {
        #[arg(long)]
        provider: i64,
    },
    /// Remove a staff contact (what was sent to them stays on record).
    #[command(name = "contact-remove")]
    ContactRemove {
        #[arg(long)]
        provider: i64,
        id: i64,
    },
}

fn print_policy(policy: &EscalationPolicy) -> std::io::Result<()> {
    say!("urgency\tack_within\trenotify_after\tthen");
    for urgency in UrgencyStatus::ALL.iter().rev() {
        match policy.rule(urgency.id) {
            Some(rule) => {
                let tiers: Vec<&str> = rule.tiers.iter().map(|t| t.as_str()).collect();
                say!(
                    "{}\t{}\t{}\t{}",
                    urgency.name,
                    format_duration(rule.ack_within),
                    format_duration(rule.renotify_after),
                    if tiers.is_empty() {
                        "-".to_owned()
                    } else {
                        tiers.join(",")
                    }
                );
            }
            None => say!("{}\toff\t-\t-", urgency.name),
        }
    }
    Ok(())
}

pub(super) async fn run(context: &AdminContext, command: EscalationCommand) -> anyhow::Result<()> {
    match command {
        EscalationCommand::Set {
            provider,
            urgency,
            ack_within,
            renotify_after,
            then,
        } => {
            let input = EscalationInput {
                urgency,
                ack_within: Some(ack_within),
                renotify_after,
                then,
            };
            let call = context
                .for_provider(Action::ManageEscalation, provider)
                .await?;
            let policy = context.service.set_escalation(call, input).await?;
            print_policy(&policy)?;
        }
        EscalationCommand::Show { provider } => {
            let call = context
                .for_provider(Action::ProviderSettings, provider)
                .await?;
            print_policy(&context.service.escalation_policy(call).await?)?;
        }
        EscalationCommand::ContactAdd {
            provider,
            role,
            name,
            email,
            phone,
        } => {
            let input = StaffContactInput {
                role,
                name,
                email,
                phone,
            };
            let call = context
                .for_provider(Action::ManageEscalation, provider)
                .await?;
            let contact = context.service.add_staff_contact(call, input).await?;
            say!(
                "staff contact {} ({}) added",
                contact.id,
                contact.role.as_str()
            );
        }
        EscalationCommand::Contacts { provider } => {
            let call = context
                .for_provider(Action::ProviderSettings, provider)
                .await?;
            let contacts = context.service.list_staff_contacts(call).await?;
            say!("id\trole\tname\temail\tphone");
            for c in contacts {
                say!(
                    "{}\t{}\t{}\t{}\t{}",
                    c.id,
                    c.role.as_str(),
                    c.name,
                    c.email.unwrap_or_default(),
                    c.phone.unwrap_or_default()
                );
            }
        }
        EscalationCommand::ContactRemove { provider, id } => {
            let call = context
                .for_provider(Action::ManageEscalation, provider)
                .await?;
            context
                .service
                .remove_staff_contact(call, ContactId(id))
                .await?;
            say!("staff contact {id} removed");
        }
    }
    Ok(())
}
