use clap::Subcommand;
use connecticket_domain::audit::Action;
use connecticket_domain::model::ContactRole;
use connecticket_domain::model::{NotificationId, TicketId};
use connecticket_domain::notify::DeliveryState;
use connecticket_domain::service::{AdminCall, PolicyChange};
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
        /// pending, delivered, failed or cancelled.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Make a pending or failed notification due now, with fresh attempts.
    Retry {
        id: i64,
        /// Only if it is this provider's.
        #[arg(long)]
        provider: Option<i64>,
    },
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
        /// The number messages ask recipients to call, as people write it
        /// ("" removes it).
        #[arg(long)]
        callback_phone: Option<String>,
        /// The number to call out of hours, if another ("" removes it).
        #[arg(long)]
        after_hours_phone: Option<String>,
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

/// A call for one provider, or (none named) for every provider.
async fn scope(
    context: &AdminContext,
    action: Action,
    provider: Option<i64>,
) -> anyhow::Result<AdminCall> {
    match provider {
        Some(id) => context.for_provider(action, id).await,
        None => Ok(context.call(action).into()),
    }
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
                        anyhow::anyhow!("--state must be pending, delivered, failed or cancelled")
                    })
                })
                .transpose()?;
            let filter = NotificationFilter {
                provider: None,
                ticket: ticket.map(TicketId),
                state,
                limit,
            };
            let call = scope(context, Action::NotificationQueue, provider).await?;
            let found = context.service.outbox(call, filter).await?;
            say!(
                "id\tprovider\tticket\trole\tchannel\tstate\tattempts\tnext_attempt_at\tlast_error"
            );
            for n in found {
                say!(
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
        NotificationCommand::Retry { id, provider } => {
            let call = scope(context, Action::ManageNotifications, provider).await?;
            let n = context
                .service
                .retry_notification(call, NotificationId(id))
                .await?;
            match n.state {
                DeliveryState::Delivered => {
                    say!("notification {id} was already delivered; nothing to do")
                }
                _ => say!("notification {id} is due now"),
            }
        }
        NotificationCommand::Policy { provider } => {
            let call = context
                .for_provider(Action::ProviderSettings, provider)
                .await?;
            let policy = context.service.notify_policy(call).await?;
            let names =
                |r: &[ContactRole]| r.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",");
            say!("on_created\t{}", names(&policy.on_created));
            say!("on_status_change\t{}", names(&policy.on_status_change));
            say!("quiet_hours\t{}", policy.quiet_hours.render());
            say!(
                "callback_phone\t{}",
                policy.callback_phone.unwrap_or_default()
            );
            say!(
                "after_hours_phone\t{}",
                policy.after_hours_phone.unwrap_or_default()
            );
            let default = || "(default)".to_owned();
            say!(
                "sms_template\t{}",
                policy.templates.sms.unwrap_or_else(default)
            );
            say!(
                "email_subject_template\t{}",
                policy.templates.email_subject.unwrap_or_else(default)
            );
            say!(
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
            after_hours_phone,
            sms_template,
            email_subject_template,
            email_body_template,
        } => {
            let change = PolicyChange {
                on_created: on_created.map(roles).transpose()?,
                on_status_change: on_status_change.map(roles).transpose()?,
                quiet_hours,
                callback_phone,
                after_hours_phone,
                sms_template,
                email_subject_template,
                email_body_template,
            };
            let call = context.for_provider(Action::NotifyPolicy, provider).await?;
            context.service.change_notify_policy(call, change).await?;
            say!("policy saved");
        }
    }
    Ok(())
}
