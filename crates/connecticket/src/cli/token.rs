use clap::{ArgGroup, Subcommand};
use connecticket_domain::model::{ApplicationId, EmployeeId};
use connecticket_domain::store::TokenOwner;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Revoke every live access token of an application, or of all the
    /// applications an employee registered. Clients must authorize again.
    #[command(group(ArgGroup::new("owner").required(true).args(["application", "employee"])))]
    Revoke {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        application: Option<i64>,
        #[arg(long)]
        employee: Option<i64>,
    },
}

pub(super) async fn run(context: &AdminContext, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Revoke {
            provider,
            application,
            employee,
        } => {
            let provider = context.provider(provider).await?;
            let owner = match (application, employee) {
                (Some(id), _) => TokenOwner::Application(ApplicationId(id)),
                (None, Some(id)) => TokenOwner::Employee(EmployeeId(id)),
                (None, None) => anyhow::bail!("name --application or --employee"),
            };
            let revoked = context.admin.revoke_tokens(provider, owner).await?;
            println!("revoked {revoked} tokens");
        }
    }
    Ok(())
}
