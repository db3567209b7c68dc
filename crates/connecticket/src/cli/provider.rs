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
        /// Two-letter country code: phone numbers written without a
        /// country code are read as this country's.
        #[arg(long, default_value = "US")]
        country: String,
    },
    /// List all providers.
    List,
    /// Set the country phone numbers without a country code are read in.
    SetCountry {
        #[arg(long)]
        provider: i64,
        /// Two-letter country code, like US or GB.
        #[arg(long)]
        country: String,
    },
}

pub(super) async fn run(context: &AdminContext, command: ProviderCommand) -> anyhow::Result<()> {
    match command {
        ProviderCommand::Create {
            name,
            time_zone,
            country,
        } => {
            let call = context.call(Action::ManageProviders);
            let provider = context
                .service
                .create_provider(call, &name, &time_zone, &country)
                .await?;
            say!(
                "created provider {} ({}, {}, {})",
                provider.id,
                provider.name,
                provider.time_zone,
                provider.country
            );
        }
        ProviderCommand::List => {
            let call = context.call(Action::Providers);
            let providers = context.service.list_providers(call).await?;
            say!("id\tname\ttime_zone\tcountry");
            for provider in providers {
                say!(
                    "{}\t{}\t{}\t{}",
                    provider.id,
                    provider.name,
                    provider.time_zone,
                    provider.country
                );
            }
        }
        ProviderCommand::SetCountry { provider, country } => {
            let call = context
                .for_provider(Action::ManageProviders, provider)
                .await?;
            let country = context.service.set_phone_country(call, &country).await?;
            say!("provider {provider}: phone numbers without a country code are read in {country}");
        }
    }
    Ok(())
}
