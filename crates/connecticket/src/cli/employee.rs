use clap::Subcommand;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum EmployeeCommand {
    /// Create an employee of a provider; prints its id.
    Create {
        #[arg(long)]
        provider: i64,
        /// Shown as `commented_by` on the employee's comments.
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// List a provider's employees.
    List {
        #[arg(long)]
        provider: i64,
    },
}

pub(super) async fn run(context: &AdminContext, command: EmployeeCommand) -> anyhow::Result<()> {
    match command {
        EmployeeCommand::Create {
            provider,
            name,
            email,
        } => {
            let provider = context.provider(provider).await?;
            let employee = context
                .admin
                .create_employee(provider, &name, email.as_deref())
                .await?;
            println!("created employee {} ({})", employee.id, employee.name);
        }
        EmployeeCommand::List { provider } => {
            let provider = context.provider(provider).await?;
            println!("id\tname\temail");
            for employee in context.admin.employees(provider).await? {
                println!(
                    "{}\t{}\t{}",
                    employee.id,
                    employee.name,
                    employee.email.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
