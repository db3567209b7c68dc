use clap::Subcommand;
use connecticket_domain::audit::Action;
use connecticket_domain::model::CategoryId;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum CategoryCommand {
    /// Create a category that tickets rate (Issue / No Issue / Potential Issue).
    Create {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        name: String,
    },
    /// Rename a category (its ratings keep pointing at it).
    Rename {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        id: i64,
        #[arg(long)]
        name: String,
    },
    /// List a provider's categories.
    List {
        #[arg(long)]
        provider: i64,
    },
}

pub(super) async fn run(context: &AdminContext, command: CategoryCommand) -> anyhow::Result<()> {
    match command {
        CategoryCommand::Create { provider, name } => {
            let call = context
                .for_provider(Action::ManageCategories, provider)
                .await?;
            let category = context.service.create_category(call, &name).await?;
            say!("created category {} ({})", category.id, category.name);
        }
        CategoryCommand::Rename { provider, id, name } => {
            let call = context
                .for_provider(Action::ManageCategories, provider)
                .await?;
            let category = context
                .service
                .rename_category(call, CategoryId(id), &name)
                .await?;
            say!("renamed category {} to {}", category.id, category.name);
        }
        CategoryCommand::List { provider } => {
            let call = context
                .for_provider(Action::ProviderCategories, provider)
                .await?;
            let categories = context.service.list_categories(call).await?;
            say!("id\tname");
            for category in categories {
                say!("{}\t{}", category.id, category.name);
            }
        }
    }
    Ok(())
}
