use clap::Subcommand;
use connecticket_domain::model::ContactRole;
use connecticket_domain::model::{NotificationId, ProviderId, TicketId};
use connecticket_domain::notify::{DeliveryState, QuietHours};
use connecticket_domain::store::NotificationFilter;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum NotificationCommand {
    /// Show the queue, newest first (no message text).
    List {
        #[arg(long)]
        provider: Option<i64>,
        #[arg(long)]
        ticket: Option<i64>,
        /// pending, delivered or failed.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Make a pending or failed notification due now, with fresh attempts.
    Retry { id: i64 },
    /// Show a provider's notification policy.
    Policy {
        #[arg(long)]
        provider: i64,
    },
    /// Set a provider's notification policy.
    SetPolicy {
        #[arg(long)]
        provider: i64,
        /// Roles told of a new ticket, comma-separated.
        #[arg(long, value_delimiter = ',')]
        on_created: Option<Vec<String>>,
        /// Roles told of a status change, comma-separated.
        #[arg(long, value_delimiter = ',')]
        on_status_change: Option<Vec<String>>,
        /// When family hears of Low and Normal news only after, e.g. 21:00-08:00.
        #[arg(long)]
        quiet_hours: Option<String>,
        /// The number messages ask recipients to call (E.164).
        #[arg(long)]
        callback_phone: Option<String>,
        /// The SMS wording; placeholders {resident} (first name and last
        /// initial), {provider}, {callback}. "" restores the default.
        #[arg(long)]
        sms_template: Option<String>,
        /// The email subject, with the same placeholders.
        #[arg(long)]
        email_subject_template: Option<String>,
        /// The email body, with the same placeholders.
        #[arg(long)]
        email_body_template: Option<String>,
    },
}

fn roles(names: Vec<String>) -> anyhow::Result<Vec<ContactRole>> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            ContactRole::parse(n).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown role {n:?}: use family, primary_physician or healthcare_professional"
                )
            })
        })
        .collect()
}

pub(super) async fn run(
    context: &AdminContext,
    command: NotificationCommand,
) -> anyhow::Result<()> {
    match command {
        NotificationCommand::List {
            provider,
            ticket,
            state,
            limit,
        } => {
            let state = state
                .map(|s| {
                    DeliveryState::parse(&s).ok_or_else(|| {
                        anyhow::anyhow!("--state must be pending, delivered or failed")
                    })
                })
                .transpose()?;
            let filter = NotificationFilter {
                provider: provider.map(ProviderId),
                ticket: ticket.map(TicketId),
                state,
                limit,
            };
            println!(
                "id\tprovider\tticket\trole\tchannel\tstate\tattempts\tnext_attempt_at\tlast_error"
            );
            for n in context.admin.notifications(filter).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    n.id,
                    n.provider_id,
                    n.ticket_id,
                    n.role.as_str(),
                    n.channel.as_str(),
                    n.state.as_str(),
                    n.attempts,
                    n.next_attempt_at.to_rfc3339(),
                    n.last_error.unwrap_or_default()
                );
            }
        }
        NotificationCommand::Retry { id } => {
            let n = context.admin.retry_notification(NotificationId(id)).await?;
            match n.state {
                DeliveryState::Delivered => {
                    println!("notification {id} was already delivered; nothing to do")
                }
                _ => println!("notification {id} is due now"),
            }
        }
        NotificationCommand::Policy { provider } => {
            let policy = context.admin.notify_policy(ProviderId(provider)).await?;
            let names =
                |r: &[ContactRole]| r.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",");
            println!("on_created\t{}", names(&policy.on_created));
            println!("on_status_change\t{}", names(&policy.on_status_change));
            println!("quiet_hours\t{}", policy.quiet_hours.render());
            println!(
                "callback_phone\t{}",
                policy.callback_phone.unwrap_or_default()
            );
            let default = || "(default)".to_owned();
            println!(
                "sms_template\t{}",
                policy.templates.sms.unwrap_or_else(default)
            );
            println!(
                "email_subject_template\t{}",
                policy.templates.email_subject.unwrap_or_else(default)
            );
            println!(
                "email_body_template\t{}",
                policy.templates.email_body.unwrap_or_else(default)
            );
        }
        NotificationCommand::SetPolicy {
            provider,
            on_created,
            on_status_change,
            quiet_hours,
            callback_phone,
            sms_template,
            email_subject_template,
            email_body_template,
        } => {
            let provider = context.provider(provider).await?;
            let mut policy = context.admin.notify_policy(provider).await?;
            if let Some(names) = on_created {
                policy.on_created = roles(names)?;
            }
            if let Some(names) = on_status_change {
                policy.on_status_change = roles(names)?;
            }
            if let Some(text) = quiet_hours {
                policy.quiet_hours = QuietHours::parse(&text)
                    .ok_or_else(|| anyhow::anyhow!("--quiet-hours must look like 21:00-08:00"))?;
            }
            if let Some(phone) = callback_phone {
                policy.callback_phone = Some(phone).filter(|p| !p.trim().is_empty());
            }
            // An empty value goes back to the default wording.
            let set = |slot: &mut Option<String>, value: Option<String>| {
                if let Some(value) = value {
                    *slot = Some(value).filter(|v| !v.trim().is_empty());
                }
            };
            set(&mut policy.templates.sms, sms_template);
            set(&mut policy.templates.email_subject, email_subject_template);
            set(&mut policy.templates.email_body, email_body_template);
            context.admin.set_notify_policy(provider, policy).await?;
            println!("policy saved");
        }
    }
    Ok(())
}
