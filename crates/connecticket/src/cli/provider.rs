use clap::Subcommand;

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
            let provider = context.admin.create_provider(&name, &time_zone).await?;
            println!(
                "created provider {} ({}, {})",
                provider.id, provider.name, provider.time_zone
            );
        }
        ProviderCommand::List => {
            println!("id\tname\ttime_zone");
            for provider in context.admin.providers().await? {
                println!("{}\t{}\t{}", provider.id, provider.name, provider.time_zone);
            }
        }
    }
    Ok(())
}
