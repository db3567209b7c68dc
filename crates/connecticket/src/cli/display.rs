use clap::Subcommand;
use connecticket_domain::audit::Action;
use connecticket_domain::console::display::DisplayId;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum DisplayCommand {
    /// Grant a board display (a wall screen that shows the board without a
    /// person signed in); prints its pairing link, good once.
    Grant {
        #[arg(long)]
        provider: i64,
        /// Where it hangs, like "Nurses' station, 2nd floor".
        #[arg(long)]
        name: String,
        /// Where people reach the server, for the link.
        #[arg(
            long,
            env = "CONNECTICKET_PUBLIC_URL",
            default_value = "http://127.0.0.1:3000"
        )]
        public_url: String,
    },
    /// List a provider's board displays.
    List {
        #[arg(long)]
        provider: i64,
    },
    /// Revoke a board display: it stops showing the board at its next
    /// refresh.
    Revoke {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        id: i64,
    },
}

pub(super) async fn run(context: &AdminContext, command: DisplayCommand) -> anyhow::Result<()> {
    match command {
        DisplayCommand::Grant {
            provider,
            name,
            public_url,
        } => {
            let call = context
                .for_provider(Action::ManageDisplays, provider)
                .await?;
            let granted = context.service.grant_display(call, &name).await?;
            context.warn_if_demo_key();
            say!(
                "granted display {} ({}); open this link on the screen within {} minutes:",
                granted.display.id,
                granted.display.name,
                connecticket_domain::console::display::PAIRING_LIFETIME.num_minutes()
            );
            say!(
                "{}/console/display/pair/{}",
                public_url.trim_end_matches('/'),
                granted.pairing_code
            );
        }
        DisplayCommand::List { provider } => {
            let call = context
                .for_provider(Action::ManageDisplays, provider)
                .await?;
            let displays = context.service.list_displays(call).await?;
            let now = chrono::Utc::now();
            say!("id\tname\tstate\tgranted_at\tlast_seen_at");
            for display in displays {
                say!(
                    "{}\t{}\t{}\t{}\t{}",
                    display.id,
                    display.name,
                    display.state(now).describe(),
                    display.granted_at.to_rfc3339(),
                    display
                        .last_seen_at
                        .map(|at| at.to_rfc3339())
                        .unwrap_or_default()
                );
            }
        }
        DisplayCommand::Revoke { provider, id } => {
            let call = context
                .for_provider(Action::ManageDisplays, provider)
                .await?;
            let display = context.service.revoke_display(call, DisplayId(id)).await?;
            say!("revoked display {} ({})", display.id, display.name);
        }
    }
    Ok(())
}
