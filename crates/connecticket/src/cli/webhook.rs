use clap::Subcommand;
use connecticket_domain::audit::Action;
use connecticket_domain::events::webhooks::ReplayRange;
use connecticket_domain::model::{ApplicationId, WebhookId};
use connecticket_domain::service::WebhookRequest;

use super::AdminContext;

/// Applications register their endpoints through the API (`POST
/// webhooks`); an operator may do it for them, and watches them, rotates
/// their secrets, replays events and removes them.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Register an endpoint for one of the provider's applications; prints
    /// its signing secret, once.
    Add {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        application: i64,
        /// An https:// URL.
        #[arg(long)]
        url: String,
        /// Comma-separated event types (docs/EVENTS.md); none: every type.
        #[arg(long)]
        event_types: Option<String>,
    },
    /// A new signing secret, printed once; the previous one also signs for
    /// 24 hours.
    Rotate {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        id: i64,
    },
    /// List a provider's webhook endpoints, with what waits for each.
    List {
        #[arg(long)]
        provider: i64,
    },
    /// Queue events again for an endpoint (by cursor, as the change feed
    /// numbers them), and re-enable it if it was disabled.
    Replay {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        id: i64,
        /// The first cursor to send again.
        #[arg(long)]
        from: i64,
        /// The last (default: `--from`).
        #[arg(long)]
        through: Option<i64>,
    },
    /// Delete an endpoint and the deliveries still waiting for it.
    Delete {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        id: i64,
    },
}

pub(super) async fn run(context: &AdminContext, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add {
            provider,
            application,
            url,
            event_types,
        } => {
            let call = context
                .for_provider(Action::ManageWebhooks, provider)
                .await?;
            let request = WebhookRequest { url, event_types };
            let created = context
                .service
                .admin_register_webhook(call, ApplicationId(application), request)
                .await?;
            context.warn_if_demo_key();
            say!(
                "registered webhook {} for application {application}; its signing secret (shown once):",
                created.webhook.id
            );
            say!("{}", created.secret);
        }
        WebhookCommand::Rotate { provider, id } => {
            let call = context
                .for_provider(Action::ManageWebhooks, provider)
                .await?;
            let rotated = context
                .service
                .admin_rotate_webhook(call, WebhookId(id))
                .await?;
            context.warn_if_demo_key();
            say!("rotated webhook {id}; its new signing secret (shown once; the old one signs too for 24 hours):");
            say!("{}", rotated.secret);
        }
        WebhookCommand::List { provider } => {
            let call = context
                .for_provider(Action::ManageWebhooks, provider)
                .await?;
            let webhooks = context.service.admin_webhooks(call).await?;
            say!("id\tapplication\turl\tstate\tpending\tlast_error");
            for webhook in webhooks {
                let state = match (webhook.disabled_at, webhook.failing_since) {
                    (Some(at), _) => format!("disabled since {}", at.to_rfc3339()),
                    (None, Some(at)) => format!("failing since {}", at.to_rfc3339()),
                    (None, None) => "healthy".to_owned(),
                };
                say!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    webhook.id,
                    webhook.application_id,
                    webhook.url,
                    state,
                    webhook.pending,
                    webhook.last_error.unwrap_or_default()
                );
            }
        }
        WebhookCommand::Replay {
            provider,
            id,
            from,
            through,
        } => {
            let call = context
                .for_provider(Action::ManageWebhooks, provider)
                .await?;
            let range = ReplayRange::Cursors {
                from,
                through: through.unwrap_or(from),
            };
            let queued = context
                .service
                .admin_replay_webhook(call, WebhookId(id), range)
                .await?;
            say!("queued {queued} events again for webhook {id}");
        }
        WebhookCommand::Delete { provider, id } => {
            let call = context
                .for_provider(Action::ManageWebhooks, provider)
                .await?;
            context
                .service
                .admin_delete_webhook(call, WebhookId(id))
                .await?;
            say!("deleted webhook {id}");
        }
    }
    Ok(())
}
