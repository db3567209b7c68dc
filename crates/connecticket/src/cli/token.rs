use clap::{ArgGroup, Subcommand};
use connecticket_domain::audit::Action;
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
            let owner = match (application, employee) {
                (Some(id), _) => TokenOwner::Application(ApplicationId(id)),
                (None, Some(id)) => TokenOwner::Employee(EmployeeId(id)),
                (None, None) => anyhow::bail!("name --application or --employee"),
            };
            let call = context
                .for_provider(Action::ManageApplications, provider)
                .await?;
            let revoked = context.service.revoke_tokens(call, owner).await?;
            say!("revoked {revoked} tokens");
        }
    }
    Ok(())
}
