use clap::Subcommand;
use connecticket_domain::audit::Action;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Create a provider; prints its id.
    Create {
        /// The provider's name, shown to clients on authorize.
        #[arg(long)]
        name: String,
        /// IANA time zone in which its timestamps are rendered.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
    /// List all providers.
    List,
}

pub(super) async fn run(context: &AdminContext, command: ProviderCommand) -> anyhow::Result<()> {
    match command {
        ProviderCommand::Create { name, time_zone } => {
            let call = context.call(Action::ManageProviders);
            let provider = context
                .service
                .create_provider(call, &name, &time_zone)
                .await?;
            say!(
                "created provider {} ({}, {})",
                provider.id,
                provider.name,
                provider.time_zone
            );
        }
        ProviderCommand::List => {
            let call = context.call(Action::Providers);
            let providers = context.service.list_providers(call).await?;
            say!("id\tname\ttime_zone");
            for provider in providers {
                say!("{}\t{}\t{}", provider.id, provider.name, provider.time_zone);
            }
        }
    }
    Ok(())
}
