use clap::Subcommand;

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
    /// List a provider's categories.
    List {
        #[arg(long)]
        provider: i64,
    },
}

pub(super) async fn run(context: &AdminContext, command: CategoryCommand) -> anyhow::Result<()> {
    match command {
        CategoryCommand::Create { provider, name } => {
            let provider = context.provider(provider).await?;
            let category = context.admin.create_category(provider, &name).await?;
            println!("created category {} ({})", category.id, category.name);
        }
        CategoryCommand::List { provider } => {
            let provider = context.provider(provider).await?;
            println!("id\tname");
            for category in context.admin.categories(provider).await? {
                println!("{}\t{}", category.id, category.name);
            }
        }
    }
    Ok(())
}
